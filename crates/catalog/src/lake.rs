//! Each lake table is the data of a catalog entry: the entry's information items become the
//! table's columns (the item's column name, its type, its code standard as the check, its
//! sensitivity as the masking rule), and the entry's update cycle the timeliness target.

use crate::Catalog;
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

fn check(standard: Option<&str>) -> Option<Check> {
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
pub fn table_spec(
    e: &Entry,
    table: &str,
    key: &[String],
    mapping: BTreeMap<String, String>,
) -> TableSpec {
    TableSpec {
        name: table.into(),
        library: e.library,
        title: e.name.clone(),
        resource_code: e.code.clone(),
        columns: e
            .items
            .iter()
            .map(|i| ColumnSpec {
                name: i.column.to_ascii_lowercase(),
                title: i.name.clone(),
                kind: kind(i.data_type),
                check: check(i.code_standard.as_deref()),
                sensitive: i.sensitivity >= Sensitivity::Sensitive,
                required: key.iter().any(|k| k.eq_ignore_ascii_case(&i.column)),
                max_len: i.length,
                on_invalid: Default::default(),
            })
            .collect(),
        key: key.iter().map(|k| k.to_ascii_lowercase()).collect(),
        mapping,
        cycle_days: cycle_days(e.update_cycle),
        provider: Some(e.provider_dept_id),
    }
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
    let no_policies = BTreeMap::new();
    set_up_table_with(
        catalog,
        lake,
        c,
        resource_code,
        table,
        key,
        mapping,
        &no_policies,
    )
    .await
}

/// [`set_up_table`], with what a failing value does per column (`flag` unless named here).
#[allow(clippy::too_many_arguments)]
pub async fn set_up_table_with(
    catalog: &Catalog,
    lake: &Lake,
    c: &Caller,
    resource_code: &str,
    table: &str,
    key: &[String],
    mapping: BTreeMap<String, String>,
    on_invalid: &BTreeMap<String, OnInvalid>,
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
    let mut spec = table_spec(&e.entry, table, key, mapping);
    for (column, policy) in on_invalid {
        let col = spec
            .columns
            .iter_mut()
            .find(|x| x.name.eq_ignore_ascii_case(column))
            .ok_or_else(|| {
                Error::invalid(
                    "on_invalid",
                    format!("{column} is not a column of the entry"),
                )
            })?;
        col.on_invalid = *policy;
    }
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
