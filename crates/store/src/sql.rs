//! A small builder for portable SQL with `$n` placeholders and dynamic filters.

use crate::db_err;
use shuju_types::Result;
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Executor, FromRow};

#[derive(Clone, Debug)]
pub(crate) enum Arg {
    I64(i64),
    Str(String),
    /// A typed NULL: PostgreSQL needs to know the type of every parameter.
    NullI64,
    NullStr,
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::I64(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Str(v.to_owned())
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Str(v)
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Str(v.clone())
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Arg::NullI64, Arg::I64)
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        v.map_or(Arg::NullStr, Arg::Str)
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        v.map_or(Arg::NullStr, Into::into)
    }
}

/// SQL text plus its arguments, numbered as they are pushed.
#[derive(Default, Debug)]
pub(crate) struct Sql {
    pub text: String,
    args: Vec<Arg>,
}

impl Sql {
    pub fn new(text: &str) -> Self {
        Sql {
            text: text.to_owned(),
            args: Vec::new(),
        }
    }

    pub fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    /// Append another fragment, renumbering its placeholders after ours.
    pub fn append(&mut self, other: &Sql) -> &mut Self {
        let base = self.args.len();
        let mut out = String::with_capacity(other.text.len());
        let mut chars = other.text.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
                let mut n = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    n.push(*d);
                    chars.next();
                }
                let n: usize = n.parse().unwrap_or(0);
                out.push_str(&format!("${}", n + base));
            } else {
                out.push(c);
            }
        }
        self.text.push_str(&out);
        self.args.extend(other.args.iter().cloned());
        self
    }

    /// Append a placeholder for `v`.
    pub fn bind(&mut self, v: impl Into<Arg>) -> &mut Self {
        self.args.push(v.into());
        self.text.push_str(&format!("${}", self.args.len()));
        self
    }

    /// Append `(… , …)` placeholders for a list (which must not be empty).
    pub fn bind_list<T: Into<Arg> + Clone>(&mut self, vs: &[T]) -> &mut Self {
        self.text.push('(');
        for (i, v) in vs.iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(v.clone());
        }
        self.text.push(')');
        self
    }

    fn query(&self) -> sqlx::query::Query<'_, Any, sqlx::any::AnyArguments<'_>> {
        let mut q = sqlx::query(&self.text);
        for a in &self.args {
            q = match a {
                Arg::I64(v) => q.bind(*v),
                Arg::Str(v) => q.bind(v.as_str()),
                Arg::NullI64 => q.bind(Option::<i64>::None),
                Arg::NullStr => q.bind(Option::<String>::None),
            };
        }
        q
    }

    pub async fn fetch_all<'e, T, E>(&self, ex: E) -> Result<Vec<T>>
    where
        T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
        E: Executor<'e, Database = Any>,
    {
        let rows = ex.fetch_all(self.query()).await.map_err(db_err)?;
        rows.iter()
            .map(|r| T::from_row(r).map_err(db_err))
            .collect()
    }

    pub async fn fetch_optional<'e, T, E>(&self, ex: E) -> Result<Option<T>>
    where
        T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
        E: Executor<'e, Database = Any>,
    {
        let row = ex.fetch_optional(self.query()).await.map_err(db_err)?;
        row.as_ref()
            .map(|r| T::from_row(r).map_err(db_err))
            .transpose()
    }

    pub async fn fetch_scalar_i64<'e, E>(&self, ex: E) -> Result<i64>
    where
        E: Executor<'e, Database = Any>,
    {
        use sqlx::Row;
        let row = ex.fetch_one(self.query()).await.map_err(db_err)?;
        row.try_get::<i64, _>(0).map_err(db_err)
    }

    pub async fn execute(&self, conn: &mut AnyConnection) -> Result<u64> {
        conn.execute(self.query())
            .await
            .map(|r| r.rows_affected())
            .map_err(db_err)
    }
}

/// The row of `table` with this id, if any.
pub(crate) async fn by_id<T>(
    store: &crate::Store,
    table: &'static str,
    id: i64,
) -> Result<Option<T>>
where
    T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
{
    let mut q = Sql::new(&format!("SELECT * FROM {table} WHERE id = "));
    q.bind(id);
    q.fetch_optional(store.pool()).await
}

/// A page request: 1-based page number and page size (capped).
#[derive(Clone, Copy, Debug, serde::Deserialize, serde::Serialize)]
pub struct Page {
    pub page: u32,
    pub size: u32,
}

impl Default for Page {
    fn default() -> Self {
        Page { page: 1, size: 20 }
    }
}

impl Page {
    pub const MAX_SIZE: u32 = 500;

    pub fn new(page: Option<u32>, size: Option<u32>) -> Self {
        Page {
            page: page.unwrap_or(1).max(1),
            size: size.unwrap_or(20).clamp(1, Self::MAX_SIZE),
        }
    }

    pub(crate) fn apply(&self, sql: &mut Sql) {
        sql.push(" LIMIT ")
            .bind(i64::from(self.size))
            .push(" OFFSET ")
            .bind(i64::from(self.page - 1) * i64::from(self.size));
    }
}

/// A page of results with the total count.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Paged<T> {
    pub total: i64,
    pub page: u32,
    pub size: u32,
    pub items: Vec<T>,
}

/// Run `select` + `from` (a FROM … WHERE … fragment) + `order` for one page, with the total count.
pub(crate) async fn paged<T>(
    pool: &sqlx::AnyPool,
    select: &str,
    from: &Sql,
    order: &str,
    page: Page,
) -> Result<Paged<T>>
where
    T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
{
    let mut count = Sql::new("SELECT COUNT(*)");
    count.append(from);
    let total = count.fetch_scalar_i64(pool).await?;
    let mut q = Sql::new(select);
    q.append(from).push(order);
    page.apply(&mut q);
    let items = q.fetch_all(pool).await?;
    Ok(Paged {
        total,
        page: page.page,
        size: page.size,
        items,
    })
}

/// Soft-delete the live row `id` of `table` (a table name of this crate, never user input),
/// stamping who and when. Returns the rows changed (0 or 1).
pub(crate) async fn soft_delete(
    tx: &mut crate::WriteTx,
    table: &'static str,
    id: i64,
    actor: &str,
) -> Result<u64> {
    let mut q = Sql::new(&format!("UPDATE {table} SET deleted_at = "));
    q.bind(crate::now())
        .push(", deleted_by = ")
        .bind(actor)
        .push(" WHERE deleted_at IS NULL AND id = ")
        .bind(id);
    q.execute(tx.conn()).await
}
