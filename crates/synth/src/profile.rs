//! A second city: the same people as the reference city, delivered by departments that name their
//! tables and columns otherwise (English, and other pinyin initials), write their own codes (`M`/`F`,
//! `Y`/`N`, `LLC`, `DB` …), other date formats, other encodings and file formats. Nothing in the
//! platform knows this city: a bureau sets it up through the catalog import (items naming data
//! elements), table set-up with code maps, and deliveries — and should get the same persons,
//! files and checks as the reference city.

use crate::sources::{SOURCES, Source};
use shuju_catalog::model::Entry;
use shuju_types::{Error, Result};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A value as the reference files write it, as this city writes it, and the standard code.
pub type Recode = (&'static str, &'static str, &'static str);

/// How the other city holds one of the reference city's tables.
pub struct Table {
    /// The reference table.
    pub from: &'static str,
    pub table: &'static str,
    pub entry_name: &'static str,
    /// Reference column → this city's column and item name.
    pub columns: &'static [(&'static str, &'static str, &'static str)],
    /// The delivery: `csv` (UTF-8), `gbk` (CSV in GBK) or `jsonl`.
    pub format: &'static str,
    /// Per reference column: (the value in the reference files, this city's code, the standard
    /// code it maps to).
    pub codes: &'static [(&'static str, &'static [Recode])],
}

/// The other city's person-naming departmental tables.
pub const TABLES: &[Table] = &[
    Table {
        from: "gongan_hukou",
        table: "hukou_persons",
        entry_name: "户籍人口信息",
        columns: &[
            ("sfzh", "id_number", "身份证号码"),
            ("xm", "full_name", "姓名"),
            ("xb", "gender", "性别"),
            ("csrq", "date_of_birth", "出生年月日"),
            ("hh", "household_no", "户编号"),
            ("zz", "residence", "户籍地址"),
            ("xzqh", "region_code", "所属区划"),
            ("lxdh", "mobile", "手机号码"),
        ],
        format: "gbk",
        codes: &[("xb", &[("男", "M", "1"), ("女", "F", "2")])],
    },
    Table {
        from: "rsj_shebao",
        table: "si_enrolment",
        entry_name: "社保参保人员信息",
        columns: &[
            ("cbrybh", "member_no", "个人编号"),
            ("sfzh", "id_no", "证件号码"),
            ("xm", "person_name", "人员姓名"),
            ("csrq", "birthday", "出生日期"),
            ("xzlx", "scheme", "险种"),
            ("jfjs", "wage_base", "缴费工资"),
            ("cbzt", "paying", "缴费状态"),
            ("gxsj", "modified", "修改时间"),
        ],
        format: "jsonl",
        codes: &[("cbzt", &[("1", "Y", "1"), ("2", "N", "2")])],
    },
    Table {
        from: "zrzy_budongchan",
        table: "bdc_qlr",
        entry_name: "不动产权利人信息",
        columns: &[
            ("qlr", "qlrmc", "权利人名称"),
            ("zjhm", "qlrzjh", "权利人证件号"),
            ("bdcdyh", "dyh", "单元号"),
            ("zl", "zldz", "坐落地址"),
            ("mj", "jzmj", "建筑面积"),
            ("djrq", "dbsj", "登簿时间"),
        ],
        format: "csv",
        codes: &[],
    },
    Table {
        from: "gongan_vehicles",
        table: "vehicle_register",
        entry_name: "机动车注册登记信息",
        columns: &[
            ("hphm", "plate", "车牌号"),
            ("hpzl", "plate_kind", "号牌类型"),
            ("syr", "owner", "车主"),
            ("sfzmhm", "owner_id", "车主身份证"),
            ("cllx", "body_type", "车型"),
            ("clsbdh", "vin", "VIN"),
            ("ccdjrq", "first_registered", "初次登记日期"),
        ],
        format: "csv",
        codes: &[],
    },
    Table {
        from: "scjg_entities",
        table: "market_subjects",
        entry_name: "经营主体登记信息",
        columns: &[
            ("tyshxydm", "uscc", "社会信用代码"),
            ("ztmc", "entity_name", "企业名称"),
            ("ztlx", "entity_kind", "企业类型"),
            ("fddbr", "legal_person", "法人"),
            ("fddbrzjhm", "legal_person_id", "法人身份证号"),
            ("zczb", "capital", "注册资金"),
            ("clrq", "founded_on", "成立时间"),
            ("djzt", "state", "经营状态"),
            ("zch", "old_reg_no", "原注册号"),
            ("zs", "domicile", "注册地址"),
        ],
        format: "gbk",
        codes: &[
            (
                "ztlx",
                &[
                    ("有限责任公司", "LLC", "有限责任公司"),
                    ("个体工商户", "IND", "个体工商户"),
                ],
            ),
            ("djzt", &[("存续", "1", "存续"), ("注销", "2", "注销")]),
        ],
    },
    Table {
        from: "mzj_marriages",
        table: "hydj",
        entry_name: "婚姻登记记录",
        columns: &[
            ("djbh", "djzh", "登记证号"),
            ("nfsfzh", "mzjh", "男方证件号"),
            ("nfxm", "mxm", "男方名字"),
            ("vfsfzh", "fzjh", "女方证件号"),
            ("vfxm", "fxm", "女方名字"),
            ("djlx", "ywlx", "业务类型"),
            ("djrq", "blrq", "办理日期"),
        ],
        format: "csv",
        codes: &[("djlx", &[("结婚", "IA", "结婚"), ("离婚", "IB", "离婚")])],
    },
    Table {
        from: "mzj_assistance",
        table: "relief_recipients",
        entry_name: "救助对象名册",
        columns: &[
            ("jzbh", "case_no", "案卷号"),
            ("sfzh", "citizen_no", "身份证"),
            ("xm", "recipient", "救助对象"),
            ("csrq", "born", "生日"),
            ("zz", "home_address", "家庭住址"),
            ("jzlx", "relief_kind", "救助类别"),
            ("ffje", "amount", "金额"),
            ("ksrq", "since", "起始日期"),
        ],
        format: "jsonl",
        codes: &[(
            "jzlx",
            &[
                ("低保", "DB", "低保"),
                ("特困供养", "TK", "特困供养"),
                ("残疾人两项补贴", "CJ", "残疾人两项补贴"),
            ],
        )],
    },
    Table {
        from: "gjj_accounts",
        table: "zfgjj_zh",
        entry_name: "公积金个人账户",
        columns: &[
            ("grzh", "zh", "账号"),
            ("sfzh", "zjhm", "证件号码"),
            ("xm", "hm", "户名"),
            ("dwmc", "dw", "单位"),
            ("yjce", "yjje", "月缴金额"),
            ("jczt", "zhzt", "账户状态"),
            ("khrq", "kh", "开户时间"),
        ],
        format: "gbk",
        codes: &[("jczt", &[("正常", "A", "正常"), ("封存", "S", "封存")])],
    },
    Table {
        from: "gongan_rentals",
        table: "tenancy",
        entry_name: "房屋租住登记",
        columns: &[
            ("djbh", "record_no", "登记号"),
            ("czrxm", "tenant", "租客姓名"),
            ("czrsfzh", "tenant_id", "租客证件"),
            ("fwdz", "premises", "房屋地址"),
            ("czrxm2", "landlord", "房东"),
            ("zlqsrq", "lease_from", "起租日"),
            ("zljzrq", "lease_to", "止租日"),
        ],
        format: "csv",
        codes: &[],
    },
    Table {
        from: "mzj_disability",
        table: "cjr",
        entry_name: "持证残疾人",
        columns: &[
            ("cjrzh", "zh", "证号"),
            ("sfzh", "sfz", "身份证"),
            ("xm", "mc", "名称"),
            ("cjlb", "lb", "类别"),
            ("cjdj", "dj", "等级"),
            ("fzrq", "fz", "发证"),
        ],
        format: "csv",
        codes: &[
            (
                "cjlb",
                &[
                    ("视力", "1", "视力"),
                    ("听力", "2", "听力"),
                    ("言语", "3", "言语"),
                    ("肢体", "4", "肢体"),
                    ("智力", "5", "智力"),
                    ("精神", "6", "精神"),
                    ("多重", "7", "多重"),
                ],
            ),
            (
                "cjdj",
                &[
                    ("一级", "1", "一级"),
                    ("二级", "2", "二级"),
                    ("三级", "3", "三级"),
                    ("四级", "4", "四级"),
                ],
            ),
        ],
    },
    Table {
        from: "scjg_shareholders",
        table: "gd_cz",
        entry_name: "股东出资",
        columns: &[
            ("gdczbh", "bh", "编号"),
            ("tyshxydm", "qydm", "企业代码"),
            ("gdmc", "gd", "股东"),
            ("gdzjhm", "gdzj", "股东证件"),
            ("rjcze", "rj", "认缴"),
            ("czbl", "bl", "比例"),
        ],
        format: "csv",
        codes: &[],
    },
];

impl Table {
    /// The reference source this table holds.
    pub fn source(&self) -> Result<&'static Source> {
        SOURCES
            .iter()
            .find(|s| s.table == self.from)
            .ok_or_else(|| Error::not_found(self.from))
    }

    /// This city's column for a reference column.
    pub fn column(&self, reference: &str) -> Option<&'static str> {
        self.columns.iter().find(|c| c.0 == reference).map(|c| c.1)
    }

    /// The delivery's file name.
    pub fn file(&self) -> String {
        match self.format {
            "jsonl" => format!("{}.jsonl", self.table),
            _ => format!("{}.csv", self.table),
        }
    }

    /// The catalog entry: the reference entry with this city's names, its items naming the same
    /// data elements (which is what the bureau's clerk sets when registering it).
    pub fn entry(&self, reference: &Entry) -> Entry {
        let mut e = reference.clone();
        e.name = self.entry_name.into();
        e.summary = format!("{}。", self.entry_name);
        for it in &mut e.items {
            if let Some((_, col, title)) = self.columns.iter().find(|c| c.0 == it.column) {
                it.column = (*col).into();
                it.name = (*title).into();
            }
        }
        e
    }

    /// The key columns, in this city's names.
    pub fn key(&self) -> Result<Vec<String>> {
        self.source()?
            .key
            .iter()
            .map(|k| {
                self.column(k)
                    .map(str::to_owned)
                    .ok_or_else(|| Error::not_found(*k))
            })
            .collect()
    }

    /// The code maps to give at set-up: column → (this city's code → the standard code).
    pub fn code_maps(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        self.codes
            .iter()
            .filter_map(|(col, triples)| {
                Some((
                    self.column(col)?.to_owned(),
                    triples
                        .iter()
                        .map(|(_, local, std)| ((*local).to_owned(), (*std).to_owned()))
                        .collect(),
                ))
            })
            .collect()
    }
}

fn io(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("profile: {e}"))
}

/// The reference delivery's rows, by reference column.
fn read_reference(city: &Path, s: &Source) -> Result<Vec<BTreeMap<String, String>>> {
    let file = s.file.ok_or_else(|| Error::not_found(s.table))?;
    let path = city.join(file);
    let title_to_col = |h: &str| {
        s.items
            .iter()
            .find(|i| i.0 == h || i.1 == h)
            .map(|i| i.1.to_owned())
    };
    let mut out = Vec::new();
    if file.ends_with(".jsonl") {
        let text = std::fs::read_to_string(&path).map_err(io)?;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(line).map_err(io)?;
            out.push(
                v.into_iter()
                    .filter_map(|(k, v)| {
                        let col = title_to_col(&k)?;
                        let text = match v {
                            serde_json::Value::String(s) => s,
                            serde_json::Value::Null => String::new(),
                            v => v.to_string(),
                        };
                        Some((col, text))
                    })
                    .collect(),
            );
        }
    } else if file.ends_with(".xlsx") {
        use calamine::Reader;
        let mut wb = calamine::open_workbook_auto(&path).map_err(io)?;
        let range = wb
            .worksheet_range_at(0)
            .ok_or_else(|| io("no sheet"))?
            .map_err(io)?;
        let mut rows = range.rows();
        let header: Vec<Option<String>> = rows
            .next()
            .map(|r| {
                r.iter()
                    .map(|c| title_to_col(c.to_string().trim()))
                    .collect()
            })
            .unwrap_or_default();
        for r in rows {
            out.push(
                header
                    .iter()
                    .zip(r)
                    .filter_map(|(h, c)| Some((h.clone()?, c.to_string())))
                    .collect(),
            );
        }
    } else {
        let bytes = std::fs::read(&path).map_err(io)?;
        let text = match std::str::from_utf8(&bytes) {
            Ok(t) => t.trim_start_matches('\u{feff}').to_owned(),
            Err(_) => encoding_rs::GBK.decode(&bytes).0.into_owned(),
        };
        let mut rd = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.as_bytes());
        let header: Vec<Option<String>> = rd
            .headers()
            .map_err(io)?
            .iter()
            .map(|h| title_to_col(h.trim()))
            .collect();
        for r in rd.records() {
            let r = r.map_err(io)?;
            out.push(
                header
                    .iter()
                    .zip(r.iter())
                    .filter_map(|(h, c)| Some((h.clone()?, c.to_owned())))
                    .collect(),
            );
        }
    }
    Ok(out)
}

/// A date as this city writes it (`2020-01-05` for `20200105`); anything else as it was.
fn other_date(v: &str) -> String {
    if v.len() == 8 && v.bytes().all(|b| b.is_ascii_digit()) {
        format!("{}-{}-{}", &v[..4], &v[4..6], &v[6..])
    } else {
        v.to_owned()
    }
}

/// Write the other city's deliveries of the reference city in `city` to `out`; returns each
/// table with its file.
pub fn write(city: &Path, out: &Path) -> Result<Vec<(&'static Table, PathBuf)>> {
    std::fs::create_dir_all(out).map_err(io)?;
    let mut written = Vec::new();
    for t in TABLES {
        let s = t.source()?;
        let rows = read_reference(city, s)?;
        let path = out.join(t.file());
        let cols: Vec<&str> = t.columns.iter().map(|c| c.1).collect();
        let convert = |row: &BTreeMap<String, String>| -> Vec<String> {
            t.columns
                .iter()
                .map(|(from, _, _)| {
                    let v = row.get(*from).cloned().unwrap_or_default();
                    let coded = t
                        .codes
                        .iter()
                        .find(|(c, _)| c == from)
                        .and_then(|(_, tr)| tr.iter().find(|x| x.0 == v))
                        .map(|x| x.1.to_owned());
                    coded.unwrap_or_else(|| {
                        let is_date = s
                            .items
                            .iter()
                            .any(|i| i.1 == *from && i.2 == shuju_catalog::model::DataType::Date);
                        if is_date { other_date(&v) } else { v }
                    })
                })
                .collect()
        };
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).map_err(io)?);
        match t.format {
            "jsonl" => {
                for row in &rows {
                    let obj: serde_json::Map<String, serde_json::Value> = cols
                        .iter()
                        .zip(convert(row))
                        .map(|(c, v)| ((*c).to_owned(), serde_json::Value::String(v)))
                        .collect();
                    writeln!(f, "{}", serde_json::Value::Object(obj)).map_err(io)?;
                }
            }
            format => {
                let mut w = csv::Writer::from_writer(Vec::new());
                w.write_record(&cols).map_err(io)?;
                for row in &rows {
                    w.write_record(convert(row)).map_err(io)?;
                }
                let text = String::from_utf8(w.into_inner().map_err(io)?).map_err(io)?;
                if format == "gbk" {
                    f.write_all(&encoding_rs::GBK.encode(&text).0).map_err(io)?;
                } else {
                    f.write_all(text.as_bytes()).map_err(io)?;
                }
            }
        }
        f.flush().map_err(io)?;
        written.push((t, path));
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_renames_every_column_and_maps_to_standard_codes() {
        let national = shuju_catalog::elements::national().unwrap();
        for t in TABLES {
            let s = t.source().unwrap();
            assert_eq!(t.columns.len(), s.items.len(), "{}", t.table);
            for i in s.items {
                let col = t
                    .column(i.1)
                    .unwrap_or_else(|| panic!("{}.{}", t.table, i.1));
                assert_ne!(col, i.1, "{}: {col} keeps its name", t.table);
            }
            for (col, triples) in t.codes {
                let el = crate::sources::element_of(t.from, col).unwrap().0;
                let el = national.iter().find(|e| e.id == el).unwrap();
                for (_, _, std) in *triples {
                    assert!(el.has_code(std), "{}.{col}: {std}", t.table);
                }
            }
        }
    }

    #[test]
    fn the_other_city_is_written_from_the_reference_city() {
        let dir = tempfile::tempdir().unwrap();
        crate::city::generate(60, 3, &dir.path().join("a"), |_| {}).unwrap();
        let files = write(&dir.path().join("a"), &dir.path().join("b")).unwrap();
        assert_eq!(files.len(), TABLES.len());
        let hukou = std::fs::read(&files[0].1).unwrap();
        let text = encoding_rs::GBK.decode(&hukou).0;
        assert!(text.starts_with("id_number,full_name,gender"), "{text:.80}");
        assert!(text.contains(",M,") || text.contains(",F,"));
    }
}
