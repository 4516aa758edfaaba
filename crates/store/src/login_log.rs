//! The login log: every attempt, successful or not.

use crate::sql::{Sql, paged};
use crate::{Page, Paged, Store, WriteTx, now};
use shuju_types::Result;

#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct LoginRecord {
    pub id: i64,
    pub username: String,
    pub user_id: Option<i64>,
    pub client: Option<String>,
    /// success | failure | locked
    pub outcome: String,
    pub reason: Option<String>,
    pub at: String,
}

pub async fn insert(
    tx: &mut WriteTx,
    username: &str,
    user_id: Option<i64>,
    client: Option<&str>,
    outcome: &str,
    reason: Option<&str>,
) -> Result<()> {
    let mut q =
        Sql::new("INSERT INTO login_log (username, user_id, client, outcome, reason, at) VALUES (");
    q.bind(username)
        .push(", ")
        .bind(user_id)
        .push(", ")
        .bind(client)
        .push(", ")
        .bind(outcome)
        .push(", ")
        .bind(reason)
        .push(", ")
        .bind(now())
        .push(")");
    q.execute(tx.conn()).await.map(|_| ())
}

#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct LoginFilter {
    pub username: Option<String>,
    pub outcome: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

pub async fn list(store: &Store, f: &LoginFilter, page: Page) -> Result<Paged<LoginRecord>> {
    let mut from = Sql::new(" FROM login_log WHERE 1 = 1");
    if let Some(u) = f.username.as_deref().filter(|s| !s.is_empty()) {
        from.push(" AND username = ").bind(u);
    }
    if let Some(o) = f.outcome.as_deref().filter(|s| !s.is_empty()) {
        from.push(" AND outcome = ").bind(o);
    }
    if let Some(a) = f.from.as_deref().filter(|s| !s.is_empty()) {
        from.push(" AND at >= ").bind(a);
    }
    if let Some(a) = f.to.as_deref().filter(|s| !s.is_empty()) {
        from.push(" AND at < ").bind(a);
    }
    paged(store.pool(), "SELECT *", &from, " ORDER BY id DESC", page).await
}

/// Successful sign-ins since a time (RFC 3339 or a date).
pub async fn count_success_since(store: &Store, since: &str) -> Result<i64> {
    let mut q = Sql::new("SELECT COUNT(*) FROM login_log WHERE outcome = 'success' AND at >= ");
    q.bind(since);
    q.fetch_scalar_i64(store.pool()).await
}
