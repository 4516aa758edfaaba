//! Fresh databases for tests, on both backends.
//!
//! PostgreSQL tests need `TEST_POSTGRES_URL` (a URL of a role allowed to create databases,
//! e.g. `postgres://shuju:shuju@127.0.0.1:5432/postgres`); `scripts/test` sets it up. Without it
//! they are skipped with a message — unless `TEST_REQUIRE_POSTGRES=1`, as in CI, where a missing
//! server fails the run.

use crate::{Migrate, Store};
use sqlx::Connection;

/// A database that exists for one test.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn open(&self) -> Store {
        Store::open(&self.url, Migrate::Apply)
            .await
            .unwrap_or_else(|e| panic!("cannot open test database: {e:?}"))
    }
}

/// A fresh SQLite database in a temporary directory.
pub fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("shuju.db").display()
    );
    TestDb {
        url,
        _dir: Some(dir),
    }
}

/// The admin URL of the test PostgreSQL server, if configured.
pub fn pg_admin_url() -> Option<String> {
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            if std::env::var("TEST_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                panic!("TEST_REQUIRE_POSTGRES=1 but TEST_POSTGRES_URL is not set");
            }
            eprintln!(
                "PostgreSQL tests skipped: TEST_POSTGRES_URL is not set (scripts/test sets it)"
            );
            None
        }
    }
}

/// A fresh PostgreSQL database, or `None` when no test server is configured.
pub async fn postgres() -> Option<TestDb> {
    sqlx::any::install_default_drivers();
    let admin = pg_admin_url()?;
    let name = format!("shuju_t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::AnyConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL server: {e}"));
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let _ = conn.close().await;
    let mut url = url::Url::parse(&admin).expect("test database URL");
    url.set_path(&format!("/{name}"));
    Some(TestDb {
        url: url.to_string(),
        _dir: None,
    })
}
