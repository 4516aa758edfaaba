//! Get it done once (一次办好) through the real server: a matter and its process saved (bad ones
//! refused with nothing written), a case opened at the window for a resident whose file fills the
//! form after consent, routed to two departments that co-approve in parallel with a correction
//! that stops the clock, decided, and its e-license issued into the holder's wallet; a case
//! without consent reads nothing; officers act only on their own department's tasks; an
//! applicant sees only their own cases; a case stays on the version it was opened under.

use crate::common::{TestApp, error_body};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shuju_admin::Caller;

const CENTRE: &str = "阳谷县行政审批服务局";
const MARKET: &str = "聊城市市场监督管理局";
const ENV: &str = "聊城市生态环境局";

/// Two residents of the registry with valid IDs (the first and last by ID).
pub(crate) async fn residents(app: &TestApp) -> (String, String) {
    let rows = app
        .lake
        .sql(
            &Caller::system(),
            "SELECT sfzh FROM gongan_hukou WHERE _flagged IS NULL ORDER BY sfzh",
            &Default::default(),
            10_000,
        )
        .await
        .unwrap()
        .rows;
    let id = |i: usize| rows[i]["sfzh"].as_str().unwrap().to_owned();
    (id(0), id(rows.len() - 1))
}

/// An account in a department with one built-in role, signed in: its token and user id.
pub(crate) async fn account(
    app: &TestApp,
    admin: &str,
    user: &str,
    dept: i64,
    role: &str,
) -> (String, i64) {
    let role = shuju_store::roles::by_key(app.admin.store(), role)
        .await
        .unwrap()
        .unwrap()
        .id;
    let u: Value = app
        .post_json(
            admin,
            "/api/v1/users",
            json!({"username": user, "display_name": user, "dept_id": dept, "role_ids": [role], "password": "Initial-Pass-1"}),
        )
        .await;
    let id = u["id"]
        .as_i64()
        .or_else(|| u["user"]["id"].as_i64())
        .unwrap_or_else(|| panic!("{u}"));
    (
        app.first_login(user, "Initial-Pass-1", "Changed-Pass-2")
            .await,
        id,
    )
}

pub(crate) fn process(name: &str, review_days: u32) -> Value {
    json!({
        "name": name, "title": "受理，市场监管与生态环境并联审查，决定", "start": "accept",
        "stages": {
            "accept": {"kind": "task", "department": CENTRE, "role": "approver", "days": 1, "next": "review"},
            "review": {"kind": "parallel", "branches": ["market", "env"], "join": "reviewed"},
            "market": {"kind": "task", "department": MARKET, "role": "approver", "days": review_days, "next": "reviewed"},
            "env": {"kind": "task", "department": ENV, "role": "approver", "days": review_days, "next": "reviewed"},
            "reviewed": {"kind": "join", "next": "decide"},
            "decide": {"kind": "task", "department": CENTRE, "role": "approver", "days": 2, "next": "done"},
            "done": {"kind": "end"}
        }
    })
}

pub(crate) fn matter(promised: u32, statutory: u32) -> Value {
    json!({
        "code": "371521-T0001-01", "basic_code": "T0001", "name": "残疾人证核发（测试）",
        "matter_type": "公共服务", "department": "聊城市民政局", "implementing_body": CENTRE,
        "legal_basis": "《中华人民共和国残疾人保障法》第二条", "kind": "promised",
        "statutory_days": statutory, "promised_days": promised, "fee": "不收费", "online": true,
        "process": "co_approval", "effective_from": "2026-01-01",
        "issues_license": "disability_certificate",
        "questions": [{"id": "has_assessment", "text": "是否已有残疾评定表？", "answers": ["是", "否"]}],
        "materials": [
            {"id": "identity", "name": "居民身份证", "source": {"by": "data", "fact": "id_valid"}},
            {"id": "hukou", "name": "户口簿", "source": {"by": "data", "fact": "registered"}},
            {"id": "assessment", "name": "残疾评定表", "source": {"by": "upload"},
             "when": {"question": "has_assessment", "answer": "是"}}
        ],
        "form": [
            {"name": "name", "label": "姓名", "element": "person_name", "locked": true},
            {"name": "address", "label": "住址", "element": "address"},
            {"name": "category", "label": "残疾类别"},
            {"name": "grade", "label": "残疾等级"}
        ]
    })
}

pub(crate) struct Actors {
    pub admin: String,
    pub service_admin: String,
    pub clerk: String,
    pub centre: String,
    pub market: String,
    pub env: String,
    /// The first resident's own account, and the resident.
    pub holder: String,
    pub x: String,
    pub y: String,
}

pub(crate) async fn set_up(app: &TestApp) -> Actors {
    let admin = app.admin_token().await;
    let city = app.dept_id(&admin, "聊城市人民政府").await;
    let mut ids = Vec::new();
    for (i, name) in [CENTRE, MARKET, ENV].into_iter().enumerate() {
        let d: Value = app
            .post_json(
                &admin,
                "/api/v1/departments",
                json!({"parent_id": city, "name": name, "division_code": "371500", "uscc": crate::common::uscc(700 + i as u32)}),
            )
            .await;
        ids.push(d["id"].as_i64().unwrap_or_else(|| panic!("{d}")));
    }
    let bureau = app.dept_id(&admin, "聊城市大数据局").await;
    let (service_admin, _) = account(app, &admin, "sx_admin", bureau, "service_admin").await;
    let (clerk, _) = account(app, &admin, "yg_window", ids[0], "window_clerk").await;
    let (centre, _) = account(app, &admin, "yg_sp", ids[0], "approver").await;
    let (market, _) = account(app, &admin, "scjg_sp", ids[1], "approver").await;
    let (env, _) = account(app, &admin, "shj_sp", ids[2], "approver").await;
    let (x, y) = residents(app).await;
    let (holder, holder_id) = account(app, &admin, "shimin_x", bureau, "license_holder").await;
    let r = app
        .put(
            &admin,
            &format!("/api/v1/licenses/holders/{holder_id}"),
            json!({"holder_id": x}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    Actors {
        admin,
        service_admin,
        clerk,
        centre,
        market,
        env,
        holder,
        x,
        y,
    }
}

pub(crate) async fn act(
    app: &TestApp,
    token: &str,
    case: i64,
    stage: &str,
    act: &str,
) -> reqwest::Response {
    app.post(
        token,
        &format!("/api/v1/cases/{case}/tasks/{stage}"),
        json!({"act": act, "note": "审查意见"}),
    )
    .await
}

pub(crate) async fn approve(app: &TestApp, token: &str, case: i64, stage: &str) -> Value {
    let r = act(app, token, case, stage, "approve").await;
    assert_eq!(r.status(), StatusCode::OK, "{stage}: {:?}", r.text().await);
    r.json().await.unwrap()
}

fn open_tasks(case: &Value) -> Vec<String> {
    case["case"]["tasks"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

async fn the_flow(app: &TestApp) {
    let _city = app.gather(120, &["gongan_hukou"]).await;
    let a = set_up(app).await;
    let run: Value = app
        .post_json(&a.admin, "/api/v1/persons/resolve", json!({}))
        .await;
    assert!(run["persons"].as_i64().unwrap_or(0) > 0, "{run}");

    // Bad definitions are refused, naming what is wrong, and nothing is written.
    let mut cycle = process("co_approval", 5);
    cycle["stages"]["decide"]["next"] = json!("accept");
    let mut unknown = process("co_approval", 5);
    unknown["stages"]["accept"]["deadline"] = json!(3);
    let mut undefined = process("co_approval", 5);
    undefined["stages"]["accept"]["next"] = json!("nowhere");
    let mut no_dept = process("co_approval", 5);
    no_dept["stages"]["market"]["department"] = json!("不存在的局");
    for (bad, says) in [
        (cycle, "cycle"),
        (unknown, "deadline"),
        (undefined, "nowhere"),
        (no_dept, "不存在的局"),
    ] {
        let r = app.post(&a.service_admin, "/api/v1/processes", bad).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let e = error_body(r).await;
        assert!(e["message"].as_str().unwrap().contains(says), "{e}");
    }
    let none: Vec<Value> = app.get_json(&a.service_admin, "/api/v1/processes").await;
    assert!(none.is_empty(), "nothing written: {none:?}");
    // A matter before its process, and a promised limit above the statutory one.
    let r = app
        .post(&a.service_admin, "/api/v1/matters", matter(5, 20))
        .await;
    assert_eq!(error_body(r).await["field"], "process");
    let p: Value = app
        .post_json(
            &a.service_admin,
            "/api/v1/processes",
            process("co_approval", 5),
        )
        .await;
    assert_eq!(p["version"], 1);
    let r = app
        .post(&a.service_admin, "/api/v1/matters", matter(25, 20))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e = error_body(r).await;
    assert_eq!(e["field"], "promised_days", "{e}");
    assert!(e["message"].as_str().unwrap().contains("statutory"), "{e}");
    let guides: Vec<Value> = app.get_json("", "/api/v1/matters").await;
    assert!(guides.is_empty());
    // An officer without the matter permission cannot save one.
    let r = app.post(&a.centre, "/api/v1/matters", matter(5, 20)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let m: Value = app
        .post_json(&a.service_admin, "/api/v1/matters", matter(5, 20))
        .await;
    assert_eq!(m["version"], 1);
    let code = m["code"].as_str().unwrap().to_owned();

    // The guide is public; the preview reads nothing and says what serves each material.
    let guide: Value = app.get_json("", &format!("/api/v1/matters/{code}")).await;
    assert_eq!(guide["name"], "残疾人证核发（测试）");
    let pv: Value = app
        .post_json(
            "",
            &format!("/api/v1/matters/{code}/preview"),
            json!({"answers": {"has_assessment": "否"}}),
        )
        .await;
    let served: Vec<(&str, &str)> = pv["materials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["id"].as_str().unwrap(), m["served_by"].as_str().unwrap()))
        .collect();
    assert_eq!(served, [("identity", "data"), ("hukou", "data")]);
    let r = app
        .post(
            "",
            &format!("/api/v1/matters/{code}/preview"),
            json!({"answers": {"has_assessment": "也许"}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // At the window, for resident X, with consent: the file fills the form, the data serve
    // the materials (never asked for), and the pull is recorded.
    let open = |who: &str, consent: bool| {
        json!({"matter": code, "applicant": who, "answers": {"has_assessment": "是"}, "consent": consent,
               "values": {"category": "肢体残疾", "grade": "三级"}})
    };
    let r = app.post(&a.clerk, "/api/v1/cases", open(&a.x, true)).await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let c1: Value = r.json().await.unwrap();
    let id1 = c1["id"].as_i64().unwrap();
    assert_eq!(c1["status"], "open");
    let mats = c1["case"]["materials"].as_array().unwrap();
    assert_eq!(mats[0]["served_by"], "data", "{mats:?}");
    assert_eq!(mats[2]["served_by"], "upload");
    let name = &c1["case"]["form"][0];
    assert!(
        name["value"].as_str().is_some_and(|v| !v.is_empty()),
        "{name}"
    );
    assert!(
        name["source"].as_str().unwrap().contains("gongan_hukou"),
        "{name}"
    );
    assert_eq!(name["locked"], true);
    assert_eq!(c1["case"]["form"][2]["value"], "肢体残疾");
    assert_eq!(c1["pulls"].as_array().unwrap().len(), 1);
    // A locked field filled from data cannot be overwritten; an unknown one is named.
    let mut locked = open(&a.x, true);
    locked["values"]["name"] = json!("别人");
    let e = error_body(app.post(&a.clerk, "/api/v1/cases", locked).await).await;
    assert_eq!(e["field"], "values.name", "{e}");
    let mut unknown = open(&a.x, true);
    unknown["values"]["salary"] = json!("1");
    let e = error_body(app.post(&a.clerk, "/api/v1/cases", unknown).await).await;
    assert_eq!(e["field"], "values.salary", "{e}");

    // Resident Y declines: nothing is read, every material is an upload, no pull.
    let c2: Value = app
        .post_json(&a.clerk, "/api/v1/cases", open(&a.y, false))
        .await;
    let id2 = c2["id"].as_i64().unwrap();
    assert!(
        c2["case"]["materials"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["served_by"] == "upload")
    );
    assert!(c2["case"]["form"][0]["value"].is_null());
    assert!(c2["pulls"].as_array().unwrap().is_empty());
    let used: Vec<Value> = app
        .get_json(
            &a.admin,
            &format!("/api/v1/service/data-use?subject={}", a.y),
        )
        .await;
    assert!(used.is_empty(), "declined: nothing transferred: {used:?}");
    let used: Vec<Value> = app
        .get_json(
            &a.admin,
            &format!("/api/v1/service/data-use?subject={}", a.x),
        )
        .await;
    assert_eq!(used.len(), 1);
    assert_eq!(used[0]["case_id"], id1);
    // X sees who used X's data; not Y's.
    let own: Vec<Value> = app.get_json(&a.holder, "/api/v1/service/data-use").await;
    assert_eq!(own.len(), 1);
    let r = app
        .get(
            &a.holder,
            &format!("/api/v1/service/data-use?subject={}", a.y),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // The applicant sees their own case and not another's.
    let mine: Vec<Value> = app.get_json(&a.holder, "/api/v1/cases").await;
    let mine: Vec<i64> = mine.iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert_eq!(mine, [id1]);
    let r = app.get(&a.holder, &format!("/api/v1/cases/{id2}")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app.get(&a.holder, &format!("/api/v1/cases/{id1}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    // A department that has held no task of the case does not see it.
    let r = app.get(&a.market, &format!("/api/v1/cases/{id1}")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Routing: the centre accepts; market and environment co-approve in parallel.
    let tasks: Vec<Value> = app.get_json(&a.centre, "/api/v1/tasks").await;
    assert_eq!(tasks.len(), 2, "{tasks:?}");
    assert!(tasks.iter().all(|t| t["stage"] == "accept"));
    let r = act(app, &a.market, id1, "accept", "approve").await;
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "another department's task"
    );
    // The centre's approver acts on the case's page: the form, the history and its own task.
    let (page, _) = crate::common::browser_login(app, "yg_sp", "Changed-Pass-2", "/home").await;
    let html = app.page(&page, &format!("/cases/{id1}")).await;
    assert!(
        html.contains("id=\"open-tasks\"") && html.contains("name=\"stage\" value=\"accept\""),
        "{html}"
    );
    assert!(html.contains("受理") && html.contains("申请表"), "{html}");
    let csrf = crate::common::csrf_of(&html);
    let r = page
        .post(app.url(&format!("/cases/{id1}/act")))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("stage", "accept"),
            ("act", "approve"),
            ("note", "材料齐全"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let c: Value = app
        .get_json(&a.centre, &format!("/api/v1/cases/{id1}"))
        .await;
    assert_eq!(open_tasks(&c), ["env", "market"]);
    // A department that holds no task of it does not find the page either.
    let (other, _) = crate::common::browser_login(app, "scjg_sp", "Changed-Pass-2", "/home").await;
    let r = other
        .get(app.url(&format!("/cases/{id2}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "a case the market held no task of"
    );
    let r = act(app, &a.env, id1, "market", "approve").await;
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "env acts on market's task"
    );
    let mt: Vec<Value> = app.get_json(&a.market, "/api/v1/tasks").await;
    assert_eq!(mt.len(), 1);
    assert_eq!(mt[0]["stage"], "market");
    assert!(["on_time", "due_soon", "overdue"].contains(&mt[0]["badge"].as_str().unwrap()));
    let due_before = c["case"]["tasks"]["market"]["due"].clone();
    // Market asks for a correction: the clock stops; nothing can be decided while paused.
    let r = act(app, &a.market, id1, "market", "correct").await;
    assert_eq!(r.status(), StatusCode::OK);
    let paused: Value = r.json().await.unwrap();
    assert_eq!(paused["status"], "paused");
    let r = act(app, &a.env, id1, "env", "approve").await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    // Another resident cannot resume it; the applicant can.
    let r = app
        .post(&a.env, &format!("/api/v1/cases/{id1}/resume"), json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app
        .post(&a.holder, &format!("/api/v1/cases/{id1}/resume"), json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let resumed: Value = r.json().await.unwrap();
    assert_eq!(resumed["status"], "open");
    // Resumed the same day: no working day lost, the limit stands.
    assert_eq!(resumed["case"]["tasks"]["market"]["due"], due_before);
    approve(app, &a.market, id1, "market").await;
    let c = approve(app, &a.env, id1, "env").await;
    assert_eq!(open_tasks(&c), ["decide"]);
    let r = act(app, &a.centre, id1, "env", "approve").await;
    assert_eq!(r.status(), StatusCode::CONFLICT, "a done task is done");
    let done = approve(app, &a.centre, id1, "decide").await;
    assert_eq!(done["status"], "approved");
    let kinds: Vec<&str> = done["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["event"]["type"].as_str().unwrap())
        .collect();
    for k in [
        "opened",
        "task_opened",
        "paused",
        "resumed",
        "decided",
        "issued",
    ] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    // The approval issued the matter's e-license into the holder's wallet.
    let lid = done["case"]["license"]
        .as_str()
        .unwrap_or_else(|| panic!("issued: {}", done["history"]))
        .to_owned();
    let w: Value = app.get_json(&a.holder, "/api/v1/wallet").await;
    assert!(w.to_string().contains(&lid), "{w}");
    // The licence and the decision's signed receipt were written with the decision, the
    // licence naming the case it was issued from.
    let store = app.admin.store();
    assert!(
        shuju_store::service::receipt(store, id1)
            .await
            .unwrap()
            .is_some(),
        "the receipt is written with the decision, not on its first read"
    );
    assert!(
        shuju_store::license::source_keys(store, "case")
            .await
            .unwrap()
            .contains(&id1.to_string())
    );
    // The market, having held a task, now sees the case; the tasks are gone from every list.
    let r = app.get(&a.market, &format!("/api/v1/cases/{id1}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let mt: Vec<Value> = app.get_json(&a.market, "/api/v1/tasks").await;
    assert!(mt.is_empty());

    // A refusal cites its basis; the case is decided.
    let r = act(app, &a.centre, id2, "accept", "refuse").await;
    let refused: Value = r.json().await.unwrap();
    assert_eq!(refused["status"], "refused");
    assert_eq!(refused["case"]["decided"]["basis"], "审查意见");

    // Version pinning: a case opened under version 1 finishes on version 1 after version 2 of
    // the matter and of its process are published.
    let c3: Value = app
        .post_json(&a.clerk, "/api/v1/cases", open(&a.x, false))
        .await;
    let id3 = c3["id"].as_i64().unwrap();
    let mut p2 = process("co_approval", 9);
    p2["stages"]["accept"]["next"] = json!("decide");
    p2["stages"]
        .as_object_mut()
        .unwrap()
        .retain(|k, _| ["accept", "decide", "done"].contains(&k.as_str()));
    let p2: Value = app
        .post_json(&a.service_admin, "/api/v1/processes", p2)
        .await;
    assert_eq!(p2["version"], 2);
    let m2: Value = app
        .post_json(&a.service_admin, "/api/v1/matters", matter(3, 20))
        .await;
    assert_eq!(m2["version"], 2);
    let versions: Vec<Value> = app
        .get_json("", &format!("/api/v1/matters/{code}/versions"))
        .await;
    assert_eq!(versions.len(), 2);
    let c = approve(app, &a.centre, id3, "accept").await;
    assert_eq!(c["case"]["matter_version"], 1);
    assert_eq!(c["case"]["process_version"], 1);
    assert_eq!(open_tasks(&c), ["env", "market"], "still version 1's route");
    // The two departments approve at the same moment: both are acknowledged, both recorded.
    let (m, e) = tokio::join!(
        approve(app, &a.market, id3, "market"),
        approve(app, &a.env, id3, "env")
    );
    assert!(open_tasks(&m) == ["decide"] || open_tasks(&e) == ["decide"]);
    let c = approve(app, &a.centre, id3, "decide").await;
    assert_eq!(c["status"], "approved");
    // Without consent nothing filled the name: the license could not be issued, and says why.
    assert!(c["case"]["license"].is_null());
    let c4: Value = app
        .post_json(&a.clerk, "/api/v1/cases", open(&a.x, true))
        .await;
    assert_eq!(c4["case"]["matter_version"], 2);
    assert_eq!(c4["case"]["process_version"], 2);

    // Every case folds from its events to the stored state; only the matter administrator may
    // ask.
    let r = app
        .post(&a.centre, "/api/v1/service/verify", json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let v: Value = app
        .post_json(&a.service_admin, "/api/v1/service/verify", json!({}))
        .await;
    assert_eq!(v["cases"], 4);
    assert_eq!(v["mismatched"], json!([]));

    // Reads of cases are audited, a refused one as denied.
    let auditor = app.auditor_token(&a.admin).await;
    let log: Value = app
        .get_json(&auditor, "/api/v1/audit?action=service.case.read&size=100")
        .await;
    let outcomes: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert!(
        outcomes.contains(&"ok") && outcomes.contains(&"denied"),
        "{outcomes:?}"
    );
}

#[tokio::test]
async fn a_case_is_opened_filled_routed_co_approved_and_issued() {
    let app = TestApp::spawn().await;
    the_flow(&app).await;
}

#[tokio::test]
async fn a_case_is_opened_filled_routed_co_approved_and_issued_on_postgres() {
    let Some(app) = TestApp::spawn_pg().await else {
        return;
    };
    the_flow(&app).await;
}
