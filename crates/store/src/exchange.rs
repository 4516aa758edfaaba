//! Tables of sharing requests and grants.

use crate::sql::Sql;
use crate::{Store, WriteTx, now};
use shuju_types::Result;

#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct RequestRow {
    pub id: i64,
    pub entry_id: i64,
    pub consumer_dept_id: i64,
    pub consumer_system: String,
    pub items: String,
    pub purpose: String,
    pub legal_basis: Option<String>,
    pub period_until: String,
    pub complex: i64,
    pub status: String,
    pub stage_started: String,
    pub deadline: Option<String>,
    pub escalated: i64,
    pub decision_reason: Option<String>,
    pub decided_by: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
}

pub async fn insert_request(tx: &mut WriteTx, r: &RequestRow) -> Result<i64> {
    let t = now();
    let mut q = Sql::new(
        "INSERT INTO share_requests (entry_id, consumer_dept_id, consumer_system, items, purpose, legal_basis, period_until, complex, status, stage_started, deadline, decision_reason, decided_by, created_by, created_at, updated_at) VALUES (",
    );
    q.bind(r.entry_id)
        .push(", ")
        .bind(r.consumer_dept_id)
        .push(", ")
        .bind(&r.consumer_system)
        .push(", ")
        .bind(&r.items)
        .push(", ")
        .bind(&r.purpose)
        .push(", ")
        .bind(r.legal_basis.clone())
        .push(", ")
        .bind(&r.period_until)
        .push(", ")
        .bind(r.complex)
        .push(", ")
        .bind(&r.status)
        .push(", ")
        .bind(&r.stage_started)
        .push(", ")
        .bind(r.deadline.clone())
        .push(", ")
        .bind(r.decision_reason.clone())
        .push(", ")
        .bind(r.decided_by.clone())
        .push(", ")
        .bind(&r.created_by)
        .push(", ")
        .bind(&t)
        .push(", ")
        .bind(&t)
        .push(") RETURNING id");
    q.fetch_scalar_i64(&mut *tx.conn()).await
}

/// Move a request to a new stage (or decision).
pub async fn set_stage(
    tx: &mut WriteTx,
    id: i64,
    status: &str,
    stage_started: &str,
    deadline: Option<&str>,
    reason: Option<&str>,
    by: Option<&str>,
) -> Result<u64> {
    let mut q = Sql::new("UPDATE share_requests SET status = ");
    q.bind(status)
        .push(", stage_started = ")
        .bind(stage_started)
        .push(", deadline = ")
        .bind(deadline)
        .push(", decision_reason = ")
        .bind(reason)
        .push(", decided_by = ")
        .bind(by)
        .push(", escalated = 0, updated_at = ")
        .bind(now())
        .push(" WHERE id = ")
        .bind(id);
    q.execute(tx.conn()).await
}

pub async fn set_escalated(tx: &mut WriteTx, id: i64) -> Result<u64> {
    let mut q = Sql::new("UPDATE share_requests SET escalated = 1, updated_at = ");
    q.bind(now()).push(" WHERE id = ").bind(id);
    q.execute(tx.conn()).await
}

pub async fn get_request(store: &Store, id: i64) -> Result<Option<RequestRow>> {
    crate::sql::by_id(store, "share_requests", id).await
}

/// Requests, optionally of one status, of consumers or of entries of providers (`None`: all).
pub async fn list_requests(
    store: &Store,
    status: Option<&str>,
    consumers: Option<&[i64]>,
    providers: Option<&[i64]>,
) -> Result<Vec<RequestRow>> {
    let mut q = Sql::new(
        "SELECT r.* FROM share_requests r JOIN catalog_entries e ON e.id = r.entry_id WHERE 1 = 1",
    );
    if let Some(s) = status {
        q.push(" AND r.status = ").bind(s);
    }
    for (col, ids) in [
        ("r.consumer_dept_id", consumers),
        ("e.provider_dept_id", providers),
    ] {
        if let Some(ids) = ids {
            if ids.is_empty() {
                q.push(" AND 1 = 0");
            } else {
                q.push(&format!(" AND {col} IN ")).bind_list(ids);
            }
        }
    }
    q.push(" ORDER BY r.id DESC LIMIT 500");
    q.fetch_all(store.pool()).await
}

/// Requests in a stage whose deadline has passed and that are not yet escalated.
pub async fn overdue(store: &Store, today: &str) -> Result<Vec<RequestRow>> {
    let mut q = Sql::new(
        "SELECT * FROM share_requests WHERE status IN ('bureau_check', 'provider_review') AND escalated = 0 AND deadline < ",
    );
    q.bind(today);
    q.fetch_all(store.pool()).await
}

#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct GrantRow {
    pub id: i64,
    pub request_id: i64,
    pub entry_id: i64,
    pub consumer_dept_id: i64,
    pub consumer_system: String,
    pub items: String,
    pub purpose: String,
    pub valid_until: String,
    pub revoked_at: Option<String>,
    pub revoked_reason: Option<String>,
    pub created_at: String,
    /// JSON list of sensitive item names the gateway hands out unmasked.
    pub unmasked_items: String,
    pub calls_per_day: i64,
    pub rows_per_day: i64,
    pub calls_per_second: i64,
}

pub async fn insert_grant(tx: &mut WriteTx, r: &RequestRow) -> Result<i64> {
    let mut q = Sql::new(
        "INSERT INTO share_grants (request_id, entry_id, consumer_dept_id, consumer_system, items, purpose, valid_until, created_at) VALUES (",
    );
    q.bind(r.id)
        .push(", ")
        .bind(r.entry_id)
        .push(", ")
        .bind(r.consumer_dept_id)
        .push(", ")
        .bind(&r.consumer_system)
        .push(", ")
        .bind(&r.items)
        .push(", ")
        .bind(&r.purpose)
        .push(", ")
        .bind(&r.period_until)
        .push(", ")
        .bind(now())
        .push(") RETURNING id");
    q.fetch_scalar_i64(&mut *tx.conn()).await
}

pub async fn revoke_grant(tx: &mut WriteTx, id: i64, reason: &str) -> Result<u64> {
    let mut q = Sql::new("UPDATE share_grants SET revoked_at = ");
    q.bind(now())
        .push(", revoked_reason = ")
        .bind(reason)
        .push(" WHERE revoked_at IS NULL AND id = ")
        .bind(id);
    q.execute(tx.conn()).await
}

pub async fn get_grant(store: &Store, id: i64) -> Result<Option<GrantRow>> {
    crate::sql::by_id(store, "share_grants", id).await
}

/// Grants of a consumer (any state), optionally for one entry.
pub async fn grants_of(
    store: &Store,
    consumers: Option<&[i64]>,
    entry_id: Option<i64>,
) -> Result<Vec<GrantRow>> {
    let mut q = Sql::new("SELECT * FROM share_grants WHERE 1 = 1");
    if let Some(ids) = consumers {
        if ids.is_empty() {
            q.push(" AND 1 = 0");
        } else {
            q.push(" AND consumer_dept_id IN ").bind_list(ids);
        }
    }
    if let Some(e) = entry_id {
        q.push(" AND entry_id = ").bind(e);
    }
    q.push(" ORDER BY id DESC");
    q.fetch_all(store.pool()).await
}

#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct ProjectRow {
    pub id: i64,
    pub name: String,
    pub dept_id: i64,
    pub year: i64,
    pub budget_asked: i64,
    pub systems: String,
    pub status: String,
    pub approved_budget: Option<i64>,
    pub review_note: Option<String>,
    pub reviewed_by: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
}

pub async fn insert_project(
    tx: &mut WriteTx,
    name: &str,
    dept_id: i64,
    year: i64,
    budget: i64,
    systems: &str,
    actor: &str,
) -> Result<i64> {
    let t = now();
    let mut q = Sql::new(
        "INSERT INTO it_projects (name, dept_id, year, budget_asked, systems, status, created_by, created_at, updated_at) VALUES (",
    );
    q.bind(name)
        .push(", ")
        .bind(dept_id)
        .push(", ")
        .bind(year)
        .push(", ")
        .bind(budget)
        .push(", ")
        .bind(systems)
        .push(", 'submitted', ")
        .bind(actor)
        .push(", ")
        .bind(&t)
        .push(", ")
        .bind(&t)
        .push(") RETURNING id");
    q.fetch_scalar_i64(&mut *tx.conn()).await
}

pub async fn review_project(
    tx: &mut WriteTx,
    id: i64,
    status: &str,
    approved: Option<i64>,
    note: Option<&str>,
    actor: &str,
) -> Result<u64> {
    let mut q = Sql::new("UPDATE it_projects SET status = ");
    q.bind(status)
        .push(", approved_budget = ")
        .bind(approved)
        .push(", review_note = ")
        .bind(note)
        .push(", reviewed_by = ")
        .bind(actor)
        .push(", updated_at = ")
        .bind(now())
        .push(" WHERE id = ")
        .bind(id);
    q.execute(tx.conn()).await
}

pub async fn get_project(store: &Store, id: i64) -> Result<Option<ProjectRow>> {
    crate::sql::by_id(store, "it_projects", id).await
}

pub async fn list_projects(
    store: &Store,
    year: Option<i64>,
    depts: Option<&[i64]>,
) -> Result<Vec<ProjectRow>> {
    let mut q = Sql::new("SELECT * FROM it_projects WHERE 1 = 1");
    if let Some(y) = year {
        q.push(" AND year = ").bind(y);
    }
    if let Some(ids) = depts {
        if ids.is_empty() {
            q.push(" AND 1 = 0");
        } else {
            q.push(" AND dept_id IN ").bind_list(ids);
        }
    }
    q.push(" ORDER BY id DESC");
    q.fetch_all(store.pool()).await
}

/// (published entries, published entries that are shared at all) of a department.
pub async fn dept_catalog_counts(store: &Store, dept_id: i64) -> Result<(i64, i64)> {
    let mut a = Sql::new(
        "SELECT COUNT(*) FROM catalog_entries WHERE deleted_at IS NULL AND published_version IS NOT NULL AND provider_dept_id = ",
    );
    a.bind(dept_id);
    let mut b = Sql::new(
        "SELECT COUNT(*) FROM catalog_entries WHERE deleted_at IS NULL AND published_version IS NOT NULL AND sharing <> 'not_shared' AND provider_dept_id = ",
    );
    b.bind(dept_id);
    Ok((
        a.fetch_scalar_i64(store.pool()).await?,
        b.fetch_scalar_i64(store.pool()).await?,
    ))
}

/// Grants on a department's entries created since `since`.
pub async fn dept_grants_since(store: &Store, dept_id: i64, since: &str) -> Result<i64> {
    let mut q = Sql::new(
        "SELECT COUNT(*) FROM share_grants g JOIN catalog_entries e ON e.id = g.entry_id WHERE e.provider_dept_id = ",
    );
    q.bind(dept_id).push(" AND g.created_at >= ").bind(since);
    q.fetch_scalar_i64(store.pool()).await
}

/// Gateway calls answered (and bulk deliveries made) on a department's entries since `since`.
pub async fn dept_calls_since(store: &Store, dept_id: i64, since: &str) -> Result<i64> {
    let mut q = Sql::new(
        "SELECT COUNT(*) FROM gateway_calls c JOIN catalog_entries e ON e.id = c.entry_id WHERE c.status = 200 AND e.provider_dept_id = ",
    );
    q.bind(dept_id).push(" AND c.called_at >= ").bind(since);
    q.fetch_scalar_i64(store.pool()).await
}

/// Names of a department's registered, active information systems.
pub async fn dept_system_names(store: &Store, dept_id: i64) -> Result<Vec<String>> {
    #[derive(sqlx::FromRow)]
    struct N {
        name: String,
    }
    let mut q = Sql::new(
        "SELECT name FROM info_systems WHERE deleted_at IS NULL AND status = 'active' AND owner_dept_id = ",
    );
    q.bind(dept_id);
    let rows: Vec<N> = q.fetch_all(store.pool()).await?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}
