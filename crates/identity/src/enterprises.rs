//! One enterprise, one file (一企一档). Enterprises are resolved over the lake's sources that name
//! them: a record carrying a valid unified social credit code (GB 32100) is that enterprise; an old
//! registration number (GS 15) or organisation code (GB 11714) is turned into the credit code
//! through the registry; a record with no code whose name — without place names and legal form —
//! only one registered enterprise bears is that enterprise (names are unique by the name
//! registration rules); the rest — a shop's name that two counties share, a misspelt name, a
//! stall nobody registered — are linked by the Fellegi–Sunter model on the name (by sound), the
//! address and the legal representative. An enterprise's ID is its credit
//! code; an entity no registry knows (a stall inspected twice) gets a stable `E…` ID. Its file
//! gathers registration, legal representative, shareholders, licences, penalties, inspections and
//! a credit summary, each fact with its table, version and dates, masked by the viewer's permission
//! and audited.

use crate::block::{Rule, Take};
use crate::compare::Compare;
use crate::files::{Fact, FactReader, LiveTables, Rows, quote, text};
use crate::ids::{self, Changes};
use crate::normalize;
use crate::persons::{Absorbed, RunReport};
use crate::records::{FieldSpec, Rec, Records};
use crate::resolve::{Settings, resolve};
use crate::runs;
use serde::Serialize;
use shuju_admin::{Caller, perm};
use shuju_lake::Lake;
use shuju_store::Store;
use shuju_store::audit::{self, Outcome};
use shuju_store::identity as db;
use shuju_types::{CreditCode, Error, RegistrationNumber, Result};
use std::collections::{BTreeMap, HashMap};

use crate::sources as el;
pub use crate::sources::{EnterpriseSource, enterprise_sources};

/// The fields enterprises are compared on.
pub fn enterprise_fields() -> Vec<FieldSpec> {
    vec![
        FieldSpec::new("name", Compare::OrgName).tf(),
        FieldSpec::new("address", Compare::Address),
        FieldSpec::new("representative", Compare::Name),
    ]
}

/// How enterprises are resolved.
pub fn enterprise_settings() -> Settings {
    Settings {
        rules: vec![
            Rule::new("name", &[("name", Take::Sound)]),
            Rule::new("address", &[("address", Take::Whole)]),
            Rule::new(
                "representative+name",
                &[("representative", Take::Sound), ("name", Take::Prefix(2))],
            ),
        ],
        ..Settings::default()
    }
}

/// What the registry knows to read a record as an enterprise: old numbers, to read a code as the
/// credit code it became, and names, which the name registration rules make unique.
#[derive(Default)]
pub struct OldCodes {
    registration: HashMap<String, String>,
    organisation: HashMap<String, String>,
    /// By name without place names and legal form: the one enterprise so named (`None` when
    /// several are, as shops of one owner name in two counties).
    names: HashMap<String, Option<String>>,
}

impl OldCodes {
    /// Note a registered enterprise: its credit code and old registration number.
    pub fn add(&mut self, credit_code: &CreditCode, registration: Option<&str>) {
        let code = credit_code.as_str().to_owned();
        self.organisation
            .insert(credit_code.organization_code().to_owned(), code.clone());
        if let Some(n) = registration.and_then(|r| RegistrationNumber::parse(r).ok()) {
            self.registration.insert(n.as_str().to_owned(), code);
        }
    }

    /// Note a registered enterprise's name.
    pub fn add_name(&mut self, credit_code: &CreditCode, name: &str) {
        let core = normalize::org_name(name).1;
        if core.chars().count() < 2 {
            return;
        }
        let code = credit_code.as_str();
        self.names
            .entry(core)
            .and_modify(|c| {
                if c.as_deref() != Some(code) {
                    *c = None;
                }
            })
            .or_insert_with(|| Some(code.to_owned()));
    }

    /// The one registered enterprise with this name (without place names and legal form).
    pub fn by_name(&self, name: &str) -> Option<String> {
        self.names
            .get(&normalize::org_name(name).1)
            .cloned()
            .flatten()
    }

    /// The credit code a written code stands for: itself when it is one; through the registry
    /// for an old registration number or organisation code (12345678-9); else none.
    pub fn credit_code(&self, written: &str) -> Option<String> {
        let w: String = normalize::clean(written, false).to_ascii_uppercase();
        if w.is_empty() {
            return None;
        }
        if let Ok(c) = CreditCode::parse(&w) {
            return Some(c.as_str().to_owned());
        }
        if let Ok(n) = RegistrationNumber::parse(&w) {
            return self.registration.get(n.as_str()).cloned();
        }
        let org: String = w.chars().filter(|c| *c != '-').collect();
        if org.len() == 9 {
            return self.organisation.get(&org).cloned();
        }
        None
    }
}

/// The SQL that reads one source as enterprise rows (key, code, name, address, representative).
pub fn source_sql(s: &EnterpriseSource) -> String {
    use crate::files::{column, select_text};
    select_text(
        &[
            (column(Some(&s.key)), "k"),
            (column(Some(&s.code)), "code"),
            (column(s.name.as_deref()), "name"),
            (column(s.address.as_deref()), "address"),
            (column(s.representative.as_deref()), "representative"),
        ],
        &s.table,
    )
}

/// Push one source row (key, code, name, address, representative) as an enterprise record.
pub fn push_enterprise(
    recs: &mut Records,
    old: &OldCodes,
    table: &str,
    row: &[Option<&str>],
) -> Option<Rec> {
    let key = row.first().copied().flatten()?;
    let id = match row
        .get(1)
        .copied()
        .flatten()
        .filter(|c| !c.trim().is_empty())
    {
        Some(c) => old.credit_code(c),
        // No code written: a name only one registered enterprise bears is that enterprise.
        None => row.get(2).copied().flatten().and_then(|n| old.by_name(n)),
    };
    let get = |i: usize| row.get(i).copied().flatten();
    Some(recs.push(table, key, id.as_deref(), &[get(2), get(3), get(4)]))
}

/// A summary of an enterprise's record with the regulators.
#[derive(Clone, Debug, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreditSummary {
    pub penalties: usize,
    pub fines_total: f64,
    pub latest_penalty: Option<String>,
    pub inspections: usize,
    /// Inspections that found something (整改 or 查处).
    pub inspections_with_findings: usize,
    pub licences: usize,
    /// 良好 (nothing against it), 关注 (one penalty or finding), 警示 (more).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub level: &'static str,
}

/// An enterprise's file.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnterpriseFile {
    /// Its credit code, or the `E…` ID of an entity no registry knows.
    pub enterprise_id: String,
    pub credit_code: Option<String>,
    pub name: Option<String>,
    pub status: Option<String>,
    /// The legal representative's person ID.
    pub legal_representative_person: Option<String>,
    pub masked: bool,
    pub credit: CreditSummary,
    pub facts: Vec<Fact>,
    /// Electronic licences issued to the enterprise (business licence, …).
    pub licences: Vec<crate::files::LicenceHeld>,
}

/// An enterprise found by a search.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

const KIND: &str = "enterprise";

impl Enterprises {
    pub fn new(store: Store, lake: Lake) -> Enterprises {
        Enterprises { store, lake }
    }

    async fn require(&self, c: &Caller, p: &str, action: &str) -> Result<()> {
        c.require(&self.store, p, action, "identity", None).await
    }

    /// The enterprise sources: the lake tables with data whose items carry an enterprise's code
    /// (the credit code, or a code as written).
    pub async fn sources(&self) -> Result<Vec<EnterpriseSource>> {
        Ok(enterprise_sources(
            &LiveTables::load(&self.lake).await?.specs,
        ))
    }

    /// What the registry knows: old numbers and names, for reading codes and names as credit codes.
    async fn registry(&self, c: &Caller, sources: &[EnterpriseSource]) -> Result<OldCodes> {
        let mut old = OldCodes::default();
        if let Some(reg) = sources.iter().find(|s| s.registry) {
            let col = |e: &str| {
                reg.column(e)
                    .map(|c| format!("CAST(\"{c}\" AS VARCHAR)"))
                    .unwrap_or_else(|| "CAST(NULL AS VARCHAR)".into())
            };
            let sql = format!(
                "SELECT {}, {}, {} FROM \"{}\"",
                col(el::CREDIT_CODE),
                col(el::REGISTRATION_NUMBER),
                col(el::ENTERPRISE_NAME),
                reg.table
            );
            self.lake
                .scan(c, "entity resolution", &sql, |row| {
                    if let Some(Ok(code)) = row.first().copied().flatten().map(CreditCode::parse) {
                        old.add(&code, row.get(1).copied().flatten());
                        if let Some(name) = row.get(2).copied().flatten() {
                            old.add_name(&code, name);
                        }
                    }
                })
                .await?;
        }
        Ok(old)
    }

    /// Read every enterprise source from the lake into records, old numbers read through the
    /// registry.
    pub async fn read_sources(&self, c: &Caller) -> Result<(Records, BTreeMap<String, i64>)> {
        let sources = self.sources().await?;
        let old = self.registry(c, &sources).await?;
        let mut recs = Records::new(enterprise_fields());
        let mut versions = BTreeMap::new();
        for s in &sources {
            let v = self
                .lake
                .scan(c, "entity resolution", &source_sql(s), |row| {
                    push_enterprise(&mut recs, &old, &s.table, row);
                })
                .await?;
            if let Some(v) = v.get(&s.table) {
                versions.insert(s.table.clone(), *v);
            }
        }
        Ok((recs, versions))
    }

    /// Resolve every enterprise source in the lake. A cluster holding a credit code is that
    /// enterprise; others keep the `E…` ID of the last run.
    pub async fn resolve(&self, c: &Caller) -> Result<RunReport> {
        self.require(c, perm::IDENTITY_RESOLVE, "identity.resolve.enterprises")
            .await?;
        let (recs, versions) = self.read_sources(c).await?;
        let decisions = runs::decisions(&self.store, KIND).await?;
        let mut previous = runs::previous(&self.store, KIND).await?;
        for r in 0..recs.len() as Rec {
            if let Some(code) = recs.id(r) {
                previous.insert(
                    (recs.source_name(r).to_owned(), recs.key(r).to_owned()),
                    code.to_owned(),
                );
            }
        }
        let settings = enterprise_settings();
        let (res, recs) = tokio::task::spawn_blocking(move || {
            resolve(&recs, &settings, &decisions, None).map(|r| (r, recs))
        })
        .await
        .map_err(Error::internal)??;
        let (ids, changes) = assign(&recs, &res.cluster, &previous);
        let (run_id, entities) = runs::record(
            &self.store,
            c,
            &runs::Run {
                kind: KIND,
                recs: &recs,
                res: &res,
                ids: &ids,
                changes: &changes,
                versions: &versions,
            },
        )
        .await?;
        Ok(RunReport {
            run_id,
            records: recs.len(),
            persons: entities,
            stats: res.stats,
            changes,
            versions,
        })
    }

    /// Enterprises by credit code or old registration number (exact) or by a part of the name.
    pub async fn search(
        &self,
        c: &Caller,
        credit_code: Option<&str>,
        name: Option<&str>,
    ) -> Result<Vec<EnterpriseHit>> {
        self.require(c, perm::IDENTITY_VIEW, "identity.enterprise.search")
            .await?;
        let code = credit_code.map(str::trim).filter(|s| !s.is_empty());
        let name = name.map(str::trim).filter(|n| !n.is_empty());
        if code.is_none() && name.is_none() {
            return Err(Error::invalid(
                "query",
                "give a credit code, an old registration number or a part of the name",
            ));
        }
        let sources = self.sources().await?;
        let Some(reg) = sources.iter().find(|s| s.registry) else {
            return Ok(Vec::new());
        };
        let col = |e: &str| {
            reg.column(e)
                .map(|c| format!("\"{c}\""))
                .unwrap_or_else(|| "NULL".into())
        };
        let cond = match (code, name) {
            (Some(code), _) => match RegistrationNumber::parse(code) {
                Ok(n) => format!("{} = {}", col(el::REGISTRATION_NUMBER), quote(n.as_str())),
                Err(_) => {
                    let code = CreditCode::parse(code).map_err(|e| e.in_field("credit_code"))?;
                    format!("{} = {}", col(el::CREDIT_CODE), quote(code.as_str()))
                }
            },
            (None, Some(n)) => format!(
                "{} LIKE {}",
                col(el::ENTERPRISE_NAME),
                quote(&format!("%{}%", n.replace(['%', '_'], "")))
            ),
            (None, None) => unreachable!("checked above"),
        };
        let sql = format!(
            "SELECT CAST({} AS VARCHAR) AS credit_code, CAST({} AS VARCHAR) AS name, CAST({} AS VARCHAR) AS kind, CAST({} AS VARCHAR) AS status FROM \"{}\" WHERE {cond} ORDER BY credit_code LIMIT 50",
            col(el::CREDIT_CODE),
            col(el::ENTERPRISE_NAME),
            col(el::ENTERPRISE_TYPE),
            col(el::REGISTRATION_STATUS),
            reg.table
        );
        let r = self.lake.sql_across(c, &sql, 50).await?;
        Ok(r.rows
            .iter()
            .map(|row| EnterpriseHit {
                credit_code: text(row, "credit_code").unwrap_or_default(),
                name: text(row, "name").unwrap_or_default(),
                kind: text(row, "kind").unwrap_or_default(),
                status: text(row, "status").unwrap_or_default(),
            })
            .collect())
    }

    /// An enterprise's file — by credit code or `E…` ID — read with the viewer's masking. Needs a
    /// purpose; audited with it. Before any enterprise run, records are gathered by credit code
    /// alone.
    pub async fn file(&self, c: &Caller, id: &str) -> Result<EnterpriseFile> {
        self.require(c, perm::IDENTITY_VIEW, "identity.enterprise.file")
            .await?;
        if c.purpose.as_deref().is_none_or(str::is_empty) {
            return Err(Error::invalid(
                "purpose",
                "say why you open this file (X-Purpose)",
            ));
        }
        let id = id.trim();
        let code = match CreditCode::parse(id) {
            Ok(code) => Some(code),
            Err(e) if !id.starts_with('E') => return Err(e.in_field("credit_code")),
            Err(_) => None,
        };
        let enterprise_id = code.map_or_else(|| id.to_owned(), |c| c.as_str().to_owned());
        let links = db::entity_records(&self.store, KIND, &enterprise_id).await?;
        let live = LiveTables::load(&self.lake).await?;
        let sources = enterprise_sources(&live.specs);
        let mut fr = FactReader::new(&self.lake, &live);
        let mut facts = Vec::new();
        for s in &sources {
            let keys: Vec<&db::LinkRow> = links.iter().filter(|l| l.source == s.table).collect();
            let list: Vec<String> = keys.iter().map(|l| l.record_key.clone()).collect();
            let rows = match (&code, keys.is_empty()) {
                (_, false) => Rows::Keys(&list),
                (Some(code), true) => Rows::Where(&s.code, code.as_str()),
                (None, true) => continue,
            };
            for mut f in fr
                .read(c, &s.table, &s.key, rows, &s.fact, s.date.as_deref())
                .await?
            {
                f.method = keys
                    .iter()
                    .find(|l| l.record_key == f.record_key)
                    .map_or_else(|| "credit_code".to_owned(), |l| l.method.clone());
                facts.push(f);
            }
        }
        if facts.is_empty() {
            return Err(Error::not_found(format!("enterprise {enterprise_id}")));
        }
        // The persons behind the legal representative and the shareholders.
        let source_of = |table: &str| sources.iter().find(|s| s.table == table);
        let mut legal_representative_person = None;
        for f in &mut facts {
            let Some(s) = source_of(&f.table) else {
                continue;
            };
            let person = if s.names_persons {
                db::entity_of(&self.store, "person", &f.table, &f.record_key).await?
            } else {
                None
            };
            if s.registry {
                legal_representative_person = person.as_ref().map(|l| l.entity_id.clone());
            }
            f.entity = person.map(|l| l.entity_id);
        }
        let reg = facts
            .iter()
            .find(|f| source_of(&f.table).is_some_and(|s| s.registry));
        let value = |f: &Fact, e: &str| {
            source_of(&f.table)
                .and_then(|s| s.column(e))
                .and_then(|c| text(&f.row, c))
        };
        let licences = match &code {
            Some(code) => {
                crate::files::licences_of(&self.store, &[code.as_str().to_owned()]).await?
            }
            None => Vec::new(),
        };
        let file = EnterpriseFile {
            licences,
            credit_code: code.map(|c| c.as_str().to_owned()),
            name: reg
                .and_then(|f| value(f, el::ENTERPRISE_NAME))
                .or_else(|| facts.iter().find_map(|f| value(f, el::ENTERPRISE_NAME))),
            status: reg.and_then(|f| value(f, el::REGISTRATION_STATUS)),
            legal_representative_person,
            masked: fr.masked,
            credit: credit_summary(&facts, &sources),
            facts,
            enterprise_id,
        };
        let _ = audit::record(
            &self.store,
            &c.entry(
                "identity.enterprise.file",
                "enterprise",
                Some(file.enterprise_id.clone()),
                Outcome::Ok,
                Some(format!("{} facts", file.facts.len())),
            ),
        )
        .await;
        Ok(file)
    }

    /// Link the enterprise records a delivery just brought (the rows of `table` written by lake
    /// job `job`) as they land: a code or a name the registry knows joins that enterprise, any
    /// other record founds an `E…` entity with the ID a full run would mint. Records already
    /// linked keep their enterprise; nothing happens before the first run.
    pub async fn absorb(&self, c: &Caller, table: &str, job: i64) -> Result<Absorbed> {
        self.require(c, perm::IDENTITY_RESOLVE, "identity.absorb.enterprises")
            .await?;
        let mut out = Absorbed::default();
        let sources = self.sources().await?;
        let Some(source) = sources.iter().find(|s| s.table == table) else {
            return Ok(out);
        };
        let Some(run) = db::runs(&self.store, KIND, 1).await?.into_iter().next() else {
            return Ok(out);
        };
        let old = self.registry(c, &sources).await?;
        let mut recs = Records::new(enterprise_fields());
        let sql = format!("{} WHERE \"_job\" = {job}", source_sql(source));
        self.lake
            .scan(
                c,
                "entity resolution (a delivery as it lands)",
                &sql,
                |row| {
                    push_enterprise(&mut recs, &old, table, row);
                },
            )
            .await?;
        let mut links: Vec<(String, String, String)> = Vec::new();
        for r in 0..recs.len() as Rec {
            let key = recs.key(r);
            out.records += 1;
            if db::entity_of(&self.store, KIND, table, key)
                .await?
                .is_some()
            {
                out.already_linked += 1;
                continue;
            }
            let (id, method) = match recs.id(r) {
                Some(code) => {
                    out.by_id += 1;
                    (code.to_owned(), "id")
                }
                None => {
                    out.new_persons += 1;
                    (ids::mint_for("E", table, key), "new")
                }
            };
            links.push((key.to_owned(), id, method.to_owned()));
        }
        if !links.is_empty() {
            let mut tx = self.store.write().await?;
            db::add_links(&mut tx, KIND, table, &links, run.id).await?;
            audit::append(
                &mut tx,
                &c.entry(
                    "identity.absorb.enterprises",
                    "lake_job",
                    Some(job.to_string()),
                    Outcome::Ok,
                    Some(format!(
                        "{table}: {} by code or registered name, {} new entities",
                        out.by_id, out.new_persons
                    )),
                ),
            )
            .await?;
            tx.commit().await?;
        }
        Ok(out)
    }

    /// Enterprise resolution runs, newest first.
    pub async fn runs(&self, c: &Caller) -> Result<Vec<db::RunRow>> {
        self.require(c, perm::IDENTITY_VIEW, "identity.runs")
            .await?;
        db::runs(&self.store, KIND, 20).await
    }
}

/// IDs for enterprise clusters: a cluster holding a credit code is that enterprise (the code is
/// its ID for life); others keep the ID most of their records had, or get a new `E…` one. An
/// `E…` entity that now turns out to be a registered enterprise is listed as merged into it.
pub fn assign(
    recs: &Records,
    cluster: &[Rec],
    previous: &HashMap<(String, String), String>,
) -> (Vec<String>, Changes) {
    let (mut ids, mut changes) = ids::assign(recs, cluster, previous, "E");
    let mut code_of: HashMap<Rec, &str> = HashMap::new();
    for (r, c) in cluster.iter().enumerate() {
        if let Some(code) = recs.id(r as Rec) {
            code_of.entry(*c).or_insert(code);
        }
    }
    let mut renamed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (r, c) in cluster.iter().enumerate() {
        if let Some(code) = code_of.get(c)
            && ids[r] != *code
        {
            let old = std::mem::replace(&mut ids[r], (*code).to_owned());
            renamed.entry((*code).to_owned()).or_default().push(old);
        }
    }
    for (code, mut olds) in renamed {
        olds.sort();
        olds.dedup();
        changes.merged.retain(|(s, _)| !olds.contains(s));
        changes.merged.push((code, olds));
    }
    (ids, changes)
}

fn number(v: Option<&serde_json::Value>) -> f64 {
    match v {
        Some(serde_json::Value::Number(n)) => n.as_f64().unwrap_or(0.0),
        Some(serde_json::Value::String(s)) => s.parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

/// The credit summary of an enterprise's facts: penalties (with their fines), inspections (with
/// what they found) and licences, each recognised by its data elements.
pub fn credit_summary(facts: &[Fact], sources: &[EnterpriseSource]) -> CreditSummary {
    let carrying = |element: &'static str| {
        facts.iter().filter(move |f| {
            sources
                .iter()
                .any(|s| s.table == f.table && s.column(element).is_some())
        })
    };
    fn value<'a>(
        sources: &[EnterpriseSource],
        f: &'a Fact,
        element: &str,
    ) -> Option<&'a serde_json::Value> {
        sources
            .iter()
            .find(|s| s.table == f.table)
            .and_then(|s| s.column(element))
            .and_then(|c| f.row.get(c))
    }
    let penalties = carrying(PENALTY).count();
    let inspections = carrying(INSPECTION).count();
    let findings = carrying(INSPECTION)
        .filter(|f| {
            value(sources, f, INSPECTION_RESULT)
                .and_then(serde_json::Value::as_str)
                .is_some_and(|r| r.contains("整改") || r.contains("查处"))
        })
        .count();
    CreditSummary {
        penalties,
        fines_total: carrying(PENALTY)
            .map(|f| number(value(sources, f, FINE)))
            .sum(),
        latest_penalty: carrying(PENALTY).filter_map(|f| f.date.clone()).max(),
        inspections,
        inspections_with_findings: findings,
        licences: carrying(LICENCE).count(),
        level: match penalties + findings {
            0 => "良好",
            1 => "关注",
            _ => "警示",
        },
    }
}

const PENALTY: &str = "penalty_decision_number";
const FINE: &str = "fine_amount";
const LICENCE: &str = "licence_decision_number";
const INSPECTION: &str = "inspection_number";
const INSPECTION_RESULT: &str = "inspection_result";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_numbers_read_as_the_credit_code() {
        let code = CreditCode::complete("91371502MA3C4D5E6").unwrap();
        let zch = RegistrationNumber::complete("37150210000001").unwrap();
        let mut old = OldCodes::default();
        old.add(&code, Some(zch.as_str()));
        let c = Some(code.as_str().to_owned());
        assert_eq!(old.credit_code(code.as_str()), c);
        assert_eq!(old.credit_code(&code.as_str().to_lowercase()), c);
        assert_eq!(old.credit_code(zch.as_str()), c);
        assert_eq!(old.credit_code("MA3C4D5E-6"), c, "organisation code");
        assert_eq!(old.credit_code("MA3C4D5E6"), c);
        assert_eq!(old.credit_code("37150210000002"), None, "not a number");
        let other = RegistrationNumber::complete("37150210000009").unwrap();
        assert_eq!(
            old.credit_code(other.as_str()),
            None,
            "unknown to the registry"
        );
        assert_eq!(old.credit_code(""), None);
    }

    #[test]
    fn a_name_one_enterprise_bears_is_that_enterprise() {
        let a = CreditCode::complete("91371502MA3C4D5E6").unwrap();
        let b = CreditCode::complete("92371521MA3C4D5E7").unwrap();
        let c = CreditCode::complete("92371525MA3C4D5E8").unwrap();
        let mut old = OldCodes::default();
        old.add_name(&a, "聊城宏达科技有限公司");
        old.add_name(&b, "阳谷县张伟百货店");
        old.add_name(&c, "冠县张伟百货店");
        assert_eq!(
            old.by_name("宏达科技（聊城）有限责任公司").as_deref(),
            Some(a.as_str())
        );
        assert_eq!(old.by_name("张伟百货店"), None, "two shops so named");
        assert_eq!(old.by_name("张伟水果摊点"), None);
        // Written with a code, the code decides; without one, the name.
        let mut recs = Records::new(enterprise_fields());
        let r = push_enterprise(
            &mut recs,
            &old,
            "shj_inspections",
            &[
                Some("i1"),
                Some(" "),
                Some("聊城市宏达科技有限公司"),
                None,
                None,
            ],
        )
        .unwrap();
        assert_eq!(recs.id(r), Some(a.as_str()));
    }

    #[test]
    fn a_credit_code_names_its_cluster() {
        let code = CreditCode::complete("91371502MA3C4D5E6").unwrap();
        let old = OldCodes::default();
        let mut recs = Records::new(enterprise_fields());
        let row = |k: &'static str, c: Option<&str>| -> Vec<Option<String>> {
            vec![
                Some(k.to_owned()),
                c.map(str::to_owned),
                Some("宏达科技（聊城）有限公司".to_owned()),
                None,
                None,
            ]
        };
        let push = |recs: &mut Records, t: &str, r: Vec<Option<String>>| {
            let r: Vec<Option<&str>> = r.iter().map(|v| v.as_deref()).collect();
            push_enterprise(recs, &old, t, &r);
        };
        push(&mut recs, "registry", row("r", Some(code.as_str())));
        push(&mut recs, "shj_inspections", row("i1", None));
        push(&mut recs, "shj_inspections", row("i2", None));
        // Last run: the two inspections were an unregistered entity of their own.
        let previous: HashMap<(String, String), String> = [("i1", "E1"), ("i2", "E1")]
            .into_iter()
            .map(|(k, e)| (("shj_inspections".to_owned(), k.to_owned()), e.to_owned()))
            .collect();
        let (ids, changes) = assign(&recs, &[0, 0, 0], &previous);
        assert!(ids.iter().all(|i| i == code.as_str()), "{ids:?}");
        assert_eq!(
            changes.merged,
            vec![(code.as_str().to_owned(), vec!["E1".to_owned()])]
        );
        // Alone, they keep their ID.
        let (ids, _) = assign(&recs, &[0, 1, 1], &previous);
        assert_eq!(ids[1], "E1");
        assert_eq!(ids[2], "E1");
    }
}
