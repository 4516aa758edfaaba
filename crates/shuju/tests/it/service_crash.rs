//! `kill -9` of the server during a burst of case transitions: every transition the server
//! acknowledged is there after the restart, and every case folds from its events to the state
//! stored beside them.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_shuju");
const CASES: usize = 40;
const STAGES: usize = 6;

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[allow(clippy::zombie_processes)] // the Server's Drop kills and waits
fn serve(dir: &std::path::Path) -> Server {
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--data-dir",
            dir.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start shuju");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("open http://").nth(1) {
                let _ = tx.send(rest.split('/').next().unwrap_or_default().to_owned());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("shuju listens");
    Server {
        child,
        base: format!("http://{addr}"),
    }
}

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn call(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> (u16, Value) {
        let mut r = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(token);
        if method != reqwest::Method::GET {
            r = r.json(&body);
        }
        match r.send().await {
            Ok(r) => (r.status().as_u16(), r.json().await.unwrap_or(Value::Null)),
            Err(_) => (0, Value::Null),
        }
    }
    async fn post(&self, token: &str, path: &str, body: Value) -> Value {
        let (s, v) = self.call(token, reqwest::Method::POST, path, body).await;
        assert_eq!(s, 200, "{path}: {v}");
        v
    }
    async fn get(&self, token: &str, path: &str) -> Value {
        let (s, v) = self
            .call(token, reqwest::Method::GET, path, Value::Null)
            .await;
        assert_eq!(s, 200, "{path}: {v}");
        v
    }
    /// Sign in, changing a password that must change.
    async fn sign_in(&self, user: &str, pw: &str) -> String {
        let (_, v) = self
            .call(
                "",
                reqwest::Method::POST,
                "/api/v1/auth/login",
                json!({"username": user, "password": pw}),
            )
            .await;
        let token = v["token"]
            .as_str()
            .unwrap_or_else(|| panic!("{v}"))
            .to_owned();
        if v["must_change_password"] == json!(true) {
            self.post(
                &token,
                "/api/v1/auth/password",
                json!({"old_password": pw, "new_password": "Changed-Pass-2"}),
            )
            .await;
            let (_, v) = self
                .call(
                    "",
                    reqwest::Method::POST,
                    "/api/v1/auth/login",
                    json!({"username": user, "password": "Changed-Pass-2"}),
                )
                .await;
            return v["token"].as_str().unwrap().to_owned();
        }
        token
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_a_burst_of_transitions_loses_no_acknowledged_event() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let s = serve(&d);
    let api = Api {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap(),
        base: s.base.clone(),
    };
    let pw = std::fs::read_to_string(d.join("initial-admin-password")).unwrap();
    let admin = api.sign_in("admin", pw.trim()).await;
    let roles = api.get(&admin, "/api/v1/roles?size=100").await;
    let approver = roles["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role_key"] == "approver")
        .unwrap()["id"]
        .clone();
    let depts = api.get(&admin, "/api/v1/departments?size=100").await;
    let bureau = depts["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "聊城市大数据局")
        .unwrap()["id"]
        .clone();
    api.post(
        &admin,
        "/api/v1/users",
        json!({"username": "sp_officer", "display_name": "审批", "dept_id": bureau, "role_ids": [approver], "password": "Initial-Pass-1"}),
    )
    .await;
    let officer = api.sign_in("sp_officer", "Initial-Pass-1").await;
    // A chain of tasks, so every case takes several transitions.
    let mut stages = serde_json::Map::new();
    for i in 0..STAGES {
        let next = if i + 1 == STAGES {
            "done".to_owned()
        } else {
            format!("t{}", i + 1)
        };
        stages.insert(
            format!("t{i}"),
            json!({"kind": "task", "department": "聊城市大数据局", "role": "approver", "days": 3, "next": next}),
        );
    }
    stages.insert("done".into(), json!({"kind": "end"}));
    api.post(
        &admin,
        "/api/v1/processes",
        json!({"name": "chain", "title": "串行审查", "start": "t0", "stages": stages}),
    )
    .await;
    api.post(
        &admin,
        "/api/v1/matters",
        json!({"code": "CRASH-01", "basic_code": "CRASH", "name": "测试事项", "matter_type": "公共服务",
               "department": "聊城市大数据局", "implementing_body": "聊城市大数据局", "legal_basis": "测试",
               "kind": "promised", "statutory_days": 20, "promised_days": 10, "process": "chain",
               "effective_from": "2026-01-01", "materials": [{"id": "form", "name": "申请表", "source": {"by": "upload"}}]}),
    )
    .await;
    let mut ids = Vec::new();
    for i in 0..CASES {
        let id = shuju_types::CitizenId::from_parts(
            "371502",
            chrono::NaiveDate::from_ymd_opt(1980, 1, 1).unwrap() + chrono::Days::new(i as u64),
            7,
        )
        .unwrap();
        let c = api
            .post(
                &admin,
                "/api/v1/cases",
                json!({"matter": "CRASH-01", "applicant": id.as_str()}),
            )
            .await;
        ids.push(c["id"].as_i64().unwrap());
    }

    // The burst: workers step their cases through the chain; every acknowledged transition is
    // noted with the event count the server answered. The server dies in the middle.
    let acked: Arc<Mutex<BTreeMap<i64, u64>>> = Arc::default();
    let api = Arc::new(api);
    let officer = Arc::new(officer);
    let mut workers = Vec::new();
    for w in 0..8 {
        let (api, officer, acked) = (api.clone(), officer.clone(), acked.clone());
        let mine: Vec<i64> = ids.iter().copied().skip(w).step_by(8).collect();
        workers.push(tokio::spawn(async move {
            for step in 0..STAGES {
                for id in &mine {
                    let (s, v) = api
                        .call(
                            &officer,
                            reqwest::Method::POST,
                            &format!("/api/v1/cases/{id}/tasks/t{step}"),
                            json!({"act": "approve"}),
                        )
                        .await;
                    if s == 0 {
                        return; // the server is gone
                    }
                    if s == 200 {
                        let n = v["case"]["events"].as_u64().unwrap();
                        acked.lock().unwrap().insert(*id, n);
                    }
                }
            }
        }));
    }
    // Kill once a good part of the burst is acknowledged, but not all of it.
    let total = CASES * STAGES;
    for _ in 0..600 {
        if acked
            .lock()
            .unwrap()
            .values()
            .map(|n| *n as usize - 2)
            .sum::<usize>()
            >= total / 3
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(s); // SIGKILL
    for w in workers {
        let _ = w.await;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        !acked.is_empty(),
        "transitions were acknowledged before the kill"
    );

    let s = serve(&d);
    let api = Api {
        http: reqwest::Client::new(),
        base: s.base.clone(),
    };
    let admin = api.sign_in("admin", "Changed-Pass-2").await;
    for (id, n) in &acked {
        let c = api.get(&admin, &format!("/api/v1/cases/{id}")).await;
        let have = c["case"]["events"].as_u64().unwrap();
        assert!(
            have >= *n,
            "case {id}: {n} events acknowledged, {have} after the restart"
        );
        assert_eq!(c["history"].as_array().unwrap().len() as u64, have);
    }
    let v = api.post(&admin, "/api/v1/service/verify", json!({})).await;
    assert_eq!(v["cases"], CASES);
    assert_eq!(
        v["mismatched"],
        json!([]),
        "every case folds to its stored state"
    );
    // The cases go on after the restart: the unfinished ones still take their next step.
    let officer = api.sign_in("sp_officer", "Changed-Pass-2").await;
    let tasks = api.get(&officer, "/api/v1/tasks").await;
    assert!(tasks.as_array().unwrap().len() <= CASES);
    if let Some(t) = tasks.as_array().unwrap().first() {
        let path = format!(
            "/api/v1/cases/{}/tasks/{}",
            t["case_id"],
            t["stage"].as_str().unwrap()
        );
        api.post(&officer, &path, json!({"act": "approve"})).await;
    }
}
