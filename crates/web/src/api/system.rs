//! Health, readiness, metrics, the OpenAPI document and its browsable page.

use crate::AppState;
use crate::error::ErrorBody;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .routes(routes!(openapi))
        .routes(routes!(docs))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: String,
    pub version: String,
}

/// Liveness: the process is up.
#[utoipa::path(get, path = "/healthz", tag = "system", responses((status = 200, body = Health)))]
pub async fn healthz() -> axum::Json<Health> {
    axum::Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

#[derive(Serialize, ToSchema)]
pub struct Ready {
    pub status: String,
    pub database: String,
    pub schema_version: i64,
}

/// Readiness: the metadata database answers.
#[utoipa::path(get, path = "/readyz", tag = "system",
    responses((status = 200, body = Ready), (status = 503, body = ErrorBody)))]
pub async fn readyz(State(s): State<AppState>) -> Response {
    match (s.store.ping().await, s.store.schema_version().await) {
        (Ok(()), Ok(v)) => axum::Json(Ready {
            status: "ready".into(),
            database: format!("{:?}", s.store.backend()).to_lowercase(),
            schema_version: v,
        })
        .into_response(),
        (Err(e), _) | (_, Err(e)) => crate::error::ApiError(e).into_response(),
    }
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "system", security(("bearer" = [])),
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain"),
        (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn metrics(
    State(s): State<AppState>,
    crate::extract::MaybeAuth(who): crate::extract::MaybeAuth,
) -> Response {
    // A setting opens the figures to anonymous scrapers; otherwise an API token that may read them.
    let allowed = match &who {
        Some(c) => {
            c.require(
                &s.store,
                shuju_admin::perm::METRICS_VIEW,
                "metrics.read",
                "metrics",
                None,
            )
            .await
        }
        None if s.cfg.anonymous_metrics => Ok(()),
        None => Err(shuju_types::Error::unauthenticated(
            "sign in first: send Authorization: Bearer <an API token with monitor:metrics:view>",
        )),
    };
    if let Err(e) = allowed {
        return crate::error::ApiError(e).into_response();
    }
    // Each department's sharing, as of this scrape.
    match s.gateway.sharing_rates().await {
        Ok(rates) => {
            for r in rates {
                let l = [("dept_id", r.dept_id.to_string()), ("dept", r.dept)];
                metrics::gauge!("shuju_sharing_catalogued", &l).set(r.catalogued as f64);
                metrics::gauge!("shuju_sharing_shared", &l).set(r.shared as f64);
                metrics::gauge!("shuju_sharing_exchanged", &l).set(r.exchanged as f64);
                metrics::gauge!("shuju_sharing_rate", &l)
                    .set(r.shared as f64 / r.catalogued.max(1) as f64);
            }
        }
        Err(e) => tracing::warn!(error = %e.report(), "sharing rates not measured"),
    }
    // The service flow's notices by delivery state: a growing `failed` or `retrying` is a relay
    // or gateway to look at.
    match s.services.notice_states().await {
        Ok(states) => {
            for state in ["queued", "retrying", "sent", "failed"] {
                let n = states.iter().find(|(s, _)| s == state).map_or(0, |x| x.1);
                metrics::gauge!("shuju_service_notices", "state" => state).set(n as f64);
            }
        }
        Err(e) => tracing::warn!(error = %e.report(), "notice states not measured"),
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
        .into_response()
}

/// An OpenAPI 3.1 document; the standard's own schema (spec.openapis.org/oas/3.1/schema) applies.
#[derive(Serialize, ToSchema)]
pub struct OpenApiDocument {
    /// `3.1.0`
    pub openapi: String,
    #[schema(value_type = Object)]
    pub info: serde_json::Value,
    #[schema(value_type = Object)]
    pub paths: serde_json::Value,
    #[schema(value_type = Object)]
    pub components: serde_json::Value,
    #[schema(value_type = Vec<Object>)]
    pub tags: serde_json::Value,
}

/// This OpenAPI 3.1 document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "system",
    responses((status = 200, description = "OpenAPI 3.1 document", body = OpenApiDocument, content_type = "application/json")))]
pub async fn openapi(State(s): State<AppState>) -> Response {
    match serde_json::to_vec(&*s.openapi) {
        Ok(b) => ([(header::CONTENT_TYPE, "application/json")], b).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The browsable API documentation (Swagger UI, embedded).
#[utoipa::path(get, path = "/api/docs", tag = "system",
    responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn docs() -> Html<&'static str> {
    Html(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shuju API</title>
<link rel="stylesheet" href="/assets/vendor/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/assets/vendor/swagger-ui-bundle.js"></script>
<script src="/assets/docs.js"></script>
</body></html>"#,
    )
}
