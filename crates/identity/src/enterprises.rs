//! One enterprise, one file (一企一档): an enterprise is its unified social credit code (GB 32100,
//! validated on the way into the lake, so records link on it deterministically); its file gathers
//! the registration, the legal representative (with the person's ID from the person links), the
//! administrative penalties (互联网+监管) and a credit summary, each fact with its table and
//! version, masked by the viewer's permission and audited.

use crate::persons::Fact;
use serde::Serialize;
use shuju_admin::{Caller, perm};
use shuju_lake::Lake;
use shuju_store::Store;
use shuju_store::audit::{self, Outcome};
use shuju_store::identity as db;
use shuju_types::{CreditCode, Error, Result};
use std::collections::BTreeMap;

/// A lake table whose rows belong to enterprises, by the column holding the credit code.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct EnterpriseSource {
    pub table: &'static str,
    pub credit_code: &'static str,
    pub key: &'static str,
    pub fact: &'static str,
}

/// The reference city's enterprise sources.
pub const ENTERPRISE_SOURCES: &[EnterpriseSource] = &[
    EnterpriseSource {
        table: "scjg_entities",
        credit_code: "tyshxydm",
        key: "tyshxydm",
        fact: "登记信息",
    },
    EnterpriseSource {
        table: "scjg_penalties",
        credit_code: "tyshxydm",
        key: "cfjdswh",
        fact: "行政处罚",
    },
];

/// A summary of an enterprise's record with the regulators.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CreditSummary {
    pub penalties: usize,
    pub fines_total: f64,
    pub latest_penalty: Option<String>,
    /// 良好 (no penalty), 关注 (one), 警示 (more than one).
    pub level: &'static str,
}

/// An enterprise's file.
#[derive(Clone, Debug, Serialize)]
pub struct EnterpriseFile {
    pub credit_code: String,
    pub name: Option<String>,
    pub status: Option<String>,
    pub legal_representative_person: Option<String>,
    pub masked: bool,
    pub credit: CreditSummary,
    pub facts: Vec<Fact>,
}

/// An enterprise found by a search.
#[derive(Clone, Debug, Serialize)]
pub struct EnterpriseHit {
    pub credit_code: String,
    pub name: String,
    pub kind: String,
    pub status: String,
}

/// The enterprise side of the identity service.
#[derive(Clone)]
pub struct Enterprises {
    store: Store,
    lake: Lake,
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn text(row: &serde_json::Map<String, serde_json::Value>, k: &str) -> Option<String> {
    match row.get(k) {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Null) | None => None,
        Some(v) => Some(v.to_string()),
    }
}

impl Enterprises {
    pub fn new(store: Store, lake: Lake) -> Enterprises {
        Enterprises { store, lake }
    }

    /// Enterprises by credit code (exact) or by a part of the name.
    pub async fn search(
        &self,
        c: &Caller,
        credit_code: Option<&str>,
        name: Option<&str>,
    ) -> Result<Vec<EnterpriseHit>> {
        c.require(
            &self.store,
            perm::IDENTITY_VIEW,
            "identity.enterprise.search",
            "identity",
            None,
        )
        .await?;
        let cond = match (credit_code, name.map(str::trim).filter(|n| !n.is_empty())) {
            (Some(code), _) => {
                let code = CreditCode::parse(code.trim()).map_err(|e| e.in_field("credit_code"))?;
                format!("tyshxydm = {}", quote(code.as_str()))
            }
            (None, Some(n)) => format!(
                "ztmc LIKE {}",
                quote(&format!("%{}%", n.replace(['%', '_'], "")))
            ),
            (None, None) => {
                return Err(Error::invalid(
                    "query",
                    "give a credit code or a part of the name",
                ));
            }
        };
        let sql = format!(
            "SELECT tyshxydm, ztmc, ztlx, djzt FROM scjg_entities WHERE {cond} ORDER BY tyshxydm LIMIT 50"
        );
        let r = self.lake.sql(c, &sql, &BTreeMap::new(), 50).await?;
        Ok(r.rows
            .iter()
            .map(|row| EnterpriseHit {
                credit_code: text(row, "tyshxydm").unwrap_or_default(),
                name: text(row, "ztmc").unwrap_or_default(),
                kind: text(row, "ztlx").unwrap_or_default(),
                status: text(row, "djzt").unwrap_or_default(),
            })
            .collect())
    }

    /// An enterprise's file, read with the viewer's masking; audited.
    pub async fn file(&self, c: &Caller, credit_code: &str) -> Result<EnterpriseFile> {
        c.require(
            &self.store,
            perm::IDENTITY_VIEW,
            "identity.enterprise.file",
            "identity",
            None,
        )
        .await?;
        let code = CreditCode::parse(credit_code.trim()).map_err(|e| e.in_field("credit_code"))?;
        let versions = crate::persons::current_versions(&self.lake).await?;
        let mut facts = Vec::new();
        let mut masked = false;
        for s in ENTERPRISE_SOURCES {
            if !versions.contains_key(s.table) {
                continue;
            }
            let sql = format!(
                "SELECT * FROM \"{}\" WHERE \"{}\" = {} ORDER BY \"{}\"",
                s.table,
                s.credit_code,
                quote(code.as_str()),
                s.key
            );
            let r = self.lake.sql(c, &sql, &BTreeMap::new(), 1000).await?;
            masked |= r.masked;
            for row in r.rows {
                facts.push(Fact {
                    kind: s.fact.to_owned(),
                    table: s.table.to_owned(),
                    version: versions.get(s.table).copied(),
                    record_key: text(&row, s.key).unwrap_or_default(),
                    method: "credit_code".to_owned(),
                    row: row
                        .into_iter()
                        .filter(|(k, _)| !k.starts_with('_'))
                        .collect(),
                });
            }
        }
        if facts.is_empty() {
            return Err(Error::not_found(format!("enterprise {}", code.as_str())));
        }
        let reg = facts.iter().find(|f| f.table == "scjg_entities");
        let penalties: Vec<&Fact> = facts
            .iter()
            .filter(|f| f.table == "scjg_penalties")
            .collect();
        let fines_total = penalties
            .iter()
            .filter_map(|f| f.row.get("fmkje"))
            .filter_map(|v| match v {
                serde_json::Value::Number(n) => n.as_f64(),
                serde_json::Value::String(s) => s.parse().ok(),
                _ => None,
            })
            .sum();
        let latest_penalty = penalties
            .iter()
            .filter_map(|f| text(&f.row, "cfjdrq"))
            .max();
        let credit = CreditSummary {
            penalties: penalties.len(),
            fines_total,
            latest_penalty,
            level: match penalties.len() {
                0 => "良好",
                1 => "关注",
                _ => "警示",
            },
        };
        let person = db::entity_of(&self.store, "person", "scjg_entities", code.as_str())
            .await?
            .map(|l| l.entity_id);
        let file = EnterpriseFile {
            credit_code: code.as_str().to_owned(),
            name: reg.and_then(|f| text(&f.row, "ztmc")),
            status: reg.and_then(|f| text(&f.row, "djzt")),
            legal_representative_person: person,
            masked,
            credit,
            facts,
        };
        let _ = audit::record(
            &self.store,
            &c.entry(
                "identity.enterprise.file",
                "enterprise",
                Some(file.credit_code.clone()),
                Outcome::Ok,
                Some(format!("{} facts", file.facts.len())),
            ),
        )
        .await;
        Ok(file)
    }
}
