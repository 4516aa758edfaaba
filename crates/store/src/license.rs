//! Tables of the e-license registry.

use crate::sql::{Sql, paged};
use crate::{Page, Paged, Store, WriteTx, now};
use shuju_types::Result;

#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct LicenseType {
    pub id: i64,
    pub type_key: String,
    pub name: String,
    pub type_code: String,
    pub holder_kind: String,
    pub claims: String,
    pub validity_days: Option<i64>,
    pub created_by: String,
    pub created_at: String,
}

pub async fn insert_type(tx: &mut WriteTx, t: &LicenseType) -> Result<i64> {
    let mut q = Sql::new(
        "INSERT INTO license_types (type_key, name, type_code, holder_kind, claims, validity_days, created_by, created_at) VALUES (",
    );
    q.bind(&t.type_key)
        .push(", ")
        .bind(&t.name)
        .push(", ")
        .bind(&t.type_code)
        .push(", ")
        .bind(&t.holder_kind)
        .push(", ")
        .bind(&t.claims)
        .push(", ")
        .bind(t.validity_days)
        .push(", ")
        .bind(&t.created_by)
        .push(", ")
        .bind(now())
        .push(") RETURNING id");
    q.fetch_scalar_i64(&mut *tx.conn()).await
}

pub async fn types(store: &Store) -> Result<Vec<LicenseType>> {
    Sql::new("SELECT * FROM license_types ORDER BY id")
        .fetch_all(store.pool())
        .await
}

pub async fn type_by_key(store: &Store, key: &str) -> Result<Option<LicenseType>> {
    let mut q = Sql::new("SELECT * FROM license_types WHERE type_key = ");
    q.bind(key);
    q.fetch_optional(store.pool()).await
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct KeyRow {
    pub kid: String,
    pub alg: String,
    pub public: String,
    pub secret: String,
    pub created_at: String,
    pub retired_at: Option<String>,
}

pub async fn insert_key(
    tx: &mut WriteTx,
    kid: &str,
    alg: &str,
    public: &str,
    secret: &str,
) -> Result<()> {
    let mut q =
        Sql::new("INSERT INTO license_keys (kid, alg, public, secret, created_at) VALUES (");
    q.bind(kid)
        .push(", ")
        .bind(alg)
        .push(", ")
        .bind(public)
        .push(", ")
        .bind(secret)
        .push(", ")
        .bind(now())
        .push(")");
    q.execute(tx.conn()).await.map(|_| ())
}

pub async fn retire_keys(tx: &mut WriteTx, alg: &str) -> Result<u64> {
    let mut q = Sql::new("UPDATE license_keys SET retired_at = ");
    q.bind(now())
        .push(" WHERE retired_at IS NULL AND alg = ")
        .bind(alg);
    q.execute(tx.conn()).await
}

pub async fn keys(store: &Store) -> Result<Vec<KeyRow>> {
    Sql::new("SELECT * FROM license_keys ORDER BY created_at")
        .fetch_all(store.pool())
        .await
}

#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct LicenseRow {
    pub id: i64,
    pub license_id: String,
    pub type_id: i64,
    pub holder_kind: String,
    pub holder_id: String,
    pub holder_name: String,
    pub issuer_dept_id: i64,
    pub claims: String,
    pub version: i64,
    pub predecessor_id: Option<i64>,
    pub valid_from: String,
    pub valid_until: Option<String>,
    pub status: String,
    pub status_idx: i64,
    pub sd_jwt: String,
    pub seal: String,
    pub seal_kid: String,
    pub holder_jwk: String,
    #[serde(skip)]
    pub holder_secret: String,
    pub created_by: String,
    pub created_at: String,
    pub updated_by: String,
    pub updated_at: String,
}

pub async fn insert_license(tx: &mut WriteTx, r: &LicenseRow) -> Result<i64> {
    let t = now();
    let mut q = Sql::new(
        "INSERT INTO licenses (license_id, type_id, holder_kind, holder_id, holder_name, issuer_dept_id, claims, version, predecessor_id, valid_from, valid_until, status, status_idx, sd_jwt, seal, seal_kid, holder_jwk, holder_secret, created_by, created_at, updated_by, updated_at) VALUES (",
    );
    q.bind(&r.license_id)
        .push(", ")
        .bind(r.type_id)
        .push(", ")
        .bind(&r.holder_kind)
        .push(", ")
        .bind(&r.holder_id)
        .push(", ")
        .bind(&r.holder_name)
        .push(", ")
        .bind(r.issuer_dept_id)
        .push(", ")
        .bind(&r.claims)
        .push(", ")
        .bind(r.version)
        .push(", ")
        .bind(r.predecessor_id)
        .push(", ")
        .bind(&r.valid_from)
        .push(", ")
        .bind(r.valid_until.clone())
        .push(", ")
        .bind(&r.status)
        .push(", ")
        .bind(r.status_idx)
        .push(", ")
        .bind(&r.sd_jwt)
        .push(", ")
        .bind(&r.seal)
        .push(", ")
        .bind(&r.seal_kid)
        .push(", ")
        .bind(&r.holder_jwk)
        .push(", ")
        .bind(&r.holder_secret)
        .push(", ")
        .bind(&r.created_by)
        .push(", ")
        .bind(&t)
        .push(", ")
        .bind(&r.created_by)
        .push(", ")
        .bind(&t)
        .push(") RETURNING id");
    q.fetch_scalar_i64(&mut *tx.conn()).await
}

pub async fn set_status(tx: &mut WriteTx, id: i64, status: &str, actor: &str) -> Result<u64> {
    let mut q = Sql::new("UPDATE licenses SET status = ");
    q.bind(status)
        .push(", updated_by = ")
        .bind(actor)
        .push(", updated_at = ")
        .bind(now())
        .push(" WHERE id = ")
        .bind(id);
    q.execute(tx.conn()).await
}

pub async fn get(store: &Store, id: i64) -> Result<Option<LicenseRow>> {
    crate::sql::by_id(store, "licenses", id).await
}

pub async fn by_license_id(store: &Store, license_id: &str) -> Result<Option<LicenseRow>> {
    let mut q = Sql::new("SELECT * FROM licenses WHERE license_id = ");
    q.bind(license_id);
    q.fetch_optional(store.pool()).await
}

#[derive(Clone, Debug, Default)]
pub struct LicenseFilter {
    pub holder_id: Option<String>,
    pub type_id: Option<i64>,
    pub status: Option<String>,
    pub issuers: Option<Vec<i64>>,
}

pub async fn list(store: &Store, f: &LicenseFilter, page: Page) -> Result<Paged<LicenseRow>> {
    let mut from = Sql::new(" FROM licenses WHERE 1 = 1");
    if let Some(h) = f.holder_id.as_deref().filter(|s| !s.is_empty()) {
        from.push(" AND holder_id = ").bind(h);
    }
    if let Some(t) = f.type_id {
        from.push(" AND type_id = ").bind(t);
    }
    if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
        from.push(" AND status = ").bind(s);
    }
    if let Some(ids) = &f.issuers {
        if ids.is_empty() {
            from.push(" AND 1 = 0");
        } else {
            from.push(" AND issuer_dept_id IN ").bind_list(ids);
        }
    }
    paged(store.pool(), "SELECT *", &from, " ORDER BY id DESC", page).await
}

/// A holder's newest license of a type (the highest id), without counting the others.
pub async fn newest_of(store: &Store, holder_id: &str, type_id: i64) -> Result<Option<LicenseRow>> {
    let mut q = Sql::new("SELECT * FROM licenses WHERE holder_id = ");
    q.bind(holder_id)
        .push(" AND type_id = ")
        .bind(type_id)
        .push(" ORDER BY id DESC LIMIT 1");
    q.fetch_optional(store.pool()).await
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StatusRow {
    pub id: i64,
    pub size: i64,
    pub next_idx: i64,
    pub bytes: String,
    pub updated_at: String,
}

pub async fn status_list(store: &Store) -> Result<Option<StatusRow>> {
    Sql::new("SELECT * FROM license_status_list WHERE id = 1")
        .fetch_optional(store.pool())
        .await
}

/// Read the status list inside a write (locking it first).
pub async fn status_list_for_update(tx: &mut WriteTx) -> Result<Option<StatusRow>> {
    Sql::new("UPDATE license_status_list SET size = size WHERE id = 1")
        .execute(tx.conn())
        .await?;
    Sql::new("SELECT * FROM license_status_list WHERE id = 1")
        .fetch_optional(&mut *tx.conn())
        .await
}

/// Take the status list's next index for a new license, inside a write (the list's bits are
/// not read: a new index is valid, 0, already).
pub async fn take_status_index(tx: &mut WriteTx) -> Result<Option<i64>> {
    let q = Sql::new(
        "UPDATE license_status_list SET next_idx = next_idx + 1 WHERE id = 1 AND next_idx < size RETURNING next_idx - 1",
    );
    match q.fetch_optional::<(i64,), _>(&mut *tx.conn()).await? {
        Some((i,)) => Ok(Some(i)),
        None => Ok(None),
    }
}

/// Take up to `n` status list indices at once (fewer when the list is nearly full): the first and
/// one past the last. `None` when the list is full.
pub async fn take_status_indices(tx: &mut WriteTx, n: i64) -> Result<Option<(i64, i64)>> {
    let mut q = Sql::new("UPDATE license_status_list SET next_idx = next_idx + ");
    q.bind(n)
        .push(" WHERE id = 1 AND next_idx + ")
        .bind(n)
        .push(" <= size RETURNING next_idx");
    if let Some((end,)) = q.fetch_optional::<(i64,), _>(&mut *tx.conn()).await? {
        return Ok(Some((end - n, end)));
    }
    Ok(take_status_index(tx).await?.map(|i| (i, i + 1)))
}

pub async fn save_status_list(
    tx: &mut WriteTx,
    size: i64,
    next_idx: i64,
    bytes_hex: &str,
) -> Result<()> {
    let mut q = Sql::new("UPDATE license_status_list SET size = ");
    q.bind(size)
        .push(", next_idx = ")
        .bind(next_idx)
        .push(", bytes = ")
        .bind(bytes_hex)
        .push(", updated_at = ")
        .bind(now())
        .push(" WHERE id = 1");
    if q.execute(tx.conn()).await? == 0 {
        let mut i = Sql::new(
            "INSERT INTO license_status_list (id, size, next_idx, bytes, updated_at) VALUES (1, ",
        );
        i.bind(size)
            .push(", ")
            .bind(next_idx)
            .push(", ")
            .bind(bytes_hex)
            .push(", ")
            .bind(now())
            .push(")");
        i.execute(tx.conn()).await?;
    }
    Ok(())
}

#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct Matter {
    pub code: String,
    pub name: String,
    pub type_key: String,
    pub claims: String,
    pub created_at: String,
}

pub async fn insert_matter(
    tx: &mut WriteTx,
    code: &str,
    name: &str,
    type_key: &str,
    claims: &str,
) -> Result<()> {
    let mut q =
        Sql::new("INSERT INTO license_matters (code, name, type_key, claims, created_at) VALUES (");
    q.bind(code)
        .push(", ")
        .bind(name)
        .push(", ")
        .bind(type_key)
        .push(", ")
        .bind(claims)
        .push(", ")
        .bind(now())
        .push(")");
    q.execute(tx.conn()).await.map(|_| ())
}

pub async fn matters(store: &Store) -> Result<Vec<Matter>> {
    Sql::new("SELECT * FROM license_matters ORDER BY code")
        .fetch_all(store.pool())
        .await
}

pub async fn matter(store: &Store, code: &str) -> Result<Option<Matter>> {
    let mut q = Sql::new("SELECT * FROM license_matters WHERE code = ");
    q.bind(code);
    q.fetch_optional(store.pool()).await
}

pub async fn insert_show(
    tx: &mut WriteTx,
    license_db_id: i64,
    matter: &str,
    claims: &str,
    verifier: &str,
    nonce: &str,
    receipt: Option<&str>,
) -> Result<i64> {
    let mut q = Sql::new(
        "INSERT INTO license_shows (license_db_id, matter_code, claims, verifier, nonce, receipt, at) VALUES (",
    );
    q.bind(license_db_id)
        .push(", ")
        .bind(matter)
        .push(", ")
        .bind(claims)
        .push(", ")
        .bind(verifier)
        .push(", ")
        .bind(nonce)
        .push(", ")
        .bind(receipt)
        .push(", ")
        .bind(now())
        .push(") RETURNING id");
    q.fetch_scalar_i64(&mut *tx.conn()).await
}

/// Shows counted by (month YYYY-MM, matter code, type key).
pub async fn show_counts(store: &Store) -> Result<Vec<(String, String, String, i64)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        month: String,
        matter_code: String,
        type_key: String,
        n: i64,
    }
    let q = Sql::new(
        "SELECT SUBSTR(s.at, 1, 7) AS month, s.matter_code, t.type_key, COUNT(*) AS n FROM license_shows s JOIN licenses l ON l.id = s.license_db_id JOIN license_types t ON t.id = l.type_id GROUP BY SUBSTR(s.at, 1, 7), s.matter_code, t.type_key ORDER BY 1 DESC",
    );
    let rows: Vec<Row> = q.fetch_all(store.pool()).await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.month, r.matter_code, r.type_key, r.n))
        .collect())
}

/// Note the lake record a license was issued from (`table:key`).
pub async fn set_source_ref(tx: &mut WriteTx, id: i64, source_ref: &str) -> Result<u64> {
    let mut q = Sql::new("UPDATE licenses SET source_ref = ");
    q.bind(source_ref).push(" WHERE id = ").bind(id);
    q.execute(tx.conn()).await
}

/// The lake records of a table licenses were issued from (the `key` of each `table:key`).
pub async fn source_keys(store: &Store, table: &str) -> Result<std::collections::HashSet<String>> {
    #[derive(sqlx::FromRow)]
    struct SourceRef {
        source_ref: String,
    }
    let prefix = format!("{table}:");
    let mut q = Sql::new("SELECT source_ref FROM licenses WHERE source_ref LIKE ");
    q.bind(format!(
        "{}%",
        prefix.replace('%', "\\%").replace('_', "\\_")
    ))
    .push(" ESCAPE '\\'");
    let rows: Vec<SourceRef> = q.fetch_all(store.pool()).await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| r.source_ref.strip_prefix(&prefix).map(str::to_owned))
        .collect())
}

/// Bind an account to the holder it speaks for (replacing an earlier binding).
pub async fn bind_holder(tx: &mut WriteTx, user_id: i64, holder_id: &str, by: &str) -> Result<u64> {
    let mut q = Sql::new("DELETE FROM license_holders WHERE user_id = ");
    q.bind(user_id);
    q.execute(tx.conn()).await?;
    let mut q =
        Sql::new("INSERT INTO license_holders (user_id, holder_id, bound_by, bound_at) VALUES (");
    q.bind(user_id)
        .push(", ")
        .bind(holder_id)
        .push(", ")
        .bind(by)
        .push(", ")
        .bind(now())
        .push(")");
    q.execute(tx.conn()).await
}

/// The holder an account speaks for, if it is bound to one.
pub async fn holder_of(store: &Store, user_id: i64) -> Result<Option<String>> {
    #[derive(sqlx::FromRow)]
    struct Bound {
        holder_id: String,
    }
    let mut q = Sql::new("SELECT holder_id FROM license_holders WHERE user_id = ");
    q.bind(user_id);
    Ok(q.fetch_optional::<Bound, _>(store.pool())
        .await?
        .map(|b| b.holder_id))
}

/// Replace an issuer key's stored secret (sealing it, or sealing it again under a new KEK).
pub async fn set_key_secret(tx: &mut WriteTx, kid: &str, secret: &str) -> Result<u64> {
    let mut q = Sql::new("UPDATE license_keys SET secret = ");
    q.bind(secret).push(" WHERE kid = ").bind(kid);
    q.execute(tx.conn()).await
}

/// Every license's custodial holder key: (id, license id, stored secret).
pub async fn holder_secrets(store: &Store) -> Result<Vec<(i64, String, String)>> {
    #[derive(sqlx::FromRow)]
    struct HolderKey {
        id: i64,
        license_id: String,
        holder_secret: String,
    }
    let rows: Vec<HolderKey> = Sql::new(
        "SELECT id, license_id, holder_secret FROM licenses WHERE holder_secret <> '' ORDER BY id",
    )
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.id, r.license_id, r.holder_secret))
        .collect())
}

/// Replace a license's stored holder key.
pub async fn set_holder_secret(tx: &mut WriteTx, id: i64, secret: &str) -> Result<u64> {
    let mut q = Sql::new("UPDATE licenses SET holder_secret = ");
    q.bind(secret).push(" WHERE id = ").bind(id);
    q.execute(tx.conn()).await
}
