//! The data-element registry (数据元目录, GB/T 19488): what a value means — identifier, Chinese name,
//! definition, data type, format and value domain (a code table such as GB/T 2261.1 for sex, or a
//! standard with a check digit such as GB 11643) — so that applications select data by meaning,
//! not by a city's table and column names. Catalog items name their element; a department's own
//! codes map to the element's code table per lake table.
//!
//! The national elements are seeded from `elements/national.toml` at first use; every save is a
//! new version, and the bureau adds its own. Excel import and export use one sheet, one element
//! per row.

use crate::model::DataType;
use serde::{Deserialize, Serialize};
use shuju_lake::Check;
use shuju_types::{Error, Result};

/// What an element identifies, when its value names a person or an enterprise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Identifies {
    Person,
    Enterprise,
}

/// One value of a code table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Code {
    pub code: String,
    pub label: String,
    /// Other ways the value is commonly written (`男` for 男性), read as the code everywhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

/// A data element (数据元).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Element {
    /// The identifier: lowercase letters, digits and `_` (`citizen_id`, `sex`).
    pub id: String,
    /// The Chinese name (中文名称).
    pub name: String,
    pub definition: String,
    pub data_type: DataType,
    /// The representation format, as the standards write it (`c18`, `n..12,2`, `YYYYMMDD`).
    #[serde(default)]
    pub format: Option<String>,
    /// The standard the element or its value domain follows (`GB 11643`, `GB/T 2261.1`).
    #[serde(default)]
    pub standard: Option<String>,
    /// The value domain as a code table; empty when the domain is free or a standard's check.
    #[serde(default)]
    pub codes: Vec<Code>,
    #[serde(default)]
    pub synonyms: Vec<String>,
    /// Set when the value identifies a person or an enterprise (the keys of 一人一档 and 一企一档).
    #[serde(default)]
    pub identifies: Option<Identifies>,
    /// The saved version (0 before the first save).
    #[serde(default)]
    pub version: i64,
}

#[derive(Deserialize)]
struct Seed {
    element: Vec<Element>,
}

/// The national elements Shuju starts with.
pub fn national() -> Result<Vec<Element>> {
    let seed: Seed = toml::from_str(include_str!("../elements/national.toml"))
        .map_err(|e| Error::internal(format!("national data elements: {e}")))?;
    Ok(seed.element)
}

impl Element {
    /// Check an element is well formed: a usable identifier, a name, a code table without
    /// repeated codes, and a data type that fits it.
    pub fn validate(&self) -> Result<()> {
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 63
            && self.id.starts_with(|c: char| c.is_ascii_lowercase())
            && self
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !id_ok {
            return Err(Error::invalid(
                "id",
                "an element's identifier is 1–63 lowercase letters, digits or _, starting with a letter",
            ));
        }
        if self.name.trim().is_empty() {
            return Err(Error::invalid("name", "an element needs its Chinese name"));
        }
        if self.definition.trim().is_empty() {
            return Err(Error::invalid(
                "definition",
                "an element needs a definition",
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for c in &self.codes {
            if c.code.trim().is_empty() || c.code.trim() != c.code {
                return Err(Error::invalid(
                    "codes",
                    "a code is written without surrounding spaces",
                ));
            }
            if !seen.insert(c.code.as_str()) {
                return Err(Error::invalid(
                    "codes",
                    format!("code {} appears twice", c.code),
                ));
            }
        }
        if !self.codes.is_empty() && !matches!(self.data_type, DataType::Char) {
            return Err(Error::invalid(
                "codes",
                "a code table belongs to a character element",
            ));
        }
        Ok(())
    }

    /// The check the lake applies to a column holding this element: the code table, or the
    /// standard's check digit.
    pub fn check(&self) -> Option<Check> {
        if !self.codes.is_empty() {
            return Some(Check::Codes(
                self.codes.iter().map(|c| c.code.clone()).collect(),
            ));
        }
        crate::lake::check_of_standard(self.standard.as_deref())
    }

    /// Whether `code` is in the element's code table (always, for an element without one).
    pub fn has_code(&self, code: &str) -> bool {
        self.codes.is_empty() || self.codes.iter().any(|c| c.code == code)
    }

    /// The code a label or alias stands for (`男性` → `1`).
    pub fn code_of_label(&self, label: &str) -> Option<&str> {
        self.codes
            .iter()
            .find(|c| c.label == label || c.aliases.iter().any(|a| a == label))
            .map(|c| c.code.as_str())
    }

    /// Every label and alias that is not itself a code → its code: what any column holding the
    /// element reads as the code before a department maps its own.
    pub fn written_forms(&self) -> std::collections::BTreeMap<String, String> {
        self.codes
            .iter()
            .flat_map(|c| {
                std::iter::once(&c.label)
                    .chain(&c.aliases)
                    .map(move |w| (w.clone(), c.code.clone()))
            })
            .filter(|(w, _)| !self.codes.iter().any(|c| c.code == *w))
            .collect()
    }
}

const HEADERS: [&str; 9] = [
    "标识符",
    "中文名称",
    "定义",
    "数据类型",
    "表示格式",
    "标准",
    "值域",
    "同义名称",
    "标识对象",
];

/// A code table as one cell: `1=男性|男; 2=女性|女` (a label, then its aliases).
fn codes_cell(codes: &[Code]) -> String {
    codes
        .iter()
        .map(|c| {
            let mut s = format!("{}={}", c.code, c.label);
            for a in &c.aliases {
                s.push('|');
                s.push_str(a);
            }
            s
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn parse_codes(cell: &str) -> Result<Vec<Code>> {
    cell.split([';', '；', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (code, label) = pair.split_once(['=', '＝']).ok_or_else(|| {
                Error::invalid("值域", format!("{pair:?}: write each code as 代码=名称"))
            })?;
            let mut names = label.split('|').map(str::trim).filter(|s| !s.is_empty());
            Ok(Code {
                code: code.trim().to_owned(),
                label: names.next().unwrap_or_default().to_owned(),
                aliases: names.map(str::to_owned).collect(),
            })
        })
        .collect()
}

/// The elements as a workbook: one sheet, a header row, one element per row.
pub fn write_workbook(elements: &[Element]) -> Result<Vec<u8>> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("数据元").map_err(Error::internal)?;
    for (i, h) in HEADERS.iter().enumerate() {
        ws.write_string(0, i as u16, *h).map_err(Error::internal)?;
    }
    for (r, e) in elements.iter().enumerate() {
        let row = r as u32 + 1;
        let cells = [
            e.id.clone(),
            e.name.clone(),
            e.definition.clone(),
            e.data_type.label_zh().to_owned(),
            e.format.clone().unwrap_or_default(),
            e.standard.clone().unwrap_or_default(),
            codes_cell(&e.codes),
            e.synonyms.join("、"),
            match e.identifies {
                Some(Identifies::Person) => "自然人".into(),
                Some(Identifies::Enterprise) => "法人".into(),
                None => String::new(),
            },
        ];
        for (c, v) in cells.iter().enumerate() {
            ws.write_string(row, c as u16, v).map_err(Error::internal)?;
        }
    }
    wb.save_to_buffer().map_err(Error::internal)
}

/// Elements read from a workbook written as [`write_workbook`] writes it: each row an element,
/// or the row's error.
pub fn read_workbook(bytes: &[u8]) -> Result<Vec<std::result::Result<Element, (usize, Error)>>> {
    use calamine::Reader;
    let mut wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| Error::invalid("file", format!("not a workbook: {e}")))?;
    let sheet = wb
        .worksheet_range_at(0)
        .ok_or_else(|| Error::invalid("file", "the workbook has no sheet"))?
        .map_err(|e| Error::invalid("file", format!("the sheet cannot be read: {e}")))?;
    let mut rows = sheet.rows();
    let header: Vec<String> = rows
        .next()
        .ok_or_else(|| Error::invalid("file", "the sheet is empty"))?
        .iter()
        .map(|c| c.to_string().trim().to_owned())
        .collect();
    let col = |h: &str| header.iter().position(|x| x == h);
    let need = |h: &str| {
        col(h).ok_or_else(|| Error::invalid("file", format!("the header row has no column {h}")))
    };
    let (id, name, def, dt) = (
        need("标识符")?,
        need("中文名称")?,
        need("定义")?,
        need("数据类型")?,
    );
    let (fmt, std, dom, syn, who) = (
        col("表示格式"),
        col("标准"),
        col("值域"),
        col("同义名称"),
        col("标识对象"),
    );
    let mut out = Vec::new();
    for (i, r) in rows.enumerate() {
        let line = i + 2;
        let cell = |c: Option<usize>| {
            c.and_then(|c| r.get(c))
                .map(|v| v.to_string().trim().to_owned())
                .unwrap_or_default()
        };
        if r.iter().all(|c| c.to_string().trim().is_empty()) {
            continue;
        }
        let opt = |s: String| (!s.is_empty()).then_some(s);
        let element = (|| {
            let data_type = DataType::parse(&cell(Some(dt))).ok_or_else(|| {
                Error::invalid("数据类型", "one of 字符型, 数值型, 日期型, 日期时间型 …")
            })?;
            let e = Element {
                id: cell(Some(id)),
                name: cell(Some(name)),
                definition: cell(Some(def)),
                data_type,
                format: opt(cell(fmt)),
                standard: opt(cell(std)),
                codes: parse_codes(&cell(dom))?,
                synonyms: cell(syn)
                    .split(['、', ',', '，', ';'])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                identifies: match cell(who).as_str() {
                    "" => None,
                    "自然人" | "person" => Some(Identifies::Person),
                    "法人" | "enterprise" => Some(Identifies::Enterprise),
                    _ => return Err(Error::invalid("标识对象", "自然人, 法人 or empty")),
                },
                version: 0,
            };
            e.validate()?;
            Ok(e)
        })();
        out.push(element.map_err(|e| (line, e)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_national_elements_are_valid_and_unique() {
        let all = national().unwrap();
        assert!(all.len() >= 40);
        let mut ids = std::collections::HashSet::new();
        for e in &all {
            e.validate()
                .unwrap_or_else(|x| panic!("{}: {}", e.id, x.message));
            assert!(ids.insert(e.id.clone()), "{} twice", e.id);
        }
        let sex = all.iter().find(|e| e.id == "sex").unwrap();
        assert_eq!(sex.code_of_label("女性"), Some("2"));
        assert_eq!(sex.written_forms().get("男").map(String::as_str), Some("1"));
        assert_eq!(
            all.iter().find(|e| e.id == "citizen_id").unwrap().check(),
            Some(Check::CitizenId)
        );
        let eth = all.iter().find(|e| e.id == "ethnicity").unwrap();
        assert_eq!(eth.codes.len(), 58);
    }

    #[test]
    fn a_workbook_round_trips_and_bad_rows_are_named() {
        let all = national().unwrap();
        let bytes = write_workbook(&all).unwrap();
        let back: Vec<Element> = read_workbook(&bytes)
            .unwrap()
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(back, all);
        let mut bad = all[..2].to_vec();
        bad[1].id = "Bad Id".into();
        let rows = read_workbook(&write_workbook(&bad).unwrap()).unwrap();
        assert!(rows[0].is_ok());
        let (line, e) = rows[1].as_ref().unwrap_err();
        assert_eq!((*line, e.field.as_deref()), (3, Some("id")));
        assert!(parse_codes("1=男性；2＝女性").unwrap().len() == 2);
        assert_eq!(parse_codes("1=男性|男").unwrap()[0].aliases, vec!["男"]);
        assert!(parse_codes("1 男性").is_err());
    }
}

/// What an element import did.
#[derive(Clone, Debug, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ElementImport {
    /// Elements saved (new, or a new version of one that changed).
    pub saved: usize,
    /// Elements read that were already as written.
    pub unchanged: usize,
    pub errors: Vec<ElementRowError>,
}

/// A workbook row that was not imported, and why.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ElementRowError {
    pub row: usize,
    pub field: Option<String>,
    pub message: String,
}

fn from_row(row: shuju_store::VersionedRow) -> Result<Element> {
    let mut e: Element = serde_json::from_str(&row.body).map_err(Error::internal)?;
    e.version = row.version;
    Ok(e)
}

impl Catalog {
    /// The data elements, newest versions. A national element the registry does not have yet
    /// (at first use, or one a newer release adds) is saved as version 1; one the bureau edited
    /// keeps its edits.
    pub async fn elements(&self) -> Result<Vec<Element>> {
        let mut have = store::elements(&self.store).await?;
        let missing: Vec<Element> = national()?
            .into_iter()
            .filter(|e| !have.iter().any(|r| r.name == e.id))
            .collect();
        if !missing.is_empty() {
            let mut tx = self.store.write().await?;
            for e in missing {
                let body = serde_json::to_string(&e).map_err(Error::internal)?;
                store::save_element(&mut tx, &e.id, &body, "system").await?;
            }
            tx.commit().await?;
            have = store::elements(&self.store).await?;
        }
        have.into_iter().map(from_row).collect()
    }

    /// The identifiers of the data elements, to check what names them.
    pub async fn element_ids(&self) -> Result<Vec<String>> {
        Ok(self.elements().await?.into_iter().map(|e| e.id).collect())
    }

    /// The data elements, for an official (who may read the catalog).
    pub async fn list_elements(&self, c: &Caller) -> Result<Vec<Element>> {
        c.require(
            &self.store,
            perm::CATALOG_LIST,
            "catalog.elements",
            "data_element",
            None,
        )
        .await?;
        self.elements().await
    }

    /// The data elements as a workbook (the layout [`Catalog::import_elements`] reads).
    pub async fn export_elements(&self, c: &Caller) -> Result<Vec<u8>> {
        write_workbook(&self.list_elements(c).await?)
    }

    /// Every saved version of an element, newest first, for an official (who may read the
    /// catalog).
    pub async fn element_history(&self, c: &Caller, id: &str) -> Result<Vec<Element>> {
        self.list_elements(c).await?;
        let versions: Vec<Element> = store::element_history(&self.store, id)
            .await?
            .into_iter()
            .map(from_row)
            .collect::<Result<_>>()?;
        if versions.is_empty() {
            return Err(Error::not_found(format!("data element {id}")));
        }
        Ok(versions)
    }

    /// Save an element: a new one, or a new version of one that changed (an unchanged one keeps
    /// its version). Returns the version.
    pub async fn save_element(&self, c: &Caller, e: Element) -> Result<i64> {
        c.require(
            &self.store,
            perm::ELEMENT_EDIT,
            "catalog.element.save",
            "data_element",
            Some(e.id.clone()),
        )
        .await?;
        if let Err(err) = e.validate() {
            let _ = audit::record(
                &self.store,
                &c.entry(
                    "catalog.element.save",
                    "data_element",
                    Some(e.id.clone()),
                    Outcome::Rejected,
                    err.field.clone(),
                ),
            )
            .await;
            return Err(err);
        }
        let (saved, _) = self.save_elements(c, vec![e]).await?;
        Ok(saved[0])
    }

    /// Save elements in one transaction; returns each one's version and how many changed.
    async fn save_elements(&self, c: &Caller, elements: Vec<Element>) -> Result<(Vec<i64>, usize)> {
        let current = self.elements().await?;
        let mut tx = self.store.write().await?;
        let mut versions = Vec::with_capacity(elements.len());
        let mut changed = 0;
        for mut e in elements {
            let before = current.iter().find(|x| x.id == e.id);
            e.version = 0;
            if let Some(b) = before
                && (Element {
                    version: 0,
                    ..b.clone()
                }) == e
            {
                versions.push(b.version);
                continue;
            }
            let body = serde_json::to_string(&e).map_err(Error::internal)?;
            let v = store::save_element(&mut tx, &e.id, &body, &c.username).await?;
            audit::append(
                &mut tx,
                &c.entry(
                    "catalog.element.save",
                    "data_element",
                    Some(format!("{}@{v}", e.id)),
                    Outcome::Ok,
                    None,
                ),
            )
            .await?;
            versions.push(v);
            changed += 1;
        }
        tx.commit().await?;
        Ok((versions, changed))
    }

    /// Import elements from a workbook (the layout [`write_workbook`] writes): the rows that
    /// read well are saved together; the others are reported by row.
    pub async fn import_elements(&self, c: &Caller, bytes: &[u8]) -> Result<ElementImport> {
        c.require(
            &self.store,
            perm::ELEMENT_EDIT,
            "catalog.element.import",
            "data_element",
            None,
        )
        .await?;
        let mut report = ElementImport::default();
        let mut good = Vec::new();
        for r in read_workbook(bytes)? {
            match r {
                Ok(e) => good.push(e),
                Err((row, e)) => report.errors.push(ElementRowError {
                    row,
                    field: e.field,
                    message: e.message,
                }),
            }
        }
        let n = good.len();
        let (_, changed) = self.save_elements(c, good).await?;
        report.saved = changed;
        report.unchanged = n - changed;
        Ok(report)
    }
}

use crate::Catalog;
use shuju_admin::{Caller, perm};
use shuju_store::audit::{self, Outcome};
use shuju_store::catalog as store;
