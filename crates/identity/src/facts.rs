//! The facts checks read (registered here, age, owns property, insured, housing fund active …):
//! named, versioned definitions over data elements and their standard codes, evaluated on a
//! person's file. No city's table or column appears in a definition: a fact reads the rows of
//! whatever sources carry its elements, so a city whose departments name things differently gets
//! the same answers once its items name their elements and its codes are mapped.

use crate::files::text;
use crate::persons::PersonFile;
use crate::sources::PersonSource;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shuju_types::{CitizenId, Error, Result};
use std::collections::{BTreeMap, BTreeSet};

/// How the values a fact reads become its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    /// Whether any row has a value (true or false).
    Exists,
    /// How many rows have a value.
    Count,
    /// How many different values.
    Distinct,
    /// The largest number (0 when none).
    Max,
    /// Every value, in file order.
    Values,
    /// The first value (or, with `is`, whether it is one of those codes).
    First,
    /// The value of the latest row by its date (or, with `is`, whether it is one of those codes).
    Latest,
    /// Whole years since the birth date a valid citizen ID encodes, or a birth-date value.
    Age,
}

/// One part of what a fact reads: an element's values, for a party, on rows meeting conditions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Part {
    pub element: String,
    /// Only rows whose source reads this party (法定代表人, 股东).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Element → the standard codes it must have on the row.
    #[serde(default, rename = "where", skip_serializing_if = "BTreeMap::is_empty")]
    pub conditions: BTreeMap<String, Vec<String>>,
    /// Further elements whose values are appended to the value (残疾类别 + 残疾等级).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<String>,
}

/// A fact's definition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FactDef {
    /// The name rule sets read it by: lowercase letters, digits and `_`.
    pub name: String,
    /// What it means, in Chinese.
    pub label: String,
    pub aggregate: Aggregate,
    pub of: Vec<Part>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub is: Vec<String>,
    /// For `max`: divide the number by this (a deposit rate to an income).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub divide: Option<f64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub round: bool,
    /// Licence types (by key) whose valid licences the person holds count as values too: a
    /// licence the platform issued (an individual business registered in seconds) is known at
    /// once, before the department's next delivery lists what it licensed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licences: Vec<String>,
    /// Another fact whose answer is taken when this one finds nothing (0, false, none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otherwise: Option<String>,
    /// The saved version (0 before the first save).
    #[serde(default)]
    pub version: i64,
}

#[derive(Deserialize)]
struct Seed {
    fact: Vec<FactDef>,
}

/// The facts the built-in rule sets read.
pub fn built_in() -> Result<Vec<FactDef>> {
    let seed: Seed = toml::from_str(include_str!("../facts/builtin.toml"))
        .map_err(|e| Error::internal(format!("built-in facts: {e}")))?;
    Ok(seed.fact)
}

fn ident(s: &str) -> bool {
    !s.is_empty()
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl FactDef {
    /// Check a definition: a usable name, parts naming elements, options that fit.
    pub fn validate(&self, elements: &[String]) -> Result<()> {
        if !ident(&self.name) {
            return Err(Error::invalid(
                "name",
                "a fact's name is lowercase letters, digits and _",
            ));
        }
        if self.label.trim().is_empty() {
            return Err(Error::invalid("label", "say what the fact means"));
        }
        if self.of.is_empty() && self.licences.is_empty() {
            return Err(Error::invalid("of", "a fact reads at least one element"));
        }
        if let Some(bad) = self.licences.iter().find(|k| !ident(k)) {
            return Err(Error::invalid(
                "licences",
                format!("{bad:?} is not a licence type's key"),
            ));
        }
        for (i, p) in self.of.iter().enumerate() {
            for e in std::iter::once(&p.element)
                .chain(p.conditions.keys())
                .chain(&p.also)
            {
                if !elements.is_empty() && !elements.contains(e) {
                    return Err(Error::invalid(
                        format!("of[{i}]"),
                        format!("{e} is not a data element of the registry"),
                    ));
                }
            }
        }
        if !self.is.is_empty() && !matches!(self.aggregate, Aggregate::First | Aggregate::Latest) {
            return Err(Error::invalid("is", "only first and latest compare codes"));
        }
        if self.divide.is_some_and(|d| d == 0.0 || !d.is_finite()) {
            return Err(Error::invalid("divide", "a number other than 0"));
        }
        if self.otherwise.as_deref() == Some(self.name.as_str()) {
            return Err(Error::invalid("otherwise", "another fact's name"));
        }
        Ok(())
    }
}

/// A row value as a code or text: `None` for empty, and for a flagged key's surrogate (`!…`).
fn value(row: &serde_json::Map<String, Value>, column: &str) -> Option<String> {
    text(row, column).filter(|v| !v.is_empty() && !v.starts_with('!'))
}

fn number(v: &str) -> f64 {
    v.replace(',', "").trim().parse().unwrap_or(0.0)
}

fn empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::Array(a) => a.is_empty(),
        Value::String(s) => s.is_empty(),
        Value::Object(_) => false,
    }
}

/// Evaluate every definition on a person's file (read unmasked): the facts as rule sets read
/// them, by name.
pub fn evaluate(
    defs: &[FactDef],
    file: &PersonFile,
    sources: &[PersonSource],
    today: chrono::NaiveDate,
) -> Value {
    let source = |table: &str, role: &Option<String>| {
        sources.iter().find(|s| s.table == table && s.role == *role)
    };
    let mut out = serde_json::Map::new();
    for d in defs {
        // The values read, each with the row's date, in file order.
        let mut vals: Vec<(String, Option<&str>)> = Vec::new();
        for p in &d.of {
            for f in &file.facts {
                let Some(s) = source(&f.table, &f.role) else {
                    continue;
                };
                if p.role.is_some() && s.role != p.role {
                    continue;
                }
                let Some(col) = s.column(&p.element) else {
                    continue;
                };
                let meets = p.conditions.iter().all(|(e, codes)| {
                    s.column(e)
                        .and_then(|c| value(&f.row, c))
                        .is_some_and(|v| codes.contains(&v))
                });
                if !meets {
                    continue;
                }
                let Some(mut v) = value(&f.row, col) else {
                    continue;
                };
                for a in &p.also {
                    if let Some(x) = s.column(a).and_then(|c| value(&f.row, c)) {
                        v.push_str(&x);
                    }
                }
                vals.push((v, f.date.as_deref()));
            }
        }
        for l in &file.licences {
            if l.status == "valid" && d.licences.contains(&l.type_key) {
                vals.push((l.license_id.clone(), Some(l.valid_from.as_str())));
            }
        }
        let is = |v: &str| {
            if d.is.is_empty() {
                json!(v)
            } else {
                json!(d.is.iter().any(|c| c == v))
            }
        };
        let answer = match d.aggregate {
            Aggregate::Exists => json!(!vals.is_empty()),
            Aggregate::Count => json!(vals.len()),
            Aggregate::Distinct => {
                json!(vals.iter().map(|v| &v.0).collect::<BTreeSet<_>>().len())
            }
            Aggregate::Max => {
                let mut m = vals.iter().map(|v| number(&v.0)).fold(0.0, f64::max);
                if let Some(x) = d.divide {
                    m /= x;
                }
                if d.round {
                    m = m.round();
                }
                json!(m)
            }
            Aggregate::Values => json!(vals.iter().map(|v| &v.0).collect::<Vec<_>>()),
            Aggregate::First => match vals.first() {
                Some(v) => is(&v.0),
                None if d.is.is_empty() => Value::Null,
                None => json!(false),
            },
            Aggregate::Latest => match vals.iter().max_by_key(|v| v.1) {
                Some(v) => is(&v.0),
                None if d.is.is_empty() => Value::Null,
                None => json!(false),
            },
            Aggregate::Age => {
                let from_id = vals
                    .iter()
                    .find_map(|v| CitizenId::parse(&v.0).ok().map(|i| i.birth_date()));
                let from_date = vals.iter().find_map(|v| parse_date(&v.0));
                match from_id.or(from_date) {
                    Some(b) => json!(today.years_since(b).unwrap_or(0)),
                    None => Value::Null,
                }
            }
        };
        out.insert(d.name.clone(), answer);
    }
    // A fact that found nothing takes the answer of the one it names.
    for d in defs {
        if let Some(other) = &d.otherwise
            && out.get(&d.name).is_some_and(empty)
            && let Some(v) = out.get(other).cloned()
        {
            out.insert(d.name.clone(), v);
        }
    }
    Value::Object(out)
}

fn parse_date(s: &str) -> Option<chrono::NaiveDate> {
    let digits: String = s.chars().filter(char::is_ascii_digit).take(8).collect();
    chrono::NaiveDate::parse_from_str(&digits, "%Y%m%d").ok()
}

/// The definitions a rule set reads: those it names (as a quoted field), and those they fall back
/// on — `name@version`, for the check's audit record.
pub fn used_by(defs: &[FactDef], jdm: &str) -> Vec<String> {
    let mut names: BTreeSet<&str> = defs
        .iter()
        .filter(|d| jdm.contains(&format!("\"{}\"", d.name)))
        .map(|d| d.name.as_str())
        .collect();
    let fallbacks: Vec<&str> = defs
        .iter()
        .filter(|d| names.contains(d.name.as_str()))
        .filter_map(|d| d.otherwise.as_deref())
        .collect();
    names.extend(fallbacks);
    defs.iter()
        .filter(|d| names.contains(d.name.as_str()))
        .map(|d| format!("{}@{}", d.name, d.version))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_facts_are_valid() {
        let defs = built_in().unwrap();
        let names: Vec<&str> = defs.iter().map(|d| d.name.as_str()).collect();
        for d in &defs {
            d.validate(&[])
                .unwrap_or_else(|e| panic!("{}: {}", d.name, e.message));
            if let Some(o) = &d.otherwise {
                assert!(names.contains(&o.as_str()), "{}: otherwise {o}", d.name);
            }
        }
        for rule in [
            "income",
            "properties",
            "age",
            "registered",
            "individual_businesses",
        ] {
            assert!(names.contains(&rule), "{rule}");
        }
    }

    #[test]
    fn a_rule_set_names_the_facts_it_reads_and_their_fallbacks() {
        let mut defs = built_in().unwrap();
        for d in &mut defs {
            d.version = 1;
        }
        let used = used_by(
            &defs,
            r#"{"inputs": [{"field": "income"}, {"field": "age"}]}"#,
        );
        assert_eq!(used, vec!["age@1", "income@1", "fund_income@1"]);
    }

    /// A valid licence of a type a fact names counts; a revoked one, or another type, does not.
    #[test]
    fn a_licence_issued_here_counts_in_the_fact_that_names_its_type() {
        let defs = built_in().unwrap();
        let held = |id: &str, key: &str, status: &str| crate::files::LicenceHeld {
            license_id: id.into(),
            type_key: key.into(),
            kind: String::new(),
            status: status.into(),
            valid_from: "2026-12-01".into(),
            valid_until: None,
        };
        let file = |licences| PersonFile {
            person_id: "p".into(),
            masked: false,
            facts: vec![],
            household: vec![],
            licences,
        };
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 8).unwrap();
        let count =
            |f: &PersonFile| evaluate(&defs, f, &[], today)["individual_businesses"].clone();
        assert_eq!(count(&file(vec![])), json!(0));
        let ib = "individual_business_licence";
        assert_eq!(count(&file(vec![held("a", ib, "valid")])), json!(1));
        assert_eq!(
            count(&file(vec![
                held("a", ib, "revoked"),
                held("b", "driving_licence", "valid")
            ])),
            json!(0)
        );
        let mut d = defs[0].clone();
        d.licences = vec!["Not A Key".into()];
        assert!(d.validate(&[]).is_err());
    }

    #[test]
    fn bad_definitions_are_refused() {
        let mut d = built_in().unwrap()[0].clone();
        d.name = "Bad".into();
        assert!(d.validate(&[]).is_err());
        let mut d = built_in().unwrap()[0].clone();
        d.of[0].element = "no_such".into();
        let e = d.validate(&["household_number".into()]).unwrap_err();
        assert!(e.message.contains("no_such"));
    }
}
