//! Notices of a case's progress through the real server, to a real SMTP relay (aiosmtpd, from
//! `scripts/smtp_sink.py`) and an SMS gateway that answers over HTTP: 受理 on opening, 补正 on a
//! correction, 办结 and 证照 on approval, each from the template in force (a saved version, or
//! the built-in text); a relay that says "try later" is retried until the attempts run out, a
//! bounce and a refused number fail at once; recipients are masked; whoever may not see the case
//! may not see its notices.
//!
//! The relay needs a Python with aiosmtpd (`TEST_SMTP_PYTHON`); without one the test is skipped,
//! unless `TEST_REQUIRE_SMTP=1` (as `scripts/test` sets it).

use crate::common::{TestApp, error_body};
use crate::service::{approve, matter, process, set_up};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxStatus};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The SMTP relay, stopped when dropped.
struct Relay {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Relay {
    fn start() -> Option<Relay> {
        let python = match std::env::var("TEST_SMTP_PYTHON") {
            Ok(p) if !p.is_empty() => p,
            _ => {
                assert!(
                    std::env::var("TEST_REQUIRE_SMTP").as_deref() != Ok("1"),
                    "TEST_REQUIRE_SMTP=1 but TEST_SMTP_PYTHON (a Python with aiosmtpd) is not set"
                );
                eprintln!("skipped: set TEST_SMTP_PYTHON to a Python with aiosmtpd");
                return None;
            }
        };
        let dir = tempfile::tempdir().unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/smtp_sink.py");
        let mut child = Command::new(python)
            .arg(script)
            .arg(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the SMTP relay starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("the relay printed {line:?}"));
        Some(Relay { child, port, dir })
    }

    /// The messages the relay took, in order.
    fn messages(&self) -> Vec<Value> {
        let mut files: Vec<_> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
            .collect()
    }
}

/// An SMS gateway: a number ending 9999 is "busy" (503), one ending 4444 refused (400); a call
/// without the bearer token is refused (401); every other message is kept.
#[derive(Clone, Default)]
struct Gateway {
    sent: Arc<Mutex<Vec<Value>>>,
}

async fn gateway_send(
    State(g): State<Gateway>,
    headers: HeaderMap,
    axum::Json(m): axum::Json<Value>,
) -> (AxStatus, String) {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer gw-token") {
        return (AxStatus::UNAUTHORIZED, "no token".into());
    }
    let to = m["to"].as_str().unwrap_or_default();
    if to.ends_with("9999") {
        return (AxStatus::SERVICE_UNAVAILABLE, "busy".into());
    }
    if to.ends_with("4444") {
        return (AxStatus::BAD_REQUEST, "number not in service".into());
    }
    let mut sent = g.sent.lock().unwrap();
    sent.push(m);
    (AxStatus::OK, format!("{{\"msgid\":\"gw-{}\"}}", sent.len()))
}

async fn start_gateway() -> (Gateway, String) {
    let g = Gateway::default();
    // A stand-in for the operator's gateway, not a Shuju route.
    #[allow(clippy::disallowed_methods)]
    let app = axum::Router::new()
        .route("/send", axum::routing::post(gateway_send))
        .with_state(g.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/send", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (g, url)
}

/// The case's notices once `done` holds for them (the sender runs every 100 ms).
async fn notices_when(
    app: &TestApp,
    token: &str,
    case: i64,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let mut last = Vec::new();
    for _ in 0..200 {
        last = app
            .get_json(token, &format!("/api/v1/cases/{case}/notices"))
            .await;
        if done(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("case {case}: {what} never held: {last:#?}");
}

fn settled(n: &[Value], count: usize) -> bool {
    n.len() == count
        && n.iter()
            .all(|n| ["sent", "failed"].contains(&n["state"].as_str().unwrap()))
}

#[tokio::test]
async fn notices_are_sent_retried_and_given_up_on() {
    let Some(relay) = Relay::start() else {
        return;
    };
    let (gateway, gateway_url) = start_gateway().await;
    let app = TestApp::spawn_with_notices(shuju_notify::NoticeConfig {
        smtp: Some(format!("smtp://127.0.0.1:{}", relay.port)),
        sms_gateway: Some(gateway_url),
        sms_token: Some("gw-token".into()),
        max_attempts: 3,
        retry_secs: 0,
        every_ms: 100,
        ..Default::default()
    })
    .await;
    let _city = app.gather(120, &["gongan_hukou"]).await;
    let a = set_up(&app).await;
    let run: Value = app
        .post_json(&a.admin, "/api/v1/persons/resolve", json!({}))
        .await;
    assert!(run["persons"].as_i64().unwrap_or(0) > 0, "{run}");
    app.post_json::<Value>(
        &a.service_admin,
        "/api/v1/processes",
        process("co_approval", 5),
    )
    .await;
    let m: Value = app
        .post_json(&a.service_admin, "/api/v1/matters", matter(5, 20))
        .await;
    let code = m["code"].as_str().unwrap().to_owned();

    // Templates: the built-in texts are in force (version 0) until the bureau saves its own;
    // only the matter administrator may; a template that does not render is refused, naming
    // the part.
    let ts: Vec<Value> = app
        .get_json(&a.service_admin, "/api/v1/service/notice-templates")
        .await;
    assert_eq!(ts.len(), 10, "five kinds, two channels");
    assert!(ts.iter().all(|t| t["version"] == 0));
    let own = json!({"subject": "【聊城】受理通知 {{ case }}", "text": "{{ matter_name }} 已受理，编号 {{ case }}，{{ promised_by }} 前办结。"});
    let path = "/api/v1/service/notice-templates/received/email";
    let r = app.put(&a.centre, path, own.clone()).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let e = error_body(
        app.put(
            &a.service_admin,
            path,
            json!({"subject": "受理", "text": "{{ applicant_name }} 您好"}),
        )
        .await,
    )
    .await;
    assert_eq!(e["field"], "text", "{e}");
    let e = error_body(
        app.put(
            &a.service_admin,
            "/api/v1/service/notice-templates/received/fax",
            own.clone(),
        )
        .await,
    )
    .await;
    assert_eq!(e["field"], "channel", "{e}");
    let r = app.put(&a.service_admin, path, own).await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let saved: Value = r.json().await.unwrap();
    assert_eq!(saved["version"], 1);

    // A contact no notice could reach is refused, naming it.
    let open = |who: &str, consent: bool, contact: Value| {
        json!({"matter": code, "applicant": who, "answers": {"has_assessment": "否"}, "consent": consent,
               "values": {"category": "肢体残疾", "grade": "三级"}, "contact": contact})
    };
    for (contact, field) in [
        (json!({"email": "zhang san@example"}), "contact.email"),
        (json!({"phone": "1380013800"}), "contact.phone"),
        (json!({"phone": "23800138000"}), "contact.phone"),
    ] {
        let e = error_body(
            app.post(&a.clerk, "/api/v1/cases", open(&a.x, false, contact))
                .await,
        )
        .await;
        assert_eq!(e["field"], field, "{e}");
    }
    let r = app
        .post(
            &a.clerk,
            "/api/v1/cases",
            open(&a.x, false, json!({"wechat": "zs"})),
        )
        .await;
    assert!(r.status().is_client_error(), "an unknown contact field");

    let opened = |v: Value| v["id"].as_i64().unwrap_or_else(|| panic!("{v}"));
    let id1 = opened(
        app.post_json(
            &a.clerk,
            "/api/v1/cases",
            open(
                &a.x,
                true,
                json!({"email": "zhang.san@example.cn", "phone": "13800138000"}),
            ),
        )
        .await,
    );
    let id2 = opened(
        app.post_json(
            &a.clerk,
            "/api/v1/cases",
            open(&a.y, false, json!({"email": "tempfail.li@example.cn"})),
        )
        .await,
    );
    let id3 = opened(
        app.post_json(
            &a.clerk,
            "/api/v1/cases",
            open(
                &a.y,
                false,
                json!({"email": "bounce.li@example.cn", "phone": "13900004444"}),
            ),
        )
        .await,
    );
    let id4 = opened(
        app.post_json(
            &a.clerk,
            "/api/v1/cases",
            open(&a.y, false, json!({"phone": "13900009999"})),
        )
        .await,
    );
    let id5 = opened(
        app.post_json(&a.clerk, "/api/v1/cases", open(&a.y, false, json!({})))
            .await,
    );

    // Case 1: 受理 by email (the saved template) and by text message (the built-in one), both
    // sent, the recipients masked.
    let n1 = notices_when(&app, &a.clerk, id1, "both sent", |n| {
        n.len() == 2 && n.iter().all(|n| n["state"] == "sent")
    })
    .await;
    let email = n1.iter().find(|n| n["channel"] == "email").unwrap();
    let sms = n1.iter().find(|n| n["channel"] == "sms").unwrap();
    assert_eq!(email["kind"], "received");
    assert_eq!(email["template_version"], 1);
    assert_eq!(email["subject"], format!("【聊城】受理通知 {id1}"));
    assert_eq!(email["recipient"], "z***@example.cn");
    assert_eq!(sms["recipient"], "138****8000");
    assert_eq!(sms["template_version"], 0);
    assert_eq!(email["attempts"], 1);
    assert!(
        email["receipt"].as_str().unwrap().starts_with("250"),
        "{email}"
    );
    assert!(sms["receipt"].as_str().unwrap().contains("gw-"), "{sms}");
    let shown = json!(n1).to_string();
    assert!(!shown.contains("zhang.san") && !shown.contains("13800138000"));
    let mail = relay.messages();
    let to_zhang: Vec<&Value> = mail
        .iter()
        .filter(|m| m["to"] == json!(["zhang.san@example.cn"]))
        .collect();
    assert_eq!(to_zhang.len(), 1, "{mail:?}");
    assert_eq!(to_zhang[0]["subject"], format!("【聊城】受理通知 {id1}"));
    let body = to_zhang[0]["body"].as_str().unwrap();
    assert!(
        body.contains("残疾人证核发（测试） 已受理") && body.contains(&id1.to_string()),
        "{body}"
    );
    let texts = gateway.sent.lock().unwrap().clone();
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert_eq!(texts[0]["to"], "13800138000");
    assert!(
        texts[0]["text"].as_str().unwrap().contains("已受理"),
        "{texts:?}"
    );

    // Case 2: the relay says "try later" (451): retried until the three attempts run out.
    let n2 = notices_when(&app, &a.clerk, id2, "given up", |n| settled(n, 1)).await;
    assert_eq!(n2[0]["state"], "failed", "{n2:?}");
    assert_eq!(n2[0]["attempts"], 3);
    let why = n2[0]["last_error"].as_str().unwrap();
    assert!(why.contains("451") && why.contains("3 attempts"), "{why}");
    // Case 3: a bounce (550) and a number the gateway refuses (400) fail at the first attempt.
    let n3 = notices_when(&app, &a.clerk, id3, "failed", |n| settled(n, 2)).await;
    for n in &n3 {
        assert_eq!(n["state"], "failed", "{n}");
        assert_eq!(n["attempts"], 1, "{n}");
    }
    // Case 4: the gateway is busy (503) every time: retried, then given up.
    let n4 = notices_when(&app, &a.clerk, id4, "given up", |n| settled(n, 1)).await;
    assert_eq!(n4[0]["attempts"], 3, "{n4:?}");
    assert!(n4[0]["last_error"].as_str().unwrap().contains("503"));
    // Case 5: no contact, no notices.
    let n5: Vec<Value> = app
        .get_json(&a.clerk, &format!("/api/v1/cases/{id5}/notices"))
        .await;
    assert!(n5.is_empty());
    assert!(
        !relay
            .messages()
            .iter()
            .any(|m| m.to_string().contains("tempfail") || m.to_string().contains("bounce")),
        "nothing was taken for the refused recipients"
    );

    // Case 1 goes on: a correction asked for (补正, with the officer's note), resumed, approved
    // (办结) and its e-license issued (证照): each told on both channels.
    approve(&app, &a.centre, id1, "accept").await;
    let r = app
        .post(
            &a.market,
            &format!("/api/v1/cases/{id1}/tasks/market"),
            json!({"act": "correct", "note": "请补充残疾评定表"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .post(&a.holder, &format!("/api/v1/cases/{id1}/resume"), json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    approve(&app, &a.market, id1, "market").await;
    approve(&app, &a.env, id1, "env").await;
    let done = approve(&app, &a.centre, id1, "decide").await;
    assert_eq!(done["status"], "approved");
    let license = done["case"]["license"].as_str().unwrap().to_owned();
    let n1 = notices_when(&app, &a.holder, id1, "all sent", |n| {
        n.len() == 8 && n.iter().all(|n| n["state"] == "sent")
    })
    .await;
    let kinds: Vec<&str> = n1.iter().map(|n| n["kind"].as_str().unwrap()).collect();
    for k in ["received", "correction", "approved", "issued"] {
        assert_eq!(kinds.iter().filter(|x| **x == k).count(), 2, "{kinds:?}");
    }
    let correction = n1
        .iter()
        .find(|n| n["kind"] == "correction" && n["channel"] == "sms")
        .unwrap();
    assert!(
        correction["text"]
            .as_str()
            .unwrap()
            .contains("请补充残疾评定表"),
        "{correction}"
    );
    let issued = n1
        .iter()
        .find(|n| n["kind"] == "issued" && n["channel"] == "email")
        .unwrap();
    assert!(
        issued["text"].as_str().unwrap().contains(&license),
        "{issued}"
    );
    assert_eq!(
        relay
            .messages()
            .iter()
            .filter(|m| m["to"] == json!(["zhang.san@example.cn"]))
            .count(),
        4
    );

    // Scope: the applicant sees their own case's notices, not another's; a department that
    // held no task of the case does not see them either.
    let r = app
        .get(&a.holder, &format!("/api/v1/cases/{id2}/notices"))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app
        .get(&a.market, &format!("/api/v1/cases/{id2}/notices"))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app.get("", &format!("/api/v1/cases/{id1}/notices")).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // The delivery states are a figure the bureau watches.
    let m = app.get(&a.admin, "/metrics").await.text().await.unwrap();
    for line in [
        "shuju_service_notices{state=\"sent\"} 8",
        "shuju_service_notices{state=\"failed\"} 4",
        "shuju_service_notices{state=\"retrying\"} 0",
    ] {
        assert!(m.lines().any(|l| l == line), "{line} in {m}");
    }
}
