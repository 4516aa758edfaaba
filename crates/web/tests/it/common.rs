//! `TestApp`: the real server on a random port with a fresh database.
#![allow(dead_code)]

use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use shuju_admin::Admin;
use shuju_store::testing::{self, TestDb};

pub const ADMIN_PW: &str = "Bureau-Secret-2026";

pub struct TestApp {
    pub base: String,
    pub client: Client,
    /// The one-time password made at first start.
    pub initial_password: String,
    pub db: TestDb,
    pub admin: Admin,
    pub lake: shuju_lake::Lake,
    /// The key-encryption key the server's license registry seals its keys under.
    pub kek: std::sync::Arc<dyn shuju_license::kek::KeyWrap>,
    /// The data folder and the lake's, removed when the app is dropped.
    pub lake_dir: tempfile::TempDir,
    _background: shuju_platform::Background,
}

impl TestApp {
    pub async fn catalog(&self) -> shuju_catalog::Catalog {
        shuju_catalog::Catalog::open(self.admin.clone(), Default::default())
            .await
            .unwrap()
    }

    /// Another license registry on the server's database, as a CLI beside the server opens
    /// one, under the server's key-encryption key.
    pub async fn second_registry(&self) -> shuju_license::registry::Licenses {
        self.registry_under(self.kek.clone()).await
    }

    /// A license registry on the server's database under key-encryption key `kek`.
    pub async fn registry_under(
        &self,
        kek: std::sync::Arc<dyn shuju_license::kek::KeyWrap>,
    ) -> shuju_license::registry::Licenses {
        shuju_license::registry::Licenses::open(self.admin.clone(), "http://shuju.test", kek)
            .await
            .expect("the registry opens (its keys need not)")
    }
}

impl TestApp {
    /// A server on SQLite.
    pub async fn spawn() -> TestApp {
        Self::spawn_on(testing::sqlite()).await
    }

    /// A server on PostgreSQL, when a test server is configured.
    pub async fn spawn_pg() -> Option<TestApp> {
        Some(Self::spawn_on(testing::postgres().await?).await)
    }

    pub async fn spawn_on(db: TestDb) -> TestApp {
        Self::spawn_configured(db, |_| {}).await
    }

    /// A server on SQLite with these web settings.
    pub async fn spawn_with(web: shuju_web::WebConfig) -> TestApp {
        Self::spawn_configured(testing::sqlite(), |c| c.web = web).await
    }

    /// A server on SQLite whose notices go to this SMTP relay and SMS gateway.
    pub async fn spawn_with_notices(notices: shuju_notify::NoticeConfig) -> TestApp {
        Self::spawn_configured(testing::sqlite(), |c| c.notices = notices).await
    }

    async fn spawn_configured(
        db: TestDb,
        configure: impl FnOnce(&mut shuju_platform::Config),
    ) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let kek_hex = shuju_license::kek::LocalKek::new_hex();
        let mut cfg = shuju_platform::Config {
            data_dir: dir.path().join("data"),
            database: Some(db.url.clone()),
            public_url: Some("http://shuju.test".into()),
            lake: Some(dir.path().join("lake").display().to_string()),
            kek: Some(kek_hex.clone()),
            ..Default::default()
        };
        configure(&mut cfg);
        let platform = shuju_platform::Platform::open(&cfg).await.unwrap();
        let initial_password = platform
            .first_password
            .clone()
            .expect("fresh database bootstraps");
        let background = platform.spawn_background();
        let (admin, lake) = (platform.admin.clone(), platform.lake.clone());
        tokio::spawn(async move {
            shuju_web::serve(listener, platform, std::future::pending())
                .await
                .unwrap();
        });
        let kek: std::sync::Arc<dyn shuju_license::kek::KeyWrap> =
            std::sync::Arc::new(shuju_license::kek::LocalKek::parse(&kek_hex).unwrap());
        TestApp {
            base: format!("http://{addr}"),
            client: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            initial_password,
            db,
            admin,
            lake,
            kek,
            lake_dir: dir,
            _background: background,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A page's HTML, fetched with a browser client (cookies kept).
    pub async fn page(&self, client: &Client, path: &str) -> String {
        client
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.client
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap()
    }

    /// Sign in as admin, changing the one-time password first; returns a bearer token.
    pub async fn admin_token(&self) -> String {
        self.first_login("admin", &self.initial_password.clone(), ADMIN_PW)
            .await
    }

    /// An account of the bureau with one built-in role (`auditor`, `sysadmin`, …), signed in.
    pub async fn account_with_role(&self, admin: &str, username: &str, role_key: &str) -> String {
        let again = self.login(username, "Changed-Pass-2").await;
        if again.status() == StatusCode::OK {
            let v: Value = again.json().await.unwrap();
            return v["token"].as_str().unwrap().to_owned();
        }
        let role = shuju_store::roles::by_key(self.admin.store(), role_key)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no built-in role {role_key}"))
            .id;
        let bureau = self.dept_id(admin, "聊城市大数据局").await;
        let r = self.post(admin, "/api/v1/users", json!({"username": username, "display_name": username, "dept_id": bureau, "role_ids": [role], "password": "Initial-Pass-1"})).await;
        assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
        self.first_login(username, "Initial-Pass-1", "Changed-Pass-2")
            .await
    }

    /// The security auditor (三员分立: the only reader of the audit trail), signed in.
    pub async fn auditor_token(&self, admin: &str) -> String {
        self.account_with_role(admin, "sec_auditor", "auditor")
            .await
    }

    /// Sign in as admin again, after [`TestApp::admin_token`] changed the password.
    pub async fn admin_token_again(&self) -> String {
        let v: Value = self.login("admin", ADMIN_PW).await.json().await.unwrap();
        v["token"].as_str().expect("admin signs in").to_owned()
    }

    /// Sign in with a password that must change, change it, and sign in again.
    pub async fn first_login(&self, username: &str, initial: &str, new: &str) -> String {
        let r: Value = self.login(username, initial).await.json().await.unwrap();
        let token = r["token"].as_str().expect("login token").to_owned();
        if r["must_change_password"] == json!(true) {
            let resp = self
                .post(
                    &token,
                    "/api/v1/auth/password",
                    json!({"old_password": initial, "new_password": new}),
                )
                .await;
            assert_eq!(resp.status(), StatusCode::OK, "{:?}", resp.text().await);
            let r: Value = self.login(username, new).await.json().await.unwrap();
            return r["token"].as_str().unwrap().to_owned();
        }
        token
    }

    pub async fn get(&self, token: &str, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn put(&self, token: &str, path: &str, body: Value) -> Response {
        self.client
            .put(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, token: &str, path: &str) -> Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// POST and decode the JSON answer.
    pub async fn post_json<T: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        path: &str,
        body: Value,
    ) -> T {
        self.post(token, path, body).await.json().await.unwrap()
    }

    /// GET and decode the JSON answer.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, token: &str, path: &str) -> T {
        self.get(token, path).await.json().await.unwrap()
    }

    /// PUT and decode the JSON answer.
    pub async fn put_json<T: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        path: &str,
        body: Value,
    ) -> T {
        self.put(token, path, body).await.json().await.unwrap()
    }

    /// Submit a catalog entry and have `reviewer` approve it; the approval's answer.
    pub async fn publish(&self, submitter: &str, reviewer: &str, id: i64) -> Value {
        self.post(
            submitter,
            &format!("/api/v1/catalog/entries/{id}/submit"),
            json!({}),
        )
        .await;
        self.post_json(
            reviewer,
            &format!("/api/v1/catalog/entries/{id}/approve"),
            json!({}),
        )
        .await
    }

    /// Departments under the city, each with a signed-in department officer: their IDs and the
    /// officers' tokens. `uscc_from` numbers the departments' credit codes.
    pub async fn departments_with_officers(
        &self,
        admin: &str,
        depts: &[(&str, &str)],
        uscc_from: u32,
    ) -> (Vec<i64>, Vec<String>) {
        let city = self.dept_id(admin, "聊城市人民政府").await;
        let officer = shuju_store::roles::by_key(self.admin.store(), "dept_officer")
            .await
            .unwrap()
            .unwrap()
            .id;
        let (mut ids, mut tokens) = (vec![], vec![]);
        for (i, (name, user)) in depts.iter().enumerate() {
            let d: Value = self.post_json(admin, "/api/v1/departments", json!({"parent_id": city, "name": name, "division_code": "371500", "uscc": uscc(uscc_from + i as u32)})).await;
            let id = d["id"].as_i64().unwrap();
            ids.push(id);
            self.post(admin, "/api/v1/users", json!({"username": user, "display_name": user, "dept_id": id, "role_ids": [officer], "password": "Officer-Pass-1"})).await;
            tokens.push(
                self.first_login(user, "Officer-Pass-1", "Officer-Pass-2")
                    .await,
            );
        }
        (ids, tokens)
    }

    /// The catalog entry of a synthetic-city source, created under the first department below
    /// the city, submitted and approved: its resource code.
    pub async fn publish_source(&self, src: &shuju_synth::sources::Source, seq: u64) -> String {
        let dept = self
            .admin
            .dept_tree()
            .await
            .unwrap()
            .depts
            .into_iter()
            .find(|d| d.parent_id.is_some())
            .expect("a department");
        self.publish_source_by(src, seq, dept.id).await
    }

    /// The catalog entry of a synthetic-city source provided by department `dept`, published:
    /// its resource code.
    pub async fn publish_source_by(
        &self,
        src: &shuju_synth::sources::Source,
        seq: u64,
        dept: i64,
    ) -> String {
        let catalog = self.catalog().await;
        let sys = shuju_admin::Caller::system();
        let dept = self
            .admin
            .dept_tree()
            .await
            .unwrap()
            .get(dept)
            .cloned()
            .expect("the department");
        let e = shuju_synth::sources::entry(
            src,
            &shuju_synth::catalog::Provider {
                id: dept.id,
                name: dept.name,
            },
            seq,
            catalog.coding(),
        )
        .unwrap();
        let created = catalog.create(&sys, e).await.unwrap();
        catalog.submit(&sys, created.row.id).await.unwrap();
        catalog.approve(&sys, created.row.id).await.unwrap();
        created.entry.code
    }

    /// Deliver a file to the table of entry `code` through the API.
    pub async fn deliver(
        &self,
        token: &str,
        code: &str,
        file_name: &str,
        bytes: Vec<u8>,
    ) -> Response {
        let form = reqwest::multipart::Form::new()
            .text("resource_code", code.to_owned())
            .text("file_name", file_name.to_owned())
            .part("file", reqwest::multipart::Part::bytes(bytes));
        self.client
            .post(self.url("/api/v1/lake/ingest"))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// The synthetic city (`persons` persons) gathered into the lake: each source (of `tables`;
    /// all when empty) set up for a published entry and its delivery loaded.
    pub async fn gather(&self, persons: usize, tables: &[&str]) -> tempfile::TempDir {
        let catalog = self.catalog().await;
        let sys = shuju_admin::Caller::system();
        let dir = tempfile::tempdir().unwrap();
        shuju_synth::city::generate(persons, 11, dir.path(), |_| {}).unwrap();
        for (i, src) in shuju_synth::sources::SOURCES.iter().enumerate() {
            let Some(file) = src.file else { continue };
            if !tables.is_empty() && !tables.contains(&src.table) {
                continue;
            }
            let code = self.publish_source(src, i as u64 + 1).await;
            shuju_catalog::lake::set_up(
                &catalog,
                &self.lake,
                &sys,
                &code,
                src.table,
                shuju_synth::sources::setup(src),
            )
            .await
            .unwrap();
            self.lake
                .ingest(
                    &sys,
                    &code,
                    &dir.path().join(file),
                    file,
                    Default::default(),
                )
                .await
                .unwrap();
        }
        dir
    }

    /// The id of the department with this name.
    pub async fn dept_id(&self, token: &str, name: &str) -> i64 {
        let v: Value = self
            .get(token, "/api/v1/departments?size=500")
            .await
            .json()
            .await
            .unwrap();
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == name)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    }
}

/// The JSON body of an error response, checked for the one error shape.
pub async fn error_body(r: Response) -> Value {
    let status = r.status();
    assert!(r.headers().contains_key("x-request-id"));
    let v: Value = r
        .json()
        .await
        .unwrap_or_else(|e| panic!("error body of {status} is not JSON: {e}"));
    assert!(v["code"].is_string(), "{v}");
    assert!(v["message"].is_string(), "{v}");
    assert_eq!(v["request_id"].as_str().map(str::len), Some(32), "{v}");
    v
}

/// A valid USCC of a government organ with this sequence number.
pub fn uscc(n: u32) -> String {
    shuju_admin::seed::organ_uscc("371500", 100 + n)
}

/// The CSRF token of the first form on a page.
pub fn csrf_of(html: &str) -> String {
    html.split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a form with a CSRF token")
        .to_owned()
}

/// A browser (cookies, no redirects followed) that signed in through the login form; also the
/// login form's answer.
pub async fn browser_login(
    app: &TestApp,
    username: &str,
    password: &str,
    next: &str,
) -> (Client, Response) {
    let client = Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = app.page(&client, "/login").await;
    let csrf = csrf_of(&page);
    let r = client
        .post(app.url("/login"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("username", username),
            ("password", password),
            ("next", next),
        ])
        .send()
        .await
        .unwrap();
    (client, r)
}
