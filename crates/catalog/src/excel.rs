//! Excel import and export in the layout departments use for the 2017 guide: one row per
//! information item, the resource's columns repeated on each of its rows (or left empty on the
//! rows after the first). The template, the export and the import share one column list, so an
//! export imports back.
//!
//! Import checks every row first and reports each bad row with the reason; nothing is written
//! from a file with errors unless the caller asks for the good entries (`partial`). What is
//! written is written in one transaction.

use crate::model::*;
use crate::{Catalog, Status};
use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use rust_xlsxwriter::{Format as XFormat, Workbook};
use shuju_admin::excel::{ImportReport, RowError};
use shuju_admin::{Caller, perm};
use shuju_store::audit::{self, Outcome};
use shuju_store::catalog as store;
use shuju_types::{Error, Library, ResourceAttribute, Result};
use std::collections::{HashMap, HashSet};
use std::io::Cursor;

/// The columns, in order.
pub const COLUMNS: [&str; 28] = [
    "信息资源分类",
    "信息资源名称",
    "信息资源代码",
    "信息资源提供方",
    "信息资源提供方代码",
    "信息资源摘要",
    "信息资源格式分类",
    "信息资源格式类型",
    "信息项名称",
    "字段名",
    "数据类型",
    "数据长度",
    "代码标准",
    "敏感级别",
    "信息项共享类型",
    "信息项开放类型",
    "共享类型",
    "共享条件",
    "不予共享依据",
    "共享方式",
    "开放类型",
    "更新周期",
    "发布日期",
    "关联资源代码",
    "来源系统",
    "所属库",
    "资源属性",
    "是否涉密",
];

/// Columns read when present (workbooks from before data elements import without them).
pub const OPTIONAL_COLUMNS: [&str; 2] = ["数据元", "数据元角色"];

const MAX_ROWS: usize = 500_000;

fn xerr(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("excel: {e}"))
}

/// The cells of one entry's rows (one per item).
pub fn entry_rows(e: &Entry, system_name: Option<&str>) -> Vec<Vec<String>> {
    e.items
        .iter()
        .map(|it| {
            vec![
                e.classification.join("/"),
                e.name.clone(),
                e.code.clone(),
                e.provider_name.clone(),
                e.provider_code.clone(),
                e.summary.clone(),
                e.format.category.label_zh().into(),
                e.format.detail.clone(),
                it.name.clone(),
                it.column.clone(),
                it.data_type.label_zh().into(),
                it.length.map(|l| l.to_string()).unwrap_or_default(),
                it.code_standard.clone().unwrap_or_default(),
                it.sensitivity.label_zh().into(),
                it.sharing.label_zh().into(),
                it.opening.label_zh().into(),
                e.sharing.kind.label_zh().into(),
                e.sharing.condition.clone().unwrap_or_default(),
                e.sharing.legal_basis.clone().unwrap_or_default(),
                e.sharing
                    .methods
                    .iter()
                    .map(|m| m.label_zh())
                    .collect::<Vec<_>>()
                    .join("、"),
                e.opening.label_zh().into(),
                e.update_cycle.label_zh().into(),
                e.publish_date.clone().unwrap_or_default(),
                e.related.join(";"),
                system_name.unwrap_or_default().to_owned(),
                e.library.label_zh().into(),
                e.attribute.label_zh().into(),
                if e.secret { "是".into() } else { "否".into() },
                it.element.clone().unwrap_or_default(),
                it.role.clone().unwrap_or_default(),
            ]
        })
        .collect()
}

/// Write entries as a workbook in the import layout.
pub fn write_workbook(entries: &[(Entry, Option<String>)]) -> Result<Vec<u8>> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("政务信息资源目录").map_err(xerr)?;
    let head = XFormat::new().set_bold().set_background_color("#DCE6F1");
    for (i, h) in COLUMNS.iter().chain(&OPTIONAL_COLUMNS).enumerate() {
        let col = u16::try_from(i).map_err(xerr)?;
        ws.write_string_with_format(0, col, *h, &head)
            .map_err(xerr)?;
        ws.set_column_width(col, 16).map_err(xerr)?;
    }
    let mut r: u32 = 1;
    for (e, sys) in entries {
        for row in entry_rows(e, sys.as_deref()) {
            for (c, v) in row.iter().enumerate() {
                if !v.is_empty() {
                    ws.write_string(r, u16::try_from(c).map_err(xerr)?, v)
                        .map_err(xerr)?;
                }
            }
            r += 1;
        }
    }
    wb.save_to_buffer().map_err(xerr)
}

/// The template: the header, one example entry with two items, and a sheet of allowed values.
pub fn template(profile: &shuju_types::CodingProfile) -> Result<Vec<u8>> {
    let example = Entry {
        classification: vec!["基础信息资源".into(), "法人单位".into(), "市场主体".into()],
        name: "个体工商户登记信息".into(),
        code: shuju_types::ResourceCode::from_parts("102001", 1, profile)?.to_string(),
        provider_dept_id: 0,
        provider_name: "聊城市市场监督管理局".into(),
        provider_code: String::new(),
        summary: "个体工商户的登记、变更和注销信息".into(),
        format: Format {
            category: FormatCategory::Database,
            detail: "MySQL".into(),
        },
        items: vec![
            Item {
                name: "统一社会信用代码".into(),
                column: "credit_code".into(),
                data_type: DataType::Char,
                length: Some(18),
                code_standard: Some("GB 32100".into()),
                sensitivity: Sensitivity::Public,
                sharing: SharingKind::Unconditional,
                opening: OpeningKind::Open,
                element: Some("credit_code".into()),
                role: None,
            },
            Item {
                name: "经营者身份证号".into(),
                column: "operator_id".into(),
                data_type: DataType::Char,
                length: Some(18),
                code_standard: Some("GB 11643".into()),
                sensitivity: Sensitivity::Sensitive,
                sharing: SharingKind::Conditional,
                opening: OpeningKind::NotOpen,
                element: Some("citizen_id".into()),
                role: Some("经营者".into()),
            },
        ],
        sharing: Sharing {
            kind: SharingKind::Unconditional,
            condition: None,
            legal_basis: None,
            methods: vec![SharingMethod::Api, SharingMethod::Table],
        },
        opening: OpeningKind::Conditional,
        update_cycle: UpdateCycle::Daily,
        publish_date: None,
        related: vec![],
        system_id: None,
        library: Library::BaseLegalEntity,
        attribute: ResourceAttribute::Base,
        secret: false,
    };
    let mut wb = Workbook::new();
    let bytes = write_workbook(&[(example, None)])?;
    // Add the help sheet to a fresh workbook built the same way.
    let ws = wb.add_worksheet();
    ws.set_name("政务信息资源目录").map_err(xerr)?;
    let head = XFormat::new().set_bold().set_background_color("#DCE6F1");
    let rows = read_rows(&bytes)?;
    for (i, h) in COLUMNS.iter().enumerate() {
        ws.write_string_with_format(0, u16::try_from(i).map_err(xerr)?, *h, &head)
            .map_err(xerr)?;
        ws.set_column_width(u16::try_from(i).map_err(xerr)?, 16)
            .map_err(xerr)?;
    }
    for (r, (_, cells)) in rows.iter().enumerate() {
        for (c, v) in cells.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(
                    u32::try_from(r + 1).map_err(xerr)?,
                    u16::try_from(c).map_err(xerr)?,
                    v,
                )
                .map_err(xerr)?;
            }
        }
    }
    let help = wb.add_worksheet();
    help.set_name("填写说明").map_err(xerr)?;
    let join = |v: Vec<&str>| v.join(" / ");
    let notes: Vec<(&str, String)> = vec![
        ("每行", "一个信息项；同一信息资源的各行信息资源代码相同（或第二行起留空）".into()),
        ("信息资源分类", "类/项/目/细目 名称，用 / 分隔".into()),
        ("信息资源代码", format!("前段码/后段码：类1位+项2位+目3位+细目{}-{}位 / 顺序码{}位", profile.detail_min, profile.detail_max, profile.sequence_len)),
        ("信息资源提供方", "已登记的部门名称（或在提供方代码列填统一社会信用代码）".into()),
        ("信息资源格式分类", join(FormatCategory::ALL.iter().map(|x| x.label_zh()).collect())),
        ("数据类型", join(DataType::ALL.iter().map(|x| x.label_zh()).collect())),
        ("敏感级别", join(Sensitivity::ALL.iter().map(|x| x.label_zh()).collect())),
        ("共享类型", join(SharingKind::ALL.iter().map(|x| x.label_zh()).collect())),
        ("共享方式", join(SharingMethod::ALL.iter().map(|x| x.label_zh()).collect()) + "（多项用、分隔）"),
        ("开放类型", join(OpeningKind::ALL.iter().map(|x| x.label_zh()).collect())),
        ("更新周期", join(UpdateCycle::ALL.iter().map(|x| x.label_zh()).collect())),
        ("所属库", join(Library::ALL.iter().map(|x| x.label_zh()).collect())),
        ("资源属性", "基础 / 主题 / 部门（须与代码首位 1/2/3 一致）".into()),
        ("规则", "有条件共享须填共享条件；不予共享须填依据；信息项共享范围不得大于资源；涉密资源不得登记".into()),
    ];
    for (i, (k, v)) in notes.iter().enumerate() {
        let r = u32::try_from(i).map_err(xerr)?;
        help.write_string(r, 0, *k).map_err(xerr)?;
        help.write_string(r, 1, v).map_err(xerr)?;
    }
    help.set_column_width(0, 18).map_err(xerr)?;
    help.set_column_width(1, 90).map_err(xerr)?;
    wb.save_to_buffer().map_err(xerr)
}

fn cell(c: Option<&Data>) -> String {
    match c {
        None | Some(Data::Empty) => String::new(),
        Some(Data::String(s)) => s.trim().to_owned(),
        Some(Data::Float(f)) if f.fract() == 0.0 => format!("{}", *f as i64),
        Some(Data::Int(i)) => i.to_string(),
        // Excel stores dates as days since 1899-12-30.
        Some(Data::DateTime(d)) => chrono::NaiveDate::from_ymd_opt(1899, 12, 30)
            .and_then(|base| base.checked_add_days(chrono::Days::new(d.as_f64().max(0.0) as u64)))
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        Some(other) => other.to_string().trim().to_owned(),
    }
}

/// Read the first sheet.
/// A row of the sheet: its Excel row number and its cells in [`COLUMNS`] order.
type SheetRow = (usize, Vec<String>);

fn read_rows(bytes: &[u8]) -> Result<Vec<SheetRow>> {
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
    let mut index = Vec::with_capacity(COLUMNS.len() + OPTIONAL_COLUMNS.len());
    for h in COLUMNS {
        let pos = header.iter().position(|x| x == h).ok_or_else(|| {
            Error::invalid(
                "file",
                format!("the header row has no column '{h}' (download the template)"),
            )
        })?;
        index.push(Some(pos));
    }
    for h in OPTIONAL_COLUMNS {
        index.push(header.iter().position(|x| x == h));
    }
    let mut out = Vec::new();
    for (i, r) in rows.enumerate() {
        let values: Vec<String> = index
            .iter()
            .map(|p| p.map(|p| cell(r.get(p))).unwrap_or_default())
            .collect();
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

/// One entry gathered from its rows.
struct Pending {
    first_row: usize,
    item_rows: Vec<usize>,
    entry: Option<Entry>,
    error: Option<RowError>,
    system_name: String,
}

fn enum_cell<T>(
    row: usize,
    field: &str,
    v: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> std::result::Result<T, RowError> {
    parse(v).ok_or_else(|| RowError {
        row,
        field: Some(field.into()),
        message: format!("{field}: '{v}' is not one of the allowed values"),
    })
}

fn row_err(row: usize, field: &str, msg: &str) -> RowError {
    RowError {
        row,
        field: Some(field.into()),
        message: format!("{field}: {msg}"),
    }
}

/// Build the entry-level part of an entry from its first row.
fn entry_from_row(
    row: usize,
    v: &[String],
    providers: &HashMap<String, i64>,
) -> std::result::Result<Entry, RowError> {
    let provider = providers
        .get(&v[4])
        .or_else(|| providers.get(&v[3]))
        .copied()
        .ok_or_else(|| {
            row_err(
                row,
                "provider",
                "no registered department with this name or code",
            )
        })?;
    let methods = v[19]
        .split(['、', ',', '，', ';', '；', '/'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|m| enum_cell(row, "sharing.methods", m, SharingMethod::parse))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let opt = |s: &String| Some(s.clone()).filter(|s| !s.is_empty());
    Ok(Entry {
        classification: v[0]
            .split('/')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        name: v[1].clone(),
        code: v[2].clone(),
        provider_dept_id: provider,
        provider_name: String::new(),
        provider_code: String::new(),
        summary: v[5].clone(),
        format: Format {
            category: enum_cell(row, "format.category", &v[6], FormatCategory::parse)?,
            detail: v[7].clone(),
        },
        items: vec![],
        sharing: Sharing {
            kind: enum_cell(row, "sharing.kind", &v[16], SharingKind::parse)?,
            condition: opt(&v[17]),
            legal_basis: opt(&v[18]),
            methods,
        },
        opening: enum_cell(row, "opening", &v[20], OpeningKind::parse)?,
        update_cycle: enum_cell(row, "update_cycle", &v[21], UpdateCycle::parse)?,
        publish_date: opt(&v[22]),
        related: v[23]
            .split([';', '；', ',', '，'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        system_id: None,
        library: enum_cell(row, "library", &v[25], Library::parse)?,
        attribute: enum_cell(row, "attribute", &v[26], |s| match s {
            "基础" | "base" => Some(ResourceAttribute::Base),
            "主题" | "theme" => Some(ResourceAttribute::Theme),
            "部门" | "department" => Some(ResourceAttribute::Department),
            _ => None,
        })?,
        secret: match v[27].as_str() {
            "是" | "true" | "yes" | "Y" => true,
            "" | "否" | "false" | "no" | "N" => false,
            other => {
                return Err(row_err(
                    row,
                    "secret",
                    &format!("'{other}' must be 是 or 否"),
                ));
            }
        },
    })
}

fn item_from_row(row: usize, v: &[String]) -> std::result::Result<Item, RowError> {
    let length = if v[11].is_empty() {
        None
    } else {
        Some(
            v[11]
                .parse::<u32>()
                .map_err(|_| row_err(row, "length", "must be a whole number"))?,
        )
    };
    Ok(Item {
        name: v[8].clone(),
        column: v[9].clone(),
        data_type: enum_cell(row, "data_type", &v[10], DataType::parse)?,
        length,
        code_standard: Some(v[12].clone()).filter(|s| !s.is_empty()),
        sensitivity: enum_cell(row, "sensitivity", &v[13], Sensitivity::parse)?,
        sharing: enum_cell(row, "items.sharing", &v[14], SharingKind::parse)?,
        opening: enum_cell(row, "items.opening", &v[15], OpeningKind::parse)?,
        element: Some(v[28].clone()).filter(|s| !s.is_empty()),
        role: Some(v[29].clone()).filter(|s| !s.is_empty()),
    })
}

/// Which row an error on `field` of an entry belongs to.
fn error_row(p: &Pending, field: &str) -> usize {
    if let Some(rest) = field.strip_prefix("items[")
        && let Some(i) = rest.split(']').next().and_then(|n| n.parse::<usize>().ok())
        && let Some(r) = p.item_rows.get(i)
    {
        return *r;
    }
    p.first_row
}

impl Catalog {
    /// Export the entries the caller manages.
    pub async fn export(&self, c: &Caller) -> Result<Vec<u8>> {
        const ACTION: &str = "catalog.export";
        self.admin_require(c, perm::CATALOG_EXPORT, ACTION).await?;
        let mut entries = Vec::new();
        let mut page = 1;
        loop {
            let p = self
                .list_managed(
                    c,
                    Default::default(),
                    None,
                    shuju_store::Page {
                        page,
                        size: shuju_store::Page::MAX_SIZE,
                    },
                )
                .await?;
            let n = p.items.len();
            for v in p.items {
                let sys = match v.entry.system_id {
                    Some(id) => store::get_system(&self.store, id).await?.map(|s| s.name),
                    None => None,
                };
                entries.push((v.entry, sys));
            }
            if n < shuju_store::Page::MAX_SIZE as usize {
                break;
            }
            page += 1;
        }
        let bytes = write_workbook(&entries)?;
        let entry = c.entry(
            ACTION,
            "catalog_entry",
            None,
            Outcome::Ok,
            Some(format!("{} entries", entries.len())),
        );
        audit::record(&self.store, &entry).await?;
        Ok(bytes)
    }

    /// Import entries from a workbook. With `publish`, a reviewer registers an existing catalog
    /// as published in one step.
    pub async fn import(
        &self,
        c: &Caller,
        bytes: &[u8],
        partial: bool,
        publish: bool,
    ) -> Result<ImportReport> {
        const ACTION: &str = "catalog.import";
        self.admin_require(c, perm::CATALOG_IMPORT, ACTION).await?;
        if publish {
            self.admin_require(c, perm::CATALOG_REVIEW, ACTION).await?;
        }
        let read = read_rows(bytes);
        let rows = self.admin_checked(c, ACTION, None, read).await?;
        let vis = self.visibility(c).await?;
        let depts = shuju_admin::departments::all(&self.store).await?;
        let mut providers: HashMap<String, i64> = HashMap::new();
        for d in depts.iter().filter(|d| vis.sees_dept(d.id)) {
            providers.insert(d.name.clone(), d.id);
            if let Some(u) = &d.uscc {
                providers.insert(u.clone(), d.id);
            }
        }
        // Group rows into entries by code (a row with an empty code continues the one above).
        let mut pending: Vec<Pending> = Vec::new();
        let mut by_code: HashMap<String, usize> = HashMap::new();
        for (row, v) in &rows {
            let code = v[2].trim().to_owned();
            let idx = if code.is_empty() {
                match pending.len() {
                    0 => {
                        pending.push(Pending {
                            first_row: *row,
                            item_rows: vec![],
                            entry: None,
                            error: Some(row_err(*row, "code", "is required")),
                            system_name: String::new(),
                        });
                        continue;
                    }
                    n => n - 1,
                }
            } else if let Some(i) = by_code.get(&code) {
                if *i != pending.len() - 1 {
                    pending[*i].error.get_or_insert(row_err(
                        *row,
                        "code",
                        "the rows of one resource must be together",
                    ));
                }
                *i
            } else {
                let entry = entry_from_row(*row, v, &providers);
                let (entry, error) = match entry {
                    Ok(e) => (Some(e), None),
                    Err(e) => (None, Some(e)),
                };
                pending.push(Pending {
                    first_row: *row,
                    item_rows: vec![],
                    entry,
                    error,
                    system_name: v[24].clone(),
                });
                by_code.insert(code, pending.len() - 1);
                pending.len() - 1
            };
            let p = &mut pending[idx];
            p.item_rows.push(*row);
            match item_from_row(*row, v) {
                Ok(it) => {
                    if let Some(e) = &mut p.entry {
                        e.items.push(it);
                    }
                }
                Err(e) => {
                    p.error.get_or_insert(e);
                }
            }
        }
        // Check each entry: the rules, then what the database knows.
        let file_codes: HashSet<String> = pending
            .iter()
            .filter_map(|p| p.entry.as_ref().map(|e| e.code.trim().to_owned()))
            .collect();
        let mut wanted: Vec<String> = file_codes.iter().cloned().collect();
        wanted.extend(
            pending
                .iter()
                .filter_map(|p| p.entry.as_ref())
                .flat_map(|e| e.related.clone()),
        );
        wanted.sort();
        wanted.dedup();
        let existing: HashSet<String> = store::existing_codes(&self.store, &wanted)
            .await?
            .into_iter()
            .collect();
        let systems = store::list_systems(
            &self.store,
            None,
            None,
            shuju_store::Page {
                page: 1,
                size: shuju_store::Page::MAX_SIZE,
            },
        )
        .await?;
        let mut good: Vec<Entry> = Vec::new();
        let mut errors: Vec<RowError> = Vec::new();
        let element_ids: Vec<String> = if pending
            .iter()
            .flat_map(|p| p.entry.iter())
            .any(|e| e.items.iter().any(|i| i.element.is_some()))
        {
            self.element_ids().await?
        } else {
            Vec::new()
        };
        for p in &mut pending {
            if let Some(e) = p.error.take() {
                errors.push(e);
                continue;
            }
            let Some(mut e) = p.entry.take() else {
                continue;
            };
            if !p.system_name.is_empty() {
                match systems
                    .items
                    .iter()
                    .find(|s| s.name == p.system_name && s.owner_dept_id == e.provider_dept_id)
                    .or_else(|| systems.items.iter().find(|s| s.name == p.system_name))
                {
                    Some(s) => e.system_id = Some(s.id),
                    None => {
                        errors.push(row_err(
                            p.first_row,
                            "system",
                            "no registered information system with this name",
                        ));
                        continue;
                    }
                }
            }
            let checked = crate::rules::check(&e, &self.cfg.coding).and_then(|code| {
                crate::lake::known_elements(&e, &element_ids)?;
                e.code = code.to_string();
                if existing.contains(&e.code) {
                    return Err(Error::invalid(
                        "code",
                        "an entry with this code is already registered",
                    ));
                }
                if let Some((i, _)) = e
                    .related
                    .iter()
                    .enumerate()
                    .find(|(_, r)| !existing.contains(*r) && !file_codes.contains(*r))
                {
                    return Err(Error::invalid(
                        format!("related[{i}]"),
                        "no catalog entry has this code",
                    ));
                }
                Ok(())
            });
            match checked {
                Ok(()) => {
                    let d = depts.iter().find(|d| d.id == e.provider_dept_id);
                    e.provider_name = d.map(|d| d.name.clone()).unwrap_or_default();
                    e.provider_code = d
                        .and_then(|d| d.uscc.clone().or(d.short_code.clone()))
                        .unwrap_or_default();
                    good.push(e);
                }
                Err(err) => {
                    let field = err.field.clone().unwrap_or_default();
                    errors.push(RowError {
                        row: error_row(p, &field),
                        field: err.field,
                        message: err.message,
                    });
                }
            }
        }
        errors.sort_by_key(|e| e.row);
        let total_rows = rows.len();
        if !errors.is_empty() && !partial {
            let detail = Some(format!("{} bad rows; nothing imported", errors.len()));
            audit::record(
                &self.store,
                &c.entry(ACTION, "catalog_entry", None, Outcome::Rejected, detail),
            )
            .await?;
            return Ok(ImportReport {
                rows: total_rows,
                imported: 0,
                errors,
                rejected: true,
            });
        }
        let status = if publish {
            Status::Published
        } else {
            Status::Draft
        };
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        let mut tx = self.store.write().await?;
        let mut ids = Vec::with_capacity(good.len());
        for mut e in good {
            if publish && e.publish_date.is_none() {
                e.publish_date = Some(today.clone());
            }
            let f = Catalog::fields(&e, status, 1, publish.then_some(1), None)?;
            let id = store::insert_entry(&mut tx, &f, &c.username).await?;
            store::insert_version(&mut tx, id, 1, &f.content, &c.username).await?;
            store::insert_event(
                &mut tx,
                id,
                1,
                "import",
                None,
                status.key(),
                None,
                &c.username,
            )
            .await?;
            audit::append(
                &mut tx,
                &c.entry(
                    ACTION,
                    "catalog_entry",
                    Some(id.to_string()),
                    Outcome::Ok,
                    None,
                ),
            )
            .await?;
            ids.push(id);
        }
        tx.commit().await?;
        let imported = ids.len();
        self.refresh_index(true).await?;
        Ok(ImportReport {
            rows: total_rows,
            imported,
            errors,
            rejected: false,
        })
    }
}
