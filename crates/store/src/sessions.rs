//! Browser sessions and API tokens. Only SM3 hashes of the secrets are stored.

use crate::sql::Sql;
use crate::{Store, WriteTx, now};
use shuju_types::Result;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Session {
    pub token_hash: String,
    pub user_id: i64,
    pub csrf_token: String,
    pub client: Option<String>,
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
}

pub async fn insert(tx: &mut WriteTx, s: &Session) -> Result<()> {
    let mut q = Sql::new(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, client, created_at, expires_at) VALUES (",
    );
    q.bind(&s.token_hash)
        .push(", ")
        .bind(s.user_id)
        .push(", ")
        .bind(&s.csrf_token)
        .push(", ")
        .bind(s.client.clone())
        .push(", ")
        .bind(&s.created_at)
        .push(", ")
        .bind(&s.expires_at)
        .push(")");
    q.execute(tx.conn()).await.map(|_| ())
}

/// A live (not revoked, not expired) session.
pub async fn get(store: &Store, token_hash: &str) -> Result<Option<Session>> {
    let mut q = Sql::new("SELECT * FROM sessions WHERE revoked_at IS NULL AND token_hash = ");
    q.bind(token_hash).push(" AND expires_at > ").bind(now());
    q.fetch_optional(store.pool()).await
}

pub async fn revoke(tx: &mut WriteTx, token_hash: &str) -> Result<u64> {
    let mut q = Sql::new("UPDATE sessions SET revoked_at = ");
    q.bind(now())
        .push(" WHERE revoked_at IS NULL AND token_hash = ")
        .bind(token_hash);
    q.execute(tx.conn()).await
}

/// Revoke every session of a user except `keep` (after a password change).
pub async fn revoke_user(tx: &mut WriteTx, user_id: i64, keep: Option<&str>) -> Result<u64> {
    let mut q = Sql::new("UPDATE sessions SET revoked_at = ");
    q.bind(now())
        .push(" WHERE revoked_at IS NULL AND user_id = ")
        .bind(user_id);
    if let Some(k) = keep {
        q.push(" AND token_hash <> ").bind(k);
    }
    q.execute(tx.conn()).await
}

#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    #[serde(skip)]
    pub token_hash: String,
    /// The first characters of the token, to recognise it in a list.
    pub prefix: String,
    pub user_id: i64,
    /// Space-separated permission patterns the token is limited to.
    pub scopes: String,
    pub created_by: String,
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

#[derive(Clone, Debug)]
pub struct NewApiToken {
    pub name: String,
    pub token_hash: String,
    pub prefix: String,
    pub user_id: i64,
    pub scopes: String,
    pub expires_at: String,
}

pub async fn insert_token(tx: &mut WriteTx, t: &NewApiToken, actor: &str) -> Result<i64> {
    let mut q = Sql::new(
        "INSERT INTO api_tokens (name, token_hash, prefix, user_id, scopes, created_by, created_at, expires_at) VALUES (",
    );
    q.bind(&t.name)
        .push(", ")
        .bind(&t.token_hash)
        .push(", ")
        .bind(&t.prefix)
        .push(", ")
        .bind(t.user_id)
        .push(", ")
        .bind(&t.scopes)
        .push(", ")
        .bind(actor)
        .push(", ")
        .bind(now())
        .push(", ")
        .bind(&t.expires_at)
        .push(") RETURNING id");
    q.fetch_scalar_i64(&mut *tx.conn()).await
}

/// A live token by its hash.
pub async fn token_by_hash(store: &Store, hash: &str) -> Result<Option<ApiToken>> {
    let mut q = Sql::new("SELECT * FROM api_tokens WHERE revoked_at IS NULL AND token_hash = ");
    q.bind(hash).push(" AND expires_at > ").bind(now());
    q.fetch_optional(store.pool()).await
}

pub async fn get_token(store: &Store, id: i64) -> Result<Option<ApiToken>> {
    crate::sql::by_id(store, "api_tokens", id).await
}

pub async fn list_tokens(store: &Store, user_id: Option<i64>) -> Result<Vec<ApiToken>> {
    let mut q = Sql::new("SELECT * FROM api_tokens");
    if let Some(u) = user_id {
        q.push(" WHERE user_id = ").bind(u);
    }
    q.push(" ORDER BY id DESC");
    q.fetch_all(store.pool()).await
}

pub async fn revoke_token(tx: &mut WriteTx, id: i64) -> Result<u64> {
    let mut q = Sql::new("UPDATE api_tokens SET revoked_at = ");
    q.bind(now())
        .push(" WHERE revoked_at IS NULL AND id = ")
        .bind(id);
    q.execute(tx.conn()).await
}

/// Note when a token was last used (best effort; not a state change worth auditing).
pub async fn touch_token(store: &Store, id: i64) -> Result<()> {
    let mut q = Sql::new("UPDATE api_tokens SET last_used_at = ");
    q.bind(now()).push(" WHERE id = ").bind(id);
    let mut conn = store.pool().acquire().await.map_err(crate::db_err)?;
    q.execute(&mut conn).await.map(|_| ())
}
