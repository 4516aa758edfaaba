//! Entity resolution's state: each source record's entity, the review queue, officials'
//! decisions and the runs. A run replaces the links and the queue of its kind in one transaction,
//! so readers see the last run or the one before, never half of one.

use crate::sql::Sql;
use crate::{Store, WriteTx, now};
use shuju_types::Result;

#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct LinkRow {
    pub kind: String,
    pub source: String,
    pub record_key: String,
    pub entity_id: String,
    pub method: String,
    pub run_id: i64,
}

#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct ReviewRow {
    pub id: i64,
    pub kind: String,
    pub a_source: String,
    pub a_key: String,
    pub b_source: String,
    pub b_key: String,
    pub probability: String,
    /// JSON of the pair's explanation.
    pub explanation: String,
    pub run_id: i64,
}

#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct DecisionRow {
    pub id: i64,
    pub kind: String,
    pub decision: String,
    pub a_source: String,
    pub a_key: String,
    pub b_source: Option<String>,
    pub b_key: Option<String>,
    pub reason: String,
    pub actor: String,
    pub decided_at: String,
}

#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct RunRow {
    pub id: i64,
    pub kind: String,
    pub records: i64,
    pub entities: i64,
    pub stats: String,
    pub changes: String,
    pub versions: String,
    pub actor: String,
    pub finished_at: String,
}

/// What a run writes.
pub struct NewRun<'a> {
    pub kind: &'a str,
    pub records: i64,
    pub entities: i64,
    pub stats: String,
    pub changes: String,
    pub versions: String,
    pub actor: &'a str,
    /// (source, key, entity, method).
    pub links: Vec<(&'a str, &'a str, &'a str, &'a str)>,
    /// (a source, a key, b source, b key, probability, explanation JSON).
    pub reviews: Vec<(String, String, String, String, String, String)>,
}

const BATCH: usize = 400;

/// Record a run and replace the links and review queue of its kind.
pub async fn write_run(tx: &mut WriteTx, run: &NewRun<'_>) -> Result<i64> {
    let mut q = Sql::new(
        "INSERT INTO identity_runs (kind, records, entities, stats, changes, versions, actor, finished_at) VALUES (",
    );
    q.bind(run.kind)
        .push(", ")
        .bind(run.records)
        .push(", ")
        .bind(run.entities)
        .push(", ")
        .bind(&run.stats)
        .push(", ")
        .bind(&run.changes)
        .push(", ")
        .bind(&run.versions)
        .push(", ")
        .bind(run.actor)
        .push(", ")
        .bind(now())
        .push(") RETURNING id");
    let id = q.fetch_scalar_i64(&mut *tx.conn()).await?;
    let mut q = Sql::new("DELETE FROM identity_links WHERE kind = ");
    q.bind(run.kind);
    q.execute(tx.conn()).await?;
    insert_links(tx, run.kind, &run.links, id).await?;
    let mut q = Sql::new("DELETE FROM identity_reviews WHERE kind = ");
    q.bind(run.kind);
    q.execute(tx.conn()).await?;
    for chunk in run.reviews.chunks(BATCH / 2) {
        let mut q = Sql::new(
            "INSERT INTO identity_reviews (kind, a_source, a_key, b_source, b_key, probability, explanation, run_id) VALUES ",
        );
        for (i, (a, ak, b, bk, p, e)) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push("(")
                .bind(run.kind)
                .push(", ")
                .bind(a)
                .push(", ")
                .bind(ak)
                .push(", ")
                .bind(b)
                .push(", ")
                .bind(bk)
                .push(", ")
                .bind(p)
                .push(", ")
                .bind(e)
                .push(", ")
                .bind(id)
                .push(")");
        }
        q.execute(tx.conn()).await?;
    }
    Ok(id)
}

/// Add links of one source (key, entity, method) for records a delivery brought between runs.
pub async fn add_links(
    tx: &mut WriteTx,
    kind: &str,
    source: &str,
    links: &[(String, String, String)],
    run_id: i64,
) -> Result<()> {
    let rows: Vec<(&str, &str, &str, &str)> = links
        .iter()
        .map(|(k, e, m)| (source, k.as_str(), e.as_str(), m.as_str()))
        .collect();
    insert_links(tx, kind, &rows, run_id).await
}

/// (source, key, entity, method) rows, in batches.
async fn insert_links(
    tx: &mut WriteTx,
    kind: &str,
    rows: &[(&str, &str, &str, &str)],
    run_id: i64,
) -> Result<()> {
    for chunk in rows.chunks(BATCH) {
        let mut q = Sql::new(
            "INSERT INTO identity_links (kind, source, record_key, entity_id, method, run_id) VALUES ",
        );
        for (i, (s, k, e, m)) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push("(")
                .bind(kind)
                .push(", ")
                .bind(*s)
                .push(", ")
                .bind(*k)
                .push(", ")
                .bind(*e)
                .push(", ")
                .bind(*m)
                .push(", ")
                .bind(run_id)
                .push(")");
        }
        q.execute(tx.conn()).await?;
    }
    Ok(())
}

pub async fn links(store: &Store, kind: &str) -> Result<Vec<LinkRow>> {
    let mut q = Sql::new("SELECT * FROM identity_links WHERE kind = ");
    q.bind(kind);
    q.fetch_all(store.pool()).await
}

pub async fn entity_records(store: &Store, kind: &str, entity: &str) -> Result<Vec<LinkRow>> {
    let mut q = Sql::new("SELECT * FROM identity_links WHERE kind = ");
    q.bind(kind)
        .push(" AND entity_id = ")
        .bind(entity)
        .push(" ORDER BY source, record_key");
    q.fetch_all(store.pool()).await
}

pub async fn entity_of(
    store: &Store,
    kind: &str,
    source: &str,
    key: &str,
) -> Result<Option<LinkRow>> {
    let mut q = Sql::new("SELECT * FROM identity_links WHERE kind = ");
    q.bind(kind)
        .push(" AND source = ")
        .bind(source)
        .push(" AND record_key = ")
        .bind(key);
    q.fetch_optional(store.pool()).await
}

pub async fn reviews(store: &Store, kind: &str, limit: i64) -> Result<Vec<ReviewRow>> {
    let mut q = Sql::new("SELECT * FROM identity_reviews WHERE kind = ");
    q.bind(kind)
        .push(" ORDER BY probability DESC, id LIMIT ")
        .bind(limit);
    q.fetch_all(store.pool()).await
}

pub async fn review(store: &Store, id: i64) -> Result<Option<ReviewRow>> {
    crate::sql::by_id(store, "identity_reviews", id).await
}

/// Record a decision; the pair leaves the queue.
pub async fn decide(tx: &mut WriteTx, d: &DecisionRow, review_id: Option<i64>) -> Result<i64> {
    let mut q = Sql::new(
        "INSERT INTO identity_decisions (kind, decision, a_source, a_key, b_source, b_key, reason, actor, decided_at) VALUES (",
    );
    q.bind(&d.kind)
        .push(", ")
        .bind(&d.decision)
        .push(", ")
        .bind(&d.a_source)
        .push(", ")
        .bind(&d.a_key)
        .push(", ")
        .bind(d.b_source.clone())
        .push(", ")
        .bind(d.b_key.clone())
        .push(", ")
        .bind(&d.reason)
        .push(", ")
        .bind(&d.actor)
        .push(", ")
        .bind(now())
        .push(") RETURNING id");
    let id = q.fetch_scalar_i64(&mut *tx.conn()).await?;
    if let Some(r) = review_id {
        let mut q = Sql::new("DELETE FROM identity_reviews WHERE id = ");
        q.bind(r);
        q.execute(tx.conn()).await?;
    }
    Ok(id)
}

pub async fn decisions(store: &Store, kind: &str) -> Result<Vec<DecisionRow>> {
    let mut q = Sql::new("SELECT * FROM identity_decisions WHERE kind = ");
    q.bind(kind).push(" ORDER BY id");
    q.fetch_all(store.pool()).await
}

pub async fn runs(store: &Store, kind: &str, limit: i64) -> Result<Vec<RunRow>> {
    let mut q = Sql::new("SELECT * FROM identity_runs WHERE kind = ");
    q.bind(kind).push(" ORDER BY id DESC LIMIT ").bind(limit);
    q.fetch_all(store.pool()).await
}

/// Which links a listing takes: one source, one run (0: made as deliveries landed before any
/// run), one method (`id`, `model`, `new`, `alone` …).
#[derive(Clone, Debug, Default)]
pub struct LinkFilter {
    pub source: Option<String>,
    /// Only these sources (the tables the reader's data scope covers); `None`: every source.
    pub within: Option<Vec<String>>,
    pub run: Option<i64>,
    pub method: Option<String>,
}

impl LinkFilter {
    fn from(&self, kind: &str) -> Sql {
        let mut q = Sql::new(" FROM identity_links WHERE kind = ");
        q.bind(kind);
        if let Some(s) = &self.source {
            q.push(" AND source = ").bind(s.as_str());
        }
        if let Some(w) = &self.within {
            if w.is_empty() {
                q.push(" AND 1 = 0");
            } else {
                q.push(" AND source IN ").bind_list(w);
            }
        }
        if let Some(r) = self.run {
            q.push(" AND run_id = ").bind(r);
        }
        if let Some(m) = &self.method {
            q.push(" AND method = ").bind(m.as_str());
        }
        q
    }
}

/// One page of the links of `kind`, by source and key.
pub async fn links_page(
    store: &Store,
    kind: &str,
    filter: &LinkFilter,
    page: crate::Page,
) -> Result<crate::Paged<LinkRow>> {
    crate::sql::paged(
        store.pool(),
        "SELECT *",
        &filter.from(kind),
        " ORDER BY source, record_key",
        page,
    )
    .await
}

/// An entity and how many records (from how many sources) it gathers.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct ClusterRow {
    pub entity_id: String,
    pub records: i64,
    pub sources: i64,
}

/// One page of the entities of `kind` among the links `filter` takes, with at least
/// `min_records` records each; largest first.
pub async fn clusters_page(
    store: &Store,
    kind: &str,
    filter: &LinkFilter,
    min_records: i64,
    page: crate::Page,
) -> Result<crate::Paged<ClusterRow>> {
    let mut inner =
        Sql::new("SELECT entity_id, COUNT(*) AS records, COUNT(DISTINCT source) AS sources");
    inner.append(&filter.from(kind));
    inner
        .push(" GROUP BY entity_id HAVING COUNT(*) >= ")
        .bind(min_records);
    let mut from = Sql::new(" FROM (");
    from.append(&inner).push(") c");
    crate::sql::paged(
        store.pool(),
        "SELECT entity_id, records, sources",
        &from,
        " ORDER BY records DESC, entity_id",
        page,
    )
    .await
}
