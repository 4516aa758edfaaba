//! Departments: create, update, remove, list within the caller's data scope.

use crate::perm;
use crate::{Admin, Caller};
use shuju_store::audit::{self, Outcome};
use shuju_store::departments::{self as store, DepartmentFields};
/// The department rows this crate owns; other domains read departments through these.
pub use shuju_store::departments::{Department, DepartmentFilter, all, get};
use shuju_store::{Page, Paged, divisions};
use shuju_types::{CreditCode, DivisionCode, Error, Result};

/// What a caller may set on a department.
#[derive(Clone, Debug, Default)]
pub struct DepartmentInput {
    pub parent_id: Option<i64>,
    pub name: String,
    pub short_code: Option<String>,
    pub division_code: String,
    pub uscc: Option<String>,
    pub leader: Option<String>,
    pub contact: Option<String>,
    pub status: Option<String>,
    pub sort_order: Option<i64>,
}

pub const STATUSES: [&str; 2] = ["active", "disabled"];

fn opt(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Check the fields that need no database.
pub fn validate_fields(i: &DepartmentInput) -> Result<DepartmentFields> {
    let name = i.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::invalid("name", "must be 1 to 100 characters"));
    }
    let division = DivisionCode::parse(&i.division_code)?;
    let uscc = match opt(i.uscc.clone()) {
        Some(u) => Some(CreditCode::parse(&u)?.as_str().to_owned()),
        None => None,
    };
    let status = i.status.clone().unwrap_or_else(|| "active".into());
    if !STATUSES.contains(&status.as_str()) {
        return Err(Error::invalid("status", "must be active or disabled"));
    }
    let short_code = opt(i.short_code.clone());
    if short_code.as_ref().is_some_and(|s| s.chars().count() > 32) {
        return Err(Error::invalid(
            "short_code",
            "must be at most 32 characters",
        ));
    }
    for (f, v) in [("leader", &i.leader), ("contact", &i.contact)] {
        if v.as_ref().is_some_and(|s| s.chars().count() > 100) {
            return Err(Error::invalid(f, "must be at most 100 characters"));
        }
    }
    Ok(DepartmentFields {
        parent_id: i.parent_id,
        name: name.to_owned(),
        short_code,
        division_code: division.as_str().to_owned(),
        uscc,
        leader: opt(i.leader.clone()),
        contact: opt(i.contact.clone()),
        status,
        sort_order: i.sort_order.unwrap_or(0),
    })
}

impl Admin {
    /// Validate against the database: the division exists, the parent exists and is visible,
    /// no cycle, the USCC is not taken.
    async fn validate_department(
        &self,
        c: &Caller,
        id: Option<i64>,
        i: &DepartmentInput,
    ) -> Result<DepartmentFields> {
        let f = validate_fields(i)?;
        if divisions::current(&self.store, &f.division_code)
            .await?
            .is_none()
        {
            return Err(Error::invalid(
                "division_code",
                "is not a current division of the divisions table",
            ));
        }
        let vis = self.visibility(c).await?;
        match f.parent_id {
            Some(p) => {
                if store::get(&self.store, p).await?.is_none() || !vis.sees_dept(p) {
                    return Err(Error::invalid(
                        "parent_id",
                        "no such department in your data scope",
                    ));
                }
                if let Some(id) = id
                    && self.dept_tree().await?.would_cycle(id, p)
                {
                    return Err(Error::invalid(
                        "parent_id",
                        "a department cannot be moved under itself",
                    ));
                }
            }
            None if !vis.all => {
                return Err(Error::invalid(
                    "parent_id",
                    "is required: only bureau administrators create top-level departments",
                ));
            }
            None => {}
        }
        if let Some(u) = &f.uscc
            && let Some(other) = store::by_uscc(&self.store, u).await?
            && Some(other.id) != id
        {
            return Err(Error::invalid(
                "uscc",
                "another department already has this USCC",
            ));
        }
        Ok(f)
    }

    pub async fn create_department(&self, c: &Caller, i: DepartmentInput) -> Result<Department> {
        const ACTION: &str = "department.create";
        self.require(c, perm::DEPT_ADD, ACTION, "department")
            .await?;
        let r = self.validate_department(c, None, &i).await;
        let f = self.checked(c, ACTION, "department", None, r).await?;
        let mut tx = self.store.write().await?;
        let id = store::insert(&mut tx, &f, &c.username).await?;
        audit::append(
            &mut tx,
            &c.entry(
                ACTION,
                "department",
                Some(id.to_string()),
                Outcome::Ok,
                None,
            ),
        )
        .await?;
        tx.commit().await?;
        self.forget_callers();
        store::get(&self.store, id)
            .await?
            .ok_or_else(|| Error::not_found("department"))
    }

    pub async fn update_department(
        &self,
        c: &Caller,
        id: i64,
        i: DepartmentInput,
    ) -> Result<Department> {
        const ACTION: &str = "department.update";
        self.require(c, perm::DEPT_EDIT, ACTION, "department")
            .await?;
        self.visible_department(c, ACTION, id).await?;
        let r = self.validate_department(c, Some(id), &i).await;
        let f = self
            .checked(c, ACTION, "department", Some(id.to_string()), r)
            .await?;
        let mut tx = self.store.write().await?;
        store::update(&mut tx, id, &f, &c.username).await?;
        audit::append(
            &mut tx,
            &c.entry(
                ACTION,
                "department",
                Some(id.to_string()),
                Outcome::Ok,
                None,
            ),
        )
        .await?;
        tx.commit().await?;
        self.forget_callers();
        store::get(&self.store, id)
            .await?
            .ok_or_else(|| Error::not_found("department"))
    }

    pub async fn delete_department(&self, c: &Caller, id: i64) -> Result<()> {
        const ACTION: &str = "department.delete";
        self.require(c, perm::DEPT_REMOVE, ACTION, "department")
            .await?;
        self.visible_department(c, ACTION, id).await?;
        let (children, users) = store::dependants(&self.store, id).await?;
        if children > 0 || users > 0 {
            let e = Error::conflict(format!(
                "the department still has {children} sub-department(s) and {users} user(s)"
            ));
            return Err(self
                .refused(c, ACTION, "department", Some(id.to_string()), e)
                .await);
        }
        let mut tx = self.store.write().await?;
        store::soft_delete(&mut tx, id, &c.username).await?;
        audit::append(
            &mut tx,
            &c.entry(
                ACTION,
                "department",
                Some(id.to_string()),
                Outcome::Ok,
                None,
            ),
        )
        .await?;
        tx.commit().await?;
        self.forget_callers();
        Ok(())
    }

    async fn visible_department(&self, c: &Caller, action: &str, id: i64) -> Result<Department> {
        let vis = self.visibility(c).await?;
        match store::get(&self.store, id).await? {
            Some(d) if vis.sees_dept(d.id) => Ok(d),
            _ => Err(self
                .refused(
                    c,
                    action,
                    "department",
                    Some(id.to_string()),
                    Error::not_found("department"),
                )
                .await),
        }
    }

    pub async fn get_department(&self, c: &Caller, id: i64) -> Result<Department> {
        self.require(c, perm::DEPT_LIST, "department.read", "department")
            .await?;
        self.visible_department(c, "department.read", id).await
    }

    /// Departments the caller may see, optionally only the subtree under `under`.
    pub async fn list_departments(
        &self,
        c: &Caller,
        name: Option<String>,
        status: Option<String>,
        under: Option<i64>,
        page: Page,
    ) -> Result<Paged<Department>> {
        self.require(c, perm::DEPT_LIST, "department.list", "department")
            .await?;
        let vis = self.visibility(c).await?;
        let tree = self.dept_tree().await?;
        let mut ids: Option<Vec<i64>> = (!vis.all).then(|| {
            let mut s = vis.depts.clone();
            s.extend(c.dept_id);
            s.into_iter().collect()
        });
        if let Some(u) = under {
            let sub = tree.subtree(u);
            ids = Some(match ids {
                Some(v) => v.into_iter().filter(|x| sub.contains(x)).collect(),
                None => sub.into_iter().collect(),
            });
        }
        store::list(&self.store, &DepartmentFilter { name, status, ids }, page).await
    }

    /// The visible part of the tree, in tree order with depths (for the left-hand tree).
    pub async fn department_tree(&self, c: &Caller) -> Result<Vec<(usize, Department)>> {
        self.require(c, perm::DEPT_LIST, "department.list", "department")
            .await?;
        let vis = self.visibility(c).await?;
        let tree = self.dept_tree().await?;
        Ok(tree
            .ordered()
            .into_iter()
            .filter(|(_, d)| vis.all || vis.depts.contains(&d.id) || c.dept_id == Some(d.id))
            .map(|(depth, d)| (depth, d.clone()))
            .collect())
    }

    /// Count of live departments (for the home page).
    pub async fn count_departments(&self) -> Result<usize> {
        Ok(store::all(&self.store).await?.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_checks_name_the_field() {
        let mut i = DepartmentInput {
            name: "聊城市大数据局".into(),
            division_code: "371500".into(),
            uscc: Some("91350100M000100Y43".into()),
            ..Default::default()
        };
        assert!(validate_fields(&i).is_ok());
        i.uscc = Some("91350100M000100Y44".into());
        assert_eq!(
            validate_fields(&i).unwrap_err().field.as_deref(),
            Some("uscc")
        );
        i.uscc = None;
        i.division_code = "3715".into();
        assert_eq!(
            validate_fields(&i).unwrap_err().field.as_deref(),
            Some("division_code")
        );
        i.division_code = "371500".into();
        i.name = "  ".into();
        assert_eq!(
            validate_fields(&i).unwrap_err().field.as_deref(),
            Some("name")
        );
    }
}
