//! Accounts: create, update, reset password, remove, list within the caller's data scope.

use crate::password;
use crate::perm;
use crate::{Admin, Caller};
use shuju_store::audit::{self, Outcome};
use shuju_store::users::{self as store, UserFields};
pub use shuju_store::users::{User, UserFilter, by_username, get};
use shuju_store::{Page, Paged, departments, roles};
use shuju_types::mask::mask_phone;
use shuju_types::{Error, Result};

#[derive(Clone, Debug, Default)]
pub struct UserInput {
    pub username: String,
    pub display_name: String,
    pub dept_id: i64,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub status: Option<String>,
    pub role_ids: Vec<i64>,
    /// For a new user: the initial password. When absent a random one is made and returned once.
    pub password: Option<String>,
    /// For a new user: must the password be changed at first login? (default: yes)
    pub must_change_password: Option<bool>,
}

/// A user as shown to someone else: the phone number masked.
#[derive(Clone, Debug)]
pub struct UserView {
    pub user: User,
    pub role_ids: Vec<i64>,
}

/// A created user and, when the platform chose it, the one-time initial password.
#[derive(Clone, Debug)]
pub struct CreatedUser {
    pub user: User,
    pub initial_password: Option<String>,
}

fn opt(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

pub fn validate_fields(i: &UserInput) -> Result<UserFields> {
    let username = i.username.trim();
    if !(3..=32).contains(&username.len())
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        return Err(Error::invalid(
            "username",
            "must be 3 to 32 characters of letters, digits, '_', '.', '-'",
        ));
    }
    let display = i.display_name.trim();
    if display.is_empty() || display.chars().count() > 50 {
        return Err(Error::invalid("display_name", "must be 1 to 50 characters"));
    }
    let phone = opt(i.phone.clone());
    if let Some(p) = &phone {
        let mobile = p.len() == 11 && p.starts_with('1') && p.chars().all(|c| c.is_ascii_digit());
        let landline = (7..=20).contains(&p.len())
            && p.chars().all(|c| c.is_ascii_digit() || c == '-')
            && p.starts_with('0');
        if !(mobile || landline) {
            return Err(Error::invalid(
                "phone",
                "must be an 11-digit mobile number or a landline such as 0635-8888888",
            ));
        }
    }
    let email = opt(i.email.clone());
    if let Some(e) = &email
        && (e.len() > 100 || !e.contains('@') || e.starts_with('@') || e.ends_with('@'))
    {
        return Err(Error::invalid("email", "is not an e-mail address"));
    }
    let status = i.status.clone().unwrap_or_else(|| "active".into());
    if !["active", "disabled"].contains(&status.as_str()) {
        return Err(Error::invalid("status", "must be active or disabled"));
    }
    Ok(UserFields {
        username: username.to_owned(),
        display_name: display.to_owned(),
        dept_id: i.dept_id,
        phone,
        email,
        status,
    })
}

impl Admin {
    async fn validate_user(&self, c: &Caller, i: &UserInput) -> Result<UserFields> {
        let f = validate_fields(i)?;
        let vis = self.visibility(c).await?;
        if departments::get(&self.store, f.dept_id).await?.is_none() || !vis.sees_dept(f.dept_id) {
            return Err(Error::invalid(
                "dept_id",
                "no such department in your data scope",
            ));
        }
        // No one hands out a permission they do not hold themselves.
        let mut all = Vec::new();
        for rid in &i.role_ids {
            if roles::get(&self.store, *rid).await?.is_none() {
                return Err(Error::invalid(
                    "role_ids",
                    format!("role {rid} does not exist"),
                ));
            }
            for p in roles::permissions(&self.store, *rid).await? {
                if !c.is_system() && !c.permissions.iter().any(|g| perm::grantable(g, &p)) {
                    return Err(Error::invalid(
                        "role_ids",
                        format!("role {rid} grants {p}, which you do not hold"),
                    ));
                }
                all.push(p);
            }
        }
        if let Some(why) = perm::separation_error(&all) {
            return Err(Error::invalid("role_ids", why));
        }
        Ok(f)
    }

    pub async fn create_user(&self, c: &Caller, i: UserInput) -> Result<CreatedUser> {
        const ACTION: &str = "user.create";
        self.require(c, perm::USER_ADD, ACTION, "user").await?;
        let r = self.validate_user(c, &i).await.and_then(|f| {
            if let Some(p) = &i.password {
                password::check_policy(&self.cfg.password, p, &f.username).map_err(|e| {
                    Error::invalid("password", e.message.replacen("new_password: ", "", 1))
                })?;
            }
            Ok(f)
        });
        let f = self.checked(c, ACTION, "user", None, r).await?;
        if store::by_username(&self.store, &f.username)
            .await?
            .is_some()
        {
            let e = Error::invalid("username", "is already taken");
            return Err(self.refused(c, ACTION, "user", None, e).await);
        }
        let (pw, generated) = match &i.password {
            Some(p) => (p.clone(), false),
            None => (password::random(), true),
        };
        let hash = password::hash(&pw)?;
        let mut tx = self.store.write().await?;
        let must_change = i.must_change_password.unwrap_or(true);
        let id = store::insert(&mut tx, &f, &hash, must_change, &c.username).await?;
        store::set_roles(&mut tx, id, &i.role_ids).await?;
        audit::append(
            &mut tx,
            &c.entry(ACTION, "user", Some(id.to_string()), Outcome::Ok, None),
        )
        .await?;
        tx.commit().await?;
        self.forget_callers();
        let user = store::get(&self.store, id)
            .await?
            .ok_or_else(|| Error::not_found("user"))?;
        Ok(CreatedUser {
            user,
            initial_password: generated.then_some(pw),
        })
    }

    pub async fn update_user(&self, c: &Caller, id: i64, mut i: UserInput) -> Result<User> {
        const ACTION: &str = "user.update";
        self.require(c, perm::USER_EDIT, ACTION, "user").await?;
        let existing = self.visible_user(c, ACTION, id).await?;
        self.ensure_can_manage(c, ACTION, &existing).await?;
        i.username = existing.username.clone();
        let r = self.validate_user(c, &i).await;
        let f = self
            .checked(c, ACTION, "user", Some(id.to_string()), r)
            .await?;
        let mut tx = self.store.write().await?;
        store::update(&mut tx, id, &f, &c.username).await?;
        store::set_roles(&mut tx, id, &i.role_ids).await?;
        audit::append(
            &mut tx,
            &c.entry(ACTION, "user", Some(id.to_string()), Outcome::Ok, None),
        )
        .await?;
        tx.commit().await?;
        self.forget_callers();
        store::get(&self.store, id)
            .await?
            .ok_or_else(|| Error::not_found("user"))
    }

    /// Set a new random password that must be changed at next login; returned once.
    pub async fn reset_password(&self, c: &Caller, id: i64) -> Result<String> {
        const ACTION: &str = "user.reset_password";
        self.require(c, perm::USER_RESET_PWD, ACTION, "user")
            .await?;
        let target = self.visible_user(c, ACTION, id).await?;
        self.ensure_can_manage(c, ACTION, &target).await?;
        let pw = password::random();
        let hash = password::hash(&pw)?;
        let mut tx = self.store.write().await?;
        store::set_password(&mut tx, id, &hash, true, &c.username).await?;
        shuju_store::sessions::revoke_user(&mut tx, id, None).await?;
        audit::append(
            &mut tx,
            &c.entry(ACTION, "user", Some(id.to_string()), Outcome::Ok, None),
        )
        .await?;
        tx.commit().await?;
        self.forget_callers();
        Ok(pw)
    }

    pub async fn delete_user(&self, c: &Caller, id: i64) -> Result<()> {
        const ACTION: &str = "user.delete";
        self.require(c, perm::USER_REMOVE, ACTION, "user").await?;
        let target = self.visible_user(c, ACTION, id).await?;
        self.ensure_can_manage(c, ACTION, &target).await?;
        if c.user_id == Some(id) {
            let e = Error::conflict("you cannot remove your own account");
            return Err(self
                .refused(c, ACTION, "user", Some(id.to_string()), e)
                .await);
        }
        let mut tx = self.store.write().await?;
        store::soft_delete(&mut tx, id, &c.username).await?;
        shuju_store::sessions::revoke_user(&mut tx, id, None).await?;
        audit::append(
            &mut tx,
            &c.entry(ACTION, "user", Some(id.to_string()), Outcome::Ok, None),
        )
        .await?;
        tx.commit().await?;
        self.forget_callers();
        Ok(())
    }

    /// Nobody manages an account that holds a permission they do not hold themselves (a department
    /// officer cannot reset the administrator's password).
    async fn ensure_can_manage(&self, c: &Caller, action: &str, target: &User) -> Result<()> {
        if c.is_system() {
            return Ok(());
        }
        for rid in store::role_ids(&self.store, target.id).await? {
            for p in roles::permissions(&self.store, rid).await? {
                if !c.permissions.iter().any(|g| perm::matches(g, &p)) {
                    let e =
                        Error::forbidden(format!("the account holds {p}, which you do not hold"));
                    return Err(self
                        .refused(c, action, "user", Some(target.id.to_string()), e)
                        .await);
                }
            }
        }
        Ok(())
    }

    async fn visible_user(&self, c: &Caller, action: &str, id: i64) -> Result<User> {
        let vis = self.visibility(c).await?;
        match store::get(&self.store, id).await? {
            Some(u) if vis.sees_user(u.id, u.dept_id) => Ok(u),
            _ => Err(self
                .refused(
                    c,
                    action,
                    "user",
                    Some(id.to_string()),
                    Error::not_found("user"),
                )
                .await),
        }
    }

    /// One user with the phone number in full: a read of personal data, audited.
    pub async fn get_user(&self, c: &Caller, id: i64) -> Result<UserView> {
        const ACTION: &str = "user.read";
        if c.user_id != Some(id) {
            self.require(c, perm::USER_LIST, ACTION, "user").await?;
        }
        let user = self.visible_user(c, ACTION, id).await?;
        self.record(&c.entry(ACTION, "user", Some(id.to_string()), Outcome::Ok, None))
            .await?;
        let role_ids = store::role_ids(&self.store, id).await?;
        Ok(UserView { user, role_ids })
    }

    /// Users the caller may see, phone numbers masked.
    pub async fn list_users(
        &self,
        c: &Caller,
        mut filter: UserFilter,
        under: Option<i64>,
        page: Page,
    ) -> Result<Paged<User>> {
        self.require(c, perm::USER_LIST, "user.list", "user")
            .await?;
        let vis = self.visibility(c).await?;
        if !vis.all {
            filter.dept_ids = Some(vis.depts.iter().copied().collect());
            filter.or_user_id = c.user_id;
        }
        if let Some(u) = under {
            let sub = self.dept_tree().await?.subtree(u);
            filter.dept_ids = Some(match filter.dept_ids {
                Some(v) => v.into_iter().filter(|x| sub.contains(x)).collect(),
                None => sub.iter().copied().collect(),
            });
            if !vis.all && !c.dept_id.is_some_and(|d| sub.contains(&d)) {
                filter.or_user_id = None;
            }
        }
        let mut page = store::list(&self.store, &filter, page).await?;
        for u in &mut page.items {
            u.phone = u.phone.as_deref().map(mask_phone);
        }
        Ok(page)
    }

    pub async fn count_users(&self) -> Result<i64> {
        store::count(&self.store).await
    }
}
