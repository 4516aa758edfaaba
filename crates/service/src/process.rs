//! Process definitions: the stage graph a case runs through, as versioned data. Stages are named;
//! a task is human work for a department and role with a limit in working days; `parallel` opens
//! branches that must all reach their `join` (co-approval); `choice` takes one branch by the
//! applicant's answer to a guiding question; `wait` is a timer on the working-day calendar (a
//! public notice); `end` approves. A definition is checked whole before it is saved: stages it
//! names exist, every stage is reachable, every path ends, and the graph has no cycle.

use serde::{Deserialize, Serialize};
use shuju_types::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Stage {
    /// Human work: a department (by name) and a role (by key) act within `days` working days.
    Task {
        department: String,
        role: String,
        days: u32,
        next: String,
    },
    /// Open every branch at once; the case goes on from `join` when all have reached it.
    Parallel { branches: Vec<String>, join: String },
    /// Where parallel branches meet.
    Join { next: String },
    /// One branch by the applicant's answer to `question`; `otherwise` for any other answer.
    Choice {
        question: String,
        branches: BTreeMap<String, String>,
        otherwise: String,
    },
    /// A timer: the case goes on after `days` working days.
    Wait { days: u32, next: String },
    /// The case is approved.
    End {},
}

impl Stage {
    /// The stages this one leads to.
    pub fn next(&self) -> Vec<&str> {
        match self {
            Stage::Task { next, .. } | Stage::Join { next } | Stage::Wait { next, .. } => {
                vec![next.as_str()]
            }
            Stage::Parallel { branches, .. } => branches.iter().map(String::as_str).collect(),
            Stage::Choice {
                branches,
                otherwise,
                ..
            } => branches
                .values()
                .map(String::as_str)
                .chain([otherwise.as_str()])
                .collect(),
            Stage::End {} => vec![],
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Process {
    /// lowercase letters, digits and `_`.
    pub name: String,
    pub title: String,
    pub start: String,
    pub stages: BTreeMap<String, Stage>,
    /// The saved version (0 before the first save).
    #[serde(default)]
    pub version: i64,
}

fn ident(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl Process {
    /// Check the graph; every refusal names the stage.
    pub fn validate(&self) -> Result<()> {
        if !ident(&self.name) {
            return Err(Error::invalid(
                "name",
                "a process's name is lowercase letters, digits and _",
            ));
        }
        if self.title.trim().is_empty() {
            return Err(Error::invalid("title", "is required"));
        }
        if self.stages.is_empty() {
            return Err(Error::invalid("stages", "a process has at least one stage"));
        }
        if self.stages.len() > 200 {
            return Err(Error::invalid("stages", "at most 200 stages"));
        }
        if !self.stages.contains_key(&self.start) {
            return Err(Error::invalid(
                "start",
                format!("the start stage {} is not defined", self.start),
            ));
        }
        for (id, s) in &self.stages {
            if !ident(id) {
                return Err(Error::invalid(
                    "stages",
                    format!("stage id {id:?}: lowercase letters, digits and _"),
                ));
            }
            for n in s.next() {
                if !self.stages.contains_key(n) {
                    return Err(Error::invalid(
                        "stages",
                        format!("stage {id} leads to {n}, which is not defined"),
                    ));
                }
            }
            match s {
                Stage::Task {
                    department,
                    role,
                    days,
                    ..
                } => {
                    if department.trim().is_empty() || role.trim().is_empty() {
                        return Err(Error::invalid(
                            "stages",
                            format!("task {id} names a department and a role"),
                        ));
                    }
                    if *days == 0 {
                        return Err(Error::invalid(
                            "stages",
                            format!("task {id} has at least one working day"),
                        ));
                    }
                }
                Stage::Wait { days: 0, .. } => {
                    return Err(Error::invalid(
                        "stages",
                        format!("wait {id} lasts at least one working day"),
                    ));
                }
                Stage::Parallel { branches, join } => {
                    if branches.len() < 2 {
                        return Err(Error::invalid(
                            "stages",
                            format!("parallel {id} opens at least two branches"),
                        ));
                    }
                    if !matches!(self.stages.get(join), Some(Stage::Join { .. })) {
                        return Err(Error::invalid(
                            "stages",
                            format!("parallel {id} joins at {join}, which is not a join"),
                        ));
                    }
                    for b in branches {
                        if !self.reaches(b, join) {
                            return Err(Error::invalid(
                                "stages",
                                format!(
                                    "branch {b} of parallel {id} never reaches its join {join}"
                                ),
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
        for (id, s) in &self.stages {
            if matches!(s, Stage::Join { .. })
                && self
                    .stages
                    .values()
                    .filter(|p| matches!(p, Stage::Parallel { join, .. } if join == id))
                    .count()
                    != 1
            {
                return Err(Error::invalid(
                    "stages",
                    format!("join {id} belongs to exactly one parallel stage"),
                ));
            }
        }
        if let Some(id) = self.cycle() {
            return Err(Error::invalid(
                "stages",
                format!("the stage graph has a cycle through {id}"),
            ));
        }
        let reached = self.reachable();
        if let Some(id) = self.stages.keys().find(|k| !reached.contains(k.as_str())) {
            return Err(Error::invalid(
                "stages",
                format!("stage {id} cannot be reached from the start"),
            ));
        }
        if !self.stages.values().any(|s| matches!(s, Stage::End {})) {
            return Err(Error::invalid("stages", "a process has an end stage"));
        }
        Ok(())
    }

    fn reachable(&self) -> BTreeSet<&str> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![self.start.as_str()];
        while let Some(s) = todo.pop() {
            if seen.insert(s)
                && let Some(st) = self.stages.get(s)
            {
                todo.extend(st.next());
            }
        }
        seen
    }

    fn reaches(&self, from: &str, to: &str) -> bool {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from];
        while let Some(s) = todo.pop() {
            if s == to {
                return true;
            }
            if seen.insert(s)
                && let Some(st) = self.stages.get(s)
            {
                todo.extend(st.next());
            }
        }
        false
    }

    /// A stage on a cycle, if the graph has one (depth-first, colouring stages).
    fn cycle(&self) -> Option<&str> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            Open,
            Done,
        }
        let mut marks: BTreeMap<&str, Mark> = BTreeMap::new();
        for root in self.stages.keys() {
            if marks.contains_key(root.as_str()) {
                continue;
            }
            // (stage, whether its successors were pushed)
            let mut stack = vec![(root.as_str(), false)];
            while let Some((s, expanded)) = stack.pop() {
                if expanded {
                    marks.insert(s, Mark::Done);
                    continue;
                }
                match marks.get(s) {
                    Some(Mark::Done) => continue,
                    Some(Mark::Open) => continue,
                    None => {}
                }
                marks.insert(s, Mark::Open);
                stack.push((s, true));
                for n in self.stages.get(s).map(Stage::next).unwrap_or_default() {
                    match marks.get(n) {
                        Some(Mark::Open) => return Some(n),
                        Some(Mark::Done) => {}
                        None => stack.push((n, false)),
                    }
                }
            }
        }
        None
    }

    /// The join a branch stage belongs to (the innermost parallel that opened it), if any.
    pub fn join_of_parallel(&self, parallel: &str) -> Option<&str> {
        match self.stages.get(parallel) {
            Some(Stage::Parallel { join, .. }) => Some(join),
            _ => None,
        }
    }

    /// How many branches meet at `join`.
    pub fn branches_into(&self, join: &str) -> usize {
        self.stages
            .values()
            .find_map(|s| match s {
                Stage::Parallel { branches, join: j } if j == join => Some(branches.len()),
                _ => None,
            })
            .unwrap_or(1)
    }

    /// The tasks' departments, to resolve to ids before the process is saved.
    pub fn departments(&self) -> BTreeSet<&str> {
        self.stages
            .values()
            .filter_map(|s| match s {
                Stage::Task { department, .. } => Some(department.as_str()),
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Window intake, then two departments in parallel, then the decider; a public notice when
    /// the applicant does not own the premises.
    pub fn two_departments() -> Process {
        serde_json::from_value(serde_json::json!({
            "name": "two_departments",
            "title": "两部门并联审批",
            "start": "accept",
            "stages": {
                "accept": {"kind": "task", "department": "市场监督管理局", "role": "approver", "days": 1, "next": "route"},
                "route": {"kind": "choice", "question": "owns", "branches": {"否": "notice"}, "otherwise": "both"},
                "notice": {"kind": "wait", "days": 2, "next": "both"},
                "both": {"kind": "parallel", "branches": ["market", "fire"], "join": "met"},
                "market": {"kind": "task", "department": "市场监督管理局", "role": "approver", "days": 3, "next": "met"},
                "fire": {"kind": "task", "department": "应急管理局", "role": "approver", "days": 2, "next": "met"},
                "met": {"kind": "join", "next": "done"},
                "done": {"kind": "end"}
            }
        }))
        .unwrap()
    }

    #[test]
    fn a_sound_graph_and_each_fault_named() {
        let p = two_departments();
        p.validate().unwrap();
        let msg = |p: &Process| p.validate().unwrap_err().message;

        let mut cyc = p.clone();
        cyc.stages.insert(
            "fire".into(),
            Stage::Task {
                department: "应急管理局".into(),
                role: "approver".into(),
                days: 2,
                next: "accept".into(),
            },
        );
        assert!(
            msg(&cyc).contains("cycle") || msg(&cyc).contains("never reaches"),
            "{}",
            msg(&cyc)
        );

        let mut loop_ = p.clone();
        loop_.stages.insert(
            "notice".into(),
            Stage::Wait {
                days: 2,
                next: "route".into(),
            },
        );
        assert!(msg(&loop_).contains("cycle through"), "{}", msg(&loop_));

        let mut missing = p.clone();
        missing.stages.remove("met");
        assert!(
            msg(&missing).contains("at met, which is not a join"),
            "{}",
            msg(&missing)
        );

        let mut orphan = p.clone();
        orphan.stages.insert("lost".into(), Stage::End {});
        assert!(
            msg(&orphan).contains("lost cannot be reached"),
            "{}",
            msg(&orphan)
        );

        let mut zero = p.clone();
        zero.stages.insert(
            "market".into(),
            Stage::Task {
                department: "市场监督管理局".into(),
                role: "approver".into(),
                days: 0,
                next: "met".into(),
            },
        );
        assert!(msg(&zero).contains("market"), "{}", msg(&zero));

        let unknown = serde_json::from_value::<Process>(serde_json::json!({
            "name": "x", "title": "x", "start": "a",
            "stages": {"a": {"kind": "end", "colour": "red"}}
        }));
        assert!(unknown.unwrap_err().to_string().contains("colour"));
        let unknown_kind = serde_json::from_value::<Process>(serde_json::json!({
            "name": "x", "title": "x", "start": "a",
            "stages": {"a": {"kind": "teleport"}}
        }));
        assert!(unknown_kind.is_err());
    }
}
