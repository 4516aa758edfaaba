//! `kill -9` during a large ingest: no partial version is ever visible, and re-running the
//! delivery ends with the same counts as an uninterrupted run.

use shuju_admin::Caller;
use shuju_lake::{Check, ColumnSpec, Kind, Lake, Library, TableSpec};
use shuju_store::{Migrate, Store};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_shuju");
const ROWS: u32 = 120_000;

fn spec() -> TableSpec {
    let col = |name: &str, kind, check| ColumnSpec {
        name: name.into(),
        title: name.into(),
        kind,
        check,
        sensitive: false,
        required: false,
        max_len: None,
        on_invalid: Default::default(),
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
            col("sfzh", Kind::Text, Some(Check::CitizenId)),
            col("xm", Kind::Text, None),
            col("jfjs", Kind::Integer, None),
        ],
        key: vec!["sfzh".into()],
        mapping: BTreeMap::new(),
        cycle_days: None,
        provider: None,
    }
}

fn write(path: &Path, salary: u32) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(f, "sfzh,xm,jfjs").unwrap();
    for i in 0..ROWS {
        let birth = chrono::NaiveDate::from_ymd_opt(1925, 1, 1)
            .and_then(|d| d.checked_add_days(chrono::Days::new((i % 36_500) as u64)))
            .unwrap();
        let id = shuju_types::CitizenId::from_parts("371502", birth, (i / 36_500) as u16).unwrap();
        writeln!(f, "{id},name{i},{}", salary + i % 1000).unwrap();
    }
}

async fn open(dir: &Path) -> (Store, Lake) {
    let url = format!("sqlite://{}?mode=rwc", dir.join("shuju.db").display());
    let store = Store::open(&url, Migrate::Apply).await.unwrap();
    let lake = Lake::open(dir.join("lake").to_str().unwrap(), store.clone()).unwrap();
    (store, lake)
}

/// (rows, sum of jfjs) as a reader sees the table now.
async fn seen(dir: &Path) -> (i64, i64) {
    let (store, lake) = open(dir).await;
    let r = lake
        .sql(
            &Caller::system(),
            "SELECT count(*) AS n, coalesce(sum(jfjs), 0) AS s FROM people",
            &BTreeMap::new(),
            1,
        )
        .await;
    store.close().await;
    match r {
        Ok(r) => (
            r.rows[0]["n"].as_i64().unwrap(),
            r.rows[0]["s"].as_i64().unwrap(),
        ),
        // Nothing committed yet: the table does not exist for readers.
        Err(_) => (0, 0),
    }
}

fn ingest(dir: &Path, file: &Path) -> std::process::Child {
    Command::new(BIN)
        .args(["ingest", "--resource", "R1", "--data-dir"])
        .arg(dir)
        .arg(file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_mid_ingest_leaves_the_last_good_version_and_a_rerun_completes_it() {
    let work = tempfile::tempdir().unwrap();
    let (v1, v2) = (work.path().join("v1.csv"), work.path().join("v2.csv"));
    write(&v1, 1000);
    write(&v2, 5000);

    // The uninterrupted run, for the expected counts.
    let clean = work.path().join("clean");
    std::fs::create_dir_all(&clean).unwrap();
    let (s, lake) = open(&clean).await;
    lake.put_table(&Caller::system(), &spec()).await.unwrap();
    s.close().await;
    for f in [&v1, &v2] {
        assert!(ingest(&clean, f).wait().unwrap().success());
    }
    let expected_v1 = {
        let d = work.path().join("only-v1");
        std::fs::create_dir_all(&d).unwrap();
        let (s, lake) = open(&d).await;
        lake.put_table(&Caller::system(), &spec()).await.unwrap();
        s.close().await;
        assert!(ingest(&d, &v1).wait().unwrap().success());
        seen(&d).await
    };
    let expected = seen(&clean).await;
    assert_eq!(expected.0, ROWS as i64);
    assert_ne!(expected, expected_v1);

    // Killed at several moments, first while creating the table, then while updating it.
    let dir = work.path().join("killed");
    std::fs::create_dir_all(&dir).unwrap();
    let (s, lake) = open(&dir).await;
    lake.put_table(&Caller::system(), &spec()).await.unwrap();
    s.close().await;
    for (file, before, after) in [(&v1, (0, 0), expected_v1), (&v2, expected_v1, expected)] {
        for delay_ms in [150u64, 600, 1200, 2500] {
            let mut child = ingest(&dir, file);
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            let finished = child.try_wait().unwrap().is_some();
            let _ = child.kill(); // SIGKILL
            let _ = child.wait();
            let now = seen(&dir).await;
            assert!(
                now == before || now == after,
                "after a kill at {delay_ms} ms a reader sees {now:?}: neither {before:?} nor {after:?}"
            );
            if finished {
                break;
            }
        }
        // Re-running completes it.
        assert!(ingest(&dir, file).wait().unwrap().success());
        assert_eq!(seen(&dir).await, after);
    }
    assert_eq!(
        seen(&dir).await,
        expected,
        "the same counts as the uninterrupted run"
    );
}
