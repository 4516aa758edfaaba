//! Roles and the permission catalogue.

use super::{Done, PageParams, Paged};
use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json, Path, Query};
use axum::extract::State;
use serde::{Deserialize, Serialize};
use shuju_admin::roles::Role;
use shuju_admin::roles::{RoleInput, RoleView as DomainRole};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
        .routes(routes!(permissions))
}

#[derive(Serialize, ToSchema)]
pub struct RoleView {
    pub id: i64,
    pub role_key: String,
    pub name: String,
    /// all | custom | dept | dept_and_below | self
    pub data_scope: String,
    pub status: String,
    pub sort_order: i64,
    pub remark: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
    /// The chosen departments of a custom scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dept_ids: Option<Vec<i64>>,
}

impl From<Role> for RoleView {
    fn from(r: Role) -> Self {
        RoleView {
            id: r.id,
            role_key: r.role_key,
            name: r.name,
            data_scope: r.data_scope,
            status: r.status,
            sort_order: r.sort_order,
            remark: r.remark,
            created_at: r.created_at,
            updated_at: r.updated_at,
            permissions: None,
            dept_ids: None,
        }
    }
}

impl From<DomainRole> for RoleView {
    fn from(v: DomainRole) -> Self {
        let mut r: RoleView = v.role.into();
        r.permissions = Some(v.permissions);
        r.dept_ids = Some(v.dept_ids);
        r
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    /// Ignored on update.
    pub role_key: String,
    pub name: String,
    /// all | custom | dept | dept_and_below | self
    pub data_scope: String,
    #[serde(default)]
    pub dept_ids: Vec<i64>,
    /// Permission strings such as `system:user:list`; `*` matches any segment.
    #[serde(default)]
    pub permissions: Vec<String>,
    pub status: Option<String>,
    pub sort_order: Option<i64>,
    pub remark: Option<String>,
}

impl From<RoleRequest> for RoleInput {
    fn from(r: RoleRequest) -> Self {
        RoleInput {
            role_key: r.role_key,
            name: r.name,
            data_scope: r.data_scope,
            dept_ids: r.dept_ids,
            permissions: r.permissions,
            status: r.status,
            sort_order: r.sort_order,
            remark: r.remark,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RoleQuery {
    /// Part of the name or key.
    pub name: Option<String>,
    pub page: Option<u32>,
    pub size: Option<u32>,
}

/// Roles.
#[utoipa::path(get, path = "/api/v1/roles", tag = "roles", security(("bearer" = [])), params(RoleQuery),
    responses((status = 200, body = Paged<RoleView>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<RoleQuery>,
) -> ApiResult<Json<Paged<RoleView>>> {
    let page = PageParams {
        page: q.page,
        size: q.size,
    }
    .page();
    let p = s.admin.list_roles(&c, q.name.as_deref(), page).await?;
    Ok(Json(Paged::map(p, Into::into)))
}

/// Create a role. Nobody can grant a permission they do not hold.
#[utoipa::path(post, path = "/api/v1/roles", tag = "roles", security(("bearer" = [])), request_body = RoleRequest,
    responses((status = 200, body = RoleView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    Auth(c): Auth,
    Json(r): Json<RoleRequest>,
) -> ApiResult<Json<RoleView>> {
    Ok(Json(s.admin.create_role(&c, r.into()).await?.into()))
}

/// One role with its permissions.
#[utoipa::path(get, path = "/api/v1/roles/{id}", tag = "roles", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = RoleView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<RoleView>> {
    Ok(Json(s.admin.get_role(&c, id).await?.into()))
}

/// Update a role.
#[utoipa::path(put, path = "/api/v1/roles/{id}", tag = "roles", security(("bearer" = [])), params(("id" = i64, Path)), request_body = RoleRequest,
    responses((status = 200, body = RoleView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
    Json(r): Json<RoleRequest>,
) -> ApiResult<Json<RoleView>> {
    Ok(Json(s.admin.update_role(&c, id, r.into()).await?.into()))
}

/// Remove a role (soft delete); users lose it.
#[utoipa::path(delete, path = "/api/v1/roles/{id}", tag = "roles", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Done), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Done>> {
    s.admin.delete_role(&c, id).await?;
    Ok(Done::ok())
}

#[derive(Serialize, ToSchema)]
pub struct PermissionView {
    pub permission: String,
    pub label_zh: String,
    pub label_en: String,
}

/// Every permission the platform checks.
#[utoipa::path(get, path = "/api/v1/permissions", tag = "roles", security(("bearer" = [])),
    responses((status = 200, body = Vec<PermissionView>)))]
pub async fn permissions(
    State(s): State<AppState>,
    Auth(c): Auth,
) -> ApiResult<Json<Vec<PermissionView>>> {
    c.require(
        &s.store,
        shuju_admin::perm::ROLE_LIST,
        "permission.list",
        "role",
        None,
    )
    .await?;
    Ok(Json(
        shuju_admin::perm::CATALOGUE
            .iter()
            .map(|(p, zh, en)| PermissionView {
                permission: (*p).into(),
                label_zh: (*zh).into(),
                label_en: (*en).into(),
            })
            .collect(),
    ))
}
