//! Deliveries made to hurt, through `shuju ingest` as an operator runs it: a one-line CSV of
//! 50 MB and of 256 MB (millions of header fields), a workbook whose sheet expands from a few MB
//! to 2 GB, one whose single cell expands to 1 GB, and a value a million times its declared
//! length. Each is refused or rejected with its reason, the process stays within the memory
//! budget (1 GiB per delivery, measured as its peak resident memory), and the table keeps what
//! it had and loads the next good delivery.

use shuju_admin::Caller;
use shuju_lake::spec::OnInvalid;
use shuju_lake::{Check, ColumnSpec, Kind, Lake, Library, TableSpec};
use shuju_store::{Migrate, Store};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_shuju");
/// The memory budget of one delivery.
const BUDGET_MIB: u64 = 1024;

fn spec() -> TableSpec {
    let col = |name: &str, kind, check, max_len| ColumnSpec {
        name: name.into(),
        title: name.into(),
        kind,
        check,
        sensitive: false,
        required: false,
        max_len,
        on_invalid: OnInvalid::Flag,
        element: None,
        role: None,
        codes: Default::default(),
    };
    TableSpec {
        name: "people".into(),
        library: Library::Business,
        title: "people".into(),
        resource_code: "R1".into(),
        columns: vec![
            col("sfzh", Kind::Text, Some(Check::CitizenId), Some(18)),
            col("xm", Kind::Text, None, Some(50)),
            col("jfjs", Kind::Integer, None, None),
        ],
        key: vec!["sfzh".into()],
        mapping: BTreeMap::new(),
        cycle_days: None,
        provider: None,
    }
}

async fn open(dir: &Path) -> (Store, Lake) {
    let url = format!("sqlite://{}?mode=rwc", dir.join("shuju.db").display());
    let store = Store::open(&url, Migrate::Apply).await.unwrap();
    let lake = Lake::open(dir.join("lake").to_str().unwrap(), store.clone()).unwrap();
    (store, lake)
}

/// What `shuju ingest` said, its exit status and its peak memory.
struct Ingested {
    ok: bool,
    out: String,
    err: String,
    peak_mib: u64,
}

fn ingest(dir: &Path, file: &Path) -> Ingested {
    let o = Command::new(BIN)
        .args([
            "ingest",
            "--data-dir",
            dir.to_str().unwrap(),
            "--resource",
            "R1",
        ])
        .arg(file)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let peak_mib = err
        .lines()
        .find_map(|l| l.strip_prefix("peak memory: "))
        .and_then(|l| l.trim_end_matches(" MiB").parse().ok())
        .unwrap_or_else(|| panic!("no peak memory reported: {err}"));
    Ingested {
        ok: o.status.success(),
        out: String::from_utf8_lossy(&o.stdout).into_owned(),
        err,
        peak_mib,
    }
}

fn people(path: &Path, from: u32, n: u32) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(f, "sfzh,xm,jfjs").unwrap();
    for i in from..from + n {
        let birth = chrono::NaiveDate::from_ymd_opt(1950, 1, 1)
            .and_then(|d| d.checked_add_days(chrono::Days::new(u64::from(i))))
            .unwrap();
        let id = shuju_types::CitizenId::from_parts("371502", birth, 1).unwrap();
        writeln!(f, "{id},name{i},{}", 3000 + i).unwrap();
    }
}

/// One line of `bytes` bytes: a header of two-byte fields.
fn one_line(path: &Path, bytes: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let block = "a,".repeat(32 * 1024);
    let mut left = bytes;
    while left > 0 {
        let n = left.min(block.len());
        f.write_all(&block.as_bytes()[..n]).unwrap();
        left -= n;
    }
    f.write_all(b"\n").unwrap();
}

/// A minimal workbook whose first sheet's XML is written by `sheet` (streamed into the zip).
fn workbook(path: &Path, sheet: impl FnOnce(&mut dyn Write)) {
    use zip::write::SimpleFileOptions;
    let f = std::fs::File::create(path).unwrap();
    let mut z = zip::ZipWriter::new(f);
    let o = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    let parts = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
        ),
    ];
    for (name, text) in parts {
        z.start_file(name, o).unwrap();
        z.write_all(text.as_bytes()).unwrap();
    }
    z.start_file("xl/worksheets/sheet1.xml", o).unwrap();
    sheet(&mut z);
    z.finish().unwrap();
}

const SHEET_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>sfzh</t></is></c><c r="B1" t="inlineStr"><is><t>xm</t></is></c><c r="C1" t="inlineStr"><is><t>jfjs</t></is></c></row>"#;
const SHEET_TAIL: &str = "</sheetData></worksheet>";

/// A sheet of `rows` rows of one repeated row: 2 GB of XML from about 10 MB.
fn rows_bomb(w: &mut dyn Write, rows: usize) {
    w.write_all(SHEET_HEAD.as_bytes()).unwrap();
    let row = r#"<row><c t="inlineStr"><is><t>371502195001010013</t></is></c><c t="inlineStr"><is><t>王小明王小明王小明王小明王小明王小明王小明王小明</t></is></c><c><v>3000</v></c></row>"#;
    let block = row.repeat(1024);
    for _ in 0..rows / 1024 {
        w.write_all(block.as_bytes()).unwrap();
    }
    w.write_all(SHEET_TAIL.as_bytes()).unwrap();
}

/// A sheet whose one cell holds `bytes` bytes of text.
fn cell_bomb(w: &mut dyn Write, bytes: usize) {
    w.write_all(SHEET_HEAD.as_bytes()).unwrap();
    w.write_all(br#"<row r="2"><c r="A2" t="inlineStr"><is><t>371502195001010013</t></is></c><c r="B2" t="inlineStr"><is><t>"#).unwrap();
    let block = vec![b'A'; 1 << 20];
    for _ in 0..bytes >> 20 {
        w.write_all(&block).unwrap();
    }
    w.write_all(b"</t></is></c></row>").unwrap();
    w.write_all(SHEET_TAIL.as_bytes()).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_files_are_refused_within_the_memory_budget_and_the_table_loses_nothing() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("data");
    std::fs::create_dir_all(&dir).unwrap();
    let (store, lake) = open(&dir).await;
    lake.put_table(&Caller::system(), &spec()).await.unwrap();
    store.close().await;

    let good = work.path().join("good.csv");
    people(&good, 0, 1000);
    let r = ingest(&dir, &good);
    assert!(
        r.ok && r.out.contains("inserted 1000"),
        "{}{}",
        r.out,
        r.err
    );

    let f = |name: &str| work.path().join(name);
    one_line(&f("one_line_50mb.csv"), 50 << 20);
    one_line(&f("one_line_256mb.csv"), 256 << 20);
    workbook(&f("rows_bomb.xlsx"), |w| rows_bomb(w, 8_000_000));
    workbook(&f("cell_bomb.xlsx"), |w| cell_bomb(w, 1 << 30));
    // 50 characters declared: a million times that, in one CSV field.
    {
        let mut w = std::fs::File::create(f("long_value.csv")).unwrap();
        writeln!(w, "sfzh,xm,jfjs").unwrap();
        write!(w, "371502195001010013,").unwrap();
        w.write_all(&vec![b'x'; 50_000_000]).unwrap();
        writeln!(w, ",3000").unwrap();
        writeln!(w, "371502195001020019,刚好五十个字以内的名字,3001").unwrap();
    }
    for (file, refused, reason) in [
        ("one_line_50mb.csv", true, "header row"),
        ("one_line_256mb.csv", true, "header row"),
        ("rows_bomb.xlsx", true, "expands past"),
        ("cell_bomb.xlsx", true, "expands past"),
        ("long_value.csv", false, "rejected 1"),
    ] {
        let size = std::fs::metadata(f(file)).unwrap().len();
        let r = ingest(&dir, &f(file));
        assert_eq!(!r.ok, refused, "{file}: {}{}", r.out, r.err);
        assert!(
            r.out.contains(reason) || r.err.contains(reason),
            "{file} ({size} bytes): {}{}",
            r.out,
            r.err
        );
        assert!(
            r.peak_mib < BUDGET_MIB,
            "{file} ({size} bytes) took {} MiB",
            r.peak_mib
        );
        eprintln!("{file}: {size} bytes, peak {} MiB", r.peak_mib);
    }

    // The over-long record is in the quarantine with what was sent, cut and marked.
    let (store, lake) = open(&dir).await;
    let q = lake
        .quarantine(&Caller::system(), "people", None, 10)
        .await
        .unwrap();
    let long = q.iter().find(|r| r.file_name == "long_value.csv").unwrap();
    assert!(long.reason.contains("longer"), "{}", long.reason);
    let raw = long.raw["_raw"].as_str().unwrap();
    assert!(
        raw.starts_with("371502195001010013,xxxx") && raw.contains("[cut"),
        "{raw}"
    );
    assert!(raw.len() < 10_000);
    // Nothing was lost or added but the one good row of that file.
    let n = lake
        .sql(
            &Caller::system(),
            "SELECT count(*) AS n FROM people",
            &Default::default(),
            1,
        )
        .await
        .unwrap();
    assert_eq!(n.rows[0]["n"], 1001);
    store.close().await;

    // The next good delivery loads as usual.
    let more = work.path().join("more.csv");
    people(&more, 1000, 500);
    let r = ingest(&dir, &more);
    assert!(r.ok && r.out.contains("inserted 500"), "{}{}", r.out, r.err);
}
