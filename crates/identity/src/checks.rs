//! One-click checks (一键审核): rule sets written as data — GoRules JSON Decision Models whose
//! decision tables officials edit — evaluated by the ZEN engine on facts drawn from a person's
//! file, answering yes or no with the reason for each rule.
//!
//! A rule set is a graph of input, decision-table, expression and switch nodes. Function nodes
//! (JavaScript), custom nodes and sub-decision loaders are refused: an approval must not run code
//! or reach the network. Each decision table collects rows of `{rule, pass, reason}` into
//! `checks`; the answer is yes when every rule that answered passed.

use serde::Serialize;
use serde_json::Value;
use shuju_types::{Error, Result};
use std::sync::Arc;
use zen_engine::DecisionEngine;
use zen_engine::model::DecisionContent;

/// The rule sets the platform starts with (editable; each edit a new version).
pub const BUILT_IN: &[(&str, &str, &str)] = &[
    (
        "low_income",
        "低保资格审核",
        include_str!("../rules/low_income.json"),
    ),
    (
        "exit_entry",
        "出入境证件预审",
        include_str!("../rules/exit_entry.json"),
    ),
    (
        "individual_business",
        "个体工商户登记预审",
        include_str!("../rules/individual_business.json"),
    ),
    (
        "vehicle_entry",
        "货车城区通行证秒批",
        include_str!("../rules/vehicle_entry.json"),
    ),
];

const ALLOWED: &[&str] = &[
    "inputNode",
    "outputNode",
    "decisionTableNode",
    "expressionNode",
    "switchNode",
];

/// A vetted decision model, ready to evaluate.
pub type Rules = Arc<DecisionContent>;

/// Parse and vet a decision model: JSON, a graph, only the allowed node kinds, and it runs.
pub fn parse(jdm: &str) -> Result<Arc<DecisionContent>> {
    let v: Value =
        serde_json::from_str(jdm).map_err(|e| Error::invalid("jdm", format!("not JSON: {e}")))?;
    let nodes = v
        .get("nodes")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::invalid("jdm", "a decision graph has nodes and edges"))?;
    for n in nodes {
        let kind = n.get("type").and_then(Value::as_str).unwrap_or_default();
        if !ALLOWED.contains(&kind) {
            return Err(Error::invalid(
                "jdm",
                format!(
                    "node {} is a {kind}: approval rules may use only {}",
                    n.get("name").and_then(Value::as_str).unwrap_or("?"),
                    ALLOWED.join(", ")
                ),
            ));
        }
    }
    let content: DecisionContent = serde_json::from_value(v)
        .map_err(|e| Error::invalid("jdm", format!("not a decision model: {e}")))?;
    if !matches!(content, DecisionContent::Graph(_)) {
        return Err(Error::invalid("jdm", "a decision graph is expected"));
    }
    Ok(Arc::new(content))
}

/// One rule's answer.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleOutcome {
    pub rule: String,
    pub pass: bool,
    pub reason: String,
    /// The row sends the case to an officer (an instant matter's manual route).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub manual: bool,
    /// The legal-basis clause the row applies.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub basis: String,
}

/// A check's answer: yes or no, the reason for each rule, and the facts it was given.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckResult {
    pub rule_set: String,
    pub version: i64,
    pub passed: bool,
    pub rules: Vec<RuleOutcome>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub facts: Value,
}

/// Evaluate a decision model on `facts`.
pub fn evaluate(content: Arc<DecisionContent>, facts: &Value) -> Result<Vec<RuleOutcome>> {
    evaluate_many(content, std::slice::from_ref(facts))
        .pop()
        .unwrap_or_else(|| Err(Error::internal("no answer")))
}

/// Evaluate a decision model on many sets of facts (a replay), the decision built once.
pub fn evaluate_many(
    content: Arc<DecisionContent>,
    facts: &[Value],
) -> Vec<Result<Vec<RuleOutcome>>> {
    let engine = DecisionEngine::default();
    let decision = match engine.create_decision(content) {
        Ok(d) => d,
        Err(e) => {
            let why = e.to_string();
            return facts
                .iter()
                .map(|_| Err(Error::invalid("jdm", why.clone())))
                .collect();
        }
    };
    facts
        .iter()
        .map(|f| {
            // The engine's futures stay on this thread; no I/O happens in them.
            let out = futures::executor::block_on(decision.evaluate(f.clone().into()))
                .map_err(|e| Error::invalid("jdm", format!("evaluation failed: {e}")))?;
            outcomes(out.result.to_value())
        })
        .collect()
}

fn outcomes(result: Value) -> Result<Vec<RuleOutcome>> {
    let checks = result
        .get("checks")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    checks
        .iter()
        .map(|c| {
            Ok(RuleOutcome {
                rule: c
                    .get("rule")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_owned(),
                pass: c.get("pass").and_then(Value::as_bool).ok_or_else(|| {
                    Error::invalid("jdm", "a rule row must output pass: true or false")
                })?,
                reason: c
                    .get("reason")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                manual: match c.get("manual") {
                    None | Some(Value::Null) => false,
                    Some(Value::Bool(b)) => *b,
                    Some(_) => {
                        return Err(Error::invalid(
                            "jdm",
                            "a rule row's manual output is true or false",
                        ));
                    }
                },
                basis: c
                    .get("basis")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            })
        })
        .collect()
}

/// Yes only when rules answered and all passed.
pub fn passed(rules: &[RuleOutcome]) -> bool {
    !rules.is_empty() && rules.iter().all(|r| r.pass)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn low_income() -> Arc<DecisionContent> {
        parse(BUILT_IN[0].2).unwrap()
    }

    #[test]
    fn built_in_rule_sets_parse() {
        for (key, _, jdm) in BUILT_IN {
            parse(jdm).unwrap_or_else(|e| panic!("{key}: {}", e.message));
        }
    }

    #[test]
    fn low_income_answers_per_rule_and_a_property_changes_it() {
        let mut facts = json!({"income": 800, "properties": 1, "vehicles": 0, "enterprises": 0, "housing_fund": false});
        let r = evaluate(low_income(), &facts).unwrap();
        assert_eq!(r.len(), 5, "{r:?}");
        assert!(passed(&r), "{r:?}");
        facts["properties"] = json!(2);
        let r = evaluate(low_income(), &facts).unwrap();
        assert!(!passed(&r));
        let house = r.iter().find(|x| x.rule == "房产").unwrap();
        assert!(!house.pass && house.reason.contains("两套"), "{house:?}");
        assert!(r.iter().filter(|x| x.rule != "房产").all(|x| x.pass));
    }

    #[test]
    fn vehicle_entry_rows_pass_fail_and_send_to_an_officer() {
        let rules = parse(BUILT_IN[3].2).unwrap();
        let r = evaluate(
            rules.clone(),
            &json!({"id_valid": true, "age": 30, "vehicles": 1}),
        )
        .unwrap();
        assert_eq!(r.len(), 3, "{r:?}");
        assert!(passed(&r) && r.iter().all(|x| !x.manual && !x.basis.is_empty()));
        let r = evaluate(
            rules.clone(),
            &json!({"id_valid": true, "age": 30, "vehicles": 0}),
        )
        .unwrap();
        assert!(!passed(&r) && r.iter().any(|x| x.rule == "车辆" && !x.pass));
        let r = evaluate(rules, &json!({"id_valid": true, "age": 30, "vehicles": 5})).unwrap();
        assert!(r.iter().any(|x| x.manual), "{r:?}");
    }

    #[test]
    fn code_and_network_nodes_are_refused() {
        let mut v: Value = serde_json::from_str(BUILT_IN[0].2).unwrap();
        v["nodes"][1]["type"] = json!("functionNode");
        let e = parse(&v.to_string()).unwrap_err();
        assert!(e.message.contains("functionNode"), "{}", e.message);
        assert!(parse("{").is_err());
        assert!(parse("{\"nodes\": 1}").is_err());
    }
}
