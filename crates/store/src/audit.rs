//! The audit chain.
//!
//! Every state change and every read of personal data appends one record, in the same transaction
//! as the change. Records are never updated or deleted by the platform. Each record's hash is the
//! SM3 digest of the previous record's hash followed by the record's own canonical content, and
//! `audit_head` keeps the newest sequence number and hash, so editing, deleting (including the
//! newest records) or reordering any record breaks [`verify`].

use crate::sql::{Sql, paged};
use crate::{Page, Paged, Store, WriteTx, db_err, now};
use shuju_types::Result;
use sm3::{Digest, Sm3};
use sqlx::Row;

/// What happened, by whom, to what, why and with what outcome.
#[derive(Clone, Debug, Default)]
pub struct AuditEntry {
    pub actor_id: Option<i64>,
    pub actor: String,
    pub dept_id: Option<i64>,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<String>,
    pub purpose: Option<String>,
    pub client: Option<String>,
    pub outcome: Outcome,
    /// Short, non-personal detail (a field name, a reason). Never a personal identifier.
    pub detail: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    #[default]
    Ok,
    /// The request was refused as invalid.
    Rejected,
    /// The caller had no permission.
    Denied,
}

impl Outcome {
    /// `ok` for a success, `rejected` for a refusal.
    pub fn of<T, E>(r: &std::result::Result<T, E>) -> Outcome {
        if r.is_ok() {
            Outcome::Ok
        } else {
            Outcome::Rejected
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Rejected => "rejected",
            Outcome::Denied => "denied",
        }
    }
}

/// A stored audit record.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: String,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub dept_id: Option<i64>,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<String>,
    pub purpose: Option<String>,
    pub client: Option<String>,
    pub outcome: String,
    pub detail: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl AuditRecord {
    /// The SM3 hash of this record chained to `prev_hash`.
    pub fn compute_hash(&self, prev_hash: &str) -> String {
        let opt_i = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        let opt_s = |v: &Option<String>| v.clone().unwrap_or_default();
        let fields = [
            self.seq.to_string(),
            self.at.clone(),
            opt_i(self.actor_id),
            self.actor.clone(),
            opt_i(self.dept_id),
            self.action.clone(),
            self.object_type.clone(),
            opt_s(&self.object_id),
            opt_s(&self.purpose),
            opt_s(&self.client),
            self.outcome.clone(),
            opt_s(&self.detail),
        ];
        let mut h = Sm3::new();
        h.update(prev_hash.as_bytes());
        for f in &fields {
            h.update([0x1f]);
            // Length-prefix each field so no two field lists hash alike.
            h.update((f.len() as u64).to_be_bytes());
            h.update(f.as_bytes());
        }
        hex::encode(h.finalize())
    }
}

/// Append one record inside the caller's transaction.
pub async fn append(tx: &mut WriteTx, e: &AuditEntry) -> Result<i64> {
    append_many(tx, std::slice::from_ref(e)).await
}

/// Append records, in order, inside the caller's transaction: the head is locked and moved once,
/// and the records go in with one statement per hundred. Returns the last record's number.
pub async fn append_many(tx: &mut WriteTx, entries: &[AuditEntry]) -> Result<i64> {
    let conn = tx.conn();
    // Take the head row's lock as it is read, so concurrent writers (even in other processes)
    // serialise.
    let head = sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut *conn)
        .await
        .map_err(db_err)?;
    let mut seq: i64 = head.try_get(0).map_err(db_err)?;
    let mut hash: String = head.try_get(1).map_err(db_err)?;
    let at = now();
    for chunk in entries.chunks(100) {
        let mut q = Sql::new(
            "INSERT INTO audit_log (seq, at, actor_id, actor, dept_id, action, object_type, object_id, purpose, client, outcome, detail, prev_hash, hash) VALUES ",
        );
        for (i, e) in chunk.iter().enumerate() {
            let mut rec = AuditRecord {
                seq: seq + 1,
                at: at.clone(),
                actor_id: e.actor_id,
                actor: e.actor.clone(),
                dept_id: e.dept_id,
                action: e.action.clone(),
                object_type: e.object_type.clone(),
                object_id: e.object_id.clone(),
                purpose: e.purpose.clone(),
                client: e.client.clone(),
                outcome: e.outcome.as_str().to_owned(),
                detail: e.detail.clone(),
                prev_hash: hash.clone(),
                hash: String::new(),
            };
            rec.hash = rec.compute_hash(&hash);
            q.push(if i == 0 { "(" } else { ", (" })
                .bind(rec.seq)
                .push(", ")
                .bind(&rec.at)
                .push(", ")
                .bind(rec.actor_id)
                .push(", ")
                .bind(&rec.actor)
                .push(", ")
                .bind(rec.dept_id)
                .push(", ")
                .bind(&rec.action)
                .push(", ")
                .bind(&rec.object_type)
                .push(", ")
                .bind(rec.object_id.clone())
                .push(", ")
                .bind(rec.purpose.clone())
                .push(", ")
                .bind(rec.client.clone())
                .push(", ")
                .bind(&rec.outcome)
                .push(", ")
                .bind(rec.detail.clone())
                .push(", ")
                .bind(&rec.prev_hash)
                .push(", ")
                .bind(&rec.hash)
                .push(")");
            seq = rec.seq;
            hash = rec.hash;
        }
        q.execute(conn).await?;
    }
    let mut u = Sql::new("UPDATE audit_head SET seq = ");
    u.bind(seq)
        .push(", hash = ")
        .bind(&hash)
        .push(" WHERE id = 1");
    u.execute(conn).await?;
    Ok(seq)
}

/// Append a record in a transaction of its own (for refusals and reads, which change nothing else).
pub async fn record(store: &Store, e: &AuditEntry) -> Result<i64> {
    let mut tx = store.write().await?;
    let seq = append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(seq)
}

/// Filters for the operation log.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub outcome: Option<String>,
    /// Inclusive lower bound on the time (RFC 3339 or a date `YYYY-MM-DD`).
    pub from: Option<String>,
    /// Exclusive upper bound on the time.
    pub to: Option<String>,
    /// Only records of these departments (data scope); `None` means all.
    #[serde(skip)]
    pub dept_ids: Option<Vec<i64>>,
}

pub async fn list(store: &Store, f: &AuditFilter, page: Page) -> Result<Paged<AuditRecord>> {
    let mut w = Sql::new(" WHERE 1 = 1");
    if let Some(a) = f.actor.as_deref().filter(|s| !s.is_empty()) {
        w.push(" AND actor = ").bind(a);
    }
    if let Some(a) = f.action.as_deref().filter(|s| !s.is_empty()) {
        w.push(" AND action LIKE ").bind(format!("{a}%"));
    }
    if let Some(a) = f.object_type.as_deref().filter(|s| !s.is_empty()) {
        w.push(" AND object_type = ").bind(a);
    }
    if let Some(a) = f.object_id.as_deref().filter(|s| !s.is_empty()) {
        w.push(" AND object_id = ").bind(a);
    }
    if let Some(a) = f.outcome.as_deref().filter(|s| !s.is_empty()) {
        w.push(" AND outcome = ").bind(a);
    }
    if let Some(a) = f.from.as_deref().filter(|s| !s.is_empty()) {
        w.push(" AND at >= ").bind(a);
    }
    if let Some(a) = f.to.as_deref().filter(|s| !s.is_empty()) {
        w.push(" AND at < ").bind(a);
    }
    if let Some(ids) = &f.dept_ids {
        if ids.is_empty() {
            w.push(" AND 1 = 0");
        } else {
            w.push(" AND dept_id IN ").bind_list(ids);
        }
    }
    let mut from = Sql::new(" FROM audit_log");
    from.append(&w);
    paged(store.pool(), "SELECT *", &from, " ORDER BY seq DESC", page).await
}

/// The result of checking the chain.
#[derive(Clone, Debug, serde::Serialize)]
pub struct VerifyReport {
    pub records: i64,
    pub head_seq: i64,
    /// The first record that does not verify, with the reason.
    pub broken: Option<Broken>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Broken {
    pub seq: i64,
    pub reason: String,
}

impl VerifyReport {
    pub fn is_whole(&self) -> bool {
        self.broken.is_none()
    }
}

/// Walk the whole chain in order and check every link.
pub async fn verify(store: &Store) -> Result<VerifyReport> {
    let mut expected_seq = 1i64;
    let mut prev = GENESIS.to_owned();
    let mut records = 0i64;
    let mut broken = None;
    const BATCH: i64 = 5000;
    let mut after = 0i64;
    'outer: loop {
        let mut q = Sql::new("SELECT * FROM audit_log WHERE seq > ");
        q.bind(after).push(" ORDER BY seq LIMIT ").bind(BATCH);
        let batch: Vec<AuditRecord> = q.fetch_all(store.pool()).await?;
        if batch.is_empty() {
            break;
        }
        for r in &batch {
            records += 1;
            after = r.seq;
            if r.seq != expected_seq {
                broken = Some(Broken {
                    seq: expected_seq,
                    reason: format!(
                        "record {expected_seq} is missing (next present record is {})",
                        r.seq
                    ),
                });
                break 'outer;
            }
            if r.prev_hash != prev {
                broken = Some(Broken {
                    seq: r.seq,
                    reason: "its link to the previous record does not match (records deleted, reordered or edited)".into(),
                });
                break 'outer;
            }
            if r.compute_hash(&prev) != r.hash {
                broken = Some(Broken {
                    seq: r.seq,
                    reason: "its content does not match its hash (the record was edited)".into(),
                });
                break 'outer;
            }
            prev = r.hash.clone();
            expected_seq += 1;
        }
    }
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(store.pool())
        .await
        .map_err(db_err)?;
    let head_seq: i64 = head.try_get(0).map_err(db_err)?;
    let head_hash: String = head.try_get(1).map_err(db_err)?;
    if broken.is_none() && (head_seq != expected_seq - 1 || head_hash != prev) {
        broken = Some(Broken {
            seq: expected_seq,
            reason: format!(
                "the chain ends at record {} but the head says {head_seq}: the newest records were deleted or altered",
                expected_seq - 1
            ),
        });
    }
    Ok(VerifyReport {
        records,
        head_seq,
        broken,
    })
}

/// How many records the chain holds.
pub async fn count(store: &Store) -> Result<i64> {
    Sql::new("SELECT COUNT(*) FROM audit_log")
        .fetch_scalar_i64(store.pool())
        .await
}
