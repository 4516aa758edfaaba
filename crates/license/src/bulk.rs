//! Issuing in bulk from the lake: the licences departments already hold — business licences in
//! the market registry, vehicle registrations, real-estate titles, marriage and divorce
//! registrations, disability certificates — become e-licenses, each signed like one issued from
//! an approval. A definition (`bulk/sources.toml`) says, in data elements, which tables are
//! sources of a type and how their rows become its claims; no city's table or column is named.
//! The department that provides the table is the issuer. Each license remembers the record it
//! came from, so issuing again adds only what is new; a row that fails the type's checks (a
//! holder ID with a wrong check digit, a missing name) is reported with its reason and issues
//! nothing.

use crate::registry::{IssueInput, Licenses};
use serde::Serialize;
use shuju_admin::Caller;
use shuju_lake::Lake;
use shuju_lake::TableSpec;
use shuju_store::license as store;
use shuju_types::{Error, Result};
use std::collections::BTreeMap;

/// How the rows of lake tables carrying some data elements become licenses of a type (from
/// `bulk/sources.toml`).
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    pub type_key: String,
    /// The holder's ID and name: `element` or `element@party`.
    pub holder_id: String,
    pub holder_name: String,
    /// Elements a table must also carry to be a source.
    #[serde(default)]
    pub require: Vec<String>,
    /// Which rows: element → the codes it must have.
    #[serde(default, rename = "where")]
    pub conditions: BTreeMap<String, Vec<String>>,
    /// Which rows: elements that must have a value.
    #[serde(default)]
    pub not_null: Vec<String>,
    /// Claim → `element`, `element@party`, `element+suffix`, or "" (not held).
    pub claims: Vec<(String, String)>,
}

#[derive(serde::Deserialize)]
struct Definitions {
    source: Vec<Definition>,
}

/// The built-in definitions.
pub fn definitions() -> Result<Vec<Definition>> {
    let d: Definitions = toml::from_str(include_str!("../bulk/sources.toml"))
        .map_err(|e| Error::internal(format!("bulk sources: {e}")))?;
    Ok(d.source)
}

/// A definition applied to one table: every value an SQL expression over its columns.
#[derive(Clone, Debug)]
pub struct Source {
    pub type_key: String,
    pub table: String,
    pub resource_code: String,
    /// The record's key, unique in the table for this type.
    pub key: String,
    pub holder_id: String,
    pub holder_name: String,
    pub claims: Vec<(String, String)>,
    /// Which rows: an SQL condition.
    pub filter: String,
}

/// `element[@party][+suffix]`.
fn parse_ref(r: &str) -> Option<(&str, Option<&str>, Option<&str>)> {
    if r.trim().is_empty() {
        return None;
    }
    let (r, suffix) = match r.split_once('+') {
        Some((a, b)) => (a, Some(b)),
        None => (r, None),
    };
    let (element, party) = match r.split_once('@') {
        Some((a, b)) => (a, Some(b)),
        None => (r, None),
    };
    Some((element.trim(), party.map(str::trim), suffix))
}

fn column<'a>(spec: &'a TableSpec, element: &str, party: Option<&str>) -> Option<&'a str> {
    let of = |c: &&shuju_lake::ColumnSpec| c.element.as_deref() == Some(element);
    match party {
        Some(p) => spec
            .columns
            .iter()
            .filter(of)
            .find(|c| c.role.as_deref() == Some(p)),
        None => spec
            .columns
            .iter()
            .filter(of)
            .min_by_key(|c| c.role.is_some()),
    }
    .map(|c| c.name.as_str())
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl Definition {
    /// The definition applied to a table, if the table carries what it needs.
    pub fn source(&self, spec: &TableSpec) -> Option<Source> {
        let col = |r: &str| {
            let (e, party, _) = parse_ref(r)?;
            column(spec, e, party)
        };
        let expr = |r: &str| -> Option<String> {
            match parse_ref(r) {
                None => Some("''".into()),
                Some((e, party, suffix)) => {
                    let c = column(spec, e, party)?;
                    Some(match suffix {
                        Some(s) => format!("CAST(\"{c}\" AS VARCHAR) || {}", quote(s)),
                        None => format!("\"{c}\""),
                    })
                }
            }
        };
        let holder_id = expr(&self.holder_id)?;
        let holder_name = expr(&self.holder_name)?;
        for e in &self.require {
            column(spec, e, None)?;
        }
        let mut filter = Vec::new();
        for (e, codes) in &self.conditions {
            let c = col(e)?;
            let list: Vec<String> = codes.iter().map(|x| quote(x)).collect();
            filter.push(format!("\"{c}\" IN ({})", list.join(", ")));
        }
        for e in &self.not_null {
            filter.push(format!("\"{}\" IS NOT NULL", col(e)?));
        }
        let key_col = spec.key.first()?;
        let key = match parse_ref(&self.holder_id).and_then(|r| r.1) {
            Some(party) => format!("\"{key_col}\" || {}", quote(&format!("#{party}"))),
            None => format!("\"{key_col}\""),
        };
        // A claim the table does not hold is empty, as a department would leave it.
        let claims = self
            .claims
            .iter()
            .map(|(claim, r)| (claim.clone(), expr(r).unwrap_or_else(|| "''".into())))
            .collect();
        Some(Source {
            type_key: self.type_key.clone(),
            table: spec.name.clone(),
            resource_code: spec.resource_code.clone(),
            key,
            holder_id,
            holder_name,
            claims,
            filter: if filter.is_empty() {
                "TRUE".into()
            } else {
                filter.join(" AND ")
            },
        })
    }
}

/// What one bulk issue did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BulkReport {
    pub type_key: String,
    pub tables: Vec<String>,
    /// Rows read from the sources.
    pub read: u64,
    pub issued: u64,
    /// Rows a license was issued from before.
    pub already: u64,
    /// Rows that issued nothing: the record's key and why (never the holder's data).
    pub rejected: Vec<(String, String)>,
}

impl Licenses {
    /// Issue licenses of a type from every lake table that is a source of it (at most `limit`
    /// new ones, if given). Needs the issuing permission and the lake's query and unmasked
    /// permissions; each license is audited as issued, and the whole run once.
    pub async fn issue_bulk(
        &self,
        c: &Caller,
        lake: &Lake,
        type_key: &str,
        limit: Option<u64>,
    ) -> Result<BulkReport> {
        let defs: Vec<Definition> = definitions()?
            .into_iter()
            .filter(|d| d.type_key == type_key)
            .collect();
        let tables = lake.tables(c).await?;
        let sources: Vec<Source> = defs
            .iter()
            .flat_map(|d| {
                tables
                    .iter()
                    .filter(|t| t.version.is_some() && !t.spec.library.is_base())
                    .filter_map(|t| d.source(&t.spec))
            })
            .collect();
        if sources.is_empty() {
            return Err(Error::invalid(
                "type_key",
                format!("no lake table is a source of {type_key}"),
            ));
        }
        let mut report = BulkReport {
            type_key: type_key.to_owned(),
            ..Default::default()
        };
        for s in &sources {
            if limit.is_some_and(|l| report.issued >= l) {
                break;
            }
            let entry = shuju_catalog::entry_by_code(&self.store, &s.resource_code)
                .await?
                .ok_or_else(|| Error::not_found(format!("the catalog entry of {}", s.table)))?;
            if !report.tables.contains(&s.table) {
                report.tables.push(s.table.clone());
            }
            let done = store::source_keys(&self.store, &s.table).await?;
            let exprs: Vec<String> = [&s.key, &s.holder_id, &s.holder_name]
                .into_iter()
                .chain(s.claims.iter().map(|(_, e)| e))
                .enumerate()
                .map(|(i, e)| format!("CAST({e} AS VARCHAR) AS c{i}"))
                .collect();
            let sql = format!(
                "SELECT {} FROM \"{}\" WHERE {} ORDER BY 1",
                exprs.join(", "),
                s.table,
                s.filter
            );
            let mut rows: Vec<Vec<Option<String>>> = Vec::new();
            lake.scan(c, &format!("issuing {type_key} e-licenses"), &sql, |r| {
                rows.push(r.iter().map(|v| v.map(str::to_owned)).collect());
            })
            .await?;
            for r in rows {
                report.read += 1;
                let Some(key) = r[0].clone() else { continue };
                if done.contains(&key) {
                    report.already += 1;
                    continue;
                }
                if limit.is_some_and(|l| report.issued >= l) {
                    break;
                }
                let text = |i: usize| r[i].clone().unwrap_or_default();
                let input = IssueInput {
                    holder_jwk: None,
                    type_key: type_key.to_owned(),
                    holder_id: text(1),
                    holder_name: text(2),
                    claims: s
                        .claims
                        .iter()
                        .enumerate()
                        .map(|(i, (claim, _))| (claim.clone(), text(3 + i).into()))
                        .collect(),
                    valid_from: None,
                    valid_until: None,
                };
                let source = format!("{}:{key}", s.table);
                match self
                    .issue_from(c, input, None, Some((&source, entry.provider_dept_id)))
                    .await
                {
                    Ok(_) => report.issued += 1,
                    Err(e) if e.code == shuju_types::ErrorCode::InvalidArgument => {
                        report.rejected.push((
                            key,
                            format!("{}: {}", e.field.unwrap_or_default(), e.message),
                        ))
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        let _ = shuju_store::audit::record(
            &self.store,
            &c.entry(
                "license.issue_bulk",
                "license_type",
                Some(type_key.to_owned()),
                shuju_store::audit::Outcome::Ok,
                Some(format!(
                    "from {}: read {}, issued {}, already {}, rejected {}",
                    report.tables.join(","),
                    report.read,
                    report.issued,
                    report.already,
                    report.rejected.len()
                )),
            ),
        )
        .await;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shuju_lake::{ColumnSpec, Kind};
    use shuju_types::Library;

    fn col(name: &str, element: &str, role: Option<&str>) -> ColumnSpec {
        ColumnSpec {
            element: Some(element.into()),
            role: role.map(Into::into),
            ..ColumnSpec::new(name, Kind::Text)
        }
    }

    fn spec(columns: Vec<ColumnSpec>) -> TableSpec {
        TableSpec {
            name: "registrations".into(),
            library: Library::Business,
            title: "婚姻登记".into(),
            resource_code: "x".into(),
            key: vec![columns[0].name.clone()],
            columns,
            mapping: Default::default(),
            cycle_days: None,
            provider: None,
        }
    }

    #[test]
    fn a_table_is_a_source_by_its_elements_whatever_its_names() {
        let defs = definitions().unwrap();
        assert!(defs.len() >= 8);
        let t = spec(vec![
            col("no", "registration_number", None),
            col("his_id", "citizen_id", Some("男方")),
            col("his_name", "person_name", Some("男方")),
            col("her_id", "citizen_id", Some("女方")),
            col("her_name", "person_name", Some("女方")),
            col("kind", "marriage_registration_type", None),
            col("on", "registration_date", None),
        ]);
        let marriage: Vec<Source> = defs
            .iter()
            .filter(|d| d.type_key == "marriage_certificate")
            .filter_map(|d| d.source(&t))
            .collect();
        assert_eq!(marriage.len(), 2);
        assert_eq!(marriage[1].key, "\"no\" || '#女方'");
        assert_eq!(marriage[1].holder_id, "\"her_id\"");
        assert_eq!(marriage[1].filter, "\"kind\" IN ('结婚')");
        let spouse = marriage[1]
            .claims
            .iter()
            .find(|c| c.0 == "spouse_id")
            .unwrap();
        assert_eq!(spouse.1, "\"his_id\"");
        // A table without the elements a type needs is no source of it.
        assert!(
            defs.iter()
                .filter(|d| d.type_key == "business_licence")
                .all(|d| d.source(&t).is_none())
        );
    }
}
