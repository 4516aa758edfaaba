//! Accounts. The password hash never leaves the admin crate's checks: it is skipped when a user is
//! serialised.

use crate::sql::{Sql, paged};
use crate::{Page, Paged, Store, WriteTx, now};
use shuju_types::Result;

#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub dept_id: i64,
    pub phone: Option<String>,
    pub email: Option<String>,
    #[serde(skip)]
    pub password_hash: String,
    pub must_change_password: i64,
    pub password_changed_at: String,
    pub failed_attempts: i64,
    pub locked_until: Option<String>,
    pub status: String,
    pub created_by: String,
    pub created_at: String,
    pub updated_by: String,
    pub updated_at: String,
}

#[derive(Clone, Debug, Default)]
pub struct UserFields {
    pub username: String,
    pub display_name: String,
    pub dept_id: i64,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub status: String,
}

const COLS: &str = "id, username, display_name, dept_id, phone, email, password_hash, must_change_password, password_changed_at, failed_attempts, locked_until, status, created_by, created_at, updated_by, updated_at";

pub async fn insert(
    tx: &mut WriteTx,
    f: &UserFields,
    password_hash: &str,
    must_change: bool,
    actor: &str,
) -> Result<i64> {
    let t = now();
    let mut q = Sql::new(
        "INSERT INTO users (username, display_name, dept_id, phone, email, password_hash, must_change_password, password_changed_at, status, created_by, created_at, updated_by, updated_at) VALUES (",
    );
    q.bind(&f.username)
        .push(", ")
        .bind(&f.display_name)
        .push(", ")
        .bind(f.dept_id)
        .push(", ")
        .bind(f.phone.clone())
        .push(", ")
        .bind(f.email.clone())
        .push(", ")
        .bind(password_hash)
        .push(", ")
        .bind(i64::from(must_change))
        .push(", ")
        .bind(&t)
        .push(", ")
        .bind(&f.status)
        .push(", ")
        .bind(actor)
        .push(", ")
        .bind(&t)
        .push(", ")
        .bind(actor)
        .push(", ")
        .bind(&t)
        .push(") RETURNING id");
    q.fetch_scalar_i64(&mut *tx.conn()).await
}

/// Update the profile fields (not the username, not the password).
pub async fn update(tx: &mut WriteTx, id: i64, f: &UserFields, actor: &str) -> Result<u64> {
    let mut q = Sql::new("UPDATE users SET display_name = ");
    q.bind(&f.display_name)
        .push(", dept_id = ")
        .bind(f.dept_id)
        .push(", phone = ")
        .bind(f.phone.clone())
        .push(", email = ")
        .bind(f.email.clone())
        .push(", status = ")
        .bind(&f.status)
        .push(", updated_by = ")
        .bind(actor)
        .push(", updated_at = ")
        .bind(now())
        .push(" WHERE deleted_at IS NULL AND id = ")
        .bind(id);
    q.execute(tx.conn()).await
}

pub async fn set_password(
    tx: &mut WriteTx,
    id: i64,
    hash: &str,
    must_change: bool,
    actor: &str,
) -> Result<u64> {
    let t = now();
    let mut q = Sql::new("UPDATE users SET password_hash = ");
    q.bind(hash)
        .push(", must_change_password = ")
        .bind(i64::from(must_change))
        .push(", password_changed_at = ")
        .bind(&t)
        .push(", failed_attempts = 0, locked_until = NULL, updated_by = ")
        .bind(actor)
        .push(", updated_at = ")
        .bind(&t)
        .push(" WHERE deleted_at IS NULL AND id = ")
        .bind(id);
    q.execute(tx.conn()).await
}

/// Record the outcome of a login attempt on the account's counters.
pub async fn set_login_state(
    tx: &mut WriteTx,
    id: i64,
    failed_attempts: i64,
    locked_until: Option<&str>,
) -> Result<u64> {
    let mut q = Sql::new("UPDATE users SET failed_attempts = ");
    q.bind(failed_attempts)
        .push(", locked_until = ")
        .bind(locked_until)
        .push(" WHERE id = ")
        .bind(id);
    q.execute(tx.conn()).await
}

pub async fn soft_delete(tx: &mut WriteTx, id: i64, actor: &str) -> Result<u64> {
    crate::sql::soft_delete(tx, "users", id, actor).await
}

pub async fn get(store: &Store, id: i64) -> Result<Option<User>> {
    let mut q = Sql::new(&format!(
        "SELECT {COLS} FROM users WHERE deleted_at IS NULL AND id = "
    ));
    q.bind(id);
    q.fetch_optional(store.pool()).await
}

pub async fn by_username(store: &Store, username: &str) -> Result<Option<User>> {
    let mut q = Sql::new(&format!(
        "SELECT {COLS} FROM users WHERE deleted_at IS NULL AND username = "
    ));
    q.bind(username);
    q.fetch_optional(store.pool()).await
}

#[derive(Clone, Debug, Default)]
pub struct UserFilter {
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub status: Option<String>,
    /// Users of these departments only.
    pub dept_ids: Option<Vec<i64>>,
    /// With `dept_ids`, also this user (the "self" data scope).
    pub or_user_id: Option<i64>,
}

pub async fn list(store: &Store, f: &UserFilter, page: Page) -> Result<Paged<User>> {
    let mut from = Sql::new(" FROM users WHERE deleted_at IS NULL");
    if let Some(n) = f.username.as_deref().filter(|s| !s.is_empty()) {
        from.push(" AND username LIKE ").bind(format!("%{n}%"));
    }
    if let Some(n) = f.display_name.as_deref().filter(|s| !s.is_empty()) {
        from.push(" AND display_name LIKE ").bind(format!("%{n}%"));
    }
    if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
        from.push(" AND status = ").bind(s);
    }
    if let Some(ids) = &f.dept_ids {
        from.push(" AND (1 = 0");
        if !ids.is_empty() {
            from.push(" OR dept_id IN ").bind_list(ids);
        }
        if let Some(uid) = f.or_user_id {
            from.push(" OR id = ").bind(uid);
        }
        from.push(")");
    }
    paged(
        store.pool(),
        &format!("SELECT {COLS}"),
        &from,
        " ORDER BY id",
        page,
    )
    .await
}

pub async fn count(store: &Store) -> Result<i64> {
    Sql::new("SELECT COUNT(*) FROM users WHERE deleted_at IS NULL")
        .fetch_scalar_i64(store.pool())
        .await
}

/// The ids of the user's roles.
pub async fn role_ids(store: &Store, user_id: i64) -> Result<Vec<i64>> {
    #[derive(sqlx::FromRow)]
    struct RoleIdRow {
        role_id: i64,
    }
    let mut q = Sql::new("SELECT role_id FROM user_roles WHERE user_id = ");
    q.bind(user_id).push(" ORDER BY role_id");
    let rows: Vec<RoleIdRow> = q.fetch_all(store.pool()).await?;
    Ok(rows.into_iter().map(|r| r.role_id).collect())
}

pub async fn set_roles(tx: &mut WriteTx, user_id: i64, role_ids: &[i64]) -> Result<()> {
    let mut d = Sql::new("DELETE FROM user_roles WHERE user_id = ");
    d.bind(user_id);
    d.execute(tx.conn()).await?;
    for r in role_ids {
        let mut q = Sql::new("INSERT INTO user_roles (user_id, role_id) VALUES (");
        q.bind(user_id).push(", ").bind(*r).push(")");
        q.execute(tx.conn()).await?;
    }
    Ok(())
}
