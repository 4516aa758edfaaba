//! Sharing requests and grants under the sharing law: a department asks for a published entry (or
//! some of its items) with a purpose, legal basis, period and consuming system. Unconditional items
//! are granted at once; not-shared items are refused at once, citing the entry's legal basis;
//! conditional items go to the bureau's compliance check, then to the provider, each step with a
//! deadline on the working-day calendar, escalated when it passes. Every refusal needs a reason;
//! every step is audited. "Why was I denied?" answers from the same facts.

use crate::calendar::{Calendar, Deadlines};
use serde_json::json;
use shuju_admin::{Admin, Caller, perm};
use shuju_catalog::Catalog;
use shuju_catalog::model::SharingKind;
use shuju_store::audit::{self, Outcome};
use shuju_store::exchange::{self as store, GrantRow, RequestRow};
use shuju_store::{Store, WriteTx};
use shuju_types::{Error, Result};

/// What a department asks for.
#[derive(Clone, Debug, Default)]
pub struct RequestInput {
    pub entry_id: i64,
    /// Item names; empty means every item.
    pub items: Vec<String>,
    pub purpose: String,
    pub legal_basis: Option<String>,
    /// YYYY-MM-DD
    pub period_until: String,
    pub consumer_system: String,
    /// A complex request gets the provider's longer deadline.
    pub complex: bool,
}

#[derive(Clone)]
pub struct Exchange {
    admin: Admin,
    store: Store,
    catalog: Catalog,
    calendar: Calendar,
    deadlines: Deadlines,
}

impl std::fmt::Debug for Exchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exchange")
            .field("deadlines", &self.deadlines)
            .finish()
    }
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

impl Exchange {
    pub fn new(admin: Admin, catalog: Catalog, calendar: Calendar, deadlines: Deadlines) -> Self {
        Exchange {
            store: admin.store().clone(),
            admin,
            catalog,
            calendar,
            deadlines,
        }
    }

    async fn require(&self, c: &Caller, p: &str, action: &str) -> Result<()> {
        c.require(&self.store, p, action, "share_request", None)
            .await
    }

    /// A refusal needs a reason (refused and audited without one).
    async fn need_reason(
        &self,
        c: &Caller,
        action: &str,
        id: i64,
        accepted: bool,
        reason: &str,
    ) -> Result<()> {
        if accepted || !reason.trim().is_empty() {
            return Ok(());
        }
        Err(self
            .refuse(
                c,
                action,
                Some(id),
                Error::invalid("reason", "a refusal needs a reason"),
            )
            .await)
    }

    /// End a decision: record a refusal (when there is one), audit the decision, commit, and read
    /// the request back.
    #[allow(clippy::too_many_arguments)]
    async fn settle(
        &self,
        mut tx: WriteTx,
        c: &Caller,
        action: &str,
        id: i64,
        day: &str,
        refusal: Option<&str>,
        accepted: &str,
    ) -> Result<RequestRow> {
        if let Some(reason) = refusal {
            store::set_stage(
                &mut tx,
                id,
                "refused",
                day,
                None,
                Some(reason),
                Some(&c.username),
            )
            .await?;
        }
        let detail = match refusal {
            Some(reason) => format!("refused: {reason}"),
            None => accepted.to_owned(),
        };
        audit::append(
            &mut tx,
            &c.entry(
                action,
                "share_request",
                Some(id.to_string()),
                Outcome::Ok,
                Some(detail),
            ),
        )
        .await?;
        tx.commit().await?;
        store::get_request(&self.store, id)
            .await?
            .ok_or_else(|| Error::not_found("request"))
    }

    async fn refuse(&self, c: &Caller, action: &str, id: Option<i64>, e: Error) -> Error {
        let detail = e
            .field
            .as_ref()
            .map(|f| format!("field: {f}"))
            .or_else(|| Some(e.code.as_str().into()));
        let _ = audit::record(
            &self.store,
            &c.entry(
                action,
                "share_request",
                id.map(|i| i.to_string()),
                Outcome::Rejected,
                detail,
            ),
        )
        .await;
        e
    }

    /// Ask for shared data. Returns the request in the state the law's classes put it in.
    pub async fn request(&self, c: &Caller, input: RequestInput) -> Result<RequestRow> {
        const ACTION: &str = "exchange.request";
        self.require(c, perm::EXCHANGE_REQUEST, ACTION).await?;
        let consumer = c
            .dept_id
            .ok_or_else(|| Error::invalid("consumer", "the caller has no department"))?;
        let checked = self.check(&input).await;
        let (entry, items) = match checked {
            Ok(v) => v,
            Err(e) => return Err(self.refuse(c, ACTION, None, e).await),
        };
        if entry.provider_dept_id == consumer {
            return Err(self
                .refuse(
                    c,
                    ACTION,
                    None,
                    Error::invalid("entry_id", "a department does not request its own data"),
                )
                .await);
        }
        let kinds: Vec<SharingKind> = items
            .iter()
            .map(|name| {
                entry
                    .items
                    .iter()
                    .find(|i| &i.name == name)
                    .map(|i| i.sharing.min(entry.sharing.kind))
                    .unwrap_or(SharingKind::NotShared)
            })
            .collect();
        let day = today().format("%Y-%m-%d").to_string();
        let (status, deadline, reason) = if kinds.contains(&SharingKind::NotShared) {
            let basis = entry
                .sharing
                .legal_basis
                .clone()
                .unwrap_or_else(|| "the entry's sharing attribute".into());
            let names: Vec<&str> = items
                .iter()
                .zip(&kinds)
                .filter(|(_, k)| **k == SharingKind::NotShared)
                .map(|(n, _)| n.as_str())
                .collect();
            (
                "refused",
                None,
                Some(format!(
                    "not shared: {} — legal basis: {basis}",
                    names.join("、")
                )),
            )
        } else if kinds.contains(&SharingKind::Conditional) {
            let d = self
                .calendar
                .add_working_days(today(), self.deadlines.bureau_check);
            ("bureau_check", Some(d.format("%Y-%m-%d").to_string()), None)
        } else {
            ("granted", None, Some("unconditional sharing".into()))
        };
        let row = RequestRow {
            id: 0,
            entry_id: input.entry_id,
            consumer_dept_id: consumer,
            consumer_system: input.consumer_system.trim().into(),
            items: json!(items).to_string(),
            purpose: input.purpose.trim().into(),
            legal_basis: input.legal_basis.clone().filter(|s| !s.trim().is_empty()),
            period_until: input.period_until.clone(),
            complex: i64::from(input.complex),
            status: status.into(),
            stage_started: day,
            deadline,
            escalated: 0,
            decision_reason: reason,
            decided_by: (status != "bureau_check").then(|| "system".to_owned()),
            created_by: c.username.clone(),
            created_at: String::new(),
            updated_at: String::new(),
        };
        let mut tx = self.store.write().await?;
        let id = store::insert_request(&mut tx, &row).await?;
        let mut entry_audit = c.entry(
            ACTION,
            "share_request",
            Some(id.to_string()),
            Outcome::Ok,
            Some(format!("entry {}: {status}", input.entry_id)),
        );
        entry_audit.purpose = Some(row.purpose.clone());
        audit::append(&mut tx, &entry_audit).await?;
        if status == "granted" {
            let mut r = row.clone();
            r.id = id;
            store::insert_grant(&mut tx, &r).await?;
        }
        tx.commit().await?;
        store::get_request(&self.store, id)
            .await?
            .ok_or_else(|| Error::not_found("request"))
    }

    async fn check(
        &self,
        input: &RequestInput,
    ) -> Result<(shuju_catalog::model::Entry, Vec<String>)> {
        let entry = self
            .catalog
            .published(&input.entry_id.to_string())
            .await
            .map_err(|e| match e.code {
                shuju_types::ErrorCode::NotFound => {
                    Error::invalid("entry_id", "no such published catalog entry")
                }
                _ => e,
            })?
            .entry;
        if input.purpose.trim().chars().count() < 4 {
            return Err(Error::invalid(
                "purpose",
                "state the purpose (at least 4 characters)",
            ));
        }
        if input.consumer_system.trim().is_empty() {
            return Err(Error::invalid(
                "consumer_system",
                "name the system that will use the data",
            ));
        }
        let until = chrono::NaiveDate::parse_from_str(&input.period_until, "%Y-%m-%d")
            .map_err(|_| Error::invalid("period_until", "must be a date YYYY-MM-DD"))?;
        if until <= today() {
            return Err(Error::invalid("period_until", "must be in the future"));
        }
        let items: Vec<String> = if input.items.is_empty() {
            entry.items.iter().map(|i| i.name.clone()).collect()
        } else {
            input.items.clone()
        };
        if let Some(bad) = items
            .iter()
            .find(|n| !entry.items.iter().any(|i| &i.name == *n))
        {
            return Err(Error::invalid(
                "items",
                format!("the entry has no item '{bad}'"),
            ));
        }
        Ok((entry, items))
    }

    /// The bureau's compliance check: pass to the provider, or refuse with a reason.
    pub async fn bureau_decide(
        &self,
        c: &Caller,
        id: i64,
        pass: bool,
        reason: &str,
    ) -> Result<RequestRow> {
        const ACTION: &str = "exchange.check";
        self.require(c, perm::EXCHANGE_CHECK, ACTION).await?;
        let r = self.open_request(c, ACTION, id, "bureau_check").await?;
        self.need_reason(c, ACTION, id, pass, reason).await?;
        let day = today().format("%Y-%m-%d").to_string();
        let mut tx = self.store.write().await?;
        if pass {
            let days = if r.complex != 0 {
                self.deadlines.provider_complex
            } else {
                self.deadlines.provider_simple
            };
            let d = self
                .calendar
                .add_working_days(today(), days)
                .format("%Y-%m-%d")
                .to_string();
            store::set_stage(&mut tx, id, "provider_review", &day, Some(&d), None, None).await?;
        }
        self.settle(
            tx,
            c,
            ACTION,
            id,
            &day,
            (!pass).then(|| reason.trim()),
            "passed",
        )
        .await
    }

    /// The provider's answer: grant, or refuse with a reason.
    pub async fn provider_decide(
        &self,
        c: &Caller,
        id: i64,
        grant: bool,
        reason: &str,
    ) -> Result<RequestRow> {
        const ACTION: &str = "exchange.answer";
        self.require(c, perm::EXCHANGE_ANSWER, ACTION).await?;
        let r = self.open_request(c, ACTION, id, "provider_review").await?;
        let entry = self.catalog.published(&r.entry_id.to_string()).await?;
        if !self
            .admin
            .visibility(c)
            .await?
            .sees_dept(entry.row.provider_dept_id)
        {
            return Err(self
                .refuse(c, ACTION, Some(id), Error::not_found("request"))
                .await);
        }
        self.need_reason(c, ACTION, id, grant, reason).await?;
        let day = today().format("%Y-%m-%d").to_string();
        let mut tx = self.store.write().await?;
        if grant {
            store::set_stage(
                &mut tx,
                id,
                "granted",
                &day,
                None,
                Some(reason.trim()).filter(|s| !s.is_empty()),
                Some(&c.username),
            )
            .await?;
            store::insert_grant(&mut tx, &r).await?;
        }
        self.settle(
            tx,
            c,
            ACTION,
            id,
            &day,
            (!grant).then(|| reason.trim()),
            "granted",
        )
        .await
    }

    async fn open_request(
        &self,
        c: &Caller,
        action: &str,
        id: i64,
        stage: &str,
    ) -> Result<RequestRow> {
        match store::get_request(&self.store, id).await? {
            Some(r) if r.status == stage => Ok(r),
            Some(r) => Err(self
                .refuse(
                    c,
                    action,
                    Some(id),
                    Error::conflict(format!("the request is {}, not {stage}", r.status)),
                )
                .await),
            None => Err(self
                .refuse(c, action, Some(id), Error::not_found("request"))
                .await),
        }
    }

    /// Mark every request past its deadline as escalated (to the bureau's leaders); returns them.
    pub async fn escalate_overdue(&self) -> Result<Vec<RequestRow>> {
        let day = today().format("%Y-%m-%d").to_string();
        let overdue = store::overdue(&self.store, &day).await?;
        for r in &overdue {
            let mut tx = self.store.write().await?;
            store::set_escalated(&mut tx, r.id).await?;
            audit::append(
                &mut tx,
                &Caller::system().entry(
                    "exchange.escalate",
                    "share_request",
                    Some(r.id.to_string()),
                    Outcome::Ok,
                    Some(format!(
                        "{} overdue since {}",
                        r.status,
                        r.deadline.clone().unwrap_or_default()
                    )),
                ),
            )
            .await?;
            tx.commit().await?;
        }
        Ok(overdue)
    }

    /// Requests the caller's departments made, or (`to_check`) all waiting for the bureau, or
    /// (`to_answer`) those waiting for the caller's departments as providers.
    pub async fn requests(&self, c: &Caller, view: &str) -> Result<Vec<RequestRow>> {
        self.require(c, perm::EXCHANGE_LIST, "exchange.list")
            .await?;
        let vis = self.admin.visibility(c).await?;
        let mine: Option<Vec<i64>> =
            (!vis.all).then(|| vis.depts.iter().copied().chain(c.dept_id).collect());
        match view {
            "to_check" if c.can(perm::EXCHANGE_CHECK) => {
                store::list_requests(&self.store, Some("bureau_check"), None, None).await
            }
            "to_answer" => {
                store::list_requests(&self.store, Some("provider_review"), None, mine.as_deref())
                    .await
            }
            _ => store::list_requests(&self.store, None, mine.as_deref(), None).await,
        }
    }

    /// Grants of the caller's departments.
    pub async fn grants(&self, c: &Caller) -> Result<Vec<GrantRow>> {
        self.require(c, perm::EXCHANGE_LIST, "exchange.list")
            .await?;
        let vis = self.admin.visibility(c).await?;
        let mine: Option<Vec<i64>> =
            (!vis.all).then(|| vis.depts.iter().copied().chain(c.dept_id).collect());
        store::grants_of(&self.store, mine.as_deref(), None).await
    }

    pub async fn revoke_grant(&self, c: &Caller, id: i64, reason: &str) -> Result<GrantRow> {
        const ACTION: &str = "exchange.revoke";
        self.require(c, perm::GRANT_REVOKE, ACTION).await?;
        if reason.trim().is_empty() {
            return Err(self
                .refuse(
                    c,
                    ACTION,
                    Some(id),
                    Error::invalid("reason", "revoking a grant needs a reason"),
                )
                .await);
        }
        let mut tx = self.store.write().await?;
        if store::revoke_grant(&mut tx, id, reason.trim()).await? == 0 {
            drop(tx);
            return Err(self
                .refuse(c, ACTION, Some(id), Error::not_found("active grant"))
                .await);
        }
        audit::append(
            &mut tx,
            &c.entry(
                ACTION,
                "share_grant",
                Some(id.to_string()),
                Outcome::Ok,
                Some(reason.trim().into()),
            ),
        )
        .await?;
        tx.commit().await?;
        store::get_grant(&self.store, id)
            .await?
            .ok_or_else(|| Error::not_found("grant"))
    }

    /// A published entry as the catalog has it now (the gateway checks each item's sharing).
    pub async fn published_entry(&self, entry_id: i64) -> Result<shuju_catalog::model::Entry> {
        Ok(self.catalog.published(&entry_id.to_string()).await?.entry)
    }

    /// Why may (or may not) the caller's department read these items of this entry?
    pub async fn why(&self, c: &Caller, entry_id: i64, items: &[String]) -> Result<String> {
        self.require(c, perm::EXCHANGE_LIST, "exchange.why").await?;
        let consumer = c
            .dept_id
            .ok_or_else(|| Error::invalid("consumer", "the caller has no department"))?;
        let Ok(entry) = self.catalog.published(&entry_id.to_string()).await else {
            return Ok(format!(
                "entry {entry_id} is not in the published catalog: nothing can be shared from it"
            ));
        };
        let e = entry.entry;
        if e.provider_dept_id == consumer {
            return Ok("your department provides this entry".into());
        }
        let wanted: Vec<String> = if items.is_empty() {
            e.items.iter().map(|i| i.name.clone()).collect()
        } else {
            items.to_vec()
        };
        let day = today().format("%Y-%m-%d").to_string();
        let grants = store::grants_of(&self.store, Some(&[consumer]), Some(entry_id)).await?;
        let mut lines = Vec::new();
        for name in &wanted {
            let Some(item) = e.items.iter().find(|i| &i.name == name) else {
                lines.push(format!("{name}: the entry has no such item"));
                continue;
            };
            if item.sharing.min(e.sharing.kind) == SharingKind::NotShared {
                lines.push(format!(
                    "{name}: not shared — legal basis: {}",
                    e.sharing.legal_basis.clone().unwrap_or_default()
                ));
                continue;
            }
            let covering = grants.iter().find(|g| {
                g.revoked_at.is_none()
                    && g.valid_until >= day
                    && serde_json::from_str::<Vec<String>>(&g.items)
                        .unwrap_or_default()
                        .contains(name)
            });
            match covering {
                Some(g) => lines.push(format!(
                    "{name}: granted by grant {} until {} for “{}”",
                    g.id, g.valid_until, g.purpose
                )),
                None => {
                    let revoked = grants.iter().find(|g| {
                        g.revoked_at.is_some()
                            && serde_json::from_str::<Vec<String>>(&g.items)
                                .unwrap_or_default()
                                .contains(name)
                    });
                    let expired = grants.iter().find(|g| {
                        g.valid_until < day
                            && serde_json::from_str::<Vec<String>>(&g.items)
                                .unwrap_or_default()
                                .contains(name)
                    });
                    lines.push(match (revoked, expired) {
                        (Some(g), _) => format!(
                            "{name}: grant {} was revoked ({})",
                            g.id,
                            g.revoked_reason.clone().unwrap_or_default()
                        ),
                        (_, Some(g)) => {
                            format!("{name}: grant {} expired on {}", g.id, g.valid_until)
                        }
                        _ => format!(
                            "{name}: no grant — request it ({})",
                            if item.sharing.min(e.sharing.kind) == SharingKind::Unconditional {
                                "granted at once"
                            } else {
                                "conditional: the bureau checks, then the provider answers"
                            }
                        ),
                    });
                }
            }
        }
        Ok(lines.join("\n"))
    }
}
