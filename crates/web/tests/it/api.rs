//! The platform's API as a client sees it, against the real server.

use crate::common::{ADMIN_PW, TestApp, error_body, uscc};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn first_login_must_change_password_then_old_one_is_refused() {
    let app = TestApp::spawn().await;
    let r = app.login("admin", &app.initial_password).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["must_change_password"], json!(true));
    let token = v["token"].as_str().unwrap().to_owned();

    // Nothing else works until the password is changed.
    let r = app.get(&token, "/api/v1/departments").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_body(r).await["code"], "password_change_required");
    let me: Value = app.get_json(&token, "/api/v1/auth/me").await;
    assert_eq!(me["must_change_password"], json!(true));

    // A weak password is refused with the field named.
    let r = app
        .post(
            &token,
            "/api/v1/auth/password",
            json!({"old_password": app.initial_password, "new_password": "short"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_body(r).await["field"], "new_password");

    let r = app
        .post(
            &token,
            "/api/v1/auth/password",
            json!({"old_password": app.initial_password, "new_password": ADMIN_PW}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    let r = app.login("admin", &app.initial_password).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_body(r).await["code"], "unauthenticated");
    let v: Value = app.login("admin", ADMIN_PW).await.json().await.unwrap();
    assert_eq!(v["must_change_password"], json!(false));
    let token = v["token"].as_str().unwrap();
    assert_eq!(
        app.get(token, "/api/v1/departments").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn department_with_bad_uscc_is_refused_naming_the_field_and_both_are_audited() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let parent = app.dept_id(&token, "聊城市人民政府").await;
    let good = uscc(1);
    let mut bad = good.clone();
    // Change the check character.
    let last = bad.pop().unwrap();
    bad.push(if last == '0' { '1' } else { '0' });

    let r = app
        .post(&token, "/api/v1/departments", json!({"parent_id": parent, "name": "聊城市测试局", "division_code": "371500", "uscc": bad}))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e = error_body(r).await;
    assert_eq!(e["field"], "uscc");
    assert!(e["message"].as_str().unwrap().contains("uscc"), "{e}");

    let r = app
        .post(&token, "/api/v1/departments", json!({"parent_id": parent, "name": "聊城市测试局", "division_code": "371500", "uscc": good}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let d: Value = r.json().await.unwrap();
    assert_eq!(d["uscc"], good);

    let log: Value = app
        .get_json(
            &app.auditor_token(&token).await,
            "/api/v1/audit?action=department.create",
        )
        .await;
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{log}");
    assert_eq!(items[0]["outcome"], "ok");
    assert_eq!(items[0]["object_id"], d["id"].to_string());
    assert_eq!(items[1]["outcome"], "rejected");
    assert_eq!(items[1]["detail"], "field: uscc");
    assert_eq!(items[1]["actor"], "admin");
    // The refused value itself is never written to the log.
    assert!(!log.to_string().contains(&bad));

    // An unknown division and a missing parent are refused too.
    let r = app
        .post(
            &token,
            "/api/v1/departments",
            json!({"parent_id": parent, "name": "x", "division_code": "110101"}),
        )
        .await;
    assert_eq!(error_body(r).await["field"], "division_code");
    let r = app
        .post(
            &token,
            "/api/v1/departments",
            json!({"parent_id": 999_999, "name": "x", "division_code": "371500"}),
        )
        .await;
    assert_eq!(error_body(r).await["field"], "parent_id");
}

/// Departments A and B under the city; a role scoped to its own department; users in each.
async fn two_departments(app: &TestApp, token: &str) -> (i64, i64, i64, i64) {
    let city = app.dept_id(token, "聊城市人民政府").await;
    let mut ids = vec![];
    for (i, name) in ["甲局", "乙局"].iter().enumerate() {
        let r = app.post(token, "/api/v1/departments", json!({"parent_id": city, "name": name, "division_code": "371500", "uscc": uscc(10 + i as u32)})).await;
        assert_eq!(r.status(), StatusCode::OK);
        ids.push(r.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
    }
    let r = app
        .post(token, "/api/v1/roles", json!({"role_key": "own_dept", "name": "本部门查看", "data_scope": "dept", "permissions": ["system:user:list", "system:dept:list"]}))
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let role = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let mut users = vec![];
    for (u, d) in [("alice", ids[0]), ("bob", ids[1])] {
        let r = app
            .post(token, "/api/v1/users", json!({"username": u, "display_name": u, "dept_id": d, "role_ids": [role], "password": "Initial-Pass-1", "phone": "13812345678"}))
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
        users.push(
            r.json::<Value>().await.unwrap()["user"]["id"]
                .as_i64()
                .unwrap(),
        );
    }
    (ids[0], ids[1], users[0], users[1])
}

#[tokio::test]
async fn own_department_scope_hides_other_departments_users() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let (a, _b, alice, bob) = two_departments(&app, &token).await;
    let t = app
        .first_login("alice", "Initial-Pass-1", "Wonder-Pass-2026")
        .await;

    let v: Value = app.get_json(&t, "/api/v1/users").await;
    let names: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["alice"], "{v}");
    assert_eq!(
        v["items"][0]["phone"], "138****5678",
        "phones are masked in lists"
    );
    // Asking for B's users by department or by id finds nothing.
    let v: Value = app
        .get_json(&t, &format!("/api/v1/users?dept_id={}", _b))
        .await;
    assert_eq!(v["total"], 0, "{v}");
    let r = app.get(&t, &format!("/api/v1/users/{bob}")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app.get(&t, &format!("/api/v1/users/{alice}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    // Departments: only her own.
    let v: Value = app.get_json(&t, "/api/v1/departments").await;
    assert_eq!(
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![a]
    );
    // And she cannot create users (no permission): 403, audited as denied.
    let r = app
        .post(
            &t,
            "/api/v1/users",
            json!({"username": "eve", "display_name": "eve", "dept_id": a}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let log: Value = app
        .get_json(
            &app.auditor_token(&token).await,
            "/api/v1/audit?outcome=denied",
        )
        .await;
    assert!(
        log["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["actor"] == "alice" && r["action"] == "user.create"),
        "{log}"
    );
}

#[tokio::test]
async fn own_department_scope_on_the_users_page() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    two_departments(&app, &token).await;
    app.first_login("alice", "Initial-Pass-1", "Wonder-Pass-2026")
        .await;

    let (client, r) =
        crate::common::browser_login(&app, "alice", "Wonder-Pass-2026", "/system/users").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/system/users");
    let html = app.page(&client, "/system/users").await;
    let table = html
        .split("<table id=\"users\">")
        .nth(1)
        .unwrap()
        .split("</table>")
        .next()
        .unwrap();
    assert!(table.contains("<td>alice</td>"), "{table}");
    assert!(!table.contains("bob"), "{table}");
    // The department tree shows only her department.
    assert!(html.contains("甲局") && !html.contains("乙局"));
    // A page she has no permission for is not in her menu.
    assert!(!html.contains("/system/roles"));
}

#[tokio::test]
async fn bad_input_gets_clear_4xx_never_500() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let c = &app.client;
    let url = app.url("/api/v1/departments");

    let r = c
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        error_body(r).await["message"]
            .as_str()
            .unwrap()
            .contains("JSON")
    );

    let r = c
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({"name": "x", "division_code": "371500", "colour": "red"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        error_body(r).await["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `colour`")
    );

    let big = format!(
        "{{\"name\": \"{}\", \"division_code\": \"371500\"}}",
        "x".repeat(2 * 1024 * 1024)
    );
    let r = c
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_body(r).await["code"], "payload_too_large");

    let r = c
        .post(&url)
        .bearer_auth(&token)
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    error_body(r).await;

    let r = c.get(&url).bearer_auth("not-a-token").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_body(r).await["code"], "unauthenticated");
    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    error_body(r).await;

    let r = c
        .get(app.url("/api/v1/departments/abc"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    error_body(r).await;
    let r = c
        .get(app.url("/api/v1/departments?page=-1"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    error_body(r).await;
    let r = c
        .get(app.url("/api/v1/departments?bogus=1"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    error_body(r).await;
    let r = c.get(app.url("/api/v1/nothing-here")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    error_body(r).await;
    let r = c
        .patch(app.url("/api/v1/departments"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    error_body(r).await;

    // Every write route, fed garbage, answers 4xx.
    let spec: Value = c
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let garbage = [
        json!(null),
        json!([]),
        json!({"x": 1}),
        json!({"name": 7, "username": [], "division_code": {}}),
        json!("\u{0000}\u{ffff}"),
    ];
    for (path, ops) in spec["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/") {
            continue;
        }
        let concrete = path
            .replace("{id}", "1")
            .replace("{key}", "sys_normal_disable");
        for (method, op) in ops.as_object().unwrap() {
            let json_body = op["requestBody"]["content"]["application/json"].is_object();
            if !["post", "put"].contains(&method.as_str()) || !json_body {
                continue;
            }
            for g in &garbage {
                let req = if method == "post" {
                    c.post(app.url(&concrete))
                } else {
                    c.put(app.url(&concrete))
                };
                let r = req.bearer_auth(&token).json(g).send().await.unwrap();
                assert!(
                    r.status().is_client_error(),
                    "{method} {path} with {g} answered {}",
                    r.status()
                );
                error_body(r).await;
            }
        }
    }
}

#[tokio::test]
async fn repeated_failures_lock_the_account_and_are_logged() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        assert_eq!(
            app.login("admin", "wrong-password").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let r = app.login("admin", &app.initial_password).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error_body(r).await["code"], "rate_limited");
    let r = app.login("nobody", "x").await;
    assert_eq!(error_body(r).await["message"], "wrong username or password");
    let log = shuju_store::login_log::list(
        app.admin.store(),
        &Default::default(),
        shuju_store::Page::default(),
    )
    .await
    .unwrap();
    assert_eq!(log.total, 7);
    assert_eq!(log.items[1].outcome, "locked");
}

#[tokio::test]
async fn api_tokens_are_scoped_shown_once_and_revocable() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let r = app
        .post(
            &token,
            "/api/v1/tokens",
            json!({"name": "etl", "scopes": ["system:dept:list"], "days": 30}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let secret = v["token"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("shj_"));
    assert_eq!(
        app.get(&secret, "/api/v1/departments").await.status(),
        StatusCode::OK
    );
    // The token's scope limits it, even though the account is an administrator.
    assert_eq!(
        app.get(&secret, "/api/v1/users").await.status(),
        StatusCode::FORBIDDEN
    );
    // The list never shows the secret.
    let list = app
        .get(&token, "/api/v1/tokens")
        .await
        .text()
        .await
        .unwrap();
    assert!(!list.contains(&secret));
    let id = v["record"]["id"].as_i64().unwrap();
    assert_eq!(
        app.delete(&token, &format!("/api/v1/tokens/{id}"))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get(&secret, "/api/v1/departments").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let r = app
        .post(
            &token,
            "/api/v1/tokens",
            json!({"name": "x", "scopes": ["bad scope"], "days": 30}),
        )
        .await;
    assert_eq!(error_body(r).await["field"], "scopes");
}

#[tokio::test]
async fn browser_sessions_need_the_csrf_header_for_writes() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let cookie = format!("shuju_session={token}");
    let r = app
        .client
        .get(app.url("/api/v1/auth/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .client
        .post(app.url("/api/v1/dicts"))
        .header("cookie", &cookie)
        .json(&json!({"type_key": "x_y", "name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        error_body(r).await["message"]
            .as_str()
            .unwrap()
            .contains("CSRF")
    );
}

#[tokio::test]
async fn crud_of_users_roles_and_dictionaries() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let bureau = app.dept_id(&token, "聊城市大数据局").await;
    // Dictionaries.
    let d: Value = app
        .post_json(
            &token,
            "/api/v1/dicts",
            json!({"type_key": "sys_yes_no", "name": "是否"}),
        )
        .await;
    let did = d["id"].as_i64().unwrap();
    let i: Value = app
        .post_json(
            &token,
            &format!("/api/v1/dicts/{did}/items"),
            json!({"label": "是", "value": "Y", "color": "success"}),
        )
        .await;
    let r = app
        .post(
            &token,
            &format!("/api/v1/dicts/{did}/items"),
            json!({"label": "是", "value": "Y"}),
        )
        .await;
    assert_eq!(error_body(r).await["field"], "value");
    let r = app
        .post(
            &token,
            &format!("/api/v1/dicts/{did}/items"),
            json!({"label": "否", "value": "N", "color": "pink"}),
        )
        .await;
    assert_eq!(error_body(r).await["field"], "color");
    let iid = i["id"].as_i64().unwrap();
    assert_eq!(
        app.put(
            &token,
            &format!("/api/v1/dict-items/{iid}"),
            json!({"label": "是的", "value": "Y"})
        )
        .await
        .status(),
        StatusCode::OK
    );
    let v: Value = app
        .get_json(&token, "/api/v1/dicts/by-key/sys_yes_no")
        .await;
    assert_eq!(v["items"][0]["label"], "是的");
    assert_eq!(
        app.delete(&token, &format!("/api/v1/dict-items/{iid}"))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.delete(&token, &format!("/api/v1/dicts/{did}"))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get(&token, "/api/v1/dicts/by-key/sys_yes_no")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // Roles: a user cannot be handed what the granter lacks; update and delete work.
    let r: Value = app.post_json(&token, "/api/v1/roles", json!({"role_key": "viewer", "name": "查看", "data_scope": "custom", "dept_ids": [bureau], "permissions": ["system:dept:list"]})).await;
    let rid = r["id"].as_i64().unwrap();
    assert_eq!(r["dept_ids"], json!([bureau]));
    let r = app
        .post(
            &token,
            "/api/v1/roles",
            json!({"role_key": "bad", "name": "x", "data_scope": "custom", "permissions": []}),
        )
        .await;
    assert_eq!(error_body(r).await["field"], "dept_ids");
    let r: Value = app.put_json(&token, &format!("/api/v1/roles/{rid}"), json!({"role_key": "ignored", "name": "查看2", "data_scope": "dept", "permissions": ["system:dept:list", "system:user:list"]})).await;
    assert_eq!(
        (r["role_key"].as_str(), r["name"].as_str()),
        (Some("viewer"), Some("查看2"))
    );

    // Users: created with a one-time password, updated, reset, deleted.
    let r: Value = app.post_json(&token, "/api/v1/users", json!({"username": "carol", "display_name": "卡罗", "dept_id": bureau, "role_ids": [rid]})).await;
    let uid = r["user"]["id"].as_i64().unwrap();
    let pw = r["initial_password"].as_str().unwrap().to_owned();
    assert_eq!(r["user"]["must_change_password"], json!(true));
    let u: Value = app.put_json(&token, &format!("/api/v1/users/{uid}"), json!({"username": "x", "display_name": "卡罗尔", "dept_id": bureau, "phone": "13900001111", "role_ids": [rid]})).await;
    assert_eq!(u["display_name"], "卡罗尔");
    let full: Value = app
        .client
        .get(app.url(&format!("/api/v1/users/{uid}")))
        .bearer_auth(&token)
        .header("x-purpose", "%E8%B4%A6%E5%8F%B7%E6%A0%B8%E6%9F%A5") // 账号核查
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(full["phone"], "13900001111", "one user is read in full");
    assert_eq!(full["role_ids"], json!([rid]));
    let r = app
        .put(
            &token,
            &format!("/api/v1/users/{uid}"),
            json!({"username": "x", "display_name": "c", "dept_id": bureau, "phone": "12345"}),
        )
        .await;
    assert_eq!(error_body(r).await["field"], "phone");
    let reset: Value = app
        .post_json(
            &token,
            &format!("/api/v1/users/{uid}/reset-password"),
            json!({}),
        )
        .await;
    assert_ne!(reset["password"].as_str().unwrap(), pw);
    assert_eq!(
        app.login("carol", &pw).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("carol", reset["password"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );
    let r = app
        .post(
            &token,
            "/api/v1/users",
            json!({"username": "carol", "display_name": "c", "dept_id": bureau}),
        )
        .await;
    assert_eq!(error_body(r).await["field"], "username");
    assert_eq!(
        app.delete(&token, &format!("/api/v1/users/{uid}"))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get(&token, &format!("/api/v1/users/{uid}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete(&token, &format!("/api/v1/roles/{rid}"))
            .await
            .status(),
        StatusCode::OK
    );
    // A department with users cannot be removed.
    let r = app
        .delete(&token, &format!("/api/v1/departments/{bureau}"))
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    // The reads of personal data (one user in full) are audited.
    let log: Value = app
        .get_json(
            &app.auditor_token(&token).await,
            "/api/v1/audit?action=user.read&outcome=ok",
        )
        .await;
    assert_eq!(log["total"], 1);
    assert_eq!(log["items"][0]["purpose"], "账号核查");
    let v: Value = app.get_json(&token, "/api/v1/divisions?history=true").await;
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .any(|d| d["code"] == "371523" && d["valid_to"] == "2019")
    );
}

#[tokio::test]
async fn excel_import_reports_bad_rows_and_imports_nothing_unless_asked() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let r = app
        .client
        .get(app.url("/api/v1/departments/template"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));

    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let good_uscc = uscc(40);
    let rows = [
        [
            "部门名称",
            "上级部门",
            "行政区划代码",
            "统一社会信用代码",
            "部门编码",
            "负责人",
            "联系电话",
            "状态",
            "排序",
        ],
        [
            "阳谷县教育局",
            "聊城市人民政府",
            "371521",
            good_uscc.as_str(),
            "YGJY",
            "张三",
            "0635-1",
            "正常",
            "1",
        ],
        [
            "阳谷县某某中心",
            "阳谷县教育局",
            "371521",
            "",
            "",
            "",
            "",
            "停用",
            "2",
        ],
        [
            "错误行",
            "聊城市人民政府",
            "371521",
            "913715000000000001",
            "",
            "",
            "",
            "正常",
            "3",
        ],
        [
            "没有上级",
            "不存在的部门",
            "371521",
            "",
            "",
            "",
            "",
            "正常",
            "4",
        ],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32, c as u16, *v).unwrap();
        }
    }
    let bytes = wb.save_to_buffer().unwrap();
    let upload = |partial: bool| {
        let form = reqwest::multipart::Form::new()
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes.clone()).file_name("d.xlsx"),
            )
            .text("partial", partial.to_string());
        app.client
            .post(app.url("/api/v1/departments/import"))
            .bearer_auth(&token)
            .multipart(form)
            .send()
    };
    let rep: Value = upload(false).await.unwrap().json().await.unwrap();
    assert_eq!(rep["rejected"], json!(true));
    assert_eq!(rep["imported"], 0);
    let errs = rep["errors"].as_array().unwrap();
    assert_eq!(
        errs.iter()
            .map(|e| (e["row"].as_i64().unwrap(), e["field"].as_str().unwrap()))
            .collect::<Vec<_>>(),
        vec![(4, "uscc"), (5, "parent")]
    );
    let before: Value = app.get_json(&token, "/api/v1/departments").await;
    assert_eq!(before["total"], 2, "nothing imported");

    let rep: Value = upload(true).await.unwrap().json().await.unwrap();
    assert_eq!(
        (rep["rejected"].clone(), rep["imported"].clone()),
        (json!(false), json!(2))
    );
    let child = app.dept_id(&token, "阳谷县某某中心").await;
    let parent = app.dept_id(&token, "阳谷县教育局").await;
    let c: Value = app
        .get_json(&token, &format!("/api/v1/departments/{child}"))
        .await;
    assert_eq!(
        (c["parent_id"].as_i64(), c["status"].as_str()),
        (Some(parent), Some("disabled"))
    );

    // Export, then import the export: every row is refused as already present.
    let x = app
        .get(&token, "/api/v1/departments/export")
        .await
        .bytes()
        .await
        .unwrap();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(x.to_vec()).file_name("x.xlsx"),
    );
    let rep: Value = app
        .client
        .post(app.url("/api/v1/departments/import"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rep["rows"], 4);
    assert!(
        rep["errors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["field"] == "name"),
        "{rep}"
    );

    // Not a workbook at all.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"hello".to_vec()).file_name("x.xlsx"),
    );
    let r = app
        .client
        .post(app.url("/api/v1/departments/import"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r).await["field"], "file");
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "ready");
    let m = app.get(&token, "/metrics").await.text().await.unwrap();
    assert!(m.contains("shuju_http_requests_total"), "{m}");
    assert!(m.contains("route=\"/healthz\""), "{m}");
}

#[tokio::test]
async fn the_main_flows_work_on_postgresql_too() {
    let Some(app) = TestApp::spawn_pg().await else {
        return;
    };
    let token = app.admin_token().await;
    let (_, _, _, bob) = two_departments(&app, &token).await;
    let t = app
        .first_login("alice", "Initial-Pass-1", "Wonder-Pass-2026")
        .await;
    assert_eq!(
        app.get(&t, &format!("/api/v1/users/{bob}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let report = shuju_store::audit::verify(app.admin.store()).await.unwrap();
    assert!(report.is_whole(), "{:?}", report.broken);
    assert!(report.records > 5);
}

#[tokio::test]
async fn an_officer_cannot_take_over_a_more_privileged_account() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let bureau = app.dept_id(&token, "聊城市大数据局").await;
    let officer_role = shuju_store::roles::by_key(app.admin.store(), "dept_officer")
        .await
        .unwrap()
        .unwrap()
        .id;
    let r = app
        .post(&token, "/api/v1/users", json!({"username": "officer1", "display_name": "o", "dept_id": bureau, "role_ids": [officer_role], "password": "Officer-Pass-1"}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let t = app
        .first_login("officer1", "Officer-Pass-1", "Officer-Pass-2")
        .await;
    let admin_id = shuju_store::users::by_username(app.admin.store(), "admin")
        .await
        .unwrap()
        .unwrap()
        .id;
    // The administrator is in the officer's department, so visible, but not manageable.
    assert_eq!(
        app.get(&t, &format!("/api/v1/users/{admin_id}"))
            .await
            .status(),
        StatusCode::OK
    );
    let r = app
        .post(
            &t,
            &format!("/api/v1/users/{admin_id}/reset-password"),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .put(
            &t,
            &format!("/api/v1/users/{admin_id}"),
            json!({"username": "admin", "display_name": "x", "dept_id": bureau}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Nor can the officer hand out the administrator role.
    let admin_role = shuju_store::roles::by_key(app.admin.store(), "admin")
        .await
        .unwrap()
        .unwrap()
        .id;
    let r = app.post(&t, "/api/v1/users", json!({"username": "sneaky", "display_name": "s", "dept_id": bureau, "role_ids": [admin_role]})).await;
    assert_eq!(error_body(r).await["field"], "role_ids");
    assert_eq!(
        app.login("admin", crate::common::ADMIN_PW).await.status(),
        StatusCode::OK
    );
}
