//! Static files embedded in the binary, so running needs no network. Third-party libraries come
//! from npm with a lockfile (`crates/web/frontend`), copied by `scripts/vendor-assets`.

use crate::AppState;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const FILES: &[(&str, &[u8])] = &[
    ("app.css", include_bytes!("../assets/app.css")),
    ("app.js", include_bytes!("../assets/app.js")),
    ("docs.js", include_bytes!("../assets/docs.js")),
    (
        "vendor/htmx.min.js",
        include_bytes!("../assets/vendor/htmx.min.js"),
    ),
    (
        "vendor/swagger-ui-bundle.js",
        include_bytes!("../assets/vendor/swagger-ui-bundle.js"),
    ),
    (
        "vendor/swagger-ui.css",
        include_bytes!("../assets/vendor/swagger-ui.css"),
    ),
];

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(asset))
        .routes(routes!(vendor_asset))
}

/// Embedded static files of the platform (styles, scripts).
#[utoipa::path(get, path = "/assets/{file}", tag = "pages", params(("file" = String, Path)),
    responses((status = 200, description = "the file"), (status = 404, description = "no such file")))]
pub async fn asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    serve(&file)
}

/// Embedded third-party libraries (from npm, pinned by the lockfile).
#[utoipa::path(get, path = "/assets/vendor/{file}", tag = "pages", params(("file" = String, Path)),
    responses((status = 200, description = "the file"), (status = 404, description = "no such file")))]
pub async fn vendor_asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    serve(&format!("vendor/{file}"))
}

fn serve(path: &str) -> Response {
    match FILES.iter().find(|(p, _)| *p == path) {
        Some((p, bytes)) => {
            let mime = mime_guess::from_path(p).first_or_octet_stream();
            let mut r = (*bytes).into_response();
            if let Ok(v) = HeaderValue::from_str(mime.essence_str()) {
                r.headers_mut().insert(header::CONTENT_TYPE, v);
            }
            r.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            );
            r
        }
        None => crate::error::ApiError(shuju_types::Error::not_found("asset")).into_response(),
    }
}
