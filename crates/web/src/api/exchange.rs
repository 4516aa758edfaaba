//! Sharing requests and grants between departments.

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json, Path, Query};
use axum::extract::State;
use serde::{Deserialize, Serialize};
use shuju_exchange::requests::RequestInput;
use shuju_exchange::{GrantRow, RequestRow};
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
        .routes(routes!(terms))
        .routes(routes!(why))
        .routes(routes!(gateway))
        .routes(routes!(data_use))
        .routes(routes!(usage))
        .routes(routes!(subscribe))
        .routes(routes!(subscriptions))
        .routes(routes!(deliver))
        .routes(routes!(delivery_file))
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
    /// Sensitive items the gateway hands out unmasked under this grant.
    pub unmasked_items: Vec<String>,
    pub calls_per_day: i64,
    pub rows_per_day: i64,
    pub calls_per_second: i64,
    /// The grant's data-service endpoint.
    pub endpoint: String,
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
            unmasked_items: serde_json::from_str(&g.unmasked_items).unwrap_or_default(),
            calls_per_day: g.calls_per_day,
            rows_per_day: g.rows_per_day,
            calls_per_second: g.calls_per_second,
            endpoint: format!("/api/v1/gateway/{}", g.id),
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
        s.gateway.revoke_grant(&c, id, &b.reason).await?.into(),
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TermsBody {
    /// Sensitive items of the grant to hand out unmasked (default: none).
    #[serde(default)]
    pub unmasked_items: Vec<String>,
    pub calls_per_day: i64,
    pub rows_per_day: i64,
    pub calls_per_second: i64,
}

/// Set a grant's terms of use: unmasked items, daily quotas and the rate (the provider or the
/// bureau).
#[utoipa::path(put, path = "/api/v1/exchange/grants/{id}/terms", tag = "exchange", security(("bearer" = [])), params(("id" = i64, Path)), request_body = TermsBody,
    responses((status = 200, body = GrantView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn terms(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
    Json(b): Json<TermsBody>,
) -> ApiResult<Json<GrantView>> {
    let t = shuju_exchange::gateway::Terms {
        unmasked_items: b.unmasked_items,
        calls_per_day: b.calls_per_day,
        rows_per_day: b.rows_per_day,
        calls_per_second: b.calls_per_second,
    };
    Ok(Json(s.gateway.set_terms(&c, id, &t).await?.into()))
}

// ----- the answers' shapes -----

/// A gateway call's answer.
#[derive(Serialize, ToSchema)]
pub struct AnswerView {
    pub grant_id: i64,
    pub resource_code: String,
    /// The granted items, as column → item name.
    pub items: std::collections::BTreeMap<String, String>,
    /// Columns masked in this answer.
    pub masked: Vec<String>,
    /// The rows, by column.
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<serde_json::Map<String, serde_json::Value>>,
    /// What is left of today's quota after this call.
    pub calls_left: i64,
    pub rows_left: i64,
}

/// Calls and rows of one grant, resource or consuming department over a window.
#[derive(Serialize, ToSchema)]
pub struct UseStatView {
    pub id: i64,
    pub name: String,
    /// The other party: the consumer of a grant, the provider of an entry.
    pub party: String,
    pub calls: i64,
    pub rows_out: i64,
    /// Calls refused or failed.
    pub errors: i64,
    pub total_ms: i64,
    pub max_ms: i64,
    /// Departments calling (for an entry).
    pub consumers: i64,
}

/// A providing department's sharing: catalogued, shared, granted and exchanged entries.
#[derive(Serialize, ToSchema)]
pub struct SharingRateView {
    pub dept_id: i64,
    pub dept: String,
    pub catalogued: i64,
    pub shared: i64,
    pub granted: i64,
    pub exchanged: i64,
}

/// The gateway's usage and health over a window.
#[derive(Serialize, ToSchema)]
pub struct HealthView {
    pub days: u32,
    pub grants: Vec<UseStatView>,
    /// Most called first: the top shared resources.
    pub entries: Vec<UseStatView>,
    pub consumers: Vec<UseStatView>,
    pub sharing: Vec<SharingRateView>,
}

fn use_stats(v: Vec<shuju_exchange::gateway::UseStat>) -> Vec<UseStatView> {
    v.into_iter()
        .map(|u| UseStatView {
            id: u.id,
            name: u.name,
            party: u.party,
            calls: u.calls,
            rows_out: u.rows_out,
            errors: u.errors,
            total_ms: u.total_ms,
            max_ms: u.max_ms,
            consumers: u.consumers,
        })
        .collect()
}

/// One bulk delivery: the versions it spans and its file.
#[derive(Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: i64,
    pub subscription_id: i64,
    pub from_version: Option<i64>,
    pub to_version: i64,
    pub file_name: String,
    pub rows_changed: i64,
    pub rows_removed: i64,
    pub sha256: String,
    pub delivered_at: String,
}

impl From<shuju_exchange::gateway::DeliveryRow> for DeliveryView {
    fn from(d: shuju_exchange::gateway::DeliveryRow) -> Self {
        DeliveryView {
            id: d.id,
            subscription_id: d.subscription_id,
            from_version: d.from_version,
            to_version: d.to_version,
            file_name: d.file_name,
            rows_changed: d.rows_changed,
            rows_removed: d.rows_removed,
            sha256: d.sha256,
            delivered_at: d.delivered_at,
        }
    }
}

/// A subscription of a grant's consumer to its table, with its deliveries (newest first).
#[derive(Serialize, ToSchema)]
pub struct SubscriptionView {
    pub id: i64,
    pub grant_id: i64,
    pub created_by: String,
    pub created_at: String,
    pub last_version: Option<i64>,
    pub delivered_at: Option<String>,
    /// 1 while it runs.
    pub active: i64,
    pub deliveries: Vec<DeliveryView>,
}

impl From<shuju_exchange::bulk::Subscription> for SubscriptionView {
    fn from(s: shuju_exchange::bulk::Subscription) -> Self {
        let r = s.row;
        SubscriptionView {
            id: r.id,
            grant_id: r.grant_id,
            created_by: r.created_by,
            created_at: r.created_at,
            last_version: r.last_version,
            delivered_at: r.delivered_at,
            active: r.active,
            deliveries: s.deliveries.into_iter().map(Into::into).collect(),
        }
    }
}

/// A use of a citizen's or an enterprise's data.
#[derive(Serialize, ToSchema)]
pub struct DataUseView {
    pub call_id: i64,
    pub called_at: String,
    pub consumer_dept: String,
    pub consumer_system: String,
    pub purpose: String,
    pub entry_name: String,
    /// The items the call could return.
    pub items: String,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GatewayQuery {
    /// The row with this key (a citizen ID, a credit code, …), or
    pub key: Option<String>,
    /// a batch of at most this many rows (1–1000) in key order,
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    /// after this key.
    pub after: Option<String>,
}

/// A grant's data-service endpoint: the granted items of the rows asked for, to the consumer
/// department's systems; sensitive items masked unless the grant releases them; 429 with
/// `Retry-After` past the quota or the rate. Every call is logged with the persons and
/// enterprises it touched.
#[utoipa::path(get, path = "/api/v1/gateway/{grant_id}", tag = "exchange", security(("bearer" = [])), params(("grant_id" = i64, Path), GatewayQuery),
    responses((status = 200, body = AnswerView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn gateway(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(grant_id): Path<i64>,
    Query(q): Query<GatewayQuery>,
) -> ApiResult<Json<AnswerView>> {
    let ask = shuju_exchange::gateway::Ask {
        key: q.key,
        limit: q.limit,
        after: q.after,
    };
    let t0 = std::time::Instant::now();
    let r = s.gateway.call(&c, grant_id, &ask).await;
    metrics::histogram!("shuju_gateway_call_seconds", "grant" => grant_id.to_string())
        .record(t0.elapsed().as_secs_f64());
    // Usage per grant and consuming department, beside the per-route request metrics.
    let labels = [
        ("grant", grant_id.to_string()),
        (
            "consumer_dept",
            c.dept_id.map(|d| d.to_string()).unwrap_or_default(),
        ),
        (
            "status",
            match &r {
                Ok(_) => "200".to_owned(),
                Err(e) => crate::error::status_of(e.code).as_u16().to_string(),
            },
        ),
    ];
    metrics::counter!("shuju_gateway_calls_total", &labels).increment(1);
    if let Ok(a) = &r {
        metrics::counter!("shuju_gateway_rows_total", &labels[..2]).increment(a.rows.len() as u64);
    }
    let a = r?;
    Ok(Json(AnswerView {
        grant_id: a.grant_id,
        resource_code: a.resource_code,
        items: a.items,
        masked: a.masked,
        rows: a.rows,
        calls_left: a.calls_left,
        rows_left: a.rows_left,
    }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DataUseQuery {
    /// A citizen ID or a credit code.
    pub subject: String,
}

/// Who used this citizen's (or enterprise's) data: every answered gateway call that touched
/// their records — department, system, the entry's items, when and for what purpose.
#[utoipa::path(get, path = "/api/v1/data-use", tag = "exchange", security(("bearer" = [])), params(DataUseQuery),
    responses((status = 200, body = Vec<DataUseView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn data_use(
    State(s): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<DataUseQuery>,
) -> ApiResult<Json<Vec<DataUseView>>> {
    Ok(Json(
        s.gateway
            .data_use(&c, &q.subject)
            .await?
            .into_iter()
            .map(|u| DataUseView {
                call_id: u.call_id,
                called_at: u.called_at,
                consumer_dept: u.consumer_dept,
                consumer_system: u.consumer_system,
                purpose: u.purpose,
                entry_name: u.entry_name,
                items: u.items,
            })
            .collect(),
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    /// The window, in days back from now (1–366; 30 if not given).
    pub days: Option<u32>,
}

/// The gateway's usage and health: calls, rows, errors and latency per grant, per resource (most
/// called first) and per consuming department, and each provider department's sharing rate.
#[utoipa::path(get, path = "/api/v1/exchange/usage", tag = "exchange", security(("bearer" = [])), params(UsageQuery),
    responses((status = 200, body = HealthView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn usage(
    State(s): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<UsageQuery>,
) -> ApiResult<Json<HealthView>> {
    let h = s.gateway.health(&c, q.days.unwrap_or(30)).await?;
    Ok(Json(HealthView {
        days: h.days,
        grants: use_stats(h.grants),
        entries: use_stats(h.entries),
        consumers: use_stats(h.consumers),
        sharing: h
            .sharing
            .into_iter()
            .map(|r| SharingRateView {
                dept_id: r.dept_id,
                dept: r.dept,
                catalogued: r.catalogued,
                shared: r.shared,
                granted: r.granted,
                exchanged: r.exchanged,
            })
            .collect(),
    }))
}

/// Subscribe the grant's consumer to its table: the changes since the version last delivered
/// arrive as files in the department's space (the first, the whole table), every little while
/// or on `deliver`. Subscribing again returns the subscription there is.
#[utoipa::path(post, path = "/api/v1/exchange/grants/{id}/subscribe", tag = "exchange", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = SubscriptionView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn subscribe(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<SubscriptionView>> {
    Ok(Json(s.gateway.subscribe(&c, id).await?.into()))
}

/// The subscriptions of the caller's department, each with its deliveries (newest first).
#[utoipa::path(get, path = "/api/v1/exchange/subscriptions", tag = "exchange", security(("bearer" = [])),
    responses((status = 200, body = Vec<SubscriptionView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn subscriptions(
    State(s): State<AppState>,
    Auth(c): Auth,
) -> ApiResult<Json<Vec<SubscriptionView>>> {
    Ok(Json(
        s.gateway
            .subscriptions(&c)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Deliver a subscription's changes now; `null` when the table has not changed since.
#[utoipa::path(post, path = "/api/v1/exchange/subscriptions/{id}/deliver", tag = "exchange", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Option<DeliveryView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn deliver(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Option<DeliveryView>>> {
    Ok(Json(s.gateway.deliver(&c, id).await?.map(Into::into)))
}

/// A delivery's file (CSV, UTF-8: `_op` U for added or changed, D for removed, then the granted
/// items, masked as granted).
#[utoipa::path(get, path = "/api/v1/exchange/subscriptions/{id}/deliveries/{delivery}", tag = "exchange", security(("bearer" = [])),
    params(("id" = i64, Path), ("delivery" = i64, Path)),
    responses((status = 200, description = "CSV file", content_type = "text/csv"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delivery_file(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path((id, delivery)): Path<(i64, i64)>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let (name, bytes) = s.gateway.delivery_file(&c, delivery, id).await?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
