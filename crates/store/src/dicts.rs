//! Dictionaries: a type (e.g. `dept_status`) and its items (label, value, order, colour) that drive
//! the drop-downs of every form.

use crate::sql::{Sql, paged};
use crate::{Page, Paged, Store, WriteTx, now};
use shuju_types::Result;

#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct DictType {
    pub id: i64,
    pub type_key: String,
    pub name: String,
    pub status: String,
    pub remark: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_by: String,
    pub updated_at: String,
}

#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct DictItem {
    pub id: i64,
    pub type_id: i64,
    pub label: String,
    pub value: String,
    pub sort_order: i64,
    pub color: Option<String>,
    pub status: String,
    pub created_by: String,
    pub created_at: String,
    pub updated_by: String,
    pub updated_at: String,
}

#[derive(Clone, Debug, Default)]
pub struct DictTypeFields {
    pub type_key: String,
    pub name: String,
    pub status: String,
    pub remark: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct DictItemFields {
    pub label: String,
    pub value: String,
    pub sort_order: i64,
    pub color: Option<String>,
    pub status: String,
}

const TYPE_COLS: &str =
    "id, type_key, name, status, remark, created_by, created_at, updated_by, updated_at";
const ITEM_COLS: &str = "id, type_id, label, value, sort_order, color, status, created_by, created_at, updated_by, updated_at";

pub async fn insert_type(tx: &mut WriteTx, f: &DictTypeFields, actor: &str) -> Result<i64> {
    let t = now();
    let mut q = Sql::new(
        "INSERT INTO dict_types (type_key, name, status, remark, created_by, created_at, updated_by, updated_at) VALUES (",
    );
    q.bind(&f.type_key)
        .push(", ")
        .bind(&f.name)
        .push(", ")
        .bind(&f.status)
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
    q.fetch_scalar_i64(&mut *tx.conn()).await
}

pub async fn update_type(
    tx: &mut WriteTx,
    id: i64,
    f: &DictTypeFields,
    actor: &str,
) -> Result<u64> {
    let mut q = Sql::new("UPDATE dict_types SET name = ");
    q.bind(&f.name)
        .push(", status = ")
        .bind(&f.status)
        .push(", remark = ")
        .bind(f.remark.clone())
        .push(", updated_by = ")
        .bind(actor)
        .push(", updated_at = ")
        .bind(now())
        .push(" WHERE deleted_at IS NULL AND id = ")
        .bind(id);
    q.execute(tx.conn()).await
}

pub async fn delete_type(tx: &mut WriteTx, id: i64, actor: &str) -> Result<u64> {
    let t = now();
    let mut q = Sql::new("UPDATE dict_items SET deleted_at = ");
    q.bind(&t)
        .push(", deleted_by = ")
        .bind(actor)
        .push(" WHERE deleted_at IS NULL AND type_id = ")
        .bind(id);
    q.execute(tx.conn()).await?;
    let mut q = Sql::new("UPDATE dict_types SET deleted_at = ");
    q.bind(&t)
        .push(", deleted_by = ")
        .bind(actor)
        .push(" WHERE deleted_at IS NULL AND id = ")
        .bind(id);
    q.execute(tx.conn()).await
}

pub async fn get_type(store: &Store, id: i64) -> Result<Option<DictType>> {
    let mut q = Sql::new(&format!(
        "SELECT {TYPE_COLS} FROM dict_types WHERE deleted_at IS NULL AND id = "
    ));
    q.bind(id);
    q.fetch_optional(store.pool()).await
}

pub async fn type_by_key(store: &Store, key: &str) -> Result<Option<DictType>> {
    let mut q = Sql::new(&format!(
        "SELECT {TYPE_COLS} FROM dict_types WHERE deleted_at IS NULL AND type_key = "
    ));
    q.bind(key);
    q.fetch_optional(store.pool()).await
}

pub async fn list_types(store: &Store, name: Option<&str>, page: Page) -> Result<Paged<DictType>> {
    let mut from = Sql::new(" FROM dict_types WHERE deleted_at IS NULL");
    if let Some(n) = name.filter(|s| !s.is_empty()) {
        from.push(" AND (name LIKE ")
            .bind(format!("%{n}%"))
            .push(" OR type_key LIKE ")
            .bind(format!("%{n}%"))
            .push(")");
    }
    paged(
        store.pool(),
        &format!("SELECT {TYPE_COLS}"),
        &from,
        " ORDER BY id",
        page,
    )
    .await
}

pub async fn insert_item(
    tx: &mut WriteTx,
    type_id: i64,
    f: &DictItemFields,
    actor: &str,
) -> Result<i64> {
    let t = now();
    let mut q = Sql::new(
        "INSERT INTO dict_items (type_id, label, value, sort_order, color, status, created_by, created_at, updated_by, updated_at) VALUES (",
    );
    q.bind(type_id)
        .push(", ")
        .bind(&f.label)
        .push(", ")
        .bind(&f.value)
        .push(", ")
        .bind(f.sort_order)
        .push(", ")
        .bind(f.color.clone())
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

pub async fn update_item(
    tx: &mut WriteTx,
    id: i64,
    f: &DictItemFields,
    actor: &str,
) -> Result<u64> {
    let mut q = Sql::new("UPDATE dict_items SET label = ");
    q.bind(&f.label)
        .push(", value = ")
        .bind(&f.value)
        .push(", sort_order = ")
        .bind(f.sort_order)
        .push(", color = ")
        .bind(f.color.clone())
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

pub async fn delete_item(tx: &mut WriteTx, id: i64, actor: &str) -> Result<u64> {
    crate::sql::soft_delete(tx, "dict_items", id, actor).await
}

pub async fn get_item(store: &Store, id: i64) -> Result<Option<DictItem>> {
    let mut q = Sql::new(&format!(
        "SELECT {ITEM_COLS} FROM dict_items WHERE deleted_at IS NULL AND id = "
    ));
    q.bind(id);
    q.fetch_optional(store.pool()).await
}

/// The live items of a type in display order.
pub async fn items(store: &Store, type_id: i64) -> Result<Vec<DictItem>> {
    let mut q = Sql::new(&format!(
        "SELECT {ITEM_COLS} FROM dict_items WHERE deleted_at IS NULL AND type_id = "
    ));
    q.bind(type_id).push(" ORDER BY sort_order, id");
    q.fetch_all(store.pool()).await
}
