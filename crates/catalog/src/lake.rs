//! Each lake table is the data of a catalog entry: the entry's information items become the
//! table's columns (the item's column name, its type, its code standard as the check, its
//! sensitivity as the masking rule), and the entry's update cycle the timeliness target.

use crate::Catalog;
use crate::elements::Element;
use crate::model::{DataType, Entry, Sensitivity, UpdateCycle};
use shuju_admin::Caller;
use shuju_lake::spec::OnInvalid;
use shuju_lake::{Check, ColumnSpec, Kind, Lake, TableSpec};
use shuju_types::{Error, Result};
use std::collections::BTreeMap;

fn kind(d: DataType) -> Kind {
    match d {
        DataType::Char | DataType::Memo | DataType::General => Kind::Text,
        DataType::Number | DataType::Currency => Kind::Decimal,
        DataType::Date => Kind::Date,
        DataType::DateTime => Kind::Timestamp,
        DataType::Logical => Kind::Boolean,
    }
}

/// The lake's check for values following a standard with a check digit or a code list.
pub(crate) fn check_of_standard(standard: Option<&str>) -> Option<Check> {
    let s: String = standard?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    if s.contains("11643") {
        Some(Check::CitizenId)
    } else if s.contains("32100") {
        Some(Check::CreditCode)
    } else if s.contains("2260") {
        Some(Check::DivisionCode)
    } else {
        None
    }
}

fn cycle_days(c: UpdateCycle) -> Option<u32> {
    Some(match c {
        UpdateCycle::Realtime | UpdateCycle::Daily => 1,
        UpdateCycle::Weekly => 7,
        UpdateCycle::Monthly => 31,
        UpdateCycle::Quarterly => 92,
        UpdateCycle::Semiannual => 183,
        UpdateCycle::Yearly => 366,
        UpdateCycle::Irregular => return None,
    })
}

/// The lake table of an entry: its items as columns, `key` the columns a delivery is upserted by.
/// An item naming a data element takes the element's check (its code table, or its standard's
/// check digit) and carries the element and party into the table, where applications find it.
pub fn table_spec(
    e: &Entry,
    table: &str,
    key: &[String],
    mapping: BTreeMap<String, String>,
    elements: &[Element],
) -> TableSpec {
    TableSpec {
        name: table.into(),
        library: e.library,
        title: e.name.clone(),
        resource_code: e.code.clone(),
        columns: e
            .items
            .iter()
            .map(|i| {
                let element = i
                    .element
                    .as_deref()
                    .and_then(|id| elements.iter().find(|x| x.id == id));
                ColumnSpec {
                    name: i.column.to_ascii_lowercase(),
                    title: i.name.clone(),
                    kind: kind(i.data_type),
                    check: element
                        .and_then(Element::check)
                        .or_else(|| check_of_standard(i.code_standard.as_deref())),
                    sensitive: i.sensitivity >= Sensitivity::Sensitive,
                    required: key.iter().any(|k| k.eq_ignore_ascii_case(&i.column)),
                    max_len: i.length,
                    on_invalid: Default::default(),
                    element: i.element.clone(),
                    role: i.role.clone(),
                    codes: element.map(Element::written_forms).unwrap_or_default(),
                }
            })
            .collect(),
        key: key.iter().map(|k| k.to_ascii_lowercase()).collect(),
        mapping,
        cycle_days: cycle_days(e.update_cycle),
        provider: Some(e.provider_dept_id),
    }
}

/// Every item naming an element names one the registry has.
pub async fn check_elements(catalog: &Catalog, e: &Entry) -> Result<()> {
    if e.items.iter().all(|i| i.element.is_none()) {
        return Ok(());
    }
    known_elements(e, &catalog.element_ids().await?)
}

/// Every item naming an element names one of `ids`.
pub(crate) fn known_elements(e: &Entry, ids: &[String]) -> Result<()> {
    for (i, it) in e.items.iter().enumerate() {
        if let Some(id) = &it.element
            && !ids.contains(id)
        {
            return Err(Error::invalid(
                format!("items[{i}].element"),
                format!("{id} is not a data element of the registry"),
            ));
        }
    }
    Ok(())
}

/// Load a delivery into the table of a published entry whose provider is in the caller's scope.
pub async fn deliver(
    catalog: &Catalog,
    lake: &Lake,
    c: &Caller,
    resource_code: &str,
    path: &std::path::Path,
    file_name: &str,
) -> Result<shuju_lake::LoadReport> {
    let e = catalog
        .published(resource_code)
        .await
        .map_err(|e| match e.code {
            shuju_types::ErrorCode::NotFound => {
                Error::not_found(format!("a published catalog entry {resource_code}"))
            }
            _ => e,
        })?;
    catalog
        .require_provider_in_scope(c, "lake.ingest", &e)
        .await?;
    lake.ingest(c, resource_code, path, file_name, Default::default())
        .await
}

/// How a table is set up: its key, the header mapping, and per column what a failing value does
/// and the department's code map. Columns not named keep what the table had.
#[derive(Clone, Debug, Default)]
pub struct Setup {
    pub key: Vec<String>,
    pub mapping: BTreeMap<String, String>,
    pub on_invalid: BTreeMap<String, OnInvalid>,
    /// Column → (the department's code → the element's code or its label).
    pub codes: BTreeMap<String, BTreeMap<String, String>>,
}

/// Set up (or change) the lake table of a published entry.
pub async fn set_up_table(
    catalog: &Catalog,
    lake: &Lake,
    c: &Caller,
    resource_code: &str,
    table: &str,
    key: &[String],
    mapping: BTreeMap<String, String>,
) -> Result<TableSpec> {
    let setup = Setup {
        key: key.to_vec(),
        mapping,
        ..Default::default()
    };
    set_up(catalog, lake, c, resource_code, table, setup).await
}

/// Set up (or change) the lake table of a published entry, as `setup` says.
pub async fn set_up(
    catalog: &Catalog,
    lake: &Lake,
    c: &Caller,
    resource_code: &str,
    table: &str,
    setup: Setup,
) -> Result<TableSpec> {
    let e = catalog.published(resource_code).await.map_err(|_| {
        Error::invalid(
            "resource_code",
            "only a published catalog entry can have a lake table",
        )
    })?;
    catalog
        .require_provider_in_scope(c, "lake.table.put", &e)
        .await?;
    let elements = catalog.elements().await?;
    let mut spec = table_spec(&e.entry, table, &setup.key, setup.mapping, &elements);
    // What the table had, per column, stays unless changed here.
    if let Some(before) = lake.spec_for_resource(resource_code).await? {
        for col in &mut spec.columns {
            if let Some(b) = before.columns.iter().find(|b| b.name == col.name) {
                col.on_invalid = b.on_invalid;
                if col.element == b.element {
                    col.codes.extend(b.codes.clone());
                }
            }
        }
    }
    for (column, policy) in &setup.on_invalid {
        column_of(&mut spec, column, "on_invalid")?.on_invalid = *policy;
    }
    for (column, map) in &setup.codes {
        add_codes(&mut spec, column, map, &elements)?;
    }
    lake.put_table(c, &spec).await?;
    Ok(spec)
}

fn column_of<'a>(spec: &'a mut TableSpec, column: &str, field: &str) -> Result<&'a mut ColumnSpec> {
    spec.columns
        .iter_mut()
        .find(|x| x.name.eq_ignore_ascii_case(column))
        .ok_or_else(|| Error::invalid(field, format!("{column} is not a column of the entry")))
}

/// Add a department's codes to a column's map, each checked against its element's code table
/// (a label is read as its code).
pub fn add_codes(
    spec: &mut TableSpec,
    column: &str,
    map: &BTreeMap<String, String>,
    elements: &[Element],
) -> Result<()> {
    let col = column_of(spec, column, "codes")?;
    let element = col
        .element
        .as_deref()
        .and_then(|id| elements.iter().find(|x| x.id == id))
        .filter(|x| !x.codes.is_empty())
        .ok_or_else(|| {
            Error::invalid(
                "codes",
                format!("{column} names no data element with a code table to map to"),
            )
        })?;
    for (local, standard) in map {
        let local = local.trim();
        if local.is_empty() {
            return Err(Error::invalid("codes", "a department's code is not empty"));
        }
        let code = if element.codes.iter().any(|c| c.code == *standard) {
            standard.clone()
        } else if let Some(code) = element.code_of_label(standard) {
            code.to_owned()
        } else {
            return Err(Error::invalid(
                "codes",
                format!(
                    "{standard} is not a code of data element {} ({})",
                    element.id, element.name
                ),
            ));
        };
        col.codes.insert(local.to_owned(), code);
    }
    Ok(())
}

/// Map a department's codes for one column of a table (merged into what it had); the next
/// delivery is standardised through them.
pub async fn map_codes(
    catalog: &Catalog,
    lake: &Lake,
    c: &Caller,
    table: &str,
    column: &str,
    map: &BTreeMap<String, String>,
) -> Result<TableSpec> {
    let mut spec = lake.spec(c, table).await?;
    let e = catalog.published(&spec.resource_code).await?;
    catalog
        .require_provider_in_scope(c, "lake.table.codes", &e)
        .await?;
    let elements = catalog.elements().await?;
    add_codes(&mut spec, column, map, &elements)?;
    lake.put_table(c, &spec).await?;
    Ok(spec)
}

/// Tables set up before a table's spec named its provider take it from their entry. Run once at
/// start by the platform; returns how many were stamped.
pub async fn stamp_providers(catalog: &Catalog, lake: &Lake) -> Result<usize> {
    let mut n = 0;
    for mut spec in lake.specs_without_provider().await? {
        if let Ok(e) = catalog.published(&spec.resource_code).await {
            spec.provider = Some(e.entry.provider_dept_id);
            lake.put_table(&Caller::system(), &spec).await?;
            n += 1;
        }
    }
    Ok(n)
}
