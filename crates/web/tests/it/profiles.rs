//! A city Shuju has never seen: the same people delivered by departments with other table and
//! column names, other codes, date formats, encodings and file formats, set up only through the
//! catalog import and the API. Persons, their facts and the checks must come out as for the
//! reference city; a code no map knows is flagged (or quarantined) and standardised once mapped.

use crate::common::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shuju_synth::profile::{TABLES, Table};
use std::collections::{BTreeMap, BTreeSet};

const PERSONS: usize = 250;

async fn upload_catalog(app: &TestApp, token: &str, bytes: Vec<u8>) -> Value {
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name("other-city.xlsx"),
        )
        .text("publish", "true");
    let r = app
        .client
        .post(app.url("/api/v1/catalog/import"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// The other city's entries, registered by the bureau through the catalog import; each table's
/// entry with its resource code.
async fn register(app: &TestApp, token: &str) -> Vec<(&'static Table, String)> {
    let catalog = app.catalog().await;
    let depts = app.admin.dept_tree().await.unwrap().depts;
    let d = depts.iter().find(|d| d.parent_id.is_some()).unwrap();
    let mut entries = Vec::new();
    for (i, t) in TABLES.iter().enumerate() {
        let src = t.source().unwrap();
        let provider = shuju_synth::catalog::Provider {
            id: d.id,
            name: d.name.clone(),
        };
        let reference =
            shuju_synth::sources::entry(src, &provider, i as u64 + 1, catalog.coding()).unwrap();
        entries.push((t, t.entry(&reference)));
    }
    let wb = shuju_catalog::excel::write_workbook(
        &entries
            .iter()
            .map(|(_, e)| (e.clone(), None))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let rep = upload_catalog(app, token, wb).await;
    assert_eq!(rep["imported"], json!(TABLES.len()), "{rep}");
    entries.into_iter().map(|(t, e)| (t, e.code)).collect()
}

async fn set_up(app: &TestApp, token: &str, t: &Table, code: &str, with_codes: bool) -> Value {
    let body = json!({
        "resource_code": code,
        "table": t.table,
        "key": t.key().unwrap(),
        "codes": if with_codes { json!(t.code_maps()) } else { json!({}) },
    });
    let r = app.post(token, "/api/v1/lake/tables", body).await;
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{}: {v}", t.table);
    v
}

async fn deliver(app: &TestApp, token: &str, code: &str, path: &std::path::Path) -> Value {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let r = app
        .deliver(token, code, &name, std::fs::read(path).unwrap())
        .await;
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{name}: {v}");
    v
}

/// Persons (or enterprises) as sets of records (reference table, key), whatever the city calls
/// its tables.
async fn partition(
    app: &TestApp,
    kind: &str,
    rename: &BTreeMap<&str, &str>,
) -> BTreeSet<BTreeSet<(String, String)>> {
    let links = shuju_identity::links(app.admin.store(), kind)
        .await
        .unwrap();
    let mut by: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    for l in links {
        let table = rename.get(l.source.as_str()).copied().unwrap_or(&l.source);
        by.entry(l.entity_id)
            .or_default()
            .insert((table.to_owned(), l.record_key));
    }
    by.into_values().collect()
}

/// The person holding a record, by reference table and key.
async fn person_of(app: &TestApp, table: &str, key: &str) -> String {
    shuju_store::identity::entity_of(app.admin.store(), "person", table, key)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{table}/{key} is nobody's"))
        .entity_id
}

/// A person's facts, or a check of the person, as an official with a purpose asks for them.
async fn ask(app: &TestApp, token: &str, method: reqwest::Method, path: &str) -> Value {
    let r = app
        .client
        .request(method, app.url(path))
        .bearer_auth(token)
        .header("X-Purpose", "comparing two cities")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn facts(app: &TestApp, token: &str, pid: &str) -> Value {
    let path = format!("/api/v1/persons/{pid}/facts");
    ask(app, token, reqwest::Method::GET, &path).await["facts"].clone()
}

async fn check(app: &TestApp, token: &str, pid: &str, rule_set: &str) -> Value {
    let path = format!("/api/v1/persons/{pid}/checks/{rule_set}");
    let v = ask(app, token, reqwest::Method::POST, &path).await;
    json!({"passed": v["passed"], "rules": v["rules"]})
}

#[tokio::test(flavor = "multi_thread")]
async fn a_city_set_up_only_through_imports_and_the_api_gets_the_reference_answers() {
    // The reference city.
    let a = TestApp::spawn().await;
    let ta = a.admin_token().await;
    let from: Vec<&str> = TABLES.iter().map(|t| t.from).collect();
    let city = a.gather(PERSONS, &from).await;
    a.post_json::<Value>(&ta, "/api/v1/persons/resolve", json!({}))
        .await;

    // The other city: the same people, its own names, codes, formats and encodings.
    let other = tempfile::tempdir().unwrap();
    let files = shuju_synth::profile::write(city.path(), other.path()).unwrap();
    let b = TestApp::spawn().await;
    let tb = b.admin_token().await;
    for (t, code) in register(&b, &tb).await {
        set_up(&b, &tb, t, &code, true).await;
        let path = &files.iter().find(|(x, _)| x.table == t.table).unwrap().1;
        let rep = deliver(&b, &tb, &code, path).await;
        // Values flagged are the city's deliberate faults (IDs with a wrong check digit), never
        // a code its map standardises.
        for column in t.code_maps().keys() {
            assert!(
                rep["flagged_columns"][column].is_null(),
                "{}: {rep}",
                t.table
            );
        }
    }
    let rb: Value = b.post_json(&tb, "/api/v1/persons/resolve", json!({})).await;
    assert!(rb["persons"].as_u64().unwrap() > 100, "{rb}");

    // The same persons, record for record.
    let rename: BTreeMap<&str, &str> = TABLES.iter().map(|t| (t.table, t.from)).collect();
    let pa = partition(&a, "person", &BTreeMap::new()).await;
    let pb = partition(&b, "person", &rename).await;
    assert_eq!(pa.len(), pb.len());
    assert!(pa == pb, "the two cities' persons differ");
    // The same enterprises (the registry with its old numbers, and the shareholders).
    for (app, token) in [(&a, &ta), (&b, &tb)] {
        app.post_json::<Value>(token, "/api/v1/enterprises/resolve", json!({}))
            .await;
    }
    let ea = partition(&a, "enterprise", &BTreeMap::new()).await;
    let eb = partition(&b, "enterprise", &rename).await;
    assert!(ea.len() > 20, "{}", ea.len());
    assert!(ea == eb, "the two cities' enterprises differ");

    // The same e-licenses issued in bulk from what the departments hold.
    for type_key in [
        "business_licence",
        "vehicle_licence",
        "marriage_certificate",
        "disability_certificate",
    ] {
        let mut got = Vec::new();
        for (app, token) in [(&a, &ta), (&b, &tb)] {
            let r: Value = app
                .post_json(
                    token,
                    "/api/v1/licenses/bulk",
                    json!({ "type_key": type_key }),
                )
                .await;
            got.push(json!([
                r["read"],
                r["issued"],
                r["rejected"].as_array().map(Vec::len)
            ]));
        }
        assert_eq!(got[0], got[1], "{type_key}");
        assert!(got[0][1].as_u64().unwrap() > 0, "{type_key}: {:?}", got[0]);
    }

    // The same facts, person for person (sixteen across the registry), and the same checks for
    // some of them: a file read in a debug build is slow, and the checks are a function of the
    // facts.
    let registry: Vec<String> = pa
        .iter()
        .flat_map(|p| {
            p.iter()
                .filter(|(t, _)| t == "gongan_hukou")
                .map(|r| r.1.clone())
        })
        .collect();
    let hukou_b = TABLES
        .iter()
        .find(|t| t.from == "gongan_hukou")
        .unwrap()
        .table;
    let step = (registry.len() / 16).max(1);
    let mut seen = BTreeMap::<&str, usize>::new();
    for (i, key) in registry.iter().step_by(step).take(16).enumerate() {
        let pid_a = person_of(&a, "gongan_hukou", key).await;
        let pid_b = person_of(&b, hukou_b, key).await;
        let (fa, fb) = (facts(&a, &ta, &pid_a).await, facts(&b, &tb, &pid_b).await);
        assert_eq!(fa, fb, "facts of the person with record {key}");
        for (name, yes) in [
            ("registered", fa["registered"] == json!(true)),
            ("insured", fa["insured"] == json!(true)),
            ("housing_fund", fa["housing_fund"] == json!(true)),
            ("income", fa["income"].as_f64().unwrap_or(0.0) > 0.0),
        ] {
            *seen.entry(name).or_default() += usize::from(yes);
        }
        if i % 4 == 0 {
            for rule_set in ["low_income", "exit_entry", "individual_business"] {
                assert_eq!(
                    check(&a, &ta, &pid_a, rule_set).await,
                    check(&b, &tb, &pid_b, rule_set).await,
                    "{rule_set} for {key}"
                );
            }
        }
    }
    // The facts compared had something to say, so the comparison means something.
    for (name, n) in &seen {
        assert!(*n > 0, "no person compared had {name}: {seen:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_code_no_map_knows_is_flagged_with_its_element_then_standardised_once_mapped() {
    let city = tempfile::tempdir().unwrap();
    shuju_synth::city::generate(80, 5, city.path(), |_| {}).unwrap();
    let other = tempfile::tempdir().unwrap();
    let files = shuju_synth::profile::write(city.path(), other.path()).unwrap();
    let b = TestApp::spawn().await;
    let tb = b.admin_token().await;
    let registered = register(&b, &tb).await;
    let (hukou, code) = registered
        .iter()
        .find(|(t, _)| t.from == "gongan_hukou")
        .unwrap();
    let path = &files
        .iter()
        .find(|(t, _)| t.table == hukou.table)
        .unwrap()
        .1;

    // Set up without the department's sex codes: M and F are no codes of GB/T 2261.1.
    set_up(&b, &tb, hukou, code, false).await;
    let rep = deliver(&b, &tb, code, path).await;
    let rows = rep["inserted"].as_u64().unwrap();
    assert!(rows > 50, "{rep}");
    assert_eq!(rep["flagged_columns"]["gender"], json!(rows), "{rep}");
    let q = |sql: &str| {
        let sql = sql.to_owned();
        let b = &b;
        let tb = &tb;
        async move {
            let r = b.post(tb, "/api/v1/lake/sql", json!({ "sql": sql })).await;
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.unwrap()
        }
    };
    let flagged = q(&format!(
        "SELECT _flagged, _raw, gender FROM {} LIMIT 1",
        hukou.table
    ))
    .await;
    let row = &flagged["rows"][0];
    let why = row["_flagged"].as_str().unwrap();
    assert!(
        why.contains("gender") && why.contains("data element sex"),
        "{why}"
    );
    let raw: Value = serde_json::from_str(row["_raw"].as_str().unwrap()).unwrap();
    assert!(
        raw["gender"] == json!("M") || raw["gender"] == json!("F"),
        "{raw}"
    );
    assert!(row["gender"].is_null(), "{row}");

    // A map to codes the element does not have is refused.
    let r = b
        .put(
            &tb,
            &format!("/api/v1/lake/tables/{}/codes/gender", hukou.table),
            json!({"codes": {"M": "3"}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // The map added later (a label is read as its code); the same file delivered again.
    let r = b
        .put(
            &tb,
            &format!("/api/v1/lake/tables/{}/codes/gender", hukou.table),
            json!({"codes": {"M": "1", "F": "女性"}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let spec: Value = r.json().await.unwrap();
    let gender = spec["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "gender")
        .unwrap();
    assert_eq!(
        (&gender["codes"]["M"], &gender["codes"]["F"]),
        (&json!("1"), &json!("2"))
    );
    assert_eq!(
        gender["codes"]["男"],
        json!("1"),
        "the element's written forms: {gender}"
    );
    assert_eq!(gender["element"], json!("sex"));
    let rep = deliver(&b, &tb, code, path).await;
    assert_eq!(rep["flagged"], json!(0), "{rep}");
    let counts = q(&format!(
        "SELECT gender, count(*) AS n FROM {} WHERE _flagged IS NULL GROUP BY gender ORDER BY gender",
        hukou.table
    ))
    .await;
    let codes: Vec<&str> = counts["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["gender"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["1", "2"], "{counts}");

    // Under a reject policy, an unmapped code sends the row to the quarantine, naming the element.
    let (fund, fund_code) = registered
        .iter()
        .find(|(t, _)| t.from == "gjj_accounts")
        .unwrap();
    let r = b
        .post(
            &tb,
            "/api/v1/lake/tables",
            json!({"resource_code": fund_code, "table": fund.table, "key": fund.key().unwrap(),
                   "on_invalid": {"zhzt": "reject"}, "codes": {"zhzt": {"A": "正常"}}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let path = &files.iter().find(|(t, _)| t.table == fund.table).unwrap().1;
    let rep = deliver(&b, &tb, fund_code, path).await;
    let rejected = rep["rejected"].as_u64().unwrap();
    assert!(
        rejected > 0,
        "the sealed accounts (S) are no code the map knows: {rep}"
    );
    let quarantine: Value = b
        .get_json(
            &tb,
            &format!("/api/v1/lake/tables/{}/quarantine", fund.table),
        )
        .await;
    let text = quarantine.to_string();
    assert!(
        text.contains("data element housing_fund_status"),
        "{text:.600}"
    );
}
