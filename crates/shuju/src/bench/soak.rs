//! `shuju bench soak`: the server under a steady mix of work for a long time — gateway calls,
//! license verifications (a nonce and a fresh presentation each), catalog searches and a
//! re-delivery of a provider's table every half minute — at about half of what each benchmark
//! reaches alone, with the server's resident memory sampled every five seconds. It passes when
//! nothing fails and memory after the warm-up grows by no more than 10%.

use super::{
    BenchServer, GatewayWorld, admin_session, build_kind, gateway_world, machine, ms, percentile,
    write_section,
};
use anyhow::Context;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One kind of work: what it did over the run.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    failures: usize,
    /// The first few failures, for the report.
    why: Vec<String>,
}

/// The server's resident memory now (VmRSS), in MiB.
fn rss_mib(pid: u32) -> Option<f64> {
    crate::proc_memory_kib(&pid.to_string(), "VmRSS").map(|kb| kb as f64 / 1024.0)
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// `workers` tasks, together about `rate` calls a second until `deadline`, each call made by `f`.
fn paced<F, Fut>(
    workers: usize,
    rate: f64,
    deadline: Instant,
    f: F,
) -> Vec<tokio::task::JoinHandle<Tally>>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let f = Arc::new(f);
    let next = Arc::new(AtomicUsize::new(0));
    (0..workers)
        .map(|_| {
            let (f, next) = (f.clone(), next.clone());
            let every = Duration::from_secs_f64(workers as f64 / rate);
            tokio::spawn(async move {
                let mut t = Tally::default();
                let mut tick = tokio::time::interval(every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                while Instant::now() < deadline {
                    tick.tick().await;
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let start = Instant::now();
                    match f(i).await {
                        Ok(()) => t.latencies.push(start.elapsed()),
                        Err(e) => {
                            t.failures += 1;
                            if t.why.len() < 3 {
                                t.why.push(format!("{e:#}"));
                            }
                        }
                    }
                }
                t
            })
        })
        .collect()
}

async fn gather(handles: Vec<tokio::task::JoinHandle<Tally>>) -> anyhow::Result<Tally> {
    let mut all = Tally::default();
    for h in handles {
        let t = h.await?;
        all.latencies.extend(t.latencies);
        all.failures += t.failures;
        all.why.extend(t.why);
    }
    all.latencies.sort();
    Ok(all)
}

async fn ok(r: reqwest::RequestBuilder) -> anyhow::Result<Value> {
    let r = r.send().await?;
    let status = r.status();
    let body = r.bytes().await?;
    anyhow::ensure!(
        status.is_success(),
        "{status}: {}",
        String::from_utf8_lossy(&body)
    );
    Ok(serde_json::from_slice(&body).unwrap_or(Value::Null))
}

pub async fn soak(minutes: u64, markdown: Option<String>) -> anyhow::Result<()> {
    let server = BenchServer::start()?;
    let pid = server.child.id();
    let (dir, base) = (&server.dir, server.base.clone());
    let client = reqwest::Client::new();
    let admin = admin_session(&client, &base, dir.path()).await?;
    eprintln!(
        "  setting up: a granted registry of 10,000 enterprises, a catalog of 2,000 entries, 20 licenses …"
    );
    let GatewayWorld {
        grant,
        system,
        keys,
        code,
        csv,
    } = gateway_world(&client, &base, &admin).await?;

    // A catalog to search, imported as a bureau would.
    let depts: Value = ok(client
        .get(format!("{base}/api/v1/departments?size=500"))
        .bearer_auth(&admin))
    .await?;
    let providers: Vec<shuju_synth::catalog::Provider> = depts["items"]
        .as_array()
        .context("departments")?
        .iter()
        .filter(|d| !d["parent_id"].is_null())
        .map(|d| shuju_synth::catalog::Provider {
            id: d["id"].as_i64().unwrap_or_default(),
            name: d["name"].as_str().unwrap_or_default().to_owned(),
        })
        .collect();
    let (mut entries, _) = shuju_synth::catalog::generate(2000, &providers, 7, &Default::default());
    entries.iter_mut().for_each(|(_, s)| *s = None);
    let workbook = shuju_catalog::excel::write_workbook(&entries)?;
    let form = reqwest::multipart::Form::new()
        .text("publish", "true")
        .text("partial", "true")
        .part("file", reqwest::multipart::Part::bytes(workbook));
    ok(client
        .post(format!("{base}/api/v1/catalog/import"))
        .bearer_auth(&admin)
        .multipart(form))
    .await?;
    let words: Vec<String> = entries
        .iter()
        .filter_map(|(e, _)| e.name.chars().take(2).collect::<String>().into())
        .take(200)
        .collect();

    // Licenses whose holders keep their keys, so each verification presents afresh.
    let mut holders = Vec::new();
    for i in 0..20u32 {
        let holder = shuju_types::CitizenId::from_parts(
            "371502",
            chrono::NaiveDate::from_ymd_opt(1970 + i as i32, 3, 1 + i).unwrap_or_default(),
            i as u16,
        )
        .map_err(|e| anyhow::anyhow!(e.message))?;
        let key = shuju_license::jose::generate();
        let lic = ok(client.post(format!("{base}/api/v1/licenses")).bearer_auth(&admin).json(&json!({
            "type_key": "driving_licence", "holder_id": holder.as_str(), "holder_name": format!("驾驶人{i}"),
            "claims": {"name": format!("驾驶人{i}"), "citizen_id": holder.as_str(), "vehicle_class": "C1", "first_issued": "2015-03-01", "address": "聊城市东昌府区"},
            "valid_until": "2032-01-01", "holder_jwk": shuju_license::jose::jwk(key.verifying_key())})))
        .await?;
        holders.push((lic["sd_jwt"].as_str().unwrap_or_default().to_owned(), key));
    }
    let holders = Arc::new(holders);

    // The run.
    let total = Duration::from_secs(minutes * 60);
    let warm_up = (total / 6).min(Duration::from_secs(300));
    let started = Instant::now();
    let deadline = started + total;
    eprintln!(
        "  {minutes} minutes of mixed load (the first {} s are warm-up) …",
        warm_up.as_secs()
    );
    let gw = {
        let (client, base, system, keys) =
            (client.clone(), base.clone(), system.clone(), Arc::new(keys));
        paced(8, 3000.0, deadline, move |i| {
            let r = client
                .get(format!(
                    "{base}/api/v1/gateway/{grant}?key={}",
                    keys[i % keys.len()]
                ))
                .bearer_auth(&system);
            async move { ok(r).await.map(drop) }
        })
    };
    let verify = {
        let (client, base, admin) = (client.clone(), base.clone(), admin.clone());
        paced(8, 1500.0, deadline, move |i| {
            let (client, base, admin, holders) =
                (client.clone(), base.clone(), admin.clone(), holders.clone());
            async move {
                let aud = "window-soak";
                let n = ok(client
                    .post(format!("{base}/api/v1/licenses/nonces"))
                    .bearer_auth(&admin)
                    .json(&json!({ "aud": aud })))
                .await?;
                let nonce = n["nonce"].as_str().context("nonce")?;
                let (sd, key) = &holders[i % holders.len()];
                let p = shuju_license::sdjwt::present(
                    sd,
                    &["name", "vehicle_class"],
                    key,
                    aud,
                    nonce,
                    chrono::Utc::now().timestamp(),
                )
                .map_err(|e| anyhow::anyhow!(e.message))?;
                ok(client
                    .post(format!("{base}/api/v1/licenses/verify"))
                    .json(&json!({"presentation": p, "aud": aud, "nonce": nonce})))
                .await
                .map(drop)
            }
        })
    };
    let search = {
        let (client, base, admin, words) =
            (client.clone(), base.clone(), admin.clone(), Arc::new(words));
        paced(2, 100.0, deadline, move |i| {
            let q: String =
                url::form_urlencoded::byte_serialize(words[i % words.len()].as_bytes()).collect();
            let r = client
                .get(format!("{base}/api/v1/catalog/search?q={q}"))
                .bearer_auth(&admin);
            async move { ok(r).await.map(drop) }
        })
    };
    let deliver = {
        let (client, base, admin, code) =
            (client.clone(), base.clone(), admin.clone(), code.clone());
        let lines: Arc<Vec<String>> = Arc::new(csv.lines().map(str::to_owned).collect());
        paced(1, 1.0 / 30.0, deadline, move |round| {
            // 1% of the registry changes each time (its registered capital).
            let mut text = String::with_capacity(lines.len() * 80);
            for (i, l) in lines.iter().enumerate() {
                if i > 0 && i % 100 == round % 100 {
                    let (head, _) = l.rsplit_once(',').unwrap_or((l, ""));
                    text.push_str(&format!("{head},{}\n", 1000 + round));
                } else {
                    text.push_str(l);
                    text.push('\n');
                }
            }
            let form = reqwest::multipart::Form::new()
                .text("resource_code", code.clone())
                .text("file_name", format!("registry-{round}.csv"))
                .part("file", reqwest::multipart::Part::bytes(text.into_bytes()));
            let r = client
                .post(format!("{base}/api/v1/lake/ingest"))
                .bearer_auth(&admin)
                .multipart(form);
            async move { ok(r).await.map(drop) }
        })
    };
    let sampler = tokio::spawn(async move {
        let mut samples = Vec::new();
        while Instant::now() < deadline {
            if let Some(m) = rss_mib(pid) {
                samples.push((started.elapsed(), m));
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        samples
    });
    let kinds = [
        ("gateway calls", gather(gw).await?),
        (
            "license verifications (nonce + verify)",
            gather(verify).await?,
        ),
        ("catalog searches", gather(search).await?),
        (
            "re-deliveries of the registry (10,000 rows, 1% changed)",
            gather(deliver).await?,
        ),
    ];
    let samples = sampler.await?;
    let elapsed = started.elapsed().as_secs_f64();

    // Memory: the median over the minutes after the warm-up against the median of the last ones.
    let window = (total / 6).max(Duration::from_secs(30));
    let after_warm_up: Vec<f64> = samples
        .iter()
        .filter(|(t, _)| *t >= warm_up && *t < warm_up + window)
        .map(|s| s.1)
        .collect();
    let at_end: Vec<f64> = samples
        .iter()
        .filter(|(t, _)| *t + window >= total)
        .map(|s| s.1)
        .collect();
    let (base_mib, end_mib) = (median(after_warm_up), median(at_end));
    let peak = samples.iter().map(|s| s.1).fold(0.0, f64::max);
    let growth = (end_mib / base_mib - 1.0) * 100.0;
    let failures: usize = kinds.iter().map(|(_, t)| t.failures).sum();
    let mut rows = String::new();
    for (name, t) in &kinds {
        rows.push_str(&format!(
            "| {name} | {:.2} | {} | {} | {} |\n",
            t.latencies.len() as f64 / elapsed,
            ms(percentile(&t.latencies, 0.5)),
            ms(percentile(&t.latencies, 0.99)),
            t.failures
        ));
    }
    let why: Vec<String> = kinds
        .iter()
        .flat_map(|(name, t)| t.why.iter().map(move |w| format!("- {name}: {w}")))
        .collect();
    let met = failures == 0 && growth <= 10.0;
    let body = format!(
        "### Soak: {minutes} minutes of mixed load\n\n\
Command: `cargo run --release -p shuju --features bench -- bench soak --minutes {minutes}`\n\n\
Machine: {machine}. Build: {build}. The server (`shuju serve`, SQLite) runs as a child process; this process is the load \
generator on loopback, paced at about half of what each benchmark reaches alone (gateway 3,000 calls/s of 5,980; \
verifications 1,500/s, each with its own nonce request; 100 searches/s; a re-delivery every 30 s). The server's resident \
memory is sampled every 5 s; the first {warm} s are warm-up.\n\n\
| work | per second | p50 ms | p99 ms | failures |\n|---|---|---|---|---|\n{rows}\n\
Server memory: {base_mib:.0} MiB after the warm-up (median of the next {window} s), {end_mib:.0} MiB at the end (median of \
the last {window} s), peak {peak:.0} MiB: growth {growth:+.1}%.\n\n\
Goal: no growth beyond 10% after warm-up, zero errors — {verdict}.{why}",
        machine = machine(),
        build = build_kind(),
        warm = warm_up.as_secs(),
        window = window.as_secs(),
        verdict = if met { "met" } else { "**not met**" },
        why = if why.is_empty() {
            String::new()
        } else {
            format!("\n\nFailures seen:\n{}", why.join("\n"))
        },
    );
    #[allow(clippy::print_stdout)]
    {
        println!("{body}");
    }
    if let Some(file) = &markdown {
        write_section(file, "soak", &body)?;
        eprintln!("written to {file}");
    }
    anyhow::ensure!(met, "the soak run did not meet its goal");
    Ok(())
}
