//! Lake pages: every table with rows, rejects and quality; one table's lineage, quality per
//! column, quarantine and a delivery upload; the query page.

use super::{CheckedForm, Flash, PageCaller, back, base, csrf_refused, page, page_error, render};
use crate::AppState;
use crate::extract::{Path, Query};
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;
use shuju_admin::perm;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes(cfg: &crate::WebConfig) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(tables_page))
        .routes(routes!(table_page))
        .routes(routes!(sql_page, sql_run))
        .routes(routes!(mapping))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(deliver))
                .layer(DefaultBodyLimit::max(cfg.delivery_limit)),
        )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FlashQuery {
    flash: Option<String>,
}

fn pct(bp: i64) -> String {
    format!("{:.1}%", bp as f64 / 100.0)
}

/// Every lake table by library, with rows, rejects, quality and the latest job.
#[utoipa::path(get, path = "/lake", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn tables_page(
    State(s): State<AppState>,
    pc: PageCaller,
    Query(q): Query<FlashQuery>,
) -> Response {
    let c = &pc.caller;
    let r = async {
        let tables = s.lake.tables(c).await?;
        let jobs = s.lake.jobs(c, None).await?;
        let rows: Vec<_> = tables
            .iter()
            .map(|t| {
                context! {
                    name => t.spec.name,
                    title => t.spec.title,
                    library => t.spec.library.label_zh(),
                    resource_code => t.spec.resource_code,
                    version => t.version,
                    rows => t.rows,
                    rejected => t.rejected,
                    completeness => t.quality.as_ref().map(|q| pct(q.completeness_bp)),
                    validity => t.quality.as_ref().map(|q| pct(q.validity_bp)),
                    timely => t.timely,
                    last_status => t.last_job.as_ref().map(|j| j.status.clone()),
                }
            })
            .collect();
        Ok::<_, shuju_types::Error>(context! {
            tables => rows,
            jobs => jobs.into_iter().take(20).collect::<Vec<_>>(),
            ..base(&pc, "lake", &Flash::take(&pc, q.flash.as_deref()))
        })
    }
    .await;
    page("lake.html", r)
}

/// One table: columns and mapping, versions with what made them, quality per column, rejects.
#[utoipa::path(get, path = "/lake/tables/{name}", tag = "pages", params(("name" = String, Path)), responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn table_page(
    State(s): State<AppState>,
    pc: PageCaller,
    Path(name): Path<String>,
    Query(q): Query<FlashQuery>,
) -> Response {
    let c = &pc.caller;
    let r = async {
        let info = s.lake.table(c, &name).await?;
        let history = s.lake.history(c, &name).await?;
        let quality = s.lake.quality(c, &name).await?;
        let latest: Vec<_> = quality
            .iter()
            .filter(|q| Some(q.version) == info.version)
            .map(|q| {
                context! {
                    column => q.column_name,
                    completeness => pct(q.completeness_bp),
                    validity => pct(q.validity_bp),
                    uniqueness => pct(q.uniqueness_bp),
                }
            })
            .collect();
        let trend: Vec<_> = quality
            .iter()
            .filter(|q| q.column_name == "*")
            .map(|q| context! { version => q.version, at => q.measured_at, rows => q.row_count, completeness => pct(q.completeness_bp), validity => pct(q.validity_bp) })
            .collect();
        let rejects = if c.can(perm::LAKE_QUARANTINE) {
            s.lake.quarantine(c, &name, None, 50).await?
        } else {
            vec![]
        };
        let jobs = s.lake.jobs(c, Some(&name)).await?;
        Ok::<_, shuju_types::Error>(context! {
            tb => context! {
                name => info.spec.name,
                title => info.spec.title,
                library => info.spec.library.label_zh(),
                resource_code => info.spec.resource_code,
                version => info.version,
                rows => info.rows,
                rejected => info.rejected,
                timely => info.timely,
                key => info.spec.key,
                mapping => info.spec.mapping,
                columns => info.spec.columns.iter().map(|c| context! { name => c.name, title => c.title, kind => format!("{:?}", c.kind), check => c.check.as_ref().map(|k| format!("{k:?}")), sensitive => c.sensitive }).collect::<Vec<_>>(),
            },
            history => history.iter().map(|h| context! { version => h.version, at => h.timestamp.and_then(beijing), operation => h.operation, tags => h.shuju.to_string() }).collect::<Vec<_>>(),
            quality => latest,
            trend => trend,
            rejects => rejects.iter().map(|r| context! { job => r.job, file => r.file_name, row => r.row, column => r.column, reason => crate::i18n::text(pc.lang, &r.reason), raw => r.raw.to_string() }).collect::<Vec<_>>(),
            jobs => jobs,
            can_ingest => c.can(perm::LAKE_INGEST),
            can_edit => c.can(perm::LAKE_EDIT),
            can_quarantine => c.can(perm::LAKE_QUARANTINE),
            ..base(&pc, "lake", &Flash::take(&pc, q.flash.as_deref()))
        })
    }
    .await;
    page("lake_table.html", r)
}

/// Milliseconds since the epoch as Beijing time.
fn beijing(ms: i64) -> Option<String> {
    let t = chrono::DateTime::from_timestamp_millis(ms)?;
    let tz = chrono::FixedOffset::east_opt(8 * 3600)?;
    Some(t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string())
}

/// Save the table's key and header mapping (one `source header = column` per line).
#[utoipa::path(post, path = "/lake/tables/{name}/mapping", tag = "pages", params(("name" = String, Path)), responses((status = 303, description = "redirect")))]
pub async fn mapping(
    State(s): State<AppState>,
    Path(name): Path<String>,
    CheckedForm { pc, f }: CheckedForm,
) -> Response {
    let to = format!("/lake/tables/{name}");
    let spec = match s.lake.spec(&pc.caller, &name).await {
        Ok(v) => v,
        Err(e) => return page_error(e),
    };
    let key: Vec<String> = f
        .str("key")
        .split([',', '，', ' '])
        .filter(|k| !k.trim().is_empty())
        .map(|k| k.trim().to_owned())
        .collect();
    let mut map = std::collections::BTreeMap::new();
    for line in f.str("mapping").lines() {
        if let Some((h, c)) = line.split_once('=') {
            map.insert(h.trim().to_owned(), c.trim().to_owned());
        } else if !line.trim().is_empty() {
            return back(
                &pc,
                &to,
                None,
                Some(&format!("not `header = column`: {}", line.trim())),
            );
        }
    }
    let r = shuju_catalog::lake::set_up_table(
        &s.catalog,
        &s.lake,
        &pc.caller,
        &spec.resource_code,
        &name,
        &key,
        map,
    )
    .await;
    super::after(&pc, r, &to, "ok_saved", &to)
}

/// Deliver a file to this table from the browser.
#[utoipa::path(post, path = "/lake/tables/{name}/deliver", tag = "pages", params(("name" = String, Path)), responses((status = 303, description = "redirect")))]
pub async fn deliver(
    State(s): State<AppState>,
    pc: PageCaller,
    Path(name): Path<String>,
    m: Multipart,
) -> Response {
    let to = format!("/lake/tables/{name}");
    let mut up = match crate::api::departments::stage_upload(m).await {
        Ok(v) => v,
        Err(e) => return back(&pc, &to, None, Some(&e.0.message)),
    };
    if !up.csrf_ok(&pc.caller) {
        return csrf_refused();
    }
    let spec = match s.lake.spec(&pc.caller, &name).await {
        Ok(v) => v,
        Err(e) => return page_error(e),
    };
    up.fields.insert("resource_code".into(), spec.resource_code);
    match crate::api::lake::deliver(&s, &pc.caller, &up).await {
        Ok(r) => back(
            &pc,
            &to,
            Some(&crate::i18n::text(
                pc.lang,
                &format!(
                    "job {}: read {}, inserted {}, updated {}, rejected {}",
                    r.job_id, r.rows_read, r.inserted, r.updated, r.rejected
                ),
            )),
            None,
        ),
        Err(e) => back(&pc, &to, None, Some(&e.message)),
    }
}

/// The query page.
#[utoipa::path(get, path = "/lake/sql", tag = "pages", responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn sql_page(State(s): State<AppState>, pc: PageCaller) -> Response {
    let tables = match super::unless_denied(s.lake.tables(&pc.caller).await) {
        Ok(t) => t,
        Err(e) => return super::page_error(e),
    };
    // An example over a table the caller sees: counted by its division code, if it has one.
    let division = |t: &shuju_lake::TableInfo| {
        let c = t
            .spec
            .columns
            .iter()
            .find(|c| c.element.as_deref() == Some("division_code"))?;
        Some(format!(
            "SELECT \"{c}\", count(*) AS n FROM \"{t}\" GROUP BY \"{c}\" ORDER BY n DESC",
            c = c.name,
            t = t.spec.name
        ))
    };
    let example = tables
        .iter()
        .find_map(division)
        .or_else(|| {
            tables
                .first()
                .map(|t| format!("SELECT * FROM \"{}\" LIMIT 10", t.spec.name))
        })
        .unwrap_or_default();
    render(
        "lake_sql.html",
        context! {
            sql => example,
            tables => tables.iter().map(|t| context! { name => t.spec.name, title => t.spec.title, columns => t.spec.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>() }).collect::<Vec<_>>(),
            ..base(&pc, "lake_sql", &Flash::default())
        },
    )
}

/// Run a query from the page.
#[utoipa::path(post, path = "/lake/sql", tag = "pages", responses((status = 200, description = "HTML page with the result", content_type = "text/html")))]
pub async fn sql_run(State(s): State<AppState>, CheckedForm { pc, f }: CheckedForm) -> Response {
    let sql = f.str("sql");
    let mut as_of = std::collections::BTreeMap::new();
    if let (Some(t), Some(v)) = (f.get("as_of_table"), f.i64("as_of_version")) {
        as_of.insert(t, v);
    }
    let r = s.lake.sql(&pc.caller, &sql, &as_of, 500).await;
    let tables = match super::unless_denied(s.lake.tables(&pc.caller).await) {
        Ok(t) => t,
        Err(e) => return super::page_error(e),
    };
    let (result, err) = match r {
        Ok(r) => (
            Some(context! {
                columns => r.columns.clone(),
                rows => r.rows.iter().map(|row| r.columns.iter().map(|c| match row.get(c) { None | Some(serde_json::Value::Null) => "NULL".to_string(), Some(serde_json::Value::String(s)) => s.clone(), Some(v) => v.to_string() }).collect::<Vec<_>>()).collect::<Vec<_>>(),
                truncated => r.truncated,
                masked => r.masked,
            }),
            None,
        ),
        Err(e) => (None, Some(crate::i18n::say(pc.lang, &e))),
    };
    render(
        "lake_sql.html",
        context! {
            sql => sql,
            result => result,
            tables => tables.iter().map(|t| context! { name => t.spec.name, title => t.spec.title, columns => t.spec.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>() }).collect::<Vec<_>>(),
            ..base(&pc, "lake_sql", &Flash { ok: None, err })
        },
    )
}
