//! The one error policy of Shuju.
//!
//! Every fallible function in the workspace returns [`Error`]. An error carries a [`ErrorCode`]
//! from a small fixed set, a message meant for the user, and (for validation errors) the name of the
//! field at fault. The web crate maps codes to HTTP statuses; nothing else knows about HTTP.
//!
//! Messages must never contain internal detail (SQL, file paths, stack traces) or personal data.
//! Internal failures are built with [`Error::internal`], which keeps the cause for the log and shows
//! the user only a generic message.

use std::fmt;

/// The small set of outcomes a caller can act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The input is malformed or breaks a rule; `field` says where.
    InvalidArgument,
    /// No or bad credentials.
    Unauthenticated,
    /// The caller is known but may not do this.
    PermissionDenied,
    /// The caller must change the password before doing anything else.
    PasswordChangeRequired,
    /// The object does not exist (or is outside the caller's data scope).
    NotFound,
    /// The request conflicts with the current state (duplicate code, stale version).
    Conflict,
    /// The body is larger than the limit.
    PayloadTooLarge,
    /// Too many attempts; try again later.
    RateLimited,
    /// Something failed inside the platform; details are in the server log only.
    Internal,
    /// A dependency (database, lake) is not available right now.
    Unavailable,
}

impl ErrorCode {
    /// The status number this code is answered with (RFC 9110). The one mapping: the web face
    /// answers with it and the gateway's call log records it.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::InvalidArgument => 400,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::PermissionDenied | ErrorCode::PasswordChangeRequired => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::RateLimited => 429,
            ErrorCode::Internal => 500,
            ErrorCode::Unavailable => 503,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidArgument => "invalid_argument",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::PermissionDenied => "permission_denied",
            ErrorCode::PasswordChangeRequired => "password_change_required",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Internal => "internal",
            ErrorCode::Unavailable => "unavailable",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error with a code, a user-facing message and optionally the field at fault.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    pub field: Option<String>,
    /// For `RateLimited`: seconds after which the call may be tried again.
    pub retry_after: Option<u64>,
    /// The internal cause, for the server log only. Never shown to users.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// For the server log: the code, the message and every internal cause in turn. Causes are
    /// the platform's own (database, I/O, parser) errors, never a value a user sent.
    pub fn report(&self) -> String {
        use std::error::Error as _;
        let mut out = format!("{}: {}", self.code, self.message);
        let mut cause = self.source();
        while let Some(c) = cause {
            out.push_str(" ← ");
            out.push_str(&c.to_string());
            cause = c.source();
        }
        out
    }

    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            field: None,
            retry_after: None,
            source: None,
        }
    }

    /// A validation error on one field. The message should say what is wrong and what is expected.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        let message = message.into();
        Error {
            code: ErrorCode::InvalidArgument,
            message: format!("{field}: {message}"),
            field: Some(field),
            retry_after: None,
            source: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidArgument, message)
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, format!("{} not found", what.into()))
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::PermissionDenied, message)
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthenticated, message)
    }

    /// Too many calls: try again after `retry_after` seconds.
    pub fn rate_limited(message: impl Into<String>, retry_after: u64) -> Self {
        Error {
            retry_after: Some(retry_after),
            ..Self::new(ErrorCode::RateLimited, message)
        }
    }

    /// An internal failure. The cause is kept for the log; the user sees a generic message.
    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Error {
            code: ErrorCode::Internal,
            message: "internal error".into(),
            field: None,
            retry_after: None,
            source: Some(cause.into()),
        }
    }

    pub fn unavailable(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Error {
            code: ErrorCode::Unavailable,
            message: "service temporarily unavailable".into(),
            field: None,
            retry_after: None,
            source: Some(cause.into()),
        }
    }

    /// Prefix the field path, e.g. `items[3]` + `uscc` → `items[3].uscc`.
    pub fn in_field(mut self, prefix: &str) -> Self {
        if let Some(f) = &self.field {
            let full = format!("{prefix}.{f}");
            self.message = self.message.replacen(f.as_str(), &full, 1);
            self.field = Some(full);
        }
        self
    }
}
