//! Service matters, processes and cases (owned by `shuju-service`). Matters and processes are
//! versioned documents. A case is its events, stored in order; the case row (status, event count)
//! and its open tasks are a projection written in the same transaction as the events they follow
//! from, so an acknowledged event is never without its projection, nor the projection ahead.

use crate::sql::Sql;
use crate::{Store, VersionedRow, WriteTx, now};
use shuju_types::{Error, Result};

const MATTERS: crate::versioned::Table = crate::versioned::Table {
    table: "service_matters",
    key: "matter_code",
};

const TEMPLATES: crate::versioned::Table = crate::versioned::Table {
    table: "service_notice_templates",
    key: "template",
};

const PROCESSES: crate::versioned::Table = crate::versioned::Table {
    table: "service_processes",
    key: "process_name",
};

/// The newest version of every matter.
pub async fn matters(store: &Store) -> Result<Vec<VersionedRow>> {
    MATTERS.latest(store).await
}

/// Every version of one matter, newest first.
pub async fn matter_history(store: &Store, code: &str) -> Result<Vec<VersionedRow>> {
    MATTERS.history(store, code).await
}

/// Save a new version of a matter; returns its number.
pub async fn save_matter(tx: &mut WriteTx, code: &str, body: &str, actor: &str) -> Result<i64> {
    MATTERS.save(tx, code, body, actor).await
}

/// The newest version of every process.
pub async fn processes(store: &Store) -> Result<Vec<VersionedRow>> {
    PROCESSES.latest(store).await
}

/// Every version of one process, newest first.
pub async fn process_history(store: &Store, name: &str) -> Result<Vec<VersionedRow>> {
    PROCESSES.history(store, name).await
}

/// Save a new version of a process; returns its number.
pub async fn save_process(tx: &mut WriteTx, name: &str, body: &str, actor: &str) -> Result<i64> {
    PROCESSES.save(tx, name, body, actor).await
}

/// A case as its projection shows it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CaseRow {
    pub id: i64,
    pub matter_code: String,
    pub matter_version: i64,
    pub process_name: String,
    pub process_version: i64,
    pub applicant: String,
    pub centre_id: Option<i64>,
    pub status: String,
    pub opened_at: String,
    pub promised_by: String,
    pub events: i64,
    pub updated_at: String,
}

/// What a new case is opened with.
pub struct NewCase {
    /// Its number, taken ahead ([`take_case_ids`], [`crate::Numbers`]).
    pub id: i64,
    pub matter_code: String,
    pub matter_version: i64,
    pub process_name: String,
    pub process_version: i64,
    pub applicant: String,
    pub centre_id: Option<i64>,
    pub status: String,
    pub promised_by: String,
}

/// One stored event of a case.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EventRow {
    pub case_id: i64,
    pub seq: i64,
    /// JSON.
    pub body: String,
    pub actor: String,
    pub at: String,
}

/// An open task of a case (the projection officers' task lists read).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct TaskRow {
    pub case_id: i64,
    pub stage: String,
    pub dept_id: i64,
    pub role: String,
    /// `YYYY-MM-DD`.
    pub due: String,
    pub escalated: i64,
    pub paused: i64,
}

/// Insert a case with no events yet; returns its id.
pub async fn insert_case(tx: &mut WriteTx, c: &NewCase) -> Result<()> {
    let at = now();
    let mut q = Sql::new(
        "INSERT INTO service_cases (id, matter_code, matter_version, process_name, process_version, applicant, centre_id, status, opened_at, promised_by, events, updated_at) VALUES (",
    );
    q.bind(c.id)
        .push(", ")
        .bind(c.matter_code.as_str())
        .push(", ")
        .bind(c.matter_version)
        .push(", ")
        .bind(c.process_name.as_str())
        .push(", ")
        .bind(c.process_version)
        .push(", ")
        .bind(c.applicant.as_str())
        .push(", ")
        .bind(c.centre_id)
        .push(", ")
        .bind(c.status.as_str())
        .push(", ")
        .bind(at.as_str())
        .push(", ")
        .bind(c.promised_by.as_str())
        .push(", 0, ")
        .bind(at.as_str())
        .push(")");
    q.execute(tx.conn()).await?;
    Ok(())
}

/// Take `n` case numbers inside a write: the first and one past the last.
pub async fn take_case_ids(tx: &mut WriteTx, n: i64) -> Result<std::ops::Range<i64>> {
    let mut q = Sql::new("UPDATE id_counters SET next_id = next_id + ");
    q.bind(n)
        .push(" WHERE name = 'service_cases' RETURNING next_id");
    let end = q.fetch_scalar_i64(&mut *tx.conn()).await?;
    Ok(end - n..end)
}

/// Append events to a case that has `after` events, and write the projection they lead to: the
/// case's status and promised date, and its open tasks (replacing the ones before). A case whose
/// event count is not `after` (another transition got there first) is a conflict, nothing written.
#[allow(clippy::too_many_arguments)]
pub async fn append(
    tx: &mut WriteTx,
    case_id: i64,
    after: i64,
    events: &[(String, String)],
    status: &str,
    promised_by: &str,
    tasks: &[TaskRow],
    at: &str,
) -> Result<()> {
    let at = at.to_owned();
    let mut q = Sql::new("UPDATE service_cases SET events = ");
    q.bind(after + events.len() as i64)
        .push(", status = ")
        .bind(status)
        .push(", promised_by = ")
        .bind(promised_by)
        .push(", updated_at = ")
        .bind(at.as_str())
        .push(" WHERE id = ")
        .bind(case_id)
        .push(" AND events = ")
        .bind(after);
    if q.execute(tx.conn()).await? != 1 {
        return Err(Error::conflict(
            "the case changed meanwhile; read it again and retry",
        ));
    }
    if !events.is_empty() {
        let mut q = Sql::new("INSERT INTO service_events (case_id, seq, body, actor, at) VALUES ");
        for (i, (body, actor)) in events.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push("(")
                .bind(case_id)
                .push(", ")
                .bind(after + 1 + i as i64)
                .push(", ")
                .bind(body.as_str())
                .push(", ")
                .bind(actor.as_str())
                .push(", ")
                .bind(at.as_str())
                .push(")");
        }
        q.execute(tx.conn()).await?;
    }
    let mut q = Sql::new("DELETE FROM service_tasks WHERE case_id = ");
    q.bind(case_id);
    q.execute(tx.conn()).await?;
    for t in tasks {
        let mut q = Sql::new(
            "INSERT INTO service_tasks (case_id, stage, dept_id, role, due, escalated, paused) VALUES (",
        );
        q.bind(case_id)
            .push(", ")
            .bind(t.stage.as_str())
            .push(", ")
            .bind(t.dept_id)
            .push(", ")
            .bind(t.role.as_str())
            .push(", ")
            .bind(t.due.as_str())
            .push(", ")
            .bind(t.escalated)
            .push(", ")
            .bind(t.paused)
            .push(")");
        q.execute(tx.conn()).await?;
    }
    Ok(())
}

pub async fn case(store: &Store, id: i64) -> Result<Option<CaseRow>> {
    let mut q = Sql::new("SELECT * FROM service_cases WHERE id = ");
    q.bind(id);
    q.fetch_optional(store.pool()).await
}

/// A case's events, in order.
pub async fn events(store: &Store, case_id: i64) -> Result<Vec<EventRow>> {
    let mut q = Sql::new("SELECT * FROM service_events WHERE case_id = ");
    q.bind(case_id).push(" ORDER BY seq");
    q.fetch_all(store.pool()).await
}

/// The cases of one applicant, newest first.
pub async fn cases_of(store: &Store, applicant: &str, limit: i64) -> Result<Vec<CaseRow>> {
    let mut q = Sql::new("SELECT * FROM service_cases WHERE applicant = ");
    q.bind(applicant)
        .push(" ORDER BY id DESC LIMIT ")
        .bind(limit);
    q.fetch_all(store.pool()).await
}

/// Case ids after `after`, in order (replaying every case a page at a time).
pub async fn case_ids(store: &Store, after: i64, limit: i64) -> Result<Vec<i64>> {
    #[derive(sqlx::FromRow)]
    struct Id {
        id: i64,
    }
    let mut q = Sql::new("SELECT id FROM service_cases WHERE id > ");
    q.bind(after).push(" ORDER BY id LIMIT ").bind(limit);
    let ids: Vec<Id> = q.fetch_all(store.pool()).await?;
    Ok(ids.into_iter().map(|i| i.id).collect())
}

/// Open tasks of a department for the given roles, soonest due first.
pub async fn tasks_for(
    store: &Store,
    dept_id: i64,
    roles: &[String],
    limit: i64,
) -> Result<Vec<TaskRow>> {
    if roles.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::new("SELECT * FROM service_tasks WHERE dept_id = ");
    q.bind(dept_id)
        .push(" AND role IN (")
        .bind_list(roles)
        .push(") ORDER BY due, case_id, stage LIMIT ")
        .bind(limit);
    q.fetch_all(store.pool()).await
}

/// Open tasks, not paused and not yet escalated, due on or before `day` (`YYYY-MM-DD`).
pub async fn tasks_due(store: &Store, day: &str, limit: i64) -> Result<Vec<TaskRow>> {
    let mut q =
        Sql::new("SELECT * FROM service_tasks WHERE escalated = 0 AND paused = 0 AND due <= ");
    q.bind(day)
        .push(" ORDER BY due, case_id LIMIT ")
        .bind(limit);
    q.fetch_all(store.pool()).await
}

/// The open tasks of one case.
pub async fn tasks_of_case(store: &Store, case_id: i64) -> Result<Vec<TaskRow>> {
    let mut q = Sql::new("SELECT * FROM service_tasks WHERE case_id = ");
    q.bind(case_id).push(" ORDER BY stage");
    q.fetch_all(store.pool()).await
}

/// A pull of an applicant's data into a case's form.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PullRow {
    pub id: i64,
    pub case_id: i64,
    pub subject: String,
    /// JSON: each value read with its source.
    pub what: String,
    pub actor: String,
    pub at: String,
}

/// Values read with a subject's consent for a case, to be recorded.
#[derive(Clone, Debug)]
pub struct NewPull {
    pub case_id: i64,
    pub subject: String,
    /// JSON: each value read with its source.
    pub what: String,
    pub actor: String,
}

pub async fn add_pull(tx: &mut WriteTx, p: &NewPull) -> Result<i64> {
    let mut q = Sql::new("INSERT INTO service_pulls (case_id, subject, what, actor, at) VALUES (");
    q.bind(p.case_id)
        .push(", ")
        .bind(p.subject.as_str())
        .push(", ")
        .bind(p.what.as_str())
        .push(", ")
        .bind(p.actor.as_str())
        .push(", ")
        .bind(now())
        .push(") RETURNING id");
    q.fetch_scalar_i64(&mut *tx.conn()).await
}

/// Every pull of one subject's data, newest first.
pub async fn pulls(store: &Store, subject: &str, limit: i64) -> Result<Vec<PullRow>> {
    let mut q = Sql::new("SELECT * FROM service_pulls WHERE subject = ");
    q.bind(subject).push(" ORDER BY id DESC LIMIT ").bind(limit);
    q.fetch_all(store.pool()).await
}

/// The pulls made for one case.
pub async fn pulls_of_case(store: &Store, case_id: i64) -> Result<Vec<PullRow>> {
    let mut q = Sql::new("SELECT * FROM service_pulls WHERE case_id = ");
    q.bind(case_id).push(" ORDER BY id");
    q.fetch_all(store.pool()).await
}

// ---- notices ----

/// The newest version of every saved notice template (named `kind.channel`).
pub async fn templates(store: &Store) -> Result<Vec<VersionedRow>> {
    TEMPLATES.latest(store).await
}

/// Save a new version of a template; returns its number.
pub async fn save_template(tx: &mut WriteTx, name: &str, body: &str, actor: &str) -> Result<i64> {
    TEMPLATES.save(tx, name, body, actor).await
}

/// A notice to be sent, rendered when its event was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewNotice {
    pub case_id: i64,
    pub seq: i64,
    pub kind: String,
    pub channel: String,
    pub recipient: String,
    pub template_version: i64,
    pub subject: String,
    pub body: String,
}

/// A notice and how far its delivery got.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct NoticeRow {
    pub id: i64,
    pub case_id: i64,
    pub seq: i64,
    pub kind: String,
    pub channel: String,
    pub recipient: String,
    pub template_version: i64,
    pub subject: String,
    pub body: String,
    /// `queued`, `sent`, `retrying` or `failed`.
    pub state: String,
    pub attempts: i64,
    pub next_at: String,
    pub last_error: Option<String>,
    pub receipt: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// Queue notices, inside the transaction of the events they tell of.
pub async fn add_notices(tx: &mut WriteTx, notices: &[NewNotice], at: &str) -> Result<()> {
    for n in notices {
        let mut q = Sql::new(
            "INSERT INTO service_notices (case_id, seq, kind, channel, recipient, template_version, subject, body, state, attempts, next_at, created_at, updated_at) VALUES (",
        );
        q.bind(n.case_id)
            .push(", ")
            .bind(n.seq)
            .push(", ")
            .bind(n.kind.as_str())
            .push(", ")
            .bind(n.channel.as_str())
            .push(", ")
            .bind(n.recipient.as_str())
            .push(", ")
            .bind(n.template_version)
            .push(", ")
            .bind(n.subject.as_str())
            .push(", ")
            .bind(n.body.as_str())
            .push(", 'queued', 0, ")
            .bind(at)
            .push(", ")
            .bind(at)
            .push(", ")
            .bind(at)
            .push(")");
        q.execute(tx.conn()).await?;
    }
    Ok(())
}

/// Notices whose (next) attempt is due at `now`, oldest first.
pub async fn notices_due(store: &Store, now: &str, limit: i64) -> Result<Vec<NoticeRow>> {
    let mut q = Sql::new(
        "SELECT * FROM service_notices WHERE state IN ('queued', 'retrying') AND next_at <= ",
    );
    q.bind(now).push(" ORDER BY next_at, id LIMIT ").bind(limit);
    q.fetch_all(store.pool()).await
}

/// Take a due notice for one attempt: its `next_at` moved to `lease_until`, only if no other
/// sender took it since it was read (its `next_at` still `seen_next_at`). Two processes sending
/// from one database send each notice once; a sender that dies mid-attempt leaves the notice to
/// be tried again when the lease ends.
pub async fn claim_notice(
    store: &Store,
    id: i64,
    seen_next_at: &str,
    lease_until: &str,
) -> Result<bool> {
    let mut tx = store.write().await?;
    let mut q = Sql::new("UPDATE service_notices SET next_at = ");
    q.bind(lease_until)
        .push(" WHERE id = ")
        .bind(id)
        .push(" AND next_at = ")
        .bind(seen_next_at)
        .push(" AND state IN ('queued', 'retrying')");
    let n = q.execute(tx.conn()).await?;
    tx.commit().await?;
    Ok(n == 1)
}

/// Record one attempt's result: the new state, the attempts so far, when to try next, and the
/// transport's answer (`receipt` on success, `error` on failure).
pub async fn notice_attempted(
    store: &Store,
    id: i64,
    state: &str,
    attempts: i64,
    next_at: &str,
    receipt: Option<&str>,
    error: Option<&str>,
) -> Result<()> {
    let mut tx = store.write().await?;
    let mut q = Sql::new("UPDATE service_notices SET state = ");
    q.bind(state)
        .push(", attempts = ")
        .bind(attempts)
        .push(", next_at = ")
        .bind(next_at)
        .push(", receipt = ")
        .bind(receipt)
        .push(", last_error = ")
        .bind(error)
        .push(", updated_at = ")
        .bind(now())
        .push(" WHERE id = ")
        .bind(id);
    q.execute(tx.conn()).await?;
    tx.commit().await
}

/// The notices of one case, in order.
pub async fn notices_of_case(store: &Store, case_id: i64) -> Result<Vec<NoticeRow>> {
    let mut q = Sql::new("SELECT * FROM service_notices WHERE case_id = ");
    q.bind(case_id).push(" ORDER BY id");
    q.fetch_all(store.pool()).await
}

/// How many notices are in each state.
pub async fn notice_states(store: &Store) -> Result<Vec<(String, i64)>> {
    #[derive(sqlx::FromRow)]
    struct N {
        state: String,
        n: i64,
    }
    let rows: Vec<N> =
        Sql::new("SELECT state, count(*) AS n FROM service_notices GROUP BY state ORDER BY state")
            .fetch_all(store.pool())
            .await?;
    Ok(rows.into_iter().map(|r| (r.state, r.n)).collect())
}

/// A decided case's signed receipt.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ReceiptRow {
    pub case_id: i64,
    /// JSON, as signed.
    pub payload: String,
    pub jws: String,
    pub es256_kid: String,
    pub seal: String,
    pub sm2_kid: String,
    pub created_at: String,
}

/// Keep a case's receipt; a case has one (a second write of it is a no-op and answers false).
pub async fn add_receipt(tx: &mut WriteTx, r: &ReceiptRow) -> Result<bool> {
    let mut q = Sql::new(
        "INSERT INTO service_receipts (case_id, payload, jws, es256_kid, seal, sm2_kid, created_at) VALUES (",
    );
    q.bind(r.case_id)
        .push(", ")
        .bind(r.payload.as_str())
        .push(", ")
        .bind(r.jws.as_str())
        .push(", ")
        .bind(r.es256_kid.as_str())
        .push(", ")
        .bind(r.seal.as_str())
        .push(", ")
        .bind(r.sm2_kid.as_str())
        .push(", ")
        .bind(r.created_at.as_str())
        .push(") ON CONFLICT (case_id) DO NOTHING");
    Ok(q.execute(tx.conn()).await? > 0)
}

pub async fn receipt(store: &Store, case_id: i64) -> Result<Option<ReceiptRow>> {
    let mut q = Sql::new("SELECT * FROM service_receipts WHERE case_id = ");
    q.bind(case_id);
    q.fetch_optional(store.pool()).await
}

/// An instant matter's case as its rules screened it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ScreeningRow {
    pub case_id: i64,
    pub rule_set: String,
    pub rule_set_version: i64,
    pub route: String,
    /// 1: the rules ran (no data was missing or withdrawn).
    pub ruled: i64,
    /// JSON object: each fact the rules read, by name.
    pub facts: String,
    /// JSON: the rows that fired.
    pub rows: String,
    /// 1: an instant approval drawn for a check after the fact.
    pub sampled: i64,
}

pub async fn add_screening(tx: &mut WriteTx, r: &ScreeningRow) -> Result<()> {
    let mut q = Sql::new(
        "INSERT INTO service_screenings (case_id, rule_set, rule_set_version, route, ruled, facts, rows, sampled) VALUES (",
    );
    q.bind(r.case_id)
        .push(", ")
        .bind(r.rule_set.as_str())
        .push(", ")
        .bind(r.rule_set_version)
        .push(", ")
        .bind(r.route.as_str())
        .push(", ")
        .bind(r.ruled)
        .push(", ")
        .bind(r.facts.as_str())
        .push(", ")
        .bind(r.rows.as_str())
        .push(", ")
        .bind(r.sampled)
        .push(")");
    q.execute(tx.conn()).await.map(|_| ())
}

/// Instant approvals drawn for a check after the fact and not checked yet, oldest first.
pub async fn unchecked_samples(store: &Store, limit: i64) -> Result<Vec<ScreeningRow>> {
    let mut q = Sql::new(
        "SELECT * FROM service_screenings WHERE sampled = 1 AND checked_at IS NULL ORDER BY case_id LIMIT ",
    );
    q.bind(limit);
    q.fetch_all(store.pool()).await
}

/// Is this case an instant approval drawn for a check and not checked yet?
pub async fn sample_open(store: &Store, case_id: i64) -> Result<bool> {
    let mut q = Sql::new(
        "SELECT count(*) FROM service_screenings WHERE sampled = 1 AND checked_at IS NULL AND case_id = ",
    );
    q.bind(case_id);
    Ok(q.fetch_scalar_i64(store.pool()).await? > 0)
}

/// Record a check after the fact, once: false when the case was checked already.
pub async fn record_check(
    tx: &mut WriteTx,
    case_id: i64,
    by: &str,
    upheld: bool,
    finding: &str,
) -> Result<bool> {
    let mut q = Sql::new("UPDATE service_screenings SET checked_by = ");
    q.bind(by)
        .push(", checked_at = ")
        .bind(now())
        .push(", upheld = ")
        .bind(i64::from(upheld))
        .push(", finding = ")
        .bind(finding)
        .push(" WHERE case_id = ")
        .bind(case_id)
        .push(" AND sampled = 1 AND checked_at IS NULL");
    Ok(q.execute(tx.conn()).await? > 0)
}

/// The cases a rule set screened in which the rules ran, oldest first (at most `limit`).
pub async fn screenings(store: &Store, rule_set: &str, limit: i64) -> Result<Vec<ScreeningRow>> {
    let mut q = Sql::new("SELECT * FROM service_screenings WHERE rule_set = ");
    q.bind(rule_set)
        .push(" AND ruled = 1 ORDER BY case_id LIMIT ")
        .bind(limit);
    q.fetch_all(store.pool()).await
}

/// A replay of a draft rule set over past cases.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ReplayRow {
    pub id: i64,
    pub rule_set: String,
    pub draft_sha256: String,
    /// JSON.
    pub report: String,
    pub run_by: String,
    pub run_at: String,
    pub seen_by: Option<String>,
    pub seen_at: Option<String>,
}

pub async fn add_replay(
    tx: &mut WriteTx,
    rule_set: &str,
    draft_sha256: &str,
    report: &str,
    run_by: &str,
) -> Result<i64> {
    let mut q = Sql::new(
        "INSERT INTO rule_replays (rule_set, draft_sha256, report, run_by, run_at) VALUES (",
    );
    q.bind(rule_set)
        .push(", ")
        .bind(draft_sha256)
        .push(", ")
        .bind(report)
        .push(", ")
        .bind(run_by)
        .push(", ")
        .bind(now())
        .push(") RETURNING id");
    q.fetch_scalar_i64(&mut *tx.conn()).await
}

pub async fn replay(store: &Store, id: i64) -> Result<Option<ReplayRow>> {
    crate::sql::by_id(store, "rule_replays", id).await
}

/// Record that `by` has seen a replay's report (the first to see it is kept).
pub async fn replay_seen(tx: &mut WriteTx, id: i64, by: &str) -> Result<()> {
    let mut q = Sql::new("UPDATE rule_replays SET seen_by = ");
    q.bind(by)
        .push(", seen_at = ")
        .bind(now())
        .push(" WHERE id = ")
        .bind(id)
        .push(" AND seen_by IS NULL");
    q.execute(tx.conn()).await.map(|_| ())
}
