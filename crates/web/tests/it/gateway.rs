//! The data-service gateway through the real server: a consumer granted 3 items of an entry gets
//! exactly those, masked as granted, through every parameter tried; other departments are refused
//! with the "why"; quotas and the rate answer 429 with when to retry and the daily count resets
//! the next day; a citizen's data-use log lists every call that touched their record and no other.

use crate::common::{TestApp, error_body};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shuju_admin::Caller;
use shuju_types::{CitizenId, CreditCode};

struct World {
    admin: String,
    provider: String,
    consumer: String,
    third: String,
    grant: i64,
    codes: Vec<String>,
    reps: Vec<String>,
}

async fn world(app: &TestApp) -> World {
    let admin = app.admin_token().await;
    let (depts, mut tokens) = app
        .departments_with_officers(
            &admin,
            &[
                ("聊城市市场监督管理局", "market"),
                ("聊城市人力资源和社会保障局", "hrss"),
                ("聊城市民政局", "civil"),
            ],
            70,
        )
        .await;
    let item = |name: &str, column: &str, sens: &str, std: Option<&str>| {
        json!({"name": name, "column": column, "data_type": "char", "length": 64, "sensitivity": sens,
               "sharing": "unconditional", "opening": "not_open", "code_standard": std})
    };
    let e: Value = app
        .post_json(
            &admin,
            "/api/v1/catalog/entries",
            json!({
                "classification": ["基础信息资源", "法人单位", "市场主体"], "name": "市场主体登记信息", "code": "102001/000003",
                "provider_dept_id": depts[0], "summary": "市场主体登记信息", "format": {"category": "database", "detail": "MySQL"},
                "items": [
                    item("统一社会信用代码", "tyshxydm", "public", Some("GB 32100")),
                    item("主体名称", "ztmc", "public", None),
                    item("法定代表人证件号码", "fddbrzjhm", "sensitive", Some("GB 11643")),
                    item("注册资本", "zczb", "public", None),
                ],
                "sharing": {"kind": "unconditional", "condition": null, "legal_basis": null, "methods": ["api"]},
                "opening": "not_open", "update_cycle": "daily", "library": "base_legal_entity", "attribute": "base"
            }),
        )
        .await;
    let id = e["id"].as_i64().unwrap();
    let r: Value = app.publish(&admin, &admin, id).await;
    let code = r["code"].as_str().unwrap().to_owned();
    // Its data in the lake: three enterprises.
    let sys = Caller::system();
    let catalog = app.catalog().await;
    shuju_catalog::lake::set_up_table(
        &catalog,
        &app.lake,
        &sys,
        &code,
        "scjg_registry",
        &["tyshxydm".to_owned()],
        Default::default(),
    )
    .await
    .unwrap();
    let mut csv = String::from("统一社会信用代码,主体名称,法定代表人证件号码,注册资本\n");
    let (mut codes, mut reps) = (vec![], vec![]);
    for i in 0..3u16 {
        let c = CreditCode::complete(&format!("91371500MA3C4D5E{i}")).unwrap();
        let p = CitizenId::from_parts(
            "371502",
            chrono::NaiveDate::from_ymd_opt(1980 + i32::from(i), 5, 6).unwrap(),
            100 + i,
        )
        .unwrap();
        csv.push_str(&format!(
            "{},企业{i},{},{}\n",
            c.as_str(),
            p.as_str(),
            100 * (i + 1)
        ));
        codes.push(c.as_str().to_owned());
        reps.push(p.as_str().to_owned());
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.csv");
    std::fs::write(&path, csv).unwrap();
    app.lake
        .ingest(&sys, &code, &path, "registry.csv", Default::default())
        .await
        .unwrap();
    // The consumer asks for three of the four items: unconditional, granted at once.
    let r: Value = app
        .post_json(
            &tokens[1],
            "/api/v1/exchange/requests",
            json!({"entry_id": id, "items": ["统一社会信用代码", "主体名称", "法定代表人证件号码"],
                   "purpose": "社保参保单位资格核验", "period_until": "2030-12-31", "consumer_system": "社保业务系统"}),
        )
        .await;
    assert_eq!(r["status"], "granted", "{r}");
    let grants: Vec<Value> = app.get_json(&tokens[1], "/api/v1/exchange/grants").await;
    let grant = grants[0]["id"].as_i64().unwrap();
    assert_eq!(grants[0]["endpoint"], format!("/api/v1/gateway/{grant}"));
    World {
        admin,
        provider: tokens.remove(0),
        consumer: tokens.remove(0),
        third: tokens.remove(0),
        grant,
        codes,
        reps,
    }
}

fn keys(row: &Value) -> Vec<String> {
    let mut k: Vec<String> = row.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

#[tokio::test]
async fn a_grant_answers_exactly_its_items_masked_as_granted_within_its_quota_sqlite() {
    grant_answers(TestApp::spawn().await).await;
}

#[tokio::test]
async fn a_grant_answers_exactly_its_items_masked_as_granted_within_its_quota_postgres() {
    if let Some(db) = shuju_store::testing::postgres().await {
        grant_answers(TestApp::spawn_on(db).await).await;
    }
}

async fn grant_answers(app: TestApp) {
    let w = world(&app).await;
    let url = |q: &str| format!("/api/v1/gateway/{}?{q}", w.grant);
    let granted = vec!["fddbrzjhm", "tyshxydm", "ztmc"];

    // One row by key: exactly the three granted items, the ID masked.
    let a: Value = app
        .get_json(&w.consumer, &url(&format!("key={}", w.codes[0])))
        .await;
    assert_eq!(a["rows"].as_array().unwrap().len(), 1, "{a}");
    let row = &a["rows"][0];
    assert_eq!(keys(row), granted);
    let id = row["fddbrzjhm"].as_str().unwrap();
    assert!(id.contains('*') && id != w.reps[0], "{id}");
    assert_eq!(a["masked"], json!(["fddbrzjhm"]));
    // A batch: every row, the same three items.
    let a: Value = app.get_json(&w.consumer, &url("limit=10")).await;
    assert_eq!(a["rows"].as_array().unwrap().len(), 3);
    assert!(
        a["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| keys(r) == granted)
    );
    let a: Value = app
        .get_json(&w.consumer, &url(&format!("limit=10&after={}", w.codes[0])))
        .await;
    assert_eq!(a["rows"].as_array().unwrap().len(), 2);
    // Nothing else through any parameter tried.
    for q in [
        format!("key={}&columns=zczb", w.codes[0]),
        format!("key={}&items=注册资本", w.codes[0]),
        "sql=SELECT%20*%20FROM%20scjg_registry".to_owned(),
        "limit=0".to_owned(),
        "limit=100000".to_owned(),
        String::new(),
    ] {
        let r = app.get(&w.consumer, &url(&q)).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{q}");
    }
    let a: Value = app
        .get_json(&w.consumer, &url("key=x'%20OR%20'1'='1"))
        .await;
    assert_eq!(a["rows"], json!([]), "a key is a value, never SQL");
    // Another department, even the provider, is refused with the why.
    for t in [&w.provider, &w.admin] {
        let r = app.get(t, &url(&format!("key={}", w.codes[0]))).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let e = error_body(r).await;
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains("/api/v1/exchange/why"),
            "{e}"
        );
    }
    let r = app.get(&w.consumer, "/api/v1/gateway/999999?limit=1").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // The provider releases the ID unmasked and sets the quota at the calls made so far + 2.
    let terms = |unmasked: Value, per_day: i64, per_second: i64| json!({"unmasked_items": unmasked, "calls_per_day": per_day, "rows_per_day": 1000, "calls_per_second": per_second});
    let g: Value = app
        .put_json(
            &w.provider,
            &format!("/api/v1/exchange/grants/{}/terms", w.grant),
            terms(json!(["法定代表人证件号码"]), 6, 50),
        )
        .await;
    assert_eq!(g["unmasked_items"], json!(["法定代表人证件号码"]));
    let r = app
        .put(
            &w.provider,
            &format!("/api/v1/exchange/grants/{}/terms", w.grant),
            terms(json!(["注册资本"]), 6, 50),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "not an item of the grant"
    );
    let a: Value = app
        .get_json(&w.consumer, &url(&format!("key={}", w.codes[0])))
        .await;
    assert_eq!(a["rows"][0]["fddbrzjhm"], w.reps[0].as_str());
    assert_eq!(a["calls_left"], 1);
    let _: Value = app
        .get_json(&w.consumer, &url(&format!("key={}", w.codes[1])))
        .await;
    // The quota: the next call is 429, with when to retry.
    let r = app
        .get(&w.consumer, &url(&format!("key={}", w.codes[1])))
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=86_400).contains(&retry), "{retry}");
    // The next day the count starts again.
    let today = chrono::Local::now().date_naive();
    let mut tx = app.admin.store().write().await.unwrap();
    shuju_store::gateway::move_usage_day(
        &mut tx,
        w.grant,
        &today.to_string(),
        &(today - chrono::Days::new(1)).to_string(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    // The gateway counts in memory and reads the count again once it is a second old.
    tokio::time::sleep(
        shuju_exchange::gateway::GRANT_FRESH + std::time::Duration::from_millis(100),
    )
    .await;
    let r = app
        .get(&w.consumer, &url(&format!("key={}", w.codes[1])))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // The rate: one call a second.
    let _: Value = app
        .put_json(
            &w.provider,
            &format!("/api/v1/exchange/grants/{}/terms", w.grant),
            terms(json!([]), 100, 1),
        )
        .await;
    let mut statuses = vec![];
    for _ in 0..3 {
        statuses.push(app.get(&w.consumer, &url("limit=1")).await.status());
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );

    // Usage per grant in /metrics: answered calls, rows, and the refusals by status.
    let m = app.get(&w.admin, "/metrics").await.text().await.unwrap();
    let grant_label = format!("grant=\"{}\"", w.grant);
    let line = |name: &str, status: Option<&str>| {
        m.lines().any(|l| {
            l.starts_with(name)
                && l.contains(&grant_label)
                && status.is_none_or(|s| l.contains(&format!("status=\"{s}\"")))
        })
    };
    assert!(line("shuju_gateway_calls_total", Some("200")), "{m}");
    assert!(line("shuju_gateway_calls_total", Some("429")), "{m}");
    assert!(line("shuju_gateway_rows_total", None), "{m}");
    assert!(
        line("shuju_gateway_call_seconds", None),
        "latency by grant: {m}"
    );
    assert!(
        m.lines()
            .any(|l| l.starts_with("shuju_sharing_rate") && l.contains("聊城市市场监督管理局")),
        "sharing rate per department: {m}"
    );

    // Usage and health: per grant, resource and consuming department; the provider's sharing.
    let h: Value = app
        .get_json(&w.admin, "/api/v1/exchange/usage?days=7")
        .await;
    let g = h["grants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == w.grant)
        .unwrap_or_else(|| panic!("{h}"));
    assert!(g["calls"].as_i64().unwrap() >= 12, "{g}");
    assert!(g["errors"].as_i64().unwrap() >= 4, "403s and 429s: {g}");
    assert!(g["rows_out"].as_i64().unwrap() >= 7, "{g}");
    assert_eq!(
        h["entries"][0]["name"], "市场主体登记信息",
        "top shared: {h}"
    );
    assert_eq!(h["entries"][0]["consumers"], 1);
    assert_eq!(h["consumers"][0]["name"], "聊城市人力资源和社会保障局");
    let market = h["sharing"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["dept"] == "聊城市市场监督管理局")
        .unwrap_or_else(|| panic!("{h}"));
    assert_eq!(
        (
            &market["catalogued"],
            &market["shared"],
            &market["granted"],
            &market["exchanged"]
        ),
        (&json!(1), &json!(1), &json!(1), &json!(1))
    );
    let r = app.get(&w.consumer, "/api/v1/exchange/usage").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a bureau view");
    let (browser, _) =
        crate::common::browser_login(&app, "admin", crate::common::ADMIN_PW, "/").await;
    let page = app.page(&browser, "/exchange/usage?days=7").await;
    assert!(
        page.contains("usage-top") && page.contains("市场主体登记信息"),
        "{page}"
    );

    // Who used my data: the first legal representative's record was read by key (three times)
    // and in batches; the third only in batches; a stranger never.
    let uses: Vec<Value> = app
        .get_json(&w.admin, &format!("/api/v1/data-use?subject={}", w.reps[0]))
        .await;
    assert!(uses.len() >= 3, "{uses:?}");
    assert!(
        uses.iter()
            .all(|u| u["consumer_dept"] == "聊城市人力资源和社会保障局"
                && u["purpose"] == "社保参保单位资格核验"
                && u["consumer_system"] == "社保业务系统")
    );
    let third: Vec<Value> = app
        .get_json(&w.admin, &format!("/api/v1/data-use?subject={}", w.reps[2]))
        .await;
    let batches = third.len();
    assert!(batches >= 1 && batches < uses.len(), "{third:?}");
    let stranger = CitizenId::from_parts(
        "371502",
        chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap(),
        7,
    )
    .unwrap();
    let none: Vec<Value> = app
        .get_json(
            &w.admin,
            &format!("/api/v1/data-use?subject={}", stranger.as_str()),
        )
        .await;
    assert!(none.is_empty());
    let r = app.get(&w.admin, "/api/v1/data-use?subject=123").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // The enterprise, by its credit code.
    let ent: Vec<Value> = app
        .get_json(
            &w.admin,
            &format!("/api/v1/data-use?subject={}", w.codes[0]),
        )
        .await;
    assert_eq!(ent.len(), uses.len());
    // The consumer's officer may not read citizens' data-use logs.
    let r = app
        .get(
            &w.consumer,
            &format!("/api/v1/data-use?subject={}", w.reps[0]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // A delivery after the gateway has read the table is answered at once (the in-memory index
    // follows the table's versions), and a revoked grant refuses at once.
    let _: Value = app
        .put_json(
            &w.provider,
            &format!("/api/v1/exchange/grants/{}/terms", w.grant),
            terms(json!([]), 100, 50),
        )
        .await;
    // Bulk delivery: the consumer subscribes; the first file is the whole table, masked as
    // granted, with the granted items only.
    let sub: Value = app
        .post_json(
            &w.consumer,
            &format!("/api/v1/exchange/grants/{}/subscribe", w.grant),
            json!({}),
        )
        .await;
    let sub_id = sub["id"].as_i64().unwrap();
    let deliver = format!("/api/v1/exchange/subscriptions/{sub_id}/deliver");
    let first: Value = app.post_json(&w.consumer, &deliver, json!({})).await;
    assert_eq!(first["rows_changed"], 3, "{first}");
    let file = |d: &Value| {
        format!(
            "/api/v1/exchange/subscriptions/{sub_id}/deliveries/{}",
            d["id"]
        )
    };
    let text = app
        .get(&w.consumer, &file(&first))
        .await
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    let mut header: Vec<&str> = lines[0].split(',').collect();
    assert_eq!(header.remove(0), "_op");
    header.sort();
    assert_eq!(header, granted, "the granted items only: {text}");
    assert!(!text.contains(&w.reps[0]), "masked: {text}");
    for who in [&w.third, &w.provider] {
        assert_eq!(
            app.get(who, &file(&first)).await.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.post(who, &deliver, json!({})).await.status(),
            StatusCode::FORBIDDEN
        );
    }
    let none: Value = app.post_json(&w.consumer, &deliver, json!({})).await;
    assert_eq!(none, Value::Null, "nothing new");
    let code = CreditCode::complete("91371500MA3C4D5E9").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry2.csv");
    std::fs::write(
        &path,
        format!(
            "统一社会信用代码,主体名称,法定代表人证件号码,注册资本\n{},新企业,{},900\n",
            code.as_str(),
            w.reps[0]
        ),
    )
    .unwrap();
    let resource = app
        .lake
        .tables(&Caller::system())
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.spec.name == "scjg_registry")
        .unwrap()
        .spec
        .resource_code;
    app.lake
        .ingest(
            &Caller::system(),
            &resource,
            &path,
            "registry2.csv",
            Default::default(),
        )
        .await
        .unwrap();
    let a: Value = app
        .get_json(&w.consumer, &url(&format!("key={}", code.as_str())))
        .await;
    assert_eq!(a["rows"][0]["ztmc"], "新企业", "{a}");
    // The next delivery carries that one change only — asked for, or made by the platform as
    // the delivery landed (whichever came first; never both).
    let mut next: Value = app.post_json(&w.consumer, &deliver, json!({})).await;
    if next.is_null() {
        let subs: Vec<Value> = app
            .get_json(&w.consumer, "/api/v1/exchange/subscriptions")
            .await;
        next = subs[0]["deliveries"][0].clone();
    }
    assert_eq!(
        (&next["rows_changed"], &next["rows_removed"]),
        (&json!(1), &json!(0)),
        "{next}"
    );
    assert_eq!(
        next["from_version"].as_i64().unwrap() + 1,
        next["to_version"].as_i64().unwrap()
    );
    let text = app
        .get(&w.consumer, &file(&next))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        text.lines().nth(1).unwrap().starts_with("U,") && text.contains("新企业"),
        "{text}"
    );
    let subs: Vec<Value> = app
        .get_json(&w.consumer, "/api/v1/exchange/subscriptions")
        .await;
    assert_eq!(subs[0]["deliveries"].as_array().unwrap().len(), 2);
    // Both deliveries are in the enterprise's data-use log.
    let ent_after: Vec<Value> = app
        .get_json(
            &w.admin,
            &format!("/api/v1/data-use?subject={}", code.as_str()),
        )
        .await;
    assert_eq!(
        ent_after.len(),
        2,
        "one call and one delivery: {ent_after:?}"
    );
    let _: Value = app
        .post_json(
            &w.admin,
            &format!("/api/v1/exchange/grants/{}/revoke", w.grant),
            json!({"reason": "项目结束"}),
        )
        .await;
    let r = app
        .get(&w.consumer, &url(&format!("key={}", code.as_str())))
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

/// Departments × roles × endpoints: no record crosses a department boundary without a grant.
/// The provider reads its own table; the consumer only through its grant's endpoint, only the
/// granted items; a third department nothing; the bureau's administrator everything directly but
/// not through another department's grant; officers do not read citizens' data-use logs.
#[tokio::test]
async fn no_record_crosses_a_department_boundary_without_a_grant() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let gateway = format!("/api/v1/gateway/{}?key={}", w.grant, w.codes[0]);
    let data_use = format!("/api/v1/data-use?subject={}", w.reps[0]);
    let enterprise = format!("/api/v1/enterprises/{}", w.codes[0]);
    let callers = [
        ("provider officer", &w.provider),
        ("consumer officer", &w.consumer),
        ("third officer", &w.third),
        ("bureau admin", &w.admin),
    ];
    // Expected status per caller, endpoint by endpoint.
    let expect: [(&str, [u16; 4]); 5] = [
        ("gateway", [403, 200, 403, 403]),
        ("lake sql", [200, 400, 400, 200]),
        ("grants", [200, 200, 200, 200]),
        ("data use", [403, 403, 403, 200]),
        // (The identity sources do not include this test table: the bureau gets 404, not 403.)
        ("enterprise file", [403, 403, 403, 404]),
    ];
    for (ci, (who, token)) in callers.iter().enumerate() {
        for (what, statuses) in &expect {
            let r = match *what {
                "gateway" => app.get(token, &gateway).await,
                "lake sql" => {
                    app.post(
                        token,
                        "/api/v1/lake/sql",
                        json!({"sql": "SELECT * FROM scjg_registry"}),
                    )
                    .await
                }
                "grants" => app.get(token, "/api/v1/exchange/grants").await,
                "data use" => app.get(token, &data_use).await,
                _ => app
                    .client
                    .get(app.url(&enterprise))
                    .bearer_auth(token)
                    .header("X-Purpose", "matrix")
                    .send()
                    .await
                    .unwrap(),
            };
            let status = r.status().as_u16();
            assert_eq!(status, statuses[ci], "{who} → {what}");
            let body: Value = r.json().await.unwrap_or(Value::Null);
            match (*what, status) {
                ("gateway", 200) => {
                    let row = &body["rows"][0];
                    assert_eq!(keys(row), vec!["fddbrzjhm", "tyshxydm", "ztmc"], "{who}");
                }
                ("lake sql", 200) => {
                    assert_eq!(body["rows"].as_array().unwrap().len(), 3, "{who}");
                }
                ("grants", 200) => {
                    // Only the consumer's department (and the bureau) sees the grant.
                    let sees = body.as_array().unwrap().iter().any(|g| g["id"] == w.grant);
                    assert_eq!(sees, ci == 1 || ci == 3, "{who} sees the grant: {body}");
                }
                _ => {}
            }
        }
    }
    // A query naming the provider's table is refused as if it did not exist: nothing leaks.
    let r = app
        .post(
            &w.third,
            "/api/v1/lake/sql",
            json!({"sql": "SELECT count(*) FROM scjg_registry"}),
        )
        .await;
    let e = error_body(r).await;
    assert!(!e["message"].as_str().unwrap().contains("企业"), "{e}");
}

/// One gateway per process: a grant's calls through the API and its bulk deliveries — asked
/// for, and made by the platform when a delivery lands (the outbox) — count against one quota.
#[tokio::test]
async fn the_api_and_the_bulk_path_count_against_one_quota() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let _: Value = app
        .put_json(
            &w.provider,
            &format!("/api/v1/exchange/grants/{}/terms", w.grant),
            json!({"unmasked_items": [], "calls_per_day": 4, "rows_per_day": 1000, "calls_per_second": 50}),
        )
        .await;
    let call = |key: &str| {
        let path = format!("/api/v1/gateway/{}?key={key}", w.grant);
        let (app, consumer) = (&app, w.consumer.clone());
        async move { app.get(&consumer, &path).await }
    };
    assert_eq!(call(&w.codes[0]).await.status(), StatusCode::OK); // 1
    let sub: Value = app
        .post_json(
            &w.consumer,
            &format!("/api/v1/exchange/grants/{}/subscribe", w.grant),
            json!({}),
        )
        .await;
    let sub_id = sub["id"].as_i64().unwrap();
    let first: Value = app
        .post_json(
            &w.consumer,
            &format!("/api/v1/exchange/subscriptions/{sub_id}/deliver"),
            json!({}),
        )
        .await;
    assert_eq!(first["rows_changed"], 3, "{first}"); // 2
    // The provider delivers a change; the platform hands it to the subscriber as it lands.
    let resource = app
        .lake
        .tables(&Caller::system())
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.spec.name == "scjg_registry")
        .unwrap()
        .spec
        .resource_code;
    let code = CreditCode::complete("91371500MA3C4D5E9").unwrap();
    let body = format!(
        "统一社会信用代码,主体名称,法定代表人证件号码,注册资本\n{},新企业,{},900\n",
        code.as_str(),
        w.reps[0]
    );
    let r = app
        .deliver(&w.provider, &resource, "registry2.csv", body.into_bytes())
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let subs: Vec<Value> = app
        .get_json(&w.consumer, "/api/v1/exchange/subscriptions")
        .await;
    assert_eq!(
        subs[0]["deliveries"].as_array().unwrap().len(),
        2,
        "{subs:?}"
    ); // 3
    assert_eq!(call(&w.codes[1]).await.status(), StatusCode::OK); // 4
    let r = call(&w.codes[2]).await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the bulk deliveries counted"
    );
}
