//! Departments: a tree (city → county → township) of government bodies, soft-deleted, with
//! who/when on every row.

use crate::sql::{Sql, paged};
use crate::{Page, Paged, Store, WriteTx, now};
use shuju_types::Result;

#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct Department {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub short_code: Option<String>,
    pub division_code: String,
    pub uscc: Option<String>,
    pub leader: Option<String>,
    pub contact: Option<String>,
    pub status: String,
    pub sort_order: i64,
    pub created_by: String,
    pub created_at: String,
    pub updated_by: String,
    pub updated_at: String,
}

/// The fields a caller sets; already validated by the admin crate.
#[derive(Clone, Debug, Default)]
pub struct DepartmentFields {
    pub parent_id: Option<i64>,
    pub name: String,
    pub short_code: Option<String>,
    pub division_code: String,
    pub uscc: Option<String>,
    pub leader: Option<String>,
    pub contact: Option<String>,
    pub status: String,
    pub sort_order: i64,
}

const COLS: &str = "id, parent_id, name, short_code, division_code, uscc, leader, contact, status, sort_order, created_by, created_at, updated_by, updated_at";

pub async fn insert(tx: &mut WriteTx, f: &DepartmentFields, actor: &str) -> Result<i64> {
    let t = now();
    let mut q = Sql::new(
        "INSERT INTO departments (parent_id, name, short_code, division_code, uscc, leader, contact, status, sort_order, created_by, created_at, updated_by, updated_at) VALUES (",
    );
    q.bind(f.parent_id)
        .push(", ")
        .bind(&f.name)
        .push(", ")
        .bind(f.short_code.clone())
        .push(", ")
        .bind(&f.division_code)
        .push(", ")
        .bind(f.uscc.clone())
        .push(", ")
        .bind(f.leader.clone())
        .push(", ")
        .bind(f.contact.clone())
        .push(", ")
        .bind(&f.status)
        .push(", ")
        .bind(f.sort_order)
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

pub async fn update(tx: &mut WriteTx, id: i64, f: &DepartmentFields, actor: &str) -> Result<u64> {
    let mut q = Sql::new("UPDATE departments SET parent_id = ");
    q.bind(f.parent_id)
        .push(", name = ")
        .bind(&f.name)
        .push(", short_code = ")
        .bind(f.short_code.clone())
        .push(", division_code = ")
        .bind(&f.division_code)
        .push(", uscc = ")
        .bind(f.uscc.clone())
        .push(", leader = ")
        .bind(f.leader.clone())
        .push(", contact = ")
        .bind(f.contact.clone())
        .push(", status = ")
        .bind(&f.status)
        .push(", sort_order = ")
        .bind(f.sort_order)
        .push(", updated_by = ")
        .bind(actor)
        .push(", updated_at = ")
        .bind(now())
        .push(" WHERE deleted_at IS NULL AND id = ")
        .bind(id);
    q.execute(tx.conn()).await
}

pub async fn soft_delete(tx: &mut WriteTx, id: i64, actor: &str) -> Result<u64> {
    crate::sql::soft_delete(tx, "departments", id, actor).await
}

pub async fn get(store: &Store, id: i64) -> Result<Option<Department>> {
    let mut q = Sql::new(&format!(
        "SELECT {COLS} FROM departments WHERE deleted_at IS NULL AND id = "
    ));
    q.bind(id);
    q.fetch_optional(store.pool()).await
}

/// Every live department, ordered for display as a tree (by sort order, then id).
pub async fn all(store: &Store) -> Result<Vec<Department>> {
    Sql::new(&format!(
        "SELECT {COLS} FROM departments WHERE deleted_at IS NULL ORDER BY sort_order, id"
    ))
    .fetch_all(store.pool())
    .await
}

/// Find a live department by its USCC.
pub async fn by_uscc(store: &Store, uscc: &str) -> Result<Option<Department>> {
    let mut q = Sql::new(&format!(
        "SELECT {COLS} FROM departments WHERE deleted_at IS NULL AND uscc = "
    ));
    q.bind(uscc);
    q.fetch_optional(store.pool()).await
}

#[derive(Clone, Debug, Default)]
pub struct DepartmentFilter {
    pub name: Option<String>,
    pub status: Option<String>,
    /// Restrict to these ids (data scope and subtree filters, resolved by the caller).
    pub ids: Option<Vec<i64>>,
}

pub async fn list(store: &Store, f: &DepartmentFilter, page: Page) -> Result<Paged<Department>> {
    let mut from = Sql::new(" FROM departments WHERE deleted_at IS NULL");
    if let Some(n) = f.name.as_deref().filter(|s| !s.is_empty()) {
        from.push(" AND name LIKE ").bind(format!("%{n}%"));
    }
    if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
        from.push(" AND status = ").bind(s);
    }
    if let Some(ids) = &f.ids {
        if ids.is_empty() {
            from.push(" AND 1 = 0");
        } else {
            from.push(" AND id IN ").bind_list(ids);
        }
    }
    paged(
        store.pool(),
        &format!("SELECT {COLS}"),
        &from,
        " ORDER BY sort_order, id",
        page,
    )
    .await
}

/// Live users and child departments that still hang on this department.
pub async fn dependants(store: &Store, id: i64) -> Result<(i64, i64)> {
    let mut c =
        Sql::new("SELECT COUNT(*) FROM departments WHERE deleted_at IS NULL AND parent_id = ");
    c.bind(id);
    let children = c.fetch_scalar_i64(store.pool()).await?;
    let mut u = Sql::new("SELECT COUNT(*) FROM users WHERE deleted_at IS NULL AND dept_id = ");
    u.bind(id);
    let users = u.fetch_scalar_i64(store.pool()).await?;
    Ok((children, users))
}
