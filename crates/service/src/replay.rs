//! Replay before release: a draft of an instant matter's rule set run over the past cases its
//! rules decided, listing who flips and why, with a gap analysis of the draft's decision tables
//! (input ranges no row covers, rows that contradict each other, rows never reached). A rule set
//! that decides instant matters is published only with a replay another account has seen.

use crate::case::{Route, RuleRow};
use crate::instant::route;
use crate::{Services, lock};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use shuju_admin::{Caller, perm};
use shuju_identity::checks;
use shuju_store::audit::{self, Outcome};
use shuju_store::service as db;
use shuju_types::{Error, Result};
use std::collections::BTreeMap;

/// The most past cases one replay reads.
pub const MAX_CASES: i64 = 200_000;

/// A case whose route the draft changes.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Flip {
    pub case_id: i64,
    pub from: Route,
    pub to: Route,
    /// The rules whose rows answer differently: (rule, before, after), each `pass`, `fail` or
    /// `manual` with its reason.
    pub rows_differ: Vec<RowChange>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RowChange {
    pub rule: String,
    pub before: String,
    pub after: String,
}

/// An input range, or value, that no row of a decision table covers.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Gap {
    /// The table's input field (a fact's name).
    pub input: String,
    /// `[960, 1000)`, `> 3`, `false` …
    pub uncovered: String,
}

/// Two rows of one rule that can both fire on the same input and answer differently, or a row
/// an earlier one hides (a first-hit table).
#[derive(Clone, Debug, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Clash {
    pub rows: Vec<String>,
    pub why: String,
}

/// What a replay found.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Report {
    pub rule_set: String,
    /// The version in force the past cases were decided under (the newest).
    pub from_version: i64,
    /// Past cases replayed (those whose rules ran).
    pub cases: usize,
    pub unchanged: usize,
    /// By change: `approve→refuse`, `refuse→manual` …
    pub counts: BTreeMap<String, usize>,
    pub flips: Vec<Flip>,
    pub gaps: Vec<Gap>,
    pub clashes: Vec<Clash>,
    /// Cases the draft could not evaluate (a fact it reads that the case lacks, …).
    pub errors: usize,
    pub millis: u128,
}

/// A replay as kept: its report, who ran it and who else has seen it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplayView {
    pub id: i64,
    pub rule_set: String,
    /// SHA-256 of the draft replayed: publishing names this replay and the same draft.
    pub draft_sha256: String,
    pub run_by: String,
    pub run_at: String,
    pub seen_by: Option<String>,
    pub seen_at: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub report: Value,
}

impl From<db::ReplayRow> for ReplayView {
    fn from(r: db::ReplayRow) -> ReplayView {
        ReplayView {
            id: r.id,
            rule_set: r.rule_set,
            draft_sha256: r.draft_sha256,
            run_by: r.run_by,
            run_at: r.run_at,
            seen_by: r.seen_by,
            seen_at: r.seen_at,
            report: serde_json::from_str(&r.report).unwrap_or_default(),
        }
    }
}

fn word(r: &RuleRow) -> String {
    let verdict = if r.manual {
        "manual"
    } else if r.pass {
        "pass"
    } else {
        "fail"
    };
    format!("{verdict}: {}", r.reason)
}

fn route_name(r: Route) -> &'static str {
    match r {
        Route::Approve => "approve",
        Route::Refuse => "refuse",
        Route::Manual => "manual",
    }
}

/// The rules whose answers differ between two evaluations.
fn differ(before: &[RuleRow], after: &[RuleRow]) -> Vec<RowChange> {
    let group = |rows: &[RuleRow]| {
        let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for r in rows {
            m.entry(r.rule.clone()).or_default().push(word(r));
        }
        m
    };
    let (b, a) = (group(before), group(after));
    let mut rules: Vec<&String> = b.keys().chain(a.keys()).collect();
    rules.sort();
    rules.dedup();
    rules
        .into_iter()
        .filter(|k| b.get(*k) != a.get(*k))
        .map(|k| RowChange {
            rule: k.clone(),
            before: b.get(k).map(|v| v.join("; ")).unwrap_or_else(|| "—".into()),
            after: a.get(k).map(|v| v.join("; ")).unwrap_or_else(|| "—".into()),
        })
        .collect()
}

/// The SHA-256 of a draft, as publishing compares it.
pub fn draft_digest(jdm: &str) -> String {
    hex::encode(Sha256::digest(jdm.as_bytes()))
}

// ---- gap analysis over decision tables ----

/// A set of numbers a cell accepts: a union of intervals, or every value.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Interval {
    lo: f64,
    lo_in: bool,
    hi: f64,
    hi_in: bool,
}

#[derive(Clone, Debug, PartialEq)]
enum Cell {
    Any,
    Num(Interval),
    Bool(bool),
    /// An expression the analysis does not read.
    Other,
}

fn num(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok()
}

fn cell(s: &str) -> Cell {
    let s = s.trim();
    let iv = |lo, lo_in, hi, hi_in| {
        Cell::Num(Interval {
            lo,
            lo_in,
            hi,
            hi_in,
        })
    };
    let inf = f64::INFINITY;
    if s.is_empty() {
        return Cell::Any;
    }
    match s {
        "true" => return Cell::Bool(true),
        "false" => return Cell::Bool(false),
        _ => {}
    }
    for (op, f) in [("<=", 0u8), (">=", 1), ("==", 2), ("<", 3), (">", 4)] {
        if let Some(x) = s.strip_prefix(op).and_then(num) {
            return match f {
                0 => iv(-inf, false, x, true),
                1 => iv(x, true, inf, false),
                2 => iv(x, true, x, true),
                3 => iv(-inf, false, x, false),
                _ => iv(x, false, inf, false),
            };
        }
    }
    if let Some(x) = num(s) {
        return iv(x, true, x, true);
    }
    let (lo_in, hi_in) = match (s.chars().next(), s.chars().last()) {
        (Some('[' | '('), Some(']' | ')')) => (s.starts_with('['), s.ends_with(']')),
        _ => return Cell::Other,
    };
    let inner = &s[1..s.len() - 1];
    match inner.split_once("..") {
        Some((a, b)) => match (num(a), num(b)) {
            (Some(a), Some(b)) => iv(a, lo_in, b, hi_in),
            _ => Cell::Other,
        },
        None => Cell::Other,
    }
}

fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

fn fmt_interval(i: &Interval) -> String {
    match (i.lo.is_infinite(), i.hi.is_infinite()) {
        (true, true) => "any value".into(),
        (true, false) => format!("{} {}", if i.hi_in { "<=" } else { "<" }, fmt_num(i.hi)),
        (false, true) => format!("{} {}", if i.lo_in { ">=" } else { ">" }, fmt_num(i.lo)),
        _ if i.lo == i.hi => format!("== {}", fmt_num(i.lo)),
        _ => format!(
            "{}{}, {}{}",
            if i.lo_in { "[" } else { "(" },
            fmt_num(i.lo),
            fmt_num(i.hi),
            if i.hi_in { "]" } else { ")" }
        ),
    }
}

/// The parts of the number line the intervals leave uncovered.
fn uncovered(mut ivs: Vec<Interval>) -> Vec<Interval> {
    ivs.sort_by(|a, b| a.lo.total_cmp(&b.lo).then_with(|| b.lo_in.cmp(&a.lo_in)));
    let mut out = Vec::new();
    // The covered frontier: everything below `at` (and `at` itself when `at_in`) is covered.
    let (mut at, mut at_in) = (f64::NEG_INFINITY, false);
    for i in ivs {
        let starts_after = i.lo > at || (i.lo == at && !i.lo_in && !at_in);
        if starts_after && !(i.lo == at && (i.lo_in || at_in)) {
            out.push(Interval {
                lo: at,
                lo_in: !at_in && at.is_finite(),
                hi: i.lo,
                hi_in: !i.lo_in,
            });
        }
        if i.hi > at || (i.hi == at && i.hi_in) {
            at = i.hi;
            at_in = i.hi_in;
        }
    }
    if at < f64::INFINITY {
        out.push(Interval {
            lo: at,
            lo_in: !at_in,
            hi: f64::INFINITY,
            hi_in: false,
        });
    }
    // A point gap like (x, x) is empty.
    out.retain(|g| g.lo < g.hi || (g.lo == g.hi && g.lo_in && g.hi_in));
    out
}

fn overlaps(a: &Cell, b: &Cell) -> bool {
    match (a, b) {
        (Cell::Any, _) | (_, Cell::Any) | (Cell::Other, _) | (_, Cell::Other) => true,
        (Cell::Bool(x), Cell::Bool(y)) => x == y,
        (Cell::Num(x), Cell::Num(y)) => {
            let lo_ok = x.lo < y.hi || (x.lo == y.hi && x.lo_in && y.hi_in);
            let hi_ok = y.lo < x.hi || (y.lo == x.hi && y.lo_in && x.hi_in);
            lo_ok && hi_ok
        }
        _ => false,
    }
}

fn contains(a: &Cell, b: &Cell) -> bool {
    match (a, b) {
        (Cell::Any, _) => true,
        (_, Cell::Any) | (Cell::Other, _) | (_, Cell::Other) => false,
        (Cell::Bool(x), Cell::Bool(y)) => x == y,
        (Cell::Num(x), Cell::Num(y)) => {
            (x.lo < y.lo || (x.lo == y.lo && (x.lo_in || !y.lo_in)))
                && (x.hi > y.hi || (x.hi == y.hi && (x.hi_in || !y.hi_in)))
        }
        _ => false,
    }
}

/// Gaps and clashes of every decision table of a decision model.
pub fn analyse(jdm: &Value) -> (Vec<Gap>, Vec<Clash>) {
    let mut gaps = Vec::new();
    let mut clashes = Vec::new();
    let tables = jdm["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|n| n["type"] == "decisionTableNode");
    for t in tables {
        let c = &t["content"];
        let first = c["hitPolicy"] == "first";
        let inputs: Vec<(String, String)> = c["inputs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| {
                (
                    i["id"].as_str().unwrap_or_default().to_owned(),
                    i["field"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let out_id = |field: &str| {
            c["outputs"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|o| o["field"] == field)
                .and_then(|o| o["id"].as_str())
                .map(str::to_owned)
        };
        let (rule_out, pass_out) = (out_id("rule"), out_id("pass"));
        let rows: Vec<&Value> = c["rules"].as_array().into_iter().flatten().collect();
        let cells: Vec<Vec<Cell>> = rows
            .iter()
            .map(|r| {
                inputs
                    .iter()
                    .map(|(id, _)| cell(r[id.as_str()].as_str().unwrap_or_default()))
                    .collect()
            })
            .collect();
        let name = |i: usize| {
            rows[i]["_id"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("row {}", i + 1))
        };
        // Inputs no row covers: for each input, over the rows that test it.
        for (k, (_, field)) in inputs.iter().enumerate() {
            let tested: Vec<&Cell> = cells
                .iter()
                .map(|r| &r[k])
                .filter(|c| **c != Cell::Any)
                .collect();
            if tested.is_empty() || tested.iter().any(|c| **c == Cell::Other) {
                continue;
            }
            let nums: Vec<Interval> = tested
                .iter()
                .filter_map(|c| match c {
                    Cell::Num(i) => Some(*i),
                    _ => None,
                })
                .collect();
            let bools: Vec<bool> = tested
                .iter()
                .filter_map(|c| match c {
                    Cell::Bool(b) => Some(*b),
                    _ => None,
                })
                .collect();
            if !nums.is_empty() {
                // Facts are counts, amounts and ages: below zero is no gap unless a row tests
                // negative values itself.
                let signed = nums.iter().any(|i| i.lo < 0.0);
                for g in uncovered(nums)
                    .into_iter()
                    .filter(|g| signed || g.hi > 0.0 || (g.hi == 0.0 && g.hi_in))
                {
                    gaps.push(Gap {
                        input: field.clone(),
                        uncovered: fmt_interval(&g),
                    });
                }
            }
            if !bools.is_empty() {
                for b in [true, false] {
                    if !bools.contains(&b) {
                        gaps.push(Gap {
                            input: field.clone(),
                            uncovered: b.to_string(),
                        });
                    }
                }
            }
        }
        // Clashes: rows of one rule that can fire together and answer differently; in a
        // first-hit table, rows an earlier row always hides.
        for j in 0..rows.len() {
            for i in 0..j {
                let all_overlap = cells[i].iter().zip(&cells[j]).all(|(a, b)| overlaps(a, b));
                if !all_overlap {
                    continue;
                }
                if first {
                    if cells[i].iter().zip(&cells[j]).all(|(a, b)| contains(a, b)) {
                        clashes.push(Clash {
                            rows: vec![name(i), name(j)],
                            why: format!("{} is never reached: {} comes first", name(j), name(i)),
                        });
                    }
                    continue;
                }
                let same_rule = rule_out
                    .as_ref()
                    .is_some_and(|o| rows[i][o.as_str()] == rows[j][o.as_str()]);
                let differ = pass_out
                    .as_ref()
                    .is_some_and(|o| rows[i][o.as_str()] != rows[j][o.as_str()]);
                if same_rule && differ {
                    clashes.push(Clash {
                        rows: vec![name(i), name(j)],
                        why: format!(
                            "{} and {} both fire on some input and answer differently",
                            name(i),
                            name(j)
                        ),
                    });
                }
            }
        }
    }
    (gaps, clashes)
}

impl Services {
    async fn require_rules(&self, c: &Caller, action: &str) -> Result<()> {
        c.require(&self.store, perm::IDENTITY_RULES, action, "rule_set", None)
            .await
    }

    /// Replay a draft of rule set `key` over the past cases its rules decided, kept as a report
    /// (audited).
    pub async fn replay(&self, c: &Caller, key: &str, jdm: &str) -> Result<ReplayView> {
        const ACTION: &str = "service.rules.replay";
        self.require_rules(c, ACTION).await?;
        let draft = checks::parse(jdm)?;
        let doc: Value = serde_json::from_str(jdm).map_err(Error::internal)?;
        let (from_version, _) = self.rules(key).await?;
        let started = std::time::Instant::now();
        let past = db::screenings(&self.store, key, MAX_CASES).await?;
        let facts: Vec<Value> = past
            .iter()
            .map(|s| serde_json::from_str(&s.facts).unwrap_or_default())
            .collect();
        let answers = tokio::task::spawn_blocking(move || checks::evaluate_many(draft, &facts))
            .await
            .map_err(Error::internal)?;
        let mut report = Report {
            rule_set: key.to_owned(),
            from_version,
            cases: past.len(),
            unchanged: 0,
            counts: BTreeMap::new(),
            flips: Vec::new(),
            gaps: Vec::new(),
            clashes: Vec::new(),
            errors: 0,
            millis: 0,
        };
        for (s, a) in past.iter().zip(answers) {
            let Ok(after) = a else {
                report.errors += 1;
                continue;
            };
            let after = crate::instant::rule_rows(after);
            let before: Vec<RuleRow> = serde_json::from_str(&s.rows).unwrap_or_default();
            let from = route(&before).0;
            let to = route(&after).0;
            if from == to {
                report.unchanged += 1;
                continue;
            }
            *report
                .counts
                .entry(format!("{}→{}", route_name(from), route_name(to)))
                .or_default() += 1;
            report.flips.push(Flip {
                case_id: s.case_id,
                from,
                to,
                rows_differ: differ(&before, &after),
            });
        }
        let (gaps, clashes) = analyse(&doc);
        report.gaps = gaps;
        report.clashes = clashes;
        report.millis = started.elapsed().as_millis();
        let body = serde_json::to_string(&report).map_err(Error::internal)?;
        let mut tx = self.store.write().await?;
        let id = db::add_replay(&mut tx, key, &draft_digest(jdm), &body, &c.username).await?;
        audit::append(
            &mut tx,
            &c.entry(
                ACTION,
                "rule_set",
                Some(format!("{key}: replay {id}")),
                Outcome::Ok,
                Some(format!(
                    "{} cases, {} flip",
                    report.cases,
                    report.flips.len()
                )),
            ),
        )
        .await?;
        tx.commit().await?;
        self.replay_view(c, id).await
    }

    /// A replay's report.
    pub async fn replay_view(&self, c: &Caller, id: i64) -> Result<ReplayView> {
        self.require_rules(c, "service.rules.replay.read").await?;
        db::replay(&self.store, id)
            .await?
            .map(Into::into)
            .ok_or_else(|| Error::not_found(format!("replay {id}")))
    }

    /// A second account records that it has seen a replay's report (the one who ran it cannot).
    pub async fn replay_seen(&self, c: &Caller, id: i64) -> Result<ReplayView> {
        const ACTION: &str = "service.rules.replay.seen";
        self.require_rules(c, ACTION).await?;
        let r = self.replay_view(c, id).await?;
        if r.run_by == c.username {
            return Err(Error::forbidden(
                "the replay's report is seen by an account other than the one that ran it",
            ));
        }
        let mut tx = self.store.write().await?;
        db::replay_seen(&mut tx, id, &c.username).await?;
        audit::append(
            &mut tx,
            &c.entry(
                ACTION,
                "rule_set",
                Some(format!("{}: replay {id}", r.rule_set)),
                Outcome::Ok,
                None,
            ),
        )
        .await?;
        tx.commit().await?;
        self.replay_view(c, id).await
    }

    /// Import decided cases of an instant matter from a predecessor system, so that replay has
    /// their history: each set of facts becomes a decided case with its screening under the
    /// rule set in force (its route as the rules give it). One transaction; audited.
    pub async fn import_screenings(
        &self,
        c: &Caller,
        matter: &str,
        past: &[Value],
    ) -> Result<usize> {
        const ACTION: &str = "service.screenings.import";
        c.require(&self.store, perm::SERVICE_MATTERS, ACTION, "service", None)
            .await?;
        let m = self.matter(matter).await?;
        let i = m.instant.as_ref().ok_or_else(|| {
            Error::invalid("matter", format!("{matter} is not an instant matter"))
        })?;
        let (version, rules) = self.rules(&i.rules).await?;
        let facts = past.to_vec();
        let answers = tokio::task::spawn_blocking(move || checks::evaluate_many(rules, &facts))
            .await
            .map_err(Error::internal)?;
        let process_version = self.process(&m.process, None).await?.version;
        let mut tx = self.store.write().await?;
        let ids = db::take_case_ids(&mut tx, past.len() as i64).await?;
        for ((f, a), id) in past.iter().zip(answers).zip(ids) {
            let rows = crate::instant::rule_rows(a?);
            let r = route(&rows).0;
            db::insert_case(
                &mut tx,
                &db::NewCase {
                    id,
                    matter_code: m.code.clone(),
                    matter_version: m.version,
                    process_name: m.process.clone(),
                    process_version,
                    applicant: "imported".into(),
                    centre_id: None,
                    status: match r {
                        Route::Approve => "approved",
                        Route::Refuse => "refused",
                        Route::Manual => "open",
                    }
                    .into(),
                    promised_by: String::new(),
                },
            )
            .await?;
            db::add_screening(
                &mut tx,
                &db::ScreeningRow {
                    case_id: id,
                    rule_set: i.rules.clone(),
                    rule_set_version: version,
                    route: route_name(r).into(),
                    ruled: 1,
                    facts: f.to_string(),
                    rows: serde_json::to_string(&rows).map_err(Error::internal)?,
                    sampled: 0,
                },
            )
            .await?;
        }
        audit::append(
            &mut tx,
            &c.entry(
                ACTION,
                "matter",
                Some(m.code.clone()),
                Outcome::Ok,
                Some(format!("{} past cases", past.len())),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(past.len())
    }

    /// Save a new version of a rule set. One that decides an instant matter needs a replay of
    /// exactly this draft whose report another account has seen.
    pub async fn publish_rules(
        &self,
        c: &Caller,
        key: &str,
        name: &str,
        jdm: &str,
        replay: Option<i64>,
    ) -> Result<i64> {
        let used = self
            .matters()
            .await?
            .into_iter()
            .any(|m| m.instant.as_ref().is_some_and(|i| i.rules == key));
        if used {
            self.require_rules(c, "identity.rules.save").await?;
            let id = replay.ok_or_else(|| {
                Error::invalid(
                    "replay",
                    format!("{key} decides instant matters: replay the draft over past cases first, and have another account see the report"),
                )
            })?;
            let r = db::replay(&self.store, id)
                .await?
                .ok_or_else(|| Error::invalid("replay", format!("there is no replay {id}")))?;
            if r.rule_set != key || r.draft_sha256 != draft_digest(jdm) {
                return Err(Error::invalid(
                    "replay",
                    "the replay was of another draft; replay this one",
                ));
            }
            match &r.seen_by {
                Some(by) if *by != r.run_by => {}
                _ => {
                    return Err(Error::invalid(
                        "replay",
                        "no account other than the one that ran the replay has seen its report",
                    ));
                }
            }
        }
        let v = self.persons.save_rule_set(c, key, name, jdm).await?;
        lock(&self.rules_cache).retain(|(k, _), _| k != key);
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table(rows: Value, policy: &str) -> Value {
        json!({"nodes": [{"type": "decisionTableNode", "content": {
            "hitPolicy": policy,
            "inputs": [{"id": "i", "field": "income"}, {"id": "b", "field": "fund"}],
            "outputs": [{"id": "r", "field": "rule"}, {"id": "p", "field": "pass"}],
            "rules": rows}}]})
    }

    #[test]
    fn cells_read_as_sets() {
        assert_eq!(cell(""), Cell::Any);
        assert_eq!(cell("true"), Cell::Bool(true));
        assert!(matches!(cell("< 960"), Cell::Num(i) if i.hi == 960.0 && !i.hi_in));
        assert!(matches!(cell("[1..3]"), Cell::Num(i) if i.lo == 1.0 && i.hi_in));
        assert!(matches!(cell("(1..3]"), Cell::Num(i) if !i.lo_in && i.hi_in));
        assert_eq!(cell("$ > 3 and $ < 5"), Cell::Other);
        assert!(matches!(cell("== 0"), Cell::Num(i) if i.lo == 0.0 && i.hi == 0.0));
    }

    #[test]
    fn a_threshold_moved_on_one_side_leaves_a_gap() {
        let t = table(
            json!([
                {"_id": "r1", "i": "< 1000", "b": "", "r": "\"收入\"", "p": "true"},
                {"_id": "r2", "i": ">= 1100", "b": "", "r": "\"收入\"", "p": "false"},
                {"_id": "r3", "i": "", "b": "true", "r": "\"公积金\"", "p": "true"}
            ]),
            "collect",
        );
        let (gaps, clashes) = analyse(&t);
        assert_eq!(
            gaps,
            vec![
                Gap {
                    input: "income".into(),
                    uncovered: "[1000, 1100)".into()
                },
                Gap {
                    input: "fund".into(),
                    uncovered: "false".into()
                }
            ]
        );
        assert!(clashes.is_empty());
    }

    #[test]
    fn covered_lines_have_no_gap_and_overlaps_clash() {
        let t = table(
            json!([
                {"_id": "r1", "i": "< 960", "b": "", "r": "\"收入\"", "p": "true"},
                {"_id": "r2", "i": ">= 960", "b": "", "r": "\"收入\"", "p": "false"},
                {"_id": "r3", "i": "[900..1000]", "b": "", "r": "\"收入\"", "p": "true"}
            ]),
            "collect",
        );
        let (gaps, clashes) = analyse(&t);
        assert!(gaps.is_empty(), "{gaps:?}");
        assert_eq!(clashes.len(), 1, "{clashes:?}");
        assert_eq!(clashes[0].rows, vec!["r2".to_owned(), "r3".to_owned()]);
        // A first-hit table: a row inside an earlier one is never reached.
        let t = table(
            json!([
                {"_id": "a", "i": "> 0", "b": "", "r": "\"x\"", "p": "true"},
                {"_id": "b", "i": "[5..6]", "b": "", "r": "\"x\"", "p": "false"},
                {"_id": "c", "i": "<= 0", "b": "", "r": "\"x\"", "p": "false"}
            ]),
            "first",
        );
        let (gaps, clashes) = analyse(&t);
        assert!(gaps.is_empty(), "{gaps:?}");
        assert_eq!(clashes.len(), 1);
        assert!(clashes[0].why.contains("never reached"));
    }

    #[test]
    fn point_and_open_ends() {
        let g = uncovered(vec![
            Interval {
                lo: f64::NEG_INFINITY,
                lo_in: false,
                hi: 1.0,
                hi_in: false,
            },
            Interval {
                lo: 1.0,
                lo_in: false,
                hi: 3.0,
                hi_in: true,
            },
        ]);
        let shown: Vec<String> = g.iter().map(fmt_interval).collect();
        assert_eq!(shown, vec!["== 1".to_owned(), "> 3".to_owned()]);
    }

    #[test]
    fn the_built_in_rules_have_no_gap() {
        for (key, _, jdm) in checks::BUILT_IN {
            let (gaps, _) = analyse(&serde_json::from_str(jdm).unwrap());
            assert!(gaps.is_empty(), "{key}: {gaps:?}");
        }
    }
}
