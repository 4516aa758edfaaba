//! `shuju bench instant`: instant decisions (秒批) end to end — the applicant found among many
//! persons, the form filled from their file, the facts read, a valid driving licence checked, the
//! rules run, the pass issued, the receipt signed with ES256 and SM2, all committed — per second
//! and their p99; then a replay of a draft rule version over many past cases. The peer, in the
//! same run: the same decision tables evaluated by GoRules' own Python binding (zen-engine) over
//! the same facts.

use super::{machine, ms, percentile, run_json, write_section};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use shuju_admin::Caller;
use shuju_identity::checks;
use shuju_service::OpenCase;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The demo city's city-entry pass (an instant matter: rules `vehicle_entry`).
const MATTER: &str = "371500-000104003000-01";
const CENTRE: &str = "阳谷县行政审批服务局";

fn err(e: shuju_types::Error) -> anyhow::Error {
    anyhow::anyhow!(e.message)
}

/// The built-in rules with the pass threshold moved: one or two vehicles pass, more go to an
/// officer.
fn draft() -> anyhow::Result<Value> {
    let mut jdm: Value = serde_json::from_str(checks::BUILT_IN[3].2)?;
    for r in jdm["nodes"][1]["content"]["rules"]
        .as_array_mut()
        .into_iter()
        .flatten()
    {
        if r["_id"] == "r5" {
            r["in_vehicles"] = json!("[1..2]");
        }
        if r["_id"] == "r7" {
            r["in_vehicles"] = json!("> 2");
        }
    }
    Ok(jdm)
}

pub async fn instant(
    decisions: usize,
    workers: usize,
    persons: usize,
    replay_cases: usize,
    python: String,
    markdown: Option<String>,
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let p = super::service::city(dir.path(), persons).await?;
    let sys = Caller::system();

    // Applicants: residents, four in five of them owners of a vehicle.
    let truth = std::fs::read_to_string(dir.path().join("city/truth.csv"))?;
    let mut by_uid: HashMap<&str, &str> = HashMap::new();
    let mut owners = Vec::new();
    for l in truth.lines() {
        let f: Vec<&str> = l.split(',').collect();
        match f.as_slice() {
            ["gongan_hukou", id, uid] => {
                by_uid.insert(uid, id);
            }
            ["gongan_vehicles", _, uid] => owners.push(*uid),
            _ => {}
        }
    }
    let residents: Vec<&str> = by_uid
        .values()
        .copied()
        .filter(|id| shuju_types::CitizenId::parse(id).is_ok())
        .collect();
    let owners: Vec<&str> = owners
        .iter()
        .filter_map(|u| by_uid.get(u).copied())
        .filter(|id| shuju_types::CitizenId::parse(id).is_ok())
        .collect();
    anyhow::ensure!(!owners.is_empty(), "no vehicle owners");
    let mut rng = StdRng::seed_from_u64(11);
    let mut applicants: Vec<String> = (0..decisions)
        .map(|i| {
            let pool = if i % 5 == 4 { &residents } else { &owners };
            pool[rng.gen_range(0..pool.len())].to_owned()
        })
        .collect();
    applicants.sort();
    applicants.dedup();
    let centre = super::service::dept_id(&p, CENTRE).await?;
    eprintln!(
        "  Issuing {} driving licences to the applicants …",
        applicants.len()
    );
    for (i, a) in applicants.iter().enumerate() {
        let claims = json!({"name": "申请人", "citizen_id": a, "vehicle_class": "C1",
            "first_issued": "2015-03-01", "address": "聊城市"});
        let input = shuju_license::registry::IssueInput {
            type_key: "driving_licence".into(),
            holder_id: a.clone(),
            holder_name: "申请人".into(),
            claims: claims.as_object().cloned().unwrap_or_default(),
            valid_from: Some("2025-01-01".into()),
            valid_until: Some("2031-01-01".into()),
            holder_jwk: None,
        };
        p.licenses
            .issue_from(&sys, input, None, Some((&format!("bench:{i}"), centre)))
            .await
            .map_err(err)?;
    }
    use rand::seq::SliceRandom;
    applicants.shuffle(&mut rng);

    // What a server does in the background at start: hold the file indexes.
    eprintln!("  Holding the indexes persons' files are read from …");
    let held = p.persons.warm().await.map_err(err)?;
    eprintln!("  {held} tables held");

    // Decisions, `workers` in flight.
    let window = Caller {
        username: "bench".into(),
        dept_id: Some(centre),
        ..Caller::system()
    };
    eprintln!(
        "  Deciding {} cases, {workers} in flight …",
        applicants.len()
    );
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..workers {
        let s = p.services.clone();
        let window = window.clone();
        let mine: Vec<String> = applicants
            .iter()
            .skip(w)
            .step_by(workers)
            .cloned()
            .collect();
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for a in mine {
                let o = OpenCase {
                    matter: MATTER.into(),
                    applicant: Some(a),
                    consent: true,
                    values: [("plate", "鲁P·A1234"), ("zone", "东昌府区主城区")]
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                        .collect(),
                    answers: [("vehicle_kind".to_owned(), "客车".to_owned())].into(),
                    ..Default::default()
                };
                let t = Instant::now();
                let c = s.open(&window, &o).await.map_err(err)?;
                out.push((t.elapsed(), c));
            }
            anyhow::Ok(out)
        }));
    }
    let mut lat: Vec<Duration> = Vec::new();
    let mut views = Vec::new();
    for t in tasks {
        for (d, c) in t.await?? {
            lat.push(d);
            views.push(c);
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    lat.sort();
    let n = views.len();
    let count = |s: &str| views.iter().filter(|v| v.status == s).count();
    let (approved, refused) = (count("approved"), count("refused"));
    let issued = views.iter().filter(|v| v.case.license.is_some()).count();
    let manual = n - approved - refused;
    anyhow::ensure!(
        approved > n / 2 && issued == approved,
        "approved {approved}, issued {issued} of {n}"
    );
    // Every decided case has its receipt, and a sample verifies against the trust list.
    let trust = p.licenses.trust_list().await.map_err(err)?;
    for v in views.iter().filter(|v| v.case.decided.is_some()).take(50) {
        let r = p.services.receipt(&sys, v.id).await.map_err(err)?;
        shuju_license::receipt::verify(&serde_json::to_value(&r)?, &trust).map_err(err)?;
    }
    let rate = n as f64 / secs;

    // Past cases for the replay: the facts of the decided cases, varied.
    let facts: Vec<Value> = views
        .iter()
        .filter_map(|v| v.case.screened.as_ref())
        .filter(|s| !s.rows.is_empty())
        .map(shuju_service::case::Screened::facts_object)
        .collect();
    anyhow::ensure!(!facts.is_empty(), "no case was ruled");
    let past: Vec<Value> = (0..replay_cases)
        .map(|i| {
            let mut f = facts[i % facts.len()].clone();
            f["vehicles"] = json!(rng.gen_range(0..6));
            f
        })
        .collect();
    eprintln!("  Importing {replay_cases} past cases …");
    p.services
        .import_screenings(&sys, MATTER, &past)
        .await
        .map_err(err)?;
    let draft = draft()?;
    let t = Instant::now();
    let replay = p
        .services
        .replay(&sys, "vehicle_entry", &draft.to_string())
        .await
        .map_err(err)?;
    let replay_secs = t.elapsed().as_secs_f64();
    let flips = replay.report["flips"].as_array().map_or(0, Vec::len);
    anyhow::ensure!(
        replay.report["cases"].as_u64() >= Some(replay_cases as u64),
        "replayed {}",
        replay.report["cases"]
    );

    // The peer: the same tables, the same facts, GoRules' Python binding.
    let decided_facts: Vec<&Value> = facts.iter().collect();
    let job = json!({
        "decide": serde_json::from_str::<Value>(checks::BUILT_IN[3].2)?,
        "facts": decided_facts,
        "replay": draft,
        "replay_facts": past,
    });
    let job_file = dir.path().join("zen-job.json");
    std::fs::write(&job_file, job.to_string())?;
    let script = super::script("bench_instant_zen.py");
    let peer = run_json(
        &python,
        [script.as_str(), job_file.to_str().unwrap_or_default()],
        "zen-engine",
    )?;
    let (peer_rate, peer_p99, peer_replay) = (
        peer["decisions_per_s"].as_f64().unwrap_or(0.0),
        peer["p99_ms"].as_f64().unwrap_or(0.0),
        peer["replay_secs"].as_f64().unwrap_or(0.0),
    );
    p.store.close().await;

    let body = format!(
        "### Instant decisions (秒批) and replay, beside zen-engine\n\n\
Command: `cargo run --release -p shuju --features bench -- bench instant --decisions {decisions} --workers {workers} --persons {persons} --replay {replay_cases} --python <venv>/bin/python` (the venv: `pip install zen-engine==2.1.3`)\n\n\
Machine: {}. A city of {persons} persons gathered and resolved. Each decision: the city-entry pass (车辆进城通行证) opened at the window with consent — the applicant found by citizen ID, the file read, the form filled, three facts read, the driving licence's standing checked, the `vehicle_entry` decision table run, the pass issued (SD-JWT, SM2 seal, status-list entry), the case and its receipt (ES256 JWS + SM2 seal) committed to SQLite (WAL, synchronous FULL); {workers} cases in flight. Four in five applicants own a vehicle; every applicant holds a valid driving licence.\n\n\
| | Shuju (end to end) | zen-engine {} (rules only, same facts) |\n|---|---|---|\n\
| decisions/s | {rate:.0} | {peer_rate:.0} |\n\
| p50 | {} ms | — |\n\
| p99 | {} ms | {peer_p99:.2} ms |\n\
| replay of {replay_cases} past cases | {replay_secs:.2} s ({flips} flip) | {peer_replay:.2} s (evaluation only) |\n\n\
Outcomes: {approved} approved (each with its pass: {issued}), {refused} refused, {manual} to an officer, of {n}. Fifty receipts verified against the trust list. The replay reads every past case's facts from the screenings, evaluates the draft (the pass threshold moved from three vehicles to two), compares routes, lists the flips with the rows that differ, runs the gap analysis and keeps the report.",
        machine(),
        "2.1.3",
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.99)),
    );
    println!("{body}");
    if let Some(file) = markdown {
        write_section(&file, "instant", &body)?;
    }
    Ok(())
}
