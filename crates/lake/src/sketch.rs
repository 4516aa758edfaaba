//! Distinct-value sketches of a table's data files, so quality's uniqueness needs no scan of
//! the table.
//!
//! A load sketches the rows of each data file it writes as it writes them: a HyperLogLog per
//! column, DataFusion's `approx_distinct` state. The sketch is stored beside the table under
//! [`DIR`], a folder Delta readers never look in (its name starts with `_`). A data file never
//! changes, so neither does its sketch. A table's distinct counts are the merge of its active
//! files' sketches; a file without one (rewritten by an upsert, written by SQL, older than
//! sketches) is read once and its sketch stored then.

use crate::spec::{Kind, TableSpec};
use crate::upsert::open;
use datafusion::arrow::array::{Array, ArrayRef, BinaryArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{Accumulator, AggregateUDFImpl};
use datafusion::physical_expr::expressions::Column;
use deltalake::Path;
use deltalake::logstore::ObjectStoreRef;
use object_store::ObjectStoreExt;
use shuju_types::{Error, Result};
use std::hash::BuildHasher;
use std::sync::Arc;

/// The folder, inside the table's, that holds its files' sketches.
pub const DIR: &str = "_shuju_sketches";

const MAGIC: &[u8; 8] = b"SJHLL\x00\x00\x01";

/// Where the sketch of the data file at `path` (relative to the table) is kept.
pub fn path_of(data: &str) -> Path {
    Path::from(format!("{DIR}/{data}.hll"))
}

/// The data file a sketch at `location` belongs to, if it is one.
pub fn data_of(location: &str) -> Option<&str> {
    location
        .strip_prefix(DIR)?
        .strip_prefix('/')?
        .strip_suffix(".hll")
}

/// The hash the sketches were made with, as a fingerprint: a sketch made by a build that
/// hashes differently is not merged but made again.
fn fingerprint() -> u64 {
    datafusion::common::hash_utils::HLL_RANDOM_STATE.hash_one("shuju sketch")
}

/// The columns a table's quality counts distinct values of, and the type each is sketched as.
/// A one-column key is unique by the upsert, so it needs none; decimals and booleans are
/// sketched as text (as `approx_distinct(CAST(… AS VARCHAR))` would).
pub fn columns(spec: &TableSpec) -> Vec<(String, DataType)> {
    let sole_key = match spec.key.as_slice() {
        [k] => Some(k.as_str()),
        _ => None,
    };
    spec.columns
        .iter()
        .filter(|c| sole_key != Some(c.name.as_str()))
        .map(|c| {
            let t = match c.kind {
                Kind::Decimal | Kind::Boolean | Kind::Text => DataType::Utf8,
                _ => c.kind.arrow(),
            };
            (c.name.clone(), t)
        })
        .collect()
}

/// A HyperLogLog per column.
pub struct Sketch {
    cols: Vec<(String, DataType, Box<dyn Accumulator>)>,
}

impl std::fmt::Debug for Sketch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.cols.iter().map(|(n, t, _)| (n, t)))
            .finish()
    }
}

fn accumulator(t: &DataType) -> Result<Box<dyn Accumulator>> {
    let schema = Schema::new(vec![Field::new("v", t.clone(), true)]);
    let expr: Arc<dyn datafusion::physical_expr::PhysicalExpr> = Arc::new(Column::new("v", 0));
    let field = Arc::new(Field::new("v", t.clone(), true));
    let ret = Arc::new(Field::new("n", DataType::UInt64, false));
    datafusion::functions_aggregate::approx_distinct::ApproxDistinct::new()
        .accumulator(AccumulatorArgs {
            return_field: ret,
            schema: &schema,
            ignore_nulls: false,
            order_bys: &[],
            is_reversed: false,
            name: "approx_distinct(v)",
            is_distinct: false,
            exprs: &[expr],
            expr_fields: &[field],
        })
        .map_err(Error::internal)
}

impl Sketch {
    /// An empty sketch of these columns.
    pub fn new(columns: &[(String, DataType)]) -> Result<Sketch> {
        let cols = columns
            .iter()
            .map(|(n, t)| Ok((n.clone(), t.clone(), accumulator(t)?)))
            .collect::<Result<_>>()?;
        Ok(Sketch { cols })
    }

    /// Add a batch's values (a column the batch lacks adds nothing: it is all nulls).
    pub fn update(&mut self, batch: &RecordBatch) -> Result<()> {
        for (name, t, acc) in &mut self.cols {
            let Some(a) = batch.column_by_name(name) else {
                continue;
            };
            let a: ArrayRef = if a.data_type() == t {
                a.clone()
            } else {
                cast(a, t).map_err(Error::internal)?
            };
            acc.update_batch(&[a]).map_err(Error::internal)?;
        }
        Ok(())
    }

    /// Merge another sketch of the same columns in.
    pub fn merge(&mut self, other: &mut Sketch) -> Result<()> {
        for ((name, _, acc), (o, _, theirs)) in self.cols.iter_mut().zip(&mut other.cols) {
            if name != o {
                return Err(Error::internal("sketches of other columns"));
            }
            let state: Vec<ArrayRef> = theirs
                .state()
                .map_err(Error::internal)?
                .into_iter()
                .map(|s| s.to_array())
                .collect::<std::result::Result<_, _>>()
                .map_err(Error::internal)?;
            acc.merge_batch(&state).map_err(Error::internal)?;
        }
        Ok(())
    }

    /// The estimated number of distinct values of each column.
    pub fn counts(&mut self) -> Result<Vec<(String, i64)>> {
        self.cols
            .iter_mut()
            .map(|(name, _, acc)| {
                let n = match acc.evaluate().map_err(Error::internal)? {
                    ScalarValue::UInt64(Some(n)) => n as i64,
                    ScalarValue::Int64(Some(n)) => n,
                    _ => 0,
                };
                Ok((name.clone(), n))
            })
            .collect()
    }

    /// The sketch as bytes: a header, then per column its name and its HyperLogLog's state.
    pub fn to_bytes(&mut self) -> Result<Vec<u8>> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&fingerprint().to_le_bytes());
        out.extend_from_slice(&(self.cols.len() as u32).to_le_bytes());
        for (name, _, acc) in &mut self.cols {
            let state = acc.state().map_err(Error::internal)?;
            let Some(ScalarValue::Binary(Some(regs))) = state.first() else {
                return Err(Error::internal("a sketch whose state is not bytes"));
            };
            for part in [name.as_bytes(), regs.as_slice()] {
                out.extend_from_slice(&(part.len() as u32).to_le_bytes());
                out.extend_from_slice(part);
            }
        }
        Ok(out)
    }

    /// Read a sketch of these columns back; `None` when the bytes are not one (or were made
    /// with another hash). A column the sketch lacks stays empty (the file held only nulls).
    pub fn from_bytes(columns: &[(String, DataType)], bytes: &[u8]) -> Result<Option<Sketch>> {
        let mut s = Sketch::new(columns)?;
        let mut at = 0usize;
        let mut take = |n: usize| -> Option<&[u8]> {
            let part = bytes.get(at..at.checked_add(n)?)?;
            at += n;
            Some(part)
        };
        let u32_of = |b: &[u8]| u32::from_le_bytes(b.try_into().unwrap_or_default()) as usize;
        if take(8) != Some(MAGIC.as_slice())
            || take(8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()))
                != Some(fingerprint())
        {
            return Ok(None);
        }
        let Some(n) = take(4).map(u32_of) else {
            return Ok(None);
        };
        for _ in 0..n {
            let Some(name) = take(4).map(u32_of).and_then(&mut take).map(<[u8]>::to_vec) else {
                return Ok(None);
            };
            let Some(regs) = take(4).map(u32_of).and_then(&mut take) else {
                return Ok(None);
            };
            let Some((_, _, acc)) = s.cols.iter_mut().find(|(c, ..)| c.as_bytes() == name) else {
                continue;
            };
            let state: ArrayRef = Arc::new(BinaryArray::from(vec![regs]));
            if acc.merge_batch(&[state]).is_err() {
                return Ok(None);
            }
        }
        Ok(Some(s))
    }
}

/// Store the sketch of the data file at `data`.
pub async fn save(store: &ObjectStoreRef, data: &str, sketch: &mut Sketch) -> Result<()> {
    let bytes = sketch.to_bytes()?;
    store
        .put(&path_of(data), bytes.into())
        .await
        .map_err(Error::internal)?;
    Ok(())
}

/// The stored sketch of the data file at `data`, or `None` when it has none (or one that does
/// not read).
pub async fn load(
    store: &ObjectStoreRef,
    data: &str,
    columns: &[(String, DataType)],
) -> Result<Option<Sketch>> {
    let got = match store.get(&path_of(data)).await {
        Ok(g) => g,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(Error::internal(e)),
    };
    let bytes = got.bytes().await.map_err(Error::internal)?;
    Sketch::from_bytes(columns, &bytes)
}

/// Sketch the data file at `data` by reading it (its columns of `columns` only), and store it.
pub async fn make(
    store: &ObjectStoreRef,
    data: &str,
    columns: &[(String, DataType)],
) -> Result<Sketch> {
    let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
    let reader = open(store, data, Some(&names)).await?;
    let mut s = Sketch::new(columns)?;
    let s = tokio::task::spawn_blocking(move || -> Result<Sketch> {
        for b in reader {
            s.update(&b.map_err(Error::internal)?)?;
        }
        Ok(s)
    })
    .await
    .map_err(Error::internal)??;
    let mut s = s;
    save(store, data, &mut s).await?;
    Ok(s)
}

/// The distinct counts of the table made of the data files `files`, from their sketches
/// (made and stored for the files that have none).
pub async fn distinct(
    store: &ObjectStoreRef,
    files: &[String],
    columns: &[(String, DataType)],
) -> Result<Vec<(String, i64)>> {
    use futures::StreamExt;
    let mut total = Sketch::new(columns)?;
    // Two at a time: a file read to be sketched keeps a core busy.
    // Each future owns what it reads (a future holding borrows here is not `Send` for axum).
    let mut each = futures::stream::iter(files.to_vec())
        .map(|f| {
            let (store, columns) = (store.clone(), columns.to_vec());
            async move {
                match load(&store, &f, &columns).await? {
                    Some(s) => Ok(s),
                    None => make(&store, &f, &columns).await,
                }
            }
        })
        .buffered(2);
    while let Some(s) = each.next().await {
        total.merge(&mut s?)?;
    }
    total.counts()
}
