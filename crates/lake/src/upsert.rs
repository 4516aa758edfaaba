//! One delivery into a table as one Delta commit, without holding the delivery in memory.
//!
//! The cleaned rows stream into data files of the table as they are read ([`Sink`]); nothing
//! refers to them until the commit, so a load cut short leaves the table as it was (the stray
//! files are never read, and are removed when the load fails). Then [`plan`] reads the key
//! columns of the table's current files — only those whose statistics say they may hold one of
//! the delivery's keys — and sorts each matching row: unchanged (the delivery's row is dropped)
//! or replaced (the table's row is dropped). [`finish`] rewrites the few files that lose rows and
//! commits the new files, the rewritten files and the removed ones as one version.

use crate::keys::WARM;
use crate::load::{Bound, Loaded, hash_value, key_columns};
use crate::sketch::{self, Sketch};
use crate::spec::{self, Kind, TableSpec};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array, RecordBatch};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::{
    Date32Type, Float64Type, Int64Type, SchemaRef, TimestampMicrosecondType,
};
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::parquet::arrow::arrow_reader::{
    ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder,
};
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::parquet::schema::types::ColumnPath;
use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::kernel::{Action, Add, MetadataExt, StructType};
use deltalake::logstore::ObjectStoreRef;
use deltalake::operations::create::CreateBuilder;
use deltalake::protocol::DeltaOperation;
use deltalake::writer::{DeltaWriter, RecordBatchWriter, WriteMode};
use deltalake::{DeltaTable, DeltaTableBuilder, Path};
use futures::TryStreamExt;
use object_store::ObjectStoreExt;
use shuju_types::{Error, Result};
use twox_hash::XxHash3_128;
use url::Url;

/// Rows per data file a delivery is written in.
const FILE_ROWS: u64 = 1 << 20;
/// A data file is finished sooner when its rows reach this many bytes in memory (the writer
/// holds a file's encoded rows until it is finished).
const FILE_BYTES: usize = 256 << 20;

use crate::delta_err;

/// A data file written for this load, with the delivery rows it holds.
struct Staged {
    add: Add,
    first: u64,
    rows: u64,
}

fn rows_of(add: &Add) -> Option<u64> {
    let stats: serde_json::Value = serde_json::from_str(add.stats.as_deref()?).ok()?;
    stats.get("numRecords")?.as_u64()
}

fn path_of(p: &str) -> Path {
    Path::parse(p).unwrap_or_else(|_| Path::from(p))
}

/// Remove a data file no version refers to, and its sketch (best effort: what is left is swept).
async fn remove(store: &ObjectStoreRef, p: &str) {
    let _ = store.delete(&path_of(p)).await;
    let _ = store.delete(&sketch::path_of(p)).await;
}

/// The writer of one load's data files.
pub struct Sink {
    writer: RecordBatchWriter,
    store: ObjectStoreRef,
    staged: Vec<Staged>,
    window: u64,
    window_bytes: usize,
    written: u64,
    /// The distinct-value sketch of the rows of the file being written, and its columns.
    sketch: Sketch,
    sketched: Vec<(String, datafusion::arrow::datatypes::DataType)>,
}

impl Sink {
    /// A sink for the table at `url`, writing `schema` (the table's columns and the entry's).
    /// The columns in `unique` (the key's, the row hash) hold a value per row: a dictionary of
    /// their values would only be built to be thrown away.
    /// Each file's rows of the columns `sketched` are sketched as they are written.
    pub fn new(
        url: &Url,
        schema: SchemaRef,
        unique: &[&str],
        sketched: Vec<(String, datafusion::arrow::datatypes::DataType)>,
    ) -> Result<Sink> {
        let props = unique
            .iter()
            .fold(
                WriterProperties::builder().set_compression(Compression::SNAPPY),
                |b, c| b.set_column_dictionary_enabled(ColumnPath::from(*c), false),
            )
            // The row hash is random bits: compressing it gains nothing.
            .set_column_compression(ColumnPath::from(spec::ROW_HASH), Compression::UNCOMPRESSED)
            .build();
        let writer = RecordBatchWriter::try_new(url.as_str(), schema, None, None)
            .map_err(delta_err)?
            .with_writer_properties(props);
        let store = DeltaTableBuilder::from_url(url.clone())
            .map_err(delta_err)?
            .build()
            .map_err(delta_err)?
            .object_store();
        Ok(Sink {
            writer,
            store,
            staged: vec![],
            window: 0,
            window_bytes: 0,
            written: 0,
            sketch: Sketch::new(&sketched)?,
            sketched,
        })
    }

    pub async fn write(&mut self, batch: RecordBatch) -> Result<()> {
        self.window += batch.num_rows() as u64;
        self.window_bytes += batch.get_array_memory_size();
        self.sketch.update(&batch)?;
        self.writer
            .write_with_mode(batch, WriteMode::MergeSchema)
            .await
            .map_err(delta_err)?;
        if self.window >= FILE_ROWS || self.window_bytes >= FILE_BYTES {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        if self.window == 0 {
            return Ok(());
        }
        let adds = self.writer.flush().await.map_err(delta_err)?;
        let mut sketch = std::mem::replace(&mut self.sketch, Sketch::new(&self.sketched)?);
        if let [add] = adds.as_slice() {
            sketch::save(&self.store, &add.path, &mut sketch).await?;
        }
        let mut left = self.window;
        for (i, add) in adds.iter().enumerate() {
            let rows = if i + 1 == adds.len() {
                left
            } else {
                rows_of(add).unwrap_or(0).min(left)
            };
            self.staged.push(Staged {
                add: add.clone(),
                first: self.written,
                rows,
            });
            self.written += rows;
            left -= rows;
        }
        self.window = 0;
        self.window_bytes = 0;
        Ok(())
    }

    /// Remove every file this load wrote (the load failed; nothing refers to them).
    pub async fn abort(mut self) {
        self.writer.reset();
        for s in &self.staged {
            remove(&self.store, &s.add.path).await;
        }
    }

    pub async fn close(&mut self) -> Result<()> {
        self.flush().await
    }
}

/// Could a file whose statistics are `stats` hold one of the delivery's keys?
fn may_hold(
    stats: Option<&str>,
    names: &[&str],
    kinds: &[Kind],
    ranges: &[Option<(Bound, Bound)>],
) -> bool {
    let Some(stats) = stats.and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok()) else {
        return true;
    };
    for ((name, kind), range) in names.iter().zip(kinds).zip(ranges) {
        let Some((lo, hi)) = range else { continue };
        let get = |side: &str| stats.get(side).and_then(|m| m.get(*name));
        let (Some(min), Some(max)) = (get("minValues"), get("maxValues")) else {
            continue;
        };
        let (Some(min), Some(max)) = (stat_bound(min, *kind, false), stat_bound(max, *kind, true))
        else {
            continue;
        };
        if *hi < min || *lo > max {
            return false;
        }
    }
    true
}

/// A file statistic as a bound; `upper` widens what the writer may have truncated.
fn stat_bound(v: &serde_json::Value, kind: Kind, upper: bool) -> Option<Bound> {
    match kind {
        Kind::Text => {
            let s = v.as_str()?;
            // Long strings may be cut short in statistics: only a short one is exact.
            (s.chars().count() < 32).then(|| Bound::Text(s.to_owned()))
        }
        Kind::Integer => v.as_i64().map(Bound::Number),
        Kind::Decimal => v.as_f64().map(Bound::Real),
        Kind::Date => {
            let d = chrono::NaiveDate::parse_from_str(v.as_str()?, "%Y-%m-%d").ok()?;
            let days = d.signed_duration_since(chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?);
            Some(Bound::Number(days.num_days()))
        }
        Kind::Timestamp => {
            let t = chrono::DateTime::parse_from_rfc3339(v.as_str()?).ok()?;
            // Statistics keep milliseconds: the true maximum may be up to 1 ms later.
            let us = t.timestamp_micros();
            Some(Bound::Number(if upper { us + 999 } else { us }))
        }
        Kind::Boolean => None,
    }
}

/// Hash the key of row `i` from Arrow columns exactly as [`crate::load`] hashes cleaned values.
fn key_of(cols: &[(Kind, Option<ArrayRef>)], i: usize, scratch: &mut Vec<u8>) -> u128 {
    use crate::clean::Value;
    scratch.clear();
    for (kind, col) in cols {
        let v = match col {
            Some(a) if !a.is_null(i) => match kind {
                Kind::Text => a
                    .as_string_opt::<i32>()
                    .map(|a| Value::Text(a.value(i).into())),
                Kind::Integer => a
                    .as_primitive_opt::<Int64Type>()
                    .map(|a| Value::Integer(a.value(i))),
                Kind::Decimal => a
                    .as_primitive_opt::<Float64Type>()
                    .map(|a| Value::Decimal(a.value(i))),
                Kind::Date => a
                    .as_primitive_opt::<Date32Type>()
                    .map(|a| Value::Date(a.value(i))),
                Kind::Timestamp => a
                    .as_primitive_opt::<TimestampMicrosecondType>()
                    .map(|a| Value::Timestamp(a.value(i))),
                Kind::Boolean => a.as_boolean_opt().map(|a| Value::Boolean(a.value(i))),
            }
            .unwrap_or(Value::Null),
            _ => Value::Null,
        };
        hash_value(scratch, &v);
    }
    XxHash3_128::oneshot(scratch)
}

/// Read one data file of the table (whole, or some of its columns).
pub(crate) async fn open(
    store: &ObjectStoreRef,
    path: &str,
    columns: Option<&[&str]>,
) -> Result<ParquetRecordBatchReader> {
    let bytes = store
        .get(&path_of(path))
        .await
        .map_err(Error::internal)?
        .bytes()
        .await
        .map_err(Error::internal)?;
    let b = ParquetRecordBatchReaderBuilder::try_new(bytes)
        .map_err(Error::internal)?
        .with_batch_size(64 * 1024);
    let b = match columns {
        Some(names) => {
            let schema = b.schema().clone();
            let roots: Vec<usize> = names
                .iter()
                .filter_map(|n| schema.index_of(n).ok())
                .collect();
            let mask = ProjectionMask::roots(b.parquet_schema(), roots);
            b.with_projection(mask)
        }
        None => b,
    };
    b.build().map_err(Error::internal)
}

/// The schema a load writes: the table's columns as they are, then the entry's new ones.
pub fn schema_for(table: Option<&DeltaTable>, spec: &TableSpec) -> Result<SchemaRef> {
    use deltalake::kernel::engine::arrow_conversion::TryIntoArrow;
    let ours = spec.schema();
    let Some(t) = table else { return Ok(ours) };
    let current: datafusion::arrow::datatypes::Schema = t
        .snapshot()
        .map_err(delta_err)?
        .schema()
        .as_ref()
        .try_into_arrow()
        .map_err(Error::internal)?;
    let mut fields: Vec<_> = current.fields().iter().cloned().collect();
    for f in ours.fields() {
        if current.field_with_name(f.name()).is_err() {
            fields.push(f.clone());
        }
    }
    Ok(std::sync::Arc::new(
        datafusion::arrow::datatypes::Schema::new(fields),
    ))
}

/// A file of the table that loses rows.
struct Touched {
    remove: deltalake::kernel::Remove,
    path: String,
    drop: Vec<usize>,
}

/// What committing the delivery changes in the table.
#[derive(Default)]
pub struct Plan {
    touched: Vec<Touched>,
    /// Delivery rows (by position) not to be committed: replaced within the delivery, or equal
    /// to the table's row.
    drop: Vec<u64>,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub files_scanned: usize,
    pub files_skipped: usize,
}

/// Sort the table's rows against the delivery's keys.
pub async fn plan(table: Option<&DeltaTable>, spec: &TableSpec, loaded: &Loaded) -> Result<Plan> {
    let mut plan = Plan {
        drop: loaded.superseded.clone(),
        ..Default::default()
    };
    if let Some(t) = table
        && !loaded.keys.is_empty()
    {
        let key_cols = key_columns(spec);
        let names: Vec<&str> = key_cols
            .iter()
            .map(|&k| spec.columns[k].name.as_str())
            .collect();
        let kinds: Vec<Kind> = key_cols.iter().map(|&k| spec.columns[k].kind).collect();
        let mut wanted = names.clone();
        wanted.push(spec::ROW_HASH);
        let store = t.object_store();
        let files: Vec<_> = t
            .get_active_add_actions_by_predicate(None)
            .try_collect()
            .await
            .map_err(delta_err)?;
        let mut scratch = Vec::with_capacity(64);
        for f in files {
            if !may_hold(f.stats().as_deref(), &names, &kinds, &loaded.key_ranges) {
                plan.files_skipped += 1;
                continue;
            }
            plan.files_scanned += 1;
            let path = f.path().to_string();
            let reader = open(&store, &path, Some(&wanted)).await?;
            let mut offset = 0usize;
            let mut drop = vec![];
            for b in reader {
                let b = b.map_err(Error::internal)?;
                let cols: Vec<(Kind, Option<ArrayRef>)> = names
                    .iter()
                    .zip(&kinds)
                    .map(|(n, k)| (*k, b.column_by_name(n).cloned()))
                    .collect();
                let hashes = b
                    .column_by_name(spec::ROW_HASH)
                    .and_then(|a| a.as_any().downcast_ref::<Int64Array>().cloned());
                let keys: Vec<u128> = (0..b.num_rows())
                    .map(|i| key_of(&cols, i, &mut scratch))
                    .collect();
                for (c, chunk) in keys.chunks(WARM).enumerate() {
                    loaded.keys.warm(chunk.iter().copied());
                    for (j, &key) in chunk.iter().enumerate() {
                        let i = c * WARM + j;
                        let Some((h, at)) = loaded.keys.get(key) else {
                            continue;
                        };
                        let same = hashes
                            .as_ref()
                            .is_some_and(|a| !a.is_null(i) && a.value(i) == h);
                        if same {
                            plan.drop.push(at);
                            plan.unchanged += 1;
                        } else {
                            drop.push(offset + i);
                            plan.updated += 1;
                        }
                    }
                }
                offset += b.num_rows();
            }
            if !drop.is_empty() {
                plan.touched.push(Touched {
                    remove: f.remove_action(true),
                    path,
                    drop,
                });
            }
        }
    }
    plan.drop.sort_unstable();
    plan.drop.dedup();
    plan.inserted = loaded
        .accepted
        .saturating_sub(plan.unchanged + plan.updated);
    Ok(plan)
}

/// Copy a file without some of its rows into `writer`.
async fn copy_without(
    store: &ObjectStoreRef,
    path: &str,
    drop: &[usize],
    writer: &mut RecordBatchWriter,
) -> Result<()> {
    let reader = open(store, path, None).await?;
    let mut offset = 0usize;
    let mut d = 0usize;
    for b in reader {
        let b = b.map_err(Error::internal)?;
        let n = b.num_rows();
        let mut keep = vec![true; n];
        while d < drop.len() && drop[d] < offset + n {
            keep[drop[d] - offset] = false;
            d += 1;
        }
        offset += n;
        let b = filter_record_batch(&b, &BooleanArray::from(keep)).map_err(Error::internal)?;
        if b.num_rows() > 0 {
            writer
                .write_with_mode(b, WriteMode::MergeSchema)
                .await
                .map_err(delta_err)?;
        }
    }
    Ok(())
}

/// What a commit did.
pub struct Committed {
    pub version: Option<i64>,
    pub files_added: usize,
    pub files_removed: usize,
}

/// The table a load commits to.
pub struct Target<'a> {
    /// Its newest version; `None` before its first commit.
    pub table: Option<&'a DeltaTable>,
    pub url: &'a Url,
    pub spec: &'a TableSpec,
    /// What the load writes ([`schema_for`]).
    pub schema: SchemaRef,
}

/// Rewrite what the plan says, and commit the delivery as one version (creating the table on
/// its first delivery). Nothing is committed when nothing changes.
pub async fn finish(
    mut sink: Sink,
    target: Target<'_>,
    plan: Plan,
    props: CommitProperties,
) -> Result<Committed> {
    let mut written = vec![];
    let done = commit(&mut sink, &mut written, target, plan, props).await;
    if done.is_err() {
        // Nothing refers to this load's files: remove them (a concurrent commit, a full disk…).
        for p in written {
            remove(&sink.store, &p).await;
        }
        sink.abort().await;
    }
    done
}

async fn commit(
    sink: &mut Sink,
    written: &mut Vec<String>,
    target: Target<'_>,
    plan: Plan,
    props: CommitProperties,
) -> Result<Committed> {
    let Target {
        table,
        url,
        spec,
        schema,
    } = target;
    sink.close().await?;
    let store = sink.store.clone();
    let mut rewriter =
        RecordBatchWriter::try_new(url.as_str(), schema.clone(), None, None).map_err(delta_err)?;
    let mut actions: Vec<Action> = vec![];
    let mut gone: Vec<String> = vec![];
    let mut removed = 0usize;
    // The delivery's own files, without the rows not to be committed.
    let mut d = 0usize;
    for s in &sink.staged {
        let start = d;
        while d < plan.drop.len() && plan.drop[d] < s.first + s.rows {
            d += 1;
        }
        if start == d {
            actions.push(Action::Add(s.add.clone()));
            continue;
        }
        gone.push(s.add.path.clone());
        if (d - start) as u64 == s.rows {
            continue;
        }
        let rows: Vec<usize> = plan.drop[start..d]
            .iter()
            .map(|g| (g - s.first) as usize)
            .collect();
        copy_without(&store, &s.add.path, &rows, &mut rewriter).await?;
    }
    // The table's files that lose rows.
    for t in &plan.touched {
        copy_without(&store, &t.path, &t.drop, &mut rewriter).await?;
        actions.push(Action::Remove(t.remove.clone()));
        removed += 1;
    }
    for add in rewriter.flush().await.map_err(delta_err)? {
        written.push(add.path.clone());
        actions.push(Action::Add(add));
    }
    // Staged files replaced by their rewrite are no longer wanted.
    for p in &gone {
        remove(&store, p).await;
    }
    let added = actions
        .iter()
        .filter(|a| matches!(a, Action::Add(_)))
        .count();
    if added == 0 && removed == 0 {
        return Ok(Committed {
            version: None,
            files_added: 0,
            files_removed: 0,
        });
    }
    let version = match table {
        None => {
            let st: StructType = schema.as_ref().try_into_kernel().map_err(Error::internal)?;
            let t = CreateBuilder::new()
                .with_location(url.to_string())
                .with_table_name(spec.name.clone())
                .with_comment(spec.title.clone())
                .with_columns(st.fields().cloned())
                .with_actions(actions)
                .with_commit_properties(props)
                .await
                .map_err(delta_err)?;
            t.version().map(|v| v as i64)
        }
        Some(t) => {
            let snapshot = t.snapshot().map_err(delta_err)?;
            let current: StructType = snapshot.schema().as_ref().clone();
            let wanted: StructType = schema.as_ref().try_into_kernel().map_err(Error::internal)?;
            if wanted.fields().any(|f| current.field(f.name()).is_none()) {
                let meta = snapshot
                    .metadata()
                    .clone()
                    .with_schema(&wanted)
                    .map_err(Error::internal)?;
                actions.push(Action::Metadata(meta));
            }
            let key = spec
                .key
                .iter()
                .map(|k| format!("target.\"{k}\" = source.\"{k}\""))
                .collect::<Vec<_>>()
                .join(" AND ");
            let op = DeltaOperation::Merge {
                predicate: None,
                merge_predicate: Some(key),
                matched_predicates: vec![],
                not_matched_predicates: vec![],
                not_matched_by_source_predicates: vec![],
            };
            let done = CommitBuilder::from(props)
                .with_actions(actions)
                .build(Some(snapshot), t.log_store(), op)
                .await
                .map_err(delta_err)?;
            Some(done.version() as i64)
        }
    };
    Ok(Committed {
        version,
        files_added: added,
        files_removed: removed,
    })
}

/// Remove the data files of a table that no version can read: written by loads cut short
/// (killed before their commit) and older than `older_than`, so a load still running in another
/// process keeps its files. A file is readable when the newest version holds it or a commit still
/// in the log added it (time travel); everything else under the table's folder ending in
/// `.parquet` outside the log is an orphan. Returns how many were removed.
pub async fn sweep(url: &Url, older_than: std::time::Duration) -> Result<usize> {
    let table = DeltaTableBuilder::from_url(url.clone())
        .map_err(delta_err)?
        .build()
        .map_err(delta_err)?;
    let store = table.object_store();
    let log_dir = Path::from("_delta_log");
    let listed: Vec<object_store::ObjectMeta> = store
        .list(None)
        .try_collect()
        .await
        .map_err(Error::internal)?;
    let decoded = |p: &str| {
        Path::from_url_path(p)
            .map(|p| p.to_string())
            .unwrap_or_else(|_| p.to_owned())
    };
    let mut readable = std::collections::HashSet::new();
    let mut table = table;
    if table.load().await.is_ok() {
        let files: Vec<_> = table
            .get_active_add_actions_by_predicate(None)
            .try_collect()
            .await
            .map_err(delta_err)?;
        readable.extend(files.iter().map(|f| decoded(&f.path())));
    }
    for m in listed
        .iter()
        .filter(|m| m.location.prefix_matches(&log_dir))
    {
        if !m.location.as_ref().ends_with(".json") {
            continue;
        }
        let bytes = store
            .get(&m.location)
            .await
            .map_err(Error::internal)?
            .bytes()
            .await
            .map_err(Error::internal)?;
        for line in bytes.split(|b| *b == b'\n') {
            let Ok(v) = serde_json::from_slice::<serde_json::Value>(line) else {
                continue;
            };
            if let Some(p) = v
                .get("add")
                .and_then(|a| a.get("path"))
                .and_then(|p| p.as_str())
            {
                readable.insert(decoded(p));
            }
        }
    }
    let cutoff = chrono::Utc::now()
        - chrono::Duration::from_std(older_than).unwrap_or(chrono::Duration::zero());
    let mut removed = 0;
    for m in &listed {
        let name = m.location.as_ref();
        // A sketch goes with its data file.
        let data = sketch::data_of(name).unwrap_or(name);
        if m.location.prefix_matches(&log_dir)
            || !data.ends_with(".parquet")
            || readable.contains(data)
            || m.last_modified > cutoff
        {
            continue;
        }
        store.delete(&m.location).await.map_err(Error::internal)?;
        removed += 1;
    }
    Ok(removed)
}
