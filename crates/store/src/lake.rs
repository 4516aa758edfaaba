//! The lake's metadata: tables (with their saved mapping), ingestion jobs and quality history.
//! The data itself lives in Delta tables; this is what the platform knows about them.

use crate::sql::Sql;
use crate::{Store, WriteTx, now};
use shuju_types::Result;

/// A lake table and the catalog entry whose data it holds.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct TableRow {
    pub resource_code: String,
    pub table_name: String,
    pub library: String,
    pub title: String,
    /// JSON of the lake's `TableSpec`.
    pub spec: String,
    pub updated_by: String,
    pub updated_at: String,
}

/// Insert or replace the table of a resource.
pub async fn put_table(tx: &mut WriteTx, t: &TableRow) -> Result<()> {
    let mut q = Sql::new("DELETE FROM lake_tables WHERE resource_code = ");
    q.bind(&t.resource_code);
    q.execute(tx.conn()).await?;
    let mut q = Sql::new(
        "INSERT INTO lake_tables (resource_code, table_name, library, title, spec, updated_by, updated_at) VALUES (",
    );
    q.bind(&t.resource_code)
        .push(", ")
        .bind(&t.table_name)
        .push(", ")
        .bind(&t.library)
        .push(", ")
        .bind(&t.title)
        .push(", ")
        .bind(&t.spec)
        .push(", ")
        .bind(&t.updated_by)
        .push(", ")
        .bind(now())
        .push(")");
    q.execute(tx.conn()).await?;
    Ok(())
}

pub async fn get_table(store: &Store, resource_code: &str) -> Result<Option<TableRow>> {
    let mut q = Sql::new("SELECT * FROM lake_tables WHERE resource_code = ");
    q.bind(resource_code);
    q.fetch_optional(store.pool()).await
}

pub async fn get_table_by_name(store: &Store, name: &str) -> Result<Option<TableRow>> {
    let mut q = Sql::new("SELECT * FROM lake_tables WHERE table_name = ");
    q.bind(name);
    q.fetch_optional(store.pool()).await
}

pub async fn list_tables(store: &Store) -> Result<Vec<TableRow>> {
    Sql::new("SELECT * FROM lake_tables ORDER BY library, table_name")
        .fetch_all(store.pool())
        .await
}

/// One ingestion job: a delivery loaded (or being loaded) into a table.
#[derive(Clone, Debug, Default, serde::Serialize, sqlx::FromRow)]
pub struct JobRow {
    pub id: i64,
    pub table_name: String,
    pub resource_code: String,
    pub file_name: String,
    pub file_sha256: String,
    pub status: String,
    pub rows_read: i64,
    pub inserted: i64,
    pub updated: i64,
    pub rejected: i64,
    pub duplicates: i64,
    /// Rows kept with a value flagged.
    pub flagged: i64,
    pub version: Option<i64>,
    pub error: Option<String>,
    pub actor: String,
    pub started_at: String,
    pub finished_at: Option<String>,
}

pub async fn start_job(
    tx: &mut WriteTx,
    table_name: &str,
    resource_code: &str,
    file_name: &str,
    file_sha256: &str,
    actor: &str,
) -> Result<i64> {
    let mut q = Sql::new(
        "INSERT INTO lake_jobs (table_name, resource_code, file_name, file_sha256, status, actor, started_at) VALUES (",
    );
    q.bind(table_name)
        .push(", ")
        .bind(resource_code)
        .push(", ")
        .bind(file_name)
        .push(", ")
        .bind(file_sha256)
        .push(", 'running', ")
        .bind(actor)
        .push(", ")
        .bind(now())
        .push(") RETURNING id");
    q.fetch_scalar_i64(&mut *tx.conn()).await
}

/// Counts of a finished (or failed) job.
#[derive(Clone, Debug, Default)]
pub struct JobEnd {
    pub status: &'static str,
    pub rows_read: i64,
    pub inserted: i64,
    pub updated: i64,
    pub rejected: i64,
    pub duplicates: i64,
    pub flagged: i64,
    pub version: Option<i64>,
    pub error: Option<String>,
    /// The delivery's SHA-256, when it was computed while the job ran.
    pub file_sha256: Option<String>,
}

pub async fn finish_job(tx: &mut WriteTx, id: i64, e: &JobEnd) -> Result<u64> {
    let mut q = Sql::new("UPDATE lake_jobs SET status = ");
    q.bind(e.status)
        .push(", rows_read = ")
        .bind(e.rows_read)
        .push(", inserted = ")
        .bind(e.inserted)
        .push(", updated = ")
        .bind(e.updated)
        .push(", rejected = ")
        .bind(e.rejected)
        .push(", duplicates = ")
        .bind(e.duplicates)
        .push(", flagged = ")
        .bind(e.flagged)
        .push(", version = ")
        .bind(e.version)
        .push(", error = ")
        .bind(e.error.clone());
    if let Some(sha) = &e.file_sha256 {
        q.push(", file_sha256 = ").bind(sha.clone());
    }
    q.push(", finished_at = ")
        .bind(now())
        .push(" WHERE id = ")
        .bind(id);
    q.execute(tx.conn()).await
}

/// Jobs left `running` by a process that died are marked `interrupted` (their load never committed
/// or committed without the job being told; re-running the delivery completes it).
pub async fn interrupt_running(tx: &mut WriteTx) -> Result<u64> {
    let mut q = Sql::new(
        "UPDATE lake_jobs SET status = 'interrupted', error = 'the process stopped before the job finished', finished_at = ",
    );
    q.bind(now()).push(" WHERE status = 'running'");
    q.execute(tx.conn()).await
}

pub async fn get_job(store: &Store, id: i64) -> Result<Option<JobRow>> {
    crate::sql::by_id(store, "lake_jobs", id).await
}

/// Newest jobs first, optionally of one table.
pub async fn list_jobs(store: &Store, table: Option<&str>, limit: i64) -> Result<Vec<JobRow>> {
    list_jobs_of(store, table.map(|t| vec![t.to_owned()]).as_deref(), limit).await
}

/// Newest jobs first of these tables (`None`: of every table).
pub async fn list_jobs_of(
    store: &Store,
    tables: Option<&[String]>,
    limit: i64,
) -> Result<Vec<JobRow>> {
    let mut q = Sql::new("SELECT * FROM lake_jobs WHERE 1 = 1");
    if let Some(ts) = tables {
        if ts.is_empty() {
            return Ok(vec![]);
        }
        q.push(" AND table_name IN ").bind_list(ts);
    }
    q.push(" ORDER BY id DESC LIMIT ").bind(limit);
    q.fetch_all(store.pool()).await
}

/// One quality measurement of a table column at a table version.
#[derive(Clone, Debug, Default, serde::Serialize, sqlx::FromRow)]
pub struct QualityRow {
    pub table_name: String,
    pub version: i64,
    pub job_id: Option<i64>,
    pub measured_at: String,
    pub column_name: String,
    pub row_count: i64,
    pub completeness_bp: i64,
    pub validity_bp: i64,
    pub uniqueness_bp: i64,
    /// Values of this column kept though they failed its check (`*`: rows with any).
    pub flagged: i64,
}

pub async fn add_quality(tx: &mut WriteTx, rows: &[QualityRow]) -> Result<()> {
    for r in rows {
        let mut q = Sql::new(
            "INSERT INTO lake_quality (table_name, version, job_id, measured_at, column_name, row_count, completeness_bp, validity_bp, uniqueness_bp, flagged) VALUES (",
        );
        q.bind(&r.table_name)
            .push(", ")
            .bind(r.version)
            .push(", ")
            .bind(r.job_id)
            .push(", ")
            .bind(now())
            .push(", ")
            .bind(&r.column_name)
            .push(", ")
            .bind(r.row_count)
            .push(", ")
            .bind(r.completeness_bp)
            .push(", ")
            .bind(r.validity_bp)
            .push(", ")
            .bind(r.uniqueness_bp)
            .push(", ")
            .bind(r.flagged)
            .push(")");
        q.execute(tx.conn()).await?;
    }
    Ok(())
}

/// Quality history of a table, newest version first.
pub async fn quality(store: &Store, table: &str, limit: i64) -> Result<Vec<QualityRow>> {
    let mut q = Sql::new(
        "SELECT table_name, version, job_id, measured_at, column_name, row_count, completeness_bp, validity_bp, uniqueness_bp, flagged FROM lake_quality WHERE table_name = ",
    );
    q.bind(table)
        .push(" ORDER BY version DESC, id ASC LIMIT ")
        .bind(limit);
    q.fetch_all(store.pool()).await
}
