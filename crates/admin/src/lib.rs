//! Platform administration: the administrative divisions, the department tree, accounts, roles
//! with permission strings and data scopes, dictionaries, sessions and API tokens, the login log and
//! the audit chain.
//!
//! [`Admin`] is the one entry point. Every method takes the [`Caller`] it acts for, checks the
//! caller's permission, validates its input, and writes the change together with its audit record
//! in one transaction. Refusals (no permission, invalid input) are audited too, with the field at
//! fault but never the offending value.

pub mod action;
pub mod auth;
pub mod caller;
pub mod config;
pub mod departments;
pub mod dicts;
pub mod divisions;
pub mod excel;
pub mod password;
pub mod perm;
pub mod roles;
pub mod scope;
pub mod seed;
pub mod users;

pub use action::Action;
pub use caller::Caller;
/// The operation and login journals' rows, read through [`Admin::audit_log`] and
/// [`Admin::login_log`]; the chain checked by [`verify_audit_chain`].
pub mod journal {
    pub use shuju_store::audit::verify as verify_audit_chain;
    pub use shuju_store::audit::{AuditFilter, AuditRecord, VerifyReport};
    pub use shuju_store::login_log::{LoginFilter, LoginRecord};
    pub use shuju_store::sessions::ApiToken;
}
pub use config::AdminConfig;
pub use scope::{DataScope, Visibility};

use shuju_store::Store;
use shuju_store::audit::{self, AuditEntry, Outcome};
use shuju_types::{Error, ErrorCode, Result};

/// The administration service.
#[derive(Clone, Debug)]
pub struct Admin {
    pub(crate) store: Store,
    pub(crate) cfg: AdminConfig,
    /// Callers of API tokens recently authenticated, by token hash: a system calling many times
    /// a second is not looked up each time. Kept [`auth::TOKEN_CACHE`] at most, and forgotten at
    /// once when this process changes a token, an account, a role or a department.
    pub(crate) token_callers: auth::TokenCache,
}

impl Admin {
    pub fn new(store: Store, cfg: AdminConfig) -> Self {
        Admin {
            store,
            cfg,
            token_callers: Default::default(),
        }
    }

    /// Forget every cached token caller (after a change to who may do what).
    pub(crate) fn forget_callers(&self) {
        self.token_callers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn config(&self) -> &AdminConfig {
        &self.cfg
    }

    /// Check a permission; a refusal is audited.
    pub(crate) async fn require(
        &self,
        c: &Caller,
        perm: &str,
        action: &str,
        object_type: &str,
    ) -> Result<()> {
        if c.can(perm) {
            return Ok(());
        }
        let err = Error::forbidden(format!("missing permission {perm}"));
        Err(self.refused(c, action, object_type, None, err).await)
    }

    /// Audit a refused request and hand the error back.
    pub(crate) async fn refused(
        &self,
        c: &Caller,
        action: &str,
        object_type: &str,
        object_id: Option<String>,
        err: Error,
    ) -> Error {
        let outcome = match err.code {
            ErrorCode::PermissionDenied | ErrorCode::Unauthenticated => Outcome::Denied,
            ErrorCode::Internal | ErrorCode::Unavailable => return err,
            _ => Outcome::Rejected,
        };
        let detail = err
            .field
            .as_ref()
            .map(|f| format!("field: {f}"))
            .or_else(|| Some(err.code.as_str().to_owned()));
        let entry = c.entry(action, object_type, object_id, outcome, detail);
        if let Err(e) = audit::record(&self.store, &entry).await {
            tracing::error!(error = %e.report(), "could not write the audit record of a refusal");
        }
        err
    }

    /// Run `validate`; on error, audit the refusal.
    pub(crate) async fn checked<T>(
        &self,
        c: &Caller,
        action: &str,
        object_type: &str,
        object_id: Option<String>,
        r: Result<T>,
    ) -> Result<T> {
        match r {
            Ok(v) => Ok(v),
            Err(e) => Err(self.refused(c, action, object_type, object_id, e).await),
        }
    }

    /// The operation log, limited to the caller's data scope.
    pub async fn audit_log(
        &self,
        c: &Caller,
        mut f: audit::AuditFilter,
        page: shuju_store::Page,
    ) -> Result<shuju_store::Paged<audit::AuditRecord>> {
        self.require(c, perm::OPERLOG_LIST, "audit.list", "audit")
            .await?;
        let vis = self.visibility(c).await?;
        if !vis.all {
            f.dept_ids = Some(vis.depts.iter().copied().collect());
        }
        audit::list(&self.store, &f, page).await
    }

    /// The login log (bureau administrators only: it spans all departments).
    pub async fn login_log(
        &self,
        c: &Caller,
        f: &shuju_store::login_log::LoginFilter,
        page: shuju_store::Page,
    ) -> Result<shuju_store::Paged<shuju_store::login_log::LoginRecord>> {
        self.require(c, perm::LOGININFOR_LIST, "loginlog.list", "login_log")
            .await?;
        shuju_store::login_log::list(&self.store, f, page).await
    }

    /// Record a read of personal data or another event that changes nothing else.
    pub async fn record(&self, entry: &AuditEntry) -> Result<i64> {
        audit::record(&self.store, entry).await
    }
}

/// The counts on the home page.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Overview {
    pub depts: usize,
    pub users: i64,
    /// County-level divisions and functional zones in force.
    pub divisions: usize,
    pub audit: i64,
    pub logins_today: i64,
}

impl Admin {
    pub async fn overview(&self) -> Result<Overview> {
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        Ok(Overview {
            depts: self.count_departments().await?,
            users: self.count_users().await?,
            divisions: shuju_store::divisions::list(&self.store, false)
                .await?
                .iter()
                .filter(|d| d.level == "county" || d.level == "zone")
                .count(),
            audit: audit::count(&self.store).await?,
            logins_today: shuju_store::login_log::count_success_since(&self.store, &today).await?,
        })
    }
}
