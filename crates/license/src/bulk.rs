//! Issuing in bulk from the lake: the licences departments already hold — business licences in
//! the market registry, vehicle registrations, real-estate titles, marriage and divorce
//! registrations, disability certificates — become e-licenses, each signed like one issued from
//! an approval. A source says how a table's rows become a type's claims (new sources are
//! configuration). The department that provides the table is the issuer. Each license remembers
//! the record it came from, so issuing again adds only what is new; a row that fails the type's
//! checks (a holder ID with a wrong check digit, a missing name) is reported with its reason and
//! issues nothing.

use crate::registry::{IssueInput, Licenses};
use serde::Serialize;
use shuju_admin::Caller;
use shuju_lake::Lake;
use shuju_store::license as store;
use shuju_types::{Error, Result};

/// How a lake table's rows become licenses of a type. Every value is an SQL expression over the
/// table's columns.
#[derive(Clone, Copy, Debug)]
pub struct Source {
    pub type_key: &'static str,
    pub table: &'static str,
    /// The record's key, unique in the table for this type.
    pub key: &'static str,
    pub holder_id: &'static str,
    pub holder_name: &'static str,
    /// Claim → expression (`''` where the source does not hold the claim).
    pub claims: &'static [(&'static str, &'static str)],
    /// Which rows: an SQL condition.
    pub filter: &'static str,
}

/// The synthetic city's departmental tables, as the reference city's departments hold them.
pub const SOURCES: &[Source] = &[
    Source {
        type_key: "business_licence",
        table: "scjg_entities",
        key: "tyshxydm",
        holder_id: "tyshxydm",
        holder_name: "ztmc",
        claims: &[
            ("name", "ztmc"),
            ("uscc", "tyshxydm"),
            ("legal_representative", "fddbr"),
            ("registered_capital", "CAST(zczb AS VARCHAR) || '万元'"),
            ("established", "clrq"),
            ("address", "zs"),
            ("scope", "''"),
        ],
        filter: "djzt = '存续'",
    },
    Source {
        type_key: "vehicle_licence",
        table: "gongan_vehicles",
        key: "clsbdh",
        holder_id: "sfzmhm",
        holder_name: "syr",
        claims: &[
            ("plate", "hphm"),
            ("owner", "syr"),
            ("vehicle_type", "cllx"),
            ("vin", "clsbdh"),
            ("registered", "ccdjrq"),
        ],
        filter: "sfzmhm IS NOT NULL AND hphm IS NOT NULL",
    },
    Source {
        type_key: "real_estate_certificate",
        table: "zrzy_budongchan",
        key: "bdcdyh",
        holder_id: "zjhm",
        holder_name: "qlr",
        claims: &[
            ("owner", "qlr"),
            ("citizen_id", "zjhm"),
            ("unit_no", "bdcdyh"),
            ("location", "zl"),
            ("area", "CAST(mj AS VARCHAR)"),
            ("use", "''"),
        ],
        filter: "zjhm IS NOT NULL",
    },
    Source {
        type_key: "marriage_certificate",
        table: "mzj_marriages",
        key: "djbh || '#男方'",
        holder_id: "nfsfzh",
        holder_name: "nfxm",
        claims: &[
            ("name", "nfxm"),
            ("citizen_id", "nfsfzh"),
            ("spouse", "vfxm"),
            ("spouse_id", "vfsfzh"),
            ("registered", "djrq"),
        ],
        filter: "djlx = '结婚'",
    },
    Source {
        type_key: "marriage_certificate",
        table: "mzj_marriages",
        key: "djbh || '#女方'",
        holder_id: "vfsfzh",
        holder_name: "vfxm",
        claims: &[
            ("name", "vfxm"),
            ("citizen_id", "vfsfzh"),
            ("spouse", "nfxm"),
            ("spouse_id", "nfsfzh"),
            ("registered", "djrq"),
        ],
        filter: "djlx = '结婚'",
    },
    Source {
        type_key: "divorce_certificate",
        table: "mzj_marriages",
        key: "djbh || '#男方'",
        holder_id: "nfsfzh",
        holder_name: "nfxm",
        claims: &[
            ("name", "nfxm"),
            ("citizen_id", "nfsfzh"),
            ("former_spouse", "vfxm"),
            ("registered", "djrq"),
        ],
        filter: "djlx = '离婚'",
    },
    Source {
        type_key: "divorce_certificate",
        table: "mzj_marriages",
        key: "djbh || '#女方'",
        holder_id: "vfsfzh",
        holder_name: "vfxm",
        claims: &[
            ("name", "vfxm"),
            ("citizen_id", "vfsfzh"),
            ("former_spouse", "nfxm"),
            ("registered", "djrq"),
        ],
        filter: "djlx = '离婚'",
    },
    Source {
        type_key: "disability_certificate",
        table: "mzj_disability",
        key: "cjrzh",
        holder_id: "sfzh",
        holder_name: "xm",
        claims: &[
            ("name", "xm"),
            ("citizen_id", "sfzh"),
            ("category", "cjlb"),
            ("grade", "cjdj"),
            ("address", "''"),
        ],
        filter: "sfzh IS NOT NULL",
    },
];

/// What one bulk issue did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BulkReport {
    pub type_key: String,
    pub tables: Vec<String>,
    /// Rows read from the sources.
    pub read: u64,
    pub issued: u64,
    /// Rows a license was issued from before.
    pub already: u64,
    /// Rows that issued nothing: the record's key and why (never the holder's data).
    pub rejected: Vec<(String, String)>,
}

impl Licenses {
    /// Issue licenses of a type from every lake table that is a source of it (at most `limit`
    /// new ones, if given). Needs the issuing permission and the lake's query and unmasked
    /// permissions; each license is audited as issued, and the whole run once.
    pub async fn issue_bulk(
        &self,
        c: &Caller,
        lake: &Lake,
        type_key: &str,
        limit: Option<u64>,
    ) -> Result<BulkReport> {
        let sources: Vec<&Source> = SOURCES.iter().filter(|s| s.type_key == type_key).collect();
        if sources.is_empty() {
            return Err(Error::invalid(
                "type_key",
                format!("no lake table is a source of {type_key}"),
            ));
        }
        let mut report = BulkReport {
            type_key: type_key.to_owned(),
            ..Default::default()
        };
        for s in sources {
            if limit.is_some_and(|l| report.issued >= l) {
                break;
            }
            let spec = lake.spec(c, s.table).await?;
            let entry = shuju_catalog::entry_by_code(&self.store, &spec.resource_code)
                .await?
                .ok_or_else(|| Error::not_found(format!("the catalog entry of {}", s.table)))?;
            if !report.tables.iter().any(|t| t == s.table) {
                report.tables.push(s.table.to_owned());
            }
            let done = store::source_keys(&self.store, s.table).await?;
            let exprs: Vec<String> = [s.key, s.holder_id, s.holder_name]
                .into_iter()
                .chain(s.claims.iter().map(|(_, e)| *e))
                .enumerate()
                .map(|(i, e)| format!("CAST({e} AS VARCHAR) AS c{i}"))
                .collect();
            let sql = format!(
                "SELECT {} FROM {} WHERE {} ORDER BY 1",
                exprs.join(", "),
                s.table,
                s.filter
            );
            let mut rows: Vec<Vec<Option<String>>> = Vec::new();
            lake.scan(c, &format!("issuing {type_key} e-licenses"), &sql, |r| {
                rows.push(r.iter().map(|v| v.map(str::to_owned)).collect());
            })
            .await?;
            for r in rows {
                report.read += 1;
                let Some(key) = r[0].clone() else { continue };
                if done.contains(&key) {
                    report.already += 1;
                    continue;
                }
                if limit.is_some_and(|l| report.issued >= l) {
                    break;
                }
                let text = |i: usize| r[i].clone().unwrap_or_default();
                let input = IssueInput {
                    holder_jwk: None,
                    type_key: type_key.to_owned(),
                    holder_id: text(1),
                    holder_name: text(2),
                    claims: s
                        .claims
                        .iter()
                        .enumerate()
                        .map(|(i, (claim, _))| ((*claim).to_owned(), text(3 + i).into()))
                        .collect(),
                    valid_from: None,
                    valid_until: None,
                };
                let source = format!("{}:{key}", s.table);
                match self
                    .issue_from(c, input, None, Some((&source, entry.provider_dept_id)))
                    .await
                {
                    Ok(_) => report.issued += 1,
                    Err(e) if e.code == shuju_types::ErrorCode::InvalidArgument => {
                        report.rejected.push((
                            key,
                            format!("{}: {}", e.field.unwrap_or_default(), e.message),
                        ))
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        let _ = shuju_store::audit::record(
            &self.store,
            &c.entry(
                "license.issue_bulk",
                "license_type",
                Some(type_key.to_owned()),
                shuju_store::audit::Outcome::Ok,
                Some(format!(
                    "from {}: read {}, issued {}, already {}, rejected {}",
                    report.tables.join(","),
                    report.read,
                    report.issued,
                    report.already,
                    report.rejected.len()
                )),
            ),
        )
        .await;
        Ok(report)
    }
}
