//! A case, event-sourced: every transition is an event, the case's state is the fold of its
//! events, and the engine that decides the next events is a pure function of the state, the
//! process version the case is pinned to, the working-day calendar and the day. Replaying the
//! stored events gives the same state, so a case can be audited and checked after a crash.

use crate::process::{Process, Stage};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use shuju_types::calendar::Calendar;
use shuju_types::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};

/// How a material of the case is served.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MaterialState {
    pub id: String,
    pub name: String,
    /// `data` (read from shared data, never asked for), `license` (an e-license shown) or
    /// `upload`.
    pub served_by: String,
    /// Where it came from: the fact read, or the license's id; empty for an upload.
    #[serde(default)]
    pub detail: String,
}

/// A form value and where it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FormValue {
    pub name: String,
    pub label: String,
    pub value: Option<String>,
    /// "table@version, delivered date" for an element, "fact name@version" for a fact; empty
    /// when the applicant fills it.
    #[serde(default)]
    pub source: String,
    pub locked: bool,
}

/// Where the applicant is told of the case's progress (受理, 补正, 办结), if anywhere.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// A mainland mobile number (11 digits, 1 then 3–9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

impl Contact {
    pub fn is_empty(&self) -> bool {
        self.email.is_none() && self.phone.is_none()
    }

    /// Refuse an address or number no notice could reach, naming it.
    pub fn check(&self) -> Result<()> {
        if let Some(e) = &self.email {
            let ok = e.len() <= 254
                && !e
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c))
                && e.split_once('@').is_some_and(|(l, d)| {
                    !l.is_empty()
                        && d.contains('.')
                        && !d.starts_with('.')
                        && !d.ends_with('.')
                        && !d.contains('@')
                });
            if !ok {
                return Err(Error::invalid("contact.email", "is not an email address"));
            }
        }
        if let Some(p) = &self.phone {
            let b = p.as_bytes();
            let ok = b.len() == 11
                && b[0] == b'1'
                && (b'3'..=b'9').contains(&b[1])
                && b.iter().all(u8::is_ascii_digit);
            if !ok {
                return Err(Error::invalid(
                    "contact.phone",
                    "is not a mainland mobile number (11 digits starting 13–19)",
                ));
            }
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Refuse,
}

/// Where an instant matter's rules send a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Route {
    Approve,
    Refuse,
    /// To an officer: the rules could not settle it, or its data is missing or withdrawn.
    Manual,
}

/// A rule row that fired.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleRow {
    pub rule: String,
    pub pass: bool,
    #[serde(default)]
    pub manual: bool,
    pub reason: String,
    /// The legal-basis clause the row applies.
    #[serde(default)]
    pub basis: String,
}

/// A fact of the applicant's file the rules read: its value (canonical JSON) stays in the case
/// file; a receipt carries only its hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FactUsed {
    pub name: String,
    /// Where it came from: `person_file`.
    pub source: String,
    /// The fact definition's version.
    pub version: i64,
    pub value: String,
}

/// How an instant matter's rules screened a case, before any officer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Screened {
    pub rule_set: String,
    pub rule_set_version: i64,
    pub route: Route,
    /// Shown to the applicant: why refused, or why an officer decides.
    pub reasons: Vec<String>,
    /// Every row that fired.
    pub rows: Vec<RuleRow>,
    pub facts: Vec<FactUsed>,
    /// The e-licenses shown (their IDs).
    pub licenses: Vec<String>,
    /// Salts the facts' hashes in the receipt (random, kept only in the case file).
    #[serde(default)]
    pub salt: String,
    /// An instant approval drawn for an officer's check after the fact (随机抽查).
    #[serde(default)]
    pub sampled: bool,
}

impl Screened {
    /// The facts the rules read, as the object the decision tables take (name → value).
    pub fn facts_object(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.facts
                .iter()
                .map(|f| {
                    (
                        f.name.clone(),
                        serde_json::from_str(&f.value).unwrap_or_default(),
                    )
                })
                .collect(),
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Pause {
    /// 补正: the applicant is asked for a correction.
    Correction,
    /// 特殊环节: expert review, public notice, on-site inspection.
    SpecialStep,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Approved,
    Refused,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Event {
    Opened {
        matter: String,
        matter_version: i64,
        process: String,
        process_version: i64,
        applicant: String,
        /// The receiving centre (收件地); `None`: applied online.
        centre_id: Option<i64>,
        /// The deciding body (办理地).
        deciding: String,
        answers: BTreeMap<String, String>,
        materials: Vec<MaterialState>,
        form: Vec<FormValue>,
        /// The applicant agreed that their data be read for the form.
        consent: bool,
        on: NaiveDate,
        promised_by: NaiveDate,
        /// Where the applicant is told of the case's progress.
        #[serde(default, skip_serializing_if = "Contact::is_empty")]
        contact: Contact,
    },
    /// An instant matter's rules ran (秒批): decided, or sent to an officer with the reasons.
    Screened(Screened),
    TaskOpened {
        stage: String,
        dept_id: i64,
        role: String,
        due: NaiveDate,
    },
    TaskDone {
        stage: String,
        by: String,
        decision: Decision,
        note: String,
    },
    /// A parallel branch reached its join.
    Arrived {
        join: String,
    },
    WaitStarted {
        stage: String,
        until: NaiveDate,
    },
    WaitEnded {
        stage: String,
    },
    Paused {
        pause: Pause,
        note: String,
        on: NaiveDate,
    },
    /// The clock runs again; every open limit moved by the working days paused.
    Resumed {
        on: NaiveDate,
        days: u32,
        dues: BTreeMap<String, NaiveDate>,
        promised_by: NaiveDate,
    },
    /// A task's deadline is near: its department's leaders are told.
    Escalated {
        stage: String,
        due: NaiveDate,
    },
    Decided {
        outcome: Outcome,
        basis: String,
        on: NaiveDate,
    },
    /// A check after the fact (随机抽查) found an instant approval wrong: withdrawn, with the
    /// license it issued revoked.
    Withdrawn {
        finding: String,
        by: String,
        on: NaiveDate,
    },
    /// After an approval: the matter's e-license issued into the holder's wallet, or why not
    /// (`license_id` absent, `note` the reason).
    Issued {
        license_id: Option<String>,
        #[serde(default)]
        note: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpenTask {
    pub dept_id: i64,
    pub role: String,
    pub due: NaiveDate,
    pub escalated: bool,
}

/// Why and since when a case's clock stands still.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Paused {
    pub pause: Pause,
    pub since: NaiveDate,
}

/// How a case ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Decided {
    pub outcome: Outcome,
    /// The basis a refusal cites.
    pub basis: String,
    pub on: NaiveDate,
}

/// A case's state: the fold of its events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Case {
    pub matter: String,
    pub matter_version: i64,
    pub process: String,
    pub process_version: i64,
    pub applicant: String,
    pub centre_id: Option<i64>,
    pub deciding: String,
    pub answers: BTreeMap<String, String>,
    pub materials: Vec<MaterialState>,
    pub form: Vec<FormValue>,
    pub consent: bool,
    pub contact: Contact,
    /// An instant matter's screening, if it ran.
    pub screened: Option<Screened>,
    pub opened_on: NaiveDate,
    pub promised_by: NaiveDate,
    pub tasks: BTreeMap<String, OpenTask>,
    pub waits: BTreeMap<String, NaiveDate>,
    pub arrived: BTreeMap<String, usize>,
    pub paused: Option<Paused>,
    pub decided: Option<Decided>,
    /// Every department that has held a task of the case.
    pub departments: BTreeSet<i64>,
    /// The e-license an approval issued (its id), once issued.
    pub license: Option<String>,
    /// Issuing was tried after the approval (issued or failed).
    pub issuing_done: bool,
    /// Why a check after the fact withdrew the approval.
    pub withdrawn: Option<String>,
    pub events: usize,
}

impl Case {
    /// `open`, `paused`, `approved`, `refused` or `withdrawn`.
    pub fn status(&self) -> &'static str {
        if self.withdrawn.is_some() {
            return "withdrawn";
        }
        match (&self.decided, &self.paused) {
            (
                Some(Decided {
                    outcome: Outcome::Approved,
                    ..
                }),
                _,
            ) => "approved",
            (
                Some(Decided {
                    outcome: Outcome::Refused,
                    ..
                }),
                _,
            ) => "refused",
            (None, Some(_)) => "paused",
            (None, None) => "open",
        }
    }

    fn bad(&self, what: &str) -> Error {
        Error::conflict(format!("event {} of the case: {what}", self.events + 1))
    }

    /// Apply one event; an event the state does not allow is an error (a corrupt history).
    pub fn apply(&mut self, e: &Event) -> Result<()> {
        if let Event::Issued { license_id, .. } = e {
            if !matches!(
                self.decided,
                Some(Decided {
                    outcome: Outcome::Approved,
                    ..
                })
            ) || self.issuing_done
            {
                return Err(self.bad("a license issued for a case not approved, or twice"));
            }
            self.license = license_id.clone();
            self.issuing_done = true;
            self.events += 1;
            return Ok(());
        }
        if let Event::Withdrawn { finding, .. } = e {
            if self.status() != "approved" {
                return Err(self.bad("only an approval is withdrawn, once"));
            }
            self.withdrawn = Some(finding.clone());
            self.events += 1;
            return Ok(());
        }
        if self.decided.is_some() {
            return Err(self.bad("the case is already decided"));
        }
        match e {
            Event::Issued { .. } | Event::Withdrawn { .. } => unreachable!("handled above"),
            Event::Opened { .. } => return Err(self.bad("opened twice")),
            Event::Screened(sc) => {
                if self.screened.is_some() || self.events != 1 {
                    return Err(self.bad("screened other than right after the opening"));
                }
                self.screened = Some(sc.clone());
            }
            Event::TaskOpened {
                stage,
                dept_id,
                role,
                due,
            } => {
                self.departments.insert(*dept_id);
                self.tasks.insert(
                    stage.clone(),
                    OpenTask {
                        dept_id: *dept_id,
                        role: role.clone(),
                        due: *due,
                        escalated: false,
                    },
                );
            }
            Event::TaskDone { stage, .. } => {
                if self.paused.is_some() {
                    return Err(self.bad("a task done while the case is paused"));
                }
                if self.tasks.remove(stage).is_none() {
                    return Err(self.bad(&format!("task {stage} is not open")));
                }
            }
            Event::Arrived { join } => *self.arrived.entry(join.clone()).or_default() += 1,
            Event::WaitStarted { stage, until } => {
                self.waits.insert(stage.clone(), *until);
            }
            Event::WaitEnded { stage } => {
                if self.waits.remove(stage).is_none() {
                    return Err(self.bad(&format!("no wait {stage}")));
                }
            }
            Event::Paused { pause, on, .. } => {
                if self.paused.is_some() {
                    return Err(self.bad("paused twice"));
                }
                self.paused = Some(Paused {
                    pause: *pause,
                    since: *on,
                });
            }
            Event::Resumed {
                dues, promised_by, ..
            } => {
                if self.paused.take().is_none() {
                    return Err(self.bad("resumed without a pause"));
                }
                for (stage, due) in dues {
                    if let Some(t) = self.tasks.get_mut(stage) {
                        t.due = *due;
                    } else if let Some(w) = self.waits.get_mut(stage) {
                        *w = *due;
                    }
                }
                self.promised_by = *promised_by;
            }
            Event::Escalated { stage, .. } => match self.tasks.get_mut(stage) {
                Some(t) => t.escalated = true,
                None => return Err(self.bad(&format!("escalated task {stage} is not open"))),
            },
            Event::Decided {
                outcome, basis, on, ..
            } => {
                self.decided = Some(Decided {
                    outcome: *outcome,
                    basis: basis.clone(),
                    on: *on,
                });
                self.tasks.clear();
                self.waits.clear();
                self.paused = None;
            }
        }
        self.events += 1;
        Ok(())
    }
}

/// The state a case's events lead to.
pub fn fold<'a>(events: impl IntoIterator<Item = &'a Event>) -> Result<Case> {
    let mut it = events.into_iter();
    let Some(Event::Opened {
        matter,
        matter_version,
        process,
        process_version,
        applicant,
        centre_id,
        deciding,
        answers,
        materials,
        form,
        consent,
        on,
        promised_by,
        contact,
    }) = it.next()
    else {
        return Err(Error::conflict("a case's history starts with its opening"));
    };
    let mut c = Case {
        matter: matter.clone(),
        matter_version: *matter_version,
        process: process.clone(),
        process_version: *process_version,
        applicant: applicant.clone(),
        centre_id: *centre_id,
        deciding: deciding.clone(),
        answers: answers.clone(),
        materials: materials.clone(),
        form: form.clone(),
        consent: *consent,
        contact: contact.clone(),
        screened: None,
        opened_on: *on,
        promised_by: *promised_by,
        tasks: BTreeMap::new(),
        waits: BTreeMap::new(),
        arrived: BTreeMap::new(),
        paused: None,
        decided: None,
        departments: BTreeSet::new(),
        license: None,
        issuing_done: false,
        withdrawn: None,
        events: 1,
    };
    for e in it {
        c.apply(e)?;
    }
    Ok(c)
}

/// What an officer does with a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Act {
    Approve,
    Refuse,
    /// Ask the applicant for a correction (补正): the clock stops.
    Correct,
    /// Start a special step (特殊环节): the clock stops.
    SpecialStep,
}

/// Decides the events that follow from a transition: pure, given the case's process version, the
/// calendar, the departments by name and the day.
pub struct Engine<'a> {
    pub process: &'a Process,
    pub calendar: &'a Calendar,
    pub departments: &'a BTreeMap<String, i64>,
    /// Escalate a task this many working days before its deadline.
    pub warn_days: u32,
}

/// Events being decided, each applied to a working copy of the state as it is added.
pub struct Batch {
    pub case: Case,
    pub events: Vec<Event>,
}

impl Batch {
    fn push(&mut self, e: Event) -> Result<()> {
        self.case.apply(&e)?;
        self.events.push(e);
        Ok(())
    }
}

impl Engine<'_> {
    /// The events of entering `stage` on `day` (and whatever follows at once).
    fn enter(&self, b: &mut Batch, stage: &str, day: NaiveDate) -> Result<()> {
        let s = self
            .process
            .stages
            .get(stage)
            .ok_or_else(|| Error::conflict(format!("the process has no stage {stage}")))?;
        match s {
            Stage::Task {
                department,
                role,
                days,
                ..
            } => {
                let dept_id = *self
                    .departments
                    .get(department)
                    .ok_or_else(|| Error::conflict(format!("no department named {department}")))?;
                b.push(Event::TaskOpened {
                    stage: stage.to_owned(),
                    dept_id,
                    role: role.clone(),
                    due: self.calendar.add_working_days(day, *days),
                })
            }
            Stage::Parallel { branches, .. } => {
                for br in branches {
                    self.enter(b, br, day)?;
                }
                Ok(())
            }
            Stage::Join { next } => {
                b.push(Event::Arrived {
                    join: stage.to_owned(),
                })?;
                if b.case.arrived.get(stage).copied().unwrap_or(0)
                    >= self.process.branches_into(stage)
                {
                    self.enter(b, next, day)?;
                }
                Ok(())
            }
            Stage::Choice {
                question,
                branches,
                otherwise,
            } => {
                let to = b
                    .case
                    .answers
                    .get(question)
                    .and_then(|a| branches.get(a))
                    .unwrap_or(otherwise)
                    .clone();
                self.enter(b, &to, day)
            }
            Stage::Wait { days, .. } => b.push(Event::WaitStarted {
                stage: stage.to_owned(),
                until: self.calendar.add_working_days(day, *days),
            }),
            Stage::End {} => b.push(Event::Decided {
                outcome: Outcome::Approved,
                basis: String::new(),
                on: day,
            }),
        }
    }

    fn after(&self, stage: &str) -> Result<&str> {
        match self.process.stages.get(stage) {
            Some(Stage::Task { next, .. } | Stage::Wait { next, .. }) => Ok(next),
            _ => Err(Error::conflict(format!("{stage} is not a task or a wait"))),
        }
    }

    /// The events of opening: the opening itself, then the start stage.
    pub fn open(&self, opened: Event, day: NaiveDate) -> Result<Vec<Event>> {
        let case = fold([&opened])?;
        let mut b = Batch {
            case,
            events: vec![opened],
        };
        self.enter(&mut b, &self.process.start, day)?;
        Ok(b.events)
    }

    /// An officer acts on an open task.
    pub fn act(
        &self,
        case: &Case,
        stage: &str,
        by: &str,
        act: Act,
        note: &str,
        day: NaiveDate,
    ) -> Result<Vec<Event>> {
        if case.decided.is_some() {
            return Err(Error::conflict("the case is already decided"));
        }
        if !case.tasks.contains_key(stage) {
            return Err(Error::conflict(format!("task {stage} is not open")));
        }
        if case.paused.is_some() {
            return Err(Error::conflict(
                "the case is paused; it resumes when the correction or the special step is done",
            ));
        }
        let mut b = Batch {
            case: case.clone(),
            events: Vec::new(),
        };
        match act {
            Act::Approve => {
                b.push(Event::TaskDone {
                    stage: stage.to_owned(),
                    by: by.to_owned(),
                    decision: Decision::Approve,
                    note: note.to_owned(),
                })?;
                let next = self.after(stage)?.to_owned();
                self.enter(&mut b, &next, day)?;
            }
            Act::Refuse => {
                if note.trim().is_empty() {
                    return Err(Error::invalid(
                        "note",
                        "a refusal cites its basis (the rule or the fact that fails)",
                    ));
                }
                b.push(Event::TaskDone {
                    stage: stage.to_owned(),
                    by: by.to_owned(),
                    decision: Decision::Refuse,
                    note: note.to_owned(),
                })?;
                b.push(Event::Decided {
                    outcome: Outcome::Refused,
                    basis: note.to_owned(),
                    on: day,
                })?;
            }
            Act::Correct | Act::SpecialStep => {
                if note.trim().is_empty() {
                    return Err(Error::invalid(
                        "note",
                        "say what is to be corrected, or which special step runs",
                    ));
                }
                b.push(Event::Paused {
                    pause: if act == Act::Correct {
                        Pause::Correction
                    } else {
                        Pause::SpecialStep
                    },
                    note: note.to_owned(),
                    on: day,
                })?;
            }
        }
        Ok(b.events)
    }

    /// The clock runs again (the correction supplied, the special step done): every open limit
    /// and the promised date move by the working days the case was paused.
    pub fn resume(&self, case: &Case, day: NaiveDate) -> Result<Vec<Event>> {
        let Some(Paused { since, .. }) = case.paused else {
            return Err(Error::conflict("the case is not paused"));
        };
        let days = self.calendar.working_days_between(since, day);
        let shift = |d: NaiveDate| self.calendar.add_working_days(d, days);
        let dues = case
            .tasks
            .iter()
            .map(|(s, t)| (s.clone(), shift(t.due)))
            .chain(case.waits.iter().map(|(s, d)| (s.clone(), shift(*d))))
            .collect();
        Ok(vec![Event::Resumed {
            on: day,
            days,
            dues,
            promised_by: shift(case.promised_by),
        }])
    }

    /// What the clock brings on `day`: waits that are over go on; tasks within `warn_days` of
    /// their deadline are escalated (once).
    pub fn tick(&self, case: &Case, day: NaiveDate) -> Result<Vec<Event>> {
        if case.decided.is_some() || case.paused.is_some() {
            return Ok(Vec::new());
        }
        let mut b = Batch {
            case: case.clone(),
            events: Vec::new(),
        };
        let warn_by = self.calendar.add_working_days(day, self.warn_days);
        for (stage, t) in &case.tasks {
            if !t.escalated && t.due <= warn_by {
                b.push(Event::Escalated {
                    stage: stage.clone(),
                    due: t.due,
                })?;
            }
        }
        for (stage, until) in &case.waits {
            if *until <= day && b.case.decided.is_none() {
                b.push(Event::WaitEnded {
                    stage: stage.clone(),
                })?;
                let next = self.after(stage)?.to_owned();
                self.enter(&mut b, &next, day)?;
            }
        }
        Ok(b.events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::tests::two_departments;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// Labour Day 2026: Friday 1 May to Tuesday 5 May off, Saturday 9 May worked (调休).
    fn may_day() -> Calendar {
        Calendar {
            holidays: ["2026-05-01", "2026-05-04", "2026-05-05"]
                .iter()
                .map(|s| d(s))
                .collect(),
            workdays: [d("2026-05-09")].into(),
        }
    }

    fn opened(owns: &str, on: NaiveDate) -> Event {
        Event::Opened {
            matter: "m".into(),
            matter_version: 1,
            process: "two_departments".into(),
            process_version: 1,
            applicant: "11010519491231002X".into(),
            centre_id: Some(9),
            deciding: "市场监督管理局".into(),
            answers: [("owns".to_string(), owns.to_string())].into(),
            materials: vec![],
            form: vec![],
            consent: false,
            on,
            promised_by: on,
            contact: Default::default(),
        }
    }

    #[test]
    fn parallel_co_approval_across_a_worked_weekend_with_a_correction_and_escalation() {
        let p = two_departments();
        let cal = may_day();
        let depts = BTreeMap::from([
            ("市场监督管理局".to_string(), 3),
            ("应急管理局".to_string(), 4),
        ]);
        let e = Engine {
            process: &p,
            calendar: &cal,
            departments: &depts,
            warn_days: 1,
        };
        let mut events = e
            .open(opened("是", d("2026-04-29")), d("2026-04-29"))
            .unwrap();
        let mut case = fold(&events).unwrap();
        // Accepted within 1 working day: Thursday 30 April.
        assert_eq!(case.tasks["accept"].due, d("2026-04-30"));
        fn go(_: &Case, new: Vec<Event>, events: &mut Vec<Event>) -> Case {
            events.extend(new);
            fold(events.iter()).unwrap()
        }
        let next = e
            .act(&case, "accept", "clerk", Act::Approve, "", d("2026-04-30"))
            .unwrap();
        case = go(&case, next, &mut events);
        // Both departments at once. From Thursday 30 April: 3 working days are Wed 6, Thu 7,
        // Fri 8 May (1, 4 and 5 May are holidays); 2 are 6 and 7 May.
        assert_eq!(case.tasks["market"].due, d("2026-05-08"));
        assert_eq!(case.tasks["fire"].due, d("2026-05-07"));
        assert_eq!(case.departments, BTreeSet::from([3, 4]));
        // The fire department asks for a correction on 6 May; the applicant supplies it on
        // Monday 11 May: paused for Thu 7, Fri 8, Sat 9 (worked) and Mon 11 = 4 working days.
        let next = e
            .act(
                &case,
                "fire",
                "fire-officer",
                Act::Correct,
                "补正消防平面图",
                d("2026-05-06"),
            )
            .unwrap();
        case = go(&case, next, &mut events);
        assert_eq!(case.status(), "paused");
        assert!(
            e.act(&case, "market", "m", Act::Approve, "", d("2026-05-07"))
                .is_err()
        );
        assert!(
            e.tick(&case, d("2026-05-08")).unwrap().is_empty(),
            "no escalation while paused"
        );
        let next = e.resume(&case, d("2026-05-11")).unwrap();
        assert!(matches!(next[0], Event::Resumed { days: 4, .. }));
        case = go(&case, next, &mut events);
        // Fire's 7 May moves 4 working days: Fri 8, Sat 9, Mon 11, Tue 12.
        assert_eq!(case.tasks["fire"].due, d("2026-05-12"));
        assert_eq!(case.tasks["market"].due, d("2026-05-13"));
        // On Monday 11 May fire's deadline (Tue 12) is a working day away: escalated, once.
        let next = e.tick(&case, d("2026-05-11")).unwrap();
        assert_eq!(
            next,
            vec![Event::Escalated {
                stage: "fire".into(),
                due: d("2026-05-12")
            }]
        );
        case = go(&case, next, &mut events);
        assert!(e.tick(&case, d("2026-05-11")).unwrap().is_empty());
        // One approval does not pass the join; the second does, and the case ends approved.
        let next = e
            .act(&case, "fire", "f", Act::Approve, "", d("2026-05-11"))
            .unwrap();
        case = go(&case, next, &mut events);
        assert_eq!(case.status(), "open");
        let next = e
            .act(&case, "market", "m", Act::Approve, "", d("2026-05-12"))
            .unwrap();
        case = go(&case, next, &mut events);
        assert_eq!(case.status(), "approved");
        // The state is the fold of the stored events, whatever order the transitions came in.
        let stored: Vec<String> = events
            .iter()
            .map(|e| serde_json::to_string(e).unwrap())
            .collect();
        let back: Vec<Event> = stored
            .iter()
            .map(|s| serde_json::from_str(s).unwrap())
            .collect();
        assert_eq!(fold(&back).unwrap(), case);
    }

    #[test]
    fn a_choice_takes_the_public_notice_and_a_refusal_cites_its_basis() {
        let p = two_departments();
        let cal = Calendar::default();
        let depts = BTreeMap::from([
            ("市场监督管理局".to_string(), 3),
            ("应急管理局".to_string(), 4),
        ]);
        let e = Engine {
            process: &p,
            calendar: &cal,
            departments: &depts,
            warn_days: 0,
        };
        let mut events = e
            .open(opened("否", d("2026-06-01")), d("2026-06-01"))
            .unwrap();
        let case = fold(&events).unwrap();
        events.extend(
            e.act(&case, "accept", "c", Act::Approve, "", d("2026-06-01"))
                .unwrap(),
        );
        let case = fold(&events).unwrap();
        assert_eq!(case.waits["notice"], d("2026-06-03"));
        assert!(case.tasks.is_empty());
        assert!(e.tick(&case, d("2026-06-02")).unwrap().is_empty());
        events.extend(e.tick(&case, d("2026-06-03")).unwrap());
        let case = fold(&events).unwrap();
        assert_eq!(case.tasks.len(), 2);
        assert!(
            e.act(&case, "fire", "f", Act::Refuse, " ", d("2026-06-03"))
                .is_err()
        );
        events.extend(
            e.act(
                &case,
                "fire",
                "f",
                Act::Refuse,
                "消防验收不合格（《消防法》第十三条）",
                d("2026-06-03"),
            )
            .unwrap(),
        );
        let case = fold(&events).unwrap();
        assert_eq!(case.status(), "refused");
        assert!(case.tasks.is_empty());
        // A history that breaks the rules does not fold.
        let mut bad = events.clone();
        bad.push(Event::TaskDone {
            stage: "market".into(),
            by: "m".into(),
            decision: Decision::Approve,
            note: String::new(),
        });
        assert!(fold(&bad).is_err());
    }
}
