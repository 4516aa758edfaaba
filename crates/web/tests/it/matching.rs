//! Person matching on deliveries shaped as real ones are: a household registry (UTF-8, Chinese
//! headers) and a social-insurance file (JSON lines) about the same new persons, delivered one
//! after the other with no full run between; a tenth-or-so of the IDs bad in each of the ways
//! clerks get them wrong (check character, transposed digits, the legacy 15-digit form, an
//! impossible birth date), names and births mistyped. Every record is kept, the bad-ID ones
//! flagged; the second delivery links to the first's persons; a flagged record shows in its
//! person's file with the reason; a full run after an unchanged re-delivery moves nothing.

use crate::common::TestApp;
use chrono::NaiveDate;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shuju_admin::Caller;
use shuju_types::CitizenId;
use std::collections::BTreeMap;

/// A new person of the test's own: not in the synthetic city (another county code).
struct Newcomer {
    id: CitizenId,
    name: String,
    birth: NaiveDate,
    address: String,
}

fn newcomers(n: usize) -> Vec<Newcomer> {
    const SURNAMES: [char; 8] = ['林', '欧', '诸', '闻', '尉', '乐', '濮', '谷'];
    const GIVEN: [char; 10] = ['帆', '秀', '澜', '屹', '朔', '珂', '翊', '湉', '骁', '玥'];
    (0..n)
        .map(|i| {
            let birth = NaiveDate::from_ymd_opt(
                1950 + (i as i32 * 7) % 50,
                1 + (i as u32 * 5) % 12,
                1 + (i as u32 * 3) % 28,
            )
            .unwrap();
            Newcomer {
                id: CitizenId::from_parts("371523", birth, 500 + i as u16).unwrap(),
                name: format!(
                    "{}{}{}",
                    SURNAMES[i % SURNAMES.len()],
                    GIVEN[i % GIVEN.len()],
                    GIVEN[(i * 3 + 1) % GIVEN.len()]
                ),
                birth,
                address: format!(
                    "聊城市茌平县振兴街道兴华路{}号{}号楼1单元{}室",
                    10 + i,
                    1 + i % 9,
                    101 + i
                ),
            }
        })
        .collect()
}

/// Person `i`'s citizen ID as the social-insurance clerk wrote it: every fourth one bad, in
/// turn each of the four ways.
fn as_written(p: &Newcomer, i: usize) -> (String, Option<&'static str>) {
    let s = p.id.as_str();
    if i % 4 != 1 {
        return (s.to_owned(), None);
    }
    match (i / 4) % 4 {
        0 => {
            let mut b = s.as_bytes().to_vec();
            b[17] = if b[17] == b'1' { b'2' } else { b'1' };
            (String::from_utf8(b).unwrap(), Some("check"))
        }
        1 => {
            // The sequence digits swapped (5 and 0 differ).
            let mut b = s.as_bytes().to_vec();
            b.swap(14, 15);
            (String::from_utf8(b).unwrap(), Some("transposed"))
        }
        2 => (format!("{}{}", &s[..6], &s[8..17]), Some("legacy")),
        _ => {
            let mut b = s.as_bytes().to_vec();
            b[10] = b'1';
            b[11] = b'4';
            (String::from_utf8(b).unwrap(), Some("month 14"))
        }
    }
}

fn registry_csv(people: &[Newcomer]) -> String {
    let mut out = "公民身份号码,姓名,性别,出生日期,户号,住址,行政区划代码,联系电话\n".to_owned();
    for (i, p) in people.iter().enumerate() {
        let sex = if p.id.sex() == shuju_types::Sex::Male {
            "男"
        } else {
            "女"
        };
        out.push_str(&format!(
            "{},{},{sex},{},H9{:08},{},371523,1390000{:04}\n",
            p.id,
            p.name,
            p.birth.format("%Y%m%d"),
            i,
            p.address,
            i
        ));
    }
    out
}

fn insurance_lines(people: &[Newcomer]) -> String {
    people
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (id, _) = as_written(p, i);
            // Some names with the given name's characters swapped, some births a day off.
            let name = if i % 6 == 5 {
                let c: Vec<char> = p.name.chars().collect();
                [c[0], c[2], c[1]].iter().collect()
            } else {
                p.name.clone()
            };
            let birth = if i % 8 == 3 { p.birth + chrono::Duration::days(1) } else { p.birth };
            format!(
                "{}\n",
                json!({"cbrybh": format!("SB-T-{i:03}"), "sfzh": id, "xm": name, "csrq": birth.format("%Y-%m-%d").to_string(),
                    "xzlx": "110", "jfjs": 5000, "cbzt": "1", "gxsj": "2026-11-20T08:00:00+08:00"})
            )
        })
        .collect()
}

async fn resource_of(app: &TestApp, table: &str) -> String {
    app.lake
        .tables(&Caller::system())
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.spec.name == table)
        .unwrap()
        .spec
        .resource_code
}

async fn deliver(app: &TestApp, token: &str, table: &str, file: &str, body: &str) -> Value {
    let code = resource_of(app, table).await;
    let r = app
        .deliver(token, &code, file, body.as_bytes().to_vec())
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// The registry's file about `people`, then the insurance file about them.
async fn deliver_both(app: &TestApp, token: &str, people: &[Newcomer]) -> Value {
    deliver(
        app,
        token,
        "gongan_hukou",
        "hukou_new.csv",
        &registry_csv(people),
    )
    .await;
    deliver(
        app,
        token,
        "rsj_shebao",
        "shebao_new.jsonl",
        &insurance_lines(people),
    )
    .await
}

/// Every link of one source: record key → person.
async fn links_of(app: &TestApp, token: &str, source: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for page in 1.. {
        let p: Value = app
            .get_json(
                token,
                &format!("/api/v1/persons/links?source={source}&size=500&page={page}"),
            )
            .await;
        let items = p["items"].as_array().unwrap();
        if items.is_empty() {
            break;
        }
        for l in items {
            out.insert(
                l["record_key"].as_str().unwrap().to_owned(),
                l["entity_id"].as_str().unwrap().to_owned(),
            );
        }
    }
    out
}

/// The record key a registry row is kept under: the ID, widened, or flagged.
fn registry_key(p: &Newcomer) -> String {
    p.id.as_str().to_owned()
}

#[tokio::test]
async fn two_deliveries_link_to_each_other_before_any_full_run_and_flagged_records_are_kept() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let _city = app.gather(150, &["gongan_hukou", "rsj_shebao"]).await;
    let people = newcomers(24);

    // No full run: the registry's new persons, then the insurance file about them.
    let report = deliver_both(&app, &token, &people).await;
    // Every record kept: the bad IDs flagged (the legacy one widened and noted), none rejected.
    assert_eq!(report["rejected"].as_u64(), Some(0), "{report}");
    assert_eq!(
        report["flagged_columns"]["sfzh"].as_u64(),
        Some(6),
        "{report}"
    );
    let runs: Vec<Value> = app.get_json(&token, "/api/v1/persons/runs").await;
    assert!(runs.is_empty(), "no full run has happened: {runs:?}");

    let registry = links_of(&app, &token, "gongan_hukou").await;
    let insurance = links_of(&app, &token, "rsj_shebao").await;
    for (i, p) in people.iter().enumerate() {
        let reg = registry
            .get(&registry_key(p))
            .unwrap_or_else(|| panic!("registry record {i} linked"));
        let ins = insurance
            .get(&format!("SB-T-{i:03}"))
            .unwrap_or_else(|| panic!("insurance record {i} linked"));
        assert_eq!(
            reg,
            ins,
            "person {i} ({:?}): one person across the two deliveries",
            as_written(p, i).1
        );
    }
    let distinct: std::collections::BTreeSet<&String> =
        people.iter().map(|p| &registry[&registry_key(p)]).collect();
    assert_eq!(distinct.len(), people.len(), "no two newcomers merged");

    // A record kept with its ID flagged is in the person's file with the flag and the reason.
    let bad = 1; // check character wrong
    let pid = &registry[&registry_key(&people[bad])];
    let file: Value = app
        .client
        .get(app.url(&format!("/api/v1/persons/{pid}")))
        .bearer_auth(&token)
        .header("X-Purpose", "insurance check")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fact = file["facts"]
        .as_array()
        .unwrap_or_else(|| panic!("{file}"))
        .iter()
        .find(|f| f["record_key"] == json!(format!("SB-T-{bad:03}")))
        .unwrap_or_else(|| panic!("the flagged record is in the file: {file}"));
    let why = fact["flagged"]["sfzh"].as_str().unwrap();
    assert!(why.contains("check character"), "{why}");
    assert_eq!(
        fact["as_written"]["sfzh"].as_str(),
        Some(as_written(&people[bad], bad).0.as_str()),
        "{fact}"
    );
    // The page says so too.
    let (browser, _) =
        crate::common::browser_login(&app, "admin", crate::common::ADMIN_PW, "/persons").await;
    let page = app
        .page(&browser, &format!("/persons/{pid}?purpose=check"))
        .await;
    assert!(
        page.contains("校验码不符"),
        "the file page shows the flag, in Chinese: {page}"
    );

    // The legacy 15-digit ID was widened: that record joined by ID.
    let legacy = 9;
    assert_eq!(as_written(&people[legacy], legacy).1, Some("legacy"));
    let pid = &registry[&registry_key(&people[legacy])];
    let lk: Value = app
        .get_json(&token, "/api/v1/persons/links?source=rsj_shebao&size=500")
        .await;
    let mine: Vec<&Value> = lk["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["record_key"] == json!(format!("SB-T-{legacy:03}")))
        .collect();
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0]["method"], "id", "{mine:?}");
    let lk: Value = app
        .get_json(
            &token,
            "/api/v1/persons/links?source=rsj_shebao&method=id&size=500",
        )
        .await;
    assert!(
        lk["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["record_key"] == json!(format!("SB-T-{legacy:03}"))
                && l["entity_id"] == json!(pid)),
        "{lk}"
    );
}

#[tokio::test]
async fn a_full_run_after_an_unchanged_redelivery_moves_and_renumbers_nothing() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let _city = app.gather(150, &["gongan_hukou", "rsj_shebao"]).await;
    let people = newcomers(16);
    let first: Value = app
        .post_json(&token, "/api/v1/persons/resolve", json!({}))
        .await;
    deliver_both(&app, &token, &people).await;
    let second: Value = app
        .post_json(&token, "/api/v1/persons/resolve", json!({}))
        .await;
    assert!(second["run_id"].as_i64() > first["run_id"].as_i64());
    let before = (
        links_of(&app, &token, "gongan_hukou").await,
        links_of(&app, &token, "rsj_shebao").await,
    );

    // The same files again, then a full run: nothing moves, nobody is renumbered.
    deliver_both(&app, &token, &people).await;
    let third: Value = app
        .post_json(&token, "/api/v1/persons/resolve", json!({}))
        .await;
    assert_eq!(third["changes"]["merged"], json!([]), "{third}");
    assert_eq!(third["changes"]["split"], json!([]), "{third}");
    assert_eq!(third["changes"]["moved_records"], 0, "{third}");
    assert_eq!(third["changes"]["created"], 0, "{third}");
    assert_eq!(third["persons"], second["persons"], "{third}");
    let after = (
        links_of(&app, &token, "gongan_hukou").await,
        links_of(&app, &token, "rsj_shebao").await,
    );
    assert_eq!(before, after, "every record under the same person");

    // The run's links export for audit, and the clusters list, agree with the links.
    let run = third["run_id"].as_i64().unwrap();
    let r = app
        .get(&token, &format!("/api/v1/persons/runs/{run}/links.csv"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let csv = r.text().await.unwrap();
    assert!(
        csv.starts_with("source,record_key,entity_id,method,run_id"),
        "{csv}"
    );
    let pid = &after.0[&people[0].id.as_str().to_owned()];
    assert!(
        csv.contains(&format!("rsj_shebao,SB-T-000,{pid},")),
        "the export names every link"
    );
    let clusters: Value = app
        .get_json(
            &token,
            "/api/v1/persons/clusters?source=rsj_shebao&min_records=1&size=500",
        )
        .await;
    assert!(
        clusters["total"].as_i64().unwrap() >= people.len() as i64,
        "{clusters}"
    );
}

#[tokio::test]
async fn links_are_read_within_scope_and_ids_masked_without_the_right_to_personal_data() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let _city = app.gather(60, &["gongan_hukou", "rsj_shebao"]).await;
    app.post_json::<Value>(&admin, "/api/v1/persons/resolve", json!({}))
        .await;
    // A window clerk may view files but not read personal data unmasked; its data scope is its
    // department. In the department providing the sources it sees their links, IDs masked; in
    // another, none.
    let role = shuju_store::roles::by_key(app.admin.store(), "window_clerk")
        .await
        .unwrap()
        .unwrap()
        .id;
    let provider = app
        .lake
        .tables(&Caller::system())
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.spec.name == "gongan_hukou")
        .and_then(|t| t.spec.provider)
        .unwrap();
    let parent = app.dept_id(&admin, "聊城市人民政府").await;
    let uscc = shuju_admin::seed::organ_uscc("371500", 977);
    let r = app
        .post(&admin, "/api/v1/departments", json!({"parent_id": parent, "name": "聊城市档案馆", "division_code": "371500", "uscc": uscc}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let other = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    assert_ne!(other, provider);
    let mut clerks = Vec::new();
    for (name, dept) in [("clerk_in", provider), ("clerk_out", other)] {
        let r = app
            .post(&admin, "/api/v1/users", json!({"username": name, "display_name": name, "dept_id": dept, "role_ids": [role], "password": "Initial-Pass-1"}))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        clerks.push(
            app.first_login(name, "Initial-Pass-1", "Changed-Pass-2")
                .await,
        );
    }
    let p: Value = app
        .get_json(
            &clerks[0],
            "/api/v1/persons/links?source=gongan_hukou&size=500",
        )
        .await;
    let items = p["items"].as_array().unwrap();
    assert!(!items.is_empty(), "the registry's links: {p}");
    for l in items {
        let k = l["record_key"].as_str().unwrap();
        assert!(k.contains("********"), "a citizen ID masked: {k}");
    }
    for path in [
        "/api/v1/persons/links",
        "/api/v1/persons/clusters?min_records=1",
    ] {
        let none: Value = app.get_json(&clerks[1], path).await;
        assert_eq!(none["total"], 0, "another department's links: {none}");
    }
    let r = app
        .get(&clerks[1], "/api/v1/persons/runs/1/links.csv")
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.text().await.unwrap().lines().count(),
        1,
        "only the header"
    );
    // The admin reads them unmasked.
    let all: Value = app
        .get_json(&admin, "/api/v1/persons/links?source=gongan_hukou&size=5")
        .await;
    let k = all["items"][0]["record_key"].as_str().unwrap();
    assert!(!k.contains('*'), "{k}");
    // Without the view permission: refused.
    let holder = app
        .account_with_role(&admin, "someone", "license_holder")
        .await;
    let r = app.get(&holder, "/api/v1/persons/links").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}
