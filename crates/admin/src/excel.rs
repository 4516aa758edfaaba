//! Excel import and export of departments, in one column layout shared by the template, the
//! export and the import, so an exported file imports back unchanged.
//!
//! Import validates every row first and reports each bad row with the reason. Nothing is written
//! from a file with errors unless the caller asks for the good rows (`partial`); what is written is
//! written in one transaction.

use crate::departments::{DepartmentInput, validate_fields};
use crate::perm;
use crate::{Admin, Caller};
use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use rust_xlsxwriter::{Format, Workbook};
use shuju_store::audit::{self, Outcome};
use shuju_store::departments as store;
use shuju_types::{Error, Result};
use std::collections::HashMap;
use std::io::Cursor;

/// Column headers (zh-CN, as departments' spreadsheets have them) and their meaning.
pub const COLUMNS: [(&str, &str); 9] = [
    ("部门名称", "name"),
    ("上级部门", "parent (name or USCC of a department above)"),
    ("行政区划代码", "division_code"),
    ("统一社会信用代码", "uscc"),
    ("部门编码", "short_code"),
    ("负责人", "leader"),
    ("联系电话", "contact"),
    ("状态", "status: 正常 / 停用"),
    ("排序", "sort_order"),
];

/// The largest file accepted (the web layer enforces the same limit on the body).
pub const MAX_ROWS: usize = 10_000;

#[derive(Clone, Debug, serde::Serialize)]
pub struct RowError {
    /// 1-based row number as Excel shows it.
    pub row: usize,
    pub field: Option<String>,
    pub message: String,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct ImportReport {
    pub rows: usize,
    pub imported: usize,
    pub errors: Vec<RowError>,
    /// True when nothing was written because of errors (and `partial` was not asked for).
    pub rejected: bool,
}

fn header_format() -> Format {
    Format::new().set_bold().set_background_color("#DCE6F1")
}

fn status_label(s: &str) -> &'static str {
    if s == "active" { "正常" } else { "停用" }
}

fn status_value(s: &str) -> Option<String> {
    match s.trim() {
        "" | "正常" | "active" | "启用" => Some("active".into()),
        "停用" | "disabled" => Some("disabled".into()),
        _ => None,
    }
}

fn write_headers(ws: &mut rust_xlsxwriter::Worksheet) -> Result<()> {
    let f = header_format();
    for (i, (h, _)) in COLUMNS.iter().enumerate() {
        let col = u16::try_from(i).unwrap_or(0);
        ws.write_string_with_format(0, col, *h, &f)
            .map_err(Error::internal)?;
        ws.set_column_width(col, 22).map_err(Error::internal)?;
    }
    Ok(())
}

/// The empty template with one example row and a sheet of instructions.
pub fn template() -> Result<Vec<u8>> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("部门").map_err(Error::internal)?;
    write_headers(ws)?;
    let example = [
        "聊城市示例局",
        "聊城市人民政府",
        "371500",
        "",
        "SL",
        "张三",
        "0635-8888888",
        "正常",
        "10",
    ];
    for (i, v) in example.iter().enumerate() {
        ws.write_string(1, u16::try_from(i).unwrap_or(0), *v)
            .map_err(Error::internal)?;
    }
    let help = wb.add_worksheet();
    help.set_name("说明").map_err(Error::internal)?;
    help.write_string(0, 0, "列").map_err(Error::internal)?;
    help.write_string(0, 1, "说明 / meaning")
        .map_err(Error::internal)?;
    for (i, (h, m)) in COLUMNS.iter().enumerate() {
        let r = u32::try_from(i + 1).unwrap_or(0);
        help.write_string(r, 0, *h).map_err(Error::internal)?;
        help.write_string(r, 1, *m).map_err(Error::internal)?;
    }
    help.set_column_width(1, 60).map_err(Error::internal)?;
    wb.save_to_buffer().map_err(Error::internal)
}

fn cell(c: Option<&Data>) -> String {
    match c {
        None | Some(Data::Empty) => String::new(),
        Some(Data::String(s)) => s.trim().to_owned(),
        Some(Data::Float(f)) if f.fract() == 0.0 => format!("{}", *f as i64),
        Some(Data::Int(i)) => i.to_string(),
        Some(other) => other.to_string().trim().to_owned(),
    }
}

impl Admin {
    pub async fn export_departments(&self, c: &Caller) -> Result<Vec<u8>> {
        const ACTION: &str = "department.export";
        self.require(c, perm::DEPT_EXPORT, ACTION, "department")
            .await?;
        let depts = self.department_tree(c).await?;
        let by_id: HashMap<i64, String> =
            depts.iter().map(|(_, d)| (d.id, d.name.clone())).collect();
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name("部门").map_err(Error::internal)?;
        write_headers(ws)?;
        for (r, (_, d)) in depts.iter().enumerate() {
            let row = u32::try_from(r + 1).unwrap_or(u32::MAX);
            let parent = d
                .parent_id
                .and_then(|p| by_id.get(&p).cloned())
                .unwrap_or_default();
            let values = [
                d.name.clone(),
                parent,
                d.division_code.clone(),
                d.uscc.clone().unwrap_or_default(),
                d.short_code.clone().unwrap_or_default(),
                d.leader.clone().unwrap_or_default(),
                d.contact.clone().unwrap_or_default(),
                status_label(&d.status).into(),
                d.sort_order.to_string(),
            ];
            for (col, v) in values.iter().enumerate() {
                ws.write_string(row, u16::try_from(col).unwrap_or(0), v)
                    .map_err(Error::internal)?;
            }
        }
        let bytes = wb.save_to_buffer().map_err(Error::internal)?;
        self.record(&c.entry(
            ACTION,
            "department",
            None,
            Outcome::Ok,
            Some(format!("{} rows", depts.len())),
        ))
        .await?;
        Ok(bytes)
    }

    /// Import departments from an .xlsx file.
    pub async fn import_departments(
        &self,
        c: &Caller,
        bytes: &[u8],
        partial: bool,
    ) -> Result<ImportReport> {
        const ACTION: &str = "department.import";
        self.require(c, perm::DEPT_IMPORT, ACTION, "department")
            .await?;
        let parsed = self.parse_department_sheet(bytes);
        let rows = self.checked(c, ACTION, "department", None, parsed).await?;
        let vis = self.visibility(c).await?;
        let existing = store::all(&self.store).await?;
        // Parents may be existing departments or rows earlier in the file, by name or USCC.
        let mut known: HashMap<String, Option<i64>> = HashMap::new();
        for d in &existing {
            known.insert(d.name.clone(), Some(d.id));
            if let Some(u) = &d.uscc {
                known.insert(u.clone(), Some(d.id));
            }
        }
        let current_divisions: std::collections::HashSet<String> =
            shuju_store::divisions::list(&self.store, false)
                .await?
                .into_iter()
                .map(|d| d.code)
                .collect();
        let mut errors = Vec::new();
        let mut good: Vec<(usize, DepartmentInput, Option<String>)> = Vec::new();
        let mut seen_in_file: HashMap<String, usize> = HashMap::new();
        for (row, values) in &rows {
            let status = status_value(&values[7]);
            let sort = if values[8].is_empty() {
                Ok(0)
            } else {
                values[8].parse::<i64>()
            };
            let input = DepartmentInput {
                parent_id: None,
                name: values[0].clone(),
                short_code: Some(values[4].clone()),
                division_code: values[2].clone(),
                uscc: Some(values[3].clone()),
                leader: Some(values[5].clone()),
                contact: Some(values[6].clone()),
                status: status.clone(),
                sort_order: sort.as_ref().ok().copied(),
            };
            let check = (|| {
                let f = validate_fields(&input)?;
                if status.is_none() {
                    return Err(Error::invalid("status", "must be 正常 or 停用"));
                }
                if sort.is_err() {
                    return Err(Error::invalid("sort_order", "must be a whole number"));
                }
                if !current_divisions.contains(&f.division_code) {
                    return Err(Error::invalid("division_code", "is not a current division"));
                }
                if known.get(&f.name).is_some_and(Option::is_some) {
                    return Err(Error::invalid(
                        "name",
                        "a department with this name already exists",
                    ));
                }
                if let Some(first) = seen_in_file.get(&f.name) {
                    return Err(Error::invalid("name", format!("repeats row {first}")));
                }
                if let Some(u) = &f.uscc
                    && known.contains_key(u)
                {
                    return Err(Error::invalid(
                        "uscc",
                        "another department already has this USCC",
                    ));
                }
                let parent = values[1].trim();
                if parent.is_empty() {
                    if !vis.all {
                        return Err(Error::invalid("parent", "is required"));
                    }
                } else {
                    match known.get(parent) {
                        None => {
                            return Err(Error::invalid(
                                "parent",
                                "no department with this name or USCC (above this row or already registered)",
                            ));
                        }
                        Some(Some(id)) if !vis.sees_dept(*id) => {
                            return Err(Error::invalid("parent", "is outside your data scope"));
                        }
                        _ => {}
                    }
                }
                Ok(f)
            })();
            match check {
                Ok(f) => {
                    known.insert(f.name.clone(), None);
                    if let Some(u) = &f.uscc {
                        known.insert(u.clone(), None);
                    }
                    seen_in_file.insert(f.name.clone(), *row);
                    let parent = Some(values[1].trim().to_owned()).filter(|p| !p.is_empty());
                    good.push((*row, input, parent));
                }
                Err(e) => errors.push(RowError {
                    row: *row,
                    field: e.field.clone(),
                    message: e.message,
                }),
            }
        }
        let report = |imported, rejected, errors| ImportReport {
            rows: rows.len(),
            imported,
            errors,
            rejected,
        };
        if !errors.is_empty() && !partial {
            let detail = Some(format!("{} bad rows; nothing imported", errors.len()));
            self.record(&c.entry(ACTION, "department", None, Outcome::Rejected, detail))
                .await?;
            return Ok(report(0, true, errors));
        }
        // A good row whose parent was a bad row cannot be placed: report it too.
        let mut tx = self.store.write().await?;
        let mut ids: HashMap<String, i64> =
            existing.iter().map(|d| (d.name.clone(), d.id)).collect();
        for d in &existing {
            if let Some(u) = &d.uscc {
                ids.insert(u.clone(), d.id);
            }
        }
        let mut imported = 0;
        for (row, mut input, parent) in good {
            if let Some(p) = &parent {
                match ids.get(p) {
                    Some(id) => input.parent_id = Some(*id),
                    None => {
                        errors.push(RowError {
                            row,
                            field: Some("parent".into()),
                            message: "parent: its row was not imported".into(),
                        });
                        continue;
                    }
                }
            }
            let f = validate_fields(&input)?;
            let id = store::insert(&mut tx, &f, &c.username).await?;
            ids.insert(f.name.clone(), id);
            if let Some(u) = &f.uscc {
                ids.insert(u.clone(), id);
            }
            audit::append(
                &mut tx,
                &c.entry(
                    ACTION,
                    "department",
                    Some(id.to_string()),
                    Outcome::Ok,
                    None,
                ),
            )
            .await?;
            imported += 1;
        }
        tx.commit().await?;
        Ok(report(imported, false, errors))
    }

    fn parse_department_sheet(&self, bytes: &[u8]) -> Result<Vec<(usize, Vec<String>)>> {
        let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes))
            .map_err(|_| Error::invalid("file", "is not an .xlsx workbook"))?;
        let range = wb
            .worksheet_range_at(0)
            .ok_or_else(|| Error::invalid("file", "the workbook has no sheet"))?
            .map_err(|_| Error::invalid("file", "the first sheet cannot be read"))?;
        let mut rows = range.rows();
        let header: Vec<String> = rows
            .next()
            .map(|r| r.iter().map(|c| cell(Some(c))).collect())
            .unwrap_or_default();
        let mut index = Vec::new();
        for (h, _) in COLUMNS {
            let pos = header.iter().position(|x| x == h).ok_or_else(|| {
                Error::invalid(
                    "file",
                    format!("the header row has no column '{h}' (download the template)"),
                )
            })?;
            index.push(pos);
        }
        let mut out = Vec::new();
        for (i, r) in rows.enumerate() {
            let values: Vec<String> = index.iter().map(|p| cell(r.get(*p))).collect();
            if values.iter().all(String::is_empty) {
                continue;
            }
            out.push((i + 2, values));
            if out.len() > MAX_ROWS {
                return Err(Error::invalid(
                    "file",
                    format!("has more than {MAX_ROWS} rows"),
                ));
            }
        }
        Ok(out)
    }
}
