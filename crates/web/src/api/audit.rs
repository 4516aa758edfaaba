//! The operation (audit) log and the login log.

use super::Paged;
use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json, Query};
use axum::extract::State;
use serde::{Deserialize, Serialize};
use shuju_admin::journal::{AuditFilter, AuditRecord, LoginFilter, LoginRecord};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(logins))
}

#[derive(Serialize, ToSchema)]
pub struct AuditView {
    pub seq: i64,
    pub at: String,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub dept_id: Option<i64>,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<String>,
    pub purpose: Option<String>,
    pub client: Option<String>,
    /// ok | rejected | denied
    pub outcome: String,
    pub detail: Option<String>,
    /// SM3 hash chaining this record to the previous one.
    pub hash: String,
}

impl From<AuditRecord> for AuditView {
    fn from(r: AuditRecord) -> Self {
        AuditView {
            seq: r.seq,
            at: r.at,
            actor_id: r.actor_id,
            actor: r.actor,
            dept_id: r.dept_id,
            action: r.action,
            object_type: r.object_type,
            object_id: r.object_id,
            purpose: r.purpose,
            client: r.client,
            outcome: r.outcome,
            detail: r.detail,
            hash: r.hash,
        }
    }
}

#[derive(Deserialize, IntoParams, Default)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub actor: Option<String>,
    /// Prefix of the action, e.g. `department.`
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    /// ok | rejected | denied
    pub outcome: Option<String>,
    /// From this time (RFC 3339 or YYYY-MM-DD), inclusive.
    pub from: Option<String>,
    /// Until this time, exclusive.
    pub to: Option<String>,
    pub page: Option<u32>,
    pub size: Option<u32>,
}

impl AuditQuery {
    pub fn filter(&self) -> AuditFilter {
        AuditFilter {
            actor: self.actor.clone(),
            action: self.action.clone(),
            object_type: self.object_type.clone(),
            object_id: self.object_id.clone(),
            outcome: self.outcome.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            dept_ids: None,
        }
    }
}

/// The operation log, newest first, within the caller's data scope.
#[utoipa::path(get, path = "/api/v1/audit", tag = "logs", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = Paged<AuditView>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Paged<AuditView>>> {
    let p = s
        .admin
        .audit_log(&c, q.filter(), shuju_store::Page::new(q.page, q.size))
        .await?;
    Ok(Json(Paged::map(p, Into::into)))
}

#[derive(Serialize, ToSchema)]
pub struct LoginView {
    pub id: i64,
    pub username: String,
    pub user_id: Option<i64>,
    pub client: Option<String>,
    /// success | failure | locked
    pub outcome: String,
    pub reason: Option<String>,
    pub at: String,
}

impl From<LoginRecord> for LoginView {
    fn from(r: LoginRecord) -> Self {
        LoginView {
            id: r.id,
            username: r.username,
            user_id: r.user_id,
            client: r.client,
            outcome: r.outcome,
            reason: r.reason,
            at: r.at,
        }
    }
}

#[derive(Deserialize, IntoParams, Default)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LoginQuery {
    pub username: Option<String>,
    pub outcome: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub page: Option<u32>,
    pub size: Option<u32>,
}

/// The login log, newest first.
#[utoipa::path(get, path = "/api/v1/login-log", tag = "logs", security(("bearer" = [])), params(LoginQuery),
    responses((status = 200, body = Paged<LoginView>), (status = 403, body = ErrorBody)))]
pub async fn logins(
    State(s): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<LoginQuery>,
) -> ApiResult<Json<Paged<LoginView>>> {
    let f = LoginFilter {
        username: q.username,
        outcome: q.outcome,
        from: q.from,
        to: q.to,
    };
    let p = s
        .admin
        .login_log(&c, &f, shuju_store::Page::new(q.page, q.size))
        .await?;
    Ok(Json(Paged::map(p, Into::into)))
}
