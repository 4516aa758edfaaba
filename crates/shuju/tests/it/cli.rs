//! The `shuju` binary as an operator uses it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_shuju");

struct Server {
    child: Child,
    addr: String,
    stderr: Vec<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `shuju <args>` and wait until it says where it listens.
#[allow(clippy::zombie_processes)] // the Server's Drop kills and waits
fn start(args: &[&str]) -> Server {
    let mut child = Command::new(BIN)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start shuju");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => {
                if let Some(rest) = line.split("open http://").nth(1) {
                    let addr = rest.split('/').next().unwrap().to_owned();
                    lines.push(line);
                    return Server {
                        child,
                        addr,
                        stderr: lines,
                    };
                }
                lines.push(line);
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("shuju did not start: {lines:#?}");
            }
        }
    }
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run shuju");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn login(addr: &str, user: &str, pw: &str) -> (u16, serde_json::Value) {
    let r = reqwest::Client::new()
        .post(format!("http://{addr}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": user, "password": pw}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn sqlite_exec(dir: &Path, sql: &str) {
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}", dir.join("shuju.db").display());
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    sqlx::query(sql).execute(&pool).await.unwrap();
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn first_start_prints_a_one_time_admin_password_that_must_change() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let s = start(&[
        "serve",
        "--data-dir",
        d.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    let file = d.join("initial-admin-password");
    let pw = std::fs::read_to_string(&file).unwrap().trim().to_owned();
    assert!(pw.len() >= 12);
    assert!(
        s.stderr.iter().any(|l| l.contains(&pw)),
        "printed on stderr: {:#?}",
        s.stderr
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let (status, v) = login(&s.addr, "admin", &pw).await;
    assert_eq!(status, 200);
    assert_eq!(v["must_change_password"], true);
    drop(s);
    // A second start creates no new password.
    let s = start(&[
        "serve",
        "--data-dir",
        d.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    assert!(
        !s.stderr.iter().any(|l| l.contains("one-time password")),
        "{:#?}",
        s.stderr
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), pw);
}

#[tokio::test(flavor = "multi_thread")]
async fn audit_verify_passes_then_names_the_edited_record_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_owned();
    let s = start(&["serve", "--data-dir", &d, "--listen", "127.0.0.1:0"]);
    for _ in 0..3 {
        login(&s.addr, "admin", "wrong").await;
    }
    let pw = std::fs::read_to_string(dir.path().join("initial-admin-password")).unwrap();
    login(&s.addr, "admin", pw.trim()).await;
    // Verify while the server is live.
    let (code, out, err) = run(&["audit", "verify", "--data-dir", &d]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("audit chain whole"), "{out}");
    drop(s);
    sqlite_exec(
        dir.path(),
        "UPDATE audit_log SET outcome = 'denied' WHERE seq = 2",
    )
    .await;
    let (code, out, _) = run(&["audit", "verify", "--data-dir", &d]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("BROKEN at record 2"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn audit_verify_passes_then_names_the_edited_record_on_postgresql() {
    let Some(db) = shuju_store::testing::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_owned();
    let s = start(&[
        "serve",
        "--data-dir",
        &d,
        "--database",
        &db.url,
        "--listen",
        "127.0.0.1:0",
    ]);
    let pw = std::fs::read_to_string(dir.path().join("initial-admin-password")).unwrap();
    login(&s.addr, "admin", pw.trim()).await;
    login(&s.addr, "admin", pw.trim()).await;
    let (code, out, err) = run(&["audit", "verify", "--database", &db.url]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("audit chain whole"), "{out}");
    drop(s);
    let store = db.open().await;
    sqlx::query("UPDATE audit_log SET client = '10.0.0.1' WHERE seq = 3")
        .execute(store.pool())
        .await
        .unwrap();
    store.close().await;
    let (code, out, _) = run(&["audit", "verify", "--database", &db.url]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("BROKEN at record 3"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_from_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_owned();
    drop(start(&[
        "serve",
        "--data-dir",
        &d,
        "--listen",
        "127.0.0.1:0",
    ]));
    sqlite_exec(dir.path(), "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (99990101, 'future', TRUE, X'00', 1)").await;
    let (code, _, err) = run(&["serve", "--data-dir", &d, "--listen", "127.0.0.1:0"]);
    assert_ne!(code, 0);
    assert!(err.contains("newer version of Shuju"), "{err}");
    let (code, _, err) = run(&["audit", "verify", "--data-dir", &d]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn config_print_shows_the_effective_configuration_with_secrets_hidden() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("shuju.toml"),
        "listen = \"0.0.0.0:9000\"\n[admin]\nlockout_failures = 7\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args([
            "config",
            "print",
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--database",
            "postgres://shuju:topsecret@db:5432/shuju",
        ])
        .env("SHUJU_ADMIN__SESSION_HOURS", "3")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("listen = \"0.0.0.0:9000\""), "{text}");
    assert!(text.contains("lockout_failures = 7"), "{text}");
    assert!(text.contains("session_hours = 3"), "{text}");
    assert!(
        text.contains("postgres://shuju:***@db:5432/shuju"),
        "{text}"
    );
    assert!(!text.contains("topsecret"));
    // Unknown keys are refused, naming the key.
    std::fs::write(dir.path().join("shuju.toml"), "lisen = \"x\"\n").unwrap();
    let (code, _, err) = run(&[
        "config",
        "print",
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("lisen"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_prints_the_address_and_demo_accounts_that_work() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_owned();
    let s = start(&["demo", "--data-dir", &d, "--listen", "127.0.0.1:0"]);
    let line = s
        .stderr
        .iter()
        .find(|l| l.contains("dsj_officer"))
        .cloned()
        .unwrap_or_else(|| panic!("{:#?}", s.stderr));
    let pw = line.split_whitespace().nth(1).unwrap().to_owned();
    let (status, v) = login(&s.addr, "dsj_officer", &pw).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["must_change_password"], false);
    let token = v["token"].as_str().unwrap();
    let depts: serde_json::Value = reqwest::Client::new()
        .get(format!("http://{}/api/v1/departments?size=100", s.addr))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The bureau's officer sees the bureau (own department and below).
    assert_eq!(depts["total"], 1, "{depts}");
    drop(s);
    // Running the demo again keeps the same city and shows the same accounts.
    let s = start(&["demo", "--data-dir", &d, "--listen", "127.0.0.1:0"]);
    assert!(s.stderr.iter().any(|l| l.contains(&pw)), "{:#?}", s.stderr);
    assert!(
        s.stderr.iter().any(|l| l.contains("19 departments")),
        "{:#?}",
        s.stderr
    );
}
