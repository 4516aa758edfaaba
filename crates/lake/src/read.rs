//! Read a delivery as departments send it: detect the format (CSV with any common delimiter,
//! JSON lines, Excel) and the encoding (UTF-8 with or without a BOM, else GBK/GB 18030), then hand
//! rows of text fields to the loader one at a time, without holding the file in memory.
//!
//! Whatever the file, what the reader holds is bounded ([`Limits`]): a record longer than
//! `record_bytes` or with more than `fields` fields is rejected with its first bytes kept (the
//! rest is read past, never stored); chunks of parsed records are bounded in bytes as well as in
//! records; a workbook's parts are measured as they expand before any is opened, and its sheet is
//! read cell by cell. Every rejected row keeps the bytes it was sent with (the first `raw_bytes`,
//! marked when cut).

use sha2::{Digest, Sha256};
use shuju_types::{Error, Result};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Csv,
    JsonLines,
    Excel,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Gb18030,
}

/// What was detected about a file.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Detected {
    pub format: Format,
    pub encoding: Encoding,
    pub delimiter: Option<char>,
}

const SNIFF: usize = 64 * 1024;

/// Bounds on what reading one delivery may hold in memory (`[limits]` in `shuju.toml`). With
/// the defaults a delivery stays within about 1 GiB whatever its shape: at most 6 chunks of
/// parsed records of 16 MiB each, batches of 64 MiB of text, data files flushed at 256 MiB, a
/// workbook's shared strings of 64 MiB, and the key map (about 37 bytes a row, sized from the
/// file: 10 million rows in 370 MiB).
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// The longest record (a CSV record or a JSON line) read as a row, in bytes.
    pub record_bytes: usize,
    /// The most fields a record (or the header) may have.
    pub fields: usize,
    /// The largest worksheet of a workbook, expanded, in bytes.
    pub sheet_bytes: u64,
    /// The largest shared-strings table of a workbook, expanded (it is held in memory).
    pub strings_bytes: u64,
    /// Any other part of a workbook, expanded.
    pub part_bytes: u64,
    /// How much of a rejected row is kept to show the department what it sent.
    pub raw_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            record_bytes: 1 << 20,
            fields: 4096,
            sheet_bytes: 256 << 20,
            strings_bytes: 64 << 20,
            part_bytes: 16 << 20,
            raw_bytes: 4096,
        }
    }
}

/// A row the reader could not hand on as fields: why, and what was sent (the first bytes of
/// it, marked when cut).
#[derive(Clone, Debug, PartialEq)]
pub struct Rejected {
    pub reason: String,
    pub raw: String,
}

/// `text` cut to at most `max` bytes on a character boundary, marked when cut.
pub fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…[cut: {} bytes in all]", &text[..end], text.len())
}

/// Detect format and encoding from the first bytes and the file name.
pub fn detect(path: &Path, name: &str) -> Result<Detected> {
    let mut f = File::open(path).map_err(Error::internal)?;
    let mut head = vec![0u8; SNIFF];
    let n = read_full(&mut f, &mut head)?;
    head.truncate(n);
    let lower = name.to_ascii_lowercase();
    if head.starts_with(b"PK\x03\x04") || lower.ends_with(".xlsx") || lower.ends_with(".xls") {
        if !head.starts_with(b"PK\x03\x04") && !head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
            return Err(Error::invalid(
                "file",
                "the file is named as Excel but is not an Excel workbook",
            ));
        }
        return Ok(Detected {
            format: Format::Excel,
            encoding: Encoding::Utf8,
            delimiter: None,
        });
    }
    let encoding = if head.starts_with(b"\xEF\xBB\xBF") {
        Encoding::Utf8Bom
    } else {
        match std::str::from_utf8(&head) {
            Ok(_) => Encoding::Utf8,
            // Cut in the middle of a character at the sniff boundary: still UTF-8.
            Err(e) if e.error_len().is_none() && n == SNIFF => Encoding::Utf8,
            Err(_) => Encoding::Gb18030,
        }
    };
    let text = decode(&head, encoding);
    let first = text
        .trim_start_matches('\u{feff}')
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    if first.trim_start().starts_with('{') || lower.ends_with(".jsonl") || lower.ends_with(".json")
    {
        return Ok(Detected {
            format: Format::JsonLines,
            encoding,
            delimiter: None,
        });
    }
    if head.contains(&0) {
        return Err(Error::invalid(
            "file",
            "the file is binary: send CSV, JSON lines or Excel",
        ));
    }
    let delimiter = [',', '\t', '|', ';']
        .into_iter()
        .max_by_key(|d| first.matches(*d).count())
        .filter(|d| first.contains(*d))
        .unwrap_or(',');
    Ok(Detected {
        format: Format::Csv,
        encoding,
        delimiter: Some(delimiter),
    })
}

fn read_full(f: &mut File, buf: &mut [u8]) -> Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]).map_err(Error::internal)? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn decode(bytes: &[u8], e: Encoding) -> String {
    match e {
        Encoding::Utf8 | Encoding::Utf8Bom => String::from_utf8_lossy(bytes).into_owned(),
        Encoding::Gb18030 => encoding_rs::GB18030.decode(bytes).0.into_owned(),
    }
}

/// The SHA-256 of a file read to its end, in hex; set when the reader reaches the end.
type FileHash = std::sync::Arc<std::sync::Mutex<Option<String>>>;

/// A reader counting the bytes consumed, for progress, and hashing them: the file's SHA-256 is
/// computed on the reading thread as the file is read, not in a pass of its own.
struct Counting<R> {
    inner: R,
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
    sha: Sha256,
    hash: FileHash,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            if let Ok(mut h) = self.hash.lock()
                && h.is_none()
            {
                *h = Some(hex::encode(self.sha.finalize_reset()));
            }
        } else {
            self.sha.update(&buf[..n]);
        }
        self.count
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

fn text_reader(
    path: &Path,
    d: &Detected,
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
    hash: FileHash,
) -> Result<Box<dyn Read + Send>> {
    let mut f = File::open(path).map_err(Error::internal)?;
    let mut sha = Sha256::new();
    if d.encoding == Encoding::Utf8Bom {
        f.seek(SeekFrom::Start(3)).map_err(Error::internal)?;
        sha.update(b"\xEF\xBB\xBF");
    }
    let counted = Counting {
        inner: f,
        count,
        sha,
        hash,
    };
    Ok(match d.encoding {
        Encoding::Utf8 | Encoding::Utf8Bom => Box::new(counted),
        Encoding::Gb18030 => Box::new(
            encoding_rs_io::DecodeReaderBytesBuilder::new()
                .encoding(Some(encoding_rs::GB18030))
                .build(counted),
        ),
    })
}

/// The row visitor: called with the header once, then with each row's 1-based number (the line
/// or sheet row a clerk would look at) and fields in header order. `Err` from a row is a
/// rejection reason for that row, e.g. a wrong number of fields.
pub trait Visit {
    fn header(&mut self, header: &[String]) -> Result<()>;
    fn row(&mut self, number: u64, fields: std::result::Result<&[&str], Rejected>) -> Result<()>;
    /// Told, before a run of rows, that none of their text holds a byte standardising could
    /// change (`true`), or that it may (`false`, always safe to assume).
    fn plain(&mut self, _plain: bool) {}
}

/// Read the whole file through the visitor. `count` receives bytes read, for progress bars.
/// Returns the file's SHA-256 (hex) when the file was read as a stream to its end (CSV, JSON
/// lines); `None` when it was not (Excel is opened by its own reader).
pub fn read(
    path: &Path,
    d: &Detected,
    limits: &Limits,
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
    v: &mut dyn Visit,
) -> Result<Option<String>> {
    let hash = FileHash::default();
    match d.format {
        Format::Csv => read_csv(d, limits, text_reader(path, d, count, hash.clone())?, v)?,
        Format::JsonLines => read_jsonl(limits, text_reader(path, d, count, hash.clone())?, v)?,
        Format::Excel => read_excel(path, limits, count, v)?,
    }
    Ok(hash.lock().ok().and_then(|mut h| h.take()))
}

/// Records parsed on the reading thread: their fields' bytes back to back, where each field
/// ends, and per record its line number and its fields (a range of `ends`), or why it is no
/// record. Whoever visits the chunk checks its text is UTF-8, the whole chunk in one pass.
///
/// The parser writes straight into `bytes` and `ends`, which keep their length from chunk to
/// chunk (only `len` and `nends` of them are this chunk's): no copy of a record, and no clearing.
#[derive(Default)]
struct Parsed {
    bytes: Vec<u8>,
    len: usize,
    ends: Vec<usize>,
    nends: usize,
    rows: Vec<(u64, ParsedRow)>,
}

/// A record's fields (a range of [`Parsed::ends`]; of an over-long record, its first fields),
/// and why the record is no row, if it is not.
type ParsedRow = (usize, usize, Option<&'static str>);

const TOO_LONG: &str = "the record is longer than the platform reads (see the limits)";
const TOO_WIDE: &str = "the record has more fields than the platform reads (see the limits)";
const UNREADABLE: &str = "the file could not be read to its end";

impl Parsed {
    fn clear(&mut self) {
        self.len = 0;
        self.nends = 0;
        self.rows.clear();
    }

    /// The chunk as text when all of it is UTF-8 (SIMD-checked by encoding_rs), else `None`.
    fn text(&self) -> Option<&str> {
        match encoding_rs::UTF_8
            .decode_without_bom_handling_and_without_replacement(&self.bytes[..self.len])
        {
            Some(std::borrow::Cow::Borrowed(t)) => Some(t),
            _ => None,
        }
    }

    /// The fields `at` of a record as text, into `out`; false when they are not valid UTF-8.
    fn fields<'a>(
        &'a self,
        text: Option<&'a str>,
        at: (usize, usize),
        out: &mut Vec<&'a str>,
    ) -> bool {
        out.clear();
        let mut start = if at.0 == 0 { 0 } else { self.ends[at.0 - 1] };
        for &end in &self.ends[at.0..at.1] {
            // A field must start and end on a character's boundary: the whole chunk being text
            // does not make each field text when a character was split by a delimiter.
            let field = match text {
                Some(t) => t.get(start..end),
                None => std::str::from_utf8(&self.bytes[start..end]).ok(),
            };
            let Some(field) = field else { return false };
            out.push(field);
            start = end;
        }
        true
    }

    /// The fields `at` as text a clerk can read (lossy, joined by the delimiter), cut to `max`.
    fn raw(&self, at: (usize, usize), delimiter: char, max: usize) -> String {
        let mut out = String::new();
        let mut start = if at.0 == 0 { 0 } else { self.ends[at.0 - 1] };
        for (i, &end) in self.ends[at.0..at.1].iter().enumerate() {
            if i > 0 {
                out.push(delimiter);
            }
            out.push_str(&String::from_utf8_lossy(&self.bytes[start..end]));
            start = end;
            if out.len() > max {
                break;
            }
        }
        clip(&out, max)
    }

    /// Parse the next record from `r` onto the chunk. `None` at the end of the input; `Err`
    /// when the input could not be read; `Ok(Some(reason))` for a record past the limits, of
    /// which only the first `limits.raw_bytes` are kept (the rest is read past).
    fn read_record(
        &mut self,
        core: &mut csv_core::Reader,
        r: &mut impl std::io::BufRead,
        limits: &Limits,
    ) -> Option<std::io::Result<Option<&'static str>>> {
        use csv_core::ReadRecordResult as R;
        let (start, first) = (self.len, self.nends);
        loop {
            // Room for a typical record; a longer one asks for more below.
            if self.bytes.len() - self.len < 4096 {
                self.bytes.resize(self.bytes.len() * 2 + 4096, 0);
            }
            if self.ends.len() - self.nends < 64 {
                self.ends.resize(self.ends.len() * 2 + 64, 0);
            }
            let input = match r.fill_buf() {
                Ok(i) => i,
                Err(e) => return Some(Err(e)),
            };
            let (res, nin, nout, nend) = core.read_record(
                input,
                &mut self.bytes[self.len..],
                &mut self.ends[self.nends..],
            );
            r.consume(nin);
            self.len += nout;
            self.nends += nend;
            let over = if self.len - start > limits.record_bytes {
                Some(TOO_LONG)
            } else if self.nends - first > limits.fields {
                Some(TOO_WIDE)
            } else {
                None
            };
            if let Some(reason) = over {
                self.keep_start(start, first, limits.raw_bytes);
                if matches!(res, R::Record | R::End) {
                    return Some(Ok(Some(reason)));
                }
                return match skip_record(core, r) {
                    Some(Ok(())) | None => Some(Ok(Some(reason))),
                    Some(Err(e)) => Some(Err(e)),
                };
            }
            match res {
                R::InputEmpty => {}
                R::OutputFull => self.bytes.resize(self.bytes.len() * 2, 0),
                R::OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                R::Record => {
                    // The parser counts ends from the record's start.
                    for e in &mut self.ends[first..self.nends] {
                        *e += start;
                    }
                    return Some(Ok(None));
                }
                R::End => return None,
            }
        }
    }

    /// Of the record begun at `start` (its fields from `first`), keep its first `max` bytes
    /// (the field they end in cut) and let go of the rest.
    fn keep_start(&mut self, start: usize, first: usize, max: usize) {
        let keep = start + max;
        let mut n = first;
        while n < self.nends && self.ends[n] + start <= keep {
            n += 1;
        }
        let from = if n > first {
            self.ends[n - 1] + start
        } else {
            start
        };
        let cut = self.len.min(keep);
        if cut > from && n < self.ends.len() {
            self.ends[n] = cut - start;
            n += 1;
        }
        for e in &mut self.ends[first..n] {
            *e += start;
        }
        self.nends = n;
        self.len = if n > first { self.ends[n - 1] } else { start };
    }
}

/// Read past the rest of a record without keeping it. `None` when the input ended.
fn skip_record(
    core: &mut csv_core::Reader,
    r: &mut impl std::io::BufRead,
) -> Option<std::io::Result<()>> {
    use csv_core::ReadRecordResult as R;
    let mut out = [0u8; 16 * 1024];
    let mut ends = [0usize; 256];
    loop {
        let input = match r.fill_buf() {
            Ok(i) => i,
            Err(e) => return Some(Err(e)),
        };
        let (res, nin, ..) = core.read_record(input, &mut out, &mut ends);
        r.consume(nin);
        match res {
            R::InputEmpty | R::OutputFull | R::OutputEndsFull => {}
            R::Record => return Some(Ok(())),
            R::End => return None,
        }
    }
}

const CHUNK: usize = 16384;
/// A chunk is handed on at this many bytes of fields, if it has not reached [`CHUNK`] records.
const CHUNK_BYTES: usize = 16 << 20;

/// Parse on a second thread (decoding, CSV) while others clean and build. The parser is
/// csv-core's, as the `csv` crate configures it (quotes doubled, any line ending, fields per
/// record not enforced).
fn parse_csv(
    r: Box<dyn Read + Send>,
    delimiter: u8,
    limits: Limits,
    tx: std::sync::mpsc::SyncSender<Parsed>,
    spare: std::sync::mpsc::Receiver<Parsed>,
) {
    let mut core = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
    let mut r = std::io::BufReader::with_capacity(1 << 20, r);
    let fresh = || Parsed {
        bytes: vec![0; CHUNK * 128],
        ends: vec![0; CHUNK * 16],
        rows: Vec::with_capacity(CHUNK),
        ..Parsed::default()
    };
    let mut chunk = fresh();
    loop {
        // Blank lines are skipped by the parser: number rows by the line the parser was on.
        let number = core.line();
        let first = chunk.nends;
        match chunk.read_record(&mut core, &mut r, &limits) {
            None => break,
            Some(Ok(problem)) => chunk.rows.push((number, (first, chunk.nends, problem))),
            Some(Err(_)) => {
                chunk.rows.push((number, (first, first, Some(UNREADABLE))));
                break;
            }
        }
        if chunk.rows.len() == CHUNK || chunk.len > CHUNK_BYTES {
            let next = match spare.try_recv() {
                Ok(mut old) => {
                    old.clear();
                    old
                }
                Err(_) => fresh(),
            };
            if tx.send(std::mem::replace(&mut chunk, next)).is_err() {
                return; // the loader stopped
            }
        }
    }
    let _ = tx.send(chunk);
}

fn read_csv(
    d: &Detected,
    limits: &Limits,
    r: Box<dyn Read + Send>,
    v: &mut dyn Visit,
) -> Result<()> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Parsed>(4);
    let (spare_tx, spare_rx) = std::sync::mpsc::channel::<Parsed>();
    let delimiter = d.delimiter.unwrap_or(',') as u8;
    let l = *limits;
    let parser = std::thread::spawn(move || parse_csv(r, delimiter, l, tx, spare_rx));
    let result = visit_csv(d, limits, &rx, &spare_tx, v);
    drop(rx);
    let _ = parser.join();
    result
}

fn visit_csv(
    d: &Detected,
    limits: &Limits,
    rx: &std::sync::mpsc::Receiver<Parsed>,
    spare: &std::sync::mpsc::Sender<Parsed>,
    v: &mut dyn Visit,
) -> Result<()> {
    let mut header: Option<usize> = None;
    for chunk in rx.iter() {
        visit_chunk(d, limits, &chunk, &mut header, v)?;
        let _ = spare.send(chunk);
    }
    if header.is_none() {
        return Err(Error::invalid("file", "the file is empty"));
    }
    Ok(())
}

/// Hand one chunk's records to the visitor; the first record with any text is the header
/// (`header` is then its number of fields).
fn visit_chunk(
    d: &Detected,
    limits: &Limits,
    chunk: &Parsed,
    header: &mut Option<usize>,
    v: &mut dyn Visit,
) -> Result<()> {
    const NOT_TEXT: &str = "not valid text in the file's encoding";
    let text = chunk.text();
    v.plain(text.is_some_and(|t| !crate::clean::may_need_standardising(t.as_bytes())));
    let delimiter = d.delimiter.unwrap_or(',');
    let raw = |at: (usize, usize), problem: Option<&str>| {
        let mut r = chunk.raw(at, delimiter, limits.raw_bytes);
        if matches!(problem, Some(TOO_LONG | TOO_WIDE)) {
            r.push_str("…[cut: only the start of the record is kept]");
        }
        r
    };
    // One buffer of field slices for the whole chunk.
    let mut fields: Vec<&str> = Vec::with_capacity(32);
    for &(number, (a, b, problem)) in &chunk.rows {
        let reason = match problem {
            None if chunk.fields(text, (a, b), &mut fields) => None,
            None => Some(NOT_TEXT),
            Some(reason) => Some(reason),
        };
        if let Some(reason) = reason {
            if header.is_none() {
                return Err(Error::invalid("file", format!("the header row: {reason}")));
            }
            v.row(
                number,
                Err(Rejected {
                    reason: reason.into(),
                    raw: raw((a, b), problem),
                }),
            )?;
            continue;
        }
        match *header {
            None => {
                if fields.iter().all(|f| f.trim().is_empty()) {
                    continue;
                }
                let h: Vec<String> = fields.iter().map(|s| (*s).to_owned()).collect();
                *header = Some(h.len());
                v.header(&h)?;
            }
            Some(n) => {
                if fields.len() == 1 && fields[0].trim().is_empty() {
                    continue;
                }
                if fields.len() != n {
                    v.row(
                        number,
                        Err(Rejected {
                            reason: format!("has {} fields, the header has {n}", fields.len()),
                            raw: raw((a, b), None),
                        }),
                    )?;
                    continue;
                }
                if d.encoding == Encoding::Gb18030 && fields.iter().any(|f| f.contains('\u{FFFD}'))
                {
                    v.row(
                        number,
                        Err(Rejected {
                            reason: "characters not valid in GBK".into(),
                            raw: raw((a, b), None),
                        }),
                    )?;
                    continue;
                }
                v.row(number, Ok(&fields))?;
            }
        }
    }
    Ok(())
}

/// A visitor whose rows several workers can clean at once, each on its own chunks of the file.
pub trait Split: Visit {
    type Worker: Visit + Send;
    type Part: Send;
    /// A worker for the rows after the header (called once the header is read).
    fn worker(&self) -> Self::Worker;
    /// What a worker made of the rows it was given since the last call.
    fn part(w: &mut Self::Worker) -> Option<Self::Part>;
    /// Take in a worker's part. Parts come in the file's order.
    fn absorb(&mut self, part: Self::Part) -> Result<()>;
    /// Hand on the rows this visitor took itself (those read with the header), before any part.
    fn flush(&mut self) -> Result<()>;
    /// Take in a worker's counts and rejects, once it is done.
    fn join(&mut self, w: Self::Worker);
}

/// [`read`], with the records of a CSV file cleaned by `workers` threads at once, while the
/// file is parsed on another. Other formats are read as [`read`] does.
pub fn read_split<V: Split>(
    path: &Path,
    d: &Detected,
    limits: &Limits,
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
    v: &mut V,
    workers: usize,
) -> Result<Option<String>> {
    if d.format != Format::Csv || workers < 2 {
        return read(path, d, limits, count, v);
    }
    let hash = FileHash::default();
    let r = text_reader(path, d, count, hash.clone())?;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Parsed>(2 * workers);
    let (spare_tx, spare_rx) = std::sync::mpsc::channel::<Parsed>();
    let delimiter = d.delimiter.unwrap_or(',') as u8;
    let l = *limits;
    let parser = std::thread::spawn(move || parse_csv(r, delimiter, l, tx, spare_rx));
    let result = split_csv(d, limits, rx, &spare_tx, v, workers);
    let _ = parser.join();
    result?;
    Ok(hash.lock().ok().and_then(|mut h| h.take()))
}

fn split_csv<V: Split>(
    d: &Detected,
    limits: &Limits,
    rx: std::sync::mpsc::Receiver<Parsed>,
    spare: &std::sync::mpsc::Sender<Parsed>,
    v: &mut V,
    workers: usize,
) -> Result<()> {
    // The header first, on this thread, with the rows of its chunk.
    let mut header: Option<usize> = None;
    while header.is_none() {
        let Ok(chunk) = rx.recv() else {
            return Err(Error::invalid("file", "the file is empty"));
        };
        visit_chunk(d, limits, &chunk, &mut header, v)?;
        let _ = spare.send(chunk);
    }
    v.flush()?;
    // The workers take the next chunk in turn and number it; this thread takes their parts in
    // those numbers' order. The queue (and the parser's channel) closes when this returns.
    let queue = std::sync::Mutex::new((rx, 0u64));
    let (done_tx, done_rx) =
        std::sync::mpsc::sync_channel::<(u64, Result<Option<V::Part>>)>(2 * workers);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let mut w = v.worker();
                let (done_tx, spare, queue) = (done_tx.clone(), spare.clone(), &queue);
                s.spawn(move || {
                    let mut header = header;
                    loop {
                        let (number, chunk) = {
                            let Ok(mut q) = queue.lock() else { break };
                            let Ok(chunk) = q.0.recv() else { break };
                            q.1 += 1;
                            (q.1 - 1, chunk)
                        };
                        let part = visit_chunk(d, limits, &chunk, &mut header, &mut w)
                            .map(|()| V::part(&mut w));
                        let _ = spare.send(chunk);
                        if done_tx.send((number, part)).is_err() {
                            break; // the load stopped
                        }
                    }
                    w
                })
            })
            .collect();
        drop(done_tx);
        let mut waiting = std::collections::BTreeMap::new();
        let mut next = 0u64;
        let mut result = Ok(());
        'parts: for (number, part) in done_rx.iter() {
            waiting.insert(number, part);
            while let Some(part) = waiting.remove(&next) {
                next += 1;
                result = part.and_then(|p| p.map_or(Ok(()), |p| v.absorb(p)));
                if result.is_err() {
                    break 'parts;
                }
            }
        }
        drop(done_rx);
        for h in handles {
            match h.join() {
                Ok(w) => v.join(w),
                Err(_) => result = Err(Error::internal("a cleaning worker stopped")),
            }
        }
        result
    })
}

/// The next line of `r` into `buf` (without its line ending), at most `max` bytes of it kept:
/// `Some(false)` a whole line, `Some(true)` a line cut (the rest read past), `None` at the end.
fn next_line(r: &mut impl BufRead, buf: &mut Vec<u8>, max: usize) -> std::io::Result<Option<bool>> {
    buf.clear();
    let (mut any, mut cut) = (false, false);
    loop {
        let input = r.fill_buf()?;
        if input.is_empty() {
            return Ok(any.then_some(cut));
        }
        any = true;
        let newline = input.iter().position(|&b| b == b'\n');
        let line = &input[..newline.unwrap_or(input.len())];
        let room = max.saturating_sub(buf.len());
        if line.len() > room {
            cut = true;
        }
        buf.extend_from_slice(&line[..line.len().min(room)]);
        let (ended, done) = match newline {
            Some(i) => (true, i + 1),
            None => (false, input.len()),
        };
        r.consume(done);
        if ended {
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(Some(cut));
        }
    }
}

fn read_jsonl(limits: &Limits, r: Box<dyn Read + Send>, v: &mut dyn Visit) -> Result<()> {
    // The header is the keys of the first object; later keys not in it are ignored.
    let mut r = BufReader::with_capacity(1 << 20, r);
    let mut header: Option<Vec<String>> = None;
    let mut vals: Vec<String> = Vec::new();
    let mut line = Vec::with_capacity(4096);
    let mut number = 0u64;
    loop {
        let cut = match next_line(&mut r, &mut line, limits.record_bytes) {
            Ok(Some(cut)) => cut,
            Ok(None) => break,
            Err(_) => {
                number += 1;
                let reject = Rejected {
                    reason: UNREADABLE.into(),
                    raw: clip(&String::from_utf8_lossy(&line), limits.raw_bytes),
                };
                if header.is_none() {
                    return Err(Error::invalid("file", UNREADABLE));
                }
                v.row(number, Err(reject))?;
                break;
            }
        };
        number += 1;
        let raw = || clip(&String::from_utf8_lossy(&line), limits.raw_bytes);
        let refuse = |reason: &str| -> Result<()> {
            Err(Error::invalid("file", format!("the first line: {reason}")))
        };
        if cut {
            if header.is_none() {
                return refuse(TOO_LONG);
            }
            v.row(
                number,
                Err(Rejected {
                    reason: TOO_LONG.into(),
                    raw: raw(),
                }),
            )?;
            continue;
        }
        let Ok(text) = std::str::from_utf8(&line) else {
            let reject = Rejected {
                reason: "not valid text in the file's encoding".into(),
                raw: raw(),
            };
            if header.is_none() {
                return refuse(&reject.reason);
            }
            v.row(number, Err(reject))?;
            continue;
        };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let obj: serde_json::Map<String, serde_json::Value> = match serde_json::from_str(text) {
            Ok(o) => o,
            Err(_) => {
                if header.is_none() {
                    return Err(Error::invalid(
                        "file",
                        "the first line is not a JSON object",
                    ));
                }
                v.row(
                    number,
                    Err(Rejected {
                        reason: "not a JSON object".into(),
                        raw: raw(),
                    }),
                )?;
                continue;
            }
        };
        let h = match &header {
            Some(h) => h,
            None => {
                if obj.len() > limits.fields {
                    return refuse(TOO_WIDE);
                }
                let h: Vec<String> = obj.keys().cloned().collect();
                v.header(&h)?;
                header.insert(h)
            }
        };
        vals.clear();
        for k in h {
            vals.push(match obj.get(k) {
                None | Some(serde_json::Value::Null) => String::new(),
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            });
        }
        let fields: Vec<&str> = vals.iter().map(String::as_str).collect();
        v.row(number, Ok(&fields))?;
    }
    if header.is_none() {
        return Err(Error::invalid("file", "the file is empty"));
    }
    Ok(())
}

/// Measure each part of a workbook as it expands (never trusting the sizes it declares), before
/// any part is opened: a part past its limit refuses the file. Streams to nowhere: constant memory.
fn check_workbook(path: &Path, limits: &Limits) -> Result<()> {
    let f = File::open(path).map_err(Error::internal)?;
    let mut zip = zip::ZipArchive::new(BufReader::new(f))
        .map_err(|_| Error::invalid("file", "the Excel workbook cannot be opened"))?;
    for i in 0..zip.len() {
        let mut part = zip
            .by_index(i)
            .map_err(|_| Error::invalid("file", "the Excel workbook is damaged"))?;
        let name = part.name().to_owned();
        let limit = if name.starts_with("xl/worksheets/") {
            limits.sheet_bytes
        } else if name == "xl/sharedStrings.xml" {
            limits.strings_bytes
        } else {
            limits.part_bytes
        };
        let too_big = || {
            Error::invalid(
                "file",
                format!(
                    "the workbook's part {name} expands past {} MiB: save the sheet as CSV, or send it in parts",
                    limit >> 20
                ),
            )
        };
        if part.size() > limit {
            return Err(too_big());
        }
        let n = std::io::copy(&mut (&mut part).take(limit + 1), &mut std::io::sink())
            .map_err(|_| Error::invalid("file", "the Excel workbook is damaged"))?;
        if n > limit {
            return Err(too_big());
        }
    }
    Ok(())
}

/// An Excel cell's value as the text a clerk typed.
fn cell_text(c: &calamine::DataRef<'_>) -> String {
    use calamine::DataRef as D;
    match c {
        D::Empty => String::new(),
        D::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        D::Float(f) => f.to_string(),
        D::Int(i) => i.to_string(),
        D::String(s) | D::DateTimeIso(s) | D::DurationIso(s) => s.clone(),
        D::SharedString(s) => (*s).to_owned(),
        D::Bool(b) => b.to_string(),
        D::DateTime(dt) => dt
            .as_datetime()
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default(),
        D::Error(e) => format!("#{e}"),
    }
}

fn read_excel(
    path: &Path,
    limits: &Limits,
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
    v: &mut dyn Visit,
) -> Result<()> {
    use calamine::Reader;
    let mut head = [0u8; 4];
    let n = read_full(&mut File::open(path).map_err(Error::internal)?, &mut head)?;
    if n < 4 || &head != b"PK\x03\x04" {
        // The old binary format (.xls): at most 65,536 rows by the format itself.
        return read_xls(path, count, v);
    }
    check_workbook(path, limits)?;
    let f = BufReader::new(File::open(path).map_err(Error::internal)?);
    let mut wb: calamine::Xlsx<_> = calamine::Xlsx::new(f)
        .map_err(|_| Error::invalid("file", "the Excel workbook cannot be opened"))?;
    let sheet = wb
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| Error::invalid("file", "the workbook has no sheet"))?;
    count.fetch_add(
        std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
        std::sync::atomic::Ordering::Relaxed,
    );
    let mut cells = wb
        .worksheet_cells_reader(&sheet)
        .map_err(|_| Error::invalid("file", "the first sheet cannot be read"))?;
    // Cells come row by row; a row is handed on when the next one starts.
    let mut header: Option<usize> = None;
    let mut row: Vec<String> = Vec::new();
    let mut at: Option<u32> = None;
    let mut flush = |at: u32, row: &mut Vec<String>, header: &mut Option<usize>| -> Result<()> {
        if row.iter().all(|s| s.trim().is_empty()) {
            row.clear();
            return Ok(());
        }
        match *header {
            None => {
                if row.len() > limits.fields {
                    return Err(Error::invalid(
                        "file",
                        format!("the header row: {TOO_WIDE}"),
                    ));
                }
                while row.last().is_some_and(|s| s.trim().is_empty()) {
                    row.pop();
                }
                v.header(row)?;
                *header = Some(row.len());
            }
            Some(n) => {
                row.resize(n, String::new());
                let fields: Vec<&str> = row.iter().map(String::as_str).collect();
                v.row(u64::from(at) + 1, Ok(&fields))?;
            }
        }
        row.clear();
        Ok(())
    };
    loop {
        let cell = cells
            .next_cell()
            .map_err(|_| Error::invalid("file", "the first sheet cannot be read"))?;
        let Some(cell) = cell else { break };
        let (r, c) = cell.get_position();
        if at != Some(r) {
            if let Some(prev) = at {
                flush(prev, &mut row, &mut header)?;
            }
            at = Some(r);
        }
        let c = c as usize;
        let width = header.unwrap_or(limits.fields + 1);
        if c >= width {
            continue;
        }
        if row.len() <= c {
            row.resize(c + 1, String::new());
        }
        row[c] = cell_text(cell.get_value());
    }
    if let Some(prev) = at {
        flush(prev, &mut row, &mut header)?;
    }
    if header.is_none() {
        return Err(Error::invalid("file", "the sheet is empty"));
    }
    Ok(())
}

/// A workbook in the old binary format, read whole (the format holds at most 65,536 rows).
fn read_xls(
    path: &Path,
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
    v: &mut dyn Visit,
) -> Result<()> {
    use calamine::{Data, Reader, open_workbook_auto};
    let mut wb = open_workbook_auto(path)
        .map_err(|_| Error::invalid("file", "the Excel workbook cannot be opened"))?;
    let sheet = wb
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| Error::invalid("file", "the workbook has no sheet"))?;
    let range = wb
        .worksheet_range(&sheet)
        .map_err(|_| Error::invalid("file", "the first sheet cannot be read"))?;
    count.fetch_add(
        std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
        std::sync::atomic::Ordering::Relaxed,
    );
    let mut rows = range.rows().enumerate();
    let mut header = None;
    for (i, row) in rows.by_ref() {
        let h: Vec<String> = row.iter().map(|c| c.to_string()).collect();
        if h.iter().all(|s| s.trim().is_empty()) {
            continue;
        }
        v.header(&h)?;
        header = Some((i, h.len()));
        break;
    }
    let Some((_, n)) = header else {
        return Err(Error::invalid("file", "the sheet is empty"));
    };
    let mut vals = Vec::with_capacity(n);
    for (i, row) in rows {
        vals.clear();
        for c in row.iter().take(n) {
            vals.push(match c {
                Data::Empty => String::new(),
                Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
                Data::DateTime(dt) => dt
                    .as_datetime()
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_default(),
                other => other.to_string(),
            });
        }
        if vals.iter().all(|s| s.is_empty()) {
            continue;
        }
        while vals.len() < n {
            vals.push(String::new());
        }
        let fields: Vec<&str> = vals.iter().map(String::as_str).collect();
        v.row(i as u64 + 1, Ok(&fields))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Collect(Vec<String>, Vec<(u64, Result<Vec<String>, String>)>);
    impl Visit for Collect {
        fn header(&mut self, h: &[String]) -> Result<()> {
            self.0 = h.to_vec();
            Ok(())
        }
        fn row(&mut self, n: u64, f: std::result::Result<&[&str], Rejected>) -> Result<()> {
            self.1.push((
                n,
                f.map(|f| f.iter().map(|s| s.to_string()).collect())
                    .map_err(|r| r.reason),
            ));
            Ok(())
        }
    }

    fn run(bytes: &[u8], name: &str) -> (Detected, Collect) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let d = detect(&p, name).unwrap();
        let mut c = Collect(vec![], vec![]);
        read(&p, &d, &Limits::default(), Default::default(), &mut c).unwrap();
        (d, c)
    }

    #[test]
    fn gbk_csv_is_detected_and_decoded() {
        let (bytes, ..) = encoding_rs::GBK.encode("姓名,住址\n张三,聊城市东昌府区\n");
        let (d, c) = run(&bytes, "a.csv");
        assert_eq!(d.encoding, Encoding::Gb18030);
        assert_eq!(c.0, ["姓名", "住址"]);
        assert_eq!(c.1[0].1.as_ref().unwrap()[1], "聊城市东昌府区");
    }

    #[test]
    fn a_row_with_bytes_that_are_not_gbk_is_rejected_and_the_rest_read() {
        let (mut bytes, ..) = encoding_rs::GBK.encode("姓名,住址\n张三,聊城\n");
        let mut bytes = bytes.to_mut().clone();
        bytes.extend_from_slice(b"\xff\xfe\x80,x\n");
        let (more, ..) = encoding_rs::GBK.encode("李四,东昌府\n");
        bytes.extend_from_slice(&more);
        let (d, c) = run(&bytes, "a.csv");
        assert_eq!(d.encoding, Encoding::Gb18030);
        assert_eq!(c.1.len(), 3);
        assert!(c.1[0].1.is_ok());
        assert_eq!(
            c.1[1].1.as_ref().unwrap_err(),
            "characters not valid in GBK"
        );
        assert_eq!(c.1[2].1.as_ref().unwrap()[0], "李四");
    }

    #[test]
    fn a_utf8_row_that_is_not_text_is_rejected_alone() {
        // A byte that is no UTF-8, and a character split in two by a delimiter: the chunk as a
        // whole is then text, the record's fields are not.
        let mut bytes = "名,址\n张三,聊城\n".as_bytes().to_vec();
        bytes.extend_from_slice(b"\xe4\xb8,\xad\n");
        bytes.extend_from_slice("李四,东昌府\n".as_bytes());
        let split = bytes.clone();
        bytes.extend_from_slice(b"x\xff,y\n");
        bytes.extend_from_slice("王五,阳谷\n".as_bytes());
        let d = Detected {
            format: Format::Csv,
            encoding: Encoding::Utf8,
            delimiter: Some(','),
        };
        for (bytes, rows) in [(split, 3), (bytes, 5)] {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("a.csv");
            std::fs::write(&p, &bytes).unwrap();
            let mut c = Collect(vec![], vec![]);
            read(&p, &d, &Limits::default(), Default::default(), &mut c).unwrap();
            assert_eq!(c.0, ["名", "址"]);
            assert_eq!(c.1.len(), rows);
            let not_text = "not valid text in the file's encoding";
            assert_eq!(c.1[0].1.as_ref().unwrap(), &["张三", "聊城"]);
            assert_eq!(c.1[1].1.as_ref().unwrap_err(), not_text);
            assert_eq!(c.1[2].1.as_ref().unwrap(), &["李四", "东昌府"]);
            if rows == 5 {
                assert_eq!(
                    (c.1[3].0, c.1[3].1.as_ref().unwrap_err().as_str()),
                    (5, not_text)
                );
                assert_eq!(c.1[4].1.as_ref().unwrap(), &["王五", "阳谷"]);
            }
        }
    }

    #[test]
    fn bom_tabs_and_bad_rows() {
        let (d, c) = run("\u{feff}a\tb\n1\t2\n3\n4\t5\n".as_bytes(), "x.txt");
        assert_eq!(d.encoding, Encoding::Utf8Bom);
        assert_eq!(d.delimiter, Some('\t'));
        assert_eq!(c.0, ["a", "b"]);
        assert_eq!(c.1.len(), 3);
        assert!(c.1[1].1.is_err());
        assert_eq!(c.1[2].0, 4, "numbered by line");
    }

    #[test]
    fn json_lines_with_numbers_and_nulls() {
        let (d, c) = run(
            b"{\"a\":1,\"b\":null}\nnot json\n{\"a\":\"x\",\"b\":2.5}\n",
            "x.jsonl",
        );
        assert_eq!(d.format, Format::JsonLines);
        assert_eq!(
            c.1[0].1.as_ref().unwrap(),
            &vec!["1".to_string(), "".into()]
        );
        assert!(c.1[1].1.is_err());
        assert_eq!(c.1[2].1.as_ref().unwrap()[1], "2.5");
    }

    fn run_with(bytes: &[u8], name: &str, limits: &Limits) -> Result<Collect> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let d = detect(&p, name)?;
        let mut c = Collect(vec![], vec![]);
        read(&p, &d, limits, Default::default(), &mut c)?;
        Ok(c)
    }

    #[test]
    fn records_past_the_limits_are_rejected_with_their_start_kept() {
        let limits = Limits {
            record_bytes: 100,
            fields: 5,
            raw_bytes: 20,
            ..Limits::default()
        };
        let text = format!("a,b\n1,2\n{},x\n1,2,3,4,5,6,7\n3,4\n", "y".repeat(5000));
        let c = run_with(text.as_bytes(), "a.csv", &limits).unwrap();
        assert_eq!(c.1.len(), 4);
        assert_eq!(c.1[0].1.as_ref().unwrap(), &["1", "2"]);
        assert!(c.1[1].1.as_ref().unwrap_err().contains("longer"));
        assert!(c.1[2].1.as_ref().unwrap_err().contains("more fields"));
        assert_eq!(
            c.1[3].1.as_ref().unwrap(),
            &["3", "4"],
            "read on after them"
        );
        // What was sent is kept, cut.
        struct Raw(Vec<String>);
        impl Visit for Raw {
            fn header(&mut self, _: &[String]) -> Result<()> {
                Ok(())
            }
            fn row(&mut self, _: u64, f: std::result::Result<&[&str], Rejected>) -> Result<()> {
                if let Err(r) = f {
                    self.0.push(r.raw);
                }
                Ok(())
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv");
        std::fs::write(&p, &text).unwrap();
        let mut raw = Raw(vec![]);
        let d = detect(&p, "a.csv").unwrap();
        read(&p, &d, &limits, Default::default(), &mut raw).unwrap();
        assert!(raw.0[0].starts_with("yyyyyyyyyyyyyyyyyyyy") && raw.0[0].contains("[cut"));
        assert!(raw.0[1].starts_with("1,2,3,4,5,6"), "{}", raw.0[1]);
        // A header past them refuses the file.
        let e = run_with(
            format!("{}\n1\n", "h".repeat(500)).as_bytes(),
            "a.csv",
            &limits,
        )
        .err()
        .unwrap();
        assert!(e.message.contains("header row"), "{}", e.message);
        // JSON lines alike.
        let jl = format!(
            "{{\"a\":1}}\n{{\"a\":\"{}\"}}\n{{\"a\":2}}\n",
            "z".repeat(500)
        );
        let c = run_with(jl.as_bytes(), "a.jsonl", &limits).unwrap();
        assert_eq!(c.1.len(), 3);
        assert!(c.1[1].1.as_ref().unwrap_err().contains("longer"));
        assert_eq!(c.1[2].1.as_ref().unwrap(), &["2"]);
    }

    #[test]
    fn a_workbook_part_past_its_limit_is_refused_before_it_is_opened() {
        let limits = Limits {
            sheet_bytes: 64 * 1024,
            ..Limits::default()
        };
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.write(0, 0, "a").unwrap();
        for r in 1..4000u32 {
            ws.write(r, 0, "一二三四五六七八九十").unwrap();
        }
        let bytes = wb.save_to_buffer().unwrap();
        let e = run_with(&bytes, "a.xlsx", &limits).err().unwrap();
        assert!(e.message.contains("expands past"), "{}", e.message);
        let c = run_with(&bytes, "a.xlsx", &Limits::default()).unwrap();
        assert_eq!(c.1.len(), 3999);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, ..Default::default() })]

        /// Any bytes, in any format the name or the first bytes suggest, are read or refused:
        /// never a panic (a fuzz target for the CSV/GBK, JSON lines and workbook readers).
        #[test]
        fn any_bytes_are_read_or_refused_never_a_panic(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048),
            name in proptest::sample::select(vec!["a.csv", "a.jsonl", "a.xlsx", "a.txt"]),
        ) {
            let limits = Limits { record_bytes: 256, fields: 16, raw_bytes: 64, ..Limits::default() };
            let _ = run_with(&bytes, name, &limits);
        }

        /// Valid deliveries with bytes spliced in: quotes, delimiters, line ends, GBK and UTF-8
        /// fragments, a zip header.
        #[test]
        fn damaged_deliveries_are_read_or_refused_never_a_panic(
            at in 0usize..400,
            splice in proptest::collection::vec(proptest::sample::select(vec![
                b'"', b',', b'\n', b'\r', b'\t', b'{', b'}', 0u8, 0xff, 0xe4, 0xb8, 0xad, 0x81, 0x40, b'P', b'K', 3, 4,
            ]), 0..16),
            which in 0usize..3,
        ) {
            let (gbk, ..) = encoding_rs::GBK.encode("姓名,住址\n张三,聊城市东昌府区\n李四,\"阳谷县,狮子楼\"\n");
            let sources: [(Vec<u8>, &str); 3] = [
                (gbk.into_owned(), "a.csv"),
                ("{\"a\":1,\"b\":\"x\"}\n{\"a\":2}\n".as_bytes().to_vec(), "a.jsonl"),
                ("sfzh|xm\n371502198001010016|王\n".as_bytes().to_vec(), "a.txt"),
            ];
            let (mut bytes, name) = sources[which].clone();
            let at = at.min(bytes.len());
            bytes.splice(at..at, splice);
            let limits = Limits { record_bytes: 64, fields: 8, raw_bytes: 32, ..Limits::default() };
            let _ = run_with(&bytes, name, &limits);
        }
    }

    #[test]
    fn binary_and_fake_excel_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.xlsx");
        std::fs::write(&p, b"just text").unwrap();
        assert!(detect(&p, "a.xlsx").is_err());
        let p = dir.path().join("a.bin");
        std::fs::write(&p, b"a,b\n\x00\x01").unwrap();
        assert!(detect(&p, "a.bin").is_err());
    }
}
