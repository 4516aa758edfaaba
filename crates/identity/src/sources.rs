//! Which lake tables name persons, and which of their columns say what, found by data element
//! (数据元) rather than by a city's table and column names: a source is a departmental table whose
//! catalog items carry the person-identifying element (`citizen_id`), one source per party for a
//! table naming several persons (男方 / 女方). Base libraries, built from the sources, are not
//! sources themselves.

use serde::Serialize;
use shuju_lake::{Kind, TableSpec};
use std::collections::BTreeMap;

/// The element naming a person, and the elements read as the fields persons are compared on.
pub const CITIZEN_ID: &str = "citizen_id";
pub const NAME: &str = "person_name";
pub const SEX: &str = "sex";
pub const BIRTH: &str = "birth_date";
pub const ADDRESS: &str = "address";
pub const PHONE: &str = "phone";
pub const HOUSEHOLD: &str = "household_number";
pub const CREDIT_CODE: &str = "credit_code";

/// A lake table whose rows name persons (one party of it), and which of its columns say what.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PersonSource {
    pub table: String,
    pub key: String,
    pub citizen_id: String,
    pub name: Option<String>,
    pub sex: Option<String>,
    pub birth: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    /// What the row tells of the person, for the file (the catalog entry's name).
    pub fact: String,
    /// The column dating the fact: the table's first date that is not a birth date.
    pub date: Option<String>,
    /// The column naming the enterprise the fact is about, if any.
    pub enterprise: Option<String>,
    /// The party this source reads, when the items name one (男方, 法定代表人).
    pub role: Option<String>,
    /// Whether a row names several persons: the record key is then the row's key and `#role`.
    pub split: bool,
    /// Element → column, for this party: the columns about it and those about no party.
    pub elements: BTreeMap<String, String>,
}

impl PersonSource {
    /// The column holding an element for this party.
    pub fn column(&self, element: &str) -> Option<&str> {
        self.elements.get(element).map(String::as_str)
    }

    fn party(&self) -> Option<&str> {
        if self.split {
            self.role.as_deref()
        } else {
            None
        }
    }

    /// The record key of a row, as SQL: the key column, and `#role` for one party of a row.
    pub fn key_sql(&self) -> String {
        match self.party() {
            Some(r) => format!("\"{}\" || '#{}'", self.key, r.replace('\'', "''")),
            None => format!("\"{}\"", self.key),
        }
    }

    /// A record key as the table's key (without `#role`).
    pub fn table_key<'a>(&self, record_key: &'a str) -> &'a str {
        match self.party() {
            Some(r) => record_key
                .strip_suffix(r)
                .and_then(|k| k.strip_suffix('#'))
                .unwrap_or(record_key),
            None => record_key,
        }
    }

    /// A table key as the record key.
    pub fn record_key(&self, table_key: &str) -> String {
        match self.party() {
            Some(r) => format!("{table_key}#{r}"),
            None => table_key.to_owned(),
        }
    }

    /// Whether this source is the household registry (its rows carry a household number).
    pub fn is_registry(&self) -> bool {
        self.elements.contains_key(HOUSEHOLD)
    }
}

/// The column dating a row's fact: the table's first date that is not a birth date.
fn fact_date(spec: &TableSpec) -> Option<String> {
    spec.columns
        .iter()
        .find(|c| {
            matches!(c.kind, Kind::Date | Kind::Timestamp) && c.element.as_deref() != Some(BIRTH)
        })
        .map(|c| c.name.clone())
}

/// The elements a source carries, as one sortable key: sources are ordered by what they hold, not
/// by what a city calls them, so every city reads its records in the same order.
fn signature(elements: &BTreeMap<String, String>) -> Vec<String> {
    elements.keys().cloned().collect()
}

/// The person sources among the lake's tables, in an order that does not depend on what a city
/// calls its tables: the registry first, then by the elements each carries.
pub fn person_sources<'a, S: std::borrow::Borrow<TableSpec> + 'a>(
    specs: impl IntoIterator<Item = &'a S>,
) -> Vec<PersonSource> {
    let mut out = Vec::new();
    for spec in specs {
        let spec: &TableSpec = spec.borrow();
        if spec.library.is_base() {
            continue;
        }
        let ids: Vec<_> = spec
            .columns
            .iter()
            .filter(|c| c.element.as_deref() == Some(CITIZEN_ID))
            .collect();
        let Some(key) = spec.key.first() else {
            continue;
        };
        for id in &ids {
            let role = id.role.clone();
            let elements: BTreeMap<String, String> = spec
                .columns
                .iter()
                .filter(|c| c.role.is_none() || c.role == role)
                .filter_map(|c| Some((c.element.clone()?, c.name.clone())))
                // A party's own column wins over one about no party.
                .fold(BTreeMap::new(), |mut m, (e, c)| {
                    let own = spec.columns.iter().any(|x| x.name == c && x.role.is_some());
                    if own || !m.contains_key(&e) {
                        m.insert(e, c);
                    }
                    m
                });
            let get = |e: &str| elements.get(e).cloned();
            let date = fact_date(spec);
            let split = ids.len() > 1;
            out.push(PersonSource {
                table: spec.name.clone(),
                key: key.clone(),
                citizen_id: id.name.clone(),
                name: get(NAME),
                sex: get(SEX),
                birth: get(BIRTH),
                address: get(ADDRESS),
                phone: get(PHONE),
                fact: match (&role, split) {
                    (Some(r), true) => format!("{}（{r}）", spec.title),
                    _ => spec.title.clone(),
                },
                date,
                enterprise: get(CREDIT_CODE),
                role,
                split,
                elements,
            });
        }
    }
    out.sort_by_cached_key(|s| {
        (
            !s.is_registry(),
            signature(&s.elements),
            s.role.clone(),
            s.table.clone(),
        )
    });
    out
}

/// The elements enterprise sources are read by.
pub const SUBJECT_CODE: &str = "subject_code";
pub const ENTERPRISE_NAME: &str = "enterprise_name";
pub const BUSINESS_ADDRESS: &str = "business_address";
pub const REGISTRATION_NUMBER: &str = "business_registration_number";
pub const REGISTRATION_STATUS: &str = "registration_status";
pub const ENTERPRISE_TYPE: &str = "enterprise_type";
/// The party whose name is the legal representative's.
pub const LEGAL_REPRESENTATIVE: &str = "法定代表人";

/// A lake table whose rows name enterprises, and which of its columns say what.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct EnterpriseSource {
    pub table: String,
    pub key: String,
    /// The column holding the enterprise's code as written (credit code, old number or none).
    pub code: String,
    pub name: Option<String>,
    pub address: Option<String>,
    pub representative: Option<String>,
    /// The column dating the fact.
    pub date: Option<String>,
    /// What the row tells of the enterprise (the catalog entry's name).
    pub fact: String,
    /// The registry: keyed by the credit code, with the old registration numbers.
    pub registry: bool,
    /// Whether the table's rows also name persons (the legal representative, a shareholder).
    pub names_persons: bool,
    /// Element → column.
    pub elements: BTreeMap<String, String>,
}

impl EnterpriseSource {
    /// The column holding an element.
    pub fn column(&self, element: &str) -> Option<&str> {
        self.elements.get(element).map(String::as_str)
    }
}

/// The enterprise sources among the lake's tables: the registry first, then by the elements each
/// carries.
pub fn enterprise_sources<'a, S: std::borrow::Borrow<TableSpec> + 'a>(
    specs: impl IntoIterator<Item = &'a S>,
) -> Vec<EnterpriseSource> {
    let mut out = Vec::new();
    for spec in specs {
        let spec: &TableSpec = spec.borrow();
        if spec.library.is_base() {
            continue;
        }
        let Some(key) = spec.key.first() else {
            continue;
        };
        let col = |element: &str, role: Option<&str>| {
            spec.columns
                .iter()
                .find(|c| {
                    c.element.as_deref() == Some(element)
                        && role.is_none_or(|r| c.role.as_deref() == Some(r))
                })
                .map(|c| c.name.clone())
        };
        let Some(code) = col(CREDIT_CODE, None).or_else(|| col(SUBJECT_CODE, None)) else {
            continue;
        };
        let elements: BTreeMap<String, String> = spec
            .columns
            .iter()
            .filter_map(|c| Some((c.element.clone()?, c.name.clone())))
            .rev()
            .collect();
        out.push(EnterpriseSource {
            table: spec.name.clone(),
            registry: *key == code && elements.contains_key(REGISTRATION_NUMBER),
            key: key.clone(),
            name: col(ENTERPRISE_NAME, None),
            address: col(BUSINESS_ADDRESS, None),
            representative: col(NAME, Some(LEGAL_REPRESENTATIVE)),
            date: fact_date(spec),
            fact: spec.title.clone(),
            names_persons: elements.contains_key(CITIZEN_ID),
            code,
            elements,
        });
    }
    out.sort_by_cached_key(|s| (!s.registry, signature(&s.elements), s.table.clone()));
    out
}
