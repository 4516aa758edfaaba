//! Changes between two versions of a table, read from the Delta log by time travel: the rows
//! added or changed since a version, and the keys removed — what a bulk subscriber receives.

use crate::{Lake, TableSpec, batches_to_json, query};
use datafusion::arrow::array::{Array, StringArray};
use shuju_types::{Error, Result};

/// What changed in a table between two versions.
#[derive(Clone, Debug, Default)]
pub struct Changes {
    /// The version the changes start after (`None`: from an empty table).
    pub from: Option<i64>,
    /// The version they lead to (`None`: the table has no version yet).
    pub to: Option<i64>,
    /// Rows added or changed, the columns asked for, raw, in key order.
    pub rows: Vec<serde_json::Map<String, serde_json::Value>>,
    /// Keys of rows removed.
    pub removed: Vec<String>,
}

impl Lake {
    /// The rows of a table added or changed after version `from` up to its newest version, and
    /// the keys removed, with the `columns` asked for (raw: the caller masks what leaves).
    pub async fn changes(
        &self,
        spec: &TableSpec,
        from: Option<i64>,
        columns: &[String],
    ) -> Result<Changes> {
        let key = spec
            .key
            .first()
            .ok_or_else(|| Error::internal("a lake table without a key"))?;
        let to = self.current_version(spec).await?;
        let mut out = Changes {
            from,
            to,
            ..Default::default()
        };
        let Some(to) = to.filter(|t| Some(*t) != from) else {
            return Ok(out);
        };
        if from.is_some_and(|f| f > to) {
            return Err(Error::invalid(
                "version",
                format!("the table has no version after {to}"),
            ));
        }
        let ctx = query::session();
        let register = |name: &'static str, t: deltalake::DeltaTable| {
            let ctx = ctx.clone();
            async move {
                let p = t.table_provider().await.map_err(query::df_err)?;
                ctx.register_table(name, p).map_err(query::df_err)?;
                Ok::<_, Error>(())
            }
        };
        let cur = self
            .delta(spec, Some(to))
            .await?
            .ok_or_else(|| Error::internal("a table version vanished"))?;
        register("cur", cur).await?;
        if let Some(f) = from {
            let old = self
                .delta(spec, Some(f))
                .await?
                .ok_or_else(|| Error::internal("a table version vanished"))?;
            register("old", old).await?;
        }
        let mut names: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
        if !columns.contains(key) {
            names.push(format!("\"{key}\""));
        }
        let cols = names.join(", ");
        let changed = match from {
            None => format!("SELECT {cols} FROM cur"),
            Some(_) => format!("SELECT {cols} FROM cur EXCEPT SELECT {cols} FROM old"),
        };
        let batches = query::collect(
            &ctx,
            &format!("SELECT * FROM ({changed}) ORDER BY \"{key}\""),
        )
        .await?;
        out.rows = batches_to_json(&batches)?;
        if from.is_some() {
            let k = format!("CAST(\"{key}\" AS VARCHAR)");
            let batches = query::collect(
                &ctx,
                &format!("SELECT {k} FROM old EXCEPT SELECT {k} FROM cur ORDER BY 1"),
            )
            .await?;
            for b in &batches {
                let a = b
                    .column(0)
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .ok_or_else(|| Error::internal("key not text"))?;
                out.removed.extend(
                    (0..a.len())
                        .filter(|i| !a.is_null(*i))
                        .map(|i| a.value(i).to_owned()),
                );
            }
        }
        Ok(out)
    }

    /// A folder of the lake for files handed to a department (bulk deliveries), made if absent.
    pub fn space(&self, name: &str) -> Result<std::path::PathBuf> {
        let p = self
            .root()
            .to_file_path()
            .map_err(|_| Error::internal("the lake is not a local folder"))?
            .join("_exchange")
            .join(name);
        std::fs::create_dir_all(&p).map_err(Error::internal)?;
        Ok(p)
    }
}
