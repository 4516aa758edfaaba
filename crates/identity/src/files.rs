//! Facts of a file, read from the lake as the viewer may see them: each row of a source with its
//! table, the version read, the version and date it was delivered in, and the date the source
//! gives it.

use serde::Serialize;
use shuju_admin::Caller;
use shuju_lake::Lake;
use shuju_types::Result;
use std::collections::{BTreeMap, HashMap};

/// One fact of a person's or an enterprise's file.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Fact {
    /// What the row tells (户籍, 不动产, 行政处罚 …).
    pub kind: String,
    pub table: String,
    /// The table version read.
    pub version: Option<i64>,
    pub record_key: String,
    /// How the record was linked: `id`, `model`, `credit_code`, `decision` …
    pub method: String,
    /// The date the source gives the fact (registration, decision, inspection …), if any.
    pub date: Option<String>,
    /// The table version the row arrived in, and when that delivery was loaded.
    pub delivered_in: Option<i64>,
    pub delivered: Option<String>,
    /// The other entity the fact names: the enterprise a person represents or holds shares in,
    /// the person behind a shareholder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub row: serde_json::Map<String, serde_json::Value>,
    /// The party of the row the fact is about (男方, 法定代表人), when its source names one.
    #[serde(skip)]
    pub role: Option<String>,
    /// The row's values that failed their checks, by column, with the reason (a bad citizen ID):
    /// the row was kept, the value set aside.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub flagged: BTreeMap<String, String>,
    /// Those values as the department wrote them, when the reader may see personal data.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub as_written: BTreeMap<String, String>,
}

/// A JSON object of strings kept in a text column (`_flagged`, `_raw`), as a map.
fn string_map(
    row: &serde_json::Map<String, serde_json::Value>,
    col: &str,
) -> BTreeMap<String, String> {
    row.get(col)
        .and_then(serde_json::Value::as_str)
        .and_then(|s| serde_json::from_str::<BTreeMap<String, serde_json::Value>>(s).ok())
        .map(|m| {
            m.into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        serde_json::Value::String(s) => s,
                        v => v.to_string(),
                    };
                    (k, v)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A row value as text (`None` for null or missing).
pub fn text(row: &serde_json::Map<String, serde_json::Value>, k: &str) -> Option<String> {
    match row.get(k) {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Null) | None => None,
        Some(v) => Some(v.to_string()),
    }
}

/// `SELECT … FROM table` of text columns under fixed aliases, so every source of a kind reads
/// alike: each part an SQL expression (`None`: the source has no such column, NULL) and its alias.
pub fn select_text(parts: &[(Option<String>, &str)], table: &str) -> String {
    let cols: Vec<String> = parts
        .iter()
        .map(|(e, alias)| match e {
            Some(e) => format!("CAST({e} AS VARCHAR) AS {alias}"),
            None => format!("CAST(NULL AS VARCHAR) AS {alias}"),
        })
        .collect();
    format!("SELECT {} FROM \"{table}\"", cols.join(", "))
}

/// A column name as an SQL expression.
pub fn column(c: Option<&str>) -> Option<String> {
    c.map(|c| format!("\"{c}\""))
}

/// A string as an SQL literal.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The lake's tables that have data, as the identity service reads them at one moment: their
/// specs (where sources are found by data element) and current versions.
pub struct LiveTables {
    pub specs: Vec<std::sync::Arc<shuju_lake::TableSpec>>,
    pub versions: BTreeMap<String, i64>,
}

impl LiveTables {
    pub async fn load(lake: &Lake) -> Result<LiveTables> {
        let mut specs = Vec::new();
        let mut versions = BTreeMap::new();
        for (spec, v) in lake.live().await? {
            versions.insert(spec.name.clone(), v);
            specs.push(spec);
        }
        Ok(LiveTables { specs, versions })
    }
}

/// Which rows of a source a file reads.
pub enum Rows<'k> {
    /// The rows with these values of the table's key.
    Keys(&'k [String]),
    /// The rows whose column holds a value (an enterprise's credit code).
    Where(&'k str, &'k str),
}

/// The most rows read of one source for one file.
const MAX_ROWS: usize = 1000;

/// Reads facts, remembering table versions and delivery jobs across sources. A table held in the
/// lake's key index is read from memory (its rows masked here as the masking view would); a table
/// too big to hold, or keyed by several columns, by SQL.
pub struct FactReader<'a> {
    lake: &'a Lake,
    specs: HashMap<String, std::sync::Arc<shuju_lake::TableSpec>>,
    pub versions: BTreeMap<String, i64>,
    jobs: HashMap<i64, Option<shuju_lake::JobRow>>,
    pub masked: bool,
}

impl<'a> FactReader<'a> {
    pub fn new(lake: &'a Lake, live: &LiveTables) -> FactReader<'a> {
        FactReader {
            versions: live.versions.clone(),
            specs: live
                .specs
                .iter()
                .map(|s| (s.name.clone(), s.clone()))
                .collect(),
            lake,
            jobs: HashMap::new(),
            masked: false,
        }
    }

    /// Whether the table has data.
    pub fn present(&self, table: &str) -> bool {
        self.versions.contains_key(table)
    }

    /// The key index of a table a reader may query, when it is held and keyed by one column.
    pub async fn index(
        &self,
        reader: &Caller,
        table: &str,
    ) -> Result<
        Option<(
            std::sync::Arc<shuju_lake::index::KeyIndex>,
            &shuju_lake::TableSpec,
        )>,
    > {
        let Some(spec) = self.specs.get(table).filter(|s| s.key.len() == 1) else {
            return Ok(None);
        };
        if !reader.can(shuju_admin::perm::LAKE_QUERY) {
            // The SQL path refuses, and records the refusal.
            return Ok(None);
        }
        Ok(self.lake.key_index(spec).await?.map(|i| (i, &**spec)))
    }

    /// Rows of `table` as `reader` may see them, in key order.
    async fn rows(
        &mut self,
        reader: &Caller,
        table: &str,
        key: &str,
        rows: &Rows<'_>,
    ) -> Result<Vec<serde_json::Map<String, serde_json::Value>>> {
        if let Some((index, spec)) = self.index(reader, table).await?
            && spec.key.first().is_some_and(|k| k == key)
        {
            let mut out = match rows {
                Rows::Keys(keys) => {
                    let mut keys: Vec<&String> = keys.iter().collect();
                    keys.sort();
                    keys.dedup();
                    keys.into_iter()
                        .filter_map(|k| index.get(k).transpose())
                        .take(MAX_ROWS)
                        .collect::<Result<Vec<_>>>()?
                }
                Rows::Where(col, value) => index.rows_where(col, value, MAX_ROWS)?,
            };
            let masked = !reader.can(shuju_admin::perm::LAKE_UNMASKED);
            if masked {
                for r in &mut out {
                    index.mask(spec, r);
                }
            }
            let version = index.version;
            self.masked |= masked;
            if let Some(v) = version {
                self.versions.insert(table.to_owned(), v);
            }
            return Ok(out);
        }
        let cond = match rows {
            Rows::Keys(keys) => format!(
                "\"{key}\" IN ({})",
                keys.iter().map(|k| quote(k)).collect::<Vec<_>>().join(", ")
            ),
            Rows::Where(col, value) => format!("\"{col}\" = {}", quote(value)),
        };
        let sql = format!("SELECT * FROM \"{table}\" WHERE {cond} ORDER BY \"{key}\"");
        let r = self.lake.sql_across(reader, &sql, MAX_ROWS).await?;
        self.masked |= r.masked;
        Ok(r.rows)
    }

    /// The rows of `table` picked by `rows`, as `reader` may see them, as facts of `kind` (the
    /// method left empty for the caller to fill in).
    pub async fn read(
        &mut self,
        reader: &Caller,
        table: &str,
        key: &str,
        rows: Rows<'_>,
        kind: &str,
        date: Option<&str>,
    ) -> Result<Vec<Fact>> {
        if !self.present(table) {
            return Ok(Vec::new());
        }
        let found = self.rows(reader, table, key, &rows).await?;
        let mut out = Vec::with_capacity(found.len());
        for row in found {
            let job = row.get("_job").and_then(serde_json::Value::as_i64);
            let job = match job {
                Some(id) => {
                    if !self.jobs.contains_key(&id) {
                        let j = self.lake.delivery_job(id).await?;
                        self.jobs.insert(id, j);
                    }
                    self.jobs.get(&id).cloned().flatten()
                }
                None => None,
            };
            out.push(Fact {
                kind: kind.to_owned(),
                table: table.to_owned(),
                version: self.versions.get(table).copied(),
                record_key: text(&row, key).unwrap_or_default(),
                method: String::new(),
                date: date.and_then(|d| text(&row, d)),
                delivered_in: job.as_ref().and_then(|j| j.version),
                delivered: job.and_then(|j| j.finished_at),
                entity: None,
                role: None,
                flagged: string_map(&row, "_flagged"),
                as_written: string_map(&row, "_raw"),
                row: row
                    .into_iter()
                    .filter(|(k, _)| !k.starts_with('_'))
                    .collect(),
            });
        }
        Ok(out)
    }
}

pub use shuju_license::held::{LicenceHeld, licences_of};
