//! Documents kept in every saved version (data elements, fact definitions): a name, a version
//! counting from 1, a JSON body, who saved it and when.

use crate::sql::Sql;
use crate::{Store, WriteTx, now};
use shuju_types::Result;

/// One saved version of a document.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct VersionedRow {
    pub name: String,
    pub version: i64,
    /// JSON.
    pub body: String,
    pub updated_by: String,
    pub updated_at: String,
}

/// A table of versioned documents: its name and the column naming a document.
#[derive(Clone, Copy)]
pub(crate) struct Table {
    pub table: &'static str,
    pub key: &'static str,
}

/// The number the next saved version of `name` takes in `table` (named by column `key`).
pub(crate) async fn next_version(
    tx: &mut WriteTx,
    table: &str,
    key: &str,
    name: &str,
) -> Result<i64> {
    let mut q = Sql::new(&format!(
        "SELECT coalesce(max(version), 0) FROM {table} WHERE {key} = "
    ));
    q.bind(name);
    Ok(q.fetch_scalar_i64(&mut *tx.conn()).await? + 1)
}

impl Table {
    fn select(&self) -> String {
        format!(
            "SELECT {k} AS name, version, body, updated_by, updated_at FROM {t}",
            k = self.key,
            t = self.table
        )
    }

    /// The newest version of every document, by name.
    pub async fn latest(&self, store: &Store) -> Result<Vec<VersionedRow>> {
        Sql::new(&format!(
            "{} d WHERE d.version = (SELECT max(version) FROM {t} s WHERE s.{k} = d.{k}) ORDER BY d.{k}",
            self.select(),
            t = self.table,
            k = self.key
        ))
        .fetch_all(store.pool())
        .await
    }

    /// Every version of one document, newest first.
    pub async fn history(&self, store: &Store, name: &str) -> Result<Vec<VersionedRow>> {
        let mut q = Sql::new(&format!("{} WHERE {} = ", self.select(), self.key));
        q.bind(name).push(" ORDER BY version DESC");
        q.fetch_all(store.pool()).await
    }

    /// Save a new version; returns its number.
    pub async fn save(&self, tx: &mut WriteTx, name: &str, body: &str, actor: &str) -> Result<i64> {
        let version = next_version(tx, self.table, self.key, name).await?;
        let mut q = Sql::new(&format!(
            "INSERT INTO {} ({}, version, body, updated_by, updated_at) VALUES (",
            self.table, self.key
        ));
        q.bind(name)
            .push(", ")
            .bind(version)
            .push(", ")
            .bind(body)
            .push(", ")
            .bind(actor)
            .push(", ")
            .bind(now());
        q.push(")");
        q.execute(tx.conn()).await?;
        Ok(version)
    }
}
