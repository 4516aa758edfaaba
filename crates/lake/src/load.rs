//! Turning a delivery into Arrow batches: map source columns to the table's, clean and validate
//! each value, reject a row with its reason (kept with the raw row for the quarantine), and keep
//! the last of several rows with one key.

use crate::clean::{Value, clean};
use crate::read::Visit;
use crate::spec::{Kind, TableSpec};
use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use shuju_types::{Error, Result};
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::Arc;
use twox_hash::{XxHash3_64, XxHash3_128};

const BATCH: usize = 64 * 1024;

/// Keys are already 128-bit hashes: use their low bits as they are.
#[derive(Default)]
pub struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(b);
        }
    }
    fn write_u128(&mut self, i: u128) {
        self.0 = i as u64;
    }
}

/// A rejected row.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Reject {
    /// Line (CSV, JSON lines) or sheet row (Excel), 1-based, header included.
    pub row: u64,
    /// The column at fault, when one is.
    pub column: Option<String>,
    pub reason: String,
    /// The source row as JSON `{header: value}`.
    pub raw: String,
}

enum Builder {
    Text(StringBuilder),
    Integer(Int64Builder),
    Decimal(Float64Builder),
    Date(Date32Builder),
    Timestamp(TimestampMicrosecondBuilder),
    Boolean(BooleanBuilder),
}

impl Builder {
    fn new(kind: Kind) -> Self {
        match kind {
            Kind::Text => Builder::Text(StringBuilder::with_capacity(BATCH, BATCH * 16)),
            Kind::Integer => Builder::Integer(Int64Builder::with_capacity(BATCH)),
            Kind::Decimal => Builder::Decimal(Float64Builder::with_capacity(BATCH)),
            Kind::Date => Builder::Date(Date32Builder::with_capacity(BATCH)),
            Kind::Timestamp => Builder::Timestamp(
                TimestampMicrosecondBuilder::with_capacity(BATCH).with_timezone("UTC"),
            ),
            Kind::Boolean => Builder::Boolean(BooleanBuilder::with_capacity(BATCH)),
        }
    }

    fn push(&mut self, v: &Value<'_>) {
        match (self, v) {
            (Builder::Text(b), Value::Text(s)) => b.append_value(s),
            (Builder::Integer(b), Value::Integer(i)) => b.append_value(*i),
            (Builder::Decimal(b), Value::Decimal(f)) => b.append_value(*f),
            (Builder::Date(b), Value::Date(d)) => b.append_value(*d),
            (Builder::Timestamp(b), Value::Timestamp(t)) => b.append_value(*t),
            (Builder::Boolean(b), Value::Boolean(x)) => b.append_value(*x),
            (Builder::Text(b), _) => b.append_null(),
            (Builder::Integer(b), _) => b.append_null(),
            (Builder::Decimal(b), _) => b.append_null(),
            (Builder::Date(b), _) => b.append_null(),
            (Builder::Timestamp(b), _) => b.append_null(),
            (Builder::Boolean(b), _) => b.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Text(b) => Arc::new(b.finish()),
            Builder::Integer(b) => Arc::new(b.finish()),
            Builder::Decimal(b) => Arc::new(b.finish()),
            Builder::Date(b) => Arc::new(b.finish()),
            Builder::Timestamp(b) => Arc::new(b.finish()),
            Builder::Boolean(b) => Arc::new(b.finish()),
        }
    }
}

/// The positions of the key's columns among the table's.
pub(crate) fn key_columns(spec: &TableSpec) -> Vec<usize> {
    spec.key
        .iter()
        .filter_map(|k| spec.columns.iter().position(|c| &c.name == k))
        .collect()
}

/// Feed the value's canonical bytes to a hash.
pub(crate) fn hash_value(h: &mut Vec<u8>, v: &Value<'_>) {
    match v {
        Value::Null => h.push(0),
        Value::Text(s) => {
            h.push(1);
            h.extend_from_slice(s.as_bytes());
            h.push(0xFF);
        }
        Value::Integer(i) | Value::Timestamp(i) => {
            h.push(2);
            h.extend_from_slice(&i.to_le_bytes());
        }
        Value::Decimal(f) => {
            h.push(3);
            h.extend_from_slice(&f.to_bits().to_le_bytes());
        }
        Value::Date(d) => {
            h.push(4);
            h.extend_from_slice(&d.to_le_bytes());
        }
        Value::Boolean(b) => h.push(5 + *b as u8),
    }
}

/// The key map of a delivery: the key's 128-bit hash to the row's content hash and its position
/// among the rows sent on (0-based).
pub type KeyMap = HashMap<u128, (i64, u64), BuildHasherDefault<KeyHasher>>;

/// The outcome of reading a delivery: rejects, counts, and what the upsert needs to know of the
/// rows sent on (their keys, the earlier rows a later one replaced, the keys' ranges).
#[derive(Debug, Default)]
pub struct Loaded {
    pub rejects: Vec<Reject>,
    pub rows_read: u64,
    /// Earlier rows replaced by a later row with the same key in the same delivery.
    pub duplicates: u64,
    /// Source headers that feed no column (reported, not an error).
    pub unmapped: Vec<String>,
    /// Rows sent on; `accepted` of them have distinct keys.
    pub sent: u64,
    pub accepted: u64,
    pub keys: KeyMap,
    /// Rows sent on and then replaced by a later row with the same key and other content.
    pub superseded: Vec<u64>,
    /// Per key column, the smallest and largest value sent on (for skipping files that cannot
    /// hold one of these keys).
    pub key_ranges: Vec<Option<(Bound, Bound)>>,
}

/// A key column's value, comparable with a Delta file's column statistics.
#[derive(Clone, Debug, PartialEq, PartialOrd)]
pub enum Bound {
    Text(String),
    Number(i64),
    Real(f64),
}

impl Bound {
    fn of(v: &Value<'_>) -> Option<Bound> {
        Some(match v {
            Value::Text(s) => Bound::Text(s.to_string()),
            Value::Integer(i) | Value::Timestamp(i) => Bound::Number(*i),
            Value::Date(d) => Bound::Number(i64::from(*d)),
            Value::Decimal(f) => Bound::Real(*f),
            Value::Null | Value::Boolean(_) => return None,
        })
    }
}

pub struct Loader {
    spec: Arc<TableSpec>,
    schema: SchemaRef,
    job: i64,
    header: Vec<String>,
    /// For each table column, the source field that feeds it.
    source_of: Vec<Option<usize>>,
    key_cols: Vec<usize>,
    builders: Vec<Builder>,
    hash_b: Int64Builder,
    in_batch: usize,
    scratch: Vec<u8>,
    out: Loaded,
    /// Where finished batches go (the writer of the commit).
    send: Box<dyn FnMut(RecordBatch) -> Result<()> + Send>,
}

impl Loader {
    /// Expect about this many rows (e.g. from the file's size): the key map is sized once.
    pub fn expect_rows(&mut self, rows: usize) {
        self.out.keys.reserve(rows.min(200_000_000));
    }

    /// A loader that hands each finished batch of accepted rows to `send`, in order.
    pub fn new(
        spec: Arc<TableSpec>,
        job: i64,
        send: impl FnMut(RecordBatch) -> Result<()> + Send + 'static,
    ) -> Self {
        let builders = spec.columns.iter().map(|c| Builder::new(c.kind)).collect();
        let key_cols = key_columns(&spec);
        let key_cols_len = key_cols.len();
        Loader {
            schema: spec.schema(),
            spec,
            job,
            header: vec![],
            source_of: vec![],
            key_cols,
            builders,
            hash_b: Int64Builder::with_capacity(BATCH),
            in_batch: 0,
            scratch: Vec::with_capacity(256),
            out: Loaded {
                key_ranges: vec![None; key_cols_len],
                ..Default::default()
            },
            send: Box::new(send),
        }
    }

    fn raw_json(&self, fields: &[&str]) -> String {
        let m: serde_json::Map<String, serde_json::Value> = self
            .header
            .iter()
            .zip(fields)
            .map(|(h, v)| (h.clone(), serde_json::Value::String((*v).to_owned())))
            .collect();
        serde_json::Value::Object(m).to_string()
    }

    fn flush(&mut self) -> Result<()> {
        if self.in_batch == 0 {
            return Ok(());
        }
        let mut cols: Vec<ArrayRef> = self.builders.iter_mut().map(Builder::finish).collect();
        cols.push(Arc::new(self.hash_b.finish()));
        cols.push(Arc::new(Int64Array::from(vec![self.job; self.in_batch])));
        let b = RecordBatch::try_new(self.schema.clone(), cols).map_err(Error::internal)?;
        self.in_batch = 0;
        (self.send)(b)
    }

    /// Finish: send the last batch; the rows a later row replaced are listed in `superseded`.
    pub fn finish(mut self) -> Result<Loaded> {
        self.flush()?;
        self.out.superseded.sort_unstable();
        Ok(self.out)
    }
}

use datafusion::arrow::array::Int64Array;

impl Visit for Loader {
    fn header(&mut self, header: &[String]) -> Result<()> {
        self.header = header
            .iter()
            .map(|h| crate::clean::standardise(h))
            .collect();
        let mut source_of = vec![None; self.spec.columns.len()];
        for (i, h) in self.header.iter().enumerate() {
            match self.spec.target_of(h) {
                Some(c) if source_of[c].is_none() => source_of[c] = Some(i),
                _ => self.out.unmapped.push(h.clone()),
            }
        }
        for (c, col) in self.spec.columns.iter().enumerate() {
            if source_of[c].is_none() && (col.required || self.spec.key.contains(&col.name)) {
                return Err(Error::invalid(
                    "file",
                    format!(
                        "the delivery has no column for {} ({}); map one in the table's mapping",
                        col.title, col.name
                    ),
                ));
            }
        }
        self.source_of = source_of;
        Ok(())
    }

    fn row(&mut self, number: u64, fields: std::result::Result<&[&str], String>) -> Result<()> {
        self.out.rows_read += 1;
        let fields = match fields {
            Ok(f) => f,
            Err(reason) => {
                self.out.rejects.push(Reject {
                    row: number,
                    column: None,
                    reason,
                    raw: String::new(),
                });
                return Ok(());
            }
        };
        let mut values: Vec<Value<'_>> = Vec::with_capacity(self.spec.columns.len());
        for (c, col) in self.spec.columns.iter().enumerate() {
            let raw = self.source_of[c].map(|i| fields[i]).unwrap_or("");
            match clean(col, raw) {
                Ok(v) => values.push(v),
                Err(reason) => {
                    let raw = self.raw_json(fields);
                    self.out.rejects.push(Reject {
                        row: number,
                        column: Some(col.name.clone()),
                        reason,
                        raw,
                    });
                    return Ok(());
                }
            }
        }
        if self.key_cols.iter().any(|&k| values[k] == Value::Null) {
            let raw = self.raw_json(fields);
            self.out.rejects.push(Reject {
                row: number,
                column: self
                    .key_cols
                    .first()
                    .map(|&k| self.spec.columns[k].name.clone()),
                reason: "missing".into(),
                raw,
            });
            return Ok(());
        }
        self.scratch.clear();
        for &k in &self.key_cols {
            hash_value(&mut self.scratch, &values[k]);
        }
        let key = XxHash3_128::oneshot(&self.scratch);
        self.scratch.clear();
        for v in &values {
            hash_value(&mut self.scratch, v);
        }
        let row_hash = XxHash3_64::oneshot(&self.scratch) as i64;
        let here = self.out.sent;
        match self.out.keys.entry(key) {
            std::collections::hash_map::Entry::Occupied(mut e) => {
                self.out.duplicates += 1;
                if e.get().0 == row_hash {
                    // The same row delivered twice: the first one stands.
                    return Ok(());
                }
                let (_, earlier) = e.insert((row_hash, here));
                self.out.superseded.push(earlier);
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert((row_hash, here));
                self.out.accepted += 1;
            }
        }
        for (range, &k) in self.out.key_ranges.iter_mut().zip(&self.key_cols) {
            if let Some(b) = Bound::of(&values[k]) {
                match range {
                    None => *range = Some((b.clone(), b)),
                    Some((lo, hi)) => {
                        if b < *lo {
                            *lo = b;
                        } else if b > *hi {
                            *hi = b;
                        }
                    }
                }
            }
        }
        self.out.sent += 1;
        for (b, v) in self.builders.iter_mut().zip(&values) {
            b.push(v);
        }
        self.hash_b.append_value(row_hash);
        self.in_batch += 1;
        if self.in_batch == BATCH {
            self.flush()?;
        }
        Ok(())
    }
}
