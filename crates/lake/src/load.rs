//! Turning a delivery into Arrow batches: map source columns to the table's, clean and validate
//! each value, reject a row with its reason (kept with the raw row for the quarantine), and keep
//! the last of several rows with one key.

use crate::clean::{Value, clean_text};
use crate::keys::{Keys, MAX_ROWS, Seen, WARM};
use crate::read::{Rejected, Split, Visit};
use crate::spec::{Kind, OnInvalid, TableSpec};
use datafusion::arrow::array::{
    ArrayRef, AsArray, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use shuju_types::{Error, Result};
use std::cmp::Ordering;
use std::sync::Arc;
use twox_hash::{XxHash3_64, XxHash3_128};

const BATCH: usize = 64 * 1024;
/// A batch is also handed on at this many bytes of text, whatever its rows.
const BATCH_BYTES: usize = 64 << 20;
/// How much of a flagged value is kept as written.
const RAW_VALUE_BYTES: usize = 4096;

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
    /// A builder for `rows` rows holding `bytes` of text, without growing.
    fn new(kind: Kind, rows: usize, bytes: usize) -> Self {
        match kind {
            Kind::Text => Builder::Text(StringBuilder::with_capacity(rows, bytes)),
            Kind::Integer => Builder::Integer(Int64Builder::with_capacity(rows)),
            Kind::Decimal => Builder::Decimal(Float64Builder::with_capacity(rows)),
            Kind::Date => Builder::Date(Date32Builder::with_capacity(rows)),
            Kind::Timestamp => Builder::Timestamp(
                TimestampMicrosecondBuilder::with_capacity(rows).with_timezone("UTC"),
            ),
            Kind::Boolean => Builder::Boolean(BooleanBuilder::with_capacity(rows)),
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
#[inline]
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
    /// Each key's 128-bit hash to its row's content hash and position among the rows sent on.
    pub keys: Keys,
    /// Rows sent on and then replaced by a later row with the same key and other content.
    pub superseded: Vec<u64>,
    /// Per key column, the smallest and largest value sent on (for skipping files that cannot
    /// hold one of these keys).
    pub key_ranges: Vec<Option<(Bound, Bound)>>,
    /// Rows kept with a value set aside for failing its check, and per column how many.
    pub flagged_rows: u64,
    pub flagged: std::collections::BTreeMap<String, u64>,
}

/// Byte order of two strings, decided by their first sixteen bytes as one number when those
/// differ (most comparisons of a key with the delivery's bounds: identifiers share a long
/// prefix), without a call to `memcmp`.
fn cmp_text(a: &str, b: &str) -> Ordering {
    fn head(s: &str) -> u128 {
        let mut h = [0u8; 16];
        let n = s.len().min(16);
        h[..n].copy_from_slice(&s.as_bytes()[..n]);
        u128::from_be_bytes(h)
    }
    head(a).cmp(&head(b)).then_with(|| a.cmp(b))
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

    /// Compare with a value without copying it.
    fn cmp_value(&self, v: &Value<'_>) -> Option<Ordering> {
        match (self, v) {
            (Bound::Text(a), Value::Text(s)) => Some(cmp_text(a, s)),
            (Bound::Number(a), Value::Integer(i) | Value::Timestamp(i)) => Some(a.cmp(i)),
            (Bound::Number(a), Value::Date(d)) => Some(a.cmp(&i64::from(*d))),
            (Bound::Real(a), Value::Decimal(f)) => a.partial_cmp(f),
            _ => None,
        }
    }

    /// Become `v` (a value this bound compares with), reusing a text's buffer: keys delivered
    /// in rising order move a bound on many rows.
    fn set(&mut self, v: &Value<'_>) {
        match (self, v) {
            (Bound::Text(t), Value::Text(s)) => {
                t.clear();
                t.push_str(s);
            }
            (b, v) => {
                if let Some(n) = Bound::of(v) {
                    *b = n;
                }
            }
        }
    }

    /// Widen `range` to hold `v`.
    fn widen(range: &mut Option<(Bound, Bound)>, v: &Value<'_>) {
        match range {
            None => *range = Bound::of(v).map(|b| (b.clone(), b)),
            Some((lo, hi)) => {
                if lo.cmp_value(v) == Some(Ordering::Greater) {
                    lo.set(v);
                } else if hi.cmp_value(v) == Some(Ordering::Less) {
                    hi.set(v);
                }
            }
        }
    }
}

/// The part of a load that turns rows into Arrow columns: map, clean, validate, reject, hash.
/// A CSV delivery is cleaned by several at once, each on its own chunks of rows
/// ([`crate::read::Split`]); the [`Loader`] puts their parts back in the file's order.
pub struct Cleaner {
    spec: Arc<TableSpec>,
    header: Vec<String>,
    /// For each table column, the source field that feeds it.
    source_of: Vec<Option<usize>>,
    key_cols: Vec<usize>,
    builders: Vec<Builder>,
    /// The key and content hash of each row cleaned since the last part.
    pending: Vec<(u128, i64)>,
    /// The values of a row, kept between rows for their allocation.
    spare: Vec<Value<'static>>,
    scratch: Vec<u8>,
    /// The rows being cleaned need no standardising (see [`Visit::plain`]).
    plain: bool,
    /// The `_flagged` and `_raw` columns of the rows cleaned since the last part.
    flagged_col: StringBuilder,
    raw_col: StringBuilder,
    /// The row being cleaned: its flagged columns and why.
    flags: Vec<(usize, String)>,
    /// Text bytes cleaned since the last part.
    bytes: usize,
    flagged_rows: u64,
    flagged: std::collections::BTreeMap<String, u64>,
    rejects: Vec<Reject>,
    rows_read: u64,
    unmapped: Vec<String>,
    key_ranges: Vec<Option<(Bound, Bound)>>,
}

/// Rows cleaned by a [`Cleaner`]: the table's columns and each row's key and content hash.
pub struct Part {
    cols: Vec<ArrayRef>,
    keys: Vec<(u128, i64)>,
}

impl Cleaner {
    fn new(spec: Arc<TableSpec>) -> Self {
        let builders = spec
            .columns
            .iter()
            .map(|c| Builder::new(c.kind, 1024, 16 * 1024))
            .collect();
        let key_cols = key_columns(&spec);
        Cleaner {
            key_ranges: vec![None; key_cols.len()],
            spec,
            header: vec![],
            source_of: vec![],
            key_cols,
            builders,
            pending: Vec::with_capacity(1024),
            spare: Vec::new(),
            scratch: Vec::with_capacity(256),
            plain: false,
            flagged_col: StringBuilder::new(),
            raw_col: StringBuilder::new(),
            flags: Vec::new(),
            bytes: 0,
            flagged_rows: 0,
            flagged: Default::default(),
            rejects: vec![],
            rows_read: 0,
            unmapped: vec![],
        }
    }

    /// Another cleaner for the same delivery, its header already read.
    fn worker(&self) -> Cleaner {
        let mut w = Cleaner::new(self.spec.clone());
        w.header = self.header.clone();
        w.source_of = self.source_of.clone();
        w
    }

    /// Take in what a worker counted and rejected.
    fn merge(&mut self, w: Cleaner) {
        self.rejects.extend(w.rejects);
        self.rows_read += w.rows_read;
        self.flagged_rows += w.flagged_rows;
        for (c, n) in w.flagged {
            *self.flagged.entry(c).or_default() += n;
        }
        for (mine, theirs) in self.key_ranges.iter_mut().zip(w.key_ranges) {
            *mine = match (mine.take(), theirs) {
                (None, r) | (r, None) => r,
                (Some((a, b)), Some((c, d))) => {
                    Some((if c < a { c } else { a }, if d > b { d } else { b }))
                }
            };
        }
    }

    /// The rows cleaned since the last part, if any.
    fn part(&mut self) -> Option<Part> {
        if self.pending.is_empty() {
            return None;
        }
        let mut cols: Vec<ArrayRef> = self.builders.iter_mut().map(Builder::finish).collect();
        // A finished builder starts again from nothing: size each for a batch like this one, so
        // it does not grow (and copy) its buffers again.
        let rows = self.pending.len();
        for ((b, a), c) in self.builders.iter_mut().zip(&cols).zip(&self.spec.columns) {
            let bytes = a.as_string_opt::<i32>().map_or(0, |s| s.values().len());
            *b = Builder::new(c.kind, rows + rows / 8, bytes + bytes / 8 + 1024);
        }
        cols.push(Arc::new(self.flagged_col.finish()));
        cols.push(Arc::new(self.raw_col.finish()));
        self.bytes = 0;
        let keys = std::mem::replace(&mut self.pending, Vec::with_capacity(rows + rows / 8));
        Some(Part { cols, keys })
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

    fn row_values<'a>(
        &mut self,
        number: u64,
        fields: std::result::Result<&[&'a str], Rejected>,
        values: &mut Vec<Value<'a>>,
    ) {
        self.rows_read += 1;
        let fields = match fields {
            Ok(f) => f,
            Err(r) => {
                self.rejects.push(Reject {
                    row: number,
                    column: None,
                    reason: r.reason,
                    raw: serde_json::json!({ "_raw": r.raw }).to_string(),
                });
                return;
            }
        };
        self.flags.clear();
        for (c, col) in self.spec.columns.iter().enumerate() {
            let raw = self.source_of[c].map(|i| fields[i]).unwrap_or("");
            match clean_text(col, raw, self.plain) {
                Ok(v) => {
                    // Kept, and marked: the value as written stays in `_raw`.
                    if crate::clean::widened(col, raw) {
                        self.flags.push((c, crate::clean::WIDENED.to_owned()));
                    }
                    values.push(v)
                }
                Err(reason) => {
                    // Kept and flagged (invariant 10) unless the column says reject: a value
                    // missing from a required column, or a bad key that is not text, has no
                    // place to be kept.
                    let is_key = self.key_cols.contains(&c);
                    let keep = col.on_invalid != OnInvalid::Reject
                        && reason != "missing"
                        && (!is_key || col.kind == Kind::Text);
                    if !keep {
                        let raw = self.raw_json(fields);
                        self.rejects.push(Reject {
                            row: number,
                            column: Some(col.name.clone()),
                            reason,
                            raw,
                        });
                        return;
                    }
                    self.flags.push((c, reason));
                    values.push(if is_key {
                        Value::Text(std::borrow::Cow::Owned(surrogate(raw)))
                    } else {
                        Value::Null
                    });
                }
            }
        }
        let (flagged, raw_values) = if self.flags.is_empty() {
            (None, None)
        } else {
            let mut why = serde_json::Map::new();
            let mut as_written = serde_json::Map::new();
            for (c, reason) in &self.flags {
                let name = &self.spec.columns[*c].name;
                let raw = self.source_of[*c].map(|i| fields[i]).unwrap_or("");
                why.insert(name.clone(), reason.as_str().into());
                as_written.insert(name.clone(), crate::read::clip(raw, RAW_VALUE_BYTES).into());
                *self.flagged.entry(name.clone()).or_default() += 1;
            }
            self.flagged_rows += 1;
            (
                Some(serde_json::Value::Object(why).to_string()),
                Some(serde_json::Value::Object(as_written).to_string()),
            )
        };
        if self.key_cols.iter().any(|&k| values[k] == Value::Null) {
            let raw = self.raw_json(fields);
            self.rejects.push(Reject {
                row: number,
                column: self
                    .key_cols
                    .first()
                    .map(|&k| self.spec.columns[k].name.clone()),
                reason: "missing".into(),
                raw,
            });
            return;
        }
        self.scratch.clear();
        for &k in &self.key_cols {
            hash_value(&mut self.scratch, &values[k]);
        }
        let key = XxHash3_128::oneshot(&self.scratch);
        self.scratch.clear();
        for v in values.iter() {
            hash_value(&mut self.scratch, v);
        }
        if let Some(r) = &raw_values {
            // A flagged value sent again differently changes the row.
            self.scratch.extend_from_slice(r.as_bytes());
        }
        let row_hash = XxHash3_64::oneshot(&self.scratch) as i64;
        for (range, &k) in self.key_ranges.iter_mut().zip(&self.key_cols) {
            Bound::widen(range, &values[k]);
        }
        for (b, v) in self.builders.iter_mut().zip(values.iter()) {
            if let Value::Text(t) = v {
                self.bytes += t.len();
            }
            b.push(v);
        }
        self.flagged_col.append_option(flagged);
        self.raw_col.append_option(raw_values);
        self.pending.push((key, row_hash));
    }
}

/// The key a row with a flagged key value is kept under: `!` and the value as written (cut), so
/// it never equals a valid key and the same row delivered again replaces it.
fn surrogate(raw: &str) -> String {
    format!("!{}", crate::read::clip(raw.trim(), 256))
}

impl Visit for Cleaner {
    fn header(&mut self, header: &[String]) -> Result<()> {
        self.header = header
            .iter()
            .map(|h| crate::clean::standardise(h))
            .collect();
        let mut source_of = vec![None; self.spec.columns.len()];
        for (i, h) in self.header.iter().enumerate() {
            match self.spec.target_of(h) {
                Some(c) if source_of[c].is_none() => source_of[c] = Some(i),
                _ => self.unmapped.push(h.clone()),
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

    fn row(&mut self, number: u64, fields: std::result::Result<&[&str], Rejected>) -> Result<()> {
        // One buffer of values for every row.
        let mut values = recycle(std::mem::take(&mut self.spare));
        self.row_values(number, fields, &mut values);
        self.spare = recycle(values);
        Ok(())
    }

    fn plain(&mut self, plain: bool) {
        self.plain = plain;
    }
}

/// An empty vector of values, as one of another lifetime, keeping its allocation.
fn recycle<'b>(mut v: Vec<Value<'_>>) -> Vec<Value<'b>> {
    v.clear();
    v.into_iter().map(|_| Value::Null).collect()
}

pub struct Loader {
    cleaner: Cleaner,
    schema: SchemaRef,
    job: i64,
    out: Loaded,
    /// Where finished batches go (the writer of the commit).
    send: Box<dyn FnMut(RecordBatch) -> Result<()> + Send>,
    /// The key map being made on another thread, taken when it is ready.
    sized: Option<std::thread::JoinHandle<Keys>>,
    /// Parts that came while the key map was being made (so the readers need not wait).
    waiting: Vec<Part>,
    waiting_rows: usize,
}

/// At most this many rows wait for the key map before the loader waits for it instead.
const WAIT_ROWS: usize = 1 << 19;

impl Loader {
    /// Expect about this many rows (e.g. from the file's size): the key map is sized once. A
    /// big map takes a while to lay out, so it is made on its own thread while the first rows
    /// are read and cleaned.
    pub fn expect_rows(&mut self, rows: usize) {
        let rows = rows.min(200_000_000);
        self.sized = Some(std::thread::spawn(move || Keys::with_capacity(rows)));
    }

    fn keys(&mut self) -> &mut Keys {
        if let Some(h) = self.sized.take() {
            // A thread that cannot panic short of running out of memory; then grow as needed.
            self.out.keys = h.join().unwrap_or_default();
        }
        &mut self.out.keys
    }

    /// A loader that hands each finished batch of accepted rows to `send`, in order.
    pub fn new(
        spec: Arc<TableSpec>,
        job: i64,
        send: impl FnMut(RecordBatch) -> Result<()> + Send + 'static,
    ) -> Self {
        Loader {
            schema: spec.schema(),
            cleaner: Cleaner::new(spec),
            job,
            out: Loaded::default(),
            send: Box::new(send),
            sized: None,
            waiting: Vec::new(),
            waiting_rows: 0,
        }
    }

    /// Send the rows cleaned on this thread on as a batch.
    fn flush(&mut self) -> Result<()> {
        match self.cleaner.part() {
            Some(p) => self.absorb(p),
            None => Ok(()),
        }
    }

    /// Send a part on as a batch: each row's key is recorded, and a row whose key and content
    /// came before is left out (the earlier row stands). A row with a known key and other content
    /// replaces the earlier row, which is listed in `superseded`. Parts must come in the file's
    /// order: the last row per key wins.
    fn absorb(&mut self, part: Part) -> Result<()> {
        // Laying out a big key map takes a few tenths of a second of page faults: the first
        // parts wait for it (in order) rather than the readers and cleaners.
        if self.sized.as_ref().is_some_and(|h| !h.is_finished()) && self.waiting_rows < WAIT_ROWS {
            self.waiting_rows += part.keys.len();
            self.waiting.push(part);
            return Ok(());
        }
        for p in std::mem::take(&mut self.waiting) {
            self.absorb_now(p)?;
        }
        self.absorb_now(part)
    }

    fn absorb_now(&mut self, part: Part) -> Result<()> {
        let Part { mut cols, keys } = part;
        let n = keys.len();
        if self.out.sent + n as u64 > MAX_ROWS {
            return Err(Error::invalid(
                "file",
                format!("a delivery holds at most {MAX_ROWS} rows; deliver it in parts"),
            ));
        }
        let mut keep: Option<Vec<bool>> = None;
        let mut hashes = Vec::with_capacity(n);
        for (c, chunk) in keys.chunks(WARM).enumerate() {
            self.keys().warm(chunk.iter().map(|p| p.0));
            for (j, &(key, row_hash)) in chunk.iter().enumerate() {
                let here = self.out.sent;
                match self.keys().insert(key, row_hash, here) {
                    Seen::New => self.out.accepted += 1,
                    Seen::Same => {
                        // The same row delivered twice: the first one stands.
                        self.out.duplicates += 1;
                        keep.get_or_insert_with(|| vec![true; n])[c * WARM + j] = false;
                        continue;
                    }
                    Seen::Replaced(earlier) => {
                        self.out.duplicates += 1;
                        self.out.superseded.push(earlier);
                    }
                }
                self.out.sent += 1;
                hashes.push(row_hash);
            }
        }
        if let Some(keep) = &keep {
            let mask = BooleanArray::from(keep.clone());
            cols = cols
                .iter()
                .map(|c| filter(c, &mask))
                .collect::<std::result::Result<_, _>>()
                .map_err(Error::internal)?;
        }
        let rows = hashes.len();
        if rows == 0 {
            return Ok(());
        }
        // The table's columns, the row hash and the job, then `_flagged` and `_raw`.
        let flags = cols.split_off(cols.len() - 2);
        cols.push(Arc::new(Int64Array::from(hashes)));
        cols.push(Arc::new(Int64Array::from(vec![self.job; rows])));
        cols.extend(flags);
        let b = RecordBatch::try_new(self.schema.clone(), cols).map_err(Error::internal)?;
        (self.send)(b)
    }

    /// Finish: send the last batch; the rows a later row replaced are listed in `superseded`.
    pub fn finish(mut self) -> Result<Loaded> {
        self.flush()?;
        self.keys();
        for p in std::mem::take(&mut self.waiting) {
            self.absorb_now(p)?;
        }
        let c = self.cleaner;
        self.out.rejects = c.rejects;
        // Workers reject rows of their own chunks: back in the file's order.
        self.out.rejects.sort_by_key(|r| r.row);
        self.out.rows_read = c.rows_read;
        self.out.unmapped = c.unmapped;
        self.out.key_ranges = c.key_ranges;
        self.out.flagged_rows = c.flagged_rows;
        self.out.flagged = c.flagged;
        self.out.superseded.sort_unstable();
        Ok(self.out)
    }
}

impl Visit for Loader {
    fn header(&mut self, header: &[String]) -> Result<()> {
        self.cleaner.header(header)
    }

    fn plain(&mut self, plain: bool) {
        self.cleaner.plain(plain);
    }

    fn row(&mut self, number: u64, fields: std::result::Result<&[&str], Rejected>) -> Result<()> {
        self.cleaner.row(number, fields)?;
        if self.cleaner.pending.len() >= BATCH || self.cleaner.bytes >= BATCH_BYTES {
            self.flush()?;
        }
        Ok(())
    }
}

impl Split for Loader {
    type Worker = Cleaner;
    type Part = Part;

    fn worker(&self) -> Cleaner {
        self.cleaner.worker()
    }

    fn part(w: &mut Cleaner) -> Option<Part> {
        w.part()
    }

    fn absorb(&mut self, part: Part) -> Result<()> {
        Loader::absorb(self, part)
    }

    fn flush(&mut self) -> Result<()> {
        Loader::flush(self)
    }

    fn join(&mut self, w: Cleaner) {
        self.cleaner.merge(w);
    }
}

use datafusion::arrow::array::{BooleanArray, Int64Array};
use datafusion::arrow::compute::filter;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn col(name: &str) -> crate::spec::ColumnSpec {
        crate::spec::ColumnSpec::new(name, Kind::Text)
    }

    #[test]
    fn parts_wait_for_the_key_map_and_go_on_in_the_files_order() {
        let spec = Arc::new(TableSpec {
            name: "t".into(),
            library: shuju_types::Library::Business,
            title: "t".into(),
            resource_code: "RES-T".into(),
            columns: vec![col("k"), col("v")],
            key: vec!["k".into()],
            mapping: Default::default(),
            cycle_days: None,
            provider: None,
        });
        let sent = Arc::new(std::sync::Mutex::new(Vec::<RecordBatch>::new()));
        let to = sent.clone();
        let mut l = Loader::new(spec, 7, move |b| {
            to.lock().expect("lock").push(b);
            Ok(())
        });
        // A key map that is not ready until told.
        let (go, ready) = std::sync::mpsc::channel::<()>();
        l.sized = Some(std::thread::spawn(move || {
            let _ = ready.recv();
            Keys::with_capacity(8)
        }));
        l.header(&["k".into(), "v".into()]).expect("header");
        let mut line = 1;
        for part in 0..3 {
            for i in 0..10 {
                line += 1;
                // Part 0: keys 0–9. Part 1: 10–14 new, 0–4 changed. Part 2: 5–9 alike part 0's,
                // 10–14 changed.
                let k = (part * 10 + i) % 15;
                let v = match part {
                    2 if k < 10 => "0".to_string(),
                    2 => "a".to_string(),
                    p => p.to_string(),
                };
                l.row(line, Ok(&[k.to_string().as_str(), v.as_str()]))
                    .expect("row");
            }
            l.flush().expect("part");
        }
        assert!(sent.lock().expect("lock").is_empty(), "nothing sent yet");
        assert_eq!((l.waiting.len(), l.waiting_rows), (3, 30));
        go.send(()).expect("go");
        let out = l.finish().expect("finish");
        assert_eq!(out.rows_read, 30);
        assert_eq!(out.accepted, 15, "15 keys");
        assert_eq!((out.superseded.len(), out.duplicates), (10, 15));
        let sent = sent.lock().expect("lock");
        let keys: Vec<String> = sent
            .iter()
            .flat_map(|b| {
                let k = b.column(0).as_string::<i32>();
                (0..datafusion::arrow::array::Array::len(k))
                    .map(|i| k.value(i).to_string())
                    .collect::<Vec<_>>()
            })
            .collect();
        let want: Vec<String> = (0..15)
            .chain(0..5)
            .chain(10..15)
            .map(|k| k.to_string())
            .collect();
        assert_eq!(keys, want, "sent in the file's order, alike rows left out");
    }

    proptest! {
        #[test]
        fn text_order_is_byte_order(a in "[\\x00-\\x7f张三]{0,12}", b in "[\\x00-\\x7f张三]{0,12}") {
            prop_assert_eq!(cmp_text(&a, &b), a.as_str().cmp(b.as_str()));
            let p = format!("{a}{b}");
            prop_assert_eq!(cmp_text(&a, &p), a.as_str().cmp(p.as_str()));
        }
    }
}
