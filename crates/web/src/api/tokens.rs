//! API tokens for systems.

use super::Done;
use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json, Path};
use axum::extract::State;
use serde::{Deserialize, Serialize};
use shuju_admin::journal::ApiToken;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(revoke))
}

#[derive(Serialize, ToSchema)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    /// The first characters, to recognise the token.
    pub prefix: String,
    pub user_id: i64,
    pub scopes: Vec<String>,
    pub created_by: String,
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

impl From<ApiToken> for TokenView {
    fn from(t: ApiToken) -> Self {
        TokenView {
            id: t.id,
            name: t.name,
            prefix: t.prefix,
            user_id: t.user_id,
            scopes: t.scopes.split_whitespace().map(String::from).collect(),
            created_by: t.created_by,
            created_at: t.created_at,
            expires_at: t.expires_at,
            revoked_at: t.revoked_at,
            last_used_at: t.last_used_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub name: String,
    /// The account the token acts as (default: yourself). Its roles still apply.
    pub user_id: Option<i64>,
    /// Permission patterns the token is limited to, e.g. `system:dept:list`.
    pub scopes: Vec<String>,
    /// Lifetime in days.
    pub days: u32,
}

#[derive(Serialize, ToSchema)]
pub struct IssuedTokenView {
    /// The secret, shown this once. Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub record: TokenView,
}

/// API tokens in the caller's data scope.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", security(("bearer" = [])),
    responses((status = 200, body = Vec<TokenView>), (status = 403, body = ErrorBody)))]
pub async fn list(State(s): State<AppState>, Auth(c): Auth) -> ApiResult<Json<Vec<TokenView>>> {
    Ok(Json(
        s.admin
            .list_tokens(&c)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Issue an API token (shown once, stored hashed, scoped, expiring).
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", security(("bearer" = [])), request_body = TokenRequest,
    responses((status = 200, body = IssuedTokenView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    Auth(c): Auth,
    Json(r): Json<TokenRequest>,
) -> ApiResult<Json<IssuedTokenView>> {
    let t = s
        .admin
        .issue_token(&c, &r.name, r.user_id, &r.scopes, r.days)
        .await?;
    Ok(Json(IssuedTokenView {
        token: t.token,
        record: t.record.into(),
    }))
}

/// Revoke an API token.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Done), (status = 404, body = ErrorBody)))]
pub async fn revoke(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Done>> {
    s.admin.revoke_token(&c, id).await?;
    Ok(Done::ok())
}
