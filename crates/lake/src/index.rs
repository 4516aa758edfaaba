//! Key indexes: a table's newest version held in memory with its rows ordered by the table's key,
//! for the data-service gateway's point reads (one row by a citizen ID or a credit code) and
//! key-ordered batches — microseconds instead of planning a query and scanning files per call.
//!
//! An index is of one table version. It is checked against the table's newest version at most
//! every [`FRESH`] (a load by another process, `shuju ingest`, shows within that time) and at
//! once after a load or build by this process. Tables over [`MAX_ROWS`] rows are not held; their
//! reads go through SQL.

use crate::{Lake, batches_to_json, query};
use datafusion::arrow::array::{Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::DataType;
use shuju_types::{Error, Result};
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long an index is trusted before the table's newest version is looked up again.
pub const FRESH: Duration = Duration::from_secs(1);

/// The largest table held in memory.
pub const MAX_ROWS: usize = 2_000_000;

/// A column's values, each with the rows (batch, row) holding it in key order.
type ByValue = HashMap<String, Vec<(u32, u32)>>;

/// One table version, its rows by key.
#[derive(Debug)]
pub struct KeyIndex {
    pub table: String,
    /// The table version held; `None` for a table nothing was ever committed to.
    pub version: Option<i64>,
    batches: Vec<RecordBatch>,
    keys: BTreeMap<String, (u32, u32)>,
    /// The columns held as text (masked as text; other personal data is withheld).
    text: std::collections::HashSet<String>,
    /// Rows by the value of another column, in key order: built on first use of the column.
    by: std::sync::Mutex<HashMap<String, Arc<ByValue>>>,
}

impl KeyIndex {
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    fn row(&self, (b, r): (u32, u32)) -> Result<serde_json::Map<String, serde_json::Value>> {
        let one = self.batches[b as usize].slice(r as usize, 1);
        Ok(batches_to_json(&[one])?.pop().unwrap_or_default())
    }

    /// The row whose key is `key`, every column.
    pub fn get(&self, key: &str) -> Result<Option<serde_json::Map<String, serde_json::Value>>> {
        self.keys.get(key).map(|p| self.row(*p)).transpose()
    }

    /// The rows whose `column` holds `value` (compared as text), in key order, at most `limit`.
    /// The first lookup by a column indexes it.
    pub fn rows_where(
        &self,
        column: &str,
        value: &str,
        limit: usize,
    ) -> Result<Vec<serde_json::Map<String, serde_json::Value>>> {
        let by = {
            let mut by = self.by.lock().unwrap_or_else(|e| e.into_inner());
            match by.get(column) {
                Some(m) => m.clone(),
                None => {
                    let m = Arc::new(self.index_column(column)?);
                    by.insert(column.to_owned(), m.clone());
                    m
                }
            }
        };
        by.get(value)
            .map(|ps| ps.iter().take(limit).map(|p| self.row(*p)).collect())
            .unwrap_or_else(|| Ok(Vec::new()))
    }

    fn index_column(&self, column: &str) -> Result<ByValue> {
        let mut cols = Vec::with_capacity(self.batches.len());
        for b in &self.batches {
            let Some(c) = b.column_by_name(column) else {
                return Err(Error::invalid(
                    "column",
                    format!("table {} has no column {column}", self.table),
                ));
            };
            cols.push(
                datafusion::arrow::compute::cast(c, &DataType::Utf8)
                    .map_err(|e| Error::internal(e.to_string()))?,
            );
        }
        let mut out = ByValue::new();
        for &(b, r) in self.keys.values() {
            let Some(c) = cols[b as usize].as_any().downcast_ref::<StringArray>() else {
                return Err(Error::internal("column not text"));
            };
            if !c.is_null(r as usize) {
                out.entry(c.value(r as usize).to_owned())
                    .or_default()
                    .push((b, r));
            }
        }
        Ok(out)
    }

    /// A row as a reader without the unmasked permission sees it through SQL (the masking view):
    /// sensitive text masked, other sensitive values and the values as written withheld.
    pub fn mask(
        &self,
        spec: &crate::TableSpec,
        row: &mut serde_json::Map<String, serde_json::Value>,
    ) {
        for (name, v) in row.iter_mut() {
            if name == crate::spec::RAW {
                *v = serde_json::Value::Null;
            } else if spec.column(name).is_some_and(|c| c.sensitive) {
                *v = match v {
                    serde_json::Value::Null => serde_json::Value::Null,
                    serde_json::Value::String(s) if self.text.contains(name) => {
                        serde_json::Value::String(crate::query::mask_str(s))
                    }
                    _ => serde_json::Value::Null,
                };
            }
        }
        // As the rows SQL gives: a null value is left out.
        row.retain(|_, v| !v.is_null());
    }

    /// At most `limit` rows in key order, after the key `after`.
    pub fn after(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<serde_json::Map<String, serde_json::Value>>> {
        let from = after.map_or(Bound::Unbounded, |a| Bound::Excluded(a.to_owned()));
        self.keys
            .range((from, Bound::Unbounded))
            .take(limit)
            .map(|(_, p)| self.row(*p))
            .collect()
    }
}

struct Cached {
    checked: Instant,
    generation: u64,
    version: Option<i64>,
    /// `None` when the table is too big to hold.
    index: Option<Arc<KeyIndex>>,
}

/// The lake's key indexes.
#[derive(Default)]
pub(crate) struct Indexes {
    cached: std::sync::Mutex<HashMap<String, Cached>>,
    /// One index built at a time.
    building: tokio::sync::Mutex<()>,
    /// Bumped by every load and build of this process.
    generation: AtomicU64,
}

impl Indexes {
    pub(crate) fn changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    fn fresh(&self, table: &str) -> Option<Option<Arc<KeyIndex>>> {
        let g = self.generation.load(Ordering::SeqCst);
        let cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        cached
            .get(table)
            .filter(|c| c.generation == g && c.checked.elapsed() < FRESH)
            .map(|c| c.index.clone())
    }

    /// The cached index if it is of `version`; marks it checked.
    fn of_version(
        &self,
        table: &str,
        version: Option<i64>,
        g: u64,
    ) -> Option<Option<Arc<KeyIndex>>> {
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        let c = cached.get_mut(table).filter(|c| c.version == version)?;
        c.checked = Instant::now();
        c.generation = g;
        Some(c.index.clone())
    }
}

impl Lake {
    /// The key index of a table's newest version, built on first use; `None` for a table too big
    /// to hold in memory. The rows are raw (unmasked): the caller masks what leaves.
    pub async fn key_index(&self, spec: &crate::TableSpec) -> Result<Option<Arc<KeyIndex>>> {
        if let Some(i) = self.indexes.fresh(&spec.name) {
            return Ok(i);
        }
        let g = self.indexes.generation.load(Ordering::SeqCst);
        let version = self.current_version(spec).await?;
        if let Some(i) = self.indexes.of_version(&spec.name, version, g) {
            return Ok(i);
        }
        let _one = self.indexes.building.lock().await;
        if let Some(i) = self.indexes.of_version(&spec.name, version, g) {
            return Ok(i);
        }
        let index = self.build_index(spec, version).await?;
        let mut cached = self
            .indexes
            .cached
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        cached.insert(
            spec.name.clone(),
            Cached {
                checked: Instant::now(),
                generation: g,
                version,
                index: index.clone(),
            },
        );
        Ok(index)
    }

    async fn build_index(
        &self,
        spec: &crate::TableSpec,
        version: Option<i64>,
    ) -> Result<Option<Arc<KeyIndex>>> {
        let key = spec
            .key
            .first()
            .ok_or_else(|| Error::internal("a lake table without a key"))?;
        let empty = || KeyIndex {
            table: spec.name.clone(),
            version,
            batches: Vec::new(),
            keys: BTreeMap::new(),
            text: Default::default(),
            by: Default::default(),
        };
        let Some(v) = version else {
            return Ok(Some(Arc::new(empty())));
        };
        let Some(t) = self.delta(spec, Some(v)).await? else {
            return Ok(Some(Arc::new(empty())));
        };
        let ctx = query::session();
        let provider = t.table_provider().await.map_err(query::df_err)?;
        query::register(&ctx, spec, provider, true)?;
        let count =
            query::collect(&ctx, &format!("SELECT COUNT(*) FROM \"{}\"", spec.name)).await?;
        let rows = count
            .first()
            .filter(|b| b.num_rows() > 0)
            .and_then(|b| {
                b.column(0)
                    .as_any()
                    .downcast_ref::<datafusion::arrow::array::Int64Array>()
                    .map(|a| a.value(0))
            })
            .unwrap_or(0);
        if rows as usize > MAX_ROWS {
            return Ok(None);
        }
        let batches = query::collect(&ctx, &format!("SELECT * FROM \"{}\"", spec.name)).await?;
        let mut index = empty();
        for (b, batch) in batches.iter().enumerate() {
            let Some(col) = batch.column_by_name(key) else {
                return Err(Error::internal(format!(
                    "table {} has no key column",
                    spec.name
                )));
            };
            let col = datafusion::arrow::compute::cast(col, &DataType::Utf8)
                .map_err(|e| Error::internal(e.to_string()))?;
            let col = col
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| Error::internal("key not text"))?;
            for r in 0..col.len() {
                if !col.is_null(r) {
                    index
                        .keys
                        .insert(col.value(r).to_owned(), (b as u32, r as u32));
                }
            }
        }
        if let Some(b) = batches.first() {
            index.text = b
                .schema()
                .fields()
                .iter()
                .filter(|f| {
                    matches!(
                        f.data_type(),
                        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
                    )
                })
                .map(|f| f.name().clone())
                .collect();
        }
        index.batches = batches;
        tracing::info!(table = %spec.name, version = v, rows = index.len(), "key index built");
        Ok(Some(Arc::new(index)))
    }
}
