//! The decision tables of a rule set as an editor grid: columns (a label and the fact each input
//! reads, the field each output writes) and rows of cells in the ZEN expression language
//! (`< 960`, `[1..3]`, `"收入"`). The page edits the grid and it is written back into the JSON
//! Decision Model — the same file the GoRules editor opens — so officials change thresholds,
//! add rows and inputs without touching JSON.

use serde::Serialize;
use serde_json::{Map, Value, json};
use shuju_types::{Error, Result};

/// A column of a decision table.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Column {
    pub id: String,
    pub name: String,
    pub field: String,
}

/// One rule (row) of a decision table.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Row {
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
}

/// A decision table of a model.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Grid {
    pub node_id: String,
    pub name: String,
    pub inputs: Vec<Column>,
    pub outputs: Vec<Column>,
    pub rows: Vec<Row>,
}

fn model(jdm: &str) -> Result<Value> {
    serde_json::from_str(jdm).map_err(|e| Error::invalid("jdm", format!("not JSON: {e}")))
}

fn columns(v: Option<&Value>) -> Vec<Column> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|c| {
                    let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                    Column {
                        id: s("id"),
                        name: s("name"),
                        field: s("field"),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

fn is_table(n: &Value) -> bool {
    n.get("type").and_then(Value::as_str) == Some("decisionTableNode")
}

/// The decision tables of a model, in node order.
pub fn grids(jdm: &str) -> Result<Vec<Grid>> {
    let v = model(jdm)?;
    let nodes = v.get("nodes").and_then(Value::as_array).cloned();
    Ok(nodes
        .unwrap_or_default()
        .iter()
        .filter(|n| is_table(n))
        .map(|n| {
            let c = &n["content"];
            let (inputs, outputs) = (columns(c.get("inputs")), columns(c.get("outputs")));
            let cell = |r: &Value, col: &Column| {
                r.get(&col.id)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            };
            let rows = c
                .get("rules")
                .and_then(Value::as_array)
                .map(|rs| {
                    rs.iter()
                        .map(|r| Row {
                            inputs: inputs.iter().map(|col| cell(r, col)).collect(),
                            outputs: outputs.iter().map(|col| cell(r, col)).collect(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            Grid {
                node_id: n["id"].as_str().unwrap_or("").to_owned(),
                name: n["name"].as_str().unwrap_or("").to_owned(),
                inputs,
                outputs,
                rows,
            }
        })
        .collect())
}

/// An ID for a new column, unique among `taken`.
fn column_id(prefix: &str, field: &str, taken: &[Column]) -> String {
    let base: String = field
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let mut id = format!("{prefix}_{base}");
    let mut n = 1;
    while taken.iter().any(|c| c.id == id) {
        n += 1;
        id = format!("{prefix}_{base}_{n}");
    }
    id
}

/// Write edited grids back into the model: each table's columns and rules replaced (new columns
/// get IDs, rows get `_id`s in order). Blank rows are dropped; a column needs a field. The result
/// is vetted as any saved model is.
pub fn with_grids(jdm: &str, grids: &[Grid]) -> Result<String> {
    let mut v = model(jdm)?;
    let nodes = v
        .get_mut("nodes")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| Error::invalid("jdm", "a decision graph has nodes and edges"))?;
    for g in grids {
        let node = nodes
            .iter_mut()
            .find(|n| is_table(n) && n["id"].as_str() == Some(g.node_id.as_str()))
            .ok_or_else(|| Error::invalid("grid", format!("no decision table {}", g.node_id)))?;
        let mut inputs: Vec<Column> = Vec::new();
        for c in &g.inputs {
            let field = c.field.trim();
            if field.is_empty() {
                return Err(Error::invalid(
                    "grid",
                    format!("input column '{}' of {} names no fact", c.name, g.name),
                ));
            }
            let id = if c.id.is_empty() {
                column_id("in", field, &inputs)
            } else {
                c.id.clone()
            };
            inputs.push(Column {
                id,
                name: c.name.trim().to_owned(),
                field: field.to_owned(),
            });
        }
        let rules: Vec<Value> = g
            .rows
            .iter()
            .filter(|r| {
                r.inputs
                    .iter()
                    .chain(&r.outputs)
                    .any(|c| !c.trim().is_empty())
            })
            .enumerate()
            .map(|(i, r)| {
                let mut o = Map::new();
                o.insert("_id".into(), json!(format!("r{}", i + 1)));
                for (col, cell) in inputs.iter().zip(&r.inputs) {
                    o.insert(col.id.clone(), json!(cell.trim()));
                }
                for (col, cell) in g.outputs.iter().zip(&r.outputs) {
                    o.insert(col.id.clone(), json!(cell.trim()));
                }
                Value::Object(o)
            })
            .collect();
        let content = node
            .get_mut("content")
            .and_then(Value::as_object_mut)
            .ok_or_else(|| Error::invalid("jdm", format!("table {} has no content", g.node_id)))?;
        content.insert(
            "inputs".into(),
            json!(
                inputs
                    .iter()
                    .map(|c| json!({"id": c.id, "name": c.name, "field": c.field}))
                    .collect::<Vec<_>>()
            ),
        );
        content.insert("rules".into(), Value::Array(rules));
    }
    let out = serde_json::to_string_pretty(&v).map_err(Error::internal)?;
    crate::checks::parse(&out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOW_INCOME: &str = include_str!("../rules/low_income.json");

    #[test]
    fn a_model_reads_back_unchanged() {
        let g = grids(LOW_INCOME).unwrap();
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].inputs[0].field, "income");
        assert_eq!(g[0].rows[0].inputs[0], "< 960");
        let again = with_grids(LOW_INCOME, &g).unwrap();
        assert_eq!(grids(&again).unwrap(), g);
    }

    #[test]
    fn a_threshold_edited_in_the_grid_changes_the_answer() {
        let mut g = grids(LOW_INCOME).unwrap();
        g[0].rows[0].inputs[0] = "< 1100".into();
        g[0].rows[1].inputs[0] = ">= 1100".into();
        let jdm = with_grids(LOW_INCOME, &g).unwrap();
        let facts = json!({"income": 1000, "properties": 0, "vehicles": 0, "enterprises": 0, "housing_fund": false});
        let before =
            crate::checks::evaluate(crate::checks::parse(LOW_INCOME).unwrap(), &facts).unwrap();
        let after = crate::checks::evaluate(crate::checks::parse(&jdm).unwrap(), &facts).unwrap();
        let income =
            |r: &[crate::checks::RuleOutcome]| r.iter().find(|o| o.rule == "收入").unwrap().pass;
        assert!(!income(&before));
        assert!(income(&after));
    }

    #[test]
    fn rows_and_inputs_are_added_and_blank_rows_dropped() {
        let mut g = grids(LOW_INCOME).unwrap();
        let t = &mut g[0];
        t.inputs.push(Column {
            id: String::new(),
            name: "年龄".into(),
            field: "age".into(),
        });
        for r in &mut t.rows {
            r.inputs.push(String::new());
        }
        let mut row = Row {
            inputs: vec![String::new(); t.inputs.len()],
            outputs: vec!["\"年龄\"".into(), "false".into(), "\"未满 18 周岁\"".into()],
        };
        *row.inputs.last_mut().unwrap() = "< 18".into();
        t.rows.push(row);
        t.rows.push(Row {
            inputs: vec![" ".into(); t.inputs.len()],
            outputs: vec![String::new(); 3],
        });
        let n = t.rows.len();
        let jdm = with_grids(LOW_INCOME, &g).unwrap();
        let back = grids(&jdm).unwrap();
        assert_eq!(back[0].inputs.last().unwrap().id, "in_age");
        assert_eq!(back[0].rows.len(), n - 1, "the blank row is dropped");
        let facts = json!({"income": 500, "properties": 0, "vehicles": 0, "enterprises": 0, "housing_fund": false, "age": 12});
        let out = crate::checks::evaluate(crate::checks::parse(&jdm).unwrap(), &facts).unwrap();
        assert!(out.iter().any(|o| o.rule == "年龄" && !o.pass), "{out:?}");
    }

    #[test]
    fn a_column_without_a_fact_is_refused() {
        let mut g = grids(LOW_INCOME).unwrap();
        g[0].inputs[0].field = " ".into();
        assert!(with_grids(LOW_INCOME, &g).is_err());
    }
}
