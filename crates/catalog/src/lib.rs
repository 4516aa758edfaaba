//! The government information resource catalog (政务信息资源目录).
//!
//! Every department registers what it holds here; nothing is shared, funded or gathered that is not
//! in the catalog. [`Catalog`] is the entry point: entries with the metadata of the 2017 编制指南
//! ([`model`]), the rules every write passes ([`rules`]), the lifecycle draft → submitted →
//! published → offline with versions and a review by the bureau, error correction (纠错), the
//! inventory of information systems, full-text search with facets ([`search`]), and Excel import
//! and export in the guide's layout ([`excel`]).
//!
//! Management (edit, submit, list one's own entries) follows the caller's data scope over the
//! provider department; the published catalog is readable by every department, since that is
//! what it is for.

/// The catalog's rows, as its pages and API read them.
pub mod rows {
    pub use shuju_store::catalog::{
        CorrectionRow, EntryFilter, EventRow, InfoSystem, InfoSystemFields, VersionRow,
    };
}
/// An entry by its resource code, for domains that act on a catalogued resource (bulk issuing).
pub use shuju_store::catalog::entry_by_code;
pub mod elements;
pub mod excel;
pub mod lake;
pub mod model;
pub mod rules;
pub mod search;

use model::{Entry, Status};
use search::{SearchHits, SearchIndex, SearchQuery};
use serde::{Deserialize, Serialize};
use shuju_admin::departments;
use shuju_admin::{Admin, Caller, Visibility, perm};
use shuju_store::audit::{self, Outcome};
use shuju_store::catalog::{
    self as store, CorrectionFilter, CorrectionRow, EntryFields, EntryFilter, EntryRow, EventRow,
    InfoSystem, InfoSystemFields, VersionRow,
};
use shuju_store::{Page, Paged, Store};
use shuju_types::{CodingProfile, Error, Result};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The `[catalog]` section of `shuju.toml`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CatalogConfig {
    /// How this province writes resource codes.
    pub coding: CodingProfile,
}

/// An entry with its state.
#[derive(Clone, Debug)]
pub struct EntryView {
    pub row: EntryRow,
    pub entry: Entry,
}

impl EntryView {
    fn from_row(row: EntryRow) -> Result<EntryView> {
        let entry = serde_json::from_str(&row.content).map_err(Error::internal)?;
        Ok(EntryView { row, entry })
    }
}

/// A difference between two versions of an entry.
#[derive(Clone, Debug, Serialize)]
pub struct FieldChange {
    /// A JSON path such as `items[2].sharing`.
    pub field: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// Which error reports to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CorrectionView {
    /// Reports on entries the caller's departments provide: to answer.
    ToAnswer,
    /// Reports the caller's departments made.
    Mine,
}

#[derive(Clone)]
pub struct Catalog {
    admin: Admin,
    store: Store,
    cfg: Arc<CatalogConfig>,
    index: Arc<SearchIndex>,
    synced: Arc<Mutex<(Option<String>, Instant)>>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("index", &self.index)
            .finish()
    }
}

const REFRESH_EVERY: Duration = Duration::from_secs(2);

/// One lifecycle step: who may take it, from which states, to which.
struct Step<'a> {
    action: &'a str,
    permission: &'a str,
    from: &'a [Status],
    to: Status,
    note: Option<String>,
    /// Only on entries the caller manages (providers), or on any entry (reviewers).
    managed: bool,
    /// When set, the step needs a reason; the message says so.
    needs_reason: Option<&'static str>,
}

impl Catalog {
    /// Open the catalog and build its search index from the database.
    pub async fn open(admin: Admin, cfg: CatalogConfig) -> Result<Catalog> {
        let store = admin.store().clone();
        let c = Catalog {
            admin,
            store,
            cfg: Arc::new(cfg),
            index: Arc::new(SearchIndex::new()?),
            synced: Arc::new(Mutex::new((None, Instant::now()))),
        };
        c.refresh_index(true).await?;
        Ok(c)
    }

    pub fn coding(&self) -> &CodingProfile {
        &self.cfg.coding
    }

    pub fn index(&self) -> &SearchIndex {
        &self.index
    }

    /// Bring the index up to date with writes made elsewhere (at most every two seconds unless
    /// `force`).
    pub async fn refresh_index(&self, force: bool) -> Result<()> {
        let since = {
            let g = self
                .synced
                .lock()
                .map_err(|_| Error::internal("lock poisoned"))?;
            if !force && g.1.elapsed() < REFRESH_EVERY {
                return Ok(());
            }
            g.0.clone()
        };
        let last = store::last_change(&self.store).await?;
        if last.is_some() && last == since && !force {
            if let Ok(mut g) = self.synced.lock() {
                g.1 = Instant::now();
            }
            return Ok(());
        }
        let rows = store::entries_changed_since(&self.store, since.as_deref()).await?;
        let deleted = match &since {
            Some(s) => store::entries_deleted_since(&self.store, s).await?,
            None => vec![],
        };
        self.index.apply(&rows, &deleted)?;
        if let Ok(mut g) = self.synced.lock() {
            *g = (last, Instant::now());
        }
        Ok(())
    }

    fn reindex(&self, row: &EntryRow) -> Result<()> {
        self.index.apply(std::slice::from_ref(row), &[])
    }

    async fn visibility(&self, c: &Caller) -> Result<Visibility> {
        self.admin.visibility(c).await
    }

    /// Refuse (and audit) unless the caller's data scope covers the provider of a published entry:
    /// a department delivers and maps only its own (and, by scope, its subordinates') data.
    pub async fn require_provider_in_scope(
        &self,
        c: &Caller,
        action: &str,
        entry: &EntryView,
    ) -> Result<()> {
        if self
            .visibility(c)
            .await?
            .sees_dept(entry.entry.provider_dept_id)
        {
            return Ok(());
        }
        Err(self
            .refuse(
                c,
                action,
                Some(entry.row.id),
                Error::forbidden("the entry's provider is outside your data scope"),
            )
            .await)
    }

    /// The provider ids the caller manages (`None`: all).
    async fn managed(&self, c: &Caller) -> Result<Option<Vec<i64>>> {
        let v = self.visibility(c).await?;
        Ok((!v.all).then(|| v.depts.iter().copied().collect()))
    }

    /// Check an entry against the rules and the database, and fill in what the platform knows.
    async fn validate(&self, c: &Caller, id: Option<i64>, mut e: Entry) -> Result<Entry> {
        e.name = e.name.trim().to_owned();
        e.code = e.code.trim().to_owned();
        let code = rules::check(&e, &self.cfg.coding)?;
        e.code = code.to_string();
        lake::check_elements(self, &e).await?;
        let vis = self.visibility(c).await?;
        let dept = departments::get(&self.store, e.provider_dept_id).await?;
        let Some(dept) = dept.filter(|d| vis.sees_dept(d.id)) else {
            return Err(Error::invalid(
                "provider_dept_id",
                "no such department in your data scope",
            ));
        };
        e.provider_name = dept.name.clone();
        e.provider_code = dept
            .uscc
            .clone()
            .or(dept.short_code.clone())
            .unwrap_or_else(|| dept.id.to_string());
        if let Some(sid) = e.system_id
            && store::get_system(&self.store, sid).await?.is_none()
        {
            return Err(Error::invalid("system_id", "no such information system"));
        }
        if let Some(other) = store::entry_by_code(&self.store, &e.code).await?
            && Some(other.id) != id
        {
            return Err(Error::invalid(
                "code",
                "another entry already has this code",
            ));
        }
        let found = store::existing_codes(&self.store, &e.related).await?;
        if let Some((i, _)) = e
            .related
            .iter()
            .enumerate()
            .find(|(_, r)| !found.contains(r))
        {
            return Err(Error::invalid(
                format!("related[{i}]"),
                "no catalog entry has this code",
            ));
        }
        Ok(e)
    }

    fn fields(
        e: &Entry,
        status: Status,
        version: i64,
        published: Option<i64>,
        note: Option<String>,
    ) -> Result<EntryFields> {
        Ok(EntryFields {
            code: e.code.clone(),
            name: e.name.clone(),
            provider_dept_id: e.provider_dept_id,
            status: status.key().into(),
            version,
            published_version: published,
            library: e.library.key().into(),
            sharing: e.sharing.kind.key().into(),
            update_cycle: e.update_cycle.key().into(),
            format: e.format.category.key().into(),
            attribute: format!("{:?}", e.attribute).to_lowercase(),
            system_id: e.system_id,
            content: serde_json::to_string(e).map_err(Error::internal)?,
            review_note: note,
        })
    }

    /// Register a new entry as a draft.
    pub async fn create(&self, c: &Caller, e: Entry) -> Result<EntryView> {
        const ACTION: &str = "catalog.create";
        self.admin_require(c, perm::CATALOG_ADD, ACTION).await?;
        let r = self.validate(c, None, e).await;
        let e = self.admin_checked(c, ACTION, None, r).await?;
        let f = Self::fields(&e, Status::Draft, 1, None, None)?;
        let mut tx = self.store.write().await?;
        let id = store::insert_entry(&mut tx, &f, &c.username).await?;
        store::insert_version(&mut tx, id, 1, &f.content, &c.username).await?;
        store::insert_event(&mut tx, id, 1, "create", None, "draft", None, &c.username).await?;
        audit::append(
            &mut tx,
            &c.entry(
                ACTION,
                "catalog_entry",
                Some(id.to_string()),
                Outcome::Ok,
                None,
            ),
        )
        .await?;
        tx.commit().await?;
        self.after_write(id).await
    }

    async fn after_write(&self, id: i64) -> Result<EntryView> {
        let row = store::get_entry(&self.store, id)
            .await?
            .ok_or_else(|| Error::not_found("catalog entry"))?;
        self.reindex(&row)?;
        EntryView::from_row(row)
    }

    /// An entry the caller manages (its provider is in the caller's data scope).
    async fn managed_entry(&self, c: &Caller, action: &str, id: i64) -> Result<EntryRow> {
        let vis = self.visibility(c).await?;
        match store::get_entry(&self.store, id).await? {
            Some(r) if vis.sees_dept(r.provider_dept_id) => Ok(r),
            _ => Err(self
                .refuse(c, action, Some(id), Error::not_found("catalog entry"))
                .await),
        }
    }

    /// Change an entry's content. A published entry keeps its published version visible while the
    /// change is a draft; a submitted entry must be returned or approved first.
    pub async fn update(&self, c: &Caller, id: i64, e: Entry) -> Result<EntryView> {
        const ACTION: &str = "catalog.update";
        self.admin_require(c, perm::CATALOG_EDIT, ACTION).await?;
        let row = self.managed_entry(c, ACTION, id).await?;
        if row.status == Status::Submitted.key() {
            let err = Error::conflict(
                "the entry is under review: wait for the reviewer, or ask them to return it",
            );
            return Err(self.refuse(c, ACTION, Some(id), err).await);
        }
        let mut e = e;
        if e.publish_date.is_none() {
            // The platform set it at first publication; an edit that omits it keeps it.
            e.publish_date = serde_json::from_str::<Entry>(&row.content)
                .ok()
                .and_then(|old| old.publish_date);
        }
        let r = self.validate(c, Some(id), e).await;
        let e = self.admin_checked(c, ACTION, Some(id), r).await?;
        let version = row.version + 1;
        let f = Self::fields(&e, Status::Draft, version, row.published_version, None)?;
        let mut tx = self.store.write().await?;
        store::update_entry(&mut tx, id, &f, &c.username).await?;
        store::insert_version(&mut tx, id, version, &f.content, &c.username).await?;
        store::insert_event(
            &mut tx,
            id,
            version,
            "update",
            Some(&row.status),
            "draft",
            None,
            &c.username,
        )
        .await?;
        audit::append(
            &mut tx,
            &c.entry(
                ACTION,
                "catalog_entry",
                Some(id.to_string()),
                Outcome::Ok,
                Some(format!("version {version}")),
            ),
        )
        .await?;
        tx.commit().await?;
        self.after_write(id).await
    }

    async fn transition(&self, c: &Caller, id: i64, step: Step<'_>) -> Result<EntryView> {
        let Step {
            action,
            permission,
            from,
            to,
            note,
            managed,
            needs_reason,
        } = step;
        let audit_action = format!("catalog.{action}");
        self.admin_require(c, permission, &audit_action).await?;
        if let Some(msg) = needs_reason
            && note.as_deref().is_none_or(|n| n.trim().is_empty())
        {
            return Err(self
                .refuse(c, &audit_action, Some(id), Error::invalid("reason", msg))
                .await);
        }
        let row = if managed {
            self.managed_entry(c, &audit_action, id).await?
        } else {
            match store::get_entry(&self.store, id).await? {
                Some(r) => r,
                None => {
                    return Err(self
                        .refuse(
                            c,
                            &audit_action,
                            Some(id),
                            Error::not_found("catalog entry"),
                        )
                        .await);
                }
            }
        };
        let current = Status::parse(&row.status).unwrap_or(Status::Draft);
        let never_published = to == Status::Offline && row.published_version.is_none();
        if !from.contains(&current) || never_published {
            let err = Error::conflict(format!(
                "cannot {action} an entry that is {}",
                current.key()
            ));
            return Err(self.refuse(c, &audit_action, Some(id), err).await);
        }
        let mut entry: Entry = serde_json::from_str(&row.content).map_err(Error::internal)?;
        let mut version = row.version;
        let mut published = row.published_version;
        let mut content_changed = false;
        match to {
            Status::Published => {
                if entry.publish_date.is_none() {
                    entry.publish_date = Some(chrono::Utc::now().format("%Y-%m-%d").to_string());
                    version += 1;
                    content_changed = true;
                }
                published = Some(version);
            }
            Status::Offline => published = None,
            _ => {}
        }
        let mut f = Self::fields(&entry, to, version, published, note.clone())?;
        if to == Status::Draft && action == "submit" {
            f.review_note = None;
        }
        let mut tx = self.store.write().await?;
        store::update_entry(&mut tx, id, &f, &c.username).await?;
        if content_changed {
            store::insert_version(&mut tx, id, version, &f.content, &c.username).await?;
        }
        store::insert_event(
            &mut tx,
            id,
            version,
            action,
            Some(&row.status),
            to.key(),
            note.as_deref(),
            &c.username,
        )
        .await?;
        audit::append(
            &mut tx,
            &c.entry(
                &audit_action,
                "catalog_entry",
                Some(id.to_string()),
                Outcome::Ok,
                None,
            ),
        )
        .await?;
        tx.commit().await?;
        self.after_write(id).await
    }

    /// Provider: submit a draft for review.
    pub async fn submit(&self, c: &Caller, id: i64) -> Result<EntryView> {
        self.transition(
            c,
            id,
            Step {
                action: "submit",
                permission: perm::CATALOG_SUBMIT,
                from: &[Status::Draft],
                to: Status::Submitted,
                note: None,
                managed: true,
                needs_reason: None,
            },
        )
        .await
    }

    /// Reviewer at the bureau: publish a submitted entry.
    pub async fn approve(&self, c: &Caller, id: i64) -> Result<EntryView> {
        self.transition(
            c,
            id,
            Step {
                action: "approve",
                permission: perm::CATALOG_REVIEW,
                from: &[Status::Submitted],
                to: Status::Published,
                note: None,
                managed: false,
                needs_reason: None,
            },
        )
        .await
    }

    /// Reviewer: send a submitted entry back to its provider, with the reason.
    pub async fn return_entry(&self, c: &Caller, id: i64, reason: &str) -> Result<EntryView> {
        let step = Step {
            action: "return",
            permission: perm::CATALOG_REVIEW,
            from: &[Status::Submitted],
            to: Status::Draft,
            note: Some(reason.trim().to_owned()),
            managed: false,
            needs_reason: Some("a returned entry needs a reason"),
        };
        self.transition(c, id, step).await
    }

    /// Take a published entry offline, with the reason.
    pub async fn offline(&self, c: &Caller, id: i64, reason: &str) -> Result<EntryView> {
        let step = Step {
            action: "offline",
            permission: perm::CATALOG_OFFLINE,
            from: &[Status::Published, Status::Draft],
            to: Status::Offline,
            note: Some(reason.trim().to_owned()),
            managed: !c.can(perm::CATALOG_REVIEW),
            needs_reason: Some("taking an entry offline needs a reason"),
        };
        self.transition(c, id, step).await
    }

    /// Remove a draft that was never published.
    pub async fn delete(&self, c: &Caller, id: i64) -> Result<()> {
        const ACTION: &str = "catalog.delete";
        self.admin_require(c, perm::CATALOG_REMOVE, ACTION).await?;
        let row = self.managed_entry(c, ACTION, id).await?;
        if row.published_version.is_some() || row.status == Status::Published.key() {
            let err = Error::conflict("a published entry is taken offline, not deleted");
            return Err(self.refuse(c, ACTION, Some(id), err).await);
        }
        let mut tx = self.store.write().await?;
        store::soft_delete_entry(&mut tx, id, &c.username).await?;
        store::insert_event(
            &mut tx,
            id,
            row.version,
            "delete",
            Some(&row.status),
            &row.status,
            None,
            &c.username,
        )
        .await?;
        audit::append(
            &mut tx,
            &c.entry(
                ACTION,
                "catalog_entry",
                Some(id.to_string()),
                Outcome::Ok,
                None,
            ),
        )
        .await?;
        tx.commit().await?;
        self.index.apply(&[], &[id])
    }

    /// One entry: the caller's own in any state, anyone's when published.
    pub async fn get(&self, c: &Caller, id: i64) -> Result<EntryView> {
        self.admin_require(c, perm::CATALOG_LIST, "catalog.read")
            .await?;
        let vis = self.visibility(c).await?;
        match store::get_entry(&self.store, id).await? {
            Some(r) if vis.sees_dept(r.provider_dept_id) => EntryView::from_row(r),
            Some(r) if r.published_version.is_some() => self.published_view(r).await,
            _ => Err(Error::not_found("catalog entry")),
        }
    }

    /// The published version of an entry, as other departments see it.
    async fn published_view(&self, mut r: EntryRow) -> Result<EntryView> {
        if let Some(v) = r.published_version
            && v != r.version
            && let Some(pv) = store::get_version(&self.store, r.id, v).await?
        {
            r.content = pv.content;
            r.version = v;
            r.status = Status::Published.key().into();
        }
        EntryView::from_row(r)
    }

    /// A published entry by id or code, for the public faces (CKAN, DCAT).
    pub async fn published(&self, id_or_code: &str) -> Result<EntryView> {
        let row = match id_or_code.parse::<i64>() {
            Ok(id) => store::get_entry(&self.store, id).await?,
            Err(_) => store::entry_by_code(&self.store, id_or_code).await?,
        };
        match row {
            Some(r) if r.published_version.is_some() => self.published_view(r).await,
            _ => Err(Error::not_found("catalog entry")),
        }
    }

    /// Entries the caller manages, newest change first.
    pub async fn list_managed(
        &self,
        c: &Caller,
        mut f: EntryFilter,
        under: Option<i64>,
        page: Page,
    ) -> Result<Paged<EntryView>> {
        self.admin_require(c, perm::CATALOG_LIST, "catalog.list")
            .await?;
        f.providers = self.managed(c).await?;
        if let Some(u) = under {
            let sub = self.admin.dept_tree().await?.subtree(u);
            f.providers = Some(match f.providers {
                Some(v) => v.into_iter().filter(|x| sub.contains(x)).collect(),
                None => sub.into_iter().collect(),
            });
        }
        let p = store::list_entries(&self.store, &f, page).await?;
        let items = p
            .items
            .into_iter()
            .map(EntryView::from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Paged {
            total: p.total,
            page: p.page,
            size: p.size,
            items,
        })
    }

    /// Full-text search with facets. `mine` limits it to the entries the caller manages (any
    /// state); otherwise it searches the published catalog.
    pub async fn search(
        &self,
        c: &Caller,
        mut q: SearchQuery,
        mine: bool,
        under: Option<i64>,
    ) -> Result<(SearchHits, Vec<EntryView>)> {
        self.admin_require(c, perm::CATALOG_LIST, "catalog.search")
            .await?;
        if mine {
            q.providers = self.managed(c).await?;
        } else {
            q.published_only = true;
        }
        if let Some(u) = under {
            let sub = self.admin.dept_tree().await?.subtree(u);
            q.providers = Some(match q.providers {
                Some(v) => v.into_iter().filter(|x| sub.contains(x)).collect(),
                None => sub.into_iter().collect(),
            });
        }
        self.search_unchecked(&q).await
    }

    /// Search without a caller (the public faces and benchmarks): the caller has filled the query.
    pub async fn search_unchecked(&self, q: &SearchQuery) -> Result<(SearchHits, Vec<EntryView>)> {
        self.refresh_index(false).await?;
        let hits = self.index.search(q)?;
        let mut views = Vec::with_capacity(hits.ids.len());
        for id in &hits.ids {
            if let Some(r) = store::get_entry(&self.store, *id).await? {
                views.push(if q.published_only {
                    self.published_view(r).await?
                } else {
                    EntryView::from_row(r)?
                });
            }
        }
        Ok((hits, views))
    }

    /// The versions of an entry (content snapshots) and its lifecycle events.
    pub async fn history(&self, c: &Caller, id: i64) -> Result<(Vec<VersionRow>, Vec<EventRow>)> {
        self.get(c, id).await?;
        let vis = self.visibility(c).await?;
        let row = store::get_entry(&self.store, id)
            .await?
            .ok_or_else(|| Error::not_found("catalog entry"))?;
        let mut versions = store::list_versions(&self.store, id).await?;
        if !vis.sees_dept(row.provider_dept_id) {
            // Others see the published versions' history only.
            let published = row.published_version.unwrap_or(0);
            versions.retain(|v| v.version <= published);
        }
        Ok((versions, store::list_events(&self.store, id).await?))
    }

    /// What changed between two versions.
    pub async fn compare(&self, c: &Caller, id: i64, a: i64, b: i64) -> Result<Vec<FieldChange>> {
        let (versions, _) = self.history(c, id).await?;
        let find = |v: i64| {
            versions
                .iter()
                .find(|x| x.version == v)
                .ok_or_else(|| Error::invalid("version", format!("entry has no version {v}")))
                .and_then(|x| {
                    serde_json::from_str::<serde_json::Value>(&x.content).map_err(Error::internal)
                })
        };
        let (va, vb) = (find(a)?, find(b)?);
        let mut out = Vec::new();
        diff("", &va, &vb, &mut out);
        Ok(out)
    }

    // ------------------------------------------------------------------ corrections

    /// Any department reports an error in a published entry.
    pub async fn report_error(
        &self,
        c: &Caller,
        entry_id: i64,
        description: &str,
    ) -> Result<CorrectionRow> {
        const ACTION: &str = "catalog.correction.report";
        self.admin_require(c, perm::CORRECTION_ADD, ACTION).await?;
        let d = description.trim();
        if d.is_empty() || d.chars().count() > 2000 {
            return Err(self
                .refuse(
                    c,
                    ACTION,
                    Some(entry_id),
                    Error::invalid("description", "must be 1 to 2000 characters"),
                )
                .await);
        }
        match store::get_entry(&self.store, entry_id).await? {
            Some(r) if r.published_version.is_some() => {}
            _ => {
                return Err(self
                    .refuse(
                        c,
                        ACTION,
                        Some(entry_id),
                        Error::invalid("entry_id", "no such published entry"),
                    )
                    .await);
            }
        }
        let mut tx = self.store.write().await?;
        let id = store::insert_correction(&mut tx, entry_id, &c.username, c.dept_id, d).await?;
        audit::append(
            &mut tx,
            &c.entry(
                ACTION,
                "catalog_correction",
                Some(id.to_string()),
                Outcome::Ok,
                Some(format!("entry {entry_id}")),
            ),
        )
        .await?;
        tx.commit().await?;
        store::get_correction(&self.store, id)
            .await?
            .ok_or_else(|| Error::not_found("correction"))
    }

    /// The provider answers a report.
    pub async fn answer_error(&self, c: &Caller, id: i64, answer: &str) -> Result<CorrectionRow> {
        const ACTION: &str = "catalog.correction.answer";
        self.admin_require(c, perm::CORRECTION_ANSWER, ACTION)
            .await?;
        let Some(corr) = store::get_correction(&self.store, id).await? else {
            return Err(self
                .refuse(c, ACTION, Some(id), Error::not_found("correction"))
                .await);
        };
        self.managed_entry(c, ACTION, corr.entry_id).await?;
        let a = answer.trim();
        if a.is_empty() || a.chars().count() > 2000 {
            return Err(self
                .refuse(
                    c,
                    ACTION,
                    Some(id),
                    Error::invalid("answer", "must be 1 to 2000 characters"),
                )
                .await);
        }
        if corr.status == "answered" {
            return Err(self
                .refuse(
                    c,
                    ACTION,
                    Some(id),
                    Error::conflict("the report is already answered"),
                )
                .await);
        }
        let mut tx = self.store.write().await?;
        store::answer_correction(&mut tx, id, a, &c.username).await?;
        audit::append(
            &mut tx,
            &c.entry(
                ACTION,
                "catalog_correction",
                Some(id.to_string()),
                Outcome::Ok,
                None,
            ),
        )
        .await?;
        tx.commit().await?;
        store::get_correction(&self.store, id)
            .await?
            .ok_or_else(|| Error::not_found("correction"))
    }

    pub async fn corrections(
        &self,
        c: &Caller,
        view: CorrectionView,
        status: Option<String>,
        page: Page,
    ) -> Result<Paged<CorrectionRow>> {
        self.admin_require(c, perm::CATALOG_LIST, "catalog.correction.list")
            .await?;
        let managed = self.managed(c).await?;
        let f = match view {
            CorrectionView::ToAnswer => CorrectionFilter {
                status,
                providers: managed,
                ..Default::default()
            },
            CorrectionView::Mine => CorrectionFilter {
                status,
                reporters: Some(c.dept_id.into_iter().collect()),
                ..Default::default()
            },
        };
        store::list_corrections(&self.store, &f, page).await
    }

    // ------------------------------------------------------------------ information systems

    fn system_fields(f: &InfoSystemFields) -> Result<InfoSystemFields> {
        let name = f.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Error::invalid("name", "must be 1 to 100 characters"));
        }
        if !["gov_cloud", "self_hosted", "other"].contains(&f.hosting.as_str()) {
            return Err(Error::invalid(
                "hosting",
                "must be gov_cloud, self_hosted or other",
            ));
        }
        let status = if f.status.is_empty() {
            "active".to_owned()
        } else {
            f.status.clone()
        };
        if !["active", "retired"].contains(&status.as_str()) {
            return Err(Error::invalid("status", "must be active or retired"));
        }
        Ok(InfoSystemFields {
            name: name.into(),
            status,
            description: f.description.clone().filter(|d| !d.trim().is_empty()),
            ..f.clone()
        })
    }

    async fn check_owner(&self, c: &Caller, owner: i64) -> Result<()> {
        let vis = self.visibility(c).await?;
        if departments::get(&self.store, owner).await?.is_none() || !vis.sees_dept(owner) {
            return Err(Error::invalid(
                "owner_dept_id",
                "no such department in your data scope",
            ));
        }
        Ok(())
    }

    pub async fn create_system(&self, c: &Caller, f: InfoSystemFields) -> Result<InfoSystem> {
        const ACTION: &str = "catalog.system.create";
        self.admin_require(c, perm::SYSTEM_ADD, ACTION).await?;
        let r = match Self::system_fields(&f) {
            Ok(f) => self.check_owner(c, f.owner_dept_id).await.map(|()| f),
            Err(e) => Err(e),
        };
        let f = self.admin_checked(c, ACTION, None, r).await?;
        let mut tx = self.store.write().await?;
        let id = store::insert_system(&mut tx, &f, &c.username).await?;
        audit::append(
            &mut tx,
            &c.entry(
                ACTION,
                "info_system",
                Some(id.to_string()),
                Outcome::Ok,
                None,
            ),
        )
        .await?;
        tx.commit().await?;
        store::get_system(&self.store, id)
            .await?
            .ok_or_else(|| Error::not_found("information system"))
    }

    pub async fn update_system(
        &self,
        c: &Caller,
        id: i64,
        f: InfoSystemFields,
    ) -> Result<InfoSystem> {
        const ACTION: &str = "catalog.system.update";
        self.admin_require(c, perm::SYSTEM_EDIT, ACTION).await?;
        let existing = store::get_system(&self.store, id).await?;
        let vis = self.visibility(c).await?;
        if !existing.is_some_and(|s| vis.sees_dept(s.owner_dept_id)) {
            return Err(self
                .refuse(c, ACTION, Some(id), Error::not_found("information system"))
                .await);
        }
        let r = match Self::system_fields(&f) {
            Ok(f) => self.check_owner(c, f.owner_dept_id).await.map(|()| f),
            Err(e) => Err(e),
        };
        let f = self.admin_checked(c, ACTION, Some(id), r).await?;
        let mut tx = self.store.write().await?;
        store::update_system(&mut tx, id, &f, &c.username).await?;
        audit::append(
            &mut tx,
            &c.entry(
                ACTION,
                "info_system",
                Some(id.to_string()),
                Outcome::Ok,
                None,
            ),
        )
        .await?;
        tx.commit().await?;
        store::get_system(&self.store, id)
            .await?
            .ok_or_else(|| Error::not_found("information system"))
    }

    pub async fn list_systems(
        &self,
        c: &Caller,
        name: Option<&str>,
        page: Page,
    ) -> Result<Paged<InfoSystem>> {
        self.admin_require(c, perm::SYSTEM_LIST, "catalog.system.list")
            .await?;
        let managed = self.managed(c).await?;
        store::list_systems(&self.store, managed.as_deref(), name, page).await
    }

    /// The name of an information system, shown beside an entry the caller already reads.
    pub async fn system_name(&self, id: i64) -> Result<Option<String>> {
        Ok(store::get_system(&self.store, id).await?.map(|s| s.name))
    }

    /// How many entries each information system produces, by system id.
    pub async fn entries_per_system(&self) -> Result<std::collections::HashMap<i64, i64>> {
        Ok(store::entries_per_system(&self.store)
            .await?
            .into_iter()
            .collect())
    }

    /// Figures for the home page: (entries, published entries, systems, systems on the government cloud).
    pub async fn figures(&self) -> Result<(i64, i64, i64, i64)> {
        let (entries, published) = store::entry_counts(&self.store).await?;
        let (systems, cloud) = store::system_counts(&self.store).await?;
        Ok((entries, published, systems, cloud))
    }

    // ------------------------------------------------------------------ helpers

    async fn admin_require(&self, c: &Caller, p: &str, action: &str) -> Result<()> {
        if c.can(p) {
            return Ok(());
        }
        Err(self
            .refuse(
                c,
                action,
                None,
                Error::forbidden(format!("missing permission {p}")),
            )
            .await)
    }

    async fn refuse(&self, c: &Caller, action: &str, id: Option<i64>, err: Error) -> Error {
        let outcome = match err.code {
            shuju_types::ErrorCode::PermissionDenied => Outcome::Denied,
            shuju_types::ErrorCode::Internal | shuju_types::ErrorCode::Unavailable => return err,
            _ => Outcome::Rejected,
        };
        let detail = err
            .field
            .as_ref()
            .map(|f| format!("field: {f}"))
            .or_else(|| Some(err.code.as_str().into()));
        let entry = c.entry(
            action,
            "catalog_entry",
            id.map(|i| i.to_string()),
            outcome,
            detail,
        );
        if let Err(e) = audit::record(&self.store, &entry).await {
            tracing::error!(error = %e.report(), "could not audit a refusal");
        }
        err
    }

    async fn admin_checked<T>(
        &self,
        c: &Caller,
        action: &str,
        id: Option<i64>,
        r: Result<T>,
    ) -> Result<T> {
        match r {
            Ok(v) => Ok(v),
            Err(e) => Err(self.refuse(c, action, id, e).await),
        }
    }
}

/// Walk two JSON values and list the leaves that differ.
fn diff(path: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<FieldChange>) {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => diff(&p, u, v, out),
                    (u, v) => out.push(FieldChange {
                        field: p,
                        before: u.cloned(),
                        after: v.cloned(),
                    }),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for i in 0..x.len().max(y.len()) {
                let p = format!("{path}[{i}]");
                match (x.get(i), y.get(i)) {
                    (Some(u), Some(v)) => diff(&p, u, v, out),
                    (u, v) => out.push(FieldChange {
                        field: p,
                        before: u.cloned(),
                        after: v.cloned(),
                    }),
                }
            }
        }
        _ if a != b => out.push(FieldChange {
            field: path.to_owned(),
            before: Some(a.clone()),
            after: Some(b.clone()),
        }),
        _ => {}
    }
}

impl Catalog {
    /// A page of the published catalog (its published versions), for the public faces.
    pub async fn list_published(&self, page: Page) -> Result<Paged<EntryView>> {
        let f = EntryFilter {
            published_only: true,
            ..Default::default()
        };
        let p = store::list_entries(&self.store, &f, page).await?;
        let mut items = Vec::with_capacity(p.items.len());
        for r in p.items {
            items.push(self.published_view(r).await?);
        }
        Ok(Paged {
            total: p.total,
            page: p.page,
            size: p.size,
            items,
        })
    }
}
