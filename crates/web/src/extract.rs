//! Extractors whose rejections use the one error body: JSON (unknown fields rejected by the DTOs),
//! query strings, paths, and the authenticated caller.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use shuju_admin::Caller;
use shuju_types::{Error, ErrorCode};
use std::net::SocketAddr;

pub const SESSION_COOKIE: &str = "shuju_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Why the caller acts, written to the audit record (percent-encoded UTF-8, at most 200 characters).
pub const PURPOSE_HEADER: &str = "x-purpose";

fn purpose_of(parts: &Parts) -> Result<Option<String>, ApiError> {
    let Some(v) = parts.headers.get(PURPOSE_HEADER) else {
        return Ok(None);
    };
    let raw = v
        .to_str()
        .map_err(|_| Error::invalid("x-purpose", "must be percent-encoded UTF-8"))?;
    let decoded: String =
        url::form_urlencoded::parse(format!("p={}", raw.replace('+', "%2B")).as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
    if decoded.chars().count() > 200 {
        return Err(ApiError(Error::invalid(
            "x-purpose",
            "must be at most 200 characters",
        )));
    }
    Ok(Some(decoded.trim().to_owned()).filter(|p| !p.is_empty()))
}

/// A JSON body. Malformed JSON, a wrong content type, unknown fields and oversized bodies are
/// answered with a clear 4xx.
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(v) => Ok(Json(v.0)),
            Err(rej) => Err(ApiError(json_rejection(rej))),
        }
    }
}

fn json_rejection(rej: JsonRejection) -> Error {
    match rej {
        JsonRejection::JsonDataError(e) => {
            Error::bad_request(format!("the JSON body does not fit: {}", e.body_text()))
        }
        JsonRejection::JsonSyntaxError(_) => Error::bad_request("the body is not well-formed JSON"),
        JsonRejection::MissingJsonContentType(_) => {
            Error::bad_request("the body must be JSON with Content-Type: application/json")
        }
        JsonRejection::BytesRejection(b) if b.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Error::new(
                ErrorCode::PayloadTooLarge,
                "the body is larger than the limit",
            )
        }
        other => Error::bad_request(format!("the body cannot be read ({})", other.status())),
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// A query string; unknown parameters are rejected by the DTOs.
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e: QueryRejection| {
                ApiError(Error::bad_request(format!(
                    "bad query string: {}",
                    e.body_text()
                )))
            })
    }
}

/// Path parameters.
pub struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|e: PathRejection| {
                ApiError(Error::bad_request(format!("bad path: {}", e.body_text())))
            })
    }
}

/// The client's address, for the audit and login logs.
pub fn client_addr(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
}

pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    cookie_in(&parts.headers, name)
}

/// The value of cookie `name` in these headers.
pub fn cookie_in<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// How the caller authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    Bearer,
    Cookie,
}

pub fn token_of(parts: &Parts) -> Option<(String, Via)> {
    if let Some(h) = parts.headers.get(header::AUTHORIZATION) {
        let v = h.to_str().ok()?;
        // CKAN clients (ckanapi's `-a`) send the API token bare, as CKAN 2.10 expects it.
        let t = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
            .or_else(|| v.starts_with("shj_").then_some(v))?;
        return Some((t.trim().to_owned(), Via::Bearer));
    }
    cookie(parts, SESSION_COOKIE).map(|t| (t.to_owned(), Via::Cookie))
}

/// Paths a caller whose password must change may still use.
const WHILE_PASSWORD_MUST_CHANGE: [&str; 3] = [
    "/api/v1/auth/password",
    "/api/v1/auth/me",
    "/api/v1/auth/logout",
];

/// The authenticated caller of an API request.
pub struct Auth(pub Caller);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (token, via) = token_of(parts).ok_or_else(|| {
            Error::unauthenticated("sign in first: send Authorization: Bearer <token>")
        })?;
        let mut caller = state.admin.authenticate(&token, client_addr(parts)).await?;
        caller.purpose = purpose_of(parts)?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if via == Via::Cookie && !safe {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if sent.is_none() || sent != caller.csrf_token.as_deref() {
                return Err(ApiError(Error::forbidden(
                    "a browser session must send its CSRF token in the X-CSRF-Token header",
                )));
            }
        }
        if caller.must_change_password && !WHILE_PASSWORD_MUST_CHANGE.contains(&parts.uri.path()) {
            return Err(ApiError(Error::new(
                ErrorCode::PasswordChangeRequired,
                "the password must be changed first: POST /api/v1/auth/password",
            )));
        }
        Ok(Auth(caller))
    }
}

/// The caller when the request carries credentials, `None` when it carries none (a public read);
/// credentials that do not authenticate are refused, never read as anonymous.
pub struct MaybeAuth(pub Option<Caller>);

impl FromRequestParts<AppState> for MaybeAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if token_of(parts).is_none() {
            return Ok(MaybeAuth(None));
        }
        Auth::from_request_parts(parts, state)
            .await
            .map(|Auth(c)| MaybeAuth(Some(c)))
    }
}
