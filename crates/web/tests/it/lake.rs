//! The lake through the real server: set up a table for a published entry, deliver the synthetic
//! city's GBK household registry by upload, see rejects quarantined with reasons, deliver it
//! again, query with and without the right to see personal data, and the lake pages.

use crate::common::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn hukou_entry(app: &TestApp) -> String {
    app.publish_source(&shuju_synth::sources::SOURCES[0], 1)
        .await
}

async fn deliver(app: &TestApp, token: &str, code: &str, bytes: Vec<u8>) -> reqwest::Response {
    app.deliver(token, code, "hukou_registry.csv", bytes).await
}

#[tokio::test]
async fn a_delivery_through_the_api_is_validated_quarantined_upserted_and_queried_masked() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let code = hukou_entry(&app).await;
    let spec: Value = app
        .post_json(
            &token,
            "/api/v1/lake/tables",
            json!({"resource_code": code, "table": "gongan_hukou", "key": ["sfzh"], "on_invalid": {"sfzh": "reject"}}),
        )
        .await;
    assert_eq!(spec["columns"][0]["check"]["kind"], "citizen_id");

    let dir = tempfile::tempdir().unwrap();
    shuju_synth::city::generate(400, 9, dir.path(), |_| {}).unwrap();
    let bytes = std::fs::read(dir.path().join("gongan/hukou_registry.csv")).unwrap();
    let r = deliver(&app, &token, &code, bytes.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let first: Value = r.json().await.unwrap();
    assert_eq!(first["encoding"], "gb18030");
    assert_eq!(first["rows_read"], 400);
    let rejected = first["rejected"].as_u64().unwrap();
    assert!(rejected > 0, "the city puts wrong check digits in about 1%");
    assert_eq!(first["inserted"].as_u64().unwrap() + rejected, 400);

    // Quarantine: exactly the rejects, with the reason; IDs masked for a caller with the right
    // to see rejects but not personal data.
    let q: Value = app
        .get_json(&token, "/api/v1/lake/tables/gongan_hukou/quarantine")
        .await;
    assert_eq!(q.as_array().unwrap().len() as u64, rejected);
    // The city's bad IDs: a wrong check character, transposed digits, an impossible birth
    // date (a legacy 15-digit ID is widened and kept).
    let reasons: Vec<&str> = q
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons
            .iter()
            .all(|r| r.contains("check") || r.contains("birth date") || r.contains("province")),
        "{reasons:?}"
    );
    let csv = app
        .get(&token, "/api/v1/lake/tables/gongan_hukou/quarantine.csv")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(csv.lines().count() as u64, rejected + 1);

    // The same file again: nothing added, no new version.
    let again: Value = deliver(&app, &token, &code, bytes)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (again["inserted"].as_u64(), again["updated"].as_u64()),
        (Some(0), Some(0))
    );
    assert!(again["version"].is_null());
    let t: Value = app
        .get_json(&token, "/api/v1/lake/tables/gongan_hukou")
        .await;
    assert_eq!(t["table"]["rows"].as_u64().unwrap() + rejected, 400);
    assert_eq!(t["table"]["rejected"].as_u64(), Some(rejected));
    assert_eq!(t["history"].as_array().unwrap().len(), 1);
    assert!(t["quality"].as_array().unwrap().len() > 1);

    // SQL: a token that may query but not see personal data gets masked IDs.
    let tok: Value = app
        .post_json(
            &token,
            "/api/v1/tokens",
            json!({"name": "analyst", "scopes": ["lake:data:query"], "days": 1}),
        )
        .await;
    let analyst = tok["token"].as_str().unwrap();
    let body = json!({"sql": "SELECT sfzh, xm FROM gongan_hukou ORDER BY sfzh LIMIT 3"});
    let masked: Value = app
        .post_json(analyst, "/api/v1/lake/sql", body.clone())
        .await;
    assert_eq!(masked["masked"], true);
    let id = masked["rows"][0]["sfzh"].as_str().unwrap();
    assert!(id.contains("********"), "{id}");
    let raw: Value = app.post_json(&token, "/api/v1/lake/sql", body).await;
    assert_eq!(raw["masked"], false);
    assert!(!raw["rows"][0]["sfzh"].as_str().unwrap().contains('*'));
    let e = app
        .post(
            analyst,
            "/api/v1/lake/sql",
            json!({"sql": "DROP TABLE gongan_hukou"}),
        )
        .await;
    assert_eq!(e.status(), StatusCode::BAD_REQUEST);
    // The analyst may not deliver.
    let r = deliver(&app, analyst, &code, b"a\n1\n".to_vec()).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // An officer of another department may see the lake but not deliver another's data.
    let city = app.dept_id(&token, "聊城市人民政府").await;
    let d: Value = app
        .post_json(
            &token,
            "/api/v1/departments",
            json!({"parent_id": city, "name": "聊城市民政局", "division_code": "371500", "uscc": crate::common::uscc(77)}),
        )
        .await;
    let officer_role = shuju_store::roles::by_key(app.admin.store(), "dept_officer")
        .await
        .unwrap()
        .unwrap()
        .id;
    app.post(
        &token,
        "/api/v1/users",
        json!({"username": "mzj", "display_name": "mzj", "dept_id": d["id"], "role_ids": [officer_role], "password": "Officer-Pass-1"}),
    )
    .await;
    let officer = app
        .first_login("mzj", "Officer-Pass-1", "Officer-Pass-2")
        .await;
    assert_eq!(
        app.get(&officer, "/api/v1/lake/tables").await.status(),
        StatusCode::OK
    );
    let r = deliver(&app, &officer, &code, b"a\n1\n".to_vec()).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let e = crate::common::error_body(r).await;
    assert!(e["message"].as_str().unwrap().contains("data scope"), "{e}");

    // Pages: the table list with rows and rejects, the table page with quarantine and lineage.
    let (client, _) =
        crate::common::browser_login(&app, "admin", crate::common::ADMIN_PW, "/lake").await;
    let html = app.page(&client, "/lake").await;
    assert!(html.contains("gongan_hukou"), "{html}");
    assert!(html.contains("聊城市常住人口户籍登记信息"));
    let html = app.page(&client, "/lake/tables/gongan_hukou").await;
    assert!(html.contains("id=\"quarantine\""));
    assert!(html.contains("hukou_registry.csv"));
    let csrf = crate::common::csrf_of(&html);
    // The mapping editor: a department's own header for the ID column.
    let r = client
        .post(app.url("/lake/tables/gongan_hukou/mapping"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("key", "sfzh"),
            ("mapping", "身份证号 = sfzh\n"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let t: Value = app
        .get_json(&token, "/api/v1/lake/tables/gongan_hukou")
        .await;
    assert_eq!(t["table"]["spec"]["mapping"]["身份证号"], "sfzh");
    let page = client
        .post(app.url("/lake/sql"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("sql", "SELECT count(*) AS n FROM gongan_hukou"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("<td>{}</td>", 400 - rejected)),
        "{page}"
    );
}

/// Each department delivers through its own drop folder, made for the tables it provides: a
/// file there is loaded as that department; the same file in another department's folder for
/// that table is set aside with the reason.
#[tokio::test]
async fn each_department_delivers_through_its_own_drop_folder() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let city = app.gather(100, &["mzj_disability"]).await;
    let sys = shuju_admin::Caller::system();
    let store = app.admin.store();
    let spec = app.lake.spec(&sys, "mzj_disability").await.unwrap();
    let provider = shuju_store::catalog::entry_by_code(store, &spec.resource_code)
        .await
        .unwrap()
        .unwrap()
        .provider_dept_id;
    let depts = shuju_store::departments::all(store).await.unwrap();
    let code = depts
        .iter()
        .find(|d| d.id == provider)
        .and_then(|d| d.short_code.clone())
        .expect("the provider has a code");
    let drop = tempfile::tempdir().unwrap();
    assert!(app.lake.prepare_drop(drop.path()).await.unwrap() >= 1);
    let mine = drop.path().join(&code).join("mzj_disability");
    assert!(mine.is_dir(), "the provider's folder is made");
    // Another department's folder for the same table.
    let theirs = drop.path().join("OTHER").join("mzj_disability");
    std::fs::create_dir_all(&theirs).unwrap();
    let _: Value = app
        .post_json(
            &admin,
            "/api/v1/departments",
            json!({"parent_id": depts.iter().find(|d| d.parent_id.is_none()).unwrap().id, "name": "聊城市其他局",
                   "short_code": "OTHER", "division_code": "371500"}),
        )
        .await;
    let delivery = std::fs::read(city.path().join("mzj/disability.csv")).unwrap();
    std::fs::write(mine.join("disability.csv"), &delivery).unwrap();
    std::fs::write(theirs.join("disability.csv"), &delivery).unwrap();
    let mut seen = Default::default();
    assert_eq!(app.lake.scan_drop(drop.path(), &mut seen).await.len(), 0);
    let loads = app.lake.scan_drop(drop.path(), &mut seen).await;
    assert_eq!(loads.len(), 1, "only the provider's delivery loads");
    let jobs = app.lake.jobs(&sys, Some("mzj_disability")).await.unwrap();
    assert_eq!(jobs[0].actor, format!("drop-folder:{code}"));
    let failed: Vec<String> = std::fs::read_dir(theirs.join("failed"))
        .unwrap()
        .flatten()
        .map(|e| e.path().to_string_lossy().into_owned())
        .collect();
    let note = failed.iter().find(|p| p.ends_with(".error.txt")).unwrap();
    let reason = std::fs::read_to_string(note).unwrap();
    assert!(
        reason.contains("does not provide mzj_disability"),
        "{reason}"
    );
}

/// By default a value that fails its check keeps its row: the validated column is left empty (a
/// key column holds `!` and the value as written), the column and the reason are in `_flagged`,
/// the value as written in `_raw` — withheld from callers without the right to personal data;
/// the job, the quality page and the report count them; a value past its declared length is
/// flagged the same way.
#[tokio::test]
async fn values_failing_their_checks_are_kept_flagged_with_the_reason() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let code = hukou_entry(&app).await;
    app.post_json::<Value>(
        &token,
        "/api/v1/lake/tables",
        json!({"resource_code": code, "table": "gongan_hukou", "key": ["sfzh"]}),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    shuju_synth::city::generate(400, 9, dir.path(), |_| {}).unwrap();
    let bytes = std::fs::read(dir.path().join("gongan/hukou_registry.csv")).unwrap();
    let report: Value = deliver(&app, &token, &code, bytes)
        .await
        .json()
        .await
        .unwrap();
    let flagged = report["flagged"].as_u64().unwrap();
    assert!(flagged > 0, "{report}");
    assert_eq!(report["rejected"], 0, "nothing lost: {report}");
    assert_eq!(
        report["flagged_columns"]["sfzh"].as_u64(),
        Some(flagged),
        "{report}"
    );
    assert_eq!(report["inserted"].as_u64(), Some(400), "{report}");

    let q = json!({"sql": "SELECT sfzh, _flagged, _raw FROM gongan_hukou WHERE _flagged IS NOT NULL ORDER BY sfzh"});
    let rows: Value = app.post_json(&token, "/api/v1/lake/sql", q.clone()).await;
    let rows = rows["rows"].as_array().unwrap();
    assert_eq!(rows.len() as u64, flagged);
    for r in rows {
        let key = r["sfzh"].as_str().unwrap();
        let why: Value = serde_json::from_str(r["_flagged"].as_str().unwrap()).unwrap();
        let why = why["sfzh"].as_str().unwrap();
        let raw: Value = serde_json::from_str(r["_raw"].as_str().unwrap()).unwrap();
        let raw = raw["sfzh"].as_str().unwrap();
        if why.contains("widened") {
            // A legacy 15-digit ID: kept in its 18-digit form, the form as written set aside.
            assert_eq!(raw.len(), 15, "{raw}");
            assert!(shuju_types::CitizenId::parse(key).is_ok(), "{key}");
            assert_eq!(shuju_types::CitizenId::widen(raw).unwrap().as_str(), key);
        } else {
            assert!(key.starts_with('!'), "a surrogate key: {key}");
            assert!(
                why.contains("check") || why.contains("birth date") || why.contains("province"),
                "{why}"
            );
            assert_eq!(format!("!{raw}"), key);
        }
    }
    // A caller without the right to personal data sees the reasons, not the values.
    let tok: Value = app
        .post_json(
            &token,
            "/api/v1/tokens",
            json!({"name": "analyst", "scopes": ["lake:data:query"], "days": 1}),
        )
        .await;
    let masked: Value = app
        .post_json(tok["token"].as_str().unwrap(), "/api/v1/lake/sql", q)
        .await;
    for r in masked["rows"].as_array().unwrap() {
        assert!(r["_raw"].is_null(), "{r}");
        assert!(r["_flagged"].as_str().unwrap().contains("sfzh"));
    }
    // The quality page's figures count them per column.
    let t: Value = app
        .get_json(&token, "/api/v1/lake/tables/gongan_hukou")
        .await;
    let sfzh = t["quality"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["column_name"] == "sfzh")
        .unwrap();
    assert_eq!(sfzh["flagged"].as_u64(), Some(flagged), "{sfzh}");
    assert!(sfzh["validity_bp"].as_i64().unwrap() < 10_000);
    assert_eq!(t["jobs"][0]["flagged"].as_u64(), Some(flagged));
}
