//! `shuju bench service`: cases from intake to outcome through the service flow (every
//! transition committed to SQLite before it is acknowledged), beside SpiffWorkflow running the
//! same process as BPMN with its state written to SQLite after every step; and the latency of
//! opening a case whose form fills itself from a person's file among many.

use super::{machine, ms, percentile, run_json, write_section};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shuju_admin::Caller;
use shuju_admin::departments::DepartmentInput;
use shuju_service::case::Act;
use shuju_service::{OpenCase, Services};
use std::time::{Duration, Instant};

const CENTRE: &str = "阳谷县行政审批服务局";
const MARKET: &str = "聊城市市场监督管理局";
const ENV: &str = "聊城市生态环境局";

/// The benchmark's process: accept, then two departments in parallel, then decide (the BPMN in
/// scripts/bench_service_spiff.py is the same graph).
fn process() -> serde_json::Value {
    serde_json::json!({
        "name": "co_approval", "title": "受理，并联审查，决定", "start": "accept",
        "stages": {
            "accept": {"kind": "task", "department": CENTRE, "role": "approver", "days": 1, "next": "review"},
            "review": {"kind": "parallel", "branches": ["market", "env"], "join": "reviewed"},
            "market": {"kind": "task", "department": MARKET, "role": "approver", "days": 5, "next": "reviewed"},
            "env": {"kind": "task", "department": ENV, "role": "approver", "days": 5, "next": "reviewed"},
            "reviewed": {"kind": "join", "next": "decide"},
            "decide": {"kind": "task", "department": CENTRE, "role": "approver", "days": 2, "next": "done"},
            "done": {"kind": "end"}
        }
    })
}

fn matter() -> serde_json::Value {
    serde_json::json!({
        "code": "BENCH-01", "basic_code": "BENCH", "name": "并联审批事项", "matter_type": "行政许可",
        "department": MARKET, "implementing_body": CENTRE, "legal_basis": "—", "kind": "promised",
        "statutory_days": 20, "promised_days": 10, "process": "co_approval",
        "effective_from": "2026-01-01",
        "materials": [{"id": "form", "name": "申请表", "source": {"by": "upload"}}]
    })
}

fn caller(dept: i64) -> Caller {
    Caller {
        username: "bench".into(),
        dept_id: Some(dept),
        roles: vec!["approver".into()],
        ..Caller::system()
    }
}

fn err(e: shuju_types::Error) -> anyhow::Error {
    anyhow::anyhow!(e.message)
}

/// A fresh platform (SQLite, a local lake) with the three departments, the process and the
/// matter: the departments' ids.
async fn world(dir: &std::path::Path) -> anyhow::Result<(shuju_platform::Platform, [i64; 3])> {
    let cfg = shuju_platform::Config {
        data_dir: dir.to_owned(),
        ..Default::default()
    };
    let p = shuju_platform::Platform::open(&cfg).await.map_err(err)?;
    let sys = Caller::system();
    let city = p
        .admin
        .dept_tree()
        .await
        .map_err(err)?
        .depts
        .into_iter()
        .find(|d| d.parent_id.is_none())
        .map(|d| d.id);
    let mut ids = [0; 3];
    for (i, name) in [CENTRE, MARKET, ENV].into_iter().enumerate() {
        ids[i] = p
            .admin
            .create_department(
                &sys,
                DepartmentInput {
                    parent_id: city,
                    name: name.into(),
                    short_code: None,
                    division_code: "371500".into(),
                    uscc: Some(shuju_admin::seed::organ_uscc("371500", 90 + i as u32)),
                    leader: None,
                    contact: None,
                    status: None,
                    sort_order: None,
                },
            )
            .await
            .map_err(err)?
            .id;
    }
    p.services
        .save_process(&sys, serde_json::from_value(process())?)
        .await
        .map_err(err)?;
    p.services
        .save_matter(&sys, serde_json::from_value(matter())?)
        .await
        .map_err(err)?;
    Ok((p, ids))
}

/// One case from intake to approval: five transitions, each committed.
async fn one_case(s: &Services, ids: [i64; 3], applicant: String) -> anyhow::Result<()> {
    let window = Caller {
        username: "bench".into(),
        dept_id: Some(ids[0]),
        ..Caller::system()
    };
    let o = OpenCase {
        matter: "BENCH-01".into(),
        applicant: Some(applicant),
        ..Default::default()
    };
    let c = s.open(&window, &o).await.map_err(err)?;
    for (stage, dept) in [
        ("accept", ids[0]),
        ("market", ids[1]),
        ("env", ids[2]),
        ("decide", ids[0]),
    ] {
        s.act(&caller(dept), c.id, stage, Act::Approve, "")
            .await
            .map_err(err)?;
    }
    Ok(())
}

/// Cases per second and transitions per second with `workers` cases in flight.
async fn shuju_round(cases: usize, workers: usize) -> anyhow::Result<(f64, f64)> {
    let dir = tempfile::tempdir()?;
    let (p, ids) = world(dir.path()).await?;
    let applicants: Vec<String> = (0..cases)
        .map(|i| {
            let birth = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
                + chrono::Days::new(i as u64 % 15_000);
            shuju_types::CitizenId::from_parts("371521", birth, (i / 15_000) as u16 + 1)
                .map(|id| id.as_str().to_owned())
                .unwrap_or_default()
        })
        .collect();
    let t = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..workers {
        let s = p.services.clone();
        let mine: Vec<String> = applicants
            .iter()
            .skip(w)
            .step_by(workers)
            .cloned()
            .collect();
        tasks.push(tokio::spawn(async move {
            for a in mine {
                one_case(&s, ids, a).await?;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let secs = t.elapsed().as_secs_f64();
    let (n, bad) = p.services.verify(&Caller::system()).await.map_err(err)?;
    anyhow::ensure!(
        n == cases && bad.is_empty(),
        "{} cases do not fold",
        bad.len()
    );
    p.store.close().await;
    Ok((cases as f64 / secs, (cases * 5) as f64 / secs))
}

/// A platform in `dir` with the demo city's departments, a lake of `persons` persons resolved
/// into files, and the demo city's matters.
pub(crate) async fn city(
    dir: &std::path::Path,
    persons: usize,
) -> anyhow::Result<shuju_platform::Platform> {
    let cfg = shuju_platform::Config {
        data_dir: dir.to_owned(),
        ..Default::default()
    };
    let p = shuju_platform::Platform::open(&cfg).await.map_err(err)?;
    p.admin.seed_demo().await.map_err(err)?;
    eprintln!("  Gathering a city of {persons} persons …");
    crate::demo::seed_lake(&p.catalog, &p.lake, &p.admin, dir, persons)
        .await
        .map_err(err)?;
    eprintln!("  Resolving {persons} persons …");
    p.persons.resolve(&Caller::system()).await.map_err(err)?;
    p.services.seed_demo().await.map_err(err)?;
    Ok(p)
}

/// The id of the department named `name`.
pub(crate) async fn dept_id(p: &shuju_platform::Platform, name: &str) -> anyhow::Result<i64> {
    p.admin
        .dept_tree()
        .await
        .map_err(err)?
        .depts
        .into_iter()
        .find(|d| d.name == name)
        .map(|d| d.id)
        .ok_or_else(|| anyhow::anyhow!("no department {name}"))
}

/// The latency of opening a case with consent for a person among `persons`: the file read, the
/// form filled, the pull recorded, the case and its first task written.
async fn autofill(persons: usize, queries: usize) -> anyhow::Result<Vec<Duration>> {
    let dir = tempfile::tempdir()?;
    let p = city(dir.path(), persons).await?;
    let truth = std::fs::read_to_string(dir.path().join("city/truth.csv"))?;
    let residents: Vec<&str> = truth
        .lines()
        .filter_map(|l| l.strip_prefix("gongan_hukou,"))
        .filter_map(|l| l.split(',').next())
        .filter(|id| shuju_types::CitizenId::parse(id).is_ok())
        .collect();
    anyhow::ensure!(!residents.is_empty(), "no residents");
    let centre = Some(dept_id(&p, CENTRE).await?);
    let window = Caller {
        username: "bench".into(),
        dept_id: centre,
        ..Caller::system()
    };
    // 内地居民因私出入境证件: name, sex and birth date filled, ID and household served by data.
    let code = "371500-000104010000-01";
    let mut rng = StdRng::seed_from_u64(7);
    let mut lat = Vec::with_capacity(queries);
    let mut filled = 0;
    for i in 0..queries + 20 {
        let who = residents[rng.gen_range(0..residents.len())];
        let o = OpenCase {
            matter: code.into(),
            applicant: Some(who.to_owned()),
            consent: true,
            ..Default::default()
        };
        let t = Instant::now();
        let c = p.services.open(&window, &o).await.map_err(err)?;
        let d = t.elapsed();
        if i >= 20 {
            lat.push(d);
            filled += usize::from(c.case.form.iter().any(|f| f.value.is_some()));
        }
    }
    anyhow::ensure!(
        filled * 10 >= queries * 9,
        "only {filled} of {queries} forms filled"
    );
    p.store.close().await;
    Ok(lat)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

pub async fn service(
    cases: usize,
    workers: usize,
    rounds: usize,
    persons: usize,
    queries: usize,
    python: String,
    markdown: Option<String>,
) -> anyhow::Result<()> {
    let script = super::script("bench_service_spiff.py");
    let (mut ours, mut ours_cases, mut peer, mut peer_cases) = (vec![], vec![], vec![], vec![]);
    let mut rows = String::new();
    for r in 0..rounds.max(1) {
        let (c, t) = shuju_round(cases, workers).await?;
        let dir = tempfile::tempdir()?;
        let db = dir.path().join("spiff.db");
        let v = run_json(
            &python,
            [
                script.as_str(),
                &cases.to_string(),
                db.to_str().unwrap_or_default(),
            ],
            "SpiffWorkflow",
        )?;
        let (pc, pt) = (
            v["cases_per_s"].as_f64().unwrap_or(0.0),
            v["transitions_per_s"].as_f64().unwrap_or(0.0),
        );
        rows.push_str(&format!(
            "| {} | {c:.0} | {t:.0} | {pc:.0} | {pt:.0} | {:.1}× |\n",
            r + 1,
            t / pt.max(1e-9)
        ));
        eprintln!(
            "  round {}: Shuju {t:.0} transitions/s, SpiffWorkflow {pt:.0}",
            r + 1
        );
        ours.push(t);
        ours_cases.push(c);
        peer.push(pt);
        peer_cases.push(pc);
    }
    let (t, c, pt, pc) = (
        median(&mut ours),
        median(&mut ours_cases),
        median(&mut peer),
        median(&mut peer_cases),
    );
    let fill = if persons > 0 {
        eprintln!("  Auto-fill: gathering a city of {persons} persons …");
        let mut lat = autofill(persons, queries).await?;
        lat.sort();
        format!(
            "\n\nOpening a case with auto-fill (内地居民因私出入境证件: the applicant's consent, the person found by citizen ID among {persons}, the file read from the lake, three fields filled with their sources, two materials served by data, the pull recorded and the case written), {queries} cases one after another: p50 {} ms, p99 {} ms, max {} ms.",
            ms(percentile(&lat, 0.5)),
            ms(percentile(&lat, 0.99)),
            ms(percentile(&lat, 1.0)),
        )
    } else {
        String::new()
    };
    let queries_arg = if persons > 0 {
        format!(" --queries {queries}")
    } else {
        String::new()
    };
    let body = format!(
        "### Service flow: cases from intake to outcome, beside SpiffWorkflow\n\n\
Command: `cargo run --release -p shuju --features bench -- bench service --cases {cases} --workers {workers} --rounds {rounds} --persons {persons}{queries_arg} --python <venv>/bin/python` (the venv: `pip install SpiffWorkflow==3.2.0`)\n\n\
Machine: {}. Each case: opened at the window, accepted, co-approved by two departments in parallel, decided — five transitions, each an event appended and the case's state and tasks written in one SQLite transaction (WAL, synchronous FULL) before it is acknowledged, audited. Shuju: {workers} cases in flight, in-process calls into the service layer. SpiffWorkflow {} on the same graph as BPMN (user tasks, parallel gateways), one case after another in one Python process, its workflow serialised with its own serializer and written to SQLite (WAL, synchronous FULL) in a committed transaction after every step. Every Shuju round ends by replaying every case from its events against the stored state (all fold).\n\n\
| round | Shuju cases/s | Shuju transitions/s | SpiffWorkflow cases/s | SpiffWorkflow transitions/s | ratio |\n|---|---|---|---|---|---|\n{rows}\n\
Medians: Shuju {c:.0} cases/s, {t:.0} transitions/s; SpiffWorkflow {pc:.0} cases/s, {pt:.0} transitions/s; **{:.1}×**.{fill}",
        machine(),
        "3.x",
        t / pt.max(1e-9),
    );
    println!("{body}");
    if let Some(file) = markdown {
        write_section(&file, "service", &body)?;
    }
    Ok(())
}
