//! Roles: permission strings and a data scope; users hold several roles, combined with OR.

use crate::sql::{Sql, paged};
use crate::{Page, Paged, Store, WriteTx, now};
use shuju_types::Result;

#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct Role {
    pub id: i64,
    pub role_key: String,
    pub name: String,
    /// all | custom | dept | dept_and_below | self
    pub data_scope: String,
    pub status: String,
    pub sort_order: i64,
    pub remark: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_by: String,
    pub updated_at: String,
}

#[derive(Clone, Debug, Default)]
pub struct RoleFields {
    pub role_key: String,
    pub name: String,
    pub data_scope: String,
    pub status: String,
    pub sort_order: i64,
    pub remark: Option<String>,
    pub permissions: Vec<String>,
    /// The chosen departments of a `custom` data scope.
    pub dept_ids: Vec<i64>,
}

const COLS: &str = "id, role_key, name, data_scope, status, sort_order, remark, created_by, created_at, updated_by, updated_at";

async fn set_links(tx: &mut WriteTx, id: i64, f: &RoleFields) -> Result<()> {
    let mut d = Sql::new("DELETE FROM role_permissions WHERE role_id = ");
    d.bind(id);
    d.execute(tx.conn()).await?;
    let mut d = Sql::new("DELETE FROM role_departments WHERE role_id = ");
    d.bind(id);
    d.execute(tx.conn()).await?;
    let mut perms = f.permissions.clone();
    perms.sort();
    perms.dedup();
    for p in &perms {
        let mut q = Sql::new("INSERT INTO role_permissions (role_id, permission) VALUES (");
        q.bind(id).push(", ").bind(p).push(")");
        q.execute(tx.conn()).await?;
    }
    let mut depts = f.dept_ids.clone();
    depts.sort_unstable();
    depts.dedup();
    for dept in depts {
        let mut q = Sql::new("INSERT INTO role_departments (role_id, dept_id) VALUES (");
        q.bind(id).push(", ").bind(dept).push(")");
        q.execute(tx.conn()).await?;
    }
    Ok(())
}

pub async fn insert(tx: &mut WriteTx, f: &RoleFields, actor: &str) -> Result<i64> {
    let t = now();
    let mut q = Sql::new(
        "INSERT INTO roles (role_key, name, data_scope, status, sort_order, remark, created_by, created_at, updated_by, updated_at) VALUES (",
    );
    q.bind(&f.role_key)
        .push(", ")
        .bind(&f.name)
        .push(", ")
        .bind(&f.data_scope)
        .push(", ")
        .bind(&f.status)
        .push(", ")
        .bind(f.sort_order)
        .push(", ")
        .bind(f.remark.clone())
        .push(", ")
        .bind(actor)
        .push(", ")
        .bind(&t)
        .push(", ")
        .bind(actor)
        .push(", ")
        .bind(&t)
        .push(") RETURNING id");
    let id = q.fetch_scalar_i64(&mut *tx.conn()).await?;
    set_links(tx, id, f).await?;
    Ok(id)
}

pub async fn update(tx: &mut WriteTx, id: i64, f: &RoleFields, actor: &str) -> Result<u64> {
    let mut q = Sql::new("UPDATE roles SET name = ");
    q.bind(&f.name)
        .push(", data_scope = ")
        .bind(&f.data_scope)
        .push(", status = ")
        .bind(&f.status)
        .push(", sort_order = ")
        .bind(f.sort_order)
        .push(", remark = ")
        .bind(f.remark.clone())
        .push(", updated_by = ")
        .bind(actor)
        .push(", updated_at = ")
        .bind(now())
        .push(" WHERE deleted_at IS NULL AND id = ")
        .bind(id);
    let n = q.execute(tx.conn()).await?;
    if n > 0 {
        set_links(tx, id, f).await?;
    }
    Ok(n)
}

pub async fn soft_delete(tx: &mut WriteTx, id: i64, actor: &str) -> Result<u64> {
    let n = crate::sql::soft_delete(tx, "roles", id, actor).await?;
    let mut d = Sql::new("DELETE FROM user_roles WHERE role_id = ");
    d.bind(id);
    d.execute(tx.conn()).await?;
    Ok(n)
}

pub async fn get(store: &Store, id: i64) -> Result<Option<Role>> {
    let mut q = Sql::new(&format!(
        "SELECT {COLS} FROM roles WHERE deleted_at IS NULL AND id = "
    ));
    q.bind(id);
    q.fetch_optional(store.pool()).await
}

pub async fn by_key(store: &Store, key: &str) -> Result<Option<Role>> {
    let mut q = Sql::new(&format!(
        "SELECT {COLS} FROM roles WHERE deleted_at IS NULL AND role_key = "
    ));
    q.bind(key);
    q.fetch_optional(store.pool()).await
}

pub async fn list(store: &Store, name: Option<&str>, page: Page) -> Result<Paged<Role>> {
    let mut from = Sql::new(" FROM roles WHERE deleted_at IS NULL");
    if let Some(n) = name.filter(|s| !s.is_empty()) {
        from.push(" AND (name LIKE ")
            .bind(format!("%{n}%"))
            .push(" OR role_key LIKE ")
            .bind(format!("%{n}%"))
            .push(")");
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

pub async fn permissions(store: &Store, role_id: i64) -> Result<Vec<String>> {
    #[derive(sqlx::FromRow)]
    struct P {
        permission: String,
    }
    let mut q = Sql::new("SELECT permission FROM role_permissions WHERE role_id = ");
    q.bind(role_id).push(" ORDER BY permission");
    let rows: Vec<P> = q.fetch_all(store.pool()).await?;
    Ok(rows.into_iter().map(|p| p.permission).collect())
}

pub async fn departments(store: &Store, role_id: i64) -> Result<Vec<i64>> {
    #[derive(sqlx::FromRow)]
    struct D {
        dept_id: i64,
    }
    let mut q = Sql::new("SELECT dept_id FROM role_departments WHERE role_id = ");
    q.bind(role_id).push(" ORDER BY dept_id");
    let rows: Vec<D> = q.fetch_all(store.pool()).await?;
    Ok(rows.into_iter().map(|d| d.dept_id).collect())
}

/// The live, active roles of a user.
pub async fn of_user(store: &Store, user_id: i64) -> Result<Vec<Role>> {
    let mut q = Sql::new(&format!(
        "SELECT {} FROM roles r JOIN user_roles ur ON ur.role_id = r.id WHERE r.deleted_at IS NULL AND r.status = 'active' AND ur.user_id = ",
        COLS.split(", ")
            .map(|c| format!("r.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    q.bind(user_id).push(" ORDER BY r.sort_order, r.id");
    q.fetch_all(store.pool()).await
}
