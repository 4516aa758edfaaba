//! The data-service gateway (数据共享服务接口): each grant is an endpoint that answers the granted
//! items of the rows asked for — one row by its key (a citizen ID, a credit code) or a batch — to
//! the consumer department's systems only. Sensitive items are masked unless the grant's terms
//! release them unmasked; per-grant quotas (calls and rows a day) and a rate (calls a second) are
//! enforced at runtime with 429 and when to retry. Every call is recorded with the persons and
//! enterprises it touched ("who used my data") and audited.
//!
//! The hot path touches no database before answering, and one after: a grant's terms and columns
//! are kept for [`GRANT_FRESH`] (a revocation by this process is seen at once); the day's usage is
//! counted in memory, re-read from the database when idle; rows come from the lake's in-memory key
//! index of the table's newest version. Each answer waits for its call record and audit record to
//! be committed — calls arriving together share one transaction (group commit), so durability
//! costs one sync per group, not per call.

use crate::requests::Exchange;
use serde::Serialize;
use shuju_admin::{Caller, perm};
use shuju_catalog::model::SharingKind;
use shuju_lake::Lake;
use shuju_lake::spec::ColumnSpec;
use shuju_lake::spec::{Check, Kind, TableSpec};
use shuju_store::Store;
use shuju_store::audit::AuditEntry;
use shuju_store::audit::{self, Outcome};
use shuju_store::exchange::{self as store, GrantRow};
use shuju_store::gateway::{self as gw, NewCall};
pub use shuju_store::gateway::{
    DataUseRow, DeliveryRow, SharingRate, SubscriptionRow, Terms, UseStat,
};
use shuju_types::{CitizenId, CreditCode, Error, ErrorCode, Result};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// At most this many rows in one batch answer.
pub const MAX_BATCH: usize = 1000;

/// What the consumer asks a grant's endpoint for.
#[derive(Clone, Debug, Default)]
pub struct Ask {
    /// The row with this key (the table's key column), or
    pub key: Option<String>,
    /// a batch of at most this many rows, in key order, after `after`.
    pub limit: Option<usize>,
    pub after: Option<String>,
}

/// The gateway's answer.
#[derive(Clone, Debug, Serialize)]
pub struct Answer {
    pub grant_id: i64,
    pub resource_code: String,
    /// The granted items, as column → item name.
    pub items: BTreeMap<String, String>,
    /// Columns masked in this answer.
    pub masked: Vec<String>,
    pub rows: Vec<serde_json::Map<String, serde_json::Value>>,
    /// What is left of today's quota after this call.
    pub calls_left: i64,
    pub rows_left: i64,
}

/// How long a grant's row, entry and columns are kept before they are read again.
pub const GRANT_FRESH: Duration = Duration::from_secs(1);

/// At most this many calls are committed in one transaction.
const GROUP: usize = 500;

/// A grant's entry code, its lake table, and the granted columns with whether each leaves masked.
pub(crate) type Answerable = (String, TableSpec, Vec<(ColumnSpec, bool)>);

/// A grant as the gateway answers it.
pub(crate) struct Resolved {
    pub(crate) grant: GrantRow,
    /// The published entry's code, the table, the granted columns (masked or not), and the
    /// columns naming persons or enterprises. `Err` when the grant cannot be answered.
    pub(crate) data: std::result::Result<Answerable, Error>,
}

/// A grant's usage today, counted in memory.
#[derive(Default)]
struct Usage {
    day: String,
    calls: i64,
    rows: i64,
    /// When it was last read from the database.
    synced: Option<Instant>,
    /// Calls answered whose records are not yet committed.
    pending: i64,
    /// Calls ever counted here (a read from the database is dropped if any came in between).
    counted: u64,
}

type UsageMap = Arc<Mutex<HashMap<i64, Usage>>>;

/// A call waiting for its group's commit.
struct Job {
    call: NewCall,
    audit: AuditEntry,
    done: oneshot::Sender<bool>,
}

/// The gateway's usage and health over a window.
#[derive(Clone, Debug, Serialize)]
pub struct Health {
    pub days: u32,
    pub grants: Vec<gw::UseStat>,
    /// Most called first: the top shared resources.
    pub entries: Vec<gw::UseStat>,
    pub consumers: Vec<gw::UseStat>,
    pub sharing: Vec<gw::SharingRate>,
}

/// The gateway: grant checks, masking, quotas, the call log.
#[derive(Clone)]
pub struct Gateway {
    pub(crate) store: Store,
    exchange: Exchange,
    pub(crate) lake: Lake,
    /// Per grant: the second a window started and the calls in it.
    window: Arc<Mutex<HashMap<i64, (u64, i64)>>>,
    started: Instant,
    /// Grants as answered, each kept for [`GRANT_FRESH`].
    grants: Arc<shuju_store::Keyed<i64, Resolved>>,
    usage: UsageMap,
    writer: Arc<OnceLock<mpsc::UnboundedSender<Job>>>,
    /// Bulk deliveries one at a time: a subscription asked for and served by the platform at
    /// once is delivered once.
    pub(crate) delivering: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").finish_non_exhaustive()
    }
}

pub(crate) fn today() -> String {
    chrono::Local::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

/// Seconds until the next local midnight, when the daily quotas reset.
fn until_tomorrow() -> u64 {
    let now = chrono::Local::now().naive_local();
    let midnight = (now.date() + chrono::Days::new(1))
        .and_hms_opt(0, 0, 0)
        .unwrap_or(now);
    (midnight - now).num_seconds().max(1) as u64
}

fn items_of(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

/// The subjects a value names: a valid citizen ID or credit code.
pub(crate) fn subject(check: Option<&Check>, v: &serde_json::Value) -> Option<String> {
    let s = v.as_str()?;
    match check {
        Some(Check::CitizenId) => CitizenId::parse(s).ok().map(|i| i.as_str().to_owned()),
        Some(Check::CreditCode) => CreditCode::parse(s).ok().map(|c| c.as_str().to_owned()),
        _ => None,
    }
}

impl Gateway {
    pub fn new(store: Store, exchange: Exchange, lake: Lake) -> Gateway {
        Gateway {
            store,
            exchange,
            lake,
            window: Arc::new(Mutex::new(HashMap::new())),
            started: Instant::now(),
            grants: Arc::new(shuju_store::Keyed::new(GRANT_FRESH)),
            usage: Default::default(),
            writer: Default::default(),
            delivering: Default::default(),
        }
    }

    /// Revoke a grant (see [`Exchange::revoke_grant`]); its endpoint refuses at once.
    pub async fn revoke_grant(&self, c: &Caller, grant_id: i64, reason: &str) -> Result<GrantRow> {
        let g = self.exchange.revoke_grant(c, grant_id, reason).await;
        self.forget(grant_id);
        g
    }

    /// Forget what is kept of a grant (its terms changed, it was revoked).
    pub fn forget(&self, grant_id: i64) {
        self.grants.clear(&grant_id);
    }

    /// A grant with its entry and columns, kept for [`GRANT_FRESH`].
    pub(crate) async fn resolved(&self, grant_id: i64) -> Result<Arc<Resolved>> {
        self.grants
            .get(&grant_id, || async {
                let grant = store::get_grant(&self.store, grant_id)
                    .await?
                    .ok_or_else(|| Error::not_found(format!("grant {grant_id}")))?;
                let data = self.columns(&grant).await;
                // A grant that cannot be answered is kept with why; any other failure is not.
                if let Err(e) = &data
                    && !matches!(
                        e.code,
                        ErrorCode::PermissionDenied | ErrorCode::Unavailable | ErrorCode::NotFound
                    )
                {
                    return Err(Error::new(e.code, e.message.clone()));
                }
                Ok(Resolved { grant, data })
            })
            .await
    }

    /// The entry's items as granted now (an item no longer shared is not answered), as columns
    /// of its lake table, each with whether it leaves masked.
    async fn columns(&self, g: &GrantRow) -> Result<Answerable> {
        let why = format!("see GET /api/v1/exchange/why?entry_id={}", g.entry_id);
        let entry = self.exchange.published_entry(g.entry_id).await?;
        let granted = items_of(&g.items);
        let unmasked = items_of(&g.unmasked_items);
        let spec = self
            .lake
            .spec_for_resource(&entry.code)
            .await?
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::Unavailable,
                    format!("entry {} has no data in the lake yet", entry.code),
                )
            })?;
        let mut cols = Vec::new();
        for name in &granted {
            let shared = entry
                .items
                .iter()
                .find(|i| &i.name == name)
                .is_some_and(|i| i.sharing.min(entry.sharing.kind) != SharingKind::NotShared);
            if let (true, Some(col)) = (shared, spec.columns.iter().find(|c| &c.title == name)) {
                cols.push((col.clone(), col.sensitive && !unmasked.contains(name)));
            }
        }
        if cols.is_empty() {
            return Err(Error::forbidden(format!(
                "none of the granted items is in the data; {why}"
            )));
        }
        Ok((entry.code, spec, cols))
    }

    /// Today's usage of a grant: counted here, read from the database when nothing is pending
    /// and the count is over a second old (so a count changed outside — a new day, a tool —
    /// is seen).
    async fn used(&self, grant_id: i64, day: &str) -> Result<(i64, i64)> {
        let counted = {
            let u = lock(&self.usage);
            match u.get(&grant_id) {
                Some(x)
                    if x.day == day
                        && (x.pending > 0
                            || x.synced.is_some_and(|t| t.elapsed() < GRANT_FRESH)) =>
                {
                    return Ok((x.calls, x.rows));
                }
                Some(x) => x.counted,
                None => 0,
            }
        };
        let db = gw::usage(&self.store, grant_id, day).await?;
        let mut u = lock(&self.usage);
        let x = u.entry(grant_id).or_default();
        if x.counted == counted || x.day != day {
            x.day = day.to_owned();
            x.calls = db.calls;
            x.rows = db.rows_out;
            x.synced = Some(Instant::now());
        }
        Ok((x.calls, x.rows))
    }

    /// Count an answer of `rows` rows against today's quotas, if they allow it.
    fn count(&self, g: &GrantRow, day: &str, rows: i64) -> Result<(i64, i64)> {
        let mut u = lock(&self.usage);
        let x = u.entry(g.id).or_default();
        if x.day != day {
            *x = Usage {
                day: day.to_owned(),
                counted: x.counted,
                pending: x.pending,
                ..Default::default()
            };
        }
        if x.calls >= g.calls_per_day {
            return Err(Error::rate_limited(
                format!(
                    "grant {} used its {} calls today; the quota resets at midnight",
                    g.id, g.calls_per_day
                ),
                until_tomorrow(),
            ));
        }
        let left = g.rows_per_day - x.rows;
        if rows > left {
            return Err(Error::rate_limited(
                format!(
                    "grant {} has {left} of its {} rows left today; ask for fewer or wait for midnight",
                    g.id, g.rows_per_day
                ),
                until_tomorrow(),
            ));
        }
        x.calls += 1;
        x.rows += rows;
        x.pending += 1;
        x.counted += 1;
        Ok((g.calls_per_day - x.calls, g.rows_per_day - x.rows))
    }

    /// Count a call made by another path of this gateway (a bulk delivery), already committed
    /// with the day's usage: the quota in memory includes it at once.
    pub(crate) fn counted_elsewhere(&self, grant_id: i64, day: &str, rows: i64) {
        let mut u = lock(&self.usage);
        let x = u.entry(grant_id).or_default();
        if x.day == day {
            x.calls += 1;
            x.rows += rows;
            x.counted += 1;
        }
    }

    /// The group-commit writer, started on first use.
    fn writer(&self) -> &mpsc::UnboundedSender<Job> {
        self.writer.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(write_calls(self.store.clone(), self.usage.clone(), rx));
            tx
        })
    }

    /// Set a grant's terms: which of its sensitive items it hands out unmasked, the daily quotas
    /// and the rate. The provider (or the bureau) decides; audited.
    pub async fn set_terms(&self, c: &Caller, grant_id: i64, t: &Terms) -> Result<GrantRow> {
        c.require(
            &self.store,
            perm::GRANT_TERMS,
            "exchange.grant.terms",
            "share_grant",
            None,
        )
        .await?;
        let g = store::get_grant(&self.store, grant_id)
            .await?
            .ok_or_else(|| Error::not_found(format!("grant {grant_id}")))?;
        let granted = items_of(&g.items);
        if let Some(bad) = t.unmasked_items.iter().find(|i| !granted.contains(i)) {
            return Err(Error::invalid(
                "unmasked_items",
                format!("{bad} is not an item of this grant"),
            ));
        }
        if t.calls_per_day < 1 || t.rows_per_day < 1 || t.calls_per_second < 1 {
            return Err(Error::invalid(
                "quota",
                "calls a day, rows a day and calls a second must each be at least 1",
            ));
        }
        let mut tx = self.store.write().await?;
        gw::set_terms(&mut tx, grant_id, t).await?;
        audit::append(
            &mut tx,
            &c.entry(
                "exchange.grant.terms",
                "share_grant",
                Some(grant_id.to_string()),
                Outcome::Ok,
                Some(format!(
                    "unmasked {:?}; {}/day, {} rows/day, {}/s",
                    t.unmasked_items, t.calls_per_day, t.rows_per_day, t.calls_per_second
                )),
            ),
        )
        .await?;
        tx.commit().await?;
        self.forget(grant_id);
        store::get_grant(&self.store, grant_id)
            .await?
            .ok_or_else(|| Error::not_found(format!("grant {grant_id}")))
    }

    /// The rate: at most `per_second` calls of a grant in one second.
    fn admit(&self, grant_id: i64, per_second: i64) -> Result<()> {
        let second = self.started.elapsed().as_secs();
        let mut w = self
            .window
            .lock()
            .map_err(|_| Error::internal("gateway rate window poisoned"))?;
        let e = w.entry(grant_id).or_insert((second, 0));
        if e.0 != second {
            *e = (second, 0);
        }
        if e.1 >= per_second {
            return Err(Error::rate_limited(
                format!("grant {grant_id} allows {per_second} calls a second"),
                1,
            ));
        }
        e.1 += 1;
        Ok(())
    }

    /// Answer a call through a grant's endpoint. The answer is returned once the call's record
    /// is committed.
    pub async fn call(&self, c: &Caller, grant_id: i64, ask: &Ask) -> Result<Answer> {
        let t0 = Instant::now();
        let r = self.resolved(grant_id).await?;
        let g = &r.grant;
        let day = today();
        let outcome = self.answer(c, &r, ask, &day).await;
        // Every call is recorded: answered ones with the subjects they touched and against the
        // day's usage, refused ones with their status.
        let (status, rows, subjects) = match &outcome {
            Ok((a, subjects)) => (200, a.rows.len() as i64, subjects.clone()),
            Err(e) => (i64::from(e.code.status()), 0, Vec::new()),
        };
        let audit = c.entry(
            "exchange.gateway.call",
            "share_grant",
            Some(g.id.to_string()),
            if status == 200 {
                Outcome::Ok
            } else {
                Outcome::Rejected
            },
            Some(format!(
                "{status}, {rows} rows, {} subjects, purpose “{}”",
                subjects.len(),
                g.purpose
            )),
        );
        let call = call_of(
            g,
            &c.username,
            (status, rows, t0.elapsed().as_millis() as i64),
            day,
            subjects,
        );
        let (done, committed) = oneshot::channel();
        self.writer()
            .send(Job { call, audit, done })
            .map_err(|_| Error::unavailable("the gateway's call log is closed"))?;
        if !committed.await.unwrap_or(false) {
            return Err(Error::unavailable(
                "the call could not be recorded, so it is not answered; try again",
            ));
        }
        outcome.map(|(a, _)| a)
    }

    async fn answer(
        &self,
        c: &Caller,
        r: &Resolved,
        ask: &Ask,
        day: &str,
    ) -> Result<(Answer, Vec<String>)> {
        let g = &r.grant;
        c.require(
            &self.store,
            perm::GATEWAY_CALL,
            "exchange.gateway.call",
            "share_grant",
            None,
        )
        .await?;
        let why = format!("see GET /api/v1/exchange/why?entry_id={}", g.entry_id);
        if c.dept_id != Some(g.consumer_dept_id) {
            return Err(Error::forbidden(format!(
                "grant {} belongs to another department; {why}",
                g.id
            )));
        }
        if let Some(r) = &g.revoked_at {
            return Err(Error::forbidden(format!(
                "grant {} was revoked on {r} ({}); {why}",
                g.id,
                g.revoked_reason.clone().unwrap_or_default()
            )));
        }
        if g.valid_until.as_str() < day {
            return Err(Error::forbidden(format!(
                "grant {} expired on {}; {why}",
                g.id, g.valid_until
            )));
        }
        self.admit(g.id, g.calls_per_second)?;
        let (calls, _) = self.used(g.id, day).await?;
        if calls >= g.calls_per_day {
            return Err(Error::rate_limited(
                format!(
                    "grant {} used its {} calls today; the quota resets at midnight",
                    g.id, g.calls_per_day
                ),
                until_tomorrow(),
            ));
        }
        let (code, spec, cols) = r
            .data
            .as_ref()
            .map_err(|e| Error::new(e.code, e.message.clone()))?;
        let rows = self.rows(spec, cols, ask).await?;
        let (calls_left, rows_left) = self.count(g, day, rows.len() as i64)?;
        // The persons and enterprises touched: the identifiers in the rows, before masking.
        let ids: Vec<&ColumnSpec> = spec
            .columns
            .iter()
            .filter(|c| matches!(c.check, Some(Check::CitizenId) | Some(Check::CreditCode)))
            .collect();
        let mut subjects: Vec<String> = Vec::new();
        for row in &rows {
            for col in &ids {
                if let Some(s) = row
                    .get(&col.name)
                    .and_then(|v| subject(col.check.as_ref(), v))
                {
                    subjects.push(s);
                }
            }
        }
        subjects.sort();
        subjects.dedup();
        let out: Vec<serde_json::Map<String, serde_json::Value>> = rows
            .into_iter()
            .map(|row| {
                cols.iter()
                    .map(|(col, masked)| {
                        let v = row.get(&col.name).cloned().unwrap_or_default();
                        let v = match (masked, &v, col.kind) {
                            (false, _, _) | (_, serde_json::Value::Null, _) => v,
                            (true, serde_json::Value::String(s), Kind::Text) => {
                                serde_json::Value::String(shuju_lake::query::mask_str(s))
                            }
                            (true, _, _) => serde_json::Value::Null,
                        };
                        (col.name.clone(), v)
                    })
                    .collect()
            })
            .collect();
        Ok((
            Answer {
                grant_id: g.id,
                resource_code: code.clone(),
                items: cols
                    .iter()
                    .map(|(c, _)| (c.name.clone(), c.title.clone()))
                    .collect(),
                masked: cols
                    .iter()
                    .filter(|(_, m)| *m)
                    .map(|(c, _)| c.name.clone())
                    .collect(),
                calls_left,
                rows_left,
                rows: out,
            },
            subjects,
        ))
    }

    /// The rows asked for, every column of the table (the identifiers are read for the call log;
    /// only granted columns leave): from the table's key index, or by SQL for a table too big to
    /// hold in memory.
    async fn rows(
        &self,
        spec: &TableSpec,
        cols: &[(ColumnSpec, bool)],
        ask: &Ask,
    ) -> Result<Vec<serde_json::Map<String, serde_json::Value>>> {
        match (&ask.key, ask.limit) {
            (Some(_), None) => {}
            (None, Some(n)) if (1..=MAX_BATCH).contains(&n) => {}
            (None, Some(_)) => {
                return Err(Error::invalid(
                    "limit",
                    format!("a batch is 1 to {MAX_BATCH} rows"),
                ));
            }
            _ => {
                return Err(Error::invalid(
                    "query",
                    "ask for one row by `key`, or a batch with `limit` (and `after`)",
                ));
            }
        }
        if let Some(index) = self.lake.key_index(spec).await? {
            return match (&ask.key, ask.limit) {
                (Some(k), _) => Ok(index.get(k.trim())?.into_iter().collect()),
                (None, n) => index.after(ask.after.as_deref(), n.unwrap_or(1)),
            };
        }
        let key = spec
            .key
            .first()
            .ok_or_else(|| Error::internal("a lake table without a key"))?;
        let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
        let mut names: Vec<String> = cols
            .iter()
            .map(|(c, _)| format!("\"{}\"", c.name))
            .collect();
        for c in spec
            .columns
            .iter()
            .filter(|c| matches!(c.check, Some(Check::CitizenId) | Some(Check::CreditCode)))
        {
            names.push(format!("\"{}\"", c.name));
        }
        names.sort();
        names.dedup();
        let sql = match (&ask.key, ask.limit) {
            (Some(k), _) => format!(
                "SELECT {} FROM \"{}\" WHERE \"{key}\" = {}",
                names.join(", "),
                spec.name,
                quote(k.trim())
            ),
            (None, n) => format!(
                "SELECT {} FROM \"{}\" {} ORDER BY \"{key}\" LIMIT {}",
                names.join(", "),
                spec.name,
                ask.after
                    .as_deref()
                    .map(|a| format!("WHERE \"{key}\" > {}", quote(a)))
                    .unwrap_or_default(),
                n.unwrap_or(1)
            ),
        };
        let r = self
            .lake
            .sql(&Caller::system(), &sql, &BTreeMap::new(), MAX_BATCH)
            .await?;
        Ok(r.rows)
    }

    /// The gateway's usage and health over the past `days` days: calls, rows, errors and latency
    /// per grant, per entry (the top shared resources first) and per consuming department, and
    /// each provider department's sharing rate. Audited.
    pub async fn health(&self, c: &Caller, days: u32) -> Result<Health> {
        c.require(
            &self.store,
            perm::USAGE_VIEW,
            "exchange.usage",
            "gateway",
            None,
        )
        .await?;
        let days = days.clamp(1, 366);
        let since = shuju_store::fmt_time(chrono::Utc::now() - chrono::Duration::days(days.into()));
        let h = Health {
            days,
            grants: gw::use_stats(&self.store, gw::UseBy::Grant, &since).await?,
            entries: gw::use_stats(&self.store, gw::UseBy::Entry, &since).await?,
            consumers: gw::use_stats(&self.store, gw::UseBy::ConsumerDept, &since).await?,
            sharing: gw::sharing_rates(&self.store, &since).await?,
        };
        let _ = audit::record(
            &self.store,
            &c.entry(
                "exchange.usage",
                "gateway",
                None,
                Outcome::Ok,
                Some(format!("{days} days")),
            ),
        )
        .await;
        Ok(h)
    }

    /// Each provider department's sharing over the past 30 days (for /metrics; no personal data).
    pub async fn sharing_rates(&self) -> Result<Vec<gw::SharingRate>> {
        let since = shuju_store::fmt_time(chrono::Utc::now() - chrono::Duration::days(30));
        gw::sharing_rates(&self.store, &since).await
    }

    /// Every answered gateway call that touched a citizen's (or an enterprise's) records: which
    /// department's system read which entry's items, when and for what purpose. Audited.
    pub async fn data_use(&self, c: &Caller, subject: &str) -> Result<Vec<gw::DataUseRow>> {
        c.require(
            &self.store,
            perm::DATA_USE_VIEW,
            "exchange.datause",
            "gateway_call",
            None,
        )
        .await?;
        let s = subject.trim();
        let s = match (CitizenId::parse(s), CreditCode::parse(s)) {
            (Ok(id), _) => id.as_str().to_owned(),
            (_, Ok(code)) => code.as_str().to_owned(),
            (Err(e), Err(_)) => return Err(e.in_field("subject")),
        };
        let rows = gw::data_use(&self.store, &s, 500).await?;
        let _ = audit::record(
            &self.store,
            &c.entry(
                "exchange.datause",
                "subject",
                Some(shuju_lake::query::mask_str(&s)),
                Outcome::Ok,
                Some(format!("{} uses", rows.len())),
            ),
        )
        .await;
        Ok(rows)
    }
}

/// The record of a call through a grant (or a bulk delivery): (status, rows out, milliseconds).
pub(crate) fn call_of(
    g: &GrantRow,
    actor: &str,
    (status, rows_out, ms): (i64, i64, i64),
    day: String,
    subjects: Vec<String>,
) -> NewCall {
    NewCall {
        grant_id: g.id,
        entry_id: g.entry_id,
        consumer_dept_id: g.consumer_dept_id,
        consumer_system: g.consumer_system.clone(),
        purpose: g.purpose.clone(),
        actor: actor.to_owned(),
        status,
        rows_out,
        ms,
        day,
        subjects,
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The group-commit writer: takes the calls waiting, records them and their audit records in one
/// transaction, and tells each call whether it is committed. Settles the in-memory usage: an
/// answered call no longer pending, or not counted at all if its record failed.
async fn write_calls(store: Store, usage: UsageMap, mut rx: mpsc::UnboundedReceiver<Job>) {
    let mut jobs: Vec<Job> = Vec::new();
    while let Some(j) = rx.recv().await {
        jobs.push(j);
        while jobs.len() < GROUP {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let ok = match write_group(&store, &mut jobs).await {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(error = %e.report(), calls = jobs.len(), "gateway calls not recorded");
                false
            }
        };
        {
            let mut u = lock(&usage);
            for j in jobs.iter().filter(|j| j.call.status == 200) {
                if let Some(x) = u.get_mut(&j.call.grant_id) {
                    x.pending -= 1;
                    if !ok && x.day == j.call.day {
                        x.calls -= 1;
                        x.rows -= j.call.rows_out;
                    }
                }
            }
        }
        for j in jobs.drain(..) {
            let _ = j.done.send(ok);
        }
    }
}

async fn write_group(store: &Store, jobs: &mut [Job]) -> Result<()> {
    let calls: Vec<NewCall> = jobs.iter().map(|j| j.call.clone()).collect();
    let mut tx = store.write().await?;
    let ids = gw::record_calls(&mut tx, &calls).await?;
    for (j, id) in jobs.iter_mut().zip(&ids) {
        j.audit.detail = Some(format!(
            "call {id}: {}",
            j.audit.detail.as_deref().unwrap_or_default()
        ));
    }
    let entries: Vec<AuditEntry> = jobs.iter().map(|j| j.audit.clone()).collect();
    audit::append_many(&mut tx, &entries).await?;
    tx.commit().await
}
