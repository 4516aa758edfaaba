//! The lake: tables with their size, rejects and quality; lineage; quarantine; deliveries by
//! upload; SQL with masking.

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json, Path, Query};
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shuju_types::Error;
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes(cfg: &crate::WebConfig) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(tables, set_up))
        .routes(routes!(table))
        .routes(routes!(quarantine))
        .routes(routes!(quarantine_csv))
        .routes(routes!(jobs))
        .routes(routes!(job))
        .routes(routes!(sql))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(ingest))
                .layer(DefaultBodyLimit::max(cfg.delivery_limit)),
        )
}

fn value<T: Serialize>(v: T) -> ApiResult<serde_json::Value> {
    Ok(serde_json::to_value(v).map_err(Error::internal)?)
}

/// A lake table: its spec (columns, key, mapping), version, rows, rejects, last job, quality.
#[derive(Serialize, ToSchema)]
pub struct TableDto {
    #[schema(value_type = Object)]
    pub table: serde_json::Value,
}

/// Every lake table.
#[utoipa::path(get, path = "/api/v1/lake/tables", tag = "lake", security(("bearer" = [])),
    responses((status = 200, body = Vec<Object>), (status = 403, body = ErrorBody)))]
pub async fn tables(
    State(s): State<AppState>,
    Auth(c): Auth,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(value(s.lake.tables(&c).await?)?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetUpBody {
    /// The published catalog entry whose data the table holds.
    pub resource_code: String,
    /// Table name in SQL (lowercase ASCII).
    pub table: String,
    /// Item columns a delivery is upserted by.
    pub key: Vec<String>,
    /// Source header → item column, for headers that match no item name or column.
    #[serde(default)]
    pub mapping: BTreeMap<String, String>,
    /// Per column, what a value failing its check does: `flag` (the default: the row is kept,
    /// the value set aside as written and flagged with the reason), `reject` (the row goes to
    /// the quarantine) or `raw` (kept as written, unchecked).
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, String>)]
    pub on_invalid: BTreeMap<String, shuju_lake::spec::OnInvalid>,
}

/// Set up (or change) the table of a published catalog entry, with its key and mapping.
#[utoipa::path(post, path = "/api/v1/lake/tables", tag = "lake", security(("bearer" = [])), request_body = SetUpBody,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn set_up(
    State(s): State<AppState>,
    Auth(c): Auth,
    Json(b): Json<SetUpBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let spec = shuju_catalog::lake::set_up_table_with(
        &s.catalog,
        &s.lake,
        &c,
        &b.resource_code,
        &b.table,
        &b.key,
        b.mapping,
        &b.on_invalid,
    )
    .await?;
    Ok(Json(value(spec)?))
}

/// One table with its versions (what made each), quality history and recent jobs.
#[utoipa::path(get, path = "/api/v1/lake/tables/{name}", tag = "lake", security(("bearer" = [])),
    params(("name" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn table(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(name): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let info = s.lake.table(&c, &name).await?;
    let history = s.lake.history(&c, &name).await?;
    let quality = s.lake.quality(&c, &name).await?;
    let jobs = s.lake.jobs(&c, Some(&name)).await?;
    Ok(Json(serde_json::json!({
        "table": value(info)?,
        "history": value(history)?,
        "quality": value(quality)?,
        "jobs": value(jobs)?,
    })))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QuarantineQuery {
    /// Only the rows of this job.
    pub job: Option<i64>,
    /// At most this many rows (default 1000).
    pub limit: Option<usize>,
}

/// Rejected rows of a table with the reason and the source row (personal data masked unless
/// the caller may see it).
#[utoipa::path(get, path = "/api/v1/lake/tables/{name}/quarantine", tag = "lake", security(("bearer" = [])),
    params(("name" = String, Path), QuarantineQuery),
    responses((status = 200, body = Vec<Object>), (status = 403, body = ErrorBody)))]
pub async fn quarantine(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(name): Path<String>,
    Query(q): Query<QuarantineQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let rows = s
        .lake
        .quarantine(&c, &name, q.job, q.limit.unwrap_or(1000).min(100_000))
        .await?;
    Ok(Json(value(rows)?))
}

/// The quarantine as CSV (UTF-8 with a BOM, for Excel), to fix and deliver again.
#[utoipa::path(get, path = "/api/v1/lake/tables/{name}/quarantine.csv", tag = "lake", security(("bearer" = [])),
    params(("name" = String, Path), QuarantineQuery),
    responses((status = 200, description = "CSV", content_type = "text/csv"), (status = 403, body = ErrorBody)))]
pub async fn quarantine_csv(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(name): Path<String>,
    Query(q): Query<QuarantineQuery>,
) -> ApiResult<Response> {
    let rows = s
        .lake
        .quarantine(&c, &name, q.job, q.limit.unwrap_or(100_000).min(1_000_000))
        .await?;
    let mut out = String::from("\u{feff}job,file,row,column,reason,raw\n");
    let esc = |v: &str| format!("\"{}\"", v.replace('"', "\"\""));
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{}\n",
            r.job,
            esc(&r.file_name),
            r.row,
            esc(r.column.as_deref().unwrap_or("")),
            esc(&r.reason),
            esc(&r.raw.to_string())
        ));
    }
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}-quarantine.csv\""),
            ),
        ],
        out,
    )
        .into_response())
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JobsQuery {
    pub table: Option<String>,
}

/// Ingestion jobs, newest first, with their status and counts.
#[utoipa::path(get, path = "/api/v1/lake/jobs", tag = "lake", security(("bearer" = [])), params(JobsQuery),
    responses((status = 200, body = Vec<Object>), (status = 403, body = ErrorBody)))]
pub async fn jobs(
    State(s): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<JobsQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(value(s.lake.jobs(&c, q.table.as_deref()).await?)?))
}

/// One job.
#[utoipa::path(get, path = "/api/v1/lake/jobs/{id}", tag = "lake", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn job(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(value(s.lake.job(&c, id).await?)?))
}

/// Deliver a file (multipart: `file`, `resource_code`, optional `file_name`): detected, mapped,
/// validated, rejected rows quarantined, the rest upserted in one commit.
#[utoipa::path(post, path = "/api/v1/lake/ingest", tag = "lake", security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "file: CSV (UTF-8 or GBK), JSON lines or Excel; resource_code; file_name"),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn ingest(
    State(s): State<AppState>,
    Auth(c): Auth,
    m: Multipart,
) -> ApiResult<Json<serde_json::Value>> {
    let up = super::departments::stage_upload(m).await?;
    Ok(Json(value(deliver(&s, &c, &up).await?)?))
}

/// Load a staged upload (one call into the platform, which also acts on what landed).
pub(crate) async fn deliver(
    s: &AppState,
    c: &shuju_admin::Caller,
    up: &super::departments::StagedUpload,
) -> shuju_types::Result<shuju_lake::LoadReport> {
    let code = up
        .fields
        .get("resource_code")
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::invalid("resource_code", "is required"))?;
    let name = up
        .fields
        .get("file_name")
        .cloned()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "upload".into());
    s.platform.deliver(c, &code, up.file.path(), &name).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SqlBody {
    /// One SELECT query; tables are named as in the lake (e.g. `gongan_hukou`).
    pub sql: String,
    /// Read tables at past versions: `{"table": version}`.
    #[serde(default)]
    pub as_of: BTreeMap<String, i64>,
    /// At most this many rows (default 1000, at most 10000).
    pub max_rows: Option<usize>,
}

/// Run a read-only query. Sensitive columns come masked unless the caller holds
/// `lake:data:unmasked`; every query is audited.
#[utoipa::path(post, path = "/api/v1/lake/sql", tag = "lake", security(("bearer" = [])), request_body = SqlBody,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn sql(
    State(s): State<AppState>,
    Auth(c): Auth,
    Json(b): Json<SqlBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let max = b.max_rows.unwrap_or(1000).clamp(1, 10_000);
    Ok(Json(value(s.lake.sql(&c, &b.sql, &b.as_of, max).await?)?))
}
