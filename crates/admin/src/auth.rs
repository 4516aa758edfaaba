//! Logging in and out, changing passwords, authenticating requests, and API tokens.

use crate::password;
use crate::perm;
use crate::scope::DataScope;
use crate::{Admin, Caller};
use chrono::{Duration, Utc};
use shuju_store::audit::{self, Outcome};
use shuju_store::sessions::{self, ApiToken, NewApiToken, Session};
use shuju_store::{fmt_time, login_log, parse_time, roles, users};
use shuju_types::{Error, ErrorCode, Result};
use std::time::Instant;

/// API tokens start with this, so they are told apart from session tokens (and found by scanners).
pub const TOKEN_PREFIX: &str = "shj_";

/// How long an API token's caller is remembered: a token revoked, or an account changed, by
/// another process (the CLI) stops working within this time; by this process, at once.
pub const TOKEN_CACHE: std::time::Duration = std::time::Duration::from_secs(5);

/// Token hash → (when looked up, the token's expiry, its caller).
pub(crate) type TokenCache =
    std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, (Instant, String, Caller)>>>;

/// A successful login.
#[derive(Clone, Debug)]
pub struct LoginOk {
    /// The session token: a cookie for browsers, a bearer token for API clients.
    pub token: String,
    pub csrf_token: String,
    pub expires_at: String,
    pub must_change_password: bool,
    pub user_id: i64,
}

/// A newly issued API token; the secret is shown once.
#[derive(Clone, Debug)]
pub struct IssuedToken {
    pub token: String,
    pub record: ApiToken,
}

impl Admin {
    fn password_expired(&self, changed_at: &str) -> bool {
        let days = self.cfg.password.expiry_days;
        days > 0
            && parse_time(changed_at)
                .is_some_and(|t| Utc::now() - t > Duration::days(i64::from(days)))
    }

    /// Check a username and password; on success open a session.
    pub async fn login(&self, username: &str, pw: &str, client: Option<&str>) -> Result<LoginOk> {
        let username = username.trim();
        let generic = || Error::unauthenticated("wrong username or password");
        let Some(user) = users::by_username(&self.store, username).await? else {
            password::verify_dummy(pw);
            let mut tx = self.store.write().await?;
            login_log::insert(
                &mut tx,
                username,
                None,
                client,
                "failure",
                Some("unknown user"),
            )
            .await?;
            tx.commit().await?;
            return Err(generic());
        };
        let now = Utc::now();
        if let Some(until) = user.locked_until.as_deref().and_then(parse_time)
            && until > now
        {
            let mut tx = self.store.write().await?;
            login_log::insert(
                &mut tx,
                username,
                Some(user.id),
                client,
                "locked",
                Some("account locked"),
            )
            .await?;
            tx.commit().await?;
            let minutes = (until - now).num_minutes() + 1;
            return Err(Error::new(
                ErrorCode::RateLimited,
                format!(
                    "too many failed attempts: the account is locked for {minutes} more minute(s)"
                ),
            ));
        }
        if !password::verify(pw, &user.password_hash) {
            let failures = user.failed_attempts + 1;
            let lock = (failures >= i64::from(self.cfg.lockout_failures))
                .then(|| fmt_time(now + Duration::minutes(i64::from(self.cfg.lockout_minutes))));
            let mut tx = self.store.write().await?;
            users::set_login_state(
                &mut tx,
                user.id,
                if lock.is_some() { 0 } else { failures },
                lock.as_deref(),
            )
            .await?;
            login_log::insert(
                &mut tx,
                username,
                Some(user.id),
                client,
                "failure",
                Some("wrong password"),
            )
            .await?;
            if lock.is_some() {
                let entry = Caller::anonymous(client.map(Into::into)).entry(
                    "auth.lock",
                    "user",
                    Some(user.id.to_string()),
                    Outcome::Ok,
                    Some(format!("{failures} failed attempts")),
                );
                audit::append(&mut tx, &entry).await?;
            }
            tx.commit().await?;
            return Err(generic());
        }
        if user.status != "active" {
            let mut tx = self.store.write().await?;
            login_log::insert(
                &mut tx,
                username,
                Some(user.id),
                client,
                "failure",
                Some("account disabled"),
            )
            .await?;
            tx.commit().await?;
            return Err(Error::forbidden("the account is disabled"));
        }
        let must_change =
            user.must_change_password != 0 || self.password_expired(&user.password_changed_at);
        let token = password::random_token();
        let csrf = password::random_token();
        let expires_at = fmt_time(now + Duration::hours(i64::from(self.cfg.session_hours)));
        let mut tx = self.store.write().await?;
        users::set_login_state(&mut tx, user.id, 0, None).await?;
        sessions::insert(
            &mut tx,
            &Session {
                token_hash: password::token_hash(&token),
                user_id: user.id,
                csrf_token: csrf.clone(),
                client: client.map(Into::into),
                created_at: fmt_time(now),
                expires_at: expires_at.clone(),
                revoked_at: None,
            },
        )
        .await?;
        login_log::insert(&mut tx, username, Some(user.id), client, "success", None).await?;
        let entry = Caller {
            user_id: Some(user.id),
            username: user.username.clone(),
            dept_id: Some(user.dept_id),
            ..Caller::anonymous(client.map(Into::into))
        }
        .entry("auth.login", "session", None, Outcome::Ok, None);
        audit::append(&mut tx, &entry).await?;
        tx.commit().await?;
        Ok(LoginOk {
            token,
            csrf_token: csrf,
            expires_at,
            must_change_password: must_change,
            user_id: user.id,
        })
    }

    /// End the caller's session.
    pub async fn logout(&self, c: &Caller) -> Result<()> {
        let Some(h) = &c.session_hash else {
            return Ok(());
        };
        let mut tx = self.store.write().await?;
        sessions::revoke(&mut tx, h).await?;
        audit::append(
            &mut tx,
            &c.entry("auth.logout", "session", None, Outcome::Ok, None),
        )
        .await?;
        tx.commit().await
    }

    /// Change the caller's own password. Other sessions of the user are ended.
    pub async fn change_password(&self, c: &Caller, old: &str, new: &str) -> Result<()> {
        const ACTION: &str = "auth.password";
        let uid = c
            .user_id
            .ok_or_else(|| Error::forbidden("only users have passwords"))?;
        let user = users::get(&self.store, uid)
            .await?
            .ok_or_else(|| Error::not_found("user"))?;
        if !password::verify(old, &user.password_hash) {
            let e = Error::invalid("old_password", "the current password is wrong");
            return Err(self
                .refused(c, ACTION, "user", Some(uid.to_string()), e)
                .await);
        }
        let r = password::check_policy(&self.cfg.password, new, &user.username).and_then(|()| {
            if password::verify(new, &user.password_hash) {
                Err(Error::invalid(
                    "new_password",
                    "must differ from the current password",
                ))
            } else {
                Ok(())
            }
        });
        self.checked(c, ACTION, "user", Some(uid.to_string()), r)
            .await?;
        let h = password::hash(new)?;
        let mut tx = self.store.write().await?;
        users::set_password(&mut tx, uid, &h, false, &c.username).await?;
        sessions::revoke_user(&mut tx, uid, c.session_hash.as_deref()).await?;
        audit::append(
            &mut tx,
            &c.entry(ACTION, "user", Some(uid.to_string()), Outcome::Ok, None),
        )
        .await?;
        tx.commit().await
    }

    /// Build the caller for a bearer or cookie token.
    pub async fn authenticate(&self, token: &str, client: Option<String>) -> Result<Caller> {
        let bad = || Error::unauthenticated("the token is not valid or has expired");
        let hash = password::token_hash(token);
        let api = token.starts_with(TOKEN_PREFIX);
        if api {
            let now = shuju_store::now();
            let cache = self.token_callers.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((at, expires, c)) = cache.get(&hash)
                && at.elapsed() < TOKEN_CACHE
                && expires.as_str() > now.as_str()
            {
                let mut c = c.clone();
                c.client = client;
                return Ok(c);
            }
        }
        let mut expires = String::new();
        let (user_id, token_scopes, csrf, session_hash) = if api {
            let t = sessions::token_by_hash(&self.store, &hash)
                .await?
                .ok_or_else(bad)?;
            expires = t.expires_at.clone();
            if let Err(e) = sessions::touch_token(&self.store, t.id).await {
                tracing::warn!(error = %e.report(), "could not note token use");
            }
            let scopes = t.scopes.split_whitespace().map(String::from).collect();
            (t.user_id, Some(scopes), None, None)
        } else {
            let s = sessions::get(&self.store, &hash).await?.ok_or_else(bad)?;
            (s.user_id, None, Some(s.csrf_token), Some(hash.clone()))
        };
        let user = users::get(&self.store, user_id).await?.ok_or_else(bad)?;
        if user.status != "active" {
            return Err(Error::unauthenticated("the account is disabled"));
        }
        let mut permissions = Vec::new();
        let mut scopes = Vec::new();
        let mut role_keys = Vec::new();
        for r in roles::of_user(&self.store, user.id).await? {
            role_keys.push(r.role_key.clone());
            permissions.extend(roles::permissions(&self.store, r.id).await?);
            scopes.push(match r.data_scope.as_str() {
                "all" => DataScope::All,
                "custom" => DataScope::Custom(roles::departments(&self.store, r.id).await?),
                "dept" => DataScope::Dept,
                "dept_and_below" => DataScope::DeptAndBelow,
                _ => DataScope::SelfOnly,
            });
        }
        permissions.sort();
        permissions.dedup();
        let must_change = token_scopes.is_none()
            && (user.must_change_password != 0 || self.password_expired(&user.password_changed_at));
        let caller = Caller {
            user_id: Some(user.id),
            username: user.username,
            display_name: user.display_name,
            dept_id: Some(user.dept_id),
            permissions,
            roles: role_keys,
            scopes,
            token_scopes,
            must_change_password: must_change,
            csrf_token: csrf,
            session_hash,
            client,
            purpose: None,
        };
        if api {
            let mut cache = self.token_callers.lock().unwrap_or_else(|e| e.into_inner());
            if cache.len() >= 10_000 {
                cache.clear();
            }
            cache.insert(hash, (Instant::now(), expires, caller.clone()));
        }
        Ok(caller)
    }

    /// Issue an API token for a system account. The secret is returned once and stored hashed.
    pub async fn issue_token(
        &self,
        c: &Caller,
        name: &str,
        user_id: Option<i64>,
        scopes: &[String],
        days: u32,
    ) -> Result<IssuedToken> {
        const ACTION: &str = "token.issue";
        self.require(c, perm::TOKEN_ADD, ACTION, "api_token")
            .await?;
        let user_id = user_id
            .or(c.user_id)
            .ok_or_else(|| Error::invalid("user_id", "is required"))?;
        let r = (|| {
            if name.trim().is_empty() || name.chars().count() > 64 {
                return Err(Error::invalid("name", "must be 1 to 64 characters"));
            }
            if scopes.is_empty() {
                return Err(Error::invalid(
                    "scopes",
                    "at least one permission pattern is required",
                ));
            }
            if let Some(bad) = scopes.iter().find(|s| !perm::is_valid(s)) {
                return Err(Error::invalid(
                    "scopes",
                    format!("'{bad}' is not a permission pattern"),
                ));
            }
            if days == 0 || days > self.cfg.token_max_days {
                return Err(Error::invalid(
                    "days",
                    format!("must be between 1 and {}", self.cfg.token_max_days),
                ));
            }
            Ok(())
        })();
        self.checked(c, ACTION, "api_token", None, r).await?;
        let owner = users::get(&self.store, user_id).await?;
        let vis = self.visibility(c).await?;
        let owner = self
            .checked(
                c,
                ACTION,
                "api_token",
                None,
                owner
                    .filter(|u| vis.sees_user(u.id, u.dept_id))
                    .ok_or_else(|| Error::invalid("user_id", "no such user in your data scope")),
            )
            .await?;
        let token = format!("{TOKEN_PREFIX}{}", password::random_token());
        let new = NewApiToken {
            name: name.trim().into(),
            token_hash: password::token_hash(&token),
            prefix: token.chars().take(10).collect(),
            user_id: owner.id,
            scopes: scopes.join(" "),
            expires_at: fmt_time(Utc::now() + Duration::days(i64::from(days))),
        };
        let mut tx = self.store.write().await?;
        let id = sessions::insert_token(&mut tx, &new, &c.username).await?;
        audit::append(
            &mut tx,
            &c.entry(ACTION, "api_token", Some(id.to_string()), Outcome::Ok, None),
        )
        .await?;
        tx.commit().await?;
        let record = sessions::get_token(&self.store, id)
            .await?
            .ok_or_else(|| Error::not_found("token"))?;
        Ok(IssuedToken { token, record })
    }

    pub async fn list_tokens(&self, c: &Caller) -> Result<Vec<ApiToken>> {
        self.require(c, perm::TOKEN_LIST, "token.list", "api_token")
            .await?;
        let all = sessions::list_tokens(&self.store, None).await?;
        let vis = self.visibility(c).await?;
        if vis.all {
            return Ok(all);
        }
        let mut out = Vec::new();
        for t in all {
            if let Some(u) = users::get(&self.store, t.user_id).await?
                && vis.sees_user(u.id, u.dept_id)
            {
                out.push(t);
            }
        }
        Ok(out)
    }

    pub async fn revoke_token(&self, c: &Caller, id: i64) -> Result<()> {
        const ACTION: &str = "token.revoke";
        self.require(c, perm::TOKEN_REMOVE, ACTION, "api_token")
            .await?;
        let visible = self.list_tokens(c).await?.iter().any(|t| t.id == id);
        if !visible {
            return Err(self
                .refused(
                    c,
                    ACTION,
                    "api_token",
                    Some(id.to_string()),
                    Error::not_found("token"),
                )
                .await);
        }
        let mut tx = self.store.write().await?;
        sessions::revoke_token(&mut tx, id).await?;
        audit::append(
            &mut tx,
            &c.entry(ACTION, "api_token", Some(id.to_string()), Outcome::Ok, None),
        )
        .await?;
        tx.commit().await?;
        self.forget_callers();
        Ok(())
    }
}
