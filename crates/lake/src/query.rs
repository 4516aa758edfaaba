//! SQL over the lake. A caller who may not see personal data never gets the raw tables: each
//! table is registered as a view whose sensitive columns are already masked, so aliases, casts,
//! joins, functions, `SELECT *` and subqueries can only ever see the masked values. Only SELECT
//! queries run (no DDL, DML or statements), and no files outside the registered tables.

use crate::spec::TableSpec;
use datafusion::arrow::array::{Array, ArrayRef, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::catalog::TableProvider;
use datafusion::common::ScalarValue;
use datafusion::execution::context::SQLOptions;
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};
use datafusion::prelude::{Expr, SessionConfig, SessionContext, cast, col, lit};
use shuju_types::{Error, Result};
use std::sync::Arc;

/// Mask one value: an 18-character ID keeps its division (6) and last 4, a mobile number its
/// first 3 and last 4, a short name its first character; anything else its first and last
/// quarter.
pub fn mask_str(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    let (keep_head, keep_tail) = match n {
        0 => return String::new(),
        1 => (0, 0),
        2..=4 => (1, 0),
        11 => (3, 4),
        18 => (6, 4),
        _ => (n / 4, n / 4),
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < keep_head || i >= n - keep_tail {
                *c
            } else {
                '*'
            }
        })
        .collect()
}

/// The `mask(text)` SQL function.
pub fn mask_udf() -> ScalarUDF {
    create_udf(
        "mask",
        vec![DataType::Utf8],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            Ok(match &args[0] {
                ColumnarValue::Scalar(
                    ScalarValue::Utf8(v) | ScalarValue::Utf8View(v) | ScalarValue::LargeUtf8(v),
                ) => ColumnarValue::Scalar(ScalarValue::Utf8(v.as_deref().map(mask_str))),
                ColumnarValue::Scalar(_) => ColumnarValue::Scalar(ScalarValue::Utf8(None)),
                ColumnarValue::Array(a) => {
                    let a = datafusion::arrow::compute::cast(a, &DataType::Utf8)?;
                    let a = a.as_any().downcast_ref::<StringArray>().ok_or_else(|| {
                        datafusion::error::DataFusionError::Internal("mask takes text".into())
                    })?;
                    let out: StringArray = (0..a.len())
                        .map(|i| (!a.is_null(i)).then(|| mask_str(a.value(i))))
                        .collect();
                    ColumnarValue::Array(Arc::new(out) as ArrayRef)
                }
            })
        }),
    )
}

/// A fresh session for one query: the mask function, no file access, bounded memory use.
pub fn session() -> SessionContext {
    let cfg = SessionConfig::new()
        .with_information_schema(false)
        .with_target_partitions(2);
    let ctx = SessionContext::new_with_config(cfg);
    ctx.register_udf(mask_udf());
    ctx
}

/// Register a table for a caller: raw if `unmasked`, else behind a masking view.
pub fn register(
    ctx: &SessionContext,
    spec: &TableSpec,
    provider: Arc<dyn TableProvider>,
    unmasked: bool,
) -> Result<()> {
    let provider = if unmasked {
        provider
    } else {
        masked_view(ctx, spec, provider)?
    };
    ctx.register_table(spec.name.as_str(), provider)
        .map_err(df_err)?;
    Ok(())
}

fn masked_view(
    ctx: &SessionContext,
    spec: &TableSpec,
    provider: Arc<dyn TableProvider>,
) -> Result<Arc<dyn TableProvider>> {
    let schema = provider.schema();
    let exprs: Vec<Expr> = schema
        .fields()
        .iter()
        .map(|f| {
            let name = f.name();
            let c = col(format!("\"{name}\""));
            if name == crate::spec::RAW {
                // Flagged values as written may be any column's personal data: withheld.
                return cast(lit(ScalarValue::Null), f.data_type().clone()).alias(name);
            }
            let sensitive = spec.column(name).is_some_and(|c| c.sensitive);
            if !sensitive {
                c
            } else if matches!(
                f.data_type(),
                DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
            ) {
                mask_udf().call(vec![c]).alias(name)
            } else {
                // Non-text personal data (a birth date): withheld entirely.
                cast(lit(ScalarValue::Null), f.data_type().clone()).alias(name)
            }
        })
        .collect();
    let df = ctx.read_table(provider).map_err(df_err)?;
    Ok(df.select(exprs).map_err(df_err)?.into_view())
}

/// Run the platform's own SQL (counts, quality, quarantine) to the end.
pub async fn collect(
    ctx: &SessionContext,
    sql: &str,
) -> Result<Vec<datafusion::arrow::record_batch::RecordBatch>> {
    ctx.sql(sql)
        .await
        .map_err(df_err)?
        .collect()
        .await
        .map_err(df_err)
}

/// Only read-only queries.
pub fn options() -> SQLOptions {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
}

/// A DataFusion error as the platform's error. Planning errors (bad SQL, unknown tables or
/// columns) are the caller's; the message names what is wrong, never data.
pub fn df_err(e: datafusion::error::DataFusionError) -> Error {
    use datafusion::error::DataFusionError as D;
    match e.find_root() {
        D::SQL(..) | D::Plan(..) | D::SchemaError(..) | D::NotImplemented(..) => {
            let msg = e.find_root().to_string();
            Error::invalid("sql", first_line(&msg))
        }
        D::ResourcesExhausted(..) => {
            Error::invalid("sql", "the query needs more memory than a query may use")
        }
        _ => Error::internal(e),
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_what_identifies_nothing() {
        assert_eq!(mask_str("371502199001011234"), "371502********1234");
        assert_eq!(mask_str("13812345678"), "138****5678");
        assert_eq!(mask_str("张三"), "张*");
        assert_eq!(mask_str("欧阳娜娜"), "欧***");
        assert_eq!(mask_str("聊城市东昌府区柳园路1号"), "聊城市******路1号");
        assert_eq!(mask_str("x"), "*");
    }
}
