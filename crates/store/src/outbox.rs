//! The outbox: events written in the transaction of the change that caused them (a delivery
//! committed to the lake), read in order by subscribers that each keep a durable cursor. A
//! subscriber reads an event at least once; it acts idempotently.

use crate::sql::Sql;
use crate::{Store, WriteTx, now};
use shuju_types::Result;

/// A delivery landed: the table, its job and the version it committed.
pub const LAKE_LOADED: &str = "lake.loaded";

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Event {
    pub id: i64,
    pub topic: String,
    /// JSON.
    pub payload: String,
    pub created_at: String,
}

/// Record an event, inside the change's transaction.
pub async fn append(tx: &mut WriteTx, topic: &str, payload: &str) -> Result<i64> {
    let mut q = Sql::new("INSERT INTO outbox (topic, payload, created_at) VALUES (");
    q.bind(topic)
        .push(", ")
        .bind(payload)
        .push(", ")
        .bind(now())
        .push(") RETURNING id");
    q.fetch_scalar_i64(&mut *tx.conn()).await
}

/// Events after `id`, oldest first.
pub async fn after(store: &Store, id: i64, limit: i64) -> Result<Vec<Event>> {
    let mut q = Sql::new("SELECT * FROM outbox WHERE id > ");
    q.bind(id).push(" ORDER BY id LIMIT ").bind(limit);
    q.fetch_all(store.pool()).await
}

/// The newest event's id (0 when there is none).
pub async fn newest(store: &Store) -> Result<i64> {
    Sql::new("SELECT COALESCE(MAX(id), 0) FROM outbox")
        .fetch_scalar_i64(store.pool())
        .await
}

/// How far `subscriber` has read; `None` for a subscriber never seen.
pub async fn cursor(store: &Store, subscriber: &str) -> Result<Option<i64>> {
    #[derive(sqlx::FromRow)]
    struct Cursor {
        last_id: i64,
    }
    let mut q = Sql::new("SELECT last_id FROM outbox_cursors WHERE subscriber = ");
    q.bind(subscriber);
    let c: Option<Cursor> = q.fetch_optional(store.pool()).await?;
    Ok(c.map(|c| c.last_id))
}

/// Record that `subscriber` has read up to `id`.
pub async fn set_cursor(tx: &mut WriteTx, subscriber: &str, id: i64) -> Result<()> {
    let mut q = Sql::new("INSERT INTO outbox_cursors (subscriber, last_id, updated_at) VALUES (");
    q.bind(subscriber)
        .push(", ")
        .bind(id)
        .push(", ")
        .bind(now())
        .push(") ON CONFLICT (subscriber) DO UPDATE SET last_id = ")
        .bind(id)
        .push(", updated_at = ")
        .bind(now());
    q.execute(tx.conn()).await.map(|_| ())
}
