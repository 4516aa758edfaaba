//! The data-service gateway (数据共享服务接口): each grant is an endpoint that answers the granted
//! items of the rows asked for — one row by its key (a citizen ID, a credit code) or a batch — to
//! the consumer department's systems only. Sensitive items are masked unless the grant's terms
//! release them unmasked; per-grant quotas (calls and rows a day) and a rate (calls a second) are
//! enforced at runtime with 429 and when to retry. Every call is recorded with the persons and
//! enterprises it touched ("who used my data") and audited.

use crate::requests::Exchange;
use serde::Serialize;
use shuju_admin::{Caller, perm};
use shuju_catalog::model::SharingKind;
use shuju_lake::Lake;
use shuju_lake::spec::{Check, Kind, TableSpec};
use shuju_store::Store;
use shuju_store::audit::{self, Outcome};
use shuju_store::exchange::{self as store, GrantRow};
use shuju_store::gateway::{self as gw, NewCall, Terms};
use shuju_types::{CitizenId, CreditCode, Error, ErrorCode, Result};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

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

/// The gateway: grant checks, masking, quotas, the call log.
#[derive(Clone)]
pub struct Gateway {
    store: Store,
    exchange: Exchange,
    lake: Lake,
    /// Per grant: the second a window started and the calls in it.
    window: Arc<Mutex<HashMap<i64, (u64, i64)>>>,
    started: Instant,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").finish_non_exhaustive()
    }
}

fn today() -> String {
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
fn subject(check: Option<&Check>, v: &serde_json::Value) -> Option<String> {
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
        }
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

    /// Answer a call through a grant's endpoint.
    pub async fn call(&self, c: &Caller, grant_id: i64, ask: &Ask) -> Result<Answer> {
        let t0 = Instant::now();
        let g = store::get_grant(&self.store, grant_id)
            .await?
            .ok_or_else(|| Error::not_found(format!("grant {grant_id}")))?;
        let day = today();
        let outcome = self.answer(c, &g, ask, &day).await;
        // Every call is recorded: answered ones with the subjects they touched and against the
        // day's usage, refused ones with their status.
        let (status, rows, subjects) = match &outcome {
            Ok((a, subjects)) => (200, a.rows.len() as i64, subjects.clone()),
            Err(e) => (
                i64::from(match e.code {
                    ErrorCode::PermissionDenied => 403u16,
                    ErrorCode::RateLimited => 429,
                    ErrorCode::NotFound => 404,
                    ErrorCode::InvalidArgument => 400,
                    _ => 500,
                }),
                0,
                Vec::new(),
            ),
        };
        let call = NewCall {
            grant_id: g.id,
            entry_id: g.entry_id,
            consumer_dept_id: g.consumer_dept_id,
            consumer_system: &g.consumer_system,
            purpose: &g.purpose,
            actor: &c.username,
            status,
            rows_out: rows,
            ms: t0.elapsed().as_millis() as i64,
            day: &day,
        };
        let mut tx = self.store.write().await?;
        let call_id = gw::record_call(&mut tx, &call, &subjects).await?;
        audit::append(
            &mut tx,
            &c.entry(
                "exchange.gateway.call",
                "share_grant",
                Some(g.id.to_string()),
                if status == 200 {
                    Outcome::Ok
                } else {
                    Outcome::Rejected
                },
                Some(format!(
                    "call {call_id}: {status}, {rows} rows, {} subjects, purpose “{}”",
                    subjects.len(),
                    g.purpose
                )),
            ),
        )
        .await?;
        tx.commit().await?;
        outcome.map(|(mut a, _)| {
            if status == 200 {
                a.calls_left -= 1;
                a.rows_left -= rows;
            }
            a
        })
    }

    async fn answer(
        &self,
        c: &Caller,
        g: &GrantRow,
        ask: &Ask,
        day: &str,
    ) -> Result<(Answer, Vec<String>)> {
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
        let used = gw::usage(&self.store, g.id, day).await?;
        if used.calls >= g.calls_per_day {
            return Err(Error::rate_limited(
                format!(
                    "grant {} used its {} calls today; the quota resets at midnight",
                    g.id, g.calls_per_day
                ),
                until_tomorrow(),
            ));
        }
        // The entry's items as granted now (an item no longer shared is not answered).
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
        let mut cols: Vec<(&shuju_lake::spec::ColumnSpec, bool)> = Vec::new();
        for name in &granted {
            let shared = entry
                .items
                .iter()
                .find(|i| &i.name == name)
                .is_some_and(|i| i.sharing.min(entry.sharing.kind) != SharingKind::NotShared);
            if let (true, Some(col)) = (shared, spec.columns.iter().find(|c| &c.title == name)) {
                cols.push((col, col.sensitive && !unmasked.contains(name)));
            }
        }
        if cols.is_empty() {
            return Err(Error::forbidden(format!(
                "none of the granted items is in the data; {why}"
            )));
        }
        let rows = self.rows(&spec, &cols, ask).await?;
        let left = g.rows_per_day - used.rows_out;
        if rows.len() as i64 > left {
            return Err(Error::rate_limited(
                format!(
                    "grant {} has {left} of its {} rows left today; ask for fewer or wait for midnight",
                    g.id, g.rows_per_day
                ),
                until_tomorrow(),
            ));
        }
        // The persons and enterprises touched: the identifiers in the rows, before masking.
        let mut subjects: Vec<String> = Vec::new();
        for row in &rows {
            for col in spec
                .columns
                .iter()
                .filter(|c| matches!(c.check, Some(Check::CitizenId) | Some(Check::CreditCode)))
            {
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
                resource_code: entry.code.clone(),
                items: cols
                    .iter()
                    .map(|(c, _)| (c.name.clone(), c.title.clone()))
                    .collect(),
                masked: cols
                    .iter()
                    .filter(|(_, m)| *m)
                    .map(|(c, _)| c.name.clone())
                    .collect(),
                calls_left: g.calls_per_day - used.calls,
                rows_left: left,
                rows: out,
            },
            subjects,
        ))
    }

    /// The rows asked for, every column of the table (the identifiers are read for the call log;
    /// only granted columns leave).
    async fn rows(
        &self,
        spec: &TableSpec,
        cols: &[(&shuju_lake::spec::ColumnSpec, bool)],
        ask: &Ask,
    ) -> Result<Vec<serde_json::Map<String, serde_json::Value>>> {
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
            (Some(k), None) => format!(
                "SELECT {} FROM \"{}\" WHERE \"{key}\" = {}",
                names.join(", "),
                spec.name,
                quote(k.trim())
            ),
            (None, Some(n)) if (1..=MAX_BATCH).contains(&n) => format!(
                "SELECT {} FROM \"{}\" {} ORDER BY \"{key}\" LIMIT {n}",
                names.join(", "),
                spec.name,
                ask.after
                    .as_deref()
                    .map(|a| format!("WHERE \"{key}\" > {}", quote(a)))
                    .unwrap_or_default()
            ),
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
        };
        let r = self
            .lake
            .sql(&Caller::system(), &sql, &BTreeMap::new(), MAX_BATCH)
            .await?;
        Ok(r.rows)
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
