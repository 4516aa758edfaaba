//! Approved in seconds (秒批): an instant matter's rule set decides a case from facts drawn only
//! from the applicant's file and the e-licenses shown, or sends it to an officer with the reason;
//! every decided case, instant or manual, gets a receipt signed with the bureau's ES256 key and
//! SM2 seal, carrying the rows that fired and a salted hash of each fact used (never its value).

use crate::case::{Case, Event, FactUsed, Outcome as Decision, Route, RuleRow, Screened};
use crate::matter::Instant;
use crate::{HistoryItem, Services};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use shuju_admin::{Caller, perm};
use shuju_identity::checks;
use shuju_identity::fill::Filled;
use shuju_license::registry::Standing;
use shuju_store::audit::{self, Outcome};
use shuju_store::service::{self as db, ReceiptRow};
use shuju_types::{Error, Result};

/// The receipt format's name, in every payload.
pub const RECEIPT_TYPE: &str = "shuju.decision-receipt/v1";

/// Where the rows that fired send a case, and the reasons the applicant is shown.
pub fn route(rows: &[RuleRow]) -> (Route, Vec<String>) {
    if rows.is_empty() {
        return (
            Route::Manual,
            vec!["规则没有给出结论，转人工办理".to_owned()],
        );
    }
    let manual: Vec<String> = rows
        .iter()
        .filter(|r| r.manual)
        .map(|r| r.reason.clone())
        .collect();
    if !manual.is_empty() {
        return (Route::Manual, manual);
    }
    let failed: Vec<String> = rows
        .iter()
        .filter(|r| !r.pass)
        .map(|r| {
            if r.basis.is_empty() {
                r.reason.clone()
            } else {
                format!("{}（{}）", r.reason, r.basis)
            }
        })
        .collect();
    if failed.is_empty() {
        (Route::Approve, Vec::new())
    } else {
        (Route::Refuse, failed)
    }
}

/// A fact value's hash in a receipt: SHA-256 over the case's salt, the fact's name and its
/// canonical JSON value, hex. Whoever holds the case file can recompute it; the receipt alone
/// does not reveal the value.
pub fn fact_hash(salt: &str, name: &str, value: &str) -> String {
    let mut h = Sha256::new();
    for part in [salt, name, value] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    hex::encode(h.finalize())
}

fn canonical(v: &Value) -> String {
    shuju_license::seal::canonical(v)
}

/// Evaluate vetted rules on facts, off the async threads.
pub(crate) async fn evaluate(rules: checks::Rules, facts: Value) -> Result<Vec<RuleRow>> {
    let out = tokio::task::spawn_blocking(move || checks::evaluate(rules, &facts))
        .await
        .map_err(Error::internal)??;
    Ok(rule_rows(out))
}

/// The engine's answers as a case keeps them.
pub(crate) fn rule_rows(out: Vec<checks::RuleOutcome>) -> Vec<RuleRow> {
    out.into_iter()
        .map(|r| RuleRow {
            rule: r.rule,
            pass: r.pass,
            manual: r.manual,
            reason: r.reason,
            basis: r.basis,
        })
        .collect()
}

/// A decided case's receipt as its readers get it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReceiptView {
    /// What was signed: the matter and rule set with their versions, the rows that fired with
    /// their legal basis, the facts used (source, version, salted hash), the e-licenses shown,
    /// the outcome and the time.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub payload: Value,
    /// Compact JWS (ES256) whose payload is `payload`.
    pub jws: String,
    pub es256_kid: String,
    /// SM2 signature (r‖s, hex) with SM3 over the canonical JSON of `payload` (keys sorted, no
    /// white space), default distinguishing identifier.
    pub seal: String,
    pub sm2_kid: String,
    pub created_at: String,
    /// Where the keys are published.
    pub trust_list: String,
}

impl From<ReceiptRow> for ReceiptView {
    fn from(r: ReceiptRow) -> ReceiptView {
        ReceiptView {
            payload: serde_json::from_str(&r.payload).unwrap_or_default(),
            jws: r.jws,
            es256_kid: r.es256_kid,
            seal: r.seal,
            sm2_kid: r.sm2_kid,
            created_at: r.created_at,
            trust_list: "/api/v1/licenses/trust-list".into(),
        }
    }
}

/// The payload a decided case's receipt signs.
pub fn receipt_payload(
    id: i64,
    case: &Case,
    history: &[HistoryItem],
    matter_name: &str,
    at: &str,
) -> Result<Value> {
    let decided = case
        .decided
        .as_ref()
        .ok_or_else(|| Error::conflict(format!("case {id} is not decided")))?;
    let steps: Vec<Value> = history
        .iter()
        .filter_map(|h| match &h.event {
            Event::TaskDone {
                stage,
                by,
                decision,
                note,
            } => Some(
                json!({"stage": stage, "by": by, "decision": decision, "note": note, "at": h.at}),
            ),
            _ => None,
        })
        .collect();
    let (route, rule_set, rows, facts, licenses, reasons) = match &case.screened {
        Some(s) => (
            if s.route == Route::Manual {
                "manual"
            } else {
                "instant"
            },
            json!({"key": s.rule_set, "version": s.rule_set_version}),
            json!(s.rows),
            s.facts
                .iter()
                .map(|f| {
                    json!({"name": f.name, "source": f.source, "version": f.version,
                           "sha256": fact_hash(&s.salt, &f.name, &f.value)})
                })
                .collect::<Vec<_>>(),
            s.licenses.clone(),
            s.reasons.clone(),
        ),
        None => (
            "manual",
            Value::Null,
            json!([]),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        ),
    };
    let mut shown: Vec<String> = licenses;
    for m in case.materials.iter().filter(|m| m.served_by == "license") {
        if !shown.contains(&m.detail) {
            shown.push(m.detail.clone());
        }
    }
    let decided_by = match (route, steps.last()) {
        ("instant", _) => format!(
            "rules:{}@{}",
            rule_set["key"].as_str().unwrap_or_default(),
            rule_set["version"]
        ),
        (_, Some(s)) => s["by"].as_str().unwrap_or_default().to_owned(),
        _ => String::new(),
    };
    Ok(json!({
        "type": RECEIPT_TYPE,
        "case_id": id,
        "matter": {"code": case.matter, "version": case.matter_version, "name": matter_name},
        "process": {"name": case.process, "version": case.process_version},
        "route": route,
        "rule_set": rule_set,
        "rows": rows,
        "screening_reasons": reasons,
        "facts": facts,
        "licenses_shown": shown,
        "officer_steps": steps,
        "outcome": match decided.outcome {
            Decision::Approved => "approved",
            Decision::Refused => "refused",
        },
        "basis": decided.basis,
        "decided_by": decided_by,
        "decided_on": decided.on,
        "license_issued": case.license,
        "review": format!("/api/v1/cases/{id}"),
        "signed_at": at,
    }))
}

impl Services {
    /// The newest version of a rule set, vetted (cached by version: a saved version never
    /// changes).
    pub(crate) async fn rules(&self, key: &str) -> Result<(i64, checks::Rules)> {
        let row = self
            .persons
            .rule_set(&Caller::system(), key)
            .await
            .map_err(|e| match e.code {
                shuju_types::ErrorCode::NotFound => {
                    Error::invalid("instant.rules", format!("there is no rule set {key}"))
                }
                _ => e,
            })?;
        let k = (key.to_owned(), row.version);
        if let Some(r) = crate::lock(&self.rules_cache).get(&k) {
            return Ok((row.version, r.clone()));
        }
        let parsed = checks::parse(&row.jdm).map_err(|e| e.in_field("instant.rules"))?;
        crate::lock(&self.rules_cache).insert(k, parsed.clone());
        Ok((row.version, parsed))
    }

    /// Screen a case of an instant matter: the declared facts from the applicant's file (read
    /// with consent), the required e-licenses valid and unexpired, then the rules. Anything
    /// missing or withdrawn, or a row saying so, routes the case to an officer with the reason.
    pub(crate) async fn screen(
        &self,
        i: &Instant,
        applicant: &str,
        consent: bool,
        filled: Option<&Filled>,
    ) -> Result<Screened> {
        let (version, rules) = self.rules(&i.rules).await?;
        let mut reasons = Vec::new();
        let mut facts = serde_json::Map::new();
        let mut used = Vec::new();
        if !consent {
            reasons.push("申请人未同意读取其数据，转人工办理".to_owned());
        } else if let Some(fl) = filled {
            for name in &i.facts {
                match fl.facts.get(name).filter(|v| !v.is_null()) {
                    Some(v) => {
                        facts.insert(name.clone(), v.clone());
                        used.push(FactUsed {
                            name: name.clone(),
                            source: "person_file".into(),
                            version: fl.fact_versions.get(name).copied().unwrap_or(0),
                            value: canonical(v),
                        });
                    }
                    None => reasons.push(format!("档案中缺少数据：{name}，转人工办理")),
                }
            }
            for o in self.persons.overdue(&i.facts, i.fresh_days).await? {
                reasons.push(match o.delivered {
                    Some(at) => format!(
                        "{} 的数据来源 {} 最近一次更新于 {}，超过 {} 天，转人工办理",
                        o.fact,
                        o.table,
                        at.get(..10).unwrap_or(&at),
                        o.days
                    ),
                    None => format!(
                        "{} 的数据来源 {} 尚无成功交换的数据，转人工办理",
                        o.fact, o.table
                    ),
                });
            }
        } else {
            reasons.push("未找到申请人的档案，转人工办理".to_owned());
        }
        let mut licenses = Vec::new();
        for t in &i.licenses {
            match self.licenses.standing(applicant, t).await? {
                Standing::Valid(id) => licenses.push(id),
                Standing::Expired(id) => {
                    reasons.push(format!("电子证照 {id} 已过有效期，转人工办理"))
                }
                Standing::Withdrawn(id, status) => reasons.push(format!(
                    "电子证照 {id} 已{}，转人工办理",
                    match status.as_str() {
                        "revoked" => "吊销",
                        "suspended" => "暂停",
                        _ => "失效",
                    }
                )),
                Standing::Missing => reasons.push(format!("未持有{t}，转人工办理")),
            }
        }
        let mut salt = [0u8; 16];
        rand::Rng::fill(&mut rand::thread_rng(), &mut salt);
        let base = Screened {
            rule_set: i.rules.clone(),
            rule_set_version: version,
            route: Route::Manual,
            reasons: Vec::new(),
            rows: Vec::new(),
            facts: used,
            licenses,
            salt: hex::encode(salt),
            sampled: false,
        };
        if !reasons.is_empty() {
            return Ok(Screened { reasons, ..base });
        }
        let rows = evaluate(rules, Value::Object(facts)).await?;
        let (route, reasons) = route(&rows);
        let sampled = route == Route::Approve
            && rand::Rng::gen_range(&mut rand::thread_rng(), 0..100u32) < i.sample_percent;
        Ok(Screened {
            route,
            reasons,
            rows,
            sampled,
            ..base
        })
    }

    /// Sign and keep a decided case's receipt, once; a failure is logged, not the caller's (the
    /// decision stands and the receipt is made on the next read).
    pub(crate) async fn receipt_for(&self, id: i64, case: &Case, history: &[HistoryItem]) {
        if case.decided.is_none() {
            return;
        }
        if let Err(e) = self.write_receipt(id, case, history).await {
            tracing::warn!(case = id, error = %e.report(), "the decision receipt could not be signed");
        }
    }

    async fn write_receipt(&self, id: i64, case: &Case, history: &[HistoryItem]) -> Result<()> {
        if db::receipt(&self.store, id).await?.is_some() {
            return Ok(());
        }
        let name = self.matter_name(&case.matter, case.matter_version).await?;
        let at = shuju_store::now();
        let (row, entry) = self
            .try_receipt(id, case, history, &name, &at)
            .await
            .ok_or_else(|| {
                Error::unavailable("the receipt cannot be signed now; try again later")
            })?;
        let mut tx = self.store.write().await?;
        if db::add_receipt(&mut tx, &row).await? {
            audit::append(&mut tx, &entry).await?;
        }
        tx.commit().await
    }

    /// A decided case's receipt signed to be written with its decision, and the audit record
    /// of its signing; `None` (logged) if it cannot be signed: the decision stands and the
    /// receipt is made later.
    pub(crate) async fn try_receipt(
        &self,
        id: i64,
        case: &Case,
        history: &[HistoryItem],
        matter_name: &str,
        at: &str,
    ) -> Option<(ReceiptRow, audit::AuditEntry)> {
        let signed = async {
            let payload = receipt_payload(id, case, history, matter_name, at)?;
            let signed = self.licenses.sign_receipt(&payload).await?;
            Ok::<_, Error>((payload, signed))
        }
        .await;
        let (payload, signed) = signed
            .inspect_err(|e| {
                tracing::warn!(case = id, error = %e.report(), "the decision receipt could not be signed");
            })
            .ok()?;
        let entry = Caller::system().entry(
            "service.receipt.sign",
            "case",
            Some(id.to_string()),
            Outcome::Ok,
            Some(format!("{}: {}", payload["route"], case.status())),
        );
        Some((
            ReceiptRow {
                case_id: id,
                payload: payload.to_string(),
                jws: signed.jws,
                es256_kid: signed.es256_kid,
                seal: signed.seal,
                sm2_kid: signed.sm2_kid,
                created_at: at.to_owned(),
            },
            entry,
        ))
    }

    /// A decided case's signed receipt, to whoever may see the case (audited). A case decided
    /// before receipts existed gets one now.
    pub async fn receipt(&self, c: &Caller, id: i64) -> Result<ReceiptView> {
        let (case, history) = self.readable(c, id, "service.receipt.read").await?;
        if case.decided.is_none() {
            return Err(Error::not_found(format!(
                "a receipt of case {id}: it is not decided yet"
            )));
        }
        if db::receipt(&self.store, id).await?.is_none() {
            self.write_receipt(id, &case, &history).await?;
        }
        db::receipt(&self.store, id)
            .await?
            .map(Into::into)
            .ok_or_else(|| Error::internal("a receipt just written is missing"))
    }
}

/// An instant approval waiting for its check after the fact.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SpotCheck {
    pub case_id: i64,
    pub matter: String,
    pub rule_set: String,
    pub rule_set_version: i64,
    pub decided_on: String,
    pub license: Option<String>,
}

impl Services {
    /// May the caller check this case after the fact: an officer of its deciding body.
    async fn may_check(&self, c: &Caller, case: &Case) -> Result<bool> {
        let deciding = self.departments().await?.get(&case.deciding).copied();
        Ok(c.can(perm::SERVICE_HANDLE) && deciding.is_some() && c.dept_id == deciding)
    }

    /// The instant approvals of the caller's department drawn for a check after the fact
    /// (随机抽查) and not checked yet.
    pub async fn spot_checks(&self, c: &Caller) -> Result<Vec<SpotCheck>> {
        c.require(
            &self.store,
            perm::SERVICE_HANDLE,
            "service.spot_check.list",
            "service",
            None,
        )
        .await?;
        let mut out = Vec::new();
        for s in db::unchecked_samples(&self.store, 500).await? {
            let (case, _) = self.load(s.case_id).await?;
            if !self.may_check(c, &case).await? {
                continue;
            }
            out.push(SpotCheck {
                case_id: s.case_id,
                matter: case.matter.clone(),
                rule_set: s.rule_set,
                rule_set_version: s.rule_set_version,
                decided_on: case
                    .decided
                    .as_ref()
                    .map(|d| d.on.to_string())
                    .unwrap_or_default(),
                license: case.license.clone(),
            });
        }
        Ok(out)
    }

    /// Record the check of a sampled instant approval: upheld, or found wrong — then the
    /// approval is withdrawn and the license it issued revoked. Once per case; audited.
    pub async fn spot_check(
        &self,
        c: &Caller,
        id: i64,
        upheld: bool,
        finding: &str,
    ) -> Result<crate::CaseView> {
        const ACTION: &str = "service.spot_check";
        c.require(&self.store, perm::SERVICE_HANDLE, ACTION, "service", None)
            .await?;
        if finding.trim().is_empty() || finding.chars().count() > 500 {
            return Err(Error::invalid(
                "finding",
                "say what the check found (at most 500 characters)",
            ));
        }
        let (case, history) = self.load(id).await?;
        if !self.may_check(c, &case).await? {
            return Err(Error::not_found(format!("a check of case {id}")));
        }
        if !db::sample_open(&self.store, id).await? {
            return Err(Error::conflict(format!(
                "case {id} is not an instant approval waiting for its check"
            )));
        }
        let mut tx = self.store.write().await?;
        if !db::record_check(&mut tx, id, &c.username, upheld, finding).await? {
            return Err(Error::conflict(format!("case {id} was checked already")));
        }
        audit::append(
            &mut tx,
            &c.entry(
                ACTION,
                "case",
                Some(id.to_string()),
                Outcome::Ok,
                Some(if upheld { "upheld" } else { "withdrawn" }.into()),
            ),
        )
        .await?;
        tx.commit().await?;
        if upheld {
            return self.view_of(id, case, history).await;
        }
        if let Some(l) = &case.license {
            self.licenses
                .revoke_by_license_id(l, &format!("随机抽查：{finding}"))
                .await?;
        }
        let ev = Event::Withdrawn {
            finding: finding.to_owned(),
            by: c.username.clone(),
            on: chrono::Local::now().date_naive(),
        };
        let (after, history) = self
            .commit(c, id, &case, history, vec![ev], "service.case.withdraw")
            .await?;
        self.view_of(id, after, history).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pass: bool, manual: bool, reason: &str) -> RuleRow {
        RuleRow {
            rule: "r".into(),
            pass,
            manual,
            reason: reason.into(),
            basis: "第一条".into(),
        }
    }

    #[test]
    fn rows_route_a_case() {
        assert_eq!(route(&[]).0, Route::Manual);
        assert_eq!(route(&[row(true, false, "a")]), (Route::Approve, vec![]));
        let (r, why) = route(&[row(true, false, "a"), row(false, false, "无车")]);
        assert_eq!(r, Route::Refuse);
        assert_eq!(why, vec!["无车（第一条）".to_owned()]);
        // A manual row wins over a failing one: an officer looks.
        let (r, why) = route(&[row(false, false, "无车"), row(true, true, "人工核查")]);
        assert_eq!((r, why), (Route::Manual, vec!["人工核查".to_owned()]));
    }

    #[test]
    fn a_fact_hash_depends_on_salt_name_and_value() {
        let h = fact_hash("s", "age", "30");
        assert_eq!(h.len(), 64);
        assert_ne!(h, fact_hash("t", "age", "30"));
        assert_ne!(h, fact_hash("s", "age", "31"));
        assert_ne!(h, fact_hash("s", "ag", "e30"));
    }
}
