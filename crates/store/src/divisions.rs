//! The versioned table of administrative divisions (GB/T 2260 plus local functional zones).
//!
//! Codes change over the years (counties become districts, zones are created), so a row is valid
//! from one edition until (not including) another; the current set is the rows with no `valid_to`.

use crate::sql::Sql;
use crate::{Store, WriteTx};
use shuju_types::Result;

#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct Division {
    pub code: String,
    pub name: String,
    /// province | prefecture | county | zone
    pub level: String,
    pub parent_code: Option<String>,
    /// gbt2260 | local
    pub kind: String,
    pub valid_from: String,
    pub valid_to: Option<String>,
}

/// Insert a division row unless the same code and edition is already there.
pub async fn insert_if_absent(tx: &mut WriteTx, d: &Division) -> Result<bool> {
    let mut q = Sql::new("SELECT COUNT(*) FROM divisions WHERE code = ");
    q.bind(&d.code)
        .push(" AND valid_from = ")
        .bind(&d.valid_from);
    if q.fetch_scalar_i64(&mut *tx.conn()).await? > 0 {
        return Ok(false);
    }
    let mut q = Sql::new(
        "INSERT INTO divisions (code, name, level, parent_code, kind, valid_from, valid_to) VALUES (",
    );
    q.bind(&d.code)
        .push(", ")
        .bind(&d.name)
        .push(", ")
        .bind(&d.level)
        .push(", ")
        .bind(d.parent_code.clone())
        .push(", ")
        .bind(&d.kind)
        .push(", ")
        .bind(&d.valid_from)
        .push(", ")
        .bind(d.valid_to.clone())
        .push(")");
    q.execute(tx.conn()).await?;
    Ok(true)
}

/// Mark a code as no longer valid from `edition` on.
pub async fn retire(tx: &mut WriteTx, code: &str, edition: &str) -> Result<u64> {
    let mut q = Sql::new("UPDATE divisions SET valid_to = ");
    q.bind(edition)
        .push(" WHERE code = ")
        .bind(code)
        .push(" AND valid_to IS NULL");
    q.execute(tx.conn()).await
}

/// Divisions valid now (or all editions when `history` is true), ordered by code.
pub async fn list(store: &Store, history: bool) -> Result<Vec<Division>> {
    let q = Sql::new(if history {
        "SELECT * FROM divisions ORDER BY code, valid_from"
    } else {
        "SELECT * FROM divisions WHERE valid_to IS NULL ORDER BY code"
    });
    q.fetch_all(store.pool()).await
}

/// The current row for a code.
pub async fn current(store: &Store, code: &str) -> Result<Option<Division>> {
    let mut q = Sql::new("SELECT * FROM divisions WHERE valid_to IS NULL AND code = ");
    q.bind(code);
    q.fetch_optional(store.pool()).await
}
