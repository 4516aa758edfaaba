//! Roles: permission strings and a data scope.

use crate::perm;
use crate::scope::DataScope;
use crate::{Admin, Caller};
use shuju_store::audit::{self, Outcome};
use shuju_store::roles::{self as store, RoleFields};
pub use shuju_store::roles::{Role, by_key};
use shuju_store::{Page, Paged, departments};
use shuju_types::{Error, Result};

#[derive(Clone, Debug, Default)]
pub struct RoleInput {
    pub role_key: String,
    pub name: String,
    pub data_scope: String,
    pub dept_ids: Vec<i64>,
    pub permissions: Vec<String>,
    pub status: Option<String>,
    pub sort_order: Option<i64>,
    pub remark: Option<String>,
}

/// A role with its permissions and chosen departments.
#[derive(Clone, Debug)]
pub struct RoleView {
    pub role: Role,
    pub permissions: Vec<String>,
    pub dept_ids: Vec<i64>,
}

pub fn validate_fields(i: &RoleInput) -> Result<RoleFields> {
    let key = i.role_key.trim();
    if !(2..=32).contains(&key.len())
        || !key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(Error::invalid(
            "role_key",
            "must be 2 to 32 characters of a-z, 0-9 and '_'",
        ));
    }
    let name = i.name.trim();
    if name.is_empty() || name.chars().count() > 50 {
        return Err(Error::invalid("name", "must be 1 to 50 characters"));
    }
    if !DataScope::KEYS.contains(&i.data_scope.as_str()) {
        return Err(Error::invalid(
            "data_scope",
            "must be one of all, custom, dept, dept_and_below, self",
        ));
    }
    if i.data_scope == "custom" && i.dept_ids.is_empty() {
        return Err(Error::invalid(
            "dept_ids",
            "a custom data scope needs at least one department",
        ));
    }
    if let Some(bad) = i.permissions.iter().find(|p| !perm::is_valid(p)) {
        return Err(Error::invalid(
            "permissions",
            format!("'{bad}' is not a permission string like system:user:list"),
        ));
    }
    if let Some(why) = perm::separation_error(&i.permissions) {
        return Err(Error::invalid("permissions", why));
    }
    let status = i.status.clone().unwrap_or_else(|| "active".into());
    if !["active", "disabled"].contains(&status.as_str()) {
        return Err(Error::invalid("status", "must be active or disabled"));
    }
    Ok(RoleFields {
        role_key: key.to_owned(),
        name: name.to_owned(),
        data_scope: i.data_scope.clone(),
        status,
        sort_order: i.sort_order.unwrap_or(0),
        remark: i.remark.clone().filter(|s| !s.trim().is_empty()),
        permissions: i.permissions.clone(),
        dept_ids: if i.data_scope == "custom" {
            i.dept_ids.clone()
        } else {
            vec![]
        },
    })
}

impl Admin {
    async fn validate_role(&self, c: &Caller, i: &RoleInput) -> Result<RoleFields> {
        let f = validate_fields(i)?;
        for d in &f.dept_ids {
            if departments::get(&self.store, *d).await?.is_none() {
                return Err(Error::invalid(
                    "dept_ids",
                    format!("department {d} does not exist"),
                ));
            }
        }
        if !c.is_system()
            && let Some(p) = f
                .permissions
                .iter()
                .find(|p| !c.permissions.iter().any(|g| perm::grantable(g, p)))
        {
            return Err(Error::invalid(
                "permissions",
                format!("you cannot grant {p}, which you do not hold"),
            ));
        }
        if f.data_scope == "all" && !self.visibility(c).await?.all {
            return Err(Error::invalid(
                "data_scope",
                "only a caller who sees all departments can grant the 'all' scope",
            ));
        }
        Ok(f)
    }

    pub async fn create_role(&self, c: &Caller, i: RoleInput) -> Result<RoleView> {
        const ACTION: &str = "role.create";
        self.require(c, perm::ROLE_ADD, ACTION, "role").await?;
        let r = self.validate_role(c, &i).await;
        let f = self.checked(c, ACTION, "role", None, r).await?;
        if store::by_key(&self.store, &f.role_key).await?.is_some() {
            let e = Error::invalid("role_key", "is already taken");
            return Err(self.refused(c, ACTION, "role", None, e).await);
        }
        let mut tx = self.store.write().await?;
        let id = store::insert(&mut tx, &f, &c.username).await?;
        audit::append(
            &mut tx,
            &c.entry(ACTION, "role", Some(id.to_string()), Outcome::Ok, None),
        )
        .await?;
        tx.commit().await?;
        self.forget_callers();
        self.role_view(id).await
    }

    pub async fn update_role(&self, c: &Caller, id: i64, mut i: RoleInput) -> Result<RoleView> {
        const ACTION: &str = "role.update";
        self.require(c, perm::ROLE_EDIT, ACTION, "role").await?;
        let Some(existing) = store::get(&self.store, id).await? else {
            return Err(self
                .refused(
                    c,
                    ACTION,
                    "role",
                    Some(id.to_string()),
                    Error::not_found("role"),
                )
                .await);
        };
        i.role_key = existing.role_key;
        let r = self.validate_role(c, &i).await;
        let f = self
            .checked(c, ACTION, "role", Some(id.to_string()), r)
            .await?;
        let mut tx = self.store.write().await?;
        store::update(&mut tx, id, &f, &c.username).await?;
        audit::append(
            &mut tx,
            &c.entry(ACTION, "role", Some(id.to_string()), Outcome::Ok, None),
        )
        .await?;
        tx.commit().await?;
        self.forget_callers();
        self.role_view(id).await
    }

    pub async fn delete_role(&self, c: &Caller, id: i64) -> Result<()> {
        const ACTION: &str = "role.delete";
        self.require(c, perm::ROLE_REMOVE, ACTION, "role").await?;
        let Some(role) = store::get(&self.store, id).await? else {
            return Err(self
                .refused(
                    c,
                    ACTION,
                    "role",
                    Some(id.to_string()),
                    Error::not_found("role"),
                )
                .await);
        };
        if role.role_key == crate::seed::ADMIN_ROLE {
            let e = Error::conflict("the built-in administrator role cannot be removed");
            return Err(self
                .refused(c, ACTION, "role", Some(id.to_string()), e)
                .await);
        }
        let mut tx = self.store.write().await?;
        store::soft_delete(&mut tx, id, &c.username).await?;
        audit::append(
            &mut tx,
            &c.entry(ACTION, "role", Some(id.to_string()), Outcome::Ok, None),
        )
        .await?;
        tx.commit().await?;
        self.forget_callers();
        Ok(())
    }

    async fn role_view(&self, id: i64) -> Result<RoleView> {
        let role = store::get(&self.store, id)
            .await?
            .ok_or_else(|| Error::not_found("role"))?;
        Ok(RoleView {
            permissions: store::permissions(&self.store, id).await?,
            dept_ids: store::departments(&self.store, id).await?,
            role,
        })
    }

    pub async fn get_role(&self, c: &Caller, id: i64) -> Result<RoleView> {
        self.require(c, perm::ROLE_LIST, "role.read", "role")
            .await?;
        self.role_view(id).await
    }

    pub async fn list_roles(
        &self,
        c: &Caller,
        name: Option<&str>,
        page: Page,
    ) -> Result<Paged<Role>> {
        self.require(c, perm::ROLE_LIST, "role.list", "role")
            .await?;
        store::list(&self.store, name, page).await
    }
}
