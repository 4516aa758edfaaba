//! Sharing requests and grants between departments.

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json, Path, Query};
use axum::extract::State;
use serde::{Deserialize, Serialize};
use shuju_exchange::requests::RequestInput;
use shuju_store::exchange::{GrantRow, RequestRow};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(check))
        .routes(routes!(answer))
        .routes(routes!(escalate))
        .routes(routes!(grants))
        .routes(routes!(revoke))
        .routes(routes!(why))
}

#[derive(Serialize, ToSchema)]
pub struct RequestView {
    pub id: i64,
    pub entry_id: i64,
    pub consumer_dept_id: i64,
    pub consumer_system: String,
    pub items: Vec<String>,
    pub purpose: String,
    pub legal_basis: Option<String>,
    pub period_until: String,
    pub complex: bool,
    /// bureau_check | provider_review | granted | refused
    pub status: String,
    pub stage_started: String,
    /// The open stage's deadline (working days on the configured calendar).
    pub deadline: Option<String>,
    pub escalated: bool,
    pub decision_reason: Option<String>,
    pub decided_by: Option<String>,
    pub created_by: String,
    pub created_at: String,
}

impl From<RequestRow> for RequestView {
    fn from(r: RequestRow) -> Self {
        RequestView {
            id: r.id,
            entry_id: r.entry_id,
            consumer_dept_id: r.consumer_dept_id,
            consumer_system: r.consumer_system,
            items: serde_json::from_str(&r.items).unwrap_or_default(),
            purpose: r.purpose,
            legal_basis: r.legal_basis,
            period_until: r.period_until,
            complex: r.complex != 0,
            status: r.status,
            stage_started: r.stage_started,
            deadline: r.deadline,
            escalated: r.escalated != 0,
            decision_reason: r.decision_reason,
            decided_by: r.decided_by,
            created_by: r.created_by,
            created_at: r.created_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestBody {
    pub entry_id: i64,
    /// Item names; empty or absent: every item.
    #[serde(default)]
    pub items: Vec<String>,
    pub purpose: String,
    pub legal_basis: Option<String>,
    pub period_until: String,
    pub consumer_system: String,
    #[serde(default)]
    pub complex: bool,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// mine (default) | to_check (bureau) | to_answer (provider)
    pub view: Option<String>,
}

/// Sharing requests: yours, those waiting for the bureau's check, or those waiting for your answer.
#[utoipa::path(get, path = "/api/v1/exchange/requests", tag = "exchange", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = Vec<RequestView>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Vec<RequestView>>> {
    let rows = s
        .exchange
        .requests(&c, q.view.as_deref().unwrap_or("mine"))
        .await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// Request shared data: unconditional items are granted at once, not-shared ones refused at once
/// with the legal basis, conditional ones go to the bureau's check.
#[utoipa::path(post, path = "/api/v1/exchange/requests", tag = "exchange", security(("bearer" = [])), request_body = RequestBody,
    responses((status = 200, body = RequestView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    Auth(c): Auth,
    Json(b): Json<RequestBody>,
) -> ApiResult<Json<RequestView>> {
    let input = RequestInput {
        entry_id: b.entry_id,
        items: b.items,
        purpose: b.purpose,
        legal_basis: b.legal_basis,
        period_until: b.period_until,
        consumer_system: b.consumer_system,
        complex: b.complex,
    };
    Ok(Json(s.exchange.request(&c, input).await?.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// true: pass (check) or grant (answer); false: refuse, with a reason.
    pub approve: bool,
    #[serde(default)]
    pub reason: String,
}

/// The bureau's compliance check.
#[utoipa::path(post, path = "/api/v1/exchange/requests/{id}/check", tag = "exchange", security(("bearer" = [])), params(("id" = i64, Path)), request_body = DecisionBody,
    responses((status = 200, body = RequestView), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn check(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
    Json(b): Json<DecisionBody>,
) -> ApiResult<Json<RequestView>> {
    Ok(Json(
        s.exchange
            .bureau_decide(&c, id, b.approve, &b.reason)
            .await?
            .into(),
    ))
}

/// The provider's answer.
#[utoipa::path(post, path = "/api/v1/exchange/requests/{id}/answer", tag = "exchange", security(("bearer" = [])), params(("id" = i64, Path)), request_body = DecisionBody,
    responses((status = 200, body = RequestView), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn answer(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
    Json(b): Json<DecisionBody>,
) -> ApiResult<Json<RequestView>> {
    Ok(Json(
        s.exchange
            .provider_decide(&c, id, b.approve, &b.reason)
            .await?
            .into(),
    ))
}

/// Escalate every request past its deadline (run by the bureau or a scheduler).
#[utoipa::path(post, path = "/api/v1/exchange/escalate", tag = "exchange", security(("bearer" = [])),
    responses((status = 200, body = Vec<RequestView>), (status = 403, body = ErrorBody)))]
pub async fn escalate(
    State(s): State<AppState>,
    Auth(c): Auth,
) -> ApiResult<Json<Vec<RequestView>>> {
    if !c.can(shuju_admin::perm::EXCHANGE_CHECK) {
        return Err(
            shuju_types::Error::forbidden("missing permission exchange:request:check").into(),
        );
    }
    Ok(Json(
        s.exchange
            .escalate_overdue()
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct GrantView {
    pub id: i64,
    pub request_id: i64,
    pub entry_id: i64,
    pub consumer_dept_id: i64,
    pub consumer_system: String,
    pub items: Vec<String>,
    pub purpose: String,
    pub valid_until: String,
    pub revoked_at: Option<String>,
    pub revoked_reason: Option<String>,
    pub created_at: String,
}

impl From<GrantRow> for GrantView {
    fn from(g: GrantRow) -> Self {
        GrantView {
            id: g.id,
            request_id: g.request_id,
            entry_id: g.entry_id,
            consumer_dept_id: g.consumer_dept_id,
            consumer_system: g.consumer_system,
            items: serde_json::from_str(&g.items).unwrap_or_default(),
            purpose: g.purpose,
            valid_until: g.valid_until,
            revoked_at: g.revoked_at,
            revoked_reason: g.revoked_reason,
            created_at: g.created_at,
        }
    }
}

/// Grants held by your departments.
#[utoipa::path(get, path = "/api/v1/exchange/grants", tag = "exchange", security(("bearer" = [])),
    responses((status = 200, body = Vec<GrantView>), (status = 403, body = ErrorBody)))]
pub async fn grants(State(s): State<AppState>, Auth(c): Auth) -> ApiResult<Json<Vec<GrantView>>> {
    Ok(Json(
        s.exchange
            .grants(&c)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeBody {
    pub reason: String,
}

/// Revoke a grant, with the reason.
#[utoipa::path(post, path = "/api/v1/exchange/grants/{id}/revoke", tag = "exchange", security(("bearer" = [])), params(("id" = i64, Path)), request_body = RevokeBody,
    responses((status = 200, body = GrantView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
    Json(b): Json<RevokeBody>,
) -> ApiResult<Json<GrantView>> {
    Ok(Json(
        s.exchange.revoke_grant(&c, id, &b.reason).await?.into(),
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WhyQuery {
    pub entry_id: i64,
    /// Comma-separated item names; absent: every item.
    pub items: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct WhyView {
    /// One line per item: which grant, rule or missing grant decides it.
    pub explanation: Vec<String>,
}

/// Why may (or may not) your department read these items?
#[utoipa::path(get, path = "/api/v1/exchange/why", tag = "exchange", security(("bearer" = [])), params(WhyQuery),
    responses((status = 200, body = WhyView), (status = 403, body = ErrorBody)))]
pub async fn why(
    State(s): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<WhyQuery>,
) -> ApiResult<Json<WhyView>> {
    let items: Vec<String> = q
        .items
        .map(|s| {
            s.split(',')
                .map(|x| x.trim().to_owned())
                .filter(|x| !x.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let text = s.exchange.why(&c, q.entry_id, &items).await?;
    Ok(Json(WhyView {
        explanation: text.lines().map(String::from).collect(),
    }))
}
