//! The IT-project funding gate (项目全口径管理): "no sharing, no exchange, no registration → no
//! funding". A project's review computes four checks from the platform's own data — are the
//! department's resources catalogued, are they shared, are they actually exchanged (grants on them
//! or gateway calls and bulk deliveries answered from them in the past year), and are the project's
//! systems registered — and a project failing any is not fundable, with the reasons.

use serde::Serialize;
use shuju_admin::departments;
use shuju_admin::{Admin, Caller, perm};
use shuju_store::Store;
use shuju_store::audit::{self, Outcome};
use shuju_store::exchange::{self as store, ProjectRow};
use shuju_types::{Error, Result};

#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// catalogued | shared | exchanged | systems_registered
    pub name: &'static str,
    pub passed: bool,
    pub detail: String,
}

#[derive(Clone, Debug)]
pub struct ProjectView {
    pub row: ProjectRow,
    pub checks: Vec<Check>,
    pub fundable: bool,
}

/// The yearly figures, as the yearbook prints them.
#[derive(Clone, Debug, Serialize)]
pub struct YearFigures {
    pub year: i64,
    pub reviewed: usize,
    pub approved: usize,
    pub budget_asked: i64,
    pub budget_approved: i64,
}

#[derive(Clone, Debug)]
pub struct Projects {
    admin: Admin,
    store: Store,
}

impl Projects {
    pub fn new(admin: Admin) -> Self {
        Projects {
            store: admin.store().clone(),
            admin,
        }
    }

    async fn require(&self, c: &Caller, p: &str, action: &str) -> Result<()> {
        c.require(&self.store, p, action, "it_project", None).await
    }

    /// Register a project for review.
    pub async fn register(
        &self,
        c: &Caller,
        name: &str,
        dept_id: i64,
        year: i64,
        budget_asked: i64,
        systems: &[String],
    ) -> Result<ProjectView> {
        const ACTION: &str = "project.register";
        self.require(c, perm::PROJECT_ADD, ACTION).await?;
        let vis = self.admin.visibility(c).await?;
        let check = (|| {
            if name.trim().is_empty() {
                return Err(Error::invalid("name", "is required"));
            }
            if !(2000..=2100).contains(&year) {
                return Err(Error::invalid("year", "must be a year"));
            }
            if budget_asked <= 0 {
                return Err(Error::invalid("budget_asked", "must be positive (yuan)"));
            }
            if !vis.sees_dept(dept_id) {
                return Err(Error::invalid(
                    "dept_id",
                    "no such department in your data scope",
                ));
            }
            Ok(())
        })();
        if let Err(e) = check {
            let _ = audit::record(
                &self.store,
                &c.entry(
                    ACTION,
                    "it_project",
                    None,
                    Outcome::Rejected,
                    e.field.clone(),
                ),
            )
            .await;
            return Err(e);
        }
        if departments::get(&self.store, dept_id).await?.is_none() {
            return Err(Error::invalid("dept_id", "no such department"));
        }
        let systems_json = serde_json_list(systems);
        let mut tx = self.store.write().await?;
        let id = store::insert_project(
            &mut tx,
            name.trim(),
            dept_id,
            year,
            budget_asked,
            &systems_json,
            &c.username,
        )
        .await?;
        audit::append(
            &mut tx,
            &c.entry(
                ACTION,
                "it_project",
                Some(id.to_string()),
                Outcome::Ok,
                None,
            ),
        )
        .await?;
        tx.commit().await?;
        self.view(
            store::get_project(&self.store, id)
                .await?
                .ok_or_else(|| Error::not_found("project"))?,
        )
        .await
    }

    /// The four checks, computed now.
    pub async fn checks(&self, row: &ProjectRow) -> Result<Vec<Check>> {
        let (catalogued, shared) = store::dept_catalog_counts(&self.store, row.dept_id).await?;
        let since = shuju_store::fmt_time(chrono::Utc::now() - chrono::Duration::days(365));
        let exchanged = store::dept_grants_since(&self.store, row.dept_id, &since).await?;
        let calls = store::dept_calls_since(&self.store, row.dept_id, &since).await?;
        let registered = store::dept_system_names(&self.store, row.dept_id).await?;
        let systems: Vec<String> = parse_list(&row.systems);
        let missing: Vec<&String> = systems.iter().filter(|s| !registered.contains(s)).collect();
        Ok(vec![
            Check {
                name: "catalogued",
                passed: catalogued > 0,
                detail: format!("{catalogued} published catalog entries"),
            },
            Check {
                name: "shared",
                passed: shared > 0,
                detail: if shared > 0 {
                    format!("{shared} entries shared")
                } else {
                    "the department shares nothing".into()
                },
            },
            Check {
                name: "exchanged",
                passed: exchanged + calls > 0,
                detail: format!(
                    "{exchanged} grants on its entries and {calls} calls answered through the gateway in the past year"
                ),
            },
            Check {
                name: "systems_registered",
                passed: missing.is_empty(),
                detail: if missing.is_empty() {
                    format!("{} systems registered", systems.len())
                } else {
                    format!(
                        "not registered: {}",
                        missing
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join("、")
                    )
                },
            },
        ])
    }

    async fn view(&self, row: ProjectRow) -> Result<ProjectView> {
        let checks = self.checks(&row).await?;
        let fundable = checks.iter().all(|c| c.passed);
        Ok(ProjectView {
            row,
            checks,
            fundable,
        })
    }

    pub async fn list(&self, c: &Caller, year: Option<i64>) -> Result<Vec<ProjectView>> {
        self.require(c, perm::PROJECT_LIST, "project.list").await?;
        let vis = self.admin.visibility(c).await?;
        let depts: Option<Vec<i64>> = (!vis.all).then(|| vis.depts.iter().copied().collect());
        let mut out = Vec::new();
        for r in store::list_projects(&self.store, year, depts.as_deref()).await? {
            out.push(self.view(r).await?);
        }
        Ok(out)
    }

    /// Record the reviewer's decision. A project that fails a check cannot be approved.
    pub async fn review(
        &self,
        c: &Caller,
        id: i64,
        approved_budget: Option<i64>,
        note: &str,
    ) -> Result<ProjectView> {
        const ACTION: &str = "project.review";
        self.require(c, perm::PROJECT_REVIEW, ACTION).await?;
        let row = store::get_project(&self.store, id)
            .await?
            .ok_or_else(|| Error::not_found("project"))?;
        let view = self.view(row).await?;
        let (status, budget) = match approved_budget {
            Some(_) if !view.fundable => {
                let failed: Vec<&str> = view
                    .checks
                    .iter()
                    .filter(|c| !c.passed)
                    .map(|c| c.name)
                    .collect();
                let e = Error::conflict(format!("not fundable: fails {}", failed.join(", ")));
                let _ = audit::record(
                    &self.store,
                    &c.entry(
                        ACTION,
                        "it_project",
                        Some(id.to_string()),
                        Outcome::Rejected,
                        Some(e.message.clone()),
                    ),
                )
                .await;
                return Err(e);
            }
            Some(b) if b <= 0 || b > view.row.budget_asked => {
                return Err(Error::invalid(
                    "approved_budget",
                    "must be positive and at most the budget asked",
                ));
            }
            Some(b) => ("approved", Some(b)),
            None => ("rejected", None),
        };
        if status == "rejected" && note.trim().is_empty() {
            return Err(Error::invalid("note", "a rejection needs a reason"));
        }
        let mut tx = self.store.write().await?;
        store::review_project(
            &mut tx,
            id,
            status,
            budget,
            Some(note.trim()).filter(|n| !n.is_empty()),
            &c.username,
        )
        .await?;
        audit::append(
            &mut tx,
            &c.entry(
                ACTION,
                "it_project",
                Some(id.to_string()),
                Outcome::Ok,
                Some(status.into()),
            ),
        )
        .await?;
        tx.commit().await?;
        self.view(
            store::get_project(&self.store, id)
                .await?
                .ok_or_else(|| Error::not_found("project"))?,
        )
        .await
    }

    /// Reviewed, approved, budget asked vs approved for a year.
    pub async fn figures(&self, c: &Caller, year: i64) -> Result<YearFigures> {
        self.require(c, perm::PROJECT_LIST, "project.figures")
            .await?;
        let rows = store::list_projects(&self.store, Some(year), None).await?;
        Ok(YearFigures {
            year,
            reviewed: rows.iter().filter(|r| r.status != "submitted").count(),
            approved: rows.iter().filter(|r| r.status == "approved").count(),
            budget_asked: rows.iter().map(|r| r.budget_asked).sum(),
            budget_approved: rows.iter().filter_map(|r| r.approved_budget).sum(),
        })
    }
}

fn serde_json_list(v: &[String]) -> String {
    serde_json::Value::from(
        v.iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>(),
    )
    .to_string()
}

fn parse_list(s: &str) -> Vec<String> {
    serde_json::from_str(s).unwrap_or_default()
}
