//! Rule sets for one-click checks: every saved version of each decision model.

use crate::sql::Sql;
use crate::{Store, WriteTx, now};
use shuju_types::Result;

#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct RuleSetRow {
    pub rule_key: String,
    pub version: i64,
    pub name: String,
    /// The JSON Decision Model.
    pub jdm: String,
    pub updated_by: String,
    pub updated_at: String,
}

/// The newest version of every rule set.
pub async fn list(store: &Store) -> Result<Vec<RuleSetRow>> {
    Sql::new(
        "SELECT r.* FROM rule_sets r WHERE r.version = (SELECT max(version) FROM rule_sets s WHERE s.rule_key = r.rule_key) ORDER BY r.rule_key",
    )
    .fetch_all(store.pool())
    .await
}

/// The newest version of one rule set.
pub async fn get(store: &Store, key: &str) -> Result<Option<RuleSetRow>> {
    let mut q = Sql::new("SELECT * FROM rule_sets WHERE rule_key = ");
    q.bind(key).push(" ORDER BY version DESC LIMIT 1");
    q.fetch_optional(store.pool()).await
}

/// Save a new version; returns its number.
pub async fn save(tx: &mut WriteTx, key: &str, name: &str, jdm: &str, actor: &str) -> Result<i64> {
    let version = crate::versioned::next_version(tx, "rule_sets", "rule_key", key).await?;
    let mut q = Sql::new(
        "INSERT INTO rule_sets (rule_key, version, name, jdm, updated_by, updated_at) VALUES (",
    );
    q.bind(key)
        .push(", ")
        .bind(version)
        .push(", ")
        .bind(name)
        .push(", ")
        .bind(jdm)
        .push(", ")
        .bind(actor)
        .push(", ")
        .bind(now());
    q.push(")");
    q.execute(tx.conn()).await?;
    Ok(version)
}

const FACTS: crate::versioned::Table = crate::versioned::Table {
    table: "fact_definitions",
    key: "fact_name",
};

/// Fact definitions: the newest version of each.
pub async fn facts(store: &Store) -> Result<Vec<crate::VersionedRow>> {
    FACTS.latest(store).await
}

/// Every version of a fact definition, newest first.
pub async fn fact_history(store: &Store, name: &str) -> Result<Vec<crate::VersionedRow>> {
    FACTS.history(store, name).await
}

/// Save a new version of a fact definition; returns its number.
pub async fn save_fact(tx: &mut WriteTx, name: &str, body: &str, actor: &str) -> Result<i64> {
    FACTS.save(tx, name, body, actor).await
}
