//! The web layer: the only crate that knows HTTP.
//!
//! - `/api/v1/…` — JSON, documented by the OpenAPI 3.1 document at `/api/openapi.json` (browsable
//!   at `/api/docs`). Every route of the server, pages included, is registered through
//!   `utoipa_axum`, so the document lists them all (clippy forbids `Router::route`).
//! - Server-rendered pages (zh-CN first, English by `?lang=en` or the switch), with the front-end
//!   libraries embedded in the binary.
//! - `/healthz`, `/readyz`, `/metrics` (Prometheus).
//!
//! Handlers are thin: typed extractor → one call into a domain crate → a view type.

pub mod api;
mod assets;
pub mod error;
pub mod extract;
mod i18n;
mod middleware;
pub mod pages;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use shuju_platform::{Platform, WebConfig};

/// What every handler reaches: the platform's services (through `Deref`: `s.catalog`,
/// `s.lake`, …), the web settings, the metrics and the API document.
#[derive(Clone)]
pub struct AppState {
    pub platform: Platform,
    pub cfg: Arc<WebConfig>,
    metrics: PrometheusHandle,
    openapi: Arc<utoipa::openapi::OpenApi>,
}

impl std::ops::Deref for AppState {
    type Target = Platform;
    fn deref(&self) -> &Platform {
        &self.platform
    }
}

fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // In tests several servers share a process; the first recorder wins, which is fine.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Shuju (数聚) city data platform",
        description = "REST API of the platform. Authenticate with `POST /api/v1/auth/login` and send `Authorization: Bearer <token>`; systems use API tokens (`shj_…`). Errors always have the body `{code, message, field?, request_id}`.",
        license(name = "Apache-2.0")
    ),
    modifiers(&SecurityAddon),
    tags(
        (name = "auth", description = "Sign in, sign out, passwords"),
        (name = "departments", description = "The department tree"),
        (name = "users", description = "Accounts"),
        (name = "roles", description = "Roles, permissions and data scopes"),
        (name = "dicts", description = "Dictionaries"),
        (name = "divisions", description = "Administrative divisions (GB/T 2260)"),
        (name = "tokens", description = "API tokens for systems"),
        (name = "logs", description = "Operation (audit) log and login log"),
        (name = "system", description = "Health, readiness, metrics, this document"),
        (name = "catalog", description = "The government information resource catalog"),
        (name = "ckan", description = "CKAN-compatible read API of the published catalog"),
        (name = "exchange", description = "Sharing requests and grants between departments"),
        (name = "licenses", description = "Electronic licenses: registry, show, verify, status, trust"),
        (name = "elements", description = "Data elements (数据元): meanings, formats and code tables that catalog items name"),
        (name = "lake", description = "The data lake: tables, deliveries, quarantine, lineage, quality, SQL"),
        (name = "persons", description = "One person, one file: resolution, search, match, files, review, one-click checks"),
        (name = "enterprises", description = "One enterprise, one file: search, files with penalties and a credit summary"),
        (name = "service", description = "Get it done once (一次办好): matters and guides, processes, cases, tasks, who used my data"),
        (name = "pages", description = "Server-rendered pages (text/html)"),
    )
)]
struct ApiDoc;

struct SecurityAddon;

impl utoipa::Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every route of the server, with its documentation.
fn routes(cfg: &WebConfig) -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(api::routes(cfg))
        .merge(pages::routes(cfg))
}

/// The OpenAPI document of every route, without starting a server.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let mut doc = routes(&WebConfig::default()).split_for_parts().1;
    name_operations(&mut doc);
    document_errors(&mut doc);
    doc
}

/// Every operation that needs a caller documents 401 and 403; one that names an object in its path, 404; every operation that reads parameters or a
/// body documents 400 (the extractors answer malformed input with it). Both with the error body.
fn document_errors(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let error = |what: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(what)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build(),
        )
    };
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            if op
                .tags
                .as_ref()
                .is_some_and(|t| t.iter().any(|t| t == "pages"))
            {
                continue;
            }
            let needs_caller = op.security.as_ref().is_some_and(|s| !s.is_empty());
            let has_input =
                op.request_body.is_some() || op.parameters.as_ref().is_some_and(|p| !p.is_empty());
            let by_path = op.parameters.as_ref().is_some_and(|p| {
                p.iter()
                    .any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Path))
            });
            let r = &mut op.responses.responses;
            if by_path && !r.contains_key("404") {
                r.insert("404".into(), error("no such object in the caller's scope"));
            }
            if needs_caller && !r.contains_key("401") {
                r.insert(
                    "401".into(),
                    error("not signed in, or the token is not valid"),
                );
            }
            if needs_caller && !r.contains_key("403") {
                r.insert("403".into(), error("the caller may not do this"));
            }
            if has_input && !r.contains_key("400") {
                r.insert("400".into(), error("the input is malformed or invalid"));
            }
        }
    }
}

/// Give every operation an id unique in the document, from its method and path
/// (`get /api/v1/users/{id}` → `get_api_v1_users_id`); handler names repeat across modules.
fn name_operations(doc: &mut utoipa::openapi::OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let slug: String = path
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("_");
        let ops = [
            ("get", &mut item.get),
            ("put", &mut item.put),
            ("post", &mut item.post),
            ("delete", &mut item.delete),
            ("patch", &mut item.patch),
        ];
        for (method, op) in ops {
            if let Some(op) = op {
                op.operation_id = Some(if slug.is_empty() {
                    method.to_owned()
                } else {
                    format!("{method}_{slug}")
                });
            }
        }
    }
}

/// Build the application: the router with all layers, and the OpenAPI document.
pub fn app(platform: Platform) -> (Router, Arc<utoipa::openapi::OpenApi>) {
    let cfg = platform.config.web.clone();
    let (router, mut openapi) = routes(&cfg).split_for_parts();
    name_operations(&mut openapi);
    document_errors(&mut openapi);
    let openapi = Arc::new(openapi);
    let state = AppState {
        platform,
        cfg: Arc::new(cfg.clone()),
        metrics: metrics_handle(),
        openapi: openapi.clone(),
    };
    let hard_limit = cfg.upload_limit.max(cfg.json_limit).max(cfg.delivery_limit) + 64 * 1024;
    let router = router
        .fallback(middleware::not_found)
        .layer(DefaultBodyLimit::max(cfg.json_limit))
        .layer(axum::middleware::from_fn(middleware::request_context))
        .layer(RequestBodyLimitLayer::new(hard_limit))
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .with_state(state);
    (router, openapi)
}

/// Serve until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    platform: Platform,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (router, _) = app(platform);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
