//! The data-service gateway's tables: grant terms, calls, the day's usage per grant, and the
//! subjects (citizen IDs, credit codes) each call touched.

use crate::sql::Sql;
use crate::{Store, WriteTx, now};
use shuju_types::Result;

/// A grant's terms of use.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Terms {
    pub unmasked_items: Vec<String>,
    pub calls_per_day: i64,
    pub rows_per_day: i64,
    pub calls_per_second: i64,
}

pub async fn set_terms(tx: &mut WriteTx, grant_id: i64, t: &Terms) -> Result<u64> {
    let mut q = Sql::new("UPDATE share_grants SET unmasked_items = ");
    q.bind(serde_json::to_string(&t.unmasked_items).unwrap_or_else(|_| "[]".into()))
        .push(", calls_per_day = ")
        .bind(t.calls_per_day)
        .push(", rows_per_day = ")
        .bind(t.rows_per_day)
        .push(", calls_per_second = ")
        .bind(t.calls_per_second)
        .push(" WHERE id = ")
        .bind(grant_id);
    q.execute(tx.conn()).await
}

#[derive(Clone, Debug, Default, serde::Serialize, sqlx::FromRow)]
pub struct UsageRow {
    pub calls: i64,
    pub rows_out: i64,
}

/// A grant's usage on `day` (YYYY-MM-DD).
pub async fn usage(store: &Store, grant_id: i64, day: &str) -> Result<UsageRow> {
    let mut q = Sql::new("SELECT calls, rows_out FROM gateway_usage WHERE grant_id = ");
    q.bind(grant_id).push(" AND day = ").bind(day);
    Ok(q.fetch_optional(store.pool()).await?.unwrap_or_default())
}

/// One call through the gateway.
#[derive(Clone, Debug)]
pub struct NewCall<'a> {
    pub grant_id: i64,
    pub entry_id: i64,
    pub consumer_dept_id: i64,
    pub consumer_system: &'a str,
    pub purpose: &'a str,
    pub actor: &'a str,
    pub status: i64,
    pub rows_out: i64,
    pub ms: i64,
    pub day: &'a str,
}

/// Record a call and the subjects it touched; an answered call (200) counts against the day's
/// usage. Returns the call's ID.
pub async fn record_call(tx: &mut WriteTx, c: &NewCall<'_>, subjects: &[String]) -> Result<i64> {
    let mut q = Sql::new(
        "INSERT INTO gateway_calls (grant_id, entry_id, consumer_dept_id, consumer_system, purpose, actor, status, rows_out, ms, called_at) VALUES (",
    );
    q.bind(c.grant_id)
        .push(", ")
        .bind(c.entry_id)
        .push(", ")
        .bind(c.consumer_dept_id)
        .push(", ")
        .bind(c.consumer_system)
        .push(", ")
        .bind(c.purpose)
        .push(", ")
        .bind(c.actor)
        .push(", ")
        .bind(c.status)
        .push(", ")
        .bind(c.rows_out)
        .push(", ")
        .bind(c.ms)
        .push(", ")
        .bind(now())
        .push(") RETURNING id");
    let id = q.fetch_scalar_i64(&mut *tx.conn()).await?;
    if c.status == 200 {
        let mut q = Sql::new("INSERT INTO gateway_usage (grant_id, day, calls, rows_out) VALUES (");
        q.bind(c.grant_id)
            .push(", ")
            .bind(c.day)
            .push(", 1, ")
            .bind(c.rows_out)
            .push(") ON CONFLICT (grant_id, day) DO UPDATE SET calls = gateway_usage.calls + 1, rows_out = gateway_usage.rows_out + ")
            .bind(c.rows_out);
        q.execute(tx.conn()).await?;
    }
    for chunk in subjects.chunks(400) {
        let mut q = Sql::new("INSERT INTO gateway_subjects (call_id, subject) VALUES ");
        for (i, s) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push("(").bind(id).push(", ").bind(s.as_str()).push(")");
        }
        q.execute(tx.conn()).await?;
    }
    Ok(id)
}

/// One use of a subject's data: which department's system read which entry's items, when and why.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct DataUseRow {
    pub call_id: i64,
    pub called_at: String,
    pub consumer_dept: String,
    pub consumer_system: String,
    pub purpose: String,
    pub entry_name: String,
    pub items: String,
}

/// Every answered gateway call that touched `subject`, newest first.
pub async fn data_use(store: &Store, subject: &str, limit: i64) -> Result<Vec<DataUseRow>> {
    let mut q = Sql::new(
        "SELECT c.id AS call_id, c.called_at, d.name AS consumer_dept, c.consumer_system, c.purpose, \
         e.name AS entry_name, g.items FROM gateway_subjects s \
         JOIN gateway_calls c ON c.id = s.call_id \
         JOIN share_grants g ON g.id = c.grant_id \
         JOIN departments d ON d.id = c.consumer_dept_id \
         JOIN catalog_entries e ON e.id = c.entry_id \
         WHERE c.status = 200 AND s.subject = ",
    );
    q.bind(subject)
        .push(" ORDER BY c.id DESC LIMIT ")
        .bind(limit);
    q.fetch_all(store.pool()).await
}

/// Make a day's usage count as another day's (tests and tools: the quota resets by day).
pub async fn move_usage_day(tx: &mut WriteTx, grant_id: i64, from: &str, to: &str) -> Result<u64> {
    let mut q = Sql::new("UPDATE gateway_usage SET day = ");
    q.bind(to)
        .push(" WHERE grant_id = ")
        .bind(grant_id)
        .push(" AND day = ")
        .bind(from);
    q.execute(tx.conn()).await
}
