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
pub struct NewCall {
    pub grant_id: i64,
    pub entry_id: i64,
    pub consumer_dept_id: i64,
    pub consumer_system: String,
    pub purpose: String,
    pub actor: String,
    pub status: i64,
    pub rows_out: i64,
    pub ms: i64,
    pub day: String,
    /// The citizen IDs and credit codes in the rows answered.
    pub subjects: Vec<String>,
}

/// Record calls and the subjects they touched, in few statements; answered calls (200) count
/// against their day's usage. Returns the calls' IDs, in order.
pub async fn record_calls(tx: &mut WriteTx, calls: &[NewCall]) -> Result<Vec<i64>> {
    let at = now();
    let mut ids: Vec<i64> = Vec::with_capacity(calls.len());
    for chunk in calls.chunks(200) {
        let mut q = Sql::new(
            "INSERT INTO gateway_calls (grant_id, entry_id, consumer_dept_id, consumer_system, purpose, actor, status, rows_out, ms, called_at) VALUES ",
        );
        for (i, c) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" })
                .bind(c.grant_id)
                .push(", ")
                .bind(c.entry_id)
                .push(", ")
                .bind(c.consumer_dept_id)
                .push(", ")
                .bind(c.consumer_system.as_str())
                .push(", ")
                .bind(c.purpose.as_str())
                .push(", ")
                .bind(c.actor.as_str())
                .push(", ")
                .bind(c.status)
                .push(", ")
                .bind(c.rows_out)
                .push(", ")
                .bind(c.ms)
                .push(", ")
                .bind(at.as_str())
                .push(")");
        }
        q.push(" RETURNING id");
        // IDs are handed out in the order of the rows (the writer holds the write lock); the
        // order RETURNING lists them in is not promised, so sort.
        let mut got: Vec<(i64,)> = q.fetch_all(&mut *tx.conn()).await?;
        got.sort_unstable();
        ids.extend(got.into_iter().map(|(id,)| id));
    }
    // The day's usage, one statement per grant and day.
    let mut usage: std::collections::BTreeMap<(i64, &str), (i64, i64)> = Default::default();
    for c in calls.iter().filter(|c| c.status == 200) {
        let u = usage.entry((c.grant_id, c.day.as_str())).or_default();
        u.0 += 1;
        u.1 += c.rows_out;
    }
    for ((grant, day), (n, rows)) in usage {
        let mut q = Sql::new("INSERT INTO gateway_usage (grant_id, day, calls, rows_out) VALUES (");
        q.bind(grant)
            .push(", ")
            .bind(day)
            .push(", ")
            .bind(n)
            .push(", ")
            .bind(rows)
            .push(") ON CONFLICT (grant_id, day) DO UPDATE SET calls = gateway_usage.calls + ")
            .bind(n)
            .push(", rows_out = gateway_usage.rows_out + ")
            .bind(rows);
        q.execute(tx.conn()).await?;
    }
    let links: Vec<(i64, &str)> = calls
        .iter()
        .zip(&ids)
        .flat_map(|(c, id)| c.subjects.iter().map(move |s| (*id, s.as_str())))
        .collect();
    for chunk in links.chunks(400) {
        let mut q = Sql::new("INSERT INTO gateway_subjects (call_id, subject) VALUES ");
        for (i, (id, s)) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" })
                .bind(*id)
                .push(", ")
                .bind(*s)
                .push(")");
        }
        q.execute(tx.conn()).await?;
    }
    Ok(ids)
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

/// Gateway use of one grant, entry or department over a window.
#[derive(Clone, Debug, Default, serde::Serialize, sqlx::FromRow)]
pub struct UseStat {
    pub id: i64,
    pub name: String,
    /// The other party: the consumer of a grant, the provider of an entry.
    pub party: String,
    pub calls: i64,
    pub rows_out: i64,
    /// Calls refused or failed (any status but 200).
    pub errors: i64,
    pub total_ms: i64,
    pub max_ms: i64,
    /// Departments calling (for an entry).
    pub consumers: i64,
}

/// What a window's statistics are grouped by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UseBy {
    Grant,
    Entry,
    ConsumerDept,
}

/// Gateway use since `since`, grouped, most calls first.
pub async fn use_stats(store: &Store, by: UseBy, since: &str) -> Result<Vec<UseStat>> {
    let (id, name, party, join) = match by {
        UseBy::Grant => (
            "c.grant_id",
            "MAX(e.name)",
            "MAX(d.name) || ' · ' || MAX(c.consumer_system)",
            "JOIN catalog_entries e ON e.id = c.entry_id JOIN departments d ON d.id = c.consumer_dept_id",
        ),
        UseBy::Entry => (
            "c.entry_id",
            "MAX(e.name)",
            "MAX(d.name)",
            "JOIN catalog_entries e ON e.id = c.entry_id JOIN departments d ON d.id = e.provider_dept_id",
        ),
        UseBy::ConsumerDept => (
            "c.consumer_dept_id",
            "MAX(d.name)",
            "''",
            "JOIN departments d ON d.id = c.consumer_dept_id",
        ),
    };
    let mut q = Sql::new(&format!(
        "SELECT {id} AS id, {name} AS name, {party} AS party, COUNT(*) AS calls, \
         CAST(COALESCE(SUM(c.rows_out), 0) AS BIGINT) AS rows_out, \
         CAST(COALESCE(SUM(CASE WHEN c.status = 200 THEN 0 ELSE 1 END), 0) AS BIGINT) AS errors, \
         CAST(COALESCE(SUM(c.ms), 0) AS BIGINT) AS total_ms, CAST(COALESCE(MAX(c.ms), 0) AS BIGINT) AS max_ms, \
         COUNT(DISTINCT c.consumer_dept_id) AS consumers \
         FROM gateway_calls c {join} WHERE c.called_at >= "
    ));
    q.bind(since)
        .push(&format!(" GROUP BY {id} ORDER BY calls DESC, {id}"));
    q.fetch_all(store.pool()).await
}

/// A provider department's sharing: its published entries, those shared at all, those granted
/// to another department, and those actually called through the gateway since `since`.
#[derive(Clone, Debug, Default, serde::Serialize, sqlx::FromRow)]
pub struct SharingRate {
    pub dept_id: i64,
    pub dept: String,
    pub catalogued: i64,
    pub shared: i64,
    pub granted: i64,
    pub exchanged: i64,
}

pub async fn sharing_rates(store: &Store, since: &str) -> Result<Vec<SharingRate>> {
    let mut q = Sql::new(
        "SELECT d.id AS dept_id, d.name AS dept, COUNT(*) AS catalogued, \
         CAST(COALESCE(SUM(CASE WHEN e.sharing <> 'not_shared' THEN 1 ELSE 0 END), 0) AS BIGINT) AS shared, \
         CAST(COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM share_grants g WHERE g.entry_id = e.id AND g.revoked_at IS NULL) THEN 1 ELSE 0 END), 0) AS BIGINT) AS granted, \
         CAST(COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM gateway_calls c WHERE c.entry_id = e.id AND c.status = 200 AND c.called_at >= ",
    );
    q.bind(since).push(
        ") THEN 1 ELSE 0 END), 0) AS BIGINT) AS exchanged \
         FROM catalog_entries e JOIN departments d ON d.id = e.provider_dept_id \
         WHERE e.deleted_at IS NULL AND e.published_version IS NOT NULL \
         GROUP BY d.id, d.name ORDER BY d.id",
    );
    q.fetch_all(store.pool()).await
}

/// A consumer's subscription to a grant's table.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct SubscriptionRow {
    pub id: i64,
    pub grant_id: i64,
    pub created_by: String,
    pub created_at: String,
    pub last_version: Option<i64>,
    pub delivered_at: Option<String>,
    pub active: i64,
}

pub async fn insert_subscription(tx: &mut WriteTx, grant_id: i64, by: &str) -> Result<i64> {
    let mut q =
        Sql::new("INSERT INTO gateway_subscriptions (grant_id, created_by, created_at) VALUES (");
    q.bind(grant_id)
        .push(", ")
        .bind(by)
        .push(", ")
        .bind(now())
        .push(") RETURNING id");
    q.fetch_scalar_i64(&mut *tx.conn()).await
}

pub async fn get_subscription(store: &Store, id: i64) -> Result<Option<SubscriptionRow>> {
    crate::sql::by_id(store, "gateway_subscriptions", id).await
}

/// Active subscriptions, of one grant or all.
pub async fn subscriptions(store: &Store, grant_id: Option<i64>) -> Result<Vec<SubscriptionRow>> {
    let mut q = Sql::new("SELECT * FROM gateway_subscriptions WHERE active = 1");
    if let Some(g) = grant_id {
        q.push(" AND grant_id = ").bind(g);
    }
    q.push(" ORDER BY id");
    q.fetch_all(store.pool()).await
}

/// One bulk delivery: the changes between two table versions, as a file.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub subscription_id: i64,
    pub from_version: Option<i64>,
    pub to_version: i64,
    pub file_name: String,
    pub rows_changed: i64,
    pub rows_removed: i64,
    pub sha256: String,
    pub delivered_at: String,
}

/// Record a delivery and move the subscription to its version, together.
pub async fn record_delivery(tx: &mut WriteTx, d: &DeliveryRow) -> Result<i64> {
    let at = now();
    let mut q = Sql::new(
        "INSERT INTO gateway_deliveries (subscription_id, from_version, to_version, file_name, rows_changed, rows_removed, sha256, delivered_at) VALUES (",
    );
    q.bind(d.subscription_id)
        .push(", ")
        .bind(d.from_version)
        .push(", ")
        .bind(d.to_version)
        .push(", ")
        .bind(d.file_name.as_str())
        .push(", ")
        .bind(d.rows_changed)
        .push(", ")
        .bind(d.rows_removed)
        .push(", ")
        .bind(d.sha256.as_str())
        .push(", ")
        .bind(at.as_str())
        .push(") RETURNING id");
    let id = q.fetch_scalar_i64(&mut *tx.conn()).await?;
    let mut u = Sql::new("UPDATE gateway_subscriptions SET last_version = ");
    u.bind(d.to_version)
        .push(", delivered_at = ")
        .bind(at.as_str())
        .push(" WHERE id = ")
        .bind(d.subscription_id);
    u.execute(tx.conn()).await?;
    Ok(id)
}

pub async fn deliveries(store: &Store, subscription_id: i64) -> Result<Vec<DeliveryRow>> {
    let mut q = Sql::new("SELECT * FROM gateway_deliveries WHERE subscription_id = ");
    q.bind(subscription_id).push(" ORDER BY id DESC");
    q.fetch_all(store.pool()).await
}
