//! The metadata database.
//!
//! One [`Store`] serves both backends through sqlx's `Any` driver: an SQLite file by default, or
//! PostgreSQL when the URL says so. Each backend has its own migration files (the DDL differs), but
//! every query in this crate is portable SQL with `$n` placeholders, so the same code — and the
//! same conformance suite in `tests/` — runs on both.
//!
//! Writes go through [`Store::write`], which returns a [`WriteTx`]: one database transaction, held
//! under the store's write lock, into which the state change *and* its audit record are written.
//! Dropping a `WriteTx` without [`WriteTx::commit`] rolls everything back.
//!
//! Times are stored as RFC 3339 UTC strings with milliseconds, which sort correctly as text.

pub mod audit;
mod cached;
pub mod catalog;
pub mod departments;
pub mod dicts;
pub mod divisions;
pub mod exchange;
pub mod gateway;
pub mod identity;
pub mod lake;
pub mod license;
pub mod login_log;
mod numbers;
pub mod outbox;
pub mod roles;
pub mod rules;
pub mod service;
pub mod sessions;
mod sql;
pub mod users;
mod versioned;

pub use cached::{Cached, Keyed};
pub use numbers::{Counter, Numbers};
pub use versioned::VersionedRow;

pub use sql::{Page, Paged};

use shuju_types::{Error, Result};
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyPool, Transaction};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// Each SQLite connection's page cache: 8 MiB (of the pool's at most 4 connections).
const SQLITE_CACHE: &str = "PRAGMA cache_size = -8192";

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A handle on the metadata database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    write_lock: Arc<Mutex<()>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

/// Map a database error to the platform error: constraint violations become conflicts, the rest
/// are internal (the cause goes to the log, never to the user).
pub(crate) fn db_err(e: sqlx::Error) -> Error {
    if let sqlx::Error::Database(d) = &e
        && (d.is_unique_violation() || d.is_foreign_key_violation())
    {
        return Error::conflict(if d.is_unique_violation() {
            "an object with the same key already exists"
        } else {
            "the object is still referenced, or refers to a missing object"
        });
    }
    if matches!(e, sqlx::Error::PoolTimedOut | sqlx::Error::Io(_)) {
        return Error::unavailable(e);
    }
    Error::internal(e)
}

/// The current time as stored: RFC 3339 UTC with milliseconds.
pub fn now() -> String {
    fmt_time(chrono::Utc::now())
}

pub fn fmt_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub fn parse_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// What [`Store::open`] should do about the schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Migrate {
    /// Apply pending migrations (the server at start).
    Apply,
    /// Only check that the schema is one this version understands (read-only tools).
    CheckOnly,
}

impl Store {
    /// Open the database at `url` (`sqlite://path?mode=rwc` or `postgres://…`).
    ///
    /// A database whose schema was written by a newer Shuju is refused with a message saying so.
    pub async fn open(url: &str, migrate: Migrate) -> Result<Store> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(Error::invalid(
                "database",
                "the URL must start with sqlite: or postgres:",
            ));
        };
        let max = match backend {
            Backend::Sqlite => 4,
            Backend::Postgres => 8,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    // SQLite keeps 2 MB of pages per connection unless told: too few for the
                    // indexes every person's file is read through, which were then read
                    // from the OS again on every decision.
                    if backend == Backend::Sqlite {
                        sqlx::Executor::execute(conn, SQLITE_CACHE).await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "cannot connect to the metadata database");
                Error::unavailable(e)
            })?;
        let store = Store {
            pool,
            backend,
            write_lock: Arc::new(Mutex::new(())),
        };
        if backend == Backend::Sqlite {
            sqlx::query("PRAGMA journal_mode=WAL")
                .execute(&store.pool)
                .await
                .map_err(db_err)?;
        }
        store.check_schema_version().await?;
        if migrate == Migrate::Apply {
            store
                .migrator()
                .run(&store.pool)
                .await
                .map_err(|e| Error::internal(format!("migration failed: {e}")))?;
        }
        Ok(store)
    }

    fn migrator(&self) -> &'static Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// The newest schema version this build knows.
    pub fn known_schema_version(&self) -> i64 {
        self.migrator().iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// The newest schema version applied to the database (0 for an empty database).
    pub async fn schema_version(&self) -> Result<i64> {
        let exists: i64 = match self.backend {
            Backend::Sqlite => sqlx::query_scalar(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
            ),
            Backend::Postgres => sqlx::query_scalar(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = '_sqlx_migrations' AND table_schema = current_schema()",
            ),
        }
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        if exists == 0 {
            return Ok(0);
        }
        let v: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(v.unwrap_or(0))
    }

    async fn check_schema_version(&self) -> Result<()> {
        let found = self.schema_version().await?;
        let known = self.known_schema_version();
        if found > known {
            return Err(Error::new(
                shuju_types::ErrorCode::Unavailable,
                format!(
                    "this database was written by a newer version of Shuju (schema version {found}; this build knows up to {known}). Upgrade Shuju; the database has not been changed."
                ),
            ));
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Is the database answering?
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(db_err)
    }

    /// Start a write: one transaction under the store's write lock.
    pub async fn write(&self) -> Result<WriteTx> {
        let guard = self.write_lock.clone().lock_owned().await;
        let tx = self.pool.begin().await.map_err(db_err)?;
        Ok(WriteTx { tx, _guard: guard })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// One write transaction. Commit it, or drop it to roll back.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    _guard: OwnedMutexGuard<()>,
}

impl WriteTx {
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await.map_err(db_err)
    }

    pub(crate) fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}

#[cfg(feature = "testing")]
pub mod testing;
