//! What a lake table holds: its columns (the catalog entry's information items), how each is
//! checked, which are sensitive, the key a delivery is upserted by, and how source columns map to
//! it. Saved with the resource in the metadata store and edited in the UI.

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use serde::{Deserialize, Serialize};
use shuju_types::{Error, Library, Result};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The stored type of a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Text,
    Integer,
    Decimal,
    Date,
    Timestamp,
    Boolean,
}

/// A domain check beyond the type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "values")]
pub enum Check {
    /// GB 11643 citizen ID with its check digit.
    CitizenId,
    /// GB 32100 unified social credit code with its check digit.
    CreditCode,
    /// GB/T 2260 division code.
    DivisionCode,
    /// A code table: the value must be one of these.
    Codes(Vec<String>),
}

/// What a value that fails its column's check does (DESIGN.md invariant 10: data is never lost
/// for being imperfect).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnInvalid {
    /// Keep the row: the value is set aside as written in `_raw`, the column named in
    /// `_flagged` with the reason, and the column left empty — a key column holds a surrogate
    /// (`!` and the value as written), so re-delivering the row updates it.
    #[default]
    Flag,
    /// The row goes to the quarantine with the reason.
    Reject,
    /// Keep the value as written, unchecked (text columns; others flag). A value past the
    /// column's length is still flagged.
    Raw,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    /// Column name in the lake (the item's column, ASCII).
    pub name: String,
    /// The information item's name (Chinese), also accepted as a source header.
    pub title: String,
    pub kind: Kind,
    #[serde(default)]
    pub check: Option<Check>,
    /// Personal data: masked on the way out unless the caller may see it.
    #[serde(default)]
    pub sensitive: bool,
    /// A row without this value is rejected.
    #[serde(default)]
    pub required: bool,
    /// The longest value, in characters (the information item's declared length).
    #[serde(default)]
    pub max_len: Option<u32>,
    /// What a value failing the column's check does.
    #[serde(default)]
    pub on_invalid: OnInvalid,
    /// The data element (数据元) the column holds, from its catalog item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element: Option<String>,
    /// The party the column is about, for a table naming several (男方, 女方, 法定代表人).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The department's own codes → the element's standard codes (`M` → `1`). A delivery's
    /// values are standardised through it before the check.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub codes: BTreeMap<String, String>,
}

impl ColumnSpec {
    /// A column of `kind` named `name` (its title too): unchecked, not sensitive, optional, no
    /// length, flagged when invalid, naming no data element.
    pub fn new(name: &str, kind: Kind) -> ColumnSpec {
        ColumnSpec {
            name: name.into(),
            title: name.into(),
            kind,
            check: None,
            sensitive: false,
            required: false,
            max_len: None,
            on_invalid: OnInvalid::default(),
            element: None,
            role: None,
            codes: BTreeMap::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSpec {
    /// Table name in SQL: lowercase ASCII letters, digits and `_`.
    pub name: String,
    pub library: Library,
    pub title: String,
    /// The catalog entry's resource code.
    pub resource_code: String,
    pub columns: Vec<ColumnSpec>,
    /// Columns a delivery is upserted by; a repeated delivery adds nothing.
    pub key: Vec<String>,
    /// Source header → column name, saved from the mapping editor. Headers not listed are matched
    /// by column name or item title; headers that match nothing are ignored and reported.
    #[serde(default)]
    pub mapping: BTreeMap<String, String>,
    /// Days within which a new delivery is due (the entry's update cycle), for timeliness.
    #[serde(default)]
    pub cycle_days: Option<u32>,
    /// The department that provides the table's data (its catalog entry's provider). Its
    /// officers read the table, its rejects, jobs and lineage; `None`: only callers who see
    /// every department.
    #[serde(default)]
    pub provider: Option<i64>,
}

/// Columns the lake adds to every table.
pub const ROW_HASH: &str = "_row_hash";
pub const JOB: &str = "_job";
/// The columns whose value failed its check in this row, with the reasons (`name: reason; …`).
pub const FLAGGED: &str = "_flagged";
/// The flagged values as written: JSON `{column: value}` (personal data: withheld when masked).
pub const RAW: &str = "_raw";

impl TableSpec {
    /// Check the spec is usable: a valid name, unique columns, a key made of its columns.
    pub fn validate(&self) -> Result<()> {
        if !valid_name(&self.name) {
            return Err(Error::invalid(
                "name",
                "a table name is 1–63 lowercase letters, digits or _, starting with a letter",
            ));
        }
        if self.columns.is_empty() {
            return Err(Error::invalid("columns", "a table needs columns"));
        }
        let mut seen = std::collections::HashSet::new();
        for c in &self.columns {
            if !valid_name(&c.name) {
                return Err(Error::invalid(
                    "columns",
                    format!("column name {:?} is not lowercase ASCII", c.name),
                ));
            }
            if !seen.insert(c.name.as_str()) {
                return Err(Error::invalid(
                    "columns",
                    format!("column {} twice", c.name),
                ));
            }
        }
        if self.key.is_empty() {
            return Err(Error::invalid("key", "a table needs a key to upsert by"));
        }
        for k in &self.key {
            if !seen.contains(k.as_str()) {
                return Err(Error::invalid(
                    "key",
                    format!("key column {k} is not a column"),
                ));
            }
        }
        for target in self.mapping.values() {
            if !seen.contains(target.as_str()) {
                return Err(Error::invalid(
                    "mapping",
                    format!("mapping target {target} is not a column"),
                ));
            }
        }
        Ok(())
    }

    /// The Delta table's schema: the columns, then the row hash and the loading job.
    pub fn schema(&self) -> SchemaRef {
        let mut fields: Vec<Field> = self
            .columns
            .iter()
            .map(|c| Field::new(&c.name, c.kind.arrow(), !self.key.contains(&c.name)))
            .collect();
        fields.push(Field::new(ROW_HASH, DataType::Int64, false));
        fields.push(Field::new(JOB, DataType::Int64, false));
        fields.push(Field::new(FLAGGED, DataType::Utf8, true));
        fields.push(Field::new(RAW, DataType::Utf8, true));
        Arc::new(Schema::new(fields))
    }

    pub fn column(&self, name: &str) -> Option<&ColumnSpec> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Which column a source header feeds, if any.
    pub fn target_of(&self, header: &str) -> Option<usize> {
        let h = normalise_header(header);
        let target = self.mapping.get(&h).or_else(|| self.mapping.get(header));
        if let Some(t) = target {
            return self.columns.iter().position(|c| &c.name == t);
        }
        self.columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(&h) || normalise_header(&c.title) == h)
    }
}

fn normalise_header(h: &str) -> String {
    crate::clean::standardise(h).replace(' ', "")
}

pub fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl Kind {
    pub fn arrow(self) -> DataType {
        match self {
            Kind::Text => DataType::Utf8,
            Kind::Integer => DataType::Int64,
            Kind::Decimal => DataType::Float64,
            Kind::Date => DataType::Date32,
            Kind::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            Kind::Boolean => DataType::Boolean,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn spec() -> TableSpec {
        TableSpec {
            name: "people".into(),
            library: Library::Business,
            title: "人口".into(),
            resource_code: "X-1".into(),
            columns: vec![
                ColumnSpec {
                    name: "sfzh".into(),
                    title: "公民身份号码".into(),
                    kind: Kind::Text,
                    check: Some(Check::CitizenId),
                    sensitive: true,
                    required: true,
                    max_len: None,
                    on_invalid: Default::default(),
                    element: None,
                    role: None,
                    codes: Default::default(),
                },
                ColumnSpec {
                    name: "xm".into(),
                    title: "姓名".into(),
                    kind: Kind::Text,
                    check: None,
                    sensitive: true,
                    required: false,
                    max_len: None,
                    on_invalid: Default::default(),
                    element: None,
                    role: None,
                    codes: Default::default(),
                },
            ],
            key: vec!["sfzh".into()],
            mapping: BTreeMap::new(),
            cycle_days: None,
            provider: None,
        }
    }

    #[test]
    fn headers_map_by_title_column_or_saved_mapping() {
        let mut s = spec();
        assert_eq!(s.target_of("公民身份号码"), Some(0));
        assert_eq!(s.target_of(" 姓 名 "), Some(1));
        assert_eq!(s.target_of("SFZH"), Some(0));
        assert_eq!(s.target_of("身份证"), None);
        s.mapping.insert("身份证".into(), "sfzh".into());
        assert_eq!(s.target_of("身份证"), Some(0));
        s.validate().unwrap();
        s.key = vec!["nope".into()];
        assert!(s.validate().is_err());
    }
}
