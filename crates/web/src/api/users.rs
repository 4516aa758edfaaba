//! Accounts.

use super::{Done, Paged};
use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json, Path, Query};
use axum::extract::State;
use serde::{Deserialize, Serialize};
use shuju_admin::users::UserInput;
use shuju_admin::users::{User, UserFilter};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
        .routes(routes!(reset_password))
}

#[derive(Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub dept_id: i64,
    /// Masked in lists (`138****5678`); in full when one user is read (an audited read).
    pub phone: Option<String>,
    pub email: Option<String>,
    pub status: String,
    pub must_change_password: bool,
    pub locked_until: Option<String>,
    pub password_changed_at: String,
    pub created_by: String,
    pub created_at: String,
    pub updated_by: String,
    pub updated_at: String,
    /// Present when one user is read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_ids: Option<Vec<i64>>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        UserView {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            dept_id: u.dept_id,
            phone: u.phone,
            email: u.email,
            status: u.status,
            must_change_password: u.must_change_password != 0,
            locked_until: u.locked_until,
            password_changed_at: u.password_changed_at,
            created_by: u.created_by,
            created_at: u.created_at,
            updated_by: u.updated_by,
            updated_at: u.updated_at,
            role_ids: None,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub status: Option<String>,
    /// Only users of this department and those below it.
    pub dept_id: Option<i64>,
    pub page: Option<u32>,
    pub size: Option<u32>,
}

/// Users in the caller's data scope (phone numbers masked).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])), params(UserQuery),
    responses((status = 200, body = Paged<UserView>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<UserQuery>,
) -> ApiResult<Json<Paged<UserView>>> {
    let f = UserFilter {
        username: q.username,
        display_name: q.display_name,
        status: q.status,
        ..Default::default()
    };
    let p = s
        .admin
        .list_users(&c, f, q.dept_id, shuju_store::Page::new(q.page, q.size))
        .await?;
    Ok(Json(Paged::map(p, Into::into)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserRequest {
    /// Ignored on update (usernames do not change).
    pub username: String,
    pub display_name: String,
    pub dept_id: i64,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// active (default) | disabled
    pub status: Option<String>,
    #[serde(default)]
    pub role_ids: Vec<i64>,
    /// New users only: the initial password. When absent a random one is made and returned once.
    pub password: Option<String>,
}

impl From<UserRequest> for UserInput {
    fn from(r: UserRequest) -> Self {
        UserInput {
            username: r.username,
            display_name: r.display_name,
            dept_id: r.dept_id,
            phone: r.phone,
            email: r.email,
            status: r.status,
            role_ids: r.role_ids,
            password: r.password,
            must_change_password: None,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CreatedUserView {
    pub user: UserView,
    /// The random initial password, when the platform chose it. Shown this once; it must be
    /// changed at first login.
    pub initial_password: Option<String>,
}

/// Create a user. The password must be changed at first login.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])), request_body = UserRequest,
    responses((status = 200, body = CreatedUserView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    Auth(c): Auth,
    Json(r): Json<UserRequest>,
) -> ApiResult<Json<CreatedUserView>> {
    let created = s.admin.create_user(&c, r.into()).await?;
    Ok(Json(CreatedUserView {
        user: created.user.into(),
        initial_password: created.initial_password,
    }))
}

/// One user, with the phone number in full (an audited read of personal data; say why in `X-Purpose`).
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path), ("x-purpose" = Option<String>, Header, description = "why the data is read, percent-encoded UTF-8; written to the audit record")),
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<UserView>> {
    let v = s.admin.get_user(&c, id).await?;
    let mut view: UserView = v.user.into();
    view.role_ids = Some(v.role_ids);
    Ok(Json(view))
}

/// Update a user's profile, department, status and roles.
#[utoipa::path(put, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])), params(("id" = i64, Path)), request_body = UserRequest,
    responses((status = 200, body = UserView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
    Json(r): Json<UserRequest>,
) -> ApiResult<Json<UserView>> {
    Ok(Json(s.admin.update_user(&c, id, r.into()).await?.into()))
}

/// Remove a user (soft delete); their sessions end.
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Done), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Done>> {
    s.admin.delete_user(&c, id).await?;
    Ok(Done::ok())
}

#[derive(Serialize, ToSchema)]
pub struct ResetPasswordView {
    /// Shown once; must be changed at next login.
    pub password: String,
}

/// Reset a user's password to a random one that must be changed at next login.
#[utoipa::path(post, path = "/api/v1/users/{id}/reset-password", tag = "users", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = ResetPasswordView), (status = 404, body = ErrorBody)))]
pub async fn reset_password(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<ResetPasswordView>> {
    Ok(Json(ResetPasswordView {
        password: s.admin.reset_password(&c, id).await?,
    }))
}
