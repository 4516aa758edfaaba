//! Sign in, sign out, change password, who am I.

use super::Done;
use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json, client_addr};
use axum::extract::State;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(change_password))
        .routes(routes!(me))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: String,
    /// When true, only `POST /api/v1/auth/password` (and `me`, `logout`) is allowed until the
    /// password has been changed.
    pub must_change_password: bool,
}

/// The client address of a request, as an extractor.
pub struct Client(pub Option<String>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Client(client_addr(parts)))
    }
}

/// Sign in with a username and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(s): State<AppState>,
    Client(client): Client,
    Json(r): Json<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let ok = s
        .admin
        .login(&r.username, &r.password, client.as_deref())
        .await?;
    Ok(Json(LoginResponse {
        token: ok.token,
        expires_at: ok.expires_at,
        must_change_password: ok.must_change_password,
    }))
}

/// End this session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Done), (status = 401, body = ErrorBody)))]
pub async fn logout(State(s): State<AppState>, Auth(c): Auth) -> ApiResult<Json<Done>> {
    s.admin.logout(&c).await?;
    Ok(Done::ok())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    pub old_password: String,
    pub new_password: String,
}

/// Change your own password. Other sessions of the account are ended.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", security(("bearer" = [])), request_body = PasswordRequest,
    responses((status = 200, body = Done), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn change_password(
    State(s): State<AppState>,
    Auth(c): Auth,
    Json(r): Json<PasswordRequest>,
) -> ApiResult<Json<Done>> {
    s.admin
        .change_password(&c, &r.old_password, &r.new_password)
        .await?;
    Ok(Done::ok())
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub user_id: Option<i64>,
    pub username: String,
    pub display_name: String,
    pub dept_id: Option<i64>,
    pub permissions: Vec<String>,
    /// The data scopes of the caller's roles (all, custom, dept, dept_and_below, self).
    pub data_scopes: Vec<String>,
    pub must_change_password: bool,
}

/// Who am I: the caller's account, permissions and data scopes.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(Auth(c): Auth) -> Json<Me> {
    Json(Me {
        user_id: c.user_id,
        username: c.username,
        display_name: c.display_name,
        dept_id: c.dept_id,
        permissions: c.permissions,
        data_scopes: c.scopes.iter().map(|s| s.key().to_owned()).collect(),
        must_change_password: c.must_change_password,
    })
}
