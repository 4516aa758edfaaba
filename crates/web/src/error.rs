//! How errors become HTTP responses: one body everywhere, `{code, message, field?, request_id}`.
//!
//! The status comes from the error's code (see [`status_of`]). Internal errors are logged with
//! their cause and the request id; the user sees only "internal error" and the id to quote.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use shuju_types::{Error, ErrorCode};

/// The error body of every API response.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// One of: invalid_argument, unauthenticated, permission_denied, password_change_required,
    /// not_found, conflict, payload_too_large, rate_limited, internal, unavailable.
    pub code: String,
    pub message: String,
    /// The input field at fault, for validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Quote this when reporting a problem; it is in the server log.
    pub request_id: String,
}

pub fn status_of(code: ErrorCode) -> StatusCode {
    StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The code for a bare status produced outside the handlers (routing, body limits).
pub fn code_of(status: StatusCode) -> ErrorCode {
    match status {
        StatusCode::UNAUTHORIZED => ErrorCode::Unauthenticated,
        StatusCode::FORBIDDEN => ErrorCode::PermissionDenied,
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => ErrorCode::NotFound,
        StatusCode::CONFLICT => ErrorCode::Conflict,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::TOO_MANY_REQUESTS => ErrorCode::RateLimited,
        StatusCode::SERVICE_UNAVAILABLE
        | StatusCode::GATEWAY_TIMEOUT
        | StatusCode::REQUEST_TIMEOUT => ErrorCode::Unavailable,
        s if s.is_server_error() => ErrorCode::Internal,
        _ => ErrorCode::InvalidArgument,
    }
}

/// Marks a response as an API error; the request-context middleware fills in the request id.
#[derive(Clone, Debug)]
pub(crate) struct ErrorMarker(pub ErrorBody);

/// A handler's error.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        if matches!(e.code, ErrorCode::Internal | ErrorCode::Unavailable) {
            tracing::error!(error = %e.report(), "request failed");
        }
        let body = ErrorBody {
            code: e.code.as_str().to_owned(),
            message: e.message,
            field: e.field,
            request_id: String::new(),
        };
        let mut resp = status_of(e.code).into_response();
        if let Some(secs) = e.retry_after {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        resp.extensions_mut().insert(ErrorMarker(body));
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
