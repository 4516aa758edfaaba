//! The OpenAPI document lists every route the server has, and the pages render.

use crate::common::TestApp;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn openapi_is_3_1_and_every_documented_route_exists() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let spec: Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        spec["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        spec["openapi"]
    );
    assert!(spec["info"]["title"].is_string());
    let paths = spec["paths"].as_object().unwrap();
    let mut n = 0;
    for (path, ops) in paths {
        assert!(
            !path.contains('*') && !path.contains(':'),
            "{path} is not an OpenAPI path template"
        );
        let concrete = path
            .replace("{id}", "1")
            .replace("{key}", "sys_normal_disable")
            .replace("{file}", "app.css")
            .replace("{code}", "en");
        for (method, op) in ops.as_object().unwrap() {
            n += 1;
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{method} {path} has no tag"
            );
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path} documents no response"
            );
            // Every path parameter in the template is declared.
            for seg in path.split('/').filter(|s| s.starts_with('{')) {
                let name = seg.trim_matches(|c| c == '{' || c == '}');
                assert!(
                    op["parameters"].as_array().is_some_and(|ps| ps
                        .iter()
                        .any(|p| p["name"] == name && p["in"] == "path")),
                    "{method} {path} does not declare {name}"
                );
            }
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = app
                .client
                .request(m, app.url(&concrete))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            let status = r.status();
            assert_ne!(
                status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is documented but not served"
            );
            if status == StatusCode::NOT_FOUND {
                let body = r.text().await.unwrap();
                assert!(
                    !body.contains("no such route"),
                    "{method} {path} is documented but not routed"
                );
            }
            assert!(
                !status.is_server_error(),
                "{method} {path} answered {status}"
            );
        }
    }
    assert!(n >= 60, "only {n} operations documented");
    // And the other way round: routes the server answers are in the document.
    for (method, path) in [
        ("get", "/healthz"),
        ("get", "/metrics"),
        ("get", "/api/docs"),
        ("post", "/api/v1/auth/login"),
        ("get", "/system/users"),
        ("get", "/assets/vendor/{file}"),
    ] {
        assert!(
            spec["paths"][path][method].is_object(),
            "{method} {path} missing from the document"
        );
    }
}

async fn signed_in_browser(app: &TestApp) -> reqwest::Client {
    app.admin_token().await;
    let (client, r) =
        crate::common::browser_login(app, "admin", crate::common::ADMIN_PW, "/home").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    client
}

#[tokio::test]
async fn every_page_renders_in_both_languages() {
    let app = TestApp::spawn().await;
    let client = signed_in_browser(&app).await;
    let pages = [
        "/home",
        "/system/depts",
        "/system/users",
        "/system/roles",
        "/system/dicts",
        "/system/dicts/1",
        "/password",
        "/system/depts?edit=1",
        "/system/users?edit=1",
        "/api/docs",
        "/catalog",
        "/catalog?mine=1&status=draft",
        "/catalog/new",
        "/catalog/review",
        "/catalog/corrections",
        "/catalog/corrections?view=mine",
        "/catalog/systems",
        "/licenses",
        "/licenses/verify",
        "/exchange",
        "/exchange?view=to_check",
        "/exchange?view=to_answer",
        "/projects",
        "/data-use",
        "/data-use?subject=371502198005060012",
        "/exchange/usage",
        "/exchange/usage?days=365",
        "/persons/reviews?kind=enterprise",
    ];
    for p in pages {
        let r = client.get(app.url(p)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{p}");
        let html = r.text().await.unwrap();
        assert!(html.contains("<html"), "{p}");
        if p != "/api/docs" {
            assert!(html.contains("数聚"), "{p} is not zh-CN by default");
        }
    }
    // The logs are the security auditor's pages (三员分立).
    let admin = app.admin_token_again().await;
    app.auditor_token(&admin).await;
    let (auditor, _) =
        crate::common::browser_login(&app, "sec_auditor", "Changed-Pass-2", "/home").await;
    for p in ["/monitor/operlog", "/monitor/logininfor"] {
        let r = auditor.get(app.url(p)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{p}");
        assert!(r.text().await.unwrap().contains("数聚"), "{p}");
        let r = client.get(app.url(p)).send().await.unwrap();
        assert_ne!(r.status(), StatusCode::OK, "the administrator reads {p}");
    }
    // Switch to English.
    let r = client
        .get(app.url("/lang/en"))
        .header("referer", app.url("/system/depts"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/system/depts");
    let html = app.page(&client, "/system/depts").await;
    assert!(
        html.contains("Departments") && html.contains("Sign out"),
        "English page"
    );
    let home = app.page(&client, "/home").await;
    assert!(home.contains("County-level divisions"));

    // The vendored libraries are served from the binary.
    for a in [
        "/assets/vendor/htmx.min.js",
        "/assets/vendor/swagger-ui-bundle.js",
        "/assets/app.css",
    ] {
        let r = client.get(app.url(a)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{a}");
    }
    // An unknown page answers 404 as HTML for browsers.
    let r = client
        .get(app.url("/no/such/page"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains("404"));
}

#[tokio::test]
async fn pages_redirect_to_login_and_forms_need_the_csrf_token() {
    let app = TestApp::spawn().await;
    let r = app
        .client
        .get(app.url("/system/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login?next=%2Fsystem%2Fusers");

    let client = signed_in_browser(&app).await;
    let city_form = [
        ("name", "表单新建局"),
        ("parent_id", "1"),
        ("division_code", "371500"),
        ("status", "active"),
    ];
    let r = client
        .post(app.url("/system/depts"))
        .form(&city_form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "no CSRF token");
    let html = app.page(&client, "/system/depts").await;
    let csrf = html
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let mut with = city_form.to_vec();
    with.push(("_csrf", &csrf));
    let r = client
        .post(app.url("/system/depts"))
        .form(&with)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app.page(&client, "/system/depts").await;
    assert!(html.contains("表单新建局"));
    // A refused form comes back with the reason.
    let bad = [
        ("name", "x"),
        ("parent_id", "1"),
        ("division_code", "371500"),
        ("uscc", "12345"),
        ("_csrf", csrf.as_str()),
    ];
    let r = client
        .post(app.url("/system/depts"))
        .form(&bad)
        .send()
        .await
        .unwrap();
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    let html = app.page(&client, &to).await;
    assert!(html.contains("uscc：须为 18 位（GB 32100）"), "{to}");
}

/// A page's error is a page in the reader's language, with what to do next, never the API's JSON
/// body; an API caller gets Chinese messages by asking for them.
#[tokio::test]
async fn errors_are_pages_in_the_readers_language() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.account_with_role(&admin, "qiye_agent", "license_holder")
        .await;
    let (browser, _) =
        crate::common::browser_login(&app, "qiye_agent", "Changed-Pass-2", "/home").await;
    let html = |r: reqwest::Response| async move {
        let status = r.status();
        let kind = r.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(kind.starts_with("text/html"), "{kind}");
        (status, r.text().await.unwrap())
    };
    // The agent's workbench: what waits for it, never the bureau's internal figures.
    let home = app.page(&browser, "/home").await;
    assert!(
        home.contains("id=\"workbench\"") && home.contains("工作台"),
        "{home}"
    );
    assert!(
        !home.contains("id=\"figures\"") && !home.contains("审计记录"),
        "{home}"
    );
    let (bureau, _) =
        crate::common::browser_login(&app, "admin", crate::common::ADMIN_PW, "/home").await;
    let home = app.page(&bureau, "/home").await;
    assert!(
        home.contains("id=\"figures\""),
        "the bureau sees the figures: {home}"
    );
    // An official page an enterprise agent opens: denied, and how to ask.
    let r = browser
        .get(app.url("/rules"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    let (status, page) = html(r).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        page.contains("无权访问") && page.contains("申请共享"),
        "{page}"
    );
    assert!(page.contains("缺少权限"), "the reason, in Chinese: {page}");
    assert!(
        !page.contains("\"code\"") && !page.contains("missing permission"),
        "{page}"
    );
    // A form without its token, and an unknown address.
    let r = browser
        .post(app.url("/password"))
        .header("accept", "text/html")
        .form(&[("old_password", "x")])
        .send()
        .await
        .unwrap();
    let (status, page) = html(r).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("安全令牌"), "{page}");
    let r = browser
        .get(app.url("/no/such/page"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    let (status, page) = html(r).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("没有这个地址"), "{page}");
    // The English page, for a reader who chose English.
    let r = app
        .client
        .get(app.url("/no/such/page"))
        .header("accept", "text/html")
        .header("cookie", "shuju_lang=en")
        .send()
        .await
        .unwrap();
    let (_, page) = html(r).await;
    assert!(
        page.contains("no such route") && !page.contains("没有这个地址"),
        "{page}"
    );
    // The API answers in English unless asked for Chinese.
    for (lang, says) in [
        (None, "no such route"),
        (Some("zh-CN,zh;q=0.9"), "没有这个地址"),
    ] {
        let mut q = app.client.get(app.url("/api/v1/no/such/route"));
        if let Some(l) = lang {
            q = q.header("accept-language", l);
        }
        let body = crate::common::error_body(q.send().await.unwrap()).await;
        assert_eq!(body["message"], says, "{lang:?}");
        assert_eq!(body["code"], "not_found");
    }
}

/// Every JSON response names its schema: a component, or an array or map of one.
fn named(schema: &Value) -> bool {
    if schema.get("$ref").is_some() {
        return true;
    }
    if let Some(items) = schema.get("items") {
        return named(items);
    }
    if let Some(v) = schema.get("additionalProperties").filter(|v| v.is_object()) {
        return named(v);
    }
    // `Option<T>` comes out as oneOf [null, T].
    if let Some(alts) = schema.get("oneOf").and_then(Value::as_array) {
        return alts
            .iter()
            .all(|a| a.get("type") == Some(&Value::from("null")) || named(a));
    }
    false
}

/// The document as reviewed: `crates/web/tests/openapi.snapshot.json`. A change to the API shows
/// in review as a change to that file; `UPDATE_SNAPSHOTS=1 cargo test -p shuju-web --test it
/// openapi_snapshot` writes it anew.
#[test]
fn openapi_snapshot_names_a_schema_for_every_response() {
    let doc = serde_json::to_value(shuju_web::openapi_document()).unwrap();
    let mut unnamed = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let Some(responses) = op.get("responses").and_then(Value::as_object) else {
                continue;
            };
            let page = op["tags"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t == "pages"));
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            let input = op.get("requestBody").is_some()
                || op["parameters"].as_array().is_some_and(|p| !p.is_empty());
            if !page && secured && !responses.contains_key("401") {
                unnamed.push(format!("{method} {path}: 401 undocumented"));
            }
            if !page && input && !responses.contains_key("400") {
                unnamed.push(format!("{method} {path}: 400 undocumented"));
            }
            for (status, r) in responses {
                let Some(content) = r.get("content").and_then(Value::as_object) else {
                    continue;
                };
                for (mime, c) in content {
                    if !mime.contains("json") {
                        continue;
                    }
                    if !c.get("schema").is_some_and(named) {
                        unnamed.push(format!("{method} {path} {status} {mime}"));
                    }
                }
            }
        }
    }
    assert!(
        unnamed.is_empty(),
        "responses without a named schema, or statuses undocumented:\n{}",
        unnamed.join("\n")
    );
    let text = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/openapi.snapshot.json");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&file, &text).unwrap();
        return;
    }
    let before = std::fs::read_to_string(&file).unwrap_or_default();
    if before != text {
        let first = before
            .lines()
            .zip(text.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(before.lines().count().min(text.lines().count()));
        panic!(
            "the API changed (first difference at line {}): review it and run \
             UPDATE_SNAPSHOTS=1 cargo test -p shuju-web --test it openapi_snapshot",
            first + 1
        );
    }
}
