//! The console's security holes, each closed and kept closed: the lake's rejects, jobs and lineage
//! scoped like its data; no open redirect after login; no text from the URL printed as a message;
//! the three officers apart (三员分立); what anonymous callers read is a setting, off by default.

use crate::common::{TestApp, browser_login, csrf_of};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Two departments with an officer each; a household registry provided by the first, set up and
/// delivered by its officer (its bad check digits quarantined).
async fn registry_of_one_department(app: &TestApp, admin: &str) -> (Vec<String>, String, u64) {
    let (ids, tokens) = app
        .departments_with_officers(
            admin,
            &[
                ("聊城市公安局", "ga_officer"),
                ("聊城市民政局", "mz_officer"),
            ],
            40,
        )
        .await;
    let src = &shuju_synth::sources::SOURCES[0];
    let code = app.publish_source_by(src, 1, ids[0]).await;
    let catalog = app.catalog().await;
    // Rows with a bad citizen ID are rejected to the quarantine (by default they are flagged).
    shuju_catalog::lake::set_up(
        &catalog,
        &app.lake,
        &shuju_admin::Caller::system(),
        &code,
        src.table,
        shuju_catalog::lake::Setup {
            on_invalid: [("sfzh".to_owned(), shuju_lake::spec::OnInvalid::Reject)].into(),
            ..shuju_synth::sources::setup(src)
        },
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    shuju_synth::city::generate(300, 5, dir.path(), |_| {}).unwrap();
    let bytes = std::fs::read(dir.path().join(src.file.unwrap())).unwrap();
    let r = app.deliver(&tokens[0], &code, "hukou.csv", bytes).await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let report: Value = r.json().await.unwrap();
    let rejected = report["rejected"].as_u64().unwrap();
    assert!(rejected > 0, "the synthetic registry has bad check digits");
    (tokens, src.table.to_owned(), rejected)
}

#[tokio::test]
async fn quarantine_jobs_and_lineage_follow_the_tables_scope() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (tokens, table, rejected) = registry_of_one_department(&app, &admin).await;
    let (owner, other) = (&tokens[0], &tokens[1]);

    // The providing department's officer reads its rejects, jobs and lineage.
    let q: Value = app
        .get_json(owner, &format!("/api/v1/lake/tables/{table}/quarantine"))
        .await;
    assert_eq!(q.as_array().unwrap().len() as u64, rejected);
    let jobs: Value = app.get_json(owner, "/api/v1/lake/jobs").await;
    assert!(
        jobs.as_array()
            .unwrap()
            .iter()
            .any(|j| j["table_name"] == table)
    );
    let job_id = jobs[0]["id"].as_i64().unwrap();

    // Another department's officer, with the same role, reads none of it: not its table.
    for path in [
        format!("/api/v1/lake/tables/{table}/quarantine"),
        format!("/api/v1/lake/tables/{table}/quarantine.csv"),
        format!("/api/v1/lake/tables/{table}"),
        format!("/api/v1/lake/jobs?table={table}"),
        format!("/api/v1/lake/jobs/{job_id}"),
    ] {
        let r = app.get(other, &path).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        let body = r.text().await.unwrap();
        assert!(!body.contains("hukou.csv"), "{path} leaked the file name");
    }
    let jobs: Value = app.get_json(other, "/api/v1/lake/jobs").await;
    assert!(
        jobs.as_array()
            .unwrap()
            .iter()
            .all(|j| j["table_name"] != table),
        "another department's jobs (file names, hashes) are listed: {jobs}"
    );
    let tables: Value = app.get_json(other, "/api/v1/lake/tables").await;
    assert!(
        tables
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["spec"]["name"] != table),
        "another department's table is listed"
    );
    // The page too.
    let (browser, _) = browser_login(&app, "mz_officer", "Officer-Pass-2", "/home").await;
    let r = browser
        .get(app.url(&format!("/lake/tables/{table}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // And SQL, as before.
    let r = app
        .post(
            other,
            "/api/v1/lake/sql",
            json!({"sql": format!("SELECT count(*) FROM {table}")}),
        )
        .await;
    assert_ne!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn login_goes_on_only_to_a_page_of_this_server() {
    let app = TestApp::spawn().await;
    app.admin_token().await;
    for evil in [
        "/\t/evil.example/phish",
        "//evil.example/phish",
        "/\\evil.example",
        "https://evil.example/",
        "/%09/evil.example",
        "/no/such/page",
    ] {
        let (_, r) = browser_login(&app, "admin", crate::common::ADMIN_PW, evil).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{evil:?}");
        assert_eq!(r.headers()["location"], "/home", "{evil:?}");
    }
    let (_, r) = browser_login(&app, "admin", crate::common::ADMIN_PW, "/catalog?mine=1").await;
    assert_eq!(r.headers()["location"], "/catalog?mine=1");
    // The login page does not carry a bad `next` into its form either.
    let page = app
        .page(&app.client, "/login?next=%2F%09%2Fevil.example%2Fphish")
        .await;
    assert!(!page.contains("evil.example"));
}

#[tokio::test]
async fn a_page_prints_no_text_from_its_url() {
    let app = TestApp::spawn().await;
    app.admin_token().await;
    let bait = "系统升级请拨打400-000-0000";
    let enc: String = url::form_urlencoded::byte_serialize(bait.as_bytes()).collect();
    let page = app
        .page(&app.client, &format!("/login?err={enc}&ok={enc}"))
        .await;
    assert!(
        !page.contains(bait),
        "the login page printed the URL's text"
    );
    let (browser, _) = browser_login(&app, "admin", crate::common::ADMIN_PW, "/home").await;
    for path in [
        format!("/home?err={enc}"),
        format!("/home?ok={enc}"),
        format!("/home?flash={enc}"),
        format!("/system/users?err={enc}"),
        format!("/catalog?err={enc}"),
    ] {
        let html = app.page(&browser, &path).await;
        assert!(!html.contains(bait), "{path} printed the URL's text");
    }
    // A real refusal still reaches the next page, once, and only this session's.
    let page = app.page(&browser, "/system/dicts").await;
    let r = browser
        .post(app.url("/system/dicts"))
        .form(&[
            ("_csrf", csrf_of(&page).as_str()),
            ("name", ""),
            ("dict_key", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(to.contains("flash="), "{to}");
    let (someone_else, _) = browser_login(&app, "admin", crate::common::ADMIN_PW, "/home").await;
    let html = app.page(&someone_else, &to).await;
    assert!(
        !html.contains("class=\"flash"),
        "another session saw the message"
    );
    let html = app.page(&browser, &to).await;
    assert!(
        html.contains("class=\"flash err"),
        "the refusal is shown: {html}"
    );
    let html = app.page(&browser, &to).await;
    assert!(!html.contains("class=\"flash"), "the message is shown once");
}

#[tokio::test]
async fn three_officers_apart_only_the_auditor_reads_the_trail_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let auditor = app.auditor_token(&admin).await;
    let sysadmin = app.account_with_role(&admin, "sys_admin", "sysadmin").await;
    let (_, officers) = app
        .departments_with_officers(&admin, &[("聊城市公安局", "ga_officer")], 50)
        .await;
    let officer = &officers[0];

    // Who reads the trail and the login log.
    for (who, token, reads) in [
        ("super administrator", &admin, false),
        ("system administrator", &sysadmin, false),
        ("department officer", officer, false),
        ("security auditor", &auditor, true),
    ] {
        for path in [
            "/api/v1/audit",
            "/api/v1/audit?action=license.show",
            "/api/v1/login-log",
        ] {
            let r = app.get(token, path).await;
            let want = if reads {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(r.status(), want, "{who} {path}");
        }
    }
    // The auditor's trail shows what the administrators did, the auditor's appointment included.
    let log: Value = app
        .get_json(&auditor, "/api/v1/audit?action=user.create&size=50")
        .await;
    assert!(
        log["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["actor"] == "admin")
    );

    // The auditor changes nothing, not even with a role that would allow it.
    let city = app.dept_id(&auditor, "聊城市人民政府").await;
    let r = app
        .post(
            &auditor,
            "/api/v1/departments",
            json!({"parent_id": city, "name": "审计员建的部门", "division_code": "371500"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .post(
            &auditor,
            "/api/v1/roles",
            json!({"role_key": "x_role", "name": "x", "data_scope": "dept", "permissions": []}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // No role mixes reading the trail with changing data, and no account holds both.
    let r = app
        .post(&admin, "/api/v1/roles", json!({"role_key": "mixed", "name": "混合", "data_scope": "all", "permissions": ["monitor:operlog:list", "system:user:add"]}))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body = crate::common::error_body(r).await;
    assert_eq!(body["field"], "permissions");
    let auditor_role = shuju_store::roles::by_key(app.admin.store(), "auditor")
        .await
        .unwrap()
        .unwrap()
        .id;
    let officer_role = shuju_store::roles::by_key(app.admin.store(), "dept_officer")
        .await
        .unwrap()
        .unwrap()
        .id;
    let bureau = app.dept_id(&admin, "聊城市大数据局").await;
    let r = app
        .post(&admin, "/api/v1/users", json!({"username": "two_hats", "display_name": "两顶帽子", "dept_id": bureau, "role_ids": [auditor_role, officer_role], "password": "Initial-Pass-1"}))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(crate::common::error_body(r).await["field"], "role_ids");

    // The system administrator manages accounts but reads no data.
    let r = app.get(&sysadmin, "/api/v1/users").await;
    assert_eq!(r.status(), StatusCode::OK);
    for path in [
        "/api/v1/lake/tables",
        "/api/v1/persons/runs",
        "/api/v1/licenses",
    ] {
        let r = app.get(&sysadmin, path).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
}

/// An entry per opening attribute, published.
async fn entries_by_opening(app: &TestApp) -> Vec<(String, &'static str)> {
    let catalog = app.catalog().await;
    let sys = shuju_admin::Caller::system();
    let mut out = vec![];
    for (i, opening) in ["open", "conditional", "not_open"].into_iter().enumerate() {
        let src = &shuju_synth::sources::SOURCES[i];
        let code = app.publish_source(src, i as u64 + 1).await;
        let mut e = catalog.published(&code).await.unwrap();
        let kind: shuju_catalog::model::OpeningKind =
            serde_json::from_value(json!(opening)).unwrap();
        e.entry.opening = kind;
        for it in &mut e.entry.items {
            it.opening = kind;
        }
        if e.entry.sharing.kind == shuju_catalog::model::SharingKind::NotShared {
            e.entry.sharing = serde_json::from_value(
                json!({"kind": "conditional", "condition": "经审核", "methods": ["api"]}),
            )
            .unwrap();
        }
        let draft = catalog
            .update(&sys, e.row.id, e.entry.clone())
            .await
            .unwrap();
        catalog.submit(&sys, draft.row.id).await.unwrap();
        catalog.approve(&sys, draft.row.id).await.unwrap();
        out.push((code, opening));
    }
    // The server's search index takes up writes made outside it within a few seconds.
    let token = app.admin_token_again().await;
    for _ in 0..50 {
        let r: Value = app
            .get_json(&token, "/api/3/action/package_search?rows=0")
            .await;
        if r["result"]["count"] == json!(out.len()) {
            return out;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("the published entries did not reach the search index");
}

#[tokio::test]
async fn anonymous_callers_read_nothing_unless_the_open_data_setting_says_so() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    entries_by_opening(&app).await;
    for path in [
        "/metrics",
        "/api/v1/catalog/dcat",
        "/api/3/action/package_search",
        "/api/action/package_search?q=*:*",
        "/api/3/action/package_show?id=1",
    ] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    // Officials with a token read it all; a scraper needs the metrics permission.
    let r = app.get(&admin, "/metrics").await;
    assert_eq!(r.status(), StatusCode::OK);
    let r: Value = app
        .get_json(&admin, "/api/3/action/package_search?rows=10")
        .await;
    assert_eq!(r["result"]["count"], 3);
    let (_, officers) = app
        .departments_with_officers(&admin, &[("聊城市公安局", "ga_officer")], 60)
        .await;
    let r = app.get(&officers[0], "/metrics").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // A holder's account (a citizen or an enterprise agent) reads no official lists.
    let holder = app
        .account_with_role(&admin, "qiye_agent", "license_holder")
        .await;
    for path in [
        "/api/v1/dicts/by-key/sys_yes_no",
        "/api/v1/permissions",
        "/api/v1/catalog/template",
        "/api/v1/departments/template",
        "/metrics",
    ] {
        let r = app.get(&holder, path).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    // It reads the open-data catalog only, as the public would.
    let r: Value = app
        .get_json(&holder, "/api/3/action/package_search?rows=10")
        .await;
    assert_eq!(r["result"]["count"], 1);
}

#[tokio::test]
async fn the_open_data_face_publishes_only_what_may_be_opened() {
    let app = TestApp::spawn_with(shuju_web::WebConfig {
        open_data: true,
        ..Default::default()
    })
    .await;
    app.admin_token().await;
    let entries = entries_by_opening(&app).await;
    let r: Value = app
        .client
        .get(app.url("/api/3/action/package_search?rows=10"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["result"]["count"], 1, "{r}");
    let open = &entries[0].0;
    assert_eq!(
        r["result"]["results"][0]["extras"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["key"] == "resource_code")
            .unwrap()["value"],
        json!(open)
    );
    for (code, opening) in &entries {
        let name = code.replace('/', "-");
        let r = app
            .client
            .get(app.url(&format!("/api/3/action/package_show?id={name}")))
            .send()
            .await
            .unwrap();
        let want = if *opening == "open" {
            StatusCode::OK
        } else {
            StatusCode::NOT_FOUND
        };
        assert_eq!(r.status(), want, "{code} ({opening})");
    }
    // Every listing action of the CKAN face follows the same audience.
    let get = |path: &'static str| {
        let c = app.client.clone();
        let url = app.url(path);
        async move {
            c.get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let names = get("/api/3/action/package_list").await;
    assert_eq!(names["result"], json!([open.replace('/', "-")]), "{names}");
    let count = get("/api/3/action/package_search?rows=0").await;
    assert_eq!(
        (
            count["result"]["count"].clone(),
            count["result"]["results"].clone()
        ),
        (json!(1), json!([]))
    );
    let current = get("/api/3/action/current_package_list_with_resources?limit=100").await;
    assert_eq!(current["result"].as_array().unwrap().len(), 1, "{current}");
    let orgs = get("/api/3/action/organization_list").await;
    let mut shown = 0;
    for o in orgs["result"].as_array().unwrap() {
        let url = format!(
            "/api/3/action/organization_show?id={}&include_datasets=true",
            o.as_str().unwrap()
        );
        let org: Value = app
            .client
            .get(app.url(&url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            org["result"]["package_count"].as_u64().unwrap() as usize,
            org["result"]["packages"].as_array().unwrap().len()
        );
        shown += org["result"]["package_count"].as_u64().unwrap();
    }
    assert_eq!(shown, 1, "organizations show only what may be opened");
    let lic = get("/api/3/action/license_list").await;
    assert_eq!(lic["result"].as_array().unwrap().len(), 3);
    let dcat: Value = app
        .client
        .get(app.url("/api/v1/catalog/dcat"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let datasets = dcat["dcat:dataset"].as_array().unwrap();
    assert_eq!(datasets.len(), 1);
    assert!(
        datasets[0]["dct:accessRights"]["@id"]
            .as_str()
            .unwrap()
            .ends_with("/PUBLIC")
    );
    // Metrics stay closed: they have their own setting.
    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

const HOLDER: &str = "11010519491231002X";

fn driving(holder: &str) -> Value {
    json!({
        "type_key": "driving_licence", "holder_id": holder, "holder_name": "张三",
        "claims": {"name": "张三", "citizen_id": holder, "vehicle_class": "C1", "first_issued": "2015-03-01", "address": "聊城市东昌府区柳园街道"},
        "valid_until": "2031-03-01"
    })
}

#[tokio::test]
async fn no_license_route_shows_an_identifier_without_a_purpose() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let lic: Value = app
        .post_json(&admin, "/api/v1/licenses", driving(HOLDER))
        .await;
    let id = lic["id"].as_i64().unwrap();
    let (_, officers) = app
        .departments_with_officers(&admin, &[("聊城市公安局", "ga_officer")], 70)
        .await;
    let license_reader = app
        .account_with_role(&admin, "yg_approver", "approver")
        .await;
    // Every GET route of the license API, as an official with the license permission.
    let routes = [
        "/api/v1/licenses".to_owned(),
        format!("/api/v1/licenses?holder_id={HOLDER}"),
        "/api/v1/license-types".to_owned(),
        "/api/v1/license-matters".to_owned(),
        "/api/v1/licenses/status/1".to_owned(),
        "/api/v1/licenses/trust-list".to_owned(),
        "/api/v1/licenses/bundle".to_owned(),
        format!("/api/v1/licenses/{id}"),
    ];
    for token in [&admin, &license_reader] {
        for path in &routes {
            let r = app.get(token, path).await;
            let status = r.status();
            let body = r.text().await.unwrap();
            assert!(
                !body.contains(HOLDER) && !body.contains("柳园街道"),
                "{path} ({status}) shows the holder's identifier or claims: {body}"
            );
        }
    }
    // With a stated purpose, the issuing side reads it in full, audited with the purpose.
    let r = app
        .client
        .get(app.url(&format!("/api/v1/licenses/{id}")))
        .bearer_auth(&admin)
        .header("x-purpose", "%E6%A0%B8%E6%9F%A5") // 核查
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let full: Value = r.json().await.unwrap();
    assert_eq!(full["holder_id"], HOLDER);
    assert!(full["sd_jwt"].as_str().unwrap().contains('~'));
    let auditor = app.auditor_token(&admin).await;
    let log: Value = app
        .get_json(
            &auditor,
            &format!("/api/v1/audit?action=license.read&object_id={id}"),
        )
        .await;
    assert!(
        log["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["purpose"] == "核查"),
        "{log}"
    );
    // A department that did not issue it does not find it, purpose or not.
    let r = app
        .client
        .get(app.url(&format!("/api/v1/licenses/{id}")))
        .bearer_auth(&officers[0])
        .header("x-purpose", "x")
        .send()
        .await
        .unwrap();
    assert!(matches!(
        r.status(),
        StatusCode::NOT_FOUND | StatusCode::FORBIDDEN
    ));
}

#[tokio::test]
async fn a_copy_of_the_database_without_the_key_encryption_key_signs_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let lic: Value = app
        .post_json(&admin, "/api/v1/licenses", driving(HOLDER))
        .await;
    assert_eq!(lic["status"], "valid");
    // What the database holds: sealed keys only.
    let keys = shuju_store::license::keys(app.admin.store()).await.unwrap();
    assert!(!keys.is_empty());
    for k in &keys {
        assert!(
            shuju_license::kek::is_wrapped(&k.secret),
            "{} stored in clear",
            k.kid
        );
    }
    for (_, _, s) in shuju_store::license::holder_secrets(app.admin.store())
        .await
        .unwrap()
    {
        assert!(
            shuju_license::kek::is_wrapped(&s),
            "a holder key stored in clear"
        );
    }
    // The same database with another KEK: nothing signs.
    let thief = app
        .registry_under(std::sync::Arc::new(shuju_license::kek::LocalKek::random()))
        .await;
    let sys = shuju_admin::Caller::system();
    let d = driving("110105194912310118");
    let input = shuju_license::registry::IssueInput {
        type_key: "driving_licence".into(),
        holder_id: "110105194912310118".into(),
        holder_name: "李四".into(),
        claims: d["claims"].as_object().unwrap().clone(),
        valid_from: None,
        valid_until: None,
        holder_jwk: None,
    };
    let e = thief.issue(&sys, input, None).await.unwrap_err();
    assert_eq!(e.code, shuju_types::ErrorCode::Unavailable, "{e:?}");
    assert!(thief.status_token().await.is_err());
    let id = lic["id"].as_i64().unwrap();
    assert!(
        thief
            .show(&sys, id, "vehicle_entry_pass", "w", "nonce-0000001")
            .await
            .is_err()
    );

    // Rotating the KEK seals every key again; the old KEK then opens none of them.
    let new = shuju_license::kek::LocalKek::random();
    let owner = app.second_registry().await;
    let n = owner.reseal_under(&new).await.unwrap();
    assert!(n >= 3, "issuer keys and the holder key: {n}");
    let after = app.registry_under(std::sync::Arc::new(new)).await;
    assert!(after.status_token().await.is_ok());
    assert!(
        owner.status_token().await.is_err(),
        "the old KEK opens nothing"
    );
}

/// Every read path, for every kind of caller: no server error, and nothing of one department's
/// delivery (its file's name, a rejected row's values) reaches a caller outside that department's
/// scope, through the API or a page. The routes are the OpenAPI document's, so a new one is swept
/// too; path parameters take the department's own objects (its table, its job).
#[tokio::test]
async fn every_read_path_keeps_a_departments_delivery_in_its_scope() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (tokens, table, _) = registry_of_one_department(&app, &admin).await;
    let owner = &tokens[0];
    let jobs: Value = app.get_json(owner, "/api/v1/lake/jobs").await;
    let job = jobs[0]["id"].as_i64().unwrap().to_string();
    let q: Value = app
        .get_json(owner, &format!("/api/v1/lake/tables/{table}/quarantine"))
        .await;
    // A rejected row's citizen ID as its provider reads it: personal data no one else reads.
    let bad_id = q
        .as_array()
        .unwrap()
        .iter()
        .find_map(|r| {
            let raw = match &r["raw"] {
                Value::String(s) => serde_json::from_str::<Value>(s).ok()?,
                v => v.clone(),
            };
            // The citizen ID as the provider's officer reads it (masked: 371522********1451).
            raw.as_object()?
                .values()
                .filter_map(Value::as_str)
                .find(|v| v.len() == 18 && v.contains("********"))
                .map(str::to_owned)
        })
        .unwrap_or_else(|| panic!("a rejected row with its citizen ID: {q}"));
    let spec: Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fill = |path: &str| {
        path.replace("{name}", &table)
            .replace("{id}", &job)
            .replace("{table}", &table)
            .replace("{code}", "371500-T0201010000-01")
            .replace("{key}", "low_income")
            .replace("{grant_id}", "1")
            .replace("{delivery}", "1")
            .replace("{rule_set}", "low_income")
            .replace("{action}", "package_list")
    };
    let mut api = Vec::new();
    let mut pages = Vec::new();
    for (path, ops) in spec["paths"].as_object().unwrap() {
        if ops.get("get").is_none() || path.starts_with("/assets") || path.starts_with("/lang") {
            continue;
        }
        let is_page = ops["get"]["tags"]
            .as_array()
            .is_some_and(|t| t.contains(&json!("pages")));
        if is_page {
            pages.push(fill(path))
        } else {
            api.push(fill(path))
        }
    }
    assert!(
        api.len() > 60 && pages.len() > 30,
        "{} API routes, {} pages",
        api.len(),
        pages.len()
    );
    // The provider sees its own delivery (so the markers are there to find).
    let seen = app
        .get(owner, "/api/v1/lake/jobs")
        .await
        .text()
        .await
        .unwrap();
    assert!(seen.contains("hukou.csv"));

    // Callers outside the department: another department's officer, and the bureau's accounts
    // whose roles are scoped to their own department or to themselves, or read no data at all.
    let mut callers = vec![("mz_officer".to_owned(), tokens[1].clone(), "Officer-Pass-2")];
    for (user, role) in [
        ("clerk_x", "window_clerk"),
        ("approver_x", "approver"),
        ("holder_x", "license_holder"),
        ("sysadmin_x", "sysadmin"),
    ] {
        let t = app.account_with_role(&admin, user, role).await;
        callers.push((user.to_owned(), t, "Changed-Pass-2"));
    }
    // Roles that see every department: no server error, whatever they may read.
    let mut wide = Vec::new();
    for (user, role) in [
        ("auditor_x", "auditor"),
        ("reviewer_x", "catalog_reviewer"),
        ("identity_x", "identity_officer"),
        ("service_x", "service_admin"),
    ] {
        wide.push(app.account_with_role(&admin, user, role).await);
    }
    let mut problems = Vec::new();
    let mut judge = |what: String, status: StatusCode, body: &str| {
        if status.is_server_error() {
            problems.push(format!("{what}: {status}"));
        }
        for marker in ["hukou.csv", bad_id.as_str()] {
            if body.contains(marker) {
                problems.push(format!("{what}: shows {marker:?}"));
            }
        }
    };
    for (user, token, pw) in &callers {
        let (browser, _) = browser_login(&app, user, pw, "/home").await;
        for path in &api {
            let r = app.get(token, path).await;
            let status = r.status();
            judge(
                format!("{user} GET {path}"),
                status,
                &r.text().await.unwrap_or_default(),
            );
        }
        for path in &pages {
            let r = browser.get(app.url(path)).send().await.unwrap();
            let status = r.status();
            judge(
                format!("{user} page {path}"),
                status,
                &r.text().await.unwrap_or_default(),
            );
        }
    }
    for token in &wide {
        for path in &api {
            let r = app.get(token, path).await;
            if r.status().is_server_error() {
                problems.push(format!("a bureau role GET {path}: {}", r.status()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
