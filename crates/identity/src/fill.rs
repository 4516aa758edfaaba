//! Forms that fill themselves: for a service case, with the applicant's consent, the newest value
//! of each data element the form names, from whichever source carries it, with where it came from
//! (the table, its provider, version and delivery date), and the facts of the person's file. No
//! table or column is named by the caller: elements and facts only.

use crate::persons::Persons;
use serde::Serialize;
use shuju_admin::Caller;
use shuju_types::{CitizenId, ErrorCode, Result};
use std::collections::BTreeMap;

/// A value and its source.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sourced {
    pub value: String,
    pub table: String,
    /// The providing department's id.
    pub provider: Option<i64>,
    /// The table version read.
    pub version: Option<i64>,
    /// When the delivery that brought the row was loaded.
    pub delivered: Option<String>,
}

/// What a form read of one person.
#[derive(Clone, Debug, Serialize)]
pub struct Filled {
    pub person_id: String,
    pub elements: BTreeMap<String, Sourced>,
    /// Every fact of the person's file, by name.
    pub facts: serde_json::Value,
    /// The fact definitions' versions, by name.
    pub fact_versions: BTreeMap<String, i64>,
}

impl Persons {
    /// Read a person's elements and facts for a form, found by citizen ID; `None` when no file has
    /// the ID. The caller (the service) has the applicant's consent and records the pull; this
    /// read checks no permission of its own.
    pub async fn fill(&self, id: &CitizenId, elements: &[String]) -> Result<Option<Filled>> {
        let found = match self.match_in_memory(Some(id.as_str()), [None; 5]) {
            Err(e) if e.code == ErrorCode::Unavailable => self.by_citizen_id(id).await?,
            Err(e) if e.code == ErrorCode::Conflict => return Ok(None),
            r => r?,
        };
        let Some(person) = found.into_iter().find(|c| c.probability >= 1.0) else {
            return Ok(None);
        };
        let (file, sources) = self.read_file(&Caller::system(), &person.person_id).await?;
        let defs = self.fact_defs().await?;
        let today = chrono::Local::now().date_naive();
        let facts = crate::facts::evaluate(&defs, &file, &sources, today);
        let providers: BTreeMap<String, Option<i64>> = crate::files::LiveTables::load(&self.lake)
            .await?
            .specs
            .iter()
            .map(|s| (s.name.clone(), s.provider))
            .collect();
        let mut out: BTreeMap<String, (Option<String>, Sourced)> = BTreeMap::new();
        for f in &file.facts {
            let Some(s) = sources
                .iter()
                .find(|s| s.table == f.table && s.role == f.role)
            else {
                continue;
            };
            for e in elements {
                let Some(v) = s
                    .column(e)
                    .and_then(|col| crate::files::text(&f.row, col))
                    .filter(|v| !v.trim().is_empty())
                else {
                    continue;
                };
                // The newest by the source's date, then by delivery.
                let when = f.date.clone().or_else(|| f.delivered.clone());
                if out.get(e).is_some_and(|(w, _)| *w >= when) {
                    continue;
                }
                out.insert(
                    e.clone(),
                    (
                        when,
                        Sourced {
                            value: v,
                            table: f.table.clone(),
                            provider: providers.get(&f.table).copied().flatten(),
                            version: f.version,
                            delivered: f.delivered.clone(),
                        },
                    ),
                );
            }
        }
        Ok(Some(Filled {
            person_id: person.person_id,
            elements: out.into_iter().map(|(k, (_, v))| (k, v)).collect(),
            facts,
            fact_versions: defs.iter().map(|d| (d.name.clone(), d.version)).collect(),
        }))
    }
}

/// A source the named facts read whose data is overdue: its newest delivery older than allowed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Overdue {
    pub fact: String,
    pub table: String,
    /// When its newest delivery was loaded (`None`: never).
    pub delivered: Option<String>,
    /// The days allowed since.
    pub days: u32,
}

/// Elements that do not age: a citizen ID and the birth date it encodes.
const TIMELESS: &[&str] = &[crate::sources::CITIZEN_ID, "birth_date"];

impl Persons {
    /// The sources the named facts read (every table carrying one of their elements, for the
    /// party the fact reads) whose newest delivery is older than `days`, or than the source's
    /// own update cycle (更新周期) when `days` is `None` (a source without one is not checked).
    pub async fn overdue(&self, facts: &[String], days: Option<u32>) -> Result<Vec<Overdue>> {
        let defs = self.fact_defs().await?;
        let live = crate::files::LiveTables::load(&self.lake).await?;
        let sources = crate::sources::person_sources(&live.specs);
        let now = chrono::Utc::now();
        let mut out = Vec::new();
        for name in facts {
            let Some(d) = defs.iter().find(|d| &d.name == name) else {
                continue;
            };
            let mut tables = std::collections::BTreeSet::new();
            for p in &d.of {
                let elements = std::iter::once(&p.element)
                    .chain(p.conditions.keys())
                    .chain(&p.also)
                    .filter(|e| !TIMELESS.contains(&e.as_str()));
                for e in elements {
                    for s in sources
                        .iter()
                        .filter(|s| s.column(e).is_some() && (p.role.is_none() || p.role == s.role))
                    {
                        tables.insert(s.table.clone());
                    }
                }
            }
            for t in tables {
                let cycle = live
                    .specs
                    .iter()
                    .find(|s| s.name == t)
                    .and_then(|s| s.cycle_days);
                let Some(allowed) = days.or(cycle) else {
                    continue;
                };
                let delivered = self.lake.last_delivered(&t).await?;
                let old = delivered
                    .as_deref()
                    .and_then(shuju_store::parse_time)
                    .is_none_or(|at| now - at > chrono::Duration::days(i64::from(allowed)));
                if old {
                    out.push(Overdue {
                        fact: name.clone(),
                        table: t,
                        delivered,
                        days: allowed,
                    });
                }
            }
        }
        Ok(out)
    }
}
