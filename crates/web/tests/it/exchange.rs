//! Sharing requests and grants between departments.

use crate::common::{TestApp, error_body};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct World {
    admin: String,
    provider: String,
    consumer: String,
    conditional: i64,
    open: i64,
}

fn entry(provider: i64, code: &str, name: &str, kind: &str) -> Value {
    let (cond, basis) = if kind == "conditional" {
        (json!("仅用于政务服务"), json!(null))
    } else {
        (json!(null), json!(null))
    };
    json!({
        "classification": ["基础信息资源", "法人单位", "市场主体"], "name": name, "code": code, "provider_dept_id": provider,
        "summary": "市场主体登记信息", "format": {"category": "database", "detail": "MySQL"},
        "items": [
            {"name": "统一社会信用代码", "column": "uscc", "data_type": "char", "length": 18, "sensitivity": "public", "sharing": kind, "opening": "not_open"},
            {"name": "名称", "column": "mc", "data_type": "char", "length": 200, "sensitivity": "public", "sharing": kind, "opening": "not_open"},
            {"name": "法定代表人身份证号", "column": "fddbrsfzh", "data_type": "char", "length": 18, "sensitivity": "sensitive", "sharing": "not_shared", "opening": "not_open"}
        ],
        "sharing": {"kind": kind, "condition": cond, "legal_basis": basis, "methods": ["api"]},
        "opening": "not_open", "update_cycle": "daily", "library": "base_legal_entity", "attribute": "base"
    })
}

async fn world(app: &TestApp) -> World {
    let admin = app.admin_token().await;
    let (depts, mut tokens) = app
        .departments_with_officers(
            &admin,
            &[
                ("聊城市市场监督管理局", "market"),
                ("聊城市人力资源和社会保障局", "hrss"),
            ],
            60,
        )
        .await;
    let mut ids = vec![];
    for (code, name, kind) in [
        ("102001/000001", "企业登记信息", "conditional"),
        ("102001/000002", "企业名录", "unconditional"),
    ] {
        let e: Value = app
            .post_json(
                &admin,
                "/api/v1/catalog/entries",
                entry(depts[0], code, name, kind),
            )
            .await;
        let id = e["id"].as_i64().unwrap();
        let r: Value = app.publish(&admin, &admin, id).await;
        assert_eq!(r["status"], "published");
        ids.push(id);
    }
    World {
        admin,
        provider: tokens.remove(0),
        consumer: tokens.remove(0),
        conditional: ids[0],
        open: ids[1],
    }
}

fn body(entry: i64, items: &[&str]) -> Value {
    json!({"entry_id": entry, "items": items, "purpose": "社保参保单位资格核验", "period_until": "2030-12-31", "consumer_system": "社保业务系统"})
}

#[tokio::test]
async fn a_conditional_request_walks_through_the_bureau_and_the_provider_with_deadlines() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let r: Value = app
        .post_json(
            &w.consumer,
            "/api/v1/exchange/requests",
            body(w.conditional, &["统一社会信用代码", "名称"]),
        )
        .await;
    assert_eq!(r["status"], "bureau_check", "{r}");
    let cal = shuju_exchange::calendar::Calendar::default();
    let today = chrono::Utc::now().date_naive();
    assert_eq!(
        r["deadline"],
        cal.add_working_days(today, 2)
            .format("%Y-%m-%d")
            .to_string()
    );
    let id = r["id"].as_i64().unwrap();
    // Only the bureau checks; a refusal needs a reason.
    assert_eq!(
        app.post(
            &w.consumer,
            &format!("/api/v1/exchange/requests/{id}/check"),
            json!({"approve": true})
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
    let e = error_body(
        app.post(
            &w.admin,
            &format!("/api/v1/exchange/requests/{id}/check"),
            json!({"approve": false, "reason": " "}),
        )
        .await,
    )
    .await;
    assert_eq!(e["field"], "reason");
    let r: Value = app
        .post_json(
            &w.admin,
            &format!("/api/v1/exchange/requests/{id}/check"),
            json!({"approve": true}),
        )
        .await;
    assert_eq!(r["status"], "provider_review");
    assert_eq!(
        r["deadline"],
        cal.add_working_days(today, 5)
            .format("%Y-%m-%d")
            .to_string()
    );
    // The consumer cannot answer for the provider.
    assert_eq!(
        app.post(
            &w.consumer,
            &format!("/api/v1/exchange/requests/{id}/answer"),
            json!({"approve": true})
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    let todo: Vec<Value> = app
        .get_json(&w.provider, "/api/v1/exchange/requests?view=to_answer")
        .await;
    assert_eq!(todo.len(), 1);
    let r: Value = app
        .post_json(
            &w.provider,
            &format!("/api/v1/exchange/requests/{id}/answer"),
            json!({"approve": true}),
        )
        .await;
    assert_eq!(r["status"], "granted");
    let grants: Vec<Value> = app.get_json(&w.consumer, "/api/v1/exchange/grants").await;
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0]["items"], json!(["统一社会信用代码", "名称"]));
    let why: Value = app
        .get_json(
            &w.consumer,
            &format!("/api/v1/exchange/why?entry_id={}", w.conditional),
        )
        .await;
    let lines: Vec<&str> = why["explanation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        lines[0].starts_with("统一社会信用代码: granted by grant"),
        "{lines:?}"
    );
    assert!(lines[2].contains("not shared"), "{lines:?}");
    // Every step is audited.
    let log: Value = app
        .get_json(
            &app.auditor_token(&w.admin).await,
            &format!("/api/v1/audit?object_type=share_request&object_id={id}"),
        )
        .await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] == "ok")
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec!["exchange.answer", "exchange.check", "exchange.request"]
    );
}

#[tokio::test]
async fn unconditional_items_are_granted_at_once_and_not_shared_ones_refused_at_once() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let r: Value = app
        .post_json(
            &w.consumer,
            "/api/v1/exchange/requests",
            body(w.open, &["名称"]),
        )
        .await;
    assert_eq!(r["status"], "granted");
    let r: Value = app
        .post_json(
            &w.consumer,
            "/api/v1/exchange/requests",
            body(w.open, &["名称", "法定代表人身份证号"]),
        )
        .await;
    assert_eq!(r["status"], "refused");
    assert!(
        r["decision_reason"]
            .as_str()
            .unwrap()
            .contains("法定代表人身份证号"),
        "{r}"
    );
    // Bad requests name the field.
    let mut b = body(w.open, &["不存在"]);
    assert_eq!(
        error_body(
            app.post(&w.consumer, "/api/v1/exchange/requests", b.clone())
                .await
        )
        .await["field"],
        "items"
    );
    b["items"] = json!([]);
    b["purpose"] = json!("x");
    assert_eq!(
        error_body(app.post(&w.consumer, "/api/v1/exchange/requests", b).await).await["field"],
        "purpose"
    );
    // Revoking the grant: the why says so.
    let grants: Vec<Value> = app.get_json(&w.consumer, "/api/v1/exchange/grants").await;
    let gid = grants[0]["id"].as_i64().unwrap();
    assert_eq!(
        error_body(
            app.post(
                &w.admin,
                &format!("/api/v1/exchange/grants/{gid}/revoke"),
                json!({"reason": ""})
            )
            .await
        )
        .await["field"],
        "reason"
    );
    let g: Value = app
        .post_json(
            &w.admin,
            &format!("/api/v1/exchange/grants/{gid}/revoke"),
            json!({"reason": "用途变更"}),
        )
        .await;
    assert!(g["revoked_at"].is_string());
    let why: Value = app
        .get_json(
            &w.consumer,
            &format!("/api/v1/exchange/why?entry_id={}&items=名称", w.open),
        )
        .await;
    assert_eq!(
        why["explanation"][0],
        format!("名称: grant {gid} was revoked (用途变更)")
    );
}

#[tokio::test]
async fn a_request_past_its_deadline_escalates() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let r: Value = app
        .post_json(
            &w.consumer,
            "/api/v1/exchange/requests",
            body(w.conditional, &["名称"]),
        )
        .await;
    let none: Vec<Value> = app
        .post_json(&w.admin, "/api/v1/exchange/escalate", json!({}))
        .await;
    assert!(none.is_empty(), "nothing is overdue yet");
    sqlx::query("UPDATE share_requests SET deadline = '2000-01-03' WHERE id = $1")
        .bind(r["id"].as_i64().unwrap())
        .execute(app.admin.store().pool())
        .await
        .unwrap();
    let esc: Vec<Value> = app
        .post_json(&w.admin, "/api/v1/exchange/escalate", json!({}))
        .await;
    assert_eq!(esc.len(), 1);
    let mine: Vec<Value> = app.get_json(&w.consumer, "/api/v1/exchange/requests").await;
    assert_eq!(mine[0]["escalated"], json!(true));
    assert_eq!(
        app.post(&w.consumer, "/api/v1/exchange/escalate", json!({}))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_project_whose_department_shares_nothing_is_not_fundable() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let market = app.dept_id(&w.admin, "聊城市市场监督管理局").await;
    let hrss = app.dept_id(&w.admin, "聊城市人力资源和社会保障局").await;
    // The HR bureau catalogued nothing and shares nothing.
    let p: Value = app.post_json(&w.admin, "/api/v1/projects", json!({"name": "社保业务系统升级", "dept_id": hrss, "year": 2026, "budget_asked": 4_920_000, "systems": ["社保业务系统"]})).await;
    assert_eq!(p["fundable"], json!(false));
    let failed: Vec<(&str, &str)> = p["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == json!(false))
        .map(|c| (c["name"].as_str().unwrap(), c["detail"].as_str().unwrap()))
        .collect();
    assert!(
        failed.contains(&("shared", "the department shares nothing")),
        "{failed:?}"
    );
    assert!(
        failed
            .iter()
            .any(|(n, d)| *n == "systems_registered" && d.contains("社保业务系统")),
        "{failed:?}"
    );
    let r = app
        .post(
            &w.admin,
            &format!("/api/v1/projects/{}/review", p["id"]),
            json!({"approved_budget": 1_000_000}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(
        error_body(r).await["message"]
            .as_str()
            .unwrap()
            .contains("not fundable")
    );
    let r: Value = app
        .post_json(
            &w.admin,
            &format!("/api/v1/projects/{}/review", p["id"]),
            json!({"note": "未共享任何资源"}),
        )
        .await;
    assert_eq!(r["status"], "rejected");

    // The market bureau catalogues, shares, has exchanged (a grant) and registered its system.
    app.post(
        &w.consumer,
        "/api/v1/exchange/requests",
        body(w.open, &["名称"]),
    )
    .await;
    app.post(
        &w.admin,
        "/api/v1/catalog/systems",
        json!({"name": "市场主体登记系统", "owner_dept_id": market, "hosting": "gov_cloud"}),
    )
    .await;
    let p: Value = app.post_json(&w.admin, "/api/v1/projects", json!({"name": "登记系统改造", "dept_id": market, "year": 2026, "budget_asked": 1_780_000, "systems": ["市场主体登记系统"]})).await;
    assert_eq!(p["fundable"], json!(true), "{p}");
    let r: Value = app
        .post_json(
            &w.admin,
            &format!("/api/v1/projects/{}/review", p["id"]),
            json!({"approved_budget": 1_500_000}),
        )
        .await;
    assert_eq!(r["status"], "approved");
    let f: Value = app
        .get_json(&w.admin, "/api/v1/projects/figures?year=2026")
        .await;
    assert_eq!(
        f,
        json!({"year": 2026, "reviewed": 2, "approved": 1, "budget_asked": 6_700_000, "budget_approved": 1_500_000})
    );
}

#[tokio::test]
async fn the_request_and_project_pages() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let r: Value = app
        .post_json(
            &w.consumer,
            "/api/v1/exchange/requests",
            body(w.conditional, &["名称"]),
        )
        .await;
    let hrss = app.dept_id(&w.admin, "聊城市人力资源和社会保障局").await;
    app.post(&w.admin, "/api/v1/projects", json!({"name": "社保系统升级", "dept_id": hrss, "year": 2026, "budget_asked": 3_000_000, "systems": []})).await;
    let (client, _) =
        crate::common::browser_login(&app, "admin", crate::common::ADMIN_PW, "/exchange").await;
    let html = app.page(&client, "/exchange?view=to_check").await;
    assert!(
        html.contains("合规审核中") && html.contains(&format!("/exchange/{}/pass", r["id"])),
        "the bureau's queue"
    );
    let csrf = crate::common::csrf_of(&html);
    let resp = client
        .post(app.url(&format!("/exchange/{}/pass", r["id"])))
        .form(&[("_csrf", csrf.as_str()), ("view", "to_check")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let mine: Vec<Value> = app.get_json(&w.consumer, "/api/v1/exchange/requests").await;
    assert_eq!(mine[0]["status"], "provider_review");
    let html = app.page(&client, "/projects?year=2026").await;
    assert!(
        html.contains("社保系统升级")
            && html.contains("不予资金支持")
            && html.contains("the department shares nothing"),
        "{html}"
    );
}
