//! `shuju`: the one binary of the platform.

// Standard output is the interface of the CLI commands; libraries never print.
#![allow(clippy::print_stdout)]

#[cfg(feature = "bench")]
mod bench;
mod demo;
mod progress;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use shuju_platform::{Config, Overrides, Platform};
use shuju_store::{Migrate, Store};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "shuju",
    version,
    about = "Shuju (数聚): the city data platform"
)]
struct Cli {
    /// The configuration file (default: DATA_DIR/shuju.toml).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone, Debug, Default)]
struct ServeArgs {
    /// Data directory (default ./shuju-data; ./shuju-demo for `demo`).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long)]
    listen: Option<String>,
    /// Metadata database URL (default: SQLite in the data dir), e.g. postgres://user:pw@host/db.
    #[arg(long)]
    database: Option<String>,
}

#[derive(Args, Clone, Debug)]
struct DemoArgs {
    #[command(flatten)]
    serve: ServeArgs,
    /// How many catalog entries to generate on the first run (30000 for the full city).
    #[arg(long, default_value_t = 3000)]
    catalog_entries: usize,
    /// How many persons the demo city has on the first run.
    #[arg(long, default_value_t = 5000)]
    persons: usize,
}

#[derive(Subcommand)]
enum Command {
    /// Start the platform.
    Serve(ServeArgs),
    /// Start the platform with the demo city: divisions, departments, users, a generated catalog.
    Demo(DemoArgs),
    /// Configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// The audit chain.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Print the OpenAPI 3.1 document of the server (the same as GET /api/openapi.json).
    Openapi,
    /// Electronic licenses.
    #[command(subcommand)]
    License(LicenseCommand),
    /// Generate the synthetic city's deliveries (deterministic for a seed).
    Synth {
        #[arg(long, default_value_t = 20_000)]
        persons: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Load deliveries into a resource's lake table (one atomic commit per file).
    Ingest {
        #[command(flatten)]
        serve: ServeArgs,
        /// The catalog entry's resource code.
        #[arg(long)]
        resource: String,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Run a read-only SQL query over the lake; personal data masked unless --unmasked.
    Sql {
        #[command(flatten)]
        serve: ServeArgs,
        query: String,
        /// Read a table at a past version: TABLE=VERSION (repeatable).
        #[arg(long = "as-of")]
        as_of: Vec<String>,
        /// Show personal data unmasked (audited as such).
        #[arg(long)]
        unmasked: bool,
        #[arg(long, default_value_t = 1000)]
        limit: usize,
    },
    /// Resolve the persons (一人一档) and the enterprises (一企一档) in the lake's sources:
    /// deterministic links on citizen IDs and credit codes (old registration numbers read through
    /// the registry), the Fellegi–Sunter model for the rest; IDs of the last run carry over.
    Resolve {
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Benchmarks (build with --release --features bench); figures go to docs/BENCHMARKS.md.
    #[cfg(feature = "bench")]
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

#[derive(Subcommand)]
enum LicenseCommand {
    /// Print SD-JWT and SM2 test vectors (JSON) for independent verifiers.
    TestVectors,
    /// Judge a vectors file with Shuju's verifier; exit 1 when a verdict differs from its label.
    CheckVectors { file: PathBuf },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the effective configuration (secrets hidden).
    Print(ServeArgs),
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check every link of the audit chain; exit 0 when whole, 1 naming the first broken record.
    Verify(ServeArgs),
}

fn overrides(cli_config: &Option<PathBuf>, a: &ServeArgs) -> Overrides {
    Overrides {
        config: cli_config.clone(),
        data_dir: a.data_dir.clone(),
        listen: a.listen.clone(),
        database: a.database.clone(),
    }
}

fn init_tracing(filter: &str) {
    let mut filter = std::env::var("RUST_LOG").unwrap_or_else(|_| filter.to_owned());
    // tantivy warns about merges racing commits, which is harmless; keep its errors.
    if !filter.contains("tantivy") {
        filter.push_str(",tantivy=error");
    }
    // The Delta kernel narrates every snapshot at info, and logs an error for every table folder
    // it probes before the table's first commit; its real failures come back as errors anyway.
    for (noisy, level) in [
        ("buoyant_kernel", "off"),
        ("delta_kernel", "warn"),
        ("deltalake_core", "error"),
    ] {
        if !filter.contains(noisy) {
            filter.push_str(&format!(",{noisy}={level}"));
        }
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .try_init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Serve(a) => {
            let cfg = Config::load(&overrides(&cli.config, a), "./shuju-data")?;
            serve(cfg, None).await
        }
        Command::Demo(a) => {
            let cfg = Config::load(&overrides(&cli.config, &a.serve), "./shuju-demo")?;
            serve(cfg, Some((a.catalog_entries, a.persons))).await
        }
        Command::Ingest {
            serve,
            resource,
            files,
        } => {
            let cfg = Config::load(&overrides(&cli.config, serve), "./shuju-data")?;
            init_tracing("warn");
            ingest(cfg, resource, files).await
        }
        Command::Sql {
            serve,
            query,
            as_of,
            unmasked,
            limit,
        } => {
            let cfg = Config::load(&overrides(&cli.config, serve), "./shuju-data")?;
            init_tracing("warn");
            sql(cfg, query, as_of, *unmasked, *limit).await
        }
        Command::Resolve { serve } => {
            let cfg = Config::load(&overrides(&cli.config, serve), "./shuju-data")?;
            init_tracing("warn");
            let store = open_store(&cfg, Migrate::CheckOnly).await?;
            let lake = open_lake(&cfg, &store).await?;
            let r = shuju_identity::persons::Persons::new(store.clone(), lake.clone())
                .resolve(&cli_caller())
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            print_resolution(&r, "persons", "citizen IDs");
            let r = shuju_identity::enterprises::Enterprises::new(store, lake)
                .resolve(&cli_caller())
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            print_resolution(&r, "enterprises", "credit codes");
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "bench")]
        Command::Bench(b) => bench::run(b).await,
        Command::Config(ConfigCommand::Print(a)) => {
            let cfg = Config::load(&overrides(&cli.config, a), "./shuju-data")?;
            std::io::stdout().write_all(cfg.printable()?.as_bytes())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::License(LicenseCommand::TestVectors) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or_default();
            let v = shuju_license::vectors::generate_vectors(now)
                .map_err(|e| anyhow::anyhow!(e.message))?;
            writeln!(std::io::stdout(), "{}", serde_json::to_string_pretty(&v)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::License(LicenseCommand::CheckVectors { file }) => {
            let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(file)?)?;
            let mut wrong = 0;
            for (case, expect, got) in
                shuju_license::vectors::judge(&v).map_err(|e| anyhow::anyhow!(e.message))?
            {
                let ok = got.starts_with(&expect);
                wrong += usize::from(!ok);
                println!(
                    "{case:<20} expected {expect:<6} shuju: {got} {}",
                    if ok { "ok" } else { "MISMATCH" }
                );
            }
            Ok(if wrong == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Synth { persons, seed, out } => {
            let bar = indicatif::ProgressBar::new_spinner().with_style(
                indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}")?,
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar.set_message(format!("generating a city of {persons} persons"));
            let t = std::time::Instant::now();
            let s = shuju_synth::city::generate(*persons, *seed, out, |n| {
                bar.set_message(format!("{n} records written"))
            })
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            bar.finish_and_clear();
            let secs = t.elapsed().as_secs_f64();
            for (f, n) in &s.files {
                println!("{n:>10}  {}", f.display());
            }
            println!(
                "{} records for {} persons in {secs:.1} s ({:.0} records/min); truth in {}",
                s.records,
                s.persons,
                s.records as f64 / secs * 60.0,
                out.join("truth.csv").display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Openapi => {
            let doc = serde_json::to_string_pretty(&shuju_web::openapi_document())?;
            match writeln!(std::io::stdout(), "{doc}") {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
                _ => Ok(ExitCode::SUCCESS),
            }
        }
        Command::Audit(AuditCommand::Verify(a)) => {
            let cfg = Config::load(&overrides(&cli.config, a), "./shuju-data")?;
            audit_verify(cfg).await
        }
    }
}

async fn open_store(cfg: &Config, migrate: Migrate) -> anyhow::Result<Store> {
    let url = cfg.database_url();
    if cfg.database.is_none() {
        if migrate == Migrate::CheckOnly && !cfg.data_dir.join("shuju.db").exists() {
            anyhow::bail!("no database in {}", cfg.data_dir.display());
        }
        std::fs::create_dir_all(&cfg.data_dir)
            .with_context(|| format!("cannot create the data dir {}", cfg.data_dir.display()))?;
    }
    Store::open(&url, migrate)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))
}

async fn open_lake(cfg: &Config, store: &Store) -> anyhow::Result<shuju_lake::Lake> {
    let mut lake = shuju_lake::Lake::open(&cfg.lake_location(), store.clone())
        .map_err(|e| anyhow::anyhow!("cannot open the lake: {}", e.message))?
        .with_limits(cfg.limits);
    if lake.root().scheme() != "file" {
        // Files handed to departments stay on this machine when the tables are in a store.
        lake = lake.with_spaces(cfg.data_dir.join("exchange"));
    }
    lake.recover()
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    Ok(lake)
}

/// The caller of maintenance commands run on the server itself.
fn cli_caller() -> shuju_admin::Caller {
    shuju_admin::Caller {
        username: "cli".into(),
        client: Some("cli".into()),
        ..shuju_admin::Caller::system()
    }
}

async fn ingest(cfg: Config, resource: &str, files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let store = open_store(&cfg, Migrate::CheckOnly).await?;
    let lake = open_lake(&cfg, &store).await?;
    let caller = cli_caller();
    let mut failed = false;
    for f in files {
        anyhow::ensure!(f.is_file(), "cannot read {}", f.display());
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let r = progress::ingest(&lake, &caller, resource, f, &name).await;
        match r {
            Ok(r) => println!(
                "{name}: job {} → {}: read {}, inserted {}, updated {}, rejected {}, flagged {}, duplicates {}, version {}{}",
                r.job_id,
                r.table,
                r.rows_read,
                r.inserted,
                r.updated,
                r.rejected,
                r.flagged,
                r.duplicates,
                r.version
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "unchanged".into()),
                if r.unmapped_headers.is_empty() {
                    String::new()
                } else {
                    format!("; ignored columns: {}", r.unmapped_headers.join(", "))
                }
            ),
            Err(e) => {
                failed = true;
                eprintln!("{name}: refused: {}", e.message);
            }
        }
    }
    store.close().await;
    if let Some(mib) = peak_memory_mib() {
        eprintln!("peak memory: {mib} MiB");
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// A memory figure of a process (`self` or a pid) from `/proc/<pid>/status`, in KiB:
/// `VmHWM` (the most it has held) or `VmRSS` (what it holds now).
pub(crate) fn proc_memory_kib(pid: &str, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The most memory this process has held (VmHWM), in MiB.
pub(crate) fn peak_memory_mib() -> Option<u64> {
    proc_memory_kib("self", "VmHWM").map(|kb| kb / 1024)
}

pub(crate) fn print_resolution(r: &shuju_identity::persons::RunReport, what: &str, ids: &str) {
    eprintln!(
        "  Resolution run {}: {} records → {} {what} ({} linked on {ids}, {} by the model, {} pairs for review); {} new, {} merged, {} split.",
        r.run_id,
        r.records,
        r.persons,
        r.stats.deterministic_links,
        r.stats.probabilistic_links,
        r.stats.review,
        r.changes.created,
        r.changes.merged.len(),
        r.changes.split.len()
    );
    for (survivor, olds) in &r.changes.merged {
        eprintln!("    merged into {survivor}: {}", olds.join(", "));
    }
    for (old, new) in &r.changes.split {
        eprintln!("    split from {old}: {}", new.join(", "));
    }
}

async fn sql(
    cfg: Config,
    query: &str,
    as_of: &[String],
    unmasked: bool,
    limit: usize,
) -> anyhow::Result<ExitCode> {
    let store = open_store(&cfg, Migrate::CheckOnly).await?;
    let lake = open_lake(&cfg, &store).await?;
    let mut versions = std::collections::BTreeMap::new();
    for a in as_of {
        let (t, v) = a.split_once('=').context("--as-of takes TABLE=VERSION")?;
        versions.insert(
            t.to_owned(),
            v.parse::<i64>().context("a version is a number")?,
        );
    }
    let mut caller = cli_caller();
    if !unmasked {
        caller.permissions = vec![shuju_admin::perm::LAKE_QUERY.into()];
    }
    let r = lake
        .sql(&caller, query, &versions, limit)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", r.columns.join("\t"))?;
    for row in &r.rows {
        let cells: Vec<String> = r
            .columns
            .iter()
            .map(|c| match row.get(c) {
                None | Some(serde_json::Value::Null) => "NULL".into(),
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
            })
            .collect();
        writeln!(out, "{}", cells.join("\t"))?;
    }
    if r.truncated {
        writeln!(out, "… (first {limit} rows)")?;
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Serve; with `demo`, first grow the demo city with that many catalog entries and persons.
async fn serve(mut cfg: Config, demo: Option<(usize, usize)>) -> anyhow::Result<ExitCode> {
    init_tracing(&cfg.log);
    let listener = tokio::net::TcpListener::bind(&cfg.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cfg.listen))?;
    let addr = listener.local_addr()?;
    if cfg.public_url.is_none() {
        cfg.public_url = Some(format!("http://{addr}"));
    }
    let platform = Platform::open(&cfg)
        .await
        .map_err(|e| anyhow::anyhow!("cannot start: {}", e.message))?;
    if let Some(pw) = &platform.first_password {
        let file = cfg.data_dir.join("initial-admin-password");
        eprintln!();
        eprintln!("  First start: the account 'admin' was created with a one-time password:");
        eprintln!();
        eprintln!("      {pw}");
        eprintln!();
        eprintln!("  It is also in {} (readable by you only).", file.display());
        eprintln!("  It must be changed at first login.");
        eprintln!();
    }
    if let Some((entries, persons)) = demo {
        demo::grow(&platform, entries, persons).await?;
    }
    let _background = platform.spawn_background();
    eprintln!("  Shuju is running: open http://{addr}/  (API docs: http://{addr}/api/docs)");
    tracing::info!(%addr, backend = ?platform.store.backend(), "listening");
    shuju_web::serve(listener, platform.clone(), shutdown_signal()).await?;
    platform.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down");
}

async fn audit_verify(cfg: Config) -> anyhow::Result<ExitCode> {
    let store = open_store(&cfg, Migrate::CheckOnly).await?;
    let report = shuju_admin::journal::verify_audit_chain(&store)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    store.close().await;
    match &report.broken {
        None => {
            println!(
                "audit chain whole: {} records, head {}",
                report.records, report.head_seq
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(b) => {
            println!("audit chain BROKEN at record {}: {}", b.seq, b.reason);
            Ok(ExitCode::from(1))
        }
    }
}
