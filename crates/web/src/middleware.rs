//! Request context: a request id on every request and response, the one error body for every
//! error (including those produced outside handlers: unknown routes, body limits, panics), and
//! request metrics.

use crate::error::{ErrorBody, ErrorMarker, code_of};
use crate::i18n::Lang;
use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Instant;

pub const REQUEST_ID: &str = "x-request-id";

pub async fn request_context(req: Request, next: Next) -> Response {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let api = req.uri().path().starts_with("/api/");
    let wants_html = !api
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"));
    // A page's errors are in the page's language; an API caller gets Chinese messages by asking
    // for them (Accept-Language: zh…), English otherwise.
    let lang = if wants_html {
        crate::pages::lang_in(req.headers())
    } else {
        let zh = req
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.trim_start().to_ascii_lowercase().starts_with("zh"));
        if zh { Lang::Zh } else { Lang::En }
    };
    let start = Instant::now();
    let span = tracing::info_span!("request", request_id = %id, %method, %route);
    // The span follows the request's future wherever it runs (a guard held across an await
    // would mark other tasks' work as this request's).
    let mut resp = tracing::Instrument::instrument(next.run(req), span).await;
    let status = resp.status();
    let failed = status.is_client_error() || status.is_server_error();
    let error = if let Some(ErrorMarker(body)) = resp.extensions_mut().remove::<ErrorMarker>() {
        Some(body)
    } else if failed && !resp.headers().contains_key(header::CONTENT_TYPE) {
        let message = match status {
            StatusCode::NOT_FOUND => "no such route".to_owned(),
            StatusCode::METHOD_NOT_ALLOWED => "this route does not take that method".to_owned(),
            StatusCode::PAYLOAD_TOO_LARGE => "the body is larger than the limit".to_owned(),
            s => s.canonical_reason().unwrap_or("error").to_owned(),
        };
        Some(error_body(status, message))
    } else if failed
        && resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/plain"))
    {
        // A rejection of axum's own (a multipart body without its boundary, …): its short text
        // becomes the message of the one error body.
        let (parts, b) = resp.into_parts();
        let text = axum::body::to_bytes(b, 4096).await.unwrap_or_default();
        let message: String = String::from_utf8_lossy(&text).chars().take(200).collect();
        resp = Response::from_parts(parts, Body::empty());
        Some(error_body(
            status,
            if message.trim().is_empty() {
                status.canonical_reason().unwrap_or("error").to_owned()
            } else {
                message.replace('`', "")
            },
        ))
    } else {
        None
    };
    if let Some(mut body) = error {
        body.request_id = id.clone();
        resp = if wants_html {
            let (mut parts, _) = resp.into_parts();
            let page =
                crate::pages::error_page(lang, status, &body.code, &body.message, &body.request_id);
            let (page_parts, page_body) = page.into_parts();
            parts.headers.remove(header::CONTENT_LENGTH);
            for (k, v) in &page_parts.headers {
                parts.headers.insert(k, v.clone());
            }
            Response::from_parts(parts, page_body)
        } else {
            body.message = crate::i18n::text(lang, &body.message);
            rebuild(resp, &body)
        };
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID, v);
    }
    let labels = [
        ("method", method),
        ("route", route),
        ("status", resp.status().as_u16().to_string()),
    ];
    metrics::counter!("shuju_http_requests_total", &labels).increment(1);
    metrics::histogram!("shuju_http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    resp
}

fn error_body(status: StatusCode, message: String) -> ErrorBody {
    ErrorBody {
        code: code_of(status).as_str().into(),
        message,
        field: None,
        request_id: String::new(),
    }
}

fn rebuild(resp: Response, body: &ErrorBody) -> Response {
    let (mut parts, _) = resp.into_parts();
    let json = serde_json::to_vec(body).unwrap_or_default();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(json))
}

pub async fn not_found() -> Response {
    StatusCode::NOT_FOUND.into_response()
}

pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a handler panicked");
    let body = ErrorBody {
        code: "internal".into(),
        message: "internal error".into(),
        field: None,
        request_id: String::new(),
    };
    (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
}
