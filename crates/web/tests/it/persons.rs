//! One person, one file through the real server: the synthetic city gathered into the lake,
//! persons resolved, found by ID and by name and birth date, a file opened only with a purpose,
//! a record split off by hand with only that record moving, a new delivery joining existing
//! persons without renumbering anyone, the single-record match, and the pages.

use crate::common::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shuju_admin::Caller;

/// A registry person: citizen ID, name and birth date (the first or last by ID).
async fn registry_person(app: &TestApp, last: bool) -> (String, String, String) {
    let sql = format!(
        "SELECT sfzh, xm, CAST(csrq AS VARCHAR) AS csrq FROM gongan_hukou WHERE _flagged IS NULL ORDER BY sfzh {} LIMIT 1",
        if last { "DESC" } else { "ASC" }
    );
    let rows = app
        .lake
        .sql(&Caller::system(), &sql, &Default::default(), 1)
        .await
        .unwrap()
        .rows;
    let text = |c: &str| rows[0][c].as_str().unwrap().to_owned();
    (text("sfzh"), text("xm"), text("csrq"))
}

/// The person ID of a citizen ID.
async fn person_of(app: &TestApp, token: &str, citizen_id: &str) -> String {
    let found: Vec<Value> = app
        .get_json(token, &format!("/api/v1/persons?citizen_id={citizen_id}"))
        .await;
    assert_eq!(found.len(), 1, "{found:?}");
    found[0]["person_id"].as_str().unwrap().to_owned()
}

/// A person's file, opened with a purpose.
async fn file_of(app: &TestApp, token: &str, pid: &str, purpose: &str) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/api/v1/persons/{pid}")))
        .bearer_auth(token)
        .header("X-Purpose", purpose)
        .send()
        .await
        .unwrap()
}

/// An enterprise's file, opened with a purpose.
async fn enterprise_of(app: &TestApp, token: &str, id: &str) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/api/v1/enterprises/{id}")))
        .bearer_auth(token)
        .header("X-Purpose", "credit review")
        .send()
        .await
        .unwrap()
}

/// Deliver a file to a table through the API; it must load.
async fn deliver(app: &TestApp, token: &str, resource_code: &str, file_name: &str, body: String) {
    let r = app
        .deliver(token, resource_code, file_name, body.into_bytes())
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

/// The resource code of a lake table.
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

#[tokio::test]
async fn persons_are_resolved_found_opened_with_a_purpose_and_keep_their_ids() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let _city = app.gather(300, &[]).await;

    // Before any run the match answers from what landed (nothing yet, or the deliveries as
    // they were matched): a stranger's ID finds nobody.
    let r = app
        .get(&token, "/api/v1/persons?citizen_id=110105199003070016")
        .await;
    if r.status() != StatusCode::CONFLICT {
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.json::<Value>().await.unwrap(), json!([]));
    }

    let run: Value = app
        .post_json(&token, "/api/v1/persons/resolve", json!({}))
        .await;
    let records = run["records"].as_u64().unwrap();
    let persons = run["persons"].as_u64().unwrap();
    assert!(records > persons && persons >= 280, "{run}");
    assert!(run["stats"]["deterministic_links"].as_u64().unwrap() > 0);
    assert!(run["versions"]["gongan_hukou"].is_number());

    // A person of the registry, by ID and by name and birth date.
    let (id, name, birth) = registry_person(&app, false).await;
    let (id, name, birth) = (id.as_str(), name.as_str(), birth.as_str());
    let pid = person_of(&app, &token, id).await;
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("name", name)
        .append_pair("birth", birth)
        .finish();
    let by_name: Vec<Value> = app.get_json(&token, &format!("/api/v1/persons?{q}")).await;
    assert_eq!(by_name[0]["person_id"], pid.as_str(), "{by_name:?}");
    assert!(by_name[0]["explanation"]["fields"].is_array());
    let body = serde_json::to_string(&by_name).unwrap();
    assert!(
        !body.contains(name),
        "candidates never carry the values compared"
    );

    // The file needs a purpose; with one it holds the registry record and is audited.
    let r = app.get(&token, &format!("/api/v1/persons/{pid}")).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = file_of(&app, &token, &pid, "%E4%BD%8E%E4%BF%9D%E5%AE%A1%E6%A0%B8").await;
    assert_eq!(r.status(), StatusCode::OK);
    let file: Value = r.json().await.unwrap();
    let facts = file["facts"].as_array().unwrap();
    assert!(
        facts
            .iter()
            .any(|f| f["table"] == "gongan_hukou" && f["record_key"] == id)
    );
    assert!(facts.iter().all(|f| f["version"].is_number()));
    let audit: Value = app
        .get_json(
            &app.auditor_token(&token).await,
            "/api/v1/audit?action=identity.file",
        )
        .await;
    assert!(audit.to_string().contains("低保审核"), "{audit}");
    let r = app.get(&token, "/api/v1/persons/P0000000000000000").await;
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "no purpose, so no lookup"
    );

    // A clerk splits one record off; only that record's person changes, and the run says so.
    let other = facts
        .iter()
        .find(|f| f["table"] != "gongan_hukou")
        .map(|f| {
            (
                f["table"].as_str().unwrap().to_owned(),
                f["record_key"].as_str().unwrap().to_owned(),
            )
        });
    if let Some((table, key)) = other {
        let r = app
            .post(
                &token,
                "/api/v1/persons/decisions",
                json!({"decision": "split", "a": {"source": table, "key": key}, "reason": "不同人，证件号录入错误"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let again: Value = app
            .post_json(&token, "/api/v1/persons/resolve", json!({}))
            .await;
        assert_eq!(
            again["changes"]["split"].as_array().unwrap().len(),
            1,
            "{again}"
        );
        assert_eq!(again["changes"]["moved_records"], 1, "{again}");
        assert_eq!(again["persons"].as_u64().unwrap(), persons + 1);
    }
    let r = app
        .post(
            &token,
            "/api/v1/persons/decisions",
            json!({"decision": "split", "a": {"source": "gongan_hukou", "key": "nobody"}, "reason": "x"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // A new delivery: social insurance for the person, without a citizen ID and with the birth
    // date written another way. It joins the person; nobody is renumbered.
    let before: Value = app.get_json(&token, "/api/v1/persons/runs").await;
    let persons_before = before[0]["entities"].as_u64().unwrap();
    let shebao = resource_of(&app, "rsj_shebao").await;
    let late = tempfile::tempdir().unwrap();
    let file = late.path().join("shebao_late.jsonl");
    let compact: String = birth.chars().filter(char::is_ascii_digit).collect();
    std::fs::write(
        &file,
        format!(
            "{}\n",
            json!({"cbrybh": "SB-LATE-1", "sfzh": null, "xm": name, "csrq": compact, "xzlx": "110", "jfjs": 4000, "cbzt": "1", "gxsj": "2026-11-01T08:00:00+08:00"})
        ),
    )
    .unwrap();
    app.lake
        .ingest(
            &Caller::system(),
            &shebao,
            &file,
            "shebao_late.jsonl",
            Default::default(),
        )
        .await
        .unwrap();
    let third: Value = app
        .post_json(&token, "/api/v1/persons/resolve", json!({}))
        .await;
    assert_eq!(third["changes"]["merged"], json!([]), "{third}");
    assert_eq!(third["changes"]["split"], json!([]), "{third}");
    assert_eq!(third["changes"]["moved_records"], 0, "{third}");
    assert_eq!(
        third["persons"].as_u64().unwrap(),
        persons_before,
        "{third}"
    );
    assert_eq!(third["records"].as_u64().unwrap(), records + 1);
    let r = file_of(&app, &token, &pid, "check").await;
    let file: Value = r.json().await.unwrap();
    assert!(
        file["facts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["record_key"] == "SB-LATE-1" && f["method"] == "model"),
        "{file}"
    );

    // The single-record match: a homophone name and a birth date find the same person.
    let m: Vec<Value> = app
        .post_json(
            &token,
            "/api/v1/persons/match",
            json!({"name": name, "birth": birth}),
        )
        .await;
    assert_eq!(m[0]["person_id"], pid.as_str());
    let r = app
        .post(&token, "/api/v1/persons/match", json!({"nick": "x"}))
        .await;
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "unknown fields refused"
    );

    // Pages: search, the file behind a purpose, the review queue.
    let (client, _) =
        crate::common::browser_login(&app, "admin", crate::common::ADMIN_PW, "/persons").await;
    let html = app
        .page(&client, &format!("/persons?citizen_id={id}"))
        .await;
    assert!(html.contains(&pid), "{html}");
    let html = app.page(&client, &format!("/persons/{pid}")).await;
    assert!(html.contains("id=\"purpose-form\""));
    let html = app
        .page(
            &client,
            &format!("/persons/{pid}?purpose=%E6%A0%B8%E6%9F%A5"),
        )
        .await;
    assert!(html.contains("gongan_hukou") && html.contains(id));
    let html = app.page(&client, "/persons/reviews").await;
    assert!(html.contains("id=\"reviews\""));
}

#[tokio::test]
async fn persons_need_their_permissions() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let role: Value = app
        .post_json(
            &token,
            "/api/v1/roles",
            json!({"role_key": "lake_reader", "name": "查询员", "permissions": ["lake:data:query"], "data_scope": "all"}),
        )
        .await;
    let dept = app.dept_id(&token, "聊城市大数据局").await;
    app.post(
        &token,
        "/api/v1/users",
        json!({"username": "reader", "display_name": "查询员", "dept_id": dept, "role_ids": [role["id"]], "password": "Initial-Pass-1"}),
    )
    .await;
    let reader = app
        .first_login("reader", "Initial-Pass-1", "Wonder-Pass-2026")
        .await;
    for (path, body) in [
        ("/api/v1/persons/resolve", json!({})),
        ("/api/v1/persons/match", json!({"name": "王伟"})),
    ] {
        let r = app.post(&reader, path, body).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let r = app.get(&reader, "/api/v1/persons/reviews").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_low_income_check_answers_per_rule_and_changes_when_a_property_is_added() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let _city = app.gather(200, &[]).await;
    app.post_json::<Value>(&token, "/api/v1/persons/resolve", json!({}))
        .await;
    let (id, _, _) = registry_person(&app, false).await;
    let pid = person_of(&app, &token, &id).await;
    let check = || async {
        let r = app
            .client
            .post(app.url(&format!("/api/v1/persons/{pid}/checks/low_income")))
            .bearer_auth(&token)
            .header("X-Purpose", "dibao")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<Value>().await.unwrap()
    };
    let before = check().await;
    assert_eq!(before["rules"].as_array().unwrap().len(), 5, "{before}");
    let props = before["facts"]["properties"].as_u64().unwrap();
    let house = |r: &Value| {
        r["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["rule"] == "房产")
            .unwrap()["pass"]
            .as_bool()
            .unwrap()
    };
    assert!(house(&before), "{before}");

    // Two more homes registered in the person's name: the property rule, and so the answer, turn.
    let budongchan = resource_of(&app, "zrzy_budongchan").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("budongchan_more.csv");
    std::fs::write(
        &file,
        format!(
            "权利人,证件号码,不动产单元号,坐落,面积,登记日期\n某人,{id},371502999999GB99999F00000001,聊城市东昌府区柳园路1号,90.5,2026/11/01\n某人,{id},371502999999GB99999F00000002,聊城市东昌府区柳园路2号,80.0,2026/11/02\n"
        ),
    )
    .unwrap();
    app.lake
        .ingest(
            &Caller::system(),
            &budongchan,
            &file,
            "budongchan_more.csv",
            Default::default(),
        )
        .await
        .unwrap();
    app.post_json::<Value>(&token, "/api/v1/persons/resolve", json!({}))
        .await;
    let after = check().await;
    assert_eq!(after["facts"]["properties"].as_u64().unwrap(), props + 2);
    assert!(!house(&after), "{after}");
    assert_eq!(after["passed"], false);
    let audit: Value = app
        .get_json(
            &app.auditor_token(&token).await,
            "/api/v1/audit?action=identity.check",
        )
        .await;
    assert!(audit.to_string().contains("low_income@1: no"), "{audit}");

    // Rule sets: listed, vetted on save (no code nodes), versioned, testable on sample facts.
    let sets: Vec<Value> = app.get_json(&token, "/api/v1/rules").await;
    assert_eq!(sets.len(), shuju_identity::checks::BUILT_IN.len());
    let mut jdm: Value = serde_json::from_str(
        sets.iter().find(|s| s["rule_key"] == "low_income").unwrap()["jdm"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let mut bad = jdm.clone();
    bad["nodes"][1]["type"] = json!("functionNode");
    let r = app
        .put(
            &token,
            "/api/v1/rules/low_income",
            json!({"name": "低保", "jdm": bad}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // The standard rises to 1,000 yuan.
    for row in jdm["nodes"][1]["content"]["rules"].as_array_mut().unwrap() {
        if row["in_income"] == "< 960" {
            row["in_income"] = json!("< 1000");
        } else if row["in_income"] == ">= 960" {
            row["in_income"] = json!(">= 1000");
        }
    }
    let saved: Value = app
        .put_json(
            &token,
            "/api/v1/rules/low_income",
            json!({"name": "低保资格审核", "jdm": jdm}),
        )
        .await;
    assert_eq!(saved["version"], 2);
    let t: Value = app
        .post_json(
            &token,
            "/api/v1/rules/low_income/test",
            json!({"facts": {"income": 980, "properties": 0, "vehicles": 0, "enterprises": 0, "housing_fund": false}}),
        )
        .await;
    assert_eq!(t["passed"], true, "{t}");
    assert_eq!(t["version"], 2);

    // Pages: the check from the file, the rule list and editor with a test.
    let (client, _) =
        crate::common::browser_login(&app, "admin", crate::common::ADMIN_PW, "/rules").await;
    let html = app
        .page(
            &client,
            &format!("/persons/{pid}/checks/low_income?purpose=x"),
        )
        .await;
    assert!(
        html.contains("id=\"rule-outcomes\"") && html.contains("名下有两套及以上住房"),
        "{html}"
    );
    let html = app.page(&client, "/rules").await;
    assert!(html.contains("exit_entry"));
    let html = app.page(&client, "/rules/low_income").await;
    let csrf = crate::common::csrf_of(&html);
    let r = client
        .post(app.url("/rules/low_income/test"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("jdm", &jdm.to_string()),
            ("facts", "{\"income\": 5000, \"properties\": 0, \"vehicles\": 0, \"enterprises\": 0, \"housing_fund\": false}"),
        ])
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("月收入不低于低保标准"), "{html}");

    // The decision table edited as a grid, as an official does: the income line raised to 6000,
    // saved as a new version; the JSON model follows.
    let html = app.page(&client, "/rules/low_income").await;
    assert!(html.contains("id=\"grid-0\""), "{html}");
    let before: Value = app.get_json(&token, "/api/v1/rules/low_income").await;
    let mut fields = form_fields(&html);
    for (k, v) in &mut fields {
        match k.as_str() {
            "g0.r0.in0" => *v = "< 6000".into(),
            "g0.r1.in0" => *v = ">= 6000".into(),
            _ => {}
        }
    }
    fields.push(("editor".into(), "grid".into()));
    let r = client
        .post(app.url("/rules/low_income"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let saved: Value = app.get_json(&token, "/api/v1/rules/low_income").await;
    assert_eq!(
        saved["version"].as_i64(),
        before["version"].as_i64().map(|v| v + 1)
    );
    assert!(saved["jdm"].as_str().unwrap().contains("< 6000"));
    let t: Value = app
        .post_json(
            &token,
            "/api/v1/rules/low_income/test",
            json!({"facts": {"income": 5000, "properties": 0, "vehicles": 0, "enterprises": 0, "housing_fund": false}}),
        )
        .await;
    let income = t["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "收入")
        .unwrap();
    assert_eq!(income["pass"], true, "{t}");
}

/// The fields a browser would submit from a page's form: inputs with their values and
/// textareas with their text.
fn form_fields(html: &str) -> Vec<(String, String)> {
    let unescape = |s: &str| {
        s.replace("&quot;", "\"")
            .replace("&#34;", "\"")
            .replace("&#x27;", "'")
            .replace("&#39;", "'")
            .replace("&#x2f;", "/")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    let attr = |tag: &str, a: &str| {
        tag.split(&format!("{a}=\""))
            .nth(1)
            .and_then(|s| s.split('"').next())
            .map(unescape)
    };
    let mut out = Vec::new();
    for tag in html.split("<input").skip(1) {
        let tag = tag.split('>').next().unwrap_or("");
        if tag.contains("type=\"checkbox\"") {
            continue;
        }
        if let Some(name) = attr(tag, "name") {
            out.push((name, attr(tag, "value").unwrap_or_default()));
        }
    }
    for part in html.split("<textarea").skip(1) {
        let (tag, rest) = part.split_once('>').unwrap();
        if let Some(name) = attr(tag, "name") {
            out.push((name, unescape(rest.split("</textarea>").next().unwrap())));
        }
    }
    out
}

#[tokio::test]
async fn a_delivery_through_the_api_is_matched_to_persons_as_it_lands() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let _city = app.gather(200, &[]).await;
    let first: Value = app
        .post_json(&token, "/api/v1/persons/resolve", json!({}))
        .await;
    let (id, name, birth) = registry_person(&app, true).await;
    let pid = person_of(&app, &token, &id).await;
    let code = resource_of(&app, "rsj_shebao").await;
    // Three records: one with the person's ID, one without any ID, one of a stranger.
    let lines = [
        json!({"cbrybh": "SB-NEW-1", "sfzh": id, "xm": name, "csrq": birth, "xzlx": "110", "jfjs": 4000, "cbzt": "1", "gxsj": "2026-11-01T08:00:00+08:00"}),
        json!({"cbrybh": "SB-NEW-2", "sfzh": null, "xm": name, "csrq": birth, "xzlx": "310", "jfjs": 4000, "cbzt": "1", "gxsj": "2026-11-01T08:00:00+08:00"}),
        json!({"cbrybh": "SB-NEW-3", "sfzh": null, "xm": "欧阳修远", "csrq": "1901-01-01", "xzlx": "110", "jfjs": 4000, "cbzt": "1", "gxsj": "2026-11-01T08:00:00+08:00"}),
    ];
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    deliver(&app, &token, &code, "shebao_late.jsonl", body).await;

    // No run in between: the file already holds both records, and the stranger is a person.
    let r = file_of(&app, &token, &pid, "check").await;
    let file: Value = r.json().await.unwrap();
    let methods: Vec<(String, String)> = file["facts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["record_key"].as_str().unwrap().starts_with("SB-NEW"))
        .map(|f| {
            (
                f["record_key"].as_str().unwrap().to_owned(),
                f["method"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        methods,
        vec![
            ("SB-NEW-1".to_owned(), "id".to_owned()),
            ("SB-NEW-2".to_owned(), "model".to_owned())
        ],
        "{file}"
    );
    let audit: Value = app
        .get_json(
            &app.auditor_token(&token).await,
            "/api/v1/audit?action=identity.absorb",
        )
        .await;
    assert!(
        audit
            .to_string()
            .contains("1 by ID, 1 by the model, 1 new persons"),
        "{audit}"
    );

    // The next full run agrees: nobody renumbered, one more person (the stranger).
    let again: Value = app
        .post_json(&token, "/api/v1/persons/resolve", json!({}))
        .await;
    assert_eq!(again["changes"]["moved_records"], 0, "{again}");
    assert_eq!(again["changes"]["merged"], json!([]), "{again}");
    assert_eq!(
        again["persons"].as_u64().unwrap(),
        first["persons"].as_u64().unwrap() + 1
    );
}

#[tokio::test]
async fn an_enterprise_file_gathers_registration_penalties_credit_and_its_legal_representative() {
    enterprise_file(TestApp::spawn().await).await;
}

#[tokio::test]
async fn enterprises_resolve_and_files_open_on_postgres() {
    if let Some(db) = shuju_store::testing::postgres().await {
        enterprise_file(TestApp::spawn_on(db).await).await;
    }
}

async fn enterprise_file(app: TestApp) {
    let token = app.admin_token().await;
    let city = app.gather(600, &[]).await;
    app.post_json::<Value>(&token, "/api/v1/persons/resolve", json!({}))
        .await;
    let run: Value = app
        .post_json(&token, "/api/v1/enterprises/resolve", json!({}))
        .await;
    assert!(run["persons"].as_u64().unwrap() > 10, "{run}");

    // Against the city's truth: every inspection of a registered enterprise — written with its
    // credit code, its old registration number, its organisation code or nothing but a name —
    // sits under that enterprise's credit code; stalls inspected twice share an E… ID.
    let truth = std::fs::read_to_string(city.path().join("truth_enterprises.csv")).unwrap();
    let mut code_of_enterprise = std::collections::HashMap::new();
    let mut inspections = Vec::new();
    for line in truth.lines().skip(1) {
        let v: Vec<&str> = line.split(',').collect();
        match v[0] {
            "scjg_entities" if shuju_types::CreditCode::parse(v[1]).is_ok() => {
                code_of_enterprise.insert(v[2].to_owned(), v[1].to_owned());
            }
            "shj_inspections" => inspections.push((v[1].to_owned(), v[2].to_owned())),
            _ => {}
        }
    }
    let (mut right, mut registered, mut stall_ids) = (0, 0, std::collections::HashMap::new());
    for (key, who) in &inspections {
        let l = shuju_store::identity::entity_of(
            app.admin.store(),
            "enterprise",
            "shj_inspections",
            key,
        )
        .await
        .unwrap()
        .expect("every inspection is linked");
        match code_of_enterprise.get(who) {
            Some(code) => {
                registered += 1;
                right += usize::from(&l.entity_id == code);
            }
            None if who.len() >= 7 => {
                assert!(l.entity_id.starts_with('E'), "{l:?}");
                stall_ids
                    .entry(who.clone())
                    .or_insert_with(Vec::new)
                    .push(l.entity_id);
            }
            None => {}
        }
    }
    assert!(
        registered > 20 && right * 100 >= registered * 97,
        "{right} of {registered}"
    );
    assert!(stall_ids.values().any(|v| v.len() == 2));
    for v in stall_ids.values() {
        assert!(v.iter().all(|e| e == &v[0]), "{v:?}");
    }
    // A second run over the same data changes no enterprise ID.
    let again: Value = app
        .post_json(&token, "/api/v1/enterprises/resolve", json!({}))
        .await;
    assert_eq!(again["changes"]["merged"], json!([]), "{again}");
    assert_eq!(again["changes"]["split"], json!([]), "{again}");
    assert_eq!(again["changes"]["moved_records"], 0, "{again}");
    // An inspection written with the old registration number is in the enterprise's file.
    let old: Vec<Value> = app
        .lake
        .sql(
            &Caller::system(),
            "SELECT e.tyshxydm, e.zch FROM shj_inspections i JOIN scjg_entities e ON e.zch = i.jcdxzzhm ORDER BY e.tyshxydm LIMIT 1",
            &Default::default(),
            1,
        )
        .await
        .unwrap()
        .rows
        .into_iter()
        .map(Value::Object)
        .collect();
    let code = old[0]["tyshxydm"].as_str().unwrap();
    let f: Value = enterprise_of(&app, &token, code)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        f["facts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["table"] == "shj_inspections" && x["row"]["jcdxzzhm"] == old[0]["zch"]),
        "{f}"
    );
    assert!(f["credit"]["inspections"].as_u64().unwrap() >= 1);
    let r = app
        .get(&token, &format!("/api/v1/enterprises/{code}"))
        .await;
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "an enterprise file needs a purpose"
    );
    let hits: Vec<Value> = app
        .get_json(
            &token,
            &format!(
                "/api/v1/enterprises?credit_code={}",
                old[0]["zch"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(hits[0]["credit_code"], code, "found by the old number");
    // The enterprise review queue is its own; an unknown kind is refused.
    let _: Vec<Value> = app
        .get_json(&token, "/api/v1/persons/reviews?kind=enterprise")
        .await;
    let r = app
        .get(&token, "/api/v1/persons/reviews?kind=vehicle")
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // A late inspections delivery through the API: the one written with the old number joins the
    // enterprise as it lands, the unknown stall founds an entity of its own.
    let code_res = resource_of(&app, "shj_inspections").await;
    let csv = format!(
        "检查编号,检查对象名称,检查对象证照号码,检查对象地址,法定代表人(负责人),检查日期,检查结果,实施机关\n\
         LATE-1,某某公司,{},,,2026-11-20,未发现问题,聊城市生态环境局\n\
         LATE-2,欧阳修远烧烤摊点,,聊城市冠县振兴路1号,欧阳修远,2026-11-20,责令限期整改,聊城市生态环境局\n",
        old[0]["zch"].as_str().unwrap()
    );
    deliver(&app, &token, &code_res, "inspections_late.csv", csv).await;
    let store = app.admin.store();
    let late = |k: &'static str| async move {
        shuju_store::identity::entity_of(store, "enterprise", "shj_inspections", k)
            .await
            .unwrap()
            .expect("linked as it landed")
    };
    assert_eq!(late("LATE-1").await.entity_id, code);
    let stall = late("LATE-2").await;
    assert!(
        stall.entity_id.starts_with('E') && stall.method == "new",
        "{stall:?}"
    );
    let f: Value = enterprise_of(&app, &token, &stall.entity_id)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(f["credit"]["inspections_with_findings"], 1, "{f}");

    // A shareholder's fact names the person, and the person's file names the enterprise.
    let holder: Value = app
        .get_json::<Vec<Value>>(&token, "/api/v1/enterprises/runs")
        .await
        .into_iter()
        .next()
        .unwrap();
    assert!(holder["entities"].as_i64().unwrap() > 0);
    let sh = app
        .lake
        .sql(
            &Caller::system(),
            "SELECT tyshxydm, gdczbh FROM scjg_shareholders ORDER BY gdczbh LIMIT 1",
            &Default::default(),
            1,
        )
        .await
        .unwrap()
        .rows;
    let (sh_code, sh_key) = (
        sh[0]["tyshxydm"].as_str().unwrap(),
        sh[0]["gdczbh"].as_str().unwrap(),
    );
    let f: Value = enterprise_of(&app, &token, sh_code)
        .await
        .json()
        .await
        .unwrap();
    let fact = f["facts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["record_key"] == sh_key)
        .unwrap()
        .clone();
    let person = fact["entity"].as_str().unwrap();
    assert!(person.starts_with('P'), "{fact}");
    let pf: Value = file_of(&app, &token, person, "shareholder check")
        .await
        .json()
        .await
        .unwrap();
    let household = pf["household"].as_array().unwrap();
    assert!(
        household.iter().any(|m| m["person_id"] == person),
        "the person's household holds the person: {pf}"
    );
    assert!(
        pf["facts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["delivered"].is_string() && x["delivered_in"].is_number()),
        "every fact says when it was delivered: {pf}"
    );
    assert!(
        pf["facts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["table"] == "scjg_shareholders" && x["entity"] == sh_code),
        "{pf}"
    );
    let rows = app
        .lake
        .sql(
            &Caller::system(),
            "SELECT p.tyshxydm, e.ztmc FROM scjg_penalties p JOIN scjg_entities e ON e.tyshxydm = p.tyshxydm ORDER BY p.tyshxydm LIMIT 1",
            &Default::default(),
            1,
        )
        .await
        .unwrap()
        .rows;
    let code = rows[0]["tyshxydm"].as_str().unwrap().to_owned();
    let name = rows[0]["ztmc"].as_str().unwrap().to_owned();
    let f: Value = enterprise_of(&app, &token, &code)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(f["name"], name.as_str());
    assert!(f["credit"]["penalties"].as_u64().unwrap() >= 1, "{f}");
    assert_ne!(f["credit"]["level"], "良好");
    let tables: Vec<&str> = f["facts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["table"].as_str().unwrap())
        .collect();
    assert!(tables.contains(&"scjg_entities") && tables.contains(&"scjg_penalties"));
    let person = f["legal_representative_person"].as_str().unwrap();
    assert!(person.starts_with('P'));

    let part: String = name.chars().skip(2).take(3).collect();
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("name", &part)
        .finish();
    let hits: Vec<Value> = app
        .get_json(&token, &format!("/api/v1/enterprises?{q}"))
        .await;
    assert!(
        hits.iter().any(|h| h["credit_code"] == code.as_str()),
        "{hits:?}"
    );
    let r = enterprise_of(&app, &token, "91371500ABCDEFGH1X").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "a bad check character");

    let (client, _) =
        crate::common::browser_login(&app, "admin", crate::common::ADMIN_PW, "/enterprises").await;
    let html = app.page(&client, &format!("/enterprises/{code}")).await;
    assert!(html.contains("id=\"purpose-form\""), "a purpose first");
    let html = app
        .page(
            &client,
            &format!("/enterprises/{code}?purpose=credit%20review"),
        )
        .await;
    assert!(
        html.contains("id=\"credit\"") && html.contains(&name),
        "{html}"
    );
    let html = app.page(&client, &format!("/enterprises?{q}")).await;
    assert!(html.contains(&code));
}

#[tokio::test]
async fn a_person_file_holds_marriage_rentals_disability_and_licences() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let _city = app.gather(600, &[]).await;
    app.post_json::<Value>(&token, "/api/v1/persons/resolve", json!({}))
        .await;
    let one = |sql: &'static str| {
        let lake = app.lake.clone();
        async move {
            lake.sql(&Caller::system(), sql, &Default::default(), 1)
                .await
                .unwrap()
                .rows
                .into_iter()
                .next()
                .expect("a row")
        }
    };
    let tables = |f: &Value| -> Vec<(String, String)> {
        f["facts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                (
                    x["table"].as_str().unwrap().to_owned(),
                    x["record_key"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    // A marriage registration is in both spouses' files, each as their party.
    let m = one("SELECT djbh, nfsfzh, vfsfzh FROM mzj_marriages ORDER BY djbh LIMIT 1").await;
    let djbh = m["djbh"].as_str().unwrap();
    for (col, role) in [("nfsfzh", "男方"), ("vfsfzh", "女方")] {
        let pid = person_of(&app, &token, m[col].as_str().unwrap()).await;
        let f: Value = file_of(&app, &token, &pid, "marriage check")
            .await
            .json()
            .await
            .unwrap();
        assert!(
            tables(&f).contains(&("mzj_marriages".into(), format!("{djbh}#{role}"))),
            "{f}"
        );
    }
    // A tenant's rental registration and a disability certificate.
    for (sql, table) in [
        (
            "SELECT czrsfzh AS id FROM gongan_rentals ORDER BY djbh LIMIT 1",
            "gongan_rentals",
        ),
        (
            "SELECT sfzh AS id FROM mzj_disability ORDER BY cjrzh LIMIT 1",
            "mzj_disability",
        ),
    ] {
        let id = one(sql).await["id"].as_str().unwrap().to_owned();
        let pid = person_of(&app, &token, &id).await;
        let f: Value = file_of(&app, &token, &pid, "assistance review")
            .await
            .json()
            .await
            .unwrap();
        assert!(tables(&f).iter().any(|(t, _)| t == table), "{table}: {f}");
    }
    // An electronic licence issued to a registered person shows in the person's file.
    let (id, name, _) = registry_person(&app, false).await;
    let pid = person_of(&app, &token, &id).await;
    let lic: Value = app
        .post_json(
            &token,
            "/api/v1/licenses",
            json!({"type_key": "driving_licence", "holder_id": id, "holder_name": name,
                   "claims": {"name": name, "citizen_id": id, "vehicle_class": "C1", "first_issued": "2015-03-01", "address": "聊城市东昌府区"},
                   "valid_until": "2032-01-01"}),
        )
        .await;
    let f: Value = file_of(&app, &token, &pid, "licence check")
        .await
        .json()
        .await
        .unwrap();
    let held = f["licences"].as_array().unwrap();
    assert!(
        held.iter()
            .any(|l| l["license_id"] == lic["license_id"] && l["status"] == "valid"),
        "{f}"
    );
    let (client, _) =
        crate::common::browser_login(&app, "admin", crate::common::ADMIN_PW, "/persons").await;
    let html = app
        .page(&client, &format!("/persons/{pid}?purpose=licence%20check"))
        .await;
    assert!(
        html.contains("id=\"licences-held\"")
            && html.contains(lic["license_id"].as_str().unwrap())
            && html.contains("id=\"household\""),
        "{html}"
    );
}
