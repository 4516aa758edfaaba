//! Tables of the resource catalog: information systems, entries with their content versions and
//! lifecycle events, and error-correction reports.

use crate::sql::{Sql, paged};
use crate::{Page, Paged, Store, WriteTx, now};
use shuju_types::Result;

#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct InfoSystem {
    pub id: i64,
    pub name: String,
    pub owner_dept_id: i64,
    /// gov_cloud | self_hosted | other
    pub hosting: String,
    pub status: String,
    pub description: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_by: String,
    pub updated_at: String,
}

#[derive(Clone, Debug, Default)]
pub struct InfoSystemFields {
    pub name: String,
    pub owner_dept_id: i64,
    pub hosting: String,
    pub status: String,
    pub description: Option<String>,
}

const SYS_COLS: &str = "id, name, owner_dept_id, hosting, status, description, created_by, created_at, updated_by, updated_at";

pub async fn insert_system(tx: &mut WriteTx, f: &InfoSystemFields, actor: &str) -> Result<i64> {
    let t = now();
    let mut q = Sql::new(
        "INSERT INTO info_systems (name, owner_dept_id, hosting, status, description, created_by, created_at, updated_by, updated_at) VALUES (",
    );
    q.bind(&f.name)
        .push(", ")
        .bind(f.owner_dept_id)
        .push(", ")
        .bind(&f.hosting)
        .push(", ")
        .bind(&f.status)
        .push(", ")
        .bind(f.description.clone())
        .push(", ")
        .bind(actor)
        .push(", ")
        .bind(&t)
        .push(", ")
        .bind(actor)
        .push(", ")
        .bind(&t)
        .push(") RETURNING id");
    q.fetch_scalar_i64(&mut *tx.conn()).await
}

pub async fn update_system(
    tx: &mut WriteTx,
    id: i64,
    f: &InfoSystemFields,
    actor: &str,
) -> Result<u64> {
    let mut q = Sql::new("UPDATE info_systems SET name = ");
    q.bind(&f.name)
        .push(", owner_dept_id = ")
        .bind(f.owner_dept_id)
        .push(", hosting = ")
        .bind(&f.hosting)
        .push(", status = ")
        .bind(&f.status)
        .push(", description = ")
        .bind(f.description.clone())
        .push(", updated_by = ")
        .bind(actor)
        .push(", updated_at = ")
        .bind(now())
        .push(" WHERE deleted_at IS NULL AND id = ")
        .bind(id);
    q.execute(tx.conn()).await
}

pub async fn get_system(store: &Store, id: i64) -> Result<Option<InfoSystem>> {
    let mut q = Sql::new(&format!(
        "SELECT {SYS_COLS} FROM info_systems WHERE deleted_at IS NULL AND id = "
    ));
    q.bind(id);
    q.fetch_optional(store.pool()).await
}

pub async fn list_systems(
    store: &Store,
    owners: Option<&[i64]>,
    name: Option<&str>,
    page: Page,
) -> Result<Paged<InfoSystem>> {
    let mut from = Sql::new(" FROM info_systems WHERE deleted_at IS NULL");
    if let Some(n) = name.filter(|s| !s.is_empty()) {
        from.push(" AND name LIKE ").bind(format!("%{n}%"));
    }
    if let Some(ids) = owners {
        if ids.is_empty() {
            from.push(" AND 1 = 0");
        } else {
            from.push(" AND owner_dept_id IN ").bind_list(ids);
        }
    }
    paged(
        store.pool(),
        &format!("SELECT {SYS_COLS}"),
        &from,
        " ORDER BY id",
        page,
    )
    .await
}

/// (all systems, systems on the government cloud)
pub async fn system_counts(store: &Store) -> Result<(i64, i64)> {
    let all = Sql::new("SELECT COUNT(*) FROM info_systems WHERE deleted_at IS NULL")
        .fetch_scalar_i64(store.pool())
        .await?;
    let cloud = Sql::new(
        "SELECT COUNT(*) FROM info_systems WHERE deleted_at IS NULL AND hosting = 'gov_cloud'",
    )
    .fetch_scalar_i64(store.pool())
    .await?;
    Ok((all, cloud))
}

/// An entry as stored.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct EntryRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub provider_dept_id: i64,
    pub status: String,
    pub version: i64,
    pub published_version: Option<i64>,
    pub library: String,
    pub sharing: String,
    pub update_cycle: String,
    pub format: String,
    pub attribute: String,
    pub system_id: Option<i64>,
    /// The newest content, JSON.
    pub content: String,
    pub review_note: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_by: String,
    pub updated_at: String,
}

/// The columns a write sets.
#[derive(Clone, Debug, Default)]
pub struct EntryFields {
    pub code: String,
    pub name: String,
    pub provider_dept_id: i64,
    pub status: String,
    pub version: i64,
    pub published_version: Option<i64>,
    pub library: String,
    pub sharing: String,
    pub update_cycle: String,
    pub format: String,
    pub attribute: String,
    pub system_id: Option<i64>,
    pub content: String,
    pub review_note: Option<String>,
}

const ENTRY_COLS: &str = "id, code, name, provider_dept_id, status, version, published_version, library, sharing, update_cycle, format, attribute, system_id, content, review_note, created_by, created_at, updated_by, updated_at";

pub async fn insert_entry(tx: &mut WriteTx, f: &EntryFields, actor: &str) -> Result<i64> {
    let t = now();
    let mut q = Sql::new(
        "INSERT INTO catalog_entries (code, name, provider_dept_id, status, version, published_version, library, sharing, update_cycle, format, attribute, system_id, content, review_note, created_by, created_at, updated_by, updated_at) VALUES (",
    );
    q.bind(&f.code)
        .push(", ")
        .bind(&f.name)
        .push(", ")
        .bind(f.provider_dept_id)
        .push(", ")
        .bind(&f.status)
        .push(", ")
        .bind(f.version)
        .push(", ")
        .bind(f.published_version)
        .push(", ")
        .bind(&f.library)
        .push(", ")
        .bind(&f.sharing)
        .push(", ")
        .bind(&f.update_cycle)
        .push(", ")
        .bind(&f.format)
        .push(", ")
        .bind(&f.attribute)
        .push(", ")
        .bind(f.system_id)
        .push(", ")
        .bind(&f.content)
        .push(", ")
        .bind(f.review_note.clone())
        .push(", ")
        .bind(actor)
        .push(", ")
        .bind(&t)
        .push(", ")
        .bind(actor)
        .push(", ")
        .bind(&t)
        .push(") RETURNING id");
    q.fetch_scalar_i64(&mut *tx.conn()).await
}

pub async fn update_entry(tx: &mut WriteTx, id: i64, f: &EntryFields, actor: &str) -> Result<u64> {
    let mut q = Sql::new("UPDATE catalog_entries SET code = ");
    q.bind(&f.code)
        .push(", name = ")
        .bind(&f.name)
        .push(", provider_dept_id = ")
        .bind(f.provider_dept_id)
        .push(", status = ")
        .bind(&f.status)
        .push(", version = ")
        .bind(f.version)
        .push(", published_version = ")
        .bind(f.published_version)
        .push(", library = ")
        .bind(&f.library)
        .push(", sharing = ")
        .bind(&f.sharing)
        .push(", update_cycle = ")
        .bind(&f.update_cycle)
        .push(", format = ")
        .bind(&f.format)
        .push(", attribute = ")
        .bind(&f.attribute)
        .push(", system_id = ")
        .bind(f.system_id)
        .push(", content = ")
        .bind(&f.content)
        .push(", review_note = ")
        .bind(f.review_note.clone())
        .push(", updated_by = ")
        .bind(actor)
        .push(", updated_at = ")
        .bind(now())
        .push(" WHERE deleted_at IS NULL AND id = ")
        .bind(id);
    q.execute(tx.conn()).await
}

pub async fn soft_delete_entry(tx: &mut WriteTx, id: i64, actor: &str) -> Result<u64> {
    crate::sql::soft_delete(tx, "catalog_entries", id, actor).await
}

pub async fn get_entry(store: &Store, id: i64) -> Result<Option<EntryRow>> {
    let mut q = Sql::new(&format!(
        "SELECT {ENTRY_COLS} FROM catalog_entries WHERE deleted_at IS NULL AND id = "
    ));
    q.bind(id);
    q.fetch_optional(store.pool()).await
}

pub async fn entry_by_code(store: &Store, code: &str) -> Result<Option<EntryRow>> {
    let mut q = Sql::new(&format!(
        "SELECT {ENTRY_COLS} FROM catalog_entries WHERE deleted_at IS NULL AND code = "
    ));
    q.bind(code);
    q.fetch_optional(store.pool()).await
}

/// Which of these codes belong to live entries.
pub async fn existing_codes(store: &Store, codes: &[String]) -> Result<Vec<String>> {
    if codes.is_empty() {
        return Ok(vec![]);
    }
    #[derive(sqlx::FromRow)]
    struct CodeRow {
        code: String,
    }
    let mut out = Vec::new();
    for chunk in codes.chunks(500) {
        let mut q =
            Sql::new("SELECT code FROM catalog_entries WHERE deleted_at IS NULL AND code IN ");
        q.bind_list(chunk);
        let rows: Vec<CodeRow> = q.fetch_all(store.pool()).await?;
        out.extend(rows.into_iter().map(|r| r.code));
    }
    Ok(out)
}

#[derive(Clone, Debug, Default)]
pub struct EntryFilter {
    pub name: Option<String>,
    pub status: Option<String>,
    pub providers: Option<Vec<i64>>,
    pub published_only: bool,
}

pub async fn list_entries(store: &Store, f: &EntryFilter, page: Page) -> Result<Paged<EntryRow>> {
    let mut from = Sql::new(" FROM catalog_entries WHERE deleted_at IS NULL");
    if let Some(n) = f.name.as_deref().filter(|s| !s.is_empty()) {
        from.push(" AND (name LIKE ")
            .bind(format!("%{n}%"))
            .push(" OR code LIKE ")
            .bind(format!("{n}%"))
            .push(")");
    }
    if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
        from.push(" AND status = ").bind(s);
    }
    if f.published_only {
        from.push(" AND published_version IS NOT NULL");
    }
    if let Some(ids) = &f.providers {
        if ids.is_empty() {
            from.push(" AND 1 = 0");
        } else {
            from.push(" AND provider_dept_id IN ").bind_list(ids);
        }
    }
    paged(
        store.pool(),
        &format!("SELECT {ENTRY_COLS}"),
        &from,
        " ORDER BY updated_at DESC, id DESC",
        page,
    )
    .await
}

/// Live entries changed after `since` (an RFC 3339 time; `None` for all), oldest change first.
pub async fn entries_changed_since(store: &Store, since: Option<&str>) -> Result<Vec<EntryRow>> {
    let mut q = Sql::new(&format!(
        "SELECT {ENTRY_COLS} FROM catalog_entries WHERE deleted_at IS NULL"
    ));
    if let Some(s) = since {
        q.push(" AND updated_at >= ").bind(s);
    }
    q.push(" ORDER BY updated_at, id");
    q.fetch_all(store.pool()).await
}

/// Ids of entries deleted after `since`.
pub async fn entries_deleted_since(store: &Store, since: &str) -> Result<Vec<i64>> {
    #[derive(sqlx::FromRow)]
    struct IdRow {
        id: i64,
    }
    let mut q =
        Sql::new("SELECT id FROM catalog_entries WHERE deleted_at IS NOT NULL AND deleted_at >= ");
    q.bind(since);
    let rows: Vec<IdRow> = q.fetch_all(store.pool()).await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// The newest change time of the catalog (for index freshness).
pub async fn last_change(store: &Store) -> Result<Option<String>> {
    #[derive(sqlx::FromRow)]
    struct T {
        t: Option<String>,
    }
    let q = Sql::new("SELECT MAX(COALESCE(deleted_at, updated_at)) AS t FROM catalog_entries");
    Ok(q.fetch_optional::<T, _>(store.pool())
        .await?
        .and_then(|r| r.t))
}

/// (entries, published entries) by status counts.
pub async fn entry_counts(store: &Store) -> Result<(i64, i64)> {
    let all = Sql::new("SELECT COUNT(*) FROM catalog_entries WHERE deleted_at IS NULL")
        .fetch_scalar_i64(store.pool())
        .await?;
    let published = Sql::new("SELECT COUNT(*) FROM catalog_entries WHERE deleted_at IS NULL AND published_version IS NOT NULL")
        .fetch_scalar_i64(store.pool())
        .await?;
    Ok((all, published))
}

pub async fn insert_version(
    tx: &mut WriteTx,
    entry_id: i64,
    version: i64,
    content: &str,
    actor: &str,
) -> Result<()> {
    let mut q = Sql::new(
        "INSERT INTO catalog_versions (entry_id, version, content, created_by, created_at) VALUES (",
    );
    q.bind(entry_id)
        .push(", ")
        .bind(version)
        .push(", ")
        .bind(content)
        .push(", ")
        .bind(actor)
        .push(", ")
        .bind(now())
        .push(")");
    q.execute(tx.conn()).await.map(|_| ())
}

#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct VersionRow {
    pub entry_id: i64,
    pub version: i64,
    pub content: String,
    pub created_by: String,
    pub created_at: String,
}

pub async fn get_version(store: &Store, entry_id: i64, version: i64) -> Result<Option<VersionRow>> {
    let mut q = Sql::new(
        "SELECT entry_id, version, content, created_by, created_at FROM catalog_versions WHERE entry_id = ",
    );
    q.bind(entry_id).push(" AND version = ").bind(version);
    q.fetch_optional(store.pool()).await
}

pub async fn list_versions(store: &Store, entry_id: i64) -> Result<Vec<VersionRow>> {
    let mut q = Sql::new(
        "SELECT entry_id, version, content, created_by, created_at FROM catalog_versions WHERE entry_id = ",
    );
    q.bind(entry_id).push(" ORDER BY version DESC");
    q.fetch_all(store.pool()).await
}

#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub entry_id: i64,
    pub version: i64,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub note: Option<String>,
    pub actor: String,
    pub at: String,
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_event(
    tx: &mut WriteTx,
    entry_id: i64,
    version: i64,
    action: &str,
    from: Option<&str>,
    to: &str,
    note: Option<&str>,
    actor: &str,
) -> Result<()> {
    let mut q = Sql::new(
        "INSERT INTO catalog_events (entry_id, version, action, from_status, to_status, note, actor, at) VALUES (",
    );
    q.bind(entry_id)
        .push(", ")
        .bind(version)
        .push(", ")
        .bind(action)
        .push(", ")
        .bind(from)
        .push(", ")
        .bind(to)
        .push(", ")
        .bind(note)
        .push(", ")
        .bind(actor)
        .push(", ")
        .bind(now())
        .push(")");
    q.execute(tx.conn()).await.map(|_| ())
}

pub async fn list_events(store: &Store, entry_id: i64) -> Result<Vec<EventRow>> {
    let mut q = Sql::new("SELECT * FROM catalog_events WHERE entry_id = ");
    q.bind(entry_id).push(" ORDER BY id DESC");
    q.fetch_all(store.pool()).await
}

#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct CorrectionRow {
    pub id: i64,
    pub entry_id: i64,
    pub reporter: String,
    pub reporter_dept_id: Option<i64>,
    pub description: String,
    /// open | answered
    pub status: String,
    pub answer: Option<String>,
    pub answered_by: Option<String>,
    pub answered_at: Option<String>,
    pub created_at: String,
}

pub async fn insert_correction(
    tx: &mut WriteTx,
    entry_id: i64,
    reporter: &str,
    dept: Option<i64>,
    description: &str,
) -> Result<i64> {
    let mut q = Sql::new(
        "INSERT INTO catalog_corrections (entry_id, reporter, reporter_dept_id, description, status, created_at) VALUES (",
    );
    q.bind(entry_id)
        .push(", ")
        .bind(reporter)
        .push(", ")
        .bind(dept)
        .push(", ")
        .bind(description)
        .push(", 'open', ")
        .bind(now())
        .push(") RETURNING id");
    q.fetch_scalar_i64(&mut *tx.conn()).await
}

pub async fn answer_correction(
    tx: &mut WriteTx,
    id: i64,
    answer: &str,
    actor: &str,
) -> Result<u64> {
    let mut q = Sql::new("UPDATE catalog_corrections SET status = 'answered', answer = ");
    q.bind(answer)
        .push(", answered_by = ")
        .bind(actor)
        .push(", answered_at = ")
        .bind(now())
        .push(" WHERE id = ")
        .bind(id);
    q.execute(tx.conn()).await
}

pub async fn get_correction(store: &Store, id: i64) -> Result<Option<CorrectionRow>> {
    crate::sql::by_id(store, "catalog_corrections", id).await
}

#[derive(Clone, Debug, Default)]
pub struct CorrectionFilter {
    pub status: Option<String>,
    /// Reports on entries of these providers.
    pub providers: Option<Vec<i64>>,
    /// Reports made by these departments.
    pub reporters: Option<Vec<i64>>,
    pub entry_id: Option<i64>,
}

pub async fn list_corrections(
    store: &Store,
    f: &CorrectionFilter,
    page: Page,
) -> Result<Paged<CorrectionRow>> {
    let mut from = Sql::new(
        " FROM catalog_corrections c JOIN catalog_entries e ON e.id = c.entry_id WHERE 1 = 1",
    );
    if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
        from.push(" AND c.status = ").bind(s);
    }
    if let Some(e) = f.entry_id {
        from.push(" AND c.entry_id = ").bind(e);
    }
    match (&f.providers, &f.reporters) {
        (Some(p), Some(r)) => {
            from.push(" AND (1 = 0");
            if !p.is_empty() {
                from.push(" OR e.provider_dept_id IN ").bind_list(p);
            }
            if !r.is_empty() {
                from.push(" OR c.reporter_dept_id IN ").bind_list(r);
            }
            from.push(")");
        }
        (Some(p), None) => {
            if p.is_empty() {
                from.push(" AND 1 = 0");
            } else {
                from.push(" AND e.provider_dept_id IN ").bind_list(p);
            }
        }
        (None, Some(r)) => {
            if r.is_empty() {
                from.push(" AND 1 = 0");
            } else {
                from.push(" AND c.reporter_dept_id IN ").bind_list(r);
            }
        }
        (None, None) => {}
    }
    paged(
        store.pool(),
        "SELECT c.id, c.entry_id, c.reporter, c.reporter_dept_id, c.description, c.status, c.answer, c.answered_by, c.answered_at, c.created_at",
        &from,
        " ORDER BY c.id DESC",
        page,
    )
    .await
}

/// How many live entries each information system produces.
pub async fn entries_per_system(store: &Store) -> Result<Vec<(i64, i64)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        system_id: i64,
        n: i64,
    }
    let q = Sql::new(
        "SELECT system_id, COUNT(*) AS n FROM catalog_entries WHERE deleted_at IS NULL AND system_id IS NOT NULL GROUP BY system_id",
    );
    let rows: Vec<Row> = q.fetch_all(store.pool()).await?;
    Ok(rows.into_iter().map(|r| (r.system_id, r.n)).collect())
}

const ELEMENTS: crate::versioned::Table = crate::versioned::Table {
    table: "data_elements",
    key: "element_id",
};

/// Data elements (数据元): the newest version of each.
pub async fn elements(store: &Store) -> Result<Vec<crate::VersionedRow>> {
    ELEMENTS.latest(store).await
}

/// Every version of a data element, newest first.
pub async fn element_history(store: &Store, id: &str) -> Result<Vec<crate::VersionedRow>> {
    ELEMENTS.history(store, id).await
}

/// Save a new version of a data element; returns its number.
pub async fn save_element(tx: &mut WriteTx, id: &str, body: &str, actor: &str) -> Result<i64> {
    ELEMENTS.save(tx, id, body, actor).await
}
