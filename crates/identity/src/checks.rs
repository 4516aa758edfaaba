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
];

const ALLOWED: &[&str] = &[
    "inputNode",
    "outputNode",
    "decisionTableNode",
    "expressionNode",
    "switchNode",
];

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
    let engine = DecisionEngine::default();
    let decision = engine
        .create_decision(content)
        .map_err(|e| Error::invalid("jdm", e.to_string()))?;
    // The engine's futures stay on this thread; no I/O happens in them.
    let out = futures::executor::block_on(decision.evaluate(facts.clone().into()))
        .map_err(|e| Error::invalid("jdm", format!("evaluation failed: {e}")))?;
    let result: Value = out.result.to_value();
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
    fn code_and_network_nodes_are_refused() {
        let mut v: Value = serde_json::from_str(BUILT_IN[0].2).unwrap();
        v["nodes"][1]["type"] = json!("functionNode");
        let e = parse(&v.to_string()).unwrap_err();
        assert!(e.message.contains("functionNode"), "{}", e.message);
        assert!(parse("{").is_err());
        assert!(parse("{\"nodes\": 1}").is_err());
    }
}
