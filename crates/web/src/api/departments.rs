//! Departments and divisions.

use super::{Done, PageParams, Paged};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Auth, Json, Path, Query};
use crate::{AppState, WebConfig};
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shuju_admin::departments::Department;
use shuju_admin::departments::DepartmentInput;
use shuju_admin::divisions::Division;
use shuju_admin::excel::{ImportReport, RowError};
use shuju_types::Error;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes(cfg: &WebConfig) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
        .routes(routes!(tree))
        .routes(routes!(export))
        .routes(routes!(template))
        .routes(routes!(divisions))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(import))
                .layer(DefaultBodyLimit::max(cfg.upload_limit)),
        )
}

#[derive(Serialize, ToSchema)]
pub struct DepartmentView {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub short_code: Option<String>,
    pub division_code: String,
    /// Unified social credit code (GB 32100).
    pub uscc: Option<String>,
    pub leader: Option<String>,
    pub contact: Option<String>,
    /// active | disabled
    pub status: String,
    pub sort_order: i64,
    pub created_by: String,
    pub created_at: String,
    pub updated_by: String,
    pub updated_at: String,
}

impl From<Department> for DepartmentView {
    fn from(d: Department) -> Self {
        DepartmentView {
            id: d.id,
            parent_id: d.parent_id,
            name: d.name,
            short_code: d.short_code,
            division_code: d.division_code,
            uscc: d.uscc,
            leader: d.leader,
            contact: d.contact,
            status: d.status,
            sort_order: d.sort_order,
            created_by: d.created_by,
            created_at: d.created_at,
            updated_by: d.updated_by,
            updated_at: d.updated_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartmentRequest {
    pub parent_id: Option<i64>,
    pub name: String,
    pub short_code: Option<String>,
    /// A current GB/T 2260 code (or a functional zone's local code) from the divisions table.
    pub division_code: String,
    /// Unified social credit code; its check character is verified.
    pub uscc: Option<String>,
    pub leader: Option<String>,
    pub contact: Option<String>,
    /// active (default) | disabled
    pub status: Option<String>,
    pub sort_order: Option<i64>,
}

impl From<DepartmentRequest> for DepartmentInput {
    fn from(r: DepartmentRequest) -> Self {
        DepartmentInput {
            parent_id: r.parent_id,
            name: r.name,
            short_code: r.short_code,
            division_code: r.division_code,
            uscc: r.uscc,
            leader: r.leader,
            contact: r.contact,
            status: r.status,
            sort_order: r.sort_order,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DepartmentQuery {
    /// Part of the name.
    pub name: Option<String>,
    pub status: Option<String>,
    /// Only this department and those below it.
    pub under: Option<i64>,
    pub page: Option<u32>,
    pub size: Option<u32>,
}

/// Departments in the caller's data scope.
#[utoipa::path(get, path = "/api/v1/departments", tag = "departments", security(("bearer" = [])), params(DepartmentQuery),
    responses((status = 200, body = Paged<DepartmentView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<DepartmentQuery>,
) -> ApiResult<Json<Paged<DepartmentView>>> {
    let page = PageParams {
        page: q.page,
        size: q.size,
    }
    .page();
    let p = s
        .admin
        .list_departments(&c, q.name, q.status, q.under, page)
        .await?;
    Ok(Json(Paged::map(p, Into::into)))
}

/// Create a department.
#[utoipa::path(post, path = "/api/v1/departments", tag = "departments", security(("bearer" = [])), request_body = DepartmentRequest,
    responses((status = 200, body = DepartmentView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    Auth(c): Auth,
    Json(r): Json<DepartmentRequest>,
) -> ApiResult<Json<DepartmentView>> {
    Ok(Json(s.admin.create_department(&c, r.into()).await?.into()))
}

/// One department.
#[utoipa::path(get, path = "/api/v1/departments/{id}", tag = "departments", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = DepartmentView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<DepartmentView>> {
    Ok(Json(s.admin.get_department(&c, id).await?.into()))
}

/// Replace a department's fields.
#[utoipa::path(put, path = "/api/v1/departments/{id}", tag = "departments", security(("bearer" = [])), params(("id" = i64, Path)), request_body = DepartmentRequest,
    responses((status = 200, body = DepartmentView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
    Json(r): Json<DepartmentRequest>,
) -> ApiResult<Json<DepartmentView>> {
    Ok(Json(
        s.admin.update_department(&c, id, r.into()).await?.into(),
    ))
}

/// Remove a department (soft delete) that has no sub-departments and no users.
#[utoipa::path(delete, path = "/api/v1/departments/{id}", tag = "departments", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Done), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Done>> {
    s.admin.delete_department(&c, id).await?;
    Ok(Done::ok())
}

#[derive(Serialize, ToSchema)]
pub struct TreeNode {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub depth: usize,
}

/// The department tree in the caller's data scope, in display order.
#[utoipa::path(get, path = "/api/v1/departments/tree", tag = "departments", security(("bearer" = [])),
    responses((status = 200, body = Vec<TreeNode>), (status = 403, body = ErrorBody)))]
pub async fn tree(State(s): State<AppState>, Auth(c): Auth) -> ApiResult<Json<Vec<TreeNode>>> {
    let t = s.admin.department_tree(&c).await?;
    Ok(Json(
        t.into_iter()
            .map(|(depth, d)| TreeNode {
                id: d.id,
                parent_id: d.parent_id,
                name: d.name,
                depth,
            })
            .collect(),
    ))
}

pub(crate) fn xlsx(bytes: Vec<u8>, filename: &str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// Export the departments in the caller's data scope as Excel, in the template's layout.
#[utoipa::path(get, path = "/api/v1/departments/export", tag = "departments", security(("bearer" = [])),
    responses((status = 200, description = "an .xlsx workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 403, body = ErrorBody)))]
pub async fn export(State(s): State<AppState>, Auth(c): Auth) -> ApiResult<Response> {
    Ok(xlsx(
        s.admin.export_departments(&c).await?,
        "departments.xlsx",
    ))
}

/// The Excel template for importing departments.
#[utoipa::path(get, path = "/api/v1/departments/template", tag = "departments", security(("bearer" = [])),
    responses((status = 200, description = "an .xlsx workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
pub async fn template(State(s): State<AppState>, Auth(c): Auth) -> ApiResult<Response> {
    c.require(
        &s.store,
        shuju_admin::perm::DEPT_IMPORT,
        "department.template",
        "department",
        None,
    )
    .await?;
    Ok(xlsx(
        shuju_admin::excel::template()?,
        "departments-template.xlsx",
    ))
}

#[derive(Serialize, ToSchema)]
pub struct ImportView {
    pub rows: usize,
    pub imported: usize,
    /// True when nothing was imported because some rows are bad and `partial` was not set.
    pub rejected: bool,
    pub errors: Vec<RowErrorView>,
}

#[derive(Serialize, ToSchema)]
pub struct RowErrorView {
    pub row: usize,
    pub field: Option<String>,
    pub message: String,
}

impl From<ImportReport> for ImportView {
    fn from(r: ImportReport) -> Self {
        ImportView {
            rows: r.rows,
            imported: r.imported,
            rejected: r.rejected,
            errors: r
                .errors
                .into_iter()
                .map(
                    |RowError {
                         row,
                         field,
                         message,
                     }| RowErrorView {
                        row,
                        field,
                        message,
                    },
                )
                .collect(),
        }
    }
}

/// A multipart upload: the `file` part and the other (text) fields.
pub(crate) struct Upload {
    pub file: Vec<u8>,
    pub fields: std::collections::HashMap<String, String>,
}

impl Upload {
    /// A checkbox-like flag: true, 1, on, yes.
    pub fn flag(&self, name: &str) -> bool {
        self.fields
            .get(name)
            .is_some_and(|v| matches!(v.trim(), "true" | "1" | "on" | "yes"))
    }

    /// The form's CSRF token matches the session's (for uploads from pages).
    pub fn csrf_ok(&self, c: &shuju_admin::Caller) -> bool {
        c.csrf_token.is_some() && self.fields.get("_csrf") == c.csrf_token.as_ref()
    }
}

/// Read a multipart upload (a workbook: small enough to hold), through the one multipart reader.
pub(crate) async fn read_upload(m: Multipart) -> Result<Upload, ApiError> {
    let staged = stage_part(m, "is missing: send the workbook in a part named 'file'").await?;
    let file = std::fs::read(staged.file.path()).map_err(Error::internal)?;
    Ok(Upload {
        file,
        fields: staged.fields,
    })
}

/// A delivery uploaded: its file streamed to a temporary file as it arrives (never held in
/// memory), and the form's other fields.
pub(crate) struct StagedUpload {
    pub file: tempfile::NamedTempFile,
    pub fields: std::collections::HashMap<String, String>,
}

impl StagedUpload {
    /// The form's CSRF token matches the session's (for uploads from pages).
    pub fn csrf_ok(&self, c: &shuju_admin::Caller) -> bool {
        c.csrf_token.is_some() && self.fields.get("_csrf") == c.csrf_token.as_ref()
    }
}

/// Read a multipart upload, its `file` part streamed to a temporary file.
pub(crate) async fn stage_upload(m: Multipart) -> Result<StagedUpload, ApiError> {
    stage_part(m, "is missing: send the delivery in a part named 'file'").await
}

/// The one multipart reader: the `file` part streamed to a temporary file, the other parts as
/// text; `missing` is the message when no `file` part came.
async fn stage_part(mut m: Multipart, missing: &str) -> Result<StagedUpload, ApiError> {
    use std::io::Write;
    let mut file = None;
    let mut fields = std::collections::HashMap::new();
    while let Some(mut field) = m
        .next_field()
        .await
        .map_err(|e| ApiError(upload_error(e.status())))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let mut tmp = tempfile::NamedTempFile::new().map_err(Error::internal)?;
            while let Some(chunk) = field
                .chunk()
                .await
                .map_err(|e| ApiError(upload_error(e.status())))?
            {
                tmp.write_all(&chunk).map_err(Error::internal)?;
            }
            tmp.flush().map_err(Error::internal)?;
            file = Some(tmp);
        } else if !name.is_empty() {
            let v = field
                .text()
                .await
                .map_err(|e| ApiError(upload_error(e.status())))?;
            fields.insert(name, v);
        }
    }
    let file = file.ok_or_else(|| Error::invalid("file", missing))?;
    Ok(StagedUpload { file, fields })
}

fn upload_error(status: axum::http::StatusCode) -> Error {
    if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        Error::new(
            shuju_types::ErrorCode::PayloadTooLarge,
            "the file is larger than the upload limit",
        )
    } else {
        Error::bad_request("the upload is not a well-formed multipart/form-data body")
    }
}

/// Import departments from Excel (multipart: `file`, optional `partial=true` to import the good rows
/// of a file that has bad ones).
#[utoipa::path(post, path = "/api/v1/departments/import", tag = "departments", security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "file: the .xlsx workbook; partial: true to import the good rows"),
    responses((status = 200, body = ImportView), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn import(
    State(s): State<AppState>,
    Auth(c): Auth,
    m: Multipart,
) -> ApiResult<Json<ImportView>> {
    let up = read_upload(m).await?;
    Ok(Json(
        s.admin
            .import_departments(&c, &up.file, up.flag("partial"))
            .await?
            .into(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct DivisionView {
    pub code: String,
    pub name: String,
    /// province | prefecture | county | zone
    pub level: String,
    pub parent_code: Option<String>,
    /// gbt2260 | local (functional zones)
    pub kind: String,
    pub valid_from: String,
    pub valid_to: Option<String>,
}

impl From<Division> for DivisionView {
    fn from(d: Division) -> Self {
        DivisionView {
            code: d.code,
            name: d.name,
            level: d.level,
            parent_code: d.parent_code,
            kind: d.kind,
            valid_from: d.valid_from,
            valid_to: d.valid_to,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DivisionQuery {
    /// Include codes no longer valid.
    pub history: Option<bool>,
}

/// Administrative divisions (current, or with their history).
#[utoipa::path(get, path = "/api/v1/divisions", tag = "divisions", security(("bearer" = [])), params(DivisionQuery),
    responses((status = 200, body = Vec<DivisionView>), (status = 403, body = ErrorBody)))]
pub async fn divisions(
    State(s): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<DivisionQuery>,
) -> ApiResult<Json<Vec<DivisionView>>> {
    let d = s
        .admin
        .list_divisions(&c, q.history.unwrap_or(false))
        .await?;
    Ok(Json(d.into_iter().map(Into::into).collect()))
}
