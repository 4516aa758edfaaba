//! Who is acting: an authenticated user (through a browser session or an API token), or the
//! platform itself (first start, demo seeding, CLI maintenance).

use crate::perm;
use crate::scope::DataScope;
use shuju_store::audit::{AuditEntry, Outcome};

#[derive(Clone, Debug)]
pub struct Caller {
    pub user_id: Option<i64>,
    pub username: String,
    pub display_name: String,
    pub dept_id: Option<i64>,
    /// Permission patterns from all the caller's active roles.
    pub permissions: Vec<String>,
    /// The keys of the caller's active roles (a service case's task names the role that acts).
    pub roles: Vec<String>,
    /// The data scopes of the caller's roles, combined with OR.
    pub scopes: Vec<DataScope>,
    /// With an API token: the patterns the token is limited to.
    pub token_scopes: Option<Vec<String>>,
    /// The session must change its password before anything else.
    pub must_change_password: bool,
    /// The session's CSRF token (browser sessions only).
    pub csrf_token: Option<String>,
    /// The hash of the session token, to keep this session on a password change.
    pub session_hash: Option<String>,
    pub client: Option<String>,
    /// Why the caller is acting (sent by the client; required by policy for reads of personal
    /// data in later issues). Written to the audit record.
    pub purpose: Option<String>,
}

impl Caller {
    /// The platform acting on its own behalf.
    pub fn system() -> Caller {
        Caller {
            user_id: None,
            username: "system".into(),
            display_name: "系统".into(),
            dept_id: None,
            permissions: vec![perm::ALL.into()],
            roles: vec![],
            scopes: vec![DataScope::All],
            token_scopes: None,
            must_change_password: false,
            csrf_token: None,
            session_hash: None,
            client: None,
            purpose: None,
        }
    }

    /// An unauthenticated party (for auditing refused logins and the like).
    pub fn anonymous(client: Option<String>) -> Caller {
        Caller {
            username: "anonymous".into(),
            display_name: "anonymous".into(),
            permissions: vec![],
            scopes: vec![],
            client,
            ..Caller::system()
        }
    }

    pub fn with_client(mut self, client: Option<String>) -> Caller {
        self.client = client;
        self
    }

    /// Does the caller hold `p`? With an API token, the token's scopes must grant it as well.
    pub fn can(&self, p: &str) -> bool {
        if self.must_change_password {
            return false;
        }
        // Three officers apart: whoever reads the audit trail changes nothing.
        if perm::is_change(p) && self.permissions.iter().any(|g| perm::is_audit(g)) {
            return false;
        }
        let by_role = self.permissions.iter().any(|g| perm::matches(g, p));
        let by_token = self
            .token_scopes
            .as_ref()
            .is_none_or(|s| s.iter().any(|g| perm::matches(g, p)));
        by_role && by_token
    }

    pub fn is_system(&self) -> bool {
        self.user_id.is_none() && self.username == "system"
    }

    /// Check a permission; a refusal is audited as `denied`, naming the action and the object, and
    /// returned as `permission_denied`.
    pub async fn require(
        &self,
        store: &shuju_store::Store,
        p: &str,
        action: &str,
        object_type: &str,
        object_id: Option<String>,
    ) -> shuju_types::Result<()> {
        if self.can(p) {
            return Ok(());
        }
        let e = shuju_types::Error::forbidden(format!("missing permission {p}"));
        let _ = shuju_store::audit::record(
            store,
            &self.entry(
                action,
                object_type,
                object_id,
                Outcome::Denied,
                Some(e.code.as_str().into()),
            ),
        )
        .await;
        Err(e)
    }

    /// An audit entry for an action of this caller.
    pub fn entry(
        &self,
        action: &str,
        object_type: &str,
        object_id: Option<String>,
        outcome: Outcome,
        detail: Option<String>,
    ) -> AuditEntry {
        AuditEntry {
            actor_id: self.user_id,
            actor: self.username.clone(),
            dept_id: self.dept_id,
            action: action.into(),
            object_type: object_type.into(),
            object_id,
            purpose: self.purpose.clone(),
            client: self.client.clone(),
            outcome,
            detail,
        }
    }
}
