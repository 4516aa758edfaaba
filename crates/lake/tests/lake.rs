//! The lake end to end on a real Delta table in a temporary folder: deliveries in GBK with bad
//! check digits, re-delivery, updates, masking through every query shape, time travel, builds.

use shuju_admin::{Caller, perm};
use shuju_lake::spec::OnInvalid;
use shuju_lake::{Check, ColumnSpec, Kind, Lake, Library, TableSpec};
use shuju_types::CitizenId;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// A column of the tests' tables. These tables reject a row whose value fails its check (the
/// quarantine is what most tests here look at); `flagging` makes a table keep such rows instead,
/// as tables do by default.
fn col(name: &str, title: &str, kind: Kind, check: Option<Check>, sensitive: bool) -> ColumnSpec {
    ColumnSpec {
        name: name.into(),
        title: title.into(),
        kind,
        check,
        sensitive,
        required: false,
        max_len: None,
        on_invalid: OnInvalid::Reject,
        element: None,
        role: None,
        codes: Default::default(),
    }
}

/// `spec` keeping the rows whose values fail their checks, flagged (the platform's default).
fn flagging(mut spec: TableSpec) -> TableSpec {
    for c in &mut spec.columns {
        c.on_invalid = OnInvalid::default();
    }
    spec
}

fn people_spec() -> TableSpec {
    TableSpec {
        name: "people".into(),
        library: Library::Business,
        title: "户籍人口".into(),
        resource_code: "RES-PEOPLE".into(),
        columns: vec![
            col(
                "sfzh",
                "公民身份号码",
                Kind::Text,
                Some(Check::CitizenId),
                true,
            ),
            col("xm", "姓名", Kind::Text, None, true),
            col("csrq", "出生日期", Kind::Date, None, true),
            col("jfjs", "缴费基数", Kind::Decimal, None, false),
            col(
                "xzqh",
                "行政区划代码",
                Kind::Text,
                Some(Check::DivisionCode),
                false,
            ),
        ],
        key: vec!["sfzh".into()],
        mapping: BTreeMap::new(),
        cycle_days: Some(1),
        provider: None,
    }
}

fn id(i: u32) -> String {
    let birth = chrono::NaiveDate::from_ymd_opt(1950 + (i % 50) as i32, 1 + i % 12, 1 + i % 28)
        .expect("date");
    CitizenId::from_parts("371502", birth, (i / 600) as u16 % 1000)
        .expect("id")
        .to_string()
}

fn wrong(id: &str) -> String {
    let mut s = id.to_owned();
    let last = s.pop().unwrap_or('0');
    s.push(if last == '1' { '2' } else { '1' });
    s
}

/// A GBK CSV of `n` people, every 100th with a wrong check digit; returns the bad row numbers.
fn write_people(path: &Path, n: u32, salary: u32) -> Vec<u64> {
    let mut text = String::from("公民身份号码,姓名,出生日期,缴费基数,行政区划代码\n");
    let mut bad = vec![];
    for i in 0..n {
        let mut sfzh = id(i);
        if i % 100 == 7 {
            sfzh = wrong(&sfzh);
            bad.push(i as u64 + 2);
        }
        text.push_str(&format!(
            "{sfzh},张{i},{}/{}/{},{},371502\n",
            1950 + i % 50,
            1 + i % 12,
            1 + i % 28,
            salary + i
        ));
    }
    let (bytes, ..) = encoding_rs::GBK.encode(&text);
    std::fs::File::create(path)
        .and_then(|mut f| f.write_all(&bytes))
        .expect("write");
    bad
}

fn caller(perms: &[&str]) -> Caller {
    Caller {
        username: "officer".into(),
        permissions: perms.iter().map(|p| p.to_string()).collect(),
        ..Caller::system()
    }
}

async fn setup() -> (tempfile::TempDir, Lake, shuju_store::testing::TestDb) {
    let dir = tempfile::tempdir().expect("tmp");
    let db = shuju_store::testing::sqlite();
    let store = db.open().await;
    let lake = Lake::open(dir.path().join("lake").to_str().expect("path"), store).expect("lake");
    lake.put_table(&Caller::system(), &people_spec())
        .await
        .expect("spec");
    (dir, lake, db)
}

/// A second process on the same lake folder and database, with its own locks and caches (e.g.
/// `shuju ingest` beside the server).
async fn other_process(dir: &Path, db: &shuju_store::testing::TestDb) -> Lake {
    Lake::open(dir.join("lake").to_str().expect("path"), db.open().await).expect("lake")
}

/// Deliver `file` (named `name`) into the people table as the platform.
async fn people(
    lake: &Lake,
    file: &Path,
    name: &str,
) -> shuju_types::Result<shuju_lake::LoadReport> {
    lake.ingest(
        &Caller::system(),
        "RES-PEOPLE",
        file,
        name,
        Default::default(),
    )
    .await
}

/// Deliver `n` people (`write_people`) as `p.csv`.
async fn deliver_people(lake: &Lake, dir: &Path, n: u32, salary: u32) -> shuju_lake::LoadReport {
    let file = dir.join("p.csv");
    write_people(&file, n, salary);
    people(lake, &file, "p.csv").await.expect("ingest")
}

#[tokio::test]
async fn bad_check_digits_are_quarantined_and_redelivery_adds_nothing() {
    let (dir, lake, _db) = setup().await;
    let sys = Caller::system();
    let file = dir.path().join("people.csv");
    let bad = write_people(&file, 1000, 3000);
    assert_eq!(bad.len(), 10, "1% bad check digits");

    let r = people(&lake, &file, "people.csv").await.expect("ingest");
    assert_eq!(r.encoding, Some(shuju_lake::read::Encoding::Gb18030));
    assert_eq!((r.rows_read, r.inserted, r.rejected), (1000, 990, 10));
    assert_eq!(r.version, Some(0));

    let q = lake
        .quarantine(&sys, "people", None, 100)
        .await
        .expect("quarantine");
    let mut rows: Vec<u64> = q.iter().map(|r| r.row as u64).collect();
    rows.sort();
    assert_eq!(rows, bad, "exactly the bad rows, by line number");
    assert!(
        q.iter()
            .all(|r| r.column.as_deref() == Some("sfzh") && r.reason.contains("check character"))
    );

    // The same file again: nothing inserted, nothing updated, no new version, quarantine not doubled.
    let again = people(&lake, &file, "people.csv").await.expect("again");
    assert_eq!((again.inserted, again.updated, again.version), (0, 0, None));
    let info = lake.table(&sys, "people").await.expect("info");
    assert_eq!((info.rows, info.rejected, info.version), (990, 10, Some(0)));

    // A changed delivery: the salary changed for everyone → updates, not inserts.
    write_people(&file, 1000, 5000);
    let changed = people(&lake, &file, "people-2.csv").await.expect("changed");
    assert_eq!((changed.inserted, changed.updated), (0, 990));
    assert_eq!(changed.version, Some(1));
    let info = lake.table(&sys, "people").await.expect("info");
    assert_eq!(info.rows, 990);
    let q = info.quality.expect("quality measured");
    assert_eq!(q.validity_bp, 9900);
    assert_eq!(q.completeness_bp, 10_000);

    // Lineage: each version names its job, file and hash.
    let h = lake.history(&sys, "people").await.expect("history");
    assert_eq!(h.len(), 2);
    assert_eq!(h[0].version, 1);
    assert_eq!(h[0].shuju["file_name"], "people-2.csv");
    assert_eq!(h[1].shuju["rejected"], 10);
    assert_eq!(
        h[1].shuju["file_sha256"].as_str().map(str::len),
        Some(64),
        "tagged with the file's hash"
    );

    // Time travel: version 0 has the old salaries.
    let sql = "SELECT max(jfjs) AS m FROM people";
    let now = lake
        .sql(&sys, sql, &BTreeMap::new(), 10)
        .await
        .expect("sql");
    let then = lake
        .sql(&sys, sql, &BTreeMap::from([("people".to_string(), 0)]), 10)
        .await
        .expect("as of");
    assert_eq!(now.rows[0]["m"], 5999.0);
    assert_eq!(then.rows[0]["m"], 3999.0);
}

#[tokio::test]
async fn a_delivery_without_the_key_column_is_refused_whole() {
    let (dir, lake, _db) = setup().await;
    let file = dir.path().join("x.csv");
    std::fs::write(&file, "姓名,出生日期\n张三,2000-01-01\n").expect("write");
    let e = people(&lake, &file, "x.csv")
        .await
        .expect_err("no key column");
    assert!(e.message.contains("公民身份号码"), "{}", e.message);
    let jobs = lake
        .jobs(&Caller::system(), Some("people"))
        .await
        .expect("jobs");
    assert_eq!(jobs[0].status, "failed");
}

fn all_strings(r: &shuju_lake::QueryResult) -> Vec<String> {
    r.rows
        .iter()
        .flat_map(|row| row.values())
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn masked_columns_stay_masked_through_every_query_shape() {
    let (dir, lake, _db) = setup().await;
    deliver_people(&lake, dir.path(), 200, 3000).await;
    let analyst = caller(&[perm::LAKE_QUERY]);
    let raw_ids: Vec<String> = (0..200).map(id).collect();
    let shapes = [
        "SELECT * FROM people",
        "SELECT sfzh FROM people",
        "SELECT sfzh AS x FROM people",
        "SELECT CAST(sfzh AS VARCHAR) AS x FROM people",
        "SELECT upper(sfzh) AS x, lower(sfzh) AS y, concat(sfzh, '') AS z FROM people",
        "SELECT substr(sfzh, 7, 8) AS birth FROM people",
        "SELECT a.sfzh, b.sfzh AS other FROM people a JOIN people b ON a.sfzh = b.sfzh",
        "SELECT x FROM (SELECT sfzh AS x FROM people) t",
        "SELECT * FROM (SELECT * FROM people) t WHERE t.sfzh IS NOT NULL",
        "WITH c AS (SELECT sfzh FROM people) SELECT * FROM c",
        "SELECT sfzh FROM people UNION ALL SELECT xm FROM people",
        "SELECT max(sfzh) AS m, min(sfzh) AS n, string_agg(sfzh, ',') AS s FROM people",
        "SELECT reverse(reverse(sfzh)) AS x FROM people",
        "SELECT (SELECT max(sfzh) FROM people) AS x",
        "SELECT sfzh FROM people WHERE sfzh IN (SELECT sfzh FROM people)",
        "SELECT CAST(csrq AS VARCHAR) AS d, csrq FROM people",
    ];
    for sql in shapes {
        let r = lake
            .sql(&analyst, sql, &BTreeMap::new(), 1000)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {}", e.message));
        assert!(r.masked);
        let seen = all_strings(&r).join("\n");
        for raw in &raw_ids {
            assert!(!seen.contains(raw.as_str()), "{sql} leaked an ID");
            // Not even the hidden middle (the birth date part).
            assert!(!seen.contains(&raw[6..14]), "{sql} leaked a birth date");
        }
        assert!(!seen.contains("张1"), "{sql} leaked a name");
    }
    // A birth date (non-text personal data) is withheld entirely.
    let r = lake
        .sql(
            &analyst,
            "SELECT csrq FROM people LIMIT 1",
            &BTreeMap::new(),
            10,
        )
        .await
        .expect("sql");
    assert!(r.rows[0].get("csrq").is_none_or(|v| v.is_null()));
    // With the permission, the raw value.
    let officer = caller(&[perm::LAKE_QUERY, perm::LAKE_UNMASKED]);
    let r = lake
        .sql(&officer, "SELECT sfzh FROM people", &BTreeMap::new(), 1000)
        .await
        .expect("sql");
    assert!(!r.masked);
    assert!(all_strings(&r).contains(&raw_ids[0]));

    // A row read from the key index and masked there is the row the masking view gives, and
    // a lookup by another column gives the rows SQL gives, in key order.
    let spec = people_spec();
    let index = lake.key_index(&spec).await.unwrap().expect("held");
    let mut masked_rows = Vec::new();
    for (i, k) in raw_ids.iter().enumerate() {
        let Some(mut row) = index.get(k).unwrap() else {
            continue; // quarantined: a wrong check digit
        };
        if i % 37 != 0 {
            index.mask(&spec, &mut row);
            masked_rows.push(serde_json::Value::Object(row).to_string());
            continue;
        }
        let unmasked = lake
            .sql(
                &officer,
                &format!("SELECT * FROM people WHERE sfzh = '{k}'"),
                &BTreeMap::new(),
                10,
            )
            .await
            .unwrap();
        assert_eq!(Some(&row), unmasked.rows.first(), "{k}");
        index.mask(&spec, &mut row);
        masked_rows.push(serde_json::Value::Object(row).to_string());
    }
    let mut through_view: Vec<String> = lake
        .sql(&analyst, "SELECT * FROM people", &BTreeMap::new(), 1000)
        .await
        .unwrap()
        .rows
        .into_iter()
        .map(|r| serde_json::Value::Object(r).to_string())
        .collect();
    masked_rows.sort();
    through_view.sort();
    assert_eq!(masked_rows, through_view);
    let division = index.get(&raw_ids[5]).unwrap().unwrap()["xzqh"]
        .as_str()
        .unwrap()
        .to_owned();
    let by_sql = lake
        .sql(
            &officer,
            &format!("SELECT * FROM people WHERE xzqh = '{division}' ORDER BY sfzh"),
            &BTreeMap::new(),
            1000,
        )
        .await
        .unwrap();
    let by_index = index.rows_where("xzqh", &division, 1000).unwrap();
    assert!(!by_index.is_empty());
    assert_eq!(by_index, by_sql.rows);
    assert_eq!(index.rows_where("xzqh", "no such", 10).unwrap().len(), 0);
    assert!(index.rows_where("no_such_column", "x", 10).is_err());
}

#[tokio::test]
async fn only_read_only_queries_by_authorised_callers() {
    let (_dir, lake, _db) = setup().await;
    let analyst = caller(&[perm::LAKE_QUERY]);
    for sql in [
        "CREATE TABLE x AS SELECT 1",
        "INSERT INTO people VALUES ('a')",
        "CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd'",
        "SET datafusion.execution.batch_size = 1",
        "SELECT * FROM '/etc/passwd'",
        "SELECT * FROM information_schema.tables",
    ] {
        let e = lake
            .sql(&analyst, sql, &BTreeMap::new(), 10)
            .await
            .expect_err(sql);
        assert_eq!(e.code.as_str(), "invalid_argument", "{sql}: {}", e.message);
    }
    let nobody = caller(&[]);
    let e = lake
        .sql(&nobody, "SELECT 1", &BTreeMap::new(), 10)
        .await
        .expect_err("no permission");
    assert_eq!(e.code.as_str(), "permission_denied");
}

#[tokio::test]
async fn json_lines_and_excel_deliveries() {
    let (dir, lake, _db) = setup().await;
    let sys = Caller::system();
    let file = dir.path().join("p.jsonl");
    let mut text = String::new();
    for i in 0..5 {
        text.push_str(&format!(
            "{{\"sfzh\":\"{}\",\"xm\":\"李{i}\",\"csrq\":\"2001年2月3日\",\"jfjs\":{}}}\n",
            id(i),
            1000 + i
        ));
    }
    text.push_str("{\"sfzh\": null, \"xm\": \"无证\"}\n");
    std::fs::write(&file, text).expect("write");
    let r = people(&lake, &file, "p.jsonl").await.expect("jsonl");
    assert_eq!((r.inserted, r.rejected), (5, 1));

    let xlsx = dir.path().join("p.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["公民身份号码", "姓名", "缴费基数"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).expect("cell");
    }
    for i in 0..3u32 {
        ws.write_string(i + 1, 0, id(100 + i)).expect("cell");
        ws.write_string(i + 1, 1, "王五").expect("cell");
        ws.write_number(i + 1, 2, 2500.5).expect("cell");
    }
    wb.save(&xlsx).expect("save");
    let r = people(&lake, &xlsx, "p.xlsx").await.expect("xlsx");
    assert_eq!((r.inserted, r.rejected), (3, 0));
    let info = lake.table(&sys, "people").await.expect("info");
    assert_eq!(info.rows, 8);
}

#[tokio::test]
async fn a_table_built_from_tables_names_its_sources() {
    let (dir, lake, _db) = setup().await;
    let sys = Caller::system();
    deliver_people(&lake, dir.path(), 300, 3000).await;
    let spec = TableSpec {
        name: "population".into(),
        library: Library::BasePopulation,
        title: "人口基础库".into(),
        resource_code: "RES-POP".into(),
        columns: vec![col("citizen_id", "公民身份号码", Kind::Text, None, true)],
        key: vec!["citizen_id".into()],
        mapping: BTreeMap::new(),
        cycle_days: None,
        provider: None,
    };
    let r = lake
        .build(&sys, &spec, "SELECT sfzh AS citizen_id FROM people")
        .await
        .expect("build");
    assert_eq!(r.inserted, 297);
    let h = lake.history(&sys, "population").await.expect("history");
    assert_eq!(h[0].shuju["built_from"]["people"], 0);
    let analyst = caller(&[perm::LAKE_QUERY]);
    let q = lake
        .sql(
            &analyst,
            "SELECT citizen_id FROM population LIMIT 1",
            &BTreeMap::new(),
            10,
        )
        .await
        .expect("sql");
    assert!(
        q.rows[0]["citizen_id"]
            .as_str()
            .is_some_and(|s| s.contains("********"))
    );
}

#[tokio::test]
async fn the_drop_folder_loads_finished_files_and_sets_failures_aside() {
    let (dir, lake, _db) = setup().await;
    let drop = dir.path().join("drop");
    std::fs::create_dir_all(drop.join("people")).expect("dir");
    std::fs::create_dir_all(drop.join("nosuchtable")).expect("dir");
    write_people(&drop.join("people/today.csv"), 200, 3000);
    std::fs::write(drop.join("nosuchtable/x.csv"), "a\n1\n").expect("write");
    std::fs::write(drop.join("people/upload.csv.part"), "partial").expect("write");
    let mut seen = Default::default();
    // The first pass only notes the sizes: a file still being copied is not loaded.
    assert_eq!(lake.scan_drop(&drop, &mut seen).await.len(), 0);
    assert_eq!(lake.scan_drop(&drop, &mut seen).await.len(), 1);
    let done: Vec<_> = std::fs::read_dir(drop.join("people/done"))
        .expect("done")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(done.iter().any(|n| n.ends_with("today.csv")));
    assert!(done.iter().any(|n| n.ends_with(".report.json")));
    assert!(
        drop.join("people/upload.csv.part").exists(),
        "partial uploads wait"
    );
    let failed = std::fs::read_dir(drop.join("nosuchtable/failed")).expect("failed");
    assert_eq!(failed.count(), 2, "the file and its error note");
    let info = lake.table(&Caller::system(), "people").await.expect("info");
    assert_eq!(info.rows, 198);
}

fn readings_spec() -> TableSpec {
    TableSpec {
        name: "flow".into(),
        library: Library::Business,
        title: "交通流量".into(),
        resource_code: "RES-FLOW".into(),
        columns: vec![
            col("jcqbh", "检测器编号", Kind::Text, None, false),
            col("tjsj", "统计时间", Kind::Timestamp, None, false),
            col("cll", "车流量", Kind::Integer, None, false),
        ],
        key: vec!["jcqbh".into(), "tjsj".into()],
        mapping: BTreeMap::new(),
        cycle_days: Some(1),
        provider: None,
    }
}

/// Readings of two sensors every hour of `days` days from `month`/1, flow `base + hour`.
fn readings(month: u32, days: u32, base: u32) -> String {
    let mut text = String::from("检测器编号,统计时间,车流量\n");
    for d in 1..=days {
        for h in 0..24 {
            for s in ["JT01", "JT02"] {
                text.push_str(&format!(
                    "{s},2026-{month:02}-{d:02} {h:02}:00:00,{}\n",
                    base + h
                ));
            }
        }
    }
    text
}

#[tokio::test]
async fn updates_rewrite_only_the_files_that_can_hold_the_keys() {
    let (dir, lake, _db) = setup().await;
    monthly_readings_and_a_correction(&lake, dir.path()).await;
}

/// Two months of readings (the second skips the first's files by their statistics), then a
/// correction that updates one row, keeps one, adds one, and repeats rows.
async fn monthly_readings_and_a_correction(lake: &Lake, dir: &Path) {
    let sys = Caller::system();
    lake.put_table(&sys, &readings_spec()).await.expect("spec");
    let load = |name: &str, text: String| {
        let file = dir.join(name);
        std::fs::write(&file, text).expect("write");
        let (lake, sys, name) = (lake, &sys, name.to_owned());
        async move {
            lake.ingest(sys, "RES-FLOW", &file, &name, Default::default())
                .await
                .expect("ingest")
        }
    };
    let jan = load("jan.csv", readings(1, 10, 100)).await;
    assert_eq!((jan.inserted, jan.updated, jan.version), (480, 0, Some(0)));
    let feb = load("feb.csv", readings(2, 10, 100)).await;
    assert_eq!((feb.inserted, feb.updated, feb.version), (480, 0, Some(1)));
    let h = lake.history(&sys, "flow").await.expect("history");
    assert_eq!(
        h[0].metrics["numTargetFilesScanned"], 0,
        "{:?}",
        h[0].metrics
    );
    assert_eq!(
        h[0].metrics["numTargetFilesSkipped"], 1,
        "January cannot hold February's keys"
    );

    // A correction of January: one reading changed, one unchanged, one new; the new one sent
    // twice with different counts (the last stands) and the changed one sent twice alike.
    let fix = "检测器编号,统计时间,车流量\n\
               JT01,2026-01-01 05:00:00,999\n\
               JT01,2026-01-01 06:00:00,106\n\
               JT03,2026-01-01 00:00:00,1\n\
               JT03,2026-01-01 00:00:00,2\n\
               JT01,2026-01-01 05:00:00,999\n";
    let r = load("fix.csv", fix.into()).await;
    assert_eq!(
        (r.rows_read, r.inserted, r.updated, r.duplicates),
        (5, 1, 1, 2)
    );
    assert_eq!(r.version, Some(2));
    let h = lake.history(&sys, "flow").await.expect("history");
    assert_eq!(
        h[0].metrics["numTargetFilesScanned"], 1,
        "{:?}",
        h[0].metrics
    );
    assert_eq!(h[0].metrics["numTargetRowsCopied"], 1);

    let q = |sql: &'static str, at: Option<i64>| {
        let sys = &sys;
        async move {
            let as_of = at
                .map(|v| BTreeMap::from([("flow".to_string(), v)]))
                .unwrap_or_default();
            lake.sql(sys, sql, &as_of, 10).await.expect("sql").rows
        }
    };
    let now = q("SELECT count(*) AS n, sum(cll) AS s FROM flow", None).await;
    assert_eq!(now[0]["n"], 961);
    // 40 sensor-days of sum(100..124) = 2676 each, +894 for the change, +2 for JT03.
    assert_eq!(now[0]["s"], 40 * 2676 + 894 + 2);
    let jt03 = q("SELECT cll FROM flow WHERE jcqbh = 'JT03'", None).await;
    assert_eq!(jt03.len(), 1);
    assert_eq!(jt03[0]["cll"], 2);
    let before = q("SELECT sum(cll) AS s FROM flow", Some(1)).await;
    assert_eq!(before[0]["s"], 40 * 2676);

    // The same correction again changes nothing and makes no version.
    let again = load("fix2.csv", fix.into()).await;
    assert_eq!((again.inserted, again.updated, again.version), (0, 0, None));
    assert_eq!(lake.table(&sys, "flow").await.expect("info").rows, 961);
    // Files the loads wrote and then replaced were removed: nothing is left that no version reads.
    assert_eq!(
        lake.sweep(std::time::Duration::ZERO).await.expect("sweep"),
        0
    );
}

#[tokio::test]
async fn an_entry_that_gained_an_item_adds_its_column() {
    let (dir, lake, _db) = setup().await;
    let sys = Caller::system();
    deliver_people(&lake, dir.path(), 200, 1000).await;
    let file = dir.path().join("p.csv");
    let mut spec = people_spec();
    spec.columns
        .push(col("lxdh", "联系电话", Kind::Text, None, true));
    lake.put_table(&sys, &spec).await.expect("spec");
    let text = format!(
        "公民身份号码,姓名,出生日期,缴费基数,行政区划代码,联系电话\n{},张0,1950/1/1,1000,371502,13800000000\n",
        id(0)
    );
    std::fs::write(&file, text).expect("write");
    let r = people(&lake, &file, "p2.csv").await.expect("second");
    assert_eq!((r.inserted, r.updated), (0, 1));
    let rows = lake
        .sql(
            &sys,
            "SELECT count(*) AS n, count(lxdh) AS phones FROM people",
            &BTreeMap::new(),
            10,
        )
        .await
        .expect("sql")
        .rows;
    assert_eq!(rows[0]["n"], 198);
    assert_eq!(rows[0]["phones"], 1);
}

/// The lake on an S3-compatible store: `TEST_S3_URL` (`s3://bucket/prefix`) with the `AWS_*`
/// variables of the store; scripts/test runs it against moto's S3 server.
#[tokio::test]
async fn the_lake_on_an_s3_compatible_store() {
    let Ok(base) = std::env::var("TEST_S3_URL") else {
        assert!(
            std::env::var("TEST_REQUIRE_S3").is_err(),
            "TEST_REQUIRE_S3=1 but TEST_S3_URL is not set"
        );
        eprintln!("S3 test skipped: TEST_S3_URL is not set (scripts/test sets it)");
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let db = shuju_store::testing::sqlite();
    let store = db.open().await;
    let url = format!("{}/{}", base.trim_end_matches('/'), uuid::Uuid::new_v4());
    let lake = Lake::open(&url, store).expect("lake");
    assert_eq!(lake.root().scheme(), "s3");
    let sys = Caller::system();
    lake.put_table(&sys, &people_spec()).await.expect("spec");

    // A GBK delivery with bad check digits, its quarantine, and the same file again.
    let file = dir.path().join("people.csv");
    write_people(&file, 1000, 3000);
    let r = people(&lake, &file, "people.csv").await.expect("ingest");
    assert_eq!(
        (r.rows_read, r.inserted, r.rejected, r.version),
        (1000, 990, 10, Some(0))
    );
    let again = people(&lake, &file, "people.csv").await.expect("again");
    assert_eq!((again.inserted, again.updated, again.version), (0, 0, None));
    let info = lake.table(&sys, "people").await.expect("info");
    assert_eq!((info.rows, info.rejected, info.version), (990, 10, Some(0)));
    let q = lake
        .quarantine(&sys, "people", None, 100)
        .await
        .expect("quarantine");
    assert_eq!(q.len(), 10);

    monthly_readings_and_a_correction(&lake, dir.path()).await;
}

#[tokio::test]
async fn files_of_a_load_cut_short_are_swept_and_every_version_still_reads() {
    let (dir, lake, _db) = setup().await;
    let sys = Caller::system();
    deliver_people(&lake, dir.path(), 300, 3000).await;
    deliver_people(&lake, dir.path(), 300, 4000).await;
    // A load killed before its commit leaves a data file no version names.
    let folder = dir.path().join("lake/business/people");
    let data: Vec<_> = std::fs::read_dir(&folder)
        .expect("folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .collect();
    assert!(data.len() >= 2, "{data:?}");
    let stray = folder.join("part-00000-0f0f0f0f-stray-c000.snappy.parquet");
    std::fs::copy(&data[0], &stray).expect("copy");
    // And its sketch, which goes with it.
    let kept = sketches(dir.path());
    assert_eq!(kept.len(), data.len(), "a sketch per data file");
    let stray_sketch =
        folder.join("_shuju_sketches/part-00000-0f0f0f0f-stray-c000.snappy.parquet.hll");
    std::fs::copy(&kept[0], &stray_sketch).expect("copy");

    // Too young to be a dead load's: kept.
    assert_eq!(
        lake.sweep(std::time::Duration::from_secs(3600))
            .await
            .expect("sweep"),
        0
    );
    assert!(stray.exists());
    assert_eq!(
        lake.sweep(std::time::Duration::ZERO).await.expect("sweep"),
        2
    );
    assert!(!stray.exists() && !stray_sketch.exists());
    assert_eq!(
        sketches(dir.path()),
        kept,
        "the sketches of readable files stay"
    );
    for p in &data {
        assert!(
            p.exists(),
            "a file a version reads was kept: {}",
            p.display()
        );
    }
    let sql = "SELECT count(*) AS n, max(jfjs) AS m FROM people";
    for (version, max) in [(0, 3299.0), (1, 4299.0)] {
        let r = lake
            .sql(
                &sys,
                sql,
                &BTreeMap::from([("people".to_string(), version)]),
                10,
            )
            .await
            .expect("as of");
        assert_eq!(r.rows[0]["n"], 297);
        assert_eq!(r.rows[0]["m"], max, "version {version}");
    }
}

/// The sketch files of the people table.
fn sketches(dir: &Path) -> Vec<std::path::PathBuf> {
    let folder = dir.join("lake/business/people/_shuju_sketches");
    let mut v: Vec<_> = std::fs::read_dir(&folder)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Uniqueness (basis points) of each column at the table's newest quality measurement.
async fn uniqueness(lake: &Lake) -> BTreeMap<String, i64> {
    let q = lake
        .quality(&Caller::system(), "people")
        .await
        .expect("quality");
    let newest = q.iter().map(|r| r.version).max().expect("measured");
    q.iter()
        .filter(|r| r.version == newest && r.column_name != "*")
        .map(|r| (r.column_name.clone(), r.uniqueness_bp))
        .collect()
}

#[tokio::test]
async fn uniqueness_comes_from_each_files_sketch_and_a_file_without_one_is_sketched() {
    let (dir, lake, _db) = setup().await;
    deliver_people(&lake, dir.path(), 1000, 3000).await;
    // One data file, one sketch beside it.
    let made = sketches(dir.path());
    assert_eq!(made.len(), 1, "{made:?}");
    // The accepted rows' distinct values, counted exactly.
    let kept: Vec<u32> = (0..1000).filter(|i| i % 100 != 7).collect();
    let dates: std::collections::HashSet<_> =
        kept.iter().map(|i| (i % 50, i % 12, i % 28)).collect();
    let exact = |distinct: usize| (distinct as i64 * 10_000) / kept.len() as i64;
    let near = |got: i64, want: i64| (got - want).abs() <= want / 50 + 1;
    let u = uniqueness(&lake).await;
    assert_eq!(u["sfzh"], 10_000, "the key is unique by the upsert");
    assert!(near(u["xm"], 10_000), "{u:?}");
    assert!(near(u["csrq"], exact(dates.len())), "{u:?}");
    assert_eq!(u["xzqh"], exact(1), "{u:?}");

    // A sketch that does not read (or was made by another build's hash) is made again from
    // the file, and the counts do not change.
    std::fs::write(&made[0], b"not a sketch").expect("spoil");
    deliver_people(&lake, dir.path(), 1001, 3000).await; // one more row: a new version
    let again = uniqueness(&lake).await;
    assert_eq!(sketches(dir.path()).len(), 2);
    let remade = std::fs::read(&made[0]).expect("sketch");
    assert!(
        remade.starts_with(b"SJHLL"),
        "the spoilt sketch was made again"
    );
    assert!(near(again["xm"], 10_000), "{again:?}");
    assert!(near(again["csrq"], exact(dates.len())), "{again:?}");
    assert_eq!(again["xzqh"], (10_000 / 991), "{again:?}");
}

#[tokio::test]
async fn two_writers_of_one_table_never_both_replace_the_same_rows() {
    let (dir, lake, db) = setup().await;
    let sys = Caller::system();
    deliver_people(&lake, dir.path(), 300, 3000).await;
    let other = other_process(dir.path(), &db).await;
    let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
    write_people(&a, 300, 5000);
    write_people(&b, 300, 5000);
    let (ra, rb) = tokio::join!(people(&lake, &a, "a.csv"), people(&other, &b, "b.csv"),);
    // Both rewrite the one file that holds these rows: the log lets only one of them commit
    // (or both, one after the other, the second finding nothing to change).
    let ok = [&ra, &rb].iter().filter(|r| r.is_ok()).count();
    assert!(ok >= 1, "{ra:?} {rb:?}");

    if ok == 1 {
        let again = people(&lake, &a, "a.csv").await.expect("re-run");
        assert_eq!(again.inserted, 0);
    }
    let r = lake
        .sql(
            &sys,
            "SELECT count(*) AS n, count(DISTINCT sfzh) AS k, min(jfjs) AS lo FROM people",
            &BTreeMap::new(),
            10,
        )
        .await
        .expect("sql");
    assert_eq!(r.rows[0]["n"], 297, "one row per person: {:?}", r.rows);
    assert_eq!(r.rows[0]["k"], 297);
    assert_eq!(r.rows[0]["lo"], 5000.0);
    // The loser's files are gone or unreadable: a sweep (the daily one, here at once) removes
    // what is left (deltalake's own writer of the quarantine leaves its file when its commit
    // loses), and every table still reads whole.
    lake.sweep(std::time::Duration::ZERO).await.expect("sweep");
    let folder = dir.path().join("lake/business/people");
    let data = std::fs::read_dir(&folder)
        .expect("folder")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "parquet"))
        })
        .count();
    assert_eq!(
        data, 2,
        "the first delivery's file and the winner's rewrite"
    );
    assert_eq!(lake.table(&sys, "people").await.expect("info").rows, 297);
    let q = lake
        .quarantine(&sys, "people", None, 100)
        .await
        .expect("quarantine");
    assert_eq!(
        q.len(),
        6,
        "3 rejects of the first file and 3 of the second, not doubled"
    );

    // Again with no rejects, so both reach the data commit: the loser removes its own files.
    write_people(&a, 7, 7000);
    write_people(&b, 7, 7000);
    let (ra, rb) = tokio::join!(people(&lake, &a, "a2.csv"), people(&other, &b, "b2.csv"),);
    assert!(ra.is_ok() || rb.is_ok(), "{ra:?} {rb:?}");
    assert_eq!(
        lake.sweep(std::time::Duration::ZERO).await.expect("sweep"),
        0,
        "the load that lost left no files behind"
    );
    let r = lake
        .sql(
            &sys,
            "SELECT count(*) AS n, count(DISTINCT sfzh) AS k, max(jfjs) AS hi FROM people",
            &BTreeMap::new(),
            10,
        )
        .await
        .expect("sql");
    assert_eq!(
        (&r.rows[0]["n"], &r.rows[0]["k"]),
        (&297.into(), &297.into())
    );
    assert_eq!(r.rows[0]["hi"], 7006.0);
}

/// A CSV delivery longer than a parse chunk is cleaned by several workers, each on its own
/// chunks; the loader puts their parts back in the file's order. Across chunks: a later row
/// with other content replaces an earlier one, a row sent twice alike counts once, and rejected
/// rows keep their line numbers.
#[tokio::test]
async fn a_delivery_cleaned_by_several_workers_keeps_the_files_order() {
    let (dir, lake, _db) = setup().await;
    // Three cleaners whatever the machine's cores (a two-core machine cleans on one thread).
    let lake = lake.with_cleaners(3);
    let sys = Caller::system();
    lake.put_table(&sys, &readings_spec()).await.expect("spec");
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("start");
    let reading = |i: usize, flow: u32| {
        let t = start + chrono::Duration::hours((i / 50) as i64);
        format!("JT{:02},{},{flow}", i % 50, t.format("%Y-%m-%d %H:%M:%S"))
    };
    // Four parse chunks and more (a chunk is 16,384 records).
    const N: usize = 70_000;
    let mut lines: Vec<String> = (0..N).map(|i| reading(i, 1)).collect();
    // From the back, so each position is in the file as written.
    lines.insert(66_000, "JT99,not-a-time,1".into());
    lines.insert(50_000, reading(5, 2)); // replaces row 5 of the first chunk
    lines.insert(40_000, "JT99,not-a-time,1".into());
    lines.insert(30_000, reading(100, 1)); // row 100 again, alike
    lines.insert(20_000, "JT99,not-a-time,1".into());
    lines.insert(10, "JT99,not-a-time,1".into());
    let bad: Vec<u64> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains("not-a-time"))
        .map(|(i, _)| i as u64 + 2)
        .collect();
    let file = dir.path().join("big.csv");
    std::fs::write(
        &file,
        format!("检测器编号,统计时间,车流量\n{}\n", lines.join("\n")),
    )
    .expect("write");

    let r = lake
        .ingest(&sys, "RES-FLOW", &file, "big.csv", Default::default())
        .await
        .expect("ingest");
    assert_eq!(
        (r.rows_read, r.inserted, r.rejected, r.duplicates),
        (N as u64 + 6, N as u64, 4, 2)
    );
    let q = lake
        .quarantine(&sys, "flow", None, 100)
        .await
        .expect("quarantine");
    assert_eq!(q.iter().map(|r| r.row as u64).collect::<Vec<_>>(), bad);
    let rows = lake
        .sql(
            &sys,
            "SELECT count(*) AS n, sum(cll) AS s, max(CASE WHEN jcqbh = 'JT05' AND tjsj = TIMESTAMP '2025-12-31 16:00:00Z' THEN cll END) AS five FROM flow",
            &BTreeMap::new(),
            10,
        )
        .await
        .expect("sql")
        .rows;
    assert_eq!(rows[0]["n"], N as u64);
    // Every reading counts 1, but row 5, replaced by its later row with 2.
    assert_eq!(rows[0]["s"], N as u64 + 1);
    assert_eq!(rows[0]["five"], 2);
    // The file's SHA-256, computed while it was read, is the file's.
    let jobs = lake.jobs(&sys, Some("flow")).await.expect("jobs");
    assert_eq!(
        jobs[0].file_sha256,
        shuju_lake::sha256_file(&file).expect("sha")
    );
}

/// The platform's default: a bad check digit keeps its row under a surrogate key (`!` and the ID
/// as written), flagged with the reason, the ID as written kept aside; the same file again adds
/// nothing; a department's corrected delivery adds the person under the valid ID; a value past
/// its column's declared length is flagged the same way.
#[tokio::test]
async fn bad_values_keep_their_rows_flagged_and_redelivery_adds_nothing() {
    let (dir, lake, _db) = setup().await;
    let sys = Caller::system();
    let mut spec = flagging(people_spec());
    spec.columns[1].max_len = Some(3);
    lake.put_table(&sys, &spec).await.expect("spec");
    let file = dir.path().join("people.csv");
    let bad = write_people(&file, 1000, 3000);
    let r = people(&lake, &file, "people.csv").await.expect("ingest");
    // Names 张0 … 张999: those of four characters are longer than the three declared.
    let long_names = 900;
    assert_eq!((r.rows_read, r.inserted, r.rejected), (1000, 1000, 0));
    assert_eq!(r.flagged_columns.get("sfzh"), Some(&(bad.len() as u64)));
    assert_eq!(r.flagged_columns.get("xm"), Some(&long_names));
    let q = lake
        .quarantine(&sys, "people", None, 100)
        .await
        .expect("quarantine");
    assert!(q.is_empty(), "nothing set aside as a whole row");

    let rows = lake
        .sql(
            &sys,
            "SELECT sfzh, xm, _flagged, _raw FROM people WHERE sfzh LIKE '!%' ORDER BY sfzh",
            &BTreeMap::new(),
            100,
        )
        .await
        .expect("sql")
        .rows;
    assert_eq!(rows.len(), bad.len());
    for row in &rows {
        let why: serde_json::Value =
            serde_json::from_str(row["_flagged"].as_str().unwrap()).unwrap();
        assert!(
            why["sfzh"].as_str().unwrap().contains("check character"),
            "{why}"
        );
        let raw: serde_json::Value = serde_json::from_str(row["_raw"].as_str().unwrap()).unwrap();
        assert_eq!(
            format!("!{}", raw["sfzh"].as_str().unwrap()),
            row["sfzh"].as_str().unwrap()
        );
    }
    let long = lake
        .sql(
            &sys,
            "SELECT xm, _flagged, _raw FROM people WHERE sfzh = (SELECT min(sfzh) FROM people WHERE sfzh NOT LIKE '!%' AND _flagged LIKE '%xm%')",
            &BTreeMap::new(),
            1,
        )
        .await
        .expect("sql")
        .rows;
    assert!(
        long[0].get("xm").is_none_or(serde_json::Value::is_null),
        "the validated column is empty: {long:?}"
    );
    assert!(
        long[0]["_flagged"]
            .as_str()
            .unwrap()
            .contains("longer than its 3 characters")
    );
    assert!(long[0]["_raw"].as_str().unwrap().contains("张"));

    // The same file again changes nothing.
    let again = people(&lake, &file, "people.csv").await.expect("ingest");
    assert_eq!((again.inserted, again.updated, again.version), (0, 0, None));
    // The department corrects one ID: a row under the valid ID joins (the flagged one stays, as
    // delivered then).
    let fixed = dir.path().join("fixed.csv");
    let line = format!(
        "公民身份号码,姓名,出生日期,缴费基数,行政区划代码\n{},张7,1957/8/8,3007,371502\n",
        id(7)
    );
    let (text, ..) = encoding_rs::GBK.encode(&line);
    std::fs::write(&fixed, &text).expect("write");
    let r = people(&lake, &fixed, "fixed.csv").await.expect("ingest");
    assert_eq!((r.inserted, r.flagged), (1, 0));
}

#[tokio::test]
async fn a_reader_sees_every_commit_of_another_process_through_its_cached_snapshot() {
    reader_sees_every_commit(false).await;
}

/// Once the log folder's time is settled, an unchanged time is all a read looks at: a commit by
/// either process still moves it.
#[tokio::test]
async fn a_reader_sees_every_commit_though_the_log_folder_looked_settled() {
    reader_sees_every_commit(true).await;
}

async fn reader_sees_every_commit(settled: bool) {
    let (dir, lake, db) = setup().await;
    deliver_people(&lake, dir.path(), 100, 3000).await;
    if settled {
        // The log folder last changed an hour ago.
        let log = dir.path().join("lake/business/people/_delta_log");
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        std::fs::File::open(&log)
            .and_then(|f| f.set_modified(hour_ago))
            .expect("age the log folder");
    }
    let count = |lake: &Lake| {
        let lake = lake.clone();
        async move {
            let r = lake
                .sql(
                    &Caller::system(),
                    "SELECT count(*) AS n, min(jfjs) AS lo FROM people",
                    &BTreeMap::new(),
                    10,
                )
                .await
                .expect("sql");
            (r.rows[0]["n"].clone(), r.rows[0]["lo"].clone())
        }
    };
    // Read twice: the second read is served from the snapshot the first one opened.
    assert_eq!(
        count(&lake).await,
        (serde_json::json!(99), serde_json::json!(3000.0))
    );
    assert_eq!(count(&lake).await.0, 99);
    let before = lake.live().await.expect("live");
    assert_eq!(before.len(), 1);
    // Another process on the same folder commits: the cached snapshot is no longer the newest.
    let other = other_process(dir.path(), &db).await;
    let file = dir.path().join("more.csv");
    write_people(&file, 200, 4000);
    people(&other, &file, "more.csv").await.expect("ingest");
    assert_eq!(
        count(&lake).await,
        (serde_json::json!(198), serde_json::json!(4000.0))
    );
    assert_eq!(count(&lake).await, count(&other).await);
    let after = lake.live().await.expect("live");
    assert_eq!(after[0].1, before[0].1 + 1, "{before:?} {after:?}");
    // And this process's own commits are seen at once.
    write_people(&file, 300, 5000);
    people(&lake, &file, "more.csv").await.expect("ingest");
    assert_eq!(count(&lake).await.0, 297);
}
