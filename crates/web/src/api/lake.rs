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

// ----- the answers' shapes (views of the lake's types) -----

/// A column of a lake table.
#[derive(Serialize, ToSchema)]
pub struct ColumnView {
    pub name: String,
    /// The information item's name.
    pub title: String,
    /// text | integer | decimal | date | timestamp | boolean
    pub kind: String,
    /// The domain check beyond the type, if any.
    pub check: Option<CheckView>,
    pub sensitive: bool,
    pub required: bool,
    /// The longest value, in characters.
    pub max_len: Option<u32>,
    /// What a value failing its check does: flag | reject | raw.
    pub on_invalid: String,
    /// The data element the column holds, and the party it is about.
    pub element: Option<String>,
    pub role: Option<String>,
    /// The department's own codes → the element's codes.
    pub codes: BTreeMap<String, String>,
}

/// A column's check: `citizen_id`, `credit_code`, `division_code`, or `codes` with its values.
#[derive(Serialize, ToSchema)]
pub struct CheckView {
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

/// What a lake table holds and how deliveries map to it.
#[derive(Serialize, ToSchema)]
pub struct TableSpecView {
    pub name: String,
    /// The library: base_population | base_legal_entity | … | business
    pub library: String,
    pub title: String,
    pub resource_code: String,
    pub columns: Vec<ColumnView>,
    pub key: Vec<String>,
    /// Source header → column.
    pub mapping: BTreeMap<String, String>,
    pub cycle_days: Option<u32>,
    /// The providing department.
    pub provider: Option<i64>,
}

fn key_of<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl From<shuju_lake::TableSpec> for TableSpecView {
    fn from(s: shuju_lake::TableSpec) -> Self {
        use shuju_lake::Check;
        TableSpecView {
            library: s.library.key().to_owned(),
            columns: s
                .columns
                .into_iter()
                .map(|c| ColumnView {
                    kind: key_of(&c.kind),
                    on_invalid: key_of(&c.on_invalid),
                    check: c.check.map(|k| match k {
                        Check::CitizenId => CheckView {
                            kind: "citizen_id".into(),
                            values: None,
                        },
                        Check::CreditCode => CheckView {
                            kind: "credit_code".into(),
                            values: None,
                        },
                        Check::DivisionCode => CheckView {
                            kind: "division_code".into(),
                            values: None,
                        },
                        Check::Codes(v) => CheckView {
                            kind: "codes".into(),
                            values: Some(v),
                        },
                    }),
                    name: c.name,
                    title: c.title,
                    sensitive: c.sensitive,
                    required: c.required,
                    max_len: c.max_len,
                    element: c.element,
                    role: c.role,
                    codes: c.codes,
                })
                .collect(),
            name: s.name,
            title: s.title,
            resource_code: s.resource_code,
            key: s.key,
            mapping: s.mapping,
            cycle_days: s.cycle_days,
            provider: s.provider,
        }
    }
}

/// A delivery's job: its file, status and counts.
#[derive(Serialize, ToSchema)]
pub struct JobView {
    pub id: i64,
    pub table_name: String,
    pub resource_code: String,
    pub file_name: String,
    pub file_sha256: String,
    /// running | done | failed | interrupted
    pub status: String,
    pub rows_read: i64,
    pub inserted: i64,
    pub updated: i64,
    pub rejected: i64,
    pub duplicates: i64,
    /// Rows kept with a value flagged.
    pub flagged: i64,
    pub version: Option<i64>,
    pub error: Option<String>,
    pub actor: String,
    pub started_at: String,
    pub finished_at: Option<String>,
}

impl From<shuju_lake::JobRow> for JobView {
    fn from(j: shuju_lake::JobRow) -> Self {
        JobView {
            id: j.id,
            table_name: j.table_name,
            resource_code: j.resource_code,
            file_name: j.file_name,
            file_sha256: j.file_sha256,
            status: j.status,
            rows_read: j.rows_read,
            inserted: j.inserted,
            updated: j.updated,
            rejected: j.rejected,
            duplicates: j.duplicates,
            flagged: j.flagged,
            version: j.version,
            error: j.error,
            actor: j.actor,
            started_at: j.started_at,
            finished_at: j.finished_at,
        }
    }
}

/// Quality of a column (`*`: the table) at a table version; rates in basis points.
#[derive(Serialize, ToSchema)]
pub struct QualityView {
    pub table_name: String,
    pub version: i64,
    pub job_id: Option<i64>,
    pub measured_at: String,
    pub column_name: String,
    pub row_count: i64,
    pub completeness_bp: i64,
    pub validity_bp: i64,
    pub uniqueness_bp: i64,
    /// Values kept though they failed the column's check.
    pub flagged: i64,
}

impl From<shuju_lake::QualityRow> for QualityView {
    fn from(q: shuju_lake::QualityRow) -> Self {
        QualityView {
            table_name: q.table_name,
            version: q.version,
            job_id: q.job_id,
            measured_at: q.measured_at,
            column_name: q.column_name,
            row_count: q.row_count,
            completeness_bp: q.completeness_bp,
            validity_bp: q.validity_bp,
            uniqueness_bp: q.uniqueness_bp,
            flagged: q.flagged,
        }
    }
}

/// A table as listed: what it holds, how big, how good.
#[derive(Serialize, ToSchema)]
pub struct TableView {
    pub spec: TableSpecView,
    pub version: Option<i64>,
    pub rows: u64,
    pub rejected: u64,
    pub last_job: Option<JobView>,
    pub quality: Option<QualityView>,
    /// Whether the newest delivery is within the entry's update cycle.
    pub timely: Option<bool>,
}

impl From<shuju_lake::TableInfo> for TableView {
    fn from(t: shuju_lake::TableInfo) -> Self {
        TableView {
            spec: t.spec.into(),
            version: t.version,
            rows: t.rows,
            rejected: t.rejected,
            last_job: t.last_job.map(Into::into),
            quality: t.quality.map(Into::into),
            timely: t.timely,
        }
    }
}

/// One version of a table and what made it.
#[derive(Serialize, ToSchema)]
pub struct VersionView {
    pub version: i64,
    /// Milliseconds since the epoch.
    pub timestamp: Option<i64>,
    pub operation: Option<String>,
    /// The platform's tags: job, file, hash, counts — or the sources of a build.
    #[schema(value_type = Object)]
    pub shuju: serde_json::Value,
    /// The commit's operation metrics (inserted, updated, files scanned and skipped …).
    #[schema(value_type = Object)]
    pub metrics: serde_json::Value,
}

/// A table with its lineage, quality history and recent jobs.
#[derive(Serialize, ToSchema)]
pub struct TableDetailView {
    pub table: TableView,
    pub history: Vec<VersionView>,
    pub quality: Vec<QualityView>,
    pub jobs: Vec<JobView>,
}

/// A row set aside: where, why, and what was sent.
#[derive(Serialize, ToSchema)]
pub struct QuarantinedView {
    pub job: i64,
    pub file_name: String,
    pub row: i64,
    pub column: Option<String>,
    pub reason: String,
    /// The row as sent, `{header: value}` (sensitive values masked unless the caller may see
    /// them), or `{"_raw": …}` for a row that could not be split into fields.
    #[schema(value_type = Object)]
    pub raw: serde_json::Value,
}

/// A query's answer.
#[derive(Serialize, ToSchema)]
pub struct QueryView {
    pub columns: Vec<String>,
    /// One object per row, by column.
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<serde_json::Map<String, serde_json::Value>>,
    /// More rows than were returned.
    pub truncated: bool,
    /// Sensitive columns came masked.
    pub masked: bool,
    pub tables: Vec<String>,
}

/// What a delivery did.
#[derive(Serialize, ToSchema)]
pub struct LoadView {
    pub job_id: i64,
    pub table: String,
    pub file_name: String,
    pub file_sha256: String,
    /// csv | json_lines | excel
    pub format: Option<String>,
    /// utf8 | utf8_bom | gb18030
    pub encoding: Option<String>,
    pub rows_read: u64,
    pub inserted: u64,
    pub updated: u64,
    pub rejected: u64,
    pub duplicates: u64,
    /// Rows kept with a value that failed its check, and how many per column.
    pub flagged: u64,
    pub flagged_columns: BTreeMap<String, u64>,
    /// The version committed; null when nothing changed.
    pub version: Option<i64>,
    pub unmapped_headers: Vec<String>,
    /// Milliseconds per phase.
    pub phases_ms: BTreeMap<String, u64>,
}

impl From<shuju_lake::LoadReport> for LoadView {
    fn from(r: shuju_lake::LoadReport) -> Self {
        LoadView {
            format: r.format.map(|f| key_of(&f)),
            encoding: r.encoding.map(|e| key_of(&e)),
            job_id: r.job_id,
            table: r.table,
            file_name: r.file_name,
            file_sha256: r.file_sha256,
            rows_read: r.rows_read,
            inserted: r.inserted,
            updated: r.updated,
            rejected: r.rejected,
            duplicates: r.duplicates,
            flagged: r.flagged,
            flagged_columns: r.flagged_columns,
            version: r.version,
            unmapped_headers: r.unmapped_headers,
            phases_ms: r.phases_ms,
        }
    }
}

/// Every lake table.
#[utoipa::path(get, path = "/api/v1/lake/tables", tag = "lake", security(("bearer" = [])),
    responses((status = 200, body = Vec<TableView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn tables(State(s): State<AppState>, Auth(c): Auth) -> ApiResult<Json<Vec<TableView>>> {
    Ok(Json(
        s.lake
            .tables(&c)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
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
    /// Per column, the department's own codes → the data element's codes (or labels), e.g.
    /// `{"xb": {"M": "1", "F": "2"}}`. Deliveries are standardised through them; a value in
    /// neither is flagged (or rejected, per `on_invalid`).
    #[serde(default)]
    pub codes: BTreeMap<String, BTreeMap<String, String>>,
}

/// Set up (or change) the table of a published catalog entry, with its key and mapping.
#[utoipa::path(post, path = "/api/v1/lake/tables", tag = "lake", security(("bearer" = [])), request_body = SetUpBody,
    responses((status = 200, body = TableSpecView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn set_up(
    State(s): State<AppState>,
    Auth(c): Auth,
    Json(b): Json<SetUpBody>,
) -> ApiResult<Json<TableSpecView>> {
    let setup = shuju_catalog::lake::Setup {
        key: b.key,
        mapping: b.mapping,
        on_invalid: b.on_invalid,
        codes: b.codes,
    };
    let spec =
        shuju_catalog::lake::set_up(&s.catalog, &s.lake, &c, &b.resource_code, &b.table, setup)
            .await?;
    Ok(Json(spec.into()))
}

/// One table with its versions (what made each), quality history and recent jobs.
#[utoipa::path(get, path = "/api/v1/lake/tables/{name}", tag = "lake", security(("bearer" = [])),
    params(("name" = String, Path)),
    responses((status = 200, body = TableDetailView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn table(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(name): Path<String>,
) -> ApiResult<Json<TableDetailView>> {
    let table = s.lake.table(&c, &name).await?.into();
    let history = s.lake.history(&c, &name).await?;
    let quality = s.lake.quality(&c, &name).await?;
    let jobs = s.lake.jobs(&c, Some(&name)).await?;
    Ok(Json(TableDetailView {
        table,
        history: history
            .into_iter()
            .map(|v| VersionView {
                version: v.version,
                timestamp: v.timestamp,
                operation: v.operation,
                shuju: v.shuju,
                metrics: v.metrics,
            })
            .collect(),
        quality: quality.into_iter().map(Into::into).collect(),
        jobs: jobs.into_iter().map(Into::into).collect(),
    }))
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
    responses((status = 200, body = Vec<QuarantinedView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn quarantine(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(name): Path<String>,
    Query(q): Query<QuarantineQuery>,
) -> ApiResult<Json<Vec<QuarantinedView>>> {
    let rows = s
        .lake
        .quarantine(&c, &name, q.job, q.limit.unwrap_or(1000).min(100_000))
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| QuarantinedView {
                job: r.job,
                file_name: r.file_name,
                row: r.row,
                column: r.column,
                reason: r.reason,
                raw: r.raw,
            })
            .collect(),
    ))
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
    responses((status = 200, body = Vec<JobView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn jobs(
    State(s): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<JobsQuery>,
) -> ApiResult<Json<Vec<JobView>>> {
    Ok(Json(
        s.lake
            .jobs(&c, q.table.as_deref())
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// One job.
#[utoipa::path(get, path = "/api/v1/lake/jobs/{id}", tag = "lake", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = JobView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn job(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<JobView>> {
    Ok(Json(s.lake.job(&c, id).await?.into()))
}

/// Deliver a file (multipart: `file`, `resource_code`, optional `file_name`): detected, mapped,
/// validated, rejected rows quarantined, the rest upserted in one commit.
#[utoipa::path(post, path = "/api/v1/lake/ingest", tag = "lake", security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "file: CSV (UTF-8 or GBK), JSON lines or Excel; resource_code; file_name"),
    responses((status = 200, body = LoadView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn ingest(
    State(s): State<AppState>,
    Auth(c): Auth,
    m: Multipart,
) -> ApiResult<Json<LoadView>> {
    let up = super::departments::stage_upload(m).await?;
    Ok(Json(deliver(&s, &c, &up).await?.into()))
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
    /// One SELECT query; tables are named as in the lake (`GET /api/v1/lake/tables`).
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
    responses((status = 200, body = QueryView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn sql(
    State(s): State<AppState>,
    Auth(c): Auth,
    Json(b): Json<SqlBody>,
) -> ApiResult<Json<QueryView>> {
    let max = b.max_rows.unwrap_or(1000).clamp(1, 10_000);
    let r = s.lake.sql(&c, &b.sql, &b.as_of, max).await?;
    Ok(Json(QueryView {
        columns: r.columns,
        rows: r.rows,
        truncated: r.truncated,
        masked: r.masked,
        tables: r.tables,
    }))
}
