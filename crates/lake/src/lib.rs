//! The lake: the platform's four libraries (基础库, 主题库, 专题库, 通用业务库) as Delta Lake tables,
//! with ingestion, validation, quarantine, lineage, quality and SQL through DataFusion with masking.
//!
//! DataFusion and deltalake are dependencies of this crate only, so the rest of the workspace
//! rebuilds quickly. Other crates see plain types: [`TableSpec`], [`LoadReport`], [`QueryResult`].
//!
//! Invariants:
//! - Every load is one Delta commit (data) tagged with the job, the source file's hash and the
//!   counts; a load killed at any moment leaves the table at its previous version, and re-running
//!   it completes it (the upsert by key makes a repeated delivery add nothing).
//! - The quarantine of a delivery is replaced, not appended, when the same file is delivered again.
//! - Callers without `lake:data:unmasked` only ever see sensitive columns through masking views.

mod access;
pub mod changes;
pub mod clean;
pub mod drop;
pub mod index;
pub mod keys;
pub mod load;
pub mod query;
pub mod read;
mod s3;
pub mod sketch;
pub mod spec;
pub mod upsert;

pub use access::Readers;
/// A load job by its id: the provenance shown beside a fact read from the table it loaded.
pub use shuju_store::lake::get_job;
pub use shuju_store::lake::{JobRow, QualityRow};
pub use shuju_types::Library;
pub use spec::{Check, ColumnSpec, Kind, TableSpec};

use datafusion::arrow::array::{Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use deltalake::DeltaTable;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::protocol::SaveMode;
use futures::TryStreamExt;
use serde_json::json;
use sha2::{Digest, Sha256};
use shuju_admin::{Caller, perm};
use shuju_store::Store;
use shuju_store::audit::{self, Outcome};
use shuju_store::lake::{self as meta, JobEnd, TableRow};
use shuju_types::{Error, Result};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use url::Url;

/// The lake service.
#[derive(Clone)]
pub struct Lake {
    root: Url,
    /// The local folder of the files handed to departments (bulk deliveries): under the lake
    /// when the lake is a folder, set with [`Lake::with_spaces`] when it is an object store.
    spaces: Option<PathBuf>,
    store: Store,
    locks: Arc<std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
    /// The newest snapshot of each folder table read, reused while its log has no newer
    /// commit: opening a table replays its log, which reads of one record cannot afford.
    latest: Arc<std::sync::Mutex<HashMap<Url, Held>>>,
    indexes: Arc<index::Indexes>,
    /// Finished load jobs by id (a finished job does not change again).
    jobs: Arc<std::sync::Mutex<HashMap<i64, JobRow>>>,
    /// Each table's last delivery, as read at most every [`DELIVERED_TTL`].
    delivered: Arc<shuju_store::Keyed<String, Option<String>>>,
    /// The table specs, read by every record read (cleared when this lake saves one).
    specs: Arc<shuju_store::Cached<Vec<Arc<TableSpec>>>>,
    /// Threads that clean a CSV delivery's chunks while it is parsed; fewer than two: the
    /// loading thread cleans them itself (see [`Lake::with_cleaners`]).
    cleaners: usize,
    /// What reading one delivery may hold (see [`read::Limits`]).
    limits: read::Limits,
}

impl std::fmt::Debug for Lake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lake")
            .field("root", &self.root.as_str())
            .finish()
    }
}

/// What one load did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct LoadReport {
    pub job_id: i64,
    pub table: String,
    pub file_name: String,
    pub file_sha256: String,
    pub format: Option<read::Format>,
    pub encoding: Option<read::Encoding>,
    pub rows_read: u64,
    pub inserted: u64,
    pub updated: u64,
    pub rejected: u64,
    pub duplicates: u64,
    /// Rows kept with a value that failed its check, set aside and flagged (see
    /// [`spec::OnInvalid`]), and per column how many.
    pub flagged: u64,
    pub flagged_columns: BTreeMap<String, u64>,
    /// The table version this load committed; `None` when it changed nothing.
    pub version: Option<i64>,
    pub unmapped_headers: Vec<String>,
    /// Milliseconds spent in each phase: hash, read_validate, quarantine, commit, quality.
    pub phases_ms: BTreeMap<String, u64>,
}

/// A table as listed: what it holds, how big, how good.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TableInfo {
    pub spec: TableSpec,
    pub version: Option<i64>,
    pub rows: u64,
    pub rejected: u64,
    pub last_job: Option<JobRow>,
    /// Table-level quality of the newest version.
    pub quality: Option<QualityRow>,
    /// Whether the newest delivery is within the entry's update cycle.
    pub timely: Option<bool>,
}

/// One version of a table and what made it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct VersionInfo {
    pub version: i64,
    /// Milliseconds since the epoch.
    pub timestamp: Option<i64>,
    pub operation: Option<String>,
    /// The platform's tags: job, file, hash, counts, or the sources of a build.
    pub shuju: serde_json::Value,
    pub metrics: serde_json::Value,
}

/// A quarantined row.
#[derive(Clone, Debug, serde::Serialize)]
pub struct QuarantinedRow {
    pub job: i64,
    pub file_name: String,
    pub row: i64,
    pub column: Option<String>,
    pub reason: String,
    /// The source row; values of sensitive columns masked unless the caller may see them.
    pub raw: serde_json::Value,
}

/// The answer to a query.
#[derive(Clone, Debug, serde::Serialize)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<serde_json::Map<String, serde_json::Value>>,
    pub truncated: bool,
    /// True when the caller saw sensitive columns masked.
    pub masked: bool,
    pub tables: Vec<String>,
}

pub const QUARANTINE: &str = "_quarantine";

/// How long a table's last delivery, once read, is trusted (another process's loads show within
/// it).
pub const DELIVERED_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// Flagged values in a table version: rows with any, and per column.
#[derive(Default)]
struct Flagged {
    rows: i64,
    columns: HashMap<String, i64>,
}

/// A folder table's newest snapshot, and the modification time its log folder had when the log
/// last showed the snapshot current.
struct Held {
    table: DeltaTable,
    /// Kept only when that time was already [`SETTLED`] old: a commit, by this process or another,
    /// adds a file to the folder and so sets its time to the present, which then differs from a
    /// settled one (a time taken within the same clock tick as the commit could not be told apart).
    settled: Option<std::time::SystemTime>,
}

/// How old a log folder's modification time must be before an unchanged time proves no commit.
const SETTLED: std::time::Duration = std::time::Duration::from_secs(1);

/// The transaction log folder of a folder table (`None` for a table in an object store).
fn log_dir(url: &Url) -> Option<PathBuf> {
    Some(url.to_file_path().ok()?.join("_delta_log"))
}

/// The modification time of a log folder, `None` when there is none.
fn log_time(log: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(log).and_then(|m| m.modified()).ok()
}

/// Whether a log folder holds commit `v` and no later one.
fn current_in_log(log: &Path, v: i64) -> bool {
    log.join(format!("{v:020}.json")).is_file() && !log.join(format!("{:020}.json", v + 1)).exists()
}

/// Count the flagged values of a table version: one pass over its `_flagged` column (a table
/// written before flags has none).
async fn flagged_counts(t: &DeltaTable) -> Result<Flagged> {
    let provider = t.table_provider().await.map_err(query::df_err)?;
    if provider.schema().field_with_name(spec::FLAGGED).is_err() {
        return Ok(Flagged::default());
    }
    let ctx = query::session();
    ctx.register_table("t", provider).map_err(query::df_err)?;
    let batches = query::collect(
        &ctx,
        &format!(
            "SELECT \"{0}\" FROM t WHERE \"{0}\" IS NOT NULL",
            spec::FLAGGED
        ),
    )
    .await?;
    let mut out = Flagged::default();
    for b in &batches {
        let col = datafusion::arrow::compute::cast(b.column(0), &DataType::Utf8)
            .map_err(Error::internal)?;
        let Some(col) = col.as_any().downcast_ref::<StringArray>() else {
            continue;
        };
        for v in col.iter().flatten() {
            out.rows += 1;
            if let Ok(serde_json::Value::Object(m)) = serde_json::from_str(v) {
                for k in m.keys() {
                    *out.columns.entry(k.clone()).or_default() += 1;
                }
            }
        }
    }
    Ok(out)
}

/// The version of a loaded table.
fn ver(t: &DeltaTable) -> Option<i64> {
    t.version().map(|v| v as i64)
}

/// A deltalake error as ours: losing a commit to another writer is a conflict the deliverer can
/// resolve (deliver again); anything else is internal.
pub(crate) fn delta_err(e: deltalake::DeltaTableError) -> Error {
    use deltalake::kernel::transaction::TransactionError;
    match &e {
        deltalake::DeltaTableError::Transaction {
            source: TransactionError::CommitConflict(_) | TransactionError::MaxCommitAttempts(_),
        } => Error::conflict(
            "another load into this table committed first and touched the same rows; deliver the file again",
        ),
        _ => Error::internal(e),
    }
}

fn quarantine_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("job", DataType::Int64, false),
        Field::new("file_sha256", DataType::Utf8, false),
        Field::new("file_name", DataType::Utf8, false),
        Field::new("row", DataType::Int64, false),
        Field::new("column", DataType::Utf8, true),
        Field::new("reason", DataType::Utf8, false),
        Field::new("raw", DataType::Utf8, false),
    ]))
}

impl Lake {
    /// Open the lake at a local folder or a URL (`file:///…`).
    pub fn open(location: &str, store: Store) -> Result<Lake> {
        let root = if location.contains("://") {
            let mut u = Url::parse(location)
                .map_err(|_| Error::invalid("lake", "the lake location is not a valid URL"))?;
            if !u.path().ends_with('/') {
                u.set_path(&format!("{}/", u.path()));
            }
            u
        } else {
            let p = PathBuf::from(location);
            std::fs::create_dir_all(&p).map_err(Error::internal)?;
            let p = p.canonicalize().map_err(Error::internal)?;
            Url::from_directory_path(&p)
                .map_err(|_| Error::invalid("lake", "the lake folder path is not absolute"))?
        };
        let spaces = match root.scheme() {
            "file" => root.to_file_path().ok().map(|p| p.join("_exchange")),
            "s3" => {
                s3::register();
                None
            }
            other => {
                return Err(Error::invalid(
                    "lake",
                    format!(
                        "the lake is a local folder or an S3-compatible store (s3://bucket/prefix); {other}:// is not supported"
                    ),
                ));
            }
        };
        Ok(Lake {
            root,
            spaces,
            store,
            locks: Default::default(),
            latest: Default::default(),
            delivered: Arc::new(shuju_store::Keyed::new(DELIVERED_TTL)),
            specs: Default::default(),
            jobs: Default::default(),
            indexes: Default::default(),
            cleaners: default_cleaners(),
            limits: Default::default(),
        })
    }

    /// Clean CSV deliveries with `n` threads (below two: on the loading thread itself).
    pub fn with_cleaners(mut self, n: usize) -> Lake {
        self.cleaners = n.clamp(1, 16);
        self
    }

    /// Read deliveries within these bounds.
    pub fn with_limits(mut self, limits: read::Limits) -> Lake {
        self.limits = limits;
        self
    }

    pub fn root(&self) -> &Url {
        &self.root
    }

    /// Keep the files handed to departments in this local folder.
    pub fn with_spaces(mut self, dir: PathBuf) -> Lake {
        self.spaces = Some(dir);
        self
    }

    /// Where a table lives, without making its folder.
    fn locate(&self, dir: &str, name: &str) -> Result<Url> {
        self.root
            .join(&format!("{dir}/{name}/"))
            .map_err(|_| Error::invalid("table", "bad table location"))
    }

    fn url_of(&self, dir: &str, name: &str) -> Result<Url> {
        let u = self.locate(dir, name)?;
        if u.scheme() == "file"
            && let Ok(p) = u.to_file_path()
        {
            std::fs::create_dir_all(p).map_err(Error::internal)?;
        }
        Ok(u)
    }

    fn table_url(&self, spec: &TableSpec) -> Result<Url> {
        self.url_of(spec.library.key(), &spec.name)
    }

    /// The Delta table of a spec, `None` if nothing was ever committed to it.
    async fn delta(&self, spec: &TableSpec, version: Option<i64>) -> Result<Option<DeltaTable>> {
        self.delta_at(self.locate(spec.library.key(), &spec.name)?, version)
            .await
    }

    async fn delta_at(&self, url: Url, version: Option<i64>) -> Result<Option<DeltaTable>> {
        if version.is_none()
            && let Some(t) = self.cached(&url)
        {
            return Ok(Some(t));
        }
        // A folder without a transaction log holds no table (yet): no need to ask the kernel.
        if url.scheme() == "file"
            && let Some(log) = log_dir(&url)
            && !log.is_dir()
        {
            return Ok(None);
        }
        let mut t = DeltaTable::try_from_url(url.clone())
            .await
            .map_err(delta_err)?;
        if t.version().is_none() {
            return Ok(None);
        }
        if version.is_none() && url.scheme() == "file" {
            self.latest
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(
                    url,
                    Held {
                        table: t.clone(),
                        settled: None,
                    },
                );
        }
        if let Some(v) = version {
            t.load_version(v as u64)
                .await
                .map_err(|_| Error::invalid("version", format!("the table has no version {v}")))?;
        }
        Ok(Some(t))
    }

    /// The cached newest snapshot of a folder table, if its log holds that commit and no later
    /// one (a commit by any writer, this process or another, adds the next log file).
    fn cached(&self, url: &Url) -> Option<DeltaTable> {
        self.held(url, DeltaTable::clone)
    }

    /// `f` of the cached newest snapshot of a folder table while it is current. One look at the
    /// log folder's time settles it when that time is settled and unchanged; otherwise the log's
    /// files are asked, the time read before them so that a commit between the two is never missed.
    fn held<R>(&self, url: &Url, f: impl FnOnce(&DeltaTable) -> R) -> Option<R> {
        let log = log_dir(url)?;
        let time = log_time(&log)?;
        let v = {
            let m = self.latest.lock().unwrap_or_else(|e| e.into_inner());
            let held = m.get(url)?;
            if held.settled == Some(time) {
                return Some(f(&held.table));
            }
            ver(&held.table)?
        };
        if !current_in_log(&log, v) {
            return None;
        }
        let mut m = self.latest.lock().unwrap_or_else(|e| e.into_inner());
        let held = m.get_mut(url).filter(|h| ver(&h.table) == Some(v))?;
        // Also when the folder changed without a commit (a checkpoint, a losing writer's file):
        // the time read before the log showed `v` current is as good as the first one.
        if time.elapsed().is_ok_and(|d| d >= SETTLED) {
            held.settled = Some(time);
        }
        Some(f(&held.table))
    }

    /// A table's newest version: the cached snapshot's while it is current (no snapshot
    /// copied), else the table opened.
    pub(crate) async fn current_version(&self, spec: &TableSpec) -> Result<Option<i64>> {
        let url = self.locate(spec.library.key(), &spec.name)?;
        if let Some(v) = self.held(&url, ver) {
            return Ok(v);
        }
        Ok(self.delta_at(url, None).await?.as_ref().and_then(ver))
    }

    fn lock(&self, table: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut m = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        m.entry(table.to_owned()).or_default().clone()
    }

    async fn require(&self, c: &Caller, p: &str, action: &str, object: Option<&str>) -> Result<()> {
        c.require(
            &self.store,
            p,
            action,
            "lake_table",
            object.map(str::to_owned),
        )
        .await
    }

    // ----- tables and their mapping -----

    /// Set up (or change) the table of a catalog entry: columns, key, mapping.
    pub async fn put_table(&self, c: &Caller, spec: &TableSpec) -> Result<()> {
        self.require(c, perm::LAKE_EDIT, "lake.table.put", Some(&spec.name))
            .await?;
        spec.validate()?;
        if let Some(other) = meta::get_table_by_name(&self.store, &spec.name).await?
            && other.resource_code != spec.resource_code
        {
            return Err(Error::conflict(format!(
                "table name {} is taken by resource {}",
                spec.name, other.resource_code
            )));
        }
        if let Some(old) = meta::get_table(&self.store, &spec.resource_code).await? {
            let old: TableSpec = serde_json::from_str(&old.spec).map_err(Error::internal)?;
            if (old.name != spec.name || old.library != spec.library)
                && self.delta(&old, None).await?.is_some()
            {
                return Err(Error::conflict(
                    "the table already holds data; its name and library cannot change",
                ));
            }
        }
        let mut tx = self.store.write().await?;
        meta::put_table(
            &mut tx,
            &TableRow {
                resource_code: spec.resource_code.clone(),
                table_name: spec.name.clone(),
                library: spec.library.key().into(),
                title: spec.title.clone(),
                spec: serde_json::to_string(spec).map_err(Error::internal)?,
                updated_by: c.username.clone(),
                updated_at: String::new(),
            },
        )
        .await?;
        audit::append(
            &mut tx,
            &c.entry(
                "lake.table.put",
                "lake_table",
                Some(spec.name.clone()),
                Outcome::Ok,
                None,
            ),
        )
        .await?;
        tx.commit().await?;
        self.specs.clear();
        Ok(())
    }

    pub async fn spec(&self, c: &Caller, table: &str) -> Result<TableSpec> {
        self.require(c, perm::LAKE_LIST, "lake.table.show", Some(table))
            .await?;
        self.readable_spec(c, table).await
    }

    async fn spec_of(&self, table: &str) -> Result<TableSpec> {
        let row = meta::get_table_by_name(&self.store, table)
            .await?
            .ok_or_else(|| Error::not_found(format!("lake table {table}")))?;
        serde_json::from_str(&row.spec).map_err(Error::internal)
    }

    /// The spec of a resource's table, if one is set up.
    pub async fn spec_for_resource(&self, resource_code: &str) -> Result<Option<TableSpec>> {
        meta::get_table(&self.store, resource_code)
            .await?
            .map(|r| serde_json::from_str(&r.spec).map_err(Error::internal))
            .transpose()
    }

    /// Tables whose spec does not name its provider (set up by an older version).
    pub async fn specs_without_provider(&self) -> Result<Vec<TableSpec>> {
        Ok(self
            .specs()
            .await?
            .into_iter()
            .filter(|s| s.provider.is_none())
            .collect())
    }

    async fn specs(&self) -> Result<Vec<TableSpec>> {
        Ok(self
            .held_specs()
            .await?
            .iter()
            .map(|s| TableSpec::clone(s))
            .collect())
    }

    /// The table specs, held for a moment (see [`shuju_store::Cached`]).
    async fn held_specs(&self) -> Result<Arc<Vec<Arc<TableSpec>>>> {
        self.specs
            .get(|| async {
                meta::list_tables(&self.store)
                    .await?
                    .iter()
                    .map(|r| {
                        serde_json::from_str(&r.spec)
                            .map(Arc::new)
                            .map_err(Error::internal)
                    })
                    .collect()
            })
            .await
    }

    /// Every table holding data, with its newest version: what a read of one record needs,
    /// without the counting [`Lake::tables`] does. Internal readers only (no caller: what a
    /// caller may read is decided where the rows are read).
    pub async fn live(&self) -> Result<Vec<(Arc<TableSpec>, i64)>> {
        let mut out = Vec::new();
        for spec in self.held_specs().await?.iter() {
            if let Some(v) = self.current_version(spec).await? {
                out.push((spec.clone(), v));
            }
        }
        Ok(out)
    }

    /// A load job by id: what delivered a row (`_job`). Finished jobs are kept in memory.
    pub async fn delivery_job(&self, id: i64) -> Result<Option<JobRow>> {
        if let Some(j) = self.jobs.lock().unwrap_or_else(|e| e.into_inner()).get(&id) {
            return Ok(Some(j.clone()));
        }
        let j = meta::get_job(&self.store, id).await?;
        if let Some(j) = j.as_ref().filter(|j| j.status != "running") {
            let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
            if jobs.len() >= 100_000 {
                jobs.clear();
            }
            jobs.insert(id, j.clone());
        }
        Ok(j)
    }

    /// When a table's newest delivery was loaded (its last job done; `None`: never), read at
    /// most every [`DELIVERED_TTL`] (a load by this process shows at once).
    pub async fn last_delivered(&self, table: &str) -> Result<Option<String>> {
        let last = self
            .delivered
            .get(table, || async {
                Ok(meta::list_jobs(&self.store, Some(table), 20)
                    .await?
                    .into_iter()
                    .find(|j| j.status == "done")
                    .and_then(|j| j.finished_at))
            })
            .await?;
        Ok(last.as_ref().clone())
    }

    /// Every table with its size, rejects, last job and quality.
    pub async fn tables(&self, c: &Caller) -> Result<Vec<TableInfo>> {
        self.require(c, perm::LAKE_LIST, "lake.table.list", None)
            .await?;
        let readers = self.readers(c).await?;
        let mut out = Vec::new();
        for spec in self.specs().await? {
            if readers.sees(&spec) {
                out.push(self.info(spec).await?);
            }
        }
        Ok(out)
    }

    pub async fn table(&self, c: &Caller, name: &str) -> Result<TableInfo> {
        self.require(c, perm::LAKE_LIST, "lake.table.show", Some(name))
            .await?;
        let spec = self.readable_spec(c, name).await?;
        self.info(spec).await
    }

    async fn info(&self, spec: TableSpec) -> Result<TableInfo> {
        let t = self.delta(&spec, None).await?;
        let version = t.as_ref().and_then(ver);
        let rows = match &t {
            Some(t) => self.count(t, None).await?,
            None => 0,
        };
        let rejected = match self.quarantine_table(&spec.name).await? {
            Some(q) => self.count(&q, None).await?,
            None => 0,
        };
        let jobs = meta::list_jobs(&self.store, Some(&spec.name), 20).await?;
        let last_done = jobs.iter().find(|j| j.status == "done");
        let timely = match (spec.cycle_days, last_done) {
            (Some(days), Some(j)) => j
                .finished_at
                .as_deref()
                .and_then(shuju_store::parse_time)
                .map(|t| chrono::Utc::now() - t <= chrono::Duration::days(days as i64)),
            (Some(_), None) => Some(false),
            _ => None,
        };
        let quality = meta::quality(&self.store, &spec.name, 200)
            .await?
            .into_iter()
            .find(|q| q.column_name == "*" && Some(q.version) == version);
        Ok(TableInfo {
            spec,
            version,
            rows,
            rejected,
            last_job: jobs.into_iter().next(),
            quality,
            timely,
        })
    }

    async fn count(&self, t: &DeltaTable, filter: Option<&str>) -> Result<u64> {
        let ctx = query::session();
        let provider = t.table_provider().await.map_err(query::df_err)?;
        ctx.register_table("t", provider).map_err(query::df_err)?;
        let sql = match filter {
            Some(f) => format!("SELECT count(*) FROM t WHERE {f}"),
            None => "SELECT count(*) FROM t".into(),
        };
        let b = query::collect(&ctx, &sql).await?;
        Ok(b.first()
            .and_then(|b| b.column(0).as_any().downcast_ref::<Int64Array>())
            .map(|a| a.value(0) as u64)
            .unwrap_or(0))
    }

    async fn quarantine_table(&self, table: &str) -> Result<Option<DeltaTable>> {
        self.delta_at(self.url_of(QUARANTINE, table)?, None).await
    }

    // ----- ingestion -----

    /// Load one delivery into a resource's table: detect, map, clean, validate, quarantine,
    /// upsert by key in one Delta commit. `progress` counts the bytes read.
    pub async fn ingest(
        &self,
        c: &Caller,
        resource_code: &str,
        path: &Path,
        file_name: &str,
        progress: Arc<AtomicU64>,
    ) -> Result<LoadReport> {
        self.require(c, perm::LAKE_INGEST, "lake.ingest", Some(resource_code))
            .await?;
        let spec = self
            .spec_for_resource(resource_code)
            .await?
            .ok_or_else(|| {
                Error::not_found(format!(
                    "a lake table for resource {resource_code} (set up its mapping first)"
                ))
            })?;
        let lock = self.lock(&spec.name);
        let _guard = lock.lock().await;
        let detected = read::detect(path, file_name)?;
        let mut tx = self.store.write().await?;
        let job = meta::start_job(
            &mut tx,
            &spec.name,
            resource_code,
            file_name,
            "",
            &c.username,
        )
        .await?;
        tx.commit().await?;
        let mut report = LoadReport {
            job_id: job,
            table: spec.name.clone(),
            file_name: file_name.into(),
            format: Some(detected.format),
            encoding: Some(detected.encoding),
            ..Default::default()
        };
        let result = self
            .load(c, &spec, path, &detected, &mut report, progress)
            .await;
        self.indexes.changed();
        let end = JobEnd {
            status: if result.is_ok() { "done" } else { "failed" },
            rows_read: report.rows_read as i64,
            inserted: report.inserted as i64,
            updated: report.updated as i64,
            rejected: report.rejected as i64,
            duplicates: report.duplicates as i64,
            flagged: report.flagged as i64,
            version: report.version,
            error: result.as_ref().err().map(|e| match e.code {
                shuju_types::ErrorCode::Internal => "internal error (see the server log)".into(),
                _ => e.message.clone(),
            }),
            file_sha256: Some(report.file_sha256.clone()).filter(|s| !s.is_empty()),
        };
        let mut tx = self.store.write().await?;
        meta::finish_job(&mut tx, job, &end).await?;
        if result.is_ok()
            && let Some(version) = report.version
        {
            // Whoever acts on a landed delivery (matching, bulk subscribers) reads this.
            let event = json!({"table": spec.name, "resource": resource_code, "job": job, "version": version});
            shuju_store::outbox::append(
                &mut tx,
                shuju_store::outbox::LAKE_LOADED,
                &event.to_string(),
            )
            .await?;
        }
        audit::append(
            &mut tx,
            &c.entry(
                "lake.ingest",
                "lake_table",
                Some(spec.name.clone()),
                Outcome::of(&result),
                Some(format!(
                    "job {job}: read {}, inserted {}, updated {}, rejected {}",
                    report.rows_read, report.inserted, report.updated, report.rejected
                )),
            ),
        )
        .await?;
        tx.commit().await?;
        self.delivered.clear(&spec.name);
        if let Err(e) = result {
            if e.code == shuju_types::ErrorCode::Internal {
                tracing::error!(job, error = %e.report(), "lake load failed");
            }
            return Err(e);
        }
        Ok(report)
    }

    async fn load(
        &self,
        c: &Caller,
        spec: &TableSpec,
        path: &Path,
        detected: &read::Detected,
        report: &mut LoadReport,
        progress: Arc<AtomicU64>,
    ) -> Result<()> {
        let job = report.job_id;
        let mut clock = std::time::Instant::now();
        let mut phase = |report: &mut LoadReport, name: &str| {
            report
                .phases_ms
                .insert(name.into(), clock.elapsed().as_millis() as u64);
            clock = std::time::Instant::now();
        };
        let existing = self.delta(spec, None).await?;
        let url = self.table_url(spec)?;
        let schema = upsert::schema_for(existing.as_ref(), spec)?;
        let mut unique: Vec<&str> = spec.key.iter().map(String::as_str).collect();
        unique.push(spec::ROW_HASH);
        let mut sink = upsert::Sink::new(&url, schema.clone(), &unique, sketch::columns(spec))?;
        // The reader cleans on a blocking thread and hands each batch to the writer here, so a
        // delivery is never held whole in memory.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<RecordBatch>(4);
        let (p, d, s) = (path.to_owned(), detected.clone(), Arc::new(spec.clone()));
        let workers = self.cleaners;
        let limits = self.limits;
        let reader = tokio::task::spawn_blocking(move || {
            let mut l = load::Loader::new(s, job, move |b| {
                tx.blocking_send(b)
                    .map_err(|_| Error::internal("the lake writer stopped"))
            });
            // Deliveries run at 60–200 bytes a row; reserving for 80 avoids regrowing the key map.
            let size = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
            l.expect_rows((size / 80) as usize);
            // The reader hashes the file as it streams it; a file it did not stream to its end
            // (Excel) is hashed after.
            // CSV is parsed on its own thread while it is cleaned (see `default_cleaners`).
            let sha = match read::read_split(&p, &d, &limits, progress, &mut l, workers)? {
                Some(sha) => sha,
                None => sha256_file(&p)?,
            };
            Ok((l.finish()?, sha))
        });
        let mut written: Result<()> = Ok(());
        while let Some(b) = rx.recv().await {
            if written.is_ok() {
                written = sink.write(b).await;
            }
            if written.is_err() {
                // Stop the reader: it fails on its next batch.
                rx.close();
            }
        }
        let (mut loaded, sha) = match (reader.await.map_err(Error::internal), written) {
            (Ok(Ok(l)), Ok(())) => l,
            (_, Err(e)) | (Ok(Err(e)), _) | (Err(e), _) => {
                sink.abort().await;
                return Err(e);
            }
        };
        report.rows_read = loaded.rows_read;
        report.rejected = loaded.rejects.len() as u64;
        report.duplicates = loaded.duplicates;
        report.flagged = loaded.flagged_rows;
        report.flagged_columns = loaded.flagged.clone();
        report.unmapped_headers = loaded.unmapped.clone();
        phase(report, "read_validate");
        report.file_sha256 = sha;

        // The quarantine first: replaced for this file, so a re-run does not double it. The last
        // data file is finished on another task meanwhile.
        let closing = tokio::spawn(async move {
            let closed = sink.close().await;
            (sink, closed)
        });
        let quarantined = match loaded.rejects.is_empty() {
            true => Ok(()),
            false => self.write_quarantine(spec, report, &loaded.rejects).await,
        };
        let (sink, closed) = closing.await.map_err(Error::internal)?;
        if let Err(e) = quarantined.and(closed) {
            sink.abort().await;
            return Err(e);
        }
        phase(report, "quarantine");
        let plan = upsert::plan(existing.as_ref(), spec, &loaded).await;
        // The key map (370 MB for ten million rows) is not needed after the match:
        // handing its pages back takes a while, so that happens on another thread.
        let keys = std::mem::take(&mut loaded.keys);
        std::thread::spawn(move || drop(keys));
        let plan = match plan {
            Ok(p) => p,
            Err(e) => {
                sink.abort().await;
                return Err(e);
            }
        };
        report.inserted = plan.inserted;
        report.updated = plan.updated;
        phase(report, "match");
        let tags = json!({
            "job": job,
            "resource": spec.resource_code,
            "file_name": report.file_name,
            "file_sha256": report.file_sha256,
            "rows_read": report.rows_read,
            "rejected": report.rejected,
            "duplicates": report.duplicates,
            "flagged": report.flagged,
            "actor": c.username,
        });
        let metrics = json!({
            "numSourceRows": loaded.accepted,
            "numTargetRowsInserted": plan.inserted,
            "numTargetRowsUpdated": plan.updated,
            "numTargetRowsCopied": plan.unchanged,
            "numTargetFilesScanned": plan.files_scanned,
            "numTargetFilesSkipped": plan.files_skipped,
        });
        let props = CommitProperties::default().with_metadata([
            ("shuju".to_string(), tags),
            ("operationMetrics".to_string(), metrics),
        ]);
        let target = upsert::Target {
            table: existing.as_ref(),
            url: &url,
            spec,
            schema,
        };
        let done = upsert::finish(sink, target, plan, props).await?;
        report.version = done.version;
        phase(report, "commit");
        if let Some(v) = report.version {
            self.measure_quality(spec, v, Some(job), &loaded).await?;
        }
        phase(report, "quality");
        Ok(())
    }

    async fn write_quarantine(
        &self,
        spec: &TableSpec,
        report: &LoadReport,
        rejects: &[load::Reject],
    ) -> Result<()> {
        let n = rejects.len();
        let batch = RecordBatch::try_new(
            quarantine_schema(),
            vec![
                Arc::new(Int64Array::from(vec![report.job_id; n])),
                Arc::new(StringArray::from(vec![report.file_sha256.as_str(); n])),
                Arc::new(StringArray::from(vec![report.file_name.as_str(); n])),
                Arc::new(Int64Array::from_iter_values(
                    rejects.iter().map(|r| r.row as i64),
                )),
                Arc::new(StringArray::from_iter(
                    rejects.iter().map(|r| r.column.as_deref()),
                )),
                Arc::new(StringArray::from_iter_values(
                    rejects.iter().map(|r| r.reason.as_str()),
                )),
                Arc::new(StringArray::from_iter_values(
                    rejects.iter().map(|r| r.raw.as_str()),
                )),
            ],
        )
        .map_err(Error::internal)?;
        let url = self.url_of(QUARANTINE, &spec.name)?;
        let existing = self.delta_at(url.clone(), None).await?;
        let t = DeltaTable::try_from_url(url).await.map_err(delta_err)?;
        let w = t.write(vec![batch]);
        let w = if existing.is_some() {
            w.with_save_mode(SaveMode::Overwrite)
                .with_replace_where(format!("file_sha256 = '{}'", report.file_sha256))
        } else {
            w.with_save_mode(SaveMode::Append)
        };
        w.await.map_err(delta_err)?;
        Ok(())
    }

    // ----- quality -----

    async fn measure_quality(
        &self,
        spec: &TableSpec,
        version: i64,
        job: Option<i64>,
        loaded: &load::Loaded,
    ) -> Result<()> {
        let (rejects, rows_read) = (&loaded.rejects, loaded.rows_read);
        let Some(t) = self.delta(spec, Some(version)).await? else {
            return Ok(());
        };
        let flagged = flagged_counts(&t).await?;
        // Rows and non-null counts come from the files' statistics when every file has them,
        // else from a count over the table. Distinct counts come from the files' sketches
        // (HyperLogLog, see `sketch`): a file without one is read once to make it.
        let stats = file_stats(&t, spec).await?;
        let files: Vec<String> = t
            .get_active_add_actions_by_predicate(None)
            .try_collect::<Vec<_>>()
            .await
            .map_err(delta_err)?
            .iter()
            .map(|f| f.path().to_string())
            .collect();
        let distinct: HashMap<String, i64> =
            sketch::distinct(&t.object_store(), &files, &sketch::columns(spec))
                .await?
                .into_iter()
                .collect();
        let scanned = match &stats {
            Some(_) => None,
            None => {
                let ctx = query::session();
                let provider = t.table_provider().await.map_err(query::df_err)?;
                ctx.register_table("t", provider).map_err(query::df_err)?;
                let mut sel = vec!["count(*) AS n".to_string()];
                for (i, c) in spec.columns.iter().enumerate() {
                    sel.push(format!("count(\"{0}\") AS n{i}", c.name));
                }
                let sql = format!("SELECT {} FROM t", sel.join(", "));
                query::collect(&ctx, &sql).await?.into_iter().next()
            }
        };
        let get = |name: &str| -> i64 {
            scanned
                .as_ref()
                .and_then(|b| b.column_by_name(name))
                .and_then(|a| a.as_any().downcast_ref::<Int64Array>().map(|x| x.value(0)))
                .unwrap_or(0)
        };
        let n = match &stats {
            Some((n, _)) => *n,
            None => get("n"),
        };
        let bp = |num: i64, den: i64| -> i64 {
            if den <= 0 {
                10_000
            } else {
                (num.clamp(0, den) * 10_000) / den
            }
        };
        let mut rows = Vec::new();
        let mut comp_sum = 0;
        for (i, c) in spec.columns.iter().enumerate() {
            let non_null = match &stats {
                Some((n, nulls)) => n - nulls.get(&c.name).copied().unwrap_or(0),
                None => get(&format!("n{i}")),
            };
            // A one-column key is unique by the upsert: it has no sketch.
            let distinct = distinct.get(&c.name).copied().unwrap_or(non_null);
            let uniqueness = bp(distinct, non_null);
            // Invalid in this delivery: rejected for this column, or kept and flagged.
            let bad = rejects
                .iter()
                .filter(|r| r.column.as_deref() == Some(c.name.as_str()))
                .count() as i64
                + loaded.flagged.get(&c.name).copied().unwrap_or(0) as i64;
            let completeness = bp(non_null, n);
            comp_sum += completeness;
            rows.push(QualityRow {
                table_name: spec.name.clone(),
                version,
                job_id: job,
                column_name: c.name.clone(),
                row_count: n,
                completeness_bp: completeness,
                validity_bp: bp(rows_read as i64 - bad, rows_read as i64),
                uniqueness_bp: uniqueness,
                flagged: flagged.columns.get(&c.name).copied().unwrap_or(0),
                ..Default::default()
            });
        }
        rows.insert(
            0,
            QualityRow {
                table_name: spec.name.clone(),
                version,
                job_id: job,
                column_name: "*".into(),
                row_count: n,
                completeness_bp: comp_sum / spec.columns.len().max(1) as i64,
                validity_bp: bp(
                    rows_read as i64 - rejects.len() as i64 - loaded.flagged_rows as i64,
                    rows_read as i64,
                ),
                // One row per key is enforced by the upsert.
                uniqueness_bp: 10_000,
                flagged: flagged.rows,
                ..Default::default()
            },
        );
        let mut tx = self.store.write().await?;
        meta::add_quality(&mut tx, &rows).await?;
        tx.commit().await
    }

    pub async fn quality(&self, c: &Caller, table: &str) -> Result<Vec<QualityRow>> {
        self.require(c, perm::LAKE_LIST, "lake.quality", Some(table))
            .await?;
        self.readable_spec(c, table).await?;
        meta::quality(&self.store, table, 2_000).await
    }

    // ----- lineage -----

    /// Every version of a table, newest first, with the job, delivery and counts that made it.
    pub async fn history(&self, c: &Caller, table: &str) -> Result<Vec<VersionInfo>> {
        self.require(c, perm::LAKE_LIST, "lake.history", Some(table))
            .await?;
        let spec = self.readable_spec(c, table).await?;
        let Some(t) = self.delta(&spec, None).await? else {
            return Ok(vec![]);
        };
        let newest = ver(&t).unwrap_or(0);
        let infos: Vec<_> = t.history(None).try_collect().await.map_err(delta_err)?;
        Ok(infos
            .into_iter()
            .enumerate()
            .map(|(i, ci)| VersionInfo {
                version: newest - i as i64,
                timestamp: ci.timestamp,
                operation: ci.operation.clone(),
                shuju: ci.info.get("shuju").cloned().unwrap_or(json!({})),
                metrics: ci
                    .info
                    .get("operationMetrics")
                    .cloned()
                    .unwrap_or(json!({})),
            })
            .collect())
    }

    pub async fn jobs(&self, c: &Caller, table: Option<&str>) -> Result<Vec<JobRow>> {
        self.require(c, perm::LAKE_LIST, "lake.jobs", table).await?;
        let readers = self.readers(c).await?;
        if let Some(t) = table {
            self.readable_spec(c, t).await?;
            return meta::list_jobs(&self.store, Some(t), 200).await;
        }
        if readers.sees_every_table() {
            return meta::list_jobs(&self.store, None, 200).await;
        }
        let tables: Vec<String> = self
            .specs()
            .await?
            .into_iter()
            .filter(|s| readers.sees(s))
            .map(|s| s.name)
            .collect();
        meta::list_jobs_of(&self.store, Some(&tables), 200).await
    }

    pub async fn job(&self, c: &Caller, id: i64) -> Result<JobRow> {
        self.require(c, perm::LAKE_LIST, "lake.jobs", None).await?;
        let job = meta::get_job(&self.store, id)
            .await?
            .ok_or_else(|| Error::not_found(format!("job {id}")))?;
        // A job of a table outside the caller's scope is not found, as if absent.
        self.readable_spec(c, &job.table_name)
            .await
            .map_err(|_| Error::not_found(format!("job {id}")))?;
        Ok(job)
    }

    /// Mark jobs left running by a process that died; called at start.
    pub async fn recover(&self) -> Result<u64> {
        let mut tx = self.store.write().await?;
        let n = meta::interrupt_running(&mut tx).await?;
        tx.commit().await?;
        // Files of loads killed more than a day ago (a load in another process may be running).
        match self.sweep(std::time::Duration::from_secs(24 * 3600)).await {
            Ok(0) => {}
            Ok(k) => tracing::info!(files = k, "removed data files of loads cut short"),
            Err(e) => tracing::warn!(error = %e.report(), "could not sweep the lake's stray files"),
        }
        Ok(n)
    }

    /// Remove the data files no version of any table can read (loads cut short) older than
    /// `older_than`; returns how many. See [`upsert::sweep`].
    pub async fn sweep(&self, older_than: std::time::Duration) -> Result<usize> {
        let mut n = 0;
        for spec in self.specs().await? {
            for url in [
                self.locate(spec.library.key(), &spec.name)?,
                self.locate(QUARANTINE, &spec.name)?,
            ] {
                let absent = url.scheme() == "file"
                    && url.to_file_path().map(|p| !p.is_dir()).unwrap_or(true);
                if !absent {
                    n += upsert::sweep(&url, older_than).await?;
                }
            }
        }
        Ok(n)
    }

    // ----- quarantine -----

    /// Rejected rows of a table (optionally of one job), with their reasons.
    pub async fn quarantine(
        &self,
        c: &Caller,
        table: &str,
        job: Option<i64>,
        limit: usize,
    ) -> Result<Vec<QuarantinedRow>> {
        self.require(c, perm::LAKE_QUARANTINE, "lake.quarantine", Some(table))
            .await?;
        let spec = self.readable_spec(c, table).await?;
        let unmasked = c.can(perm::LAKE_UNMASKED);
        let _ = audit::record(
            &self.store,
            &c.entry(
                "lake.quarantine",
                "lake_table",
                Some(table.into()),
                Outcome::Ok,
                Some(if unmasked { "unmasked" } else { "masked" }.into()),
            ),
        )
        .await;
        let Some(t) = self.quarantine_table(table).await? else {
            return Ok(vec![]);
        };
        let ctx = query::session();
        ctx.register_table("q", t.table_provider().await.map_err(query::df_err)?)
            .map_err(query::df_err)?;
        let filter = job.map(|j| format!(" WHERE job = {j}")).unwrap_or_default();
        let sql = format!(
            "SELECT job, file_name, \"row\", \"column\", reason, raw FROM q{filter} ORDER BY job DESC, \"row\" LIMIT {limit}"
        );
        let batches = query::collect(&ctx, &sql).await?;
        let mut out = Vec::new();
        for b in &batches {
            let text = |i: usize| {
                datafusion::arrow::compute::cast(b.column(i), &DataType::Utf8)
                    .map_err(Error::internal)
            };
            let (file, column, reason, raw) = (text(1)?, text(3)?, text(4)?, text(5)?);
            let job = b.column(0).as_any().downcast_ref::<Int64Array>();
            let file = file.as_any().downcast_ref::<StringArray>();
            let row = b.column(2).as_any().downcast_ref::<Int64Array>();
            let column = column.as_any().downcast_ref::<StringArray>();
            let reason = reason.as_any().downcast_ref::<StringArray>();
            let raw = raw.as_any().downcast_ref::<StringArray>();
            let (Some(job), Some(file), Some(row), Some(column), Some(reason), Some(raw)) =
                (job, file, row, column, reason, raw)
            else {
                return Err(Error::internal("quarantine table has an unexpected shape"));
            };
            for i in 0..b.num_rows() {
                let mut raw_v: serde_json::Value =
                    serde_json::from_str(raw.value(i)).unwrap_or(json!({}));
                if !unmasked && let Some(m) = raw_v.as_object_mut() {
                    for (h, v) in m.iter_mut() {
                        let sensitive = spec
                            .target_of(h)
                            .map(|c| spec.columns[c].sensitive)
                            .unwrap_or(true);
                        if sensitive && let Some(s) = v.as_str() {
                            *v = json!(query::mask_str(s));
                        }
                    }
                }
                out.push(QuarantinedRow {
                    job: job.value(i),
                    file_name: file.value(i).into(),
                    row: row.value(i),
                    column: (!column.is_null(i)).then(|| column.value(i).to_owned()),
                    reason: reason.value(i).into(),
                    raw: raw_v,
                });
            }
        }
        Ok(out)
    }

    // ----- query -----

    /// Run a read-only SQL query over the lake. Sensitive columns are masked unless the caller
    /// holds `lake:data:unmasked`; `as_of` reads named tables at past versions. Every query is
    /// audited (tables, masked or not; never the SQL's literals).
    pub async fn sql(
        &self,
        c: &Caller,
        sql: &str,
        as_of: &BTreeMap<String, i64>,
        max_rows: usize,
    ) -> Result<QueryResult> {
        self.query(c, sql, as_of, max_rows, false).await
    }

    /// As [`Lake::sql`], over every table whatever department provides it — for a service that
    /// has decided the caller's access by a rule of its own (a person's file, opened with the file
    /// permission and a stated purpose, is gathered from every department). The caller's masking
    /// still applies, and the query is audited.
    pub async fn sql_across(&self, c: &Caller, sql: &str, max_rows: usize) -> Result<QueryResult> {
        self.query(c, sql, &BTreeMap::new(), max_rows, true).await
    }

    /// The tables a caller reads directly (see [`Readers`]). Another department's data comes
    /// through a grant, at the gateway.
    async fn readable(&self, c: &Caller, specs: Vec<TableSpec>) -> Result<Vec<TableSpec>> {
        let readers = self.readers(c).await?;
        Ok(specs.into_iter().filter(|s| readers.sees(s)).collect())
    }

    async fn query(
        &self,
        c: &Caller,
        sql: &str,
        as_of: &BTreeMap<String, i64>,
        max_rows: usize,
        across: bool,
    ) -> Result<QueryResult> {
        self.require(c, perm::LAKE_QUERY, "lake.sql", None).await?;
        let unmasked = c.can(perm::LAKE_UNMASKED);
        let ctx = query::session();
        let specs = self.specs().await?;
        let specs = if across {
            specs
        } else {
            self.readable(c, specs).await?
        };
        // Open only the tables the query names: opening one replays its log. (A query that does
        // not parse registers everything, and planning reports what is wrong.)
        let named: Option<std::collections::HashSet<String>> = {
            let state = ctx.state();
            state
                .sql_to_statement(sql, &datafusion::common::config::Dialect::default())
                .ok()
                .and_then(|stmt| state.resolve_table_references(&stmt).ok())
                .map(|refs| refs.iter().map(|r| r.table().to_owned()).collect())
        };
        let specs: Vec<TableSpec> = specs
            .into_iter()
            .filter(|s| {
                named.as_ref().is_none_or(|n| n.contains(&s.name)) || as_of.contains_key(&s.name)
            })
            .collect();
        for name in as_of.keys() {
            if !specs.iter().any(|s| &s.name == name) {
                return Err(Error::invalid(
                    "as_of",
                    format!("no lake table named {name}"),
                ));
            }
        }
        for spec in &specs {
            if let Some(t) = self.delta(spec, as_of.get(&spec.name).copied()).await? {
                let provider = t.table_provider().await.map_err(query::df_err)?;
                query::register(&ctx, spec, provider, unmasked)?;
            }
        }
        let result = self.run(&ctx, sql, max_rows).await;
        let (outcome, detail) = match &result {
            Ok(r) => (
                Outcome::Ok,
                format!(
                    "{} rows from {}; {}",
                    r.rows.len(),
                    r.tables.join(","),
                    if unmasked { "unmasked" } else { "masked" }
                ),
            ),
            Err(e) => (Outcome::Rejected, e.code.as_str().to_owned()),
        };
        let _ = audit::record(
            &self.store,
            &c.entry("lake.sql", "lake", None, outcome, Some(detail)),
        )
        .await;
        let mut r = result?;
        r.masked = !unmasked;
        Ok(r)
    }

    async fn run(
        &self,
        ctx: &datafusion::prelude::SessionContext,
        sql: &str,
        max_rows: usize,
    ) -> Result<QueryResult> {
        let df = ctx
            .sql_with_options(sql, query::options())
            .await
            .map_err(query::df_err)?;
        let mut tables = Vec::new();
        use datafusion::common::tree_node::TreeNode;
        let _ = df.logical_plan().apply(|n| {
            if let datafusion::logical_expr::LogicalPlan::TableScan(s) = n {
                let t = s.table_name.table().to_owned();
                if !tables.contains(&t) {
                    tables.push(t);
                }
            }
            Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
        });
        let columns: Vec<String> = df
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let df = df.limit(0, Some(max_rows + 1)).map_err(query::df_err)?;
        let batches = df.collect().await.map_err(query::df_err)?;
        let mut rows = batches_to_json(&batches)?;
        let truncated = rows.len() > max_rows;
        rows.truncate(max_rows);
        Ok(QueryResult {
            columns,
            rows,
            truncated,
            masked: false,
            tables,
        })
    }

    /// Stream the rows of an SQL query over the lake, every value as text, to `each` — for
    /// domain jobs that read whole tables (entity resolution). The caller must hold the query and
    /// unmasked permissions; the read is audited once with its purpose. Returns the version each
    /// table was read at.
    pub async fn scan(
        &self,
        c: &Caller,
        purpose: &str,
        sql: &str,
        mut each: impl FnMut(&[Option<&str>]),
    ) -> Result<BTreeMap<String, i64>> {
        self.require(c, perm::LAKE_QUERY, "lake.scan", None).await?;
        self.require(c, perm::LAKE_UNMASKED, "lake.scan", None)
            .await?;
        let ctx = query::session();
        let mut versions = BTreeMap::new();
        for spec in self.specs().await? {
            if let Some(t) = self.delta(&spec, None).await? {
                if let Some(v) = ver(&t) {
                    versions.insert(spec.name.clone(), v);
                }
                let provider = t.table_provider().await.map_err(query::df_err)?;
                query::register(&ctx, &spec, provider, true)?;
            }
        }
        let df = ctx
            .sql_with_options(sql, query::options())
            .await
            .map_err(query::df_err)?;
        let mut stream = df.execute_stream().await.map_err(query::df_err)?;
        let mut rows = 0u64;
        while let Some(batch) = stream.try_next().await.map_err(query::df_err)? {
            let cols: Vec<StringArray> = batch
                .columns()
                .iter()
                .map(|a| {
                    let a = datafusion::arrow::compute::cast(a, &DataType::Utf8)
                        .map_err(|e| Error::internal(e.to_string()))?;
                    a.as_any()
                        .downcast_ref::<StringArray>()
                        .cloned()
                        .ok_or_else(|| Error::internal("not text"))
                })
                .collect::<Result<_>>()?;
            let mut row: Vec<Option<&str>> = Vec::with_capacity(cols.len());
            for i in 0..batch.num_rows() {
                row.clear();
                row.extend(cols.iter().map(|c| (!c.is_null(i)).then(|| c.value(i))));
                each(&row);
                rows += 1;
            }
        }
        let _ = audit::record(
            &self.store,
            &c.entry(
                "lake.scan",
                "lake",
                None,
                Outcome::Ok,
                Some(format!("{rows} rows for {purpose}")),
            ),
        )
        .await;
        Ok(versions)
    }

    // ----- building tables from tables -----

    /// Build (or rebuild) a table from SQL over the lake's tables, e.g. a base library from the
    /// cleaned sources. One commit replacing the table, tagged with the versions it read.
    pub async fn build(&self, c: &Caller, spec: &TableSpec, sql: &str) -> Result<LoadReport> {
        self.require(c, perm::LAKE_BUILD, "lake.build", Some(&spec.name))
            .await?;
        if meta::get_table(&self.store, &spec.resource_code)
            .await?
            .is_none()
        {
            self.put_table(c, spec).await?;
        }
        let lock = self.lock(&spec.name);
        let _guard = lock.lock().await;
        let ctx = query::session();
        let mut sources = serde_json::Map::new();
        for s in self.specs().await? {
            if s.name == spec.name {
                continue;
            }
            if let Some(t) = self.delta(&s, None).await? {
                sources.insert(s.name.clone(), json!(ver(&t)));
                ctx.register_table(
                    s.name.as_str(),
                    t.table_provider().await.map_err(query::df_err)?,
                )
                .map_err(query::df_err)?;
            }
        }
        let mut tx = self.store.write().await?;
        let job = meta::start_job(
            &mut tx,
            &spec.name,
            &spec.resource_code,
            "(build)",
            "",
            &c.username,
        )
        .await?;
        tx.commit().await?;
        let built = async {
            let df = ctx
                .sql_with_options(sql, query::options())
                .await
                .map_err(query::df_err)?;
            let df = df
                .with_column(spec::JOB, datafusion::prelude::lit(job))
                .map_err(query::df_err)?;
            let batches = df.collect().await.map_err(query::df_err)?;
            let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
            let tags = json!({"job": job, "resource": spec.resource_code, "built_from": sources, "actor": c.username});
            let t = DeltaTable::try_from_url(self.table_url(spec)?)
                .await
                .map_err(delta_err)?;
            let t = t
                .write(batches)
                .with_save_mode(SaveMode::Overwrite)
                .with_schema_mode(deltalake::operations::write::SchemaMode::Overwrite)
                .with_table_name(spec.name.clone())
                .with_commit_properties(
                    CommitProperties::default().with_metadata([("shuju".to_string(), tags)]),
                )
                .await
                .map_err(delta_err)?;
            Ok::<_, Error>((rows, ver(&t)))
        }
        .await;
        self.indexes.changed();
        let (rows, version) = match &built {
            Ok((r, v)) => (*r as u64, *v),
            Err(_) => (0, None),
        };
        let mut tx = self.store.write().await?;
        meta::finish_job(
            &mut tx,
            job,
            &JobEnd {
                status: if built.is_ok() { "done" } else { "failed" },
                rows_read: rows as i64,
                inserted: rows as i64,
                version,
                error: built.as_ref().err().map(|e| e.message.clone()),
                ..Default::default()
            },
        )
        .await?;
        audit::append(
            &mut tx,
            &c.entry(
                "lake.build",
                "lake_table",
                Some(spec.name.clone()),
                Outcome::of(&built),
                Some(format!("job {job}: {rows} rows")),
            ),
        )
        .await?;
        tx.commit().await?;
        built?;
        if let Some(v) = version {
            let built = load::Loaded {
                rows_read: rows,
                ..Default::default()
            };
            self.measure_quality(spec, v, Some(job), &built).await?;
        }
        Ok(LoadReport {
            job_id: job,
            table: spec.name.clone(),
            file_name: "(build)".into(),
            rows_read: rows,
            inserted: rows,
            version,
            ..Default::default()
        })
    }
}

/// A table's rows and each column's nulls from its files' statistics; `None` when a file has
/// none (written by another tool).
async fn file_stats(
    t: &DeltaTable,
    spec: &TableSpec,
) -> Result<Option<(i64, HashMap<String, i64>)>> {
    let files: Vec<_> = t
        .get_active_add_actions_by_predicate(None)
        .try_collect()
        .await
        .map_err(delta_err)?;
    let mut rows = 0i64;
    let mut nulls: HashMap<String, i64> = HashMap::new();
    for f in files {
        let Some(stats) = f
            .stats()
            .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
        else {
            return Ok(None);
        };
        let Some(n) = stats.get("numRecords").and_then(|v| v.as_i64()) else {
            return Ok(None);
        };
        rows += n;
        for c in &spec.columns {
            // A file written before the column existed holds only nulls for it.
            let k = stats
                .get("nullCount")
                .and_then(|m| m.get(&c.name))
                .and_then(|v| v.as_i64());
            let k = match k {
                Some(k) => k,
                None if stats.get("nullCount").is_some() => n,
                None => return Ok(None),
            };
            *nulls.entry(c.name.clone()).or_default() += k;
        }
    }
    Ok(Some((rows, nulls)))
}

fn batches_to_json(
    batches: &[RecordBatch],
) -> Result<Vec<serde_json::Map<String, serde_json::Value>>> {
    let mut w = datafusion::arrow::json::ArrayWriter::new(Vec::new());
    let refs: Vec<&RecordBatch> = batches.iter().collect();
    w.write_batches(&refs).map_err(Error::internal)?;
    w.finish().map_err(Error::internal)?;
    let bytes = w.into_inner();
    if bytes.is_empty() {
        return Ok(vec![]);
    }
    serde_json::from_slice(&bytes).map_err(Error::internal)
}

/// How many threads clean a CSV delivery: a core each, but one core is left to the threads that
/// parse the file and write the table's files. On two cores that is the loading thread alone,
/// cleaning and matching keys with no hand-over of parts: measured 1.12-1.15x DuckDB's rows/s
/// against 1.02-1.07x with two cleaners sharing the cores with the parser, loader and writer
/// (docs/BENCHMARKS.md).
fn default_cleaners() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).clamp(1, 8))
}

/// SHA-256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(Error::internal)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(Error::internal)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}
