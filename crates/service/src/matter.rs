//! Service matters (政务服务事项, GB/T 39554.1): the six elements that must not differ across the
//! province, the kind and time limits, the materials and what serves each, the questions that
//! choose them (情形引导) and the form that fills itself. A matter is data: saved as versions, each
//! effective from a date; a case stays on the version it was opened under.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use shuju_types::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};

/// 即办件 (done on the spot) or 承诺件 (done within the promised working days).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Immediate,
    Promised,
}

/// What a handling item does to the main item's licence or registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Handling {
    /// 新设
    New,
    /// 变更
    Change,
    /// 延续
    Renew,
    /// 注销
    Cancel,
}

/// A step outside the working-day clock (特殊环节): while it runs, the limit is paused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SpecialStep {
    /// `expert_review`, `public_notice`, `onsite_inspection`, …
    pub kind: String,
    pub name: String,
    /// The most working days it may take.
    pub max_days: u32,
}

/// What serves a material.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "by", rename_all = "snake_case", deny_unknown_fields)]
pub enum Source {
    /// Shared data (免提交): served when the applicant's fact holds (a registration exists, …).
    Data { fact: String },
    /// An e-license the applicant shows (亮证), by its type.
    License { license_type: String },
    /// An upload.
    Upload,
}

/// Only when the applicant answered a question so.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct When {
    pub question: String,
    pub answer: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Material {
    pub id: String,
    pub name: String,
    pub source: Source,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<When>,
}

/// A guiding question (情形引导) and its answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: String,
    pub text: String,
    pub answers: Vec<String>,
}

/// A form field: filled from the applicant's file (an element's newest value, or a fact) when the
/// applicant consents, or written by the applicant (neither named).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub name: String,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fact: Option<String>,
    /// The filled value may not be changed by the applicant.
    #[serde(default)]
    pub locked: bool,
}

/// An instant matter (秒批): decided by a rule set over facts drawn only from the applicant's
/// file and the e-licenses shown, with no officer in the loop; what the rules cannot settle, or
/// data missing, expired or revoked, goes to the matter's process (the manual route).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Instant {
    /// The rule set (a one-click check's key) that decides; its newest version when the case
    /// opens.
    pub rules: String,
    /// The facts of the applicant's file the rules read: a fact the file lacks sends the case
    /// to an officer.
    pub facts: Vec<String>,
    /// E-license types the applicant must hold, valid and unexpired, for an instant decision.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    /// The share of instant approvals (in percent) drawn for an officer's check after the fact
    /// (随机抽查).
    #[serde(default)]
    pub sample_percent: u32,
    /// The oldest the data the rules read may be: days since the newest delivery of each source
    /// carrying the facts' elements. Unset: each source's own update cycle (更新周期); older
    /// data sends the case to an officer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fresh_days: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Matter {
    /// The implementing code (实施编码), one per implementing body.
    pub code: String,
    /// The basic code (基本编码) shared by every body that implements the matter.
    pub basic_code: String,
    pub name: String,
    /// The main item's code, for a sub-item or handling item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handling: Option<Handling>,
    /// 事项类型: 行政许可, 行政给付, 公共服务 …
    pub matter_type: String,
    /// The competent department (主管部门).
    pub department: String,
    /// The implementing body (实施主体): the department that decides.
    pub implementing_body: String,
    /// 设定依据.
    pub legal_basis: String,
    pub kind: Kind,
    /// Working days the law allows (法定办结时限).
    pub statutory_days: u32,
    /// Working days promised (承诺办结时限), never more than the statutory limit.
    pub promised_days: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub special_steps: Vec<SpecialStep>,
    /// 收费: "不收费", or the fee and its basis.
    #[serde(default)]
    pub fee: String,
    /// Visits to a centre the applicant needs (0: none).
    #[serde(default)]
    pub visits: u32,
    /// Can be done entirely online (全程网办).
    #[serde(default)]
    pub online: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
    pub materials: Vec<Material>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub questions: Vec<Question>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub form: Vec<Field>,
    /// The process the case runs (by name; the newest version when the case opens).
    pub process: String,
    /// The day this version takes effect.
    pub effective_from: NaiveDate,
    /// The license type an approval issues into the holder's wallet, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issues_license: Option<String>,
    /// Decided in seconds by rules (秒批), if set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instant: Option<Instant>,
    /// The saved version (0 before the first save).
    #[serde(default)]
    pub version: i64,
}

impl Matter {
    /// Does the matter fit its process: every question a choice in the process asks is one of
    /// the matter's, with the answers the choice branches on.
    pub fn fits(&self, p: &crate::process::Process) -> Result<()> {
        for (id, s) in &p.stages {
            if let crate::process::Stage::Choice {
                question, branches, ..
            } = s
            {
                let Some(q) = self.questions.iter().find(|q| &q.id == question) else {
                    return Err(Error::invalid(
                        "process",
                        format!(
                            "stage {id} of process {} chooses by question {question}, which the matter does not ask",
                            p.name
                        ),
                    ));
                };
                if let Some(a) = branches.keys().find(|a| !q.answers.contains(a)) {
                    return Err(Error::invalid(
                        "process",
                        format!(
                            "stage {id} branches on answer {a:?}, which question {question} does not offer"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

fn code_like(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn ident(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl Matter {
    /// Check a matter on its own: codes, the six elements, limits, and that materials, questions
    /// and fields fit together. Every refusal names the field.
    pub fn validate(&self) -> Result<()> {
        if !code_like(&self.code) {
            return Err(Error::invalid(
                "code",
                "the implementing code is letters, digits, - and _ (at most 64)",
            ));
        }
        if !code_like(&self.basic_code) {
            return Err(Error::invalid(
                "basic_code",
                "the basic code is letters, digits, - and _ (at most 64)",
            ));
        }
        for (field, v) in [
            ("name", &self.name),
            ("matter_type", &self.matter_type),
            ("department", &self.department),
            ("implementing_body", &self.implementing_body),
            ("legal_basis", &self.legal_basis),
            ("process", &self.process),
        ] {
            if v.trim().is_empty() {
                return Err(Error::invalid(field, "is required"));
            }
        }
        if self.parent.as_deref() == Some(self.code.as_str()) {
            return Err(Error::invalid(
                "parent",
                "a matter is not its own main item",
            ));
        }
        if self.statutory_days == 0 && self.kind == Kind::Promised {
            return Err(Error::invalid(
                "statutory_days",
                "a promised matter (承诺件) has a statutory limit of at least one working day",
            ));
        }
        if self.promised_days > self.statutory_days {
            return Err(Error::invalid(
                "promised_days",
                format!(
                    "the promised limit ({} working days) is above the statutory one ({})",
                    self.promised_days, self.statutory_days
                ),
            ));
        }
        if self.kind == Kind::Promised && self.promised_days == 0 {
            return Err(Error::invalid(
                "promised_days",
                "a promised matter (承诺件) promises at least one working day",
            ));
        }
        let mut questions = BTreeMap::new();
        for q in &self.questions {
            if !ident(&q.id) {
                return Err(Error::invalid(
                    "questions",
                    format!("question id {:?}: lowercase letters, digits and _", q.id),
                ));
            }
            if q.answers.len() < 2 {
                return Err(Error::invalid(
                    "questions",
                    format!("question {} offers at least two answers", q.id),
                ));
            }
            if questions.insert(q.id.as_str(), &q.answers).is_some() {
                return Err(Error::invalid(
                    "questions",
                    format!("question {} appears twice", q.id),
                ));
            }
        }
        let mut ids = BTreeSet::new();
        for m in &self.materials {
            if !ident(&m.id) || !ids.insert(m.id.as_str()) {
                return Err(Error::invalid(
                    "materials",
                    format!(
                        "material id {:?}: lowercase letters, digits and _, once each",
                        m.id
                    ),
                ));
            }
            if m.name.trim().is_empty() {
                return Err(Error::invalid(
                    "materials",
                    format!("material {} needs a name", m.id),
                ));
            }
            match &m.source {
                Source::Data { fact } if fact.trim().is_empty() => {
                    return Err(Error::invalid(
                        "materials",
                        format!("material {} names the fact that serves it", m.id),
                    ));
                }
                Source::License { license_type } if license_type.trim().is_empty() => {
                    return Err(Error::invalid(
                        "materials",
                        format!("material {} names the license type that serves it", m.id),
                    ));
                }
                _ => {}
            }
            if let Some(w) = &m.when {
                match questions.get(w.question.as_str()) {
                    None => {
                        return Err(Error::invalid(
                            "materials",
                            format!(
                                "material {} depends on question {}, which the matter does not ask",
                                m.id, w.question
                            ),
                        ));
                    }
                    Some(answers) if !answers.contains(&w.answer) => {
                        return Err(Error::invalid(
                            "materials",
                            format!(
                                "material {}: question {} has no answer {:?}",
                                m.id, w.question, w.answer
                            ),
                        ));
                    }
                    _ => {}
                }
            }
        }
        let mut names = BTreeSet::new();
        for f in &self.form {
            if !ident(&f.name) || !names.insert(f.name.as_str()) {
                return Err(Error::invalid(
                    "form",
                    format!(
                        "field name {:?}: lowercase letters, digits and _, once each",
                        f.name
                    ),
                ));
            }
            if f.element.is_some() && f.fact.is_some() {
                return Err(Error::invalid(
                    "form",
                    format!(
                        "field {} is filled from one element or one fact, not both",
                        f.name
                    ),
                ));
            }
            if f.locked && f.element.is_none() && f.fact.is_none() {
                return Err(Error::invalid(
                    "form",
                    format!(
                        "field {} is locked but nothing fills it: the applicant could not write it",
                        f.name
                    ),
                ));
            }
        }
        if let Some(i) = &self.instant {
            if !ident(&i.rules) {
                return Err(Error::invalid(
                    "instant.rules",
                    "names a rule set by its key (lowercase letters, digits and _)",
                ));
            }
            if i.facts.is_empty() {
                return Err(Error::invalid(
                    "instant.facts",
                    "an instant matter names the facts its rules read",
                ));
            }
            if let Some(f) = i.facts.iter().find(|f| !ident(f)) {
                return Err(Error::invalid(
                    "instant.facts",
                    format!("{f:?} is not a fact's name"),
                ));
            }
            if i.sample_percent > 100 {
                return Err(Error::invalid(
                    "instant.sample_percent",
                    "is a share in percent, 0 to 100",
                ));
            }
            if i.fresh_days.is_some_and(|d| !(1..=3650).contains(&d)) {
                return Err(Error::invalid("instant.fresh_days", "is 1 to 3650 days"));
            }
            if i.licenses.iter().any(|l| l.trim().is_empty()) {
                return Err(Error::invalid("instant.licenses", "names license types"));
            }
        }
        for s in &self.special_steps {
            if s.max_days == 0 || !ident(&s.kind) {
                return Err(Error::invalid(
                    "special_steps",
                    format!(
                        "special step {:?}: a kind (lowercase) and at least one day",
                        s.name
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The materials this applicant's answers call for, nothing more.
    pub fn materials_for(&self, answers: &BTreeMap<String, String>) -> Vec<&Material> {
        self.materials
            .iter()
            .filter(|m| {
                m.when
                    .as_ref()
                    .is_none_or(|w| answers.get(&w.question) == Some(&w.answer))
            })
            .collect()
    }

    /// Check an applicant's answers: every question answered with one of its answers, no others.
    pub fn check_answers(&self, answers: &BTreeMap<String, String>) -> Result<()> {
        for k in answers.keys() {
            if !self.questions.iter().any(|q| &q.id == k) {
                return Err(Error::invalid(
                    "answers",
                    format!("the matter asks no question {k}"),
                ));
            }
        }
        for q in &self.questions {
            match answers.get(&q.id) {
                None => {
                    return Err(Error::invalid(
                        "answers",
                        format!("answer question {} ({})", q.id, q.text),
                    ));
                }
                Some(a) if !q.answers.contains(a) => {
                    return Err(Error::invalid(
                        "answers",
                        format!("question {} has no answer {a:?}", q.id),
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Of a matter's versions, the one in effect on `day` (the newest that took effect by then).
pub fn in_effect(versions: &[Matter], day: NaiveDate) -> Option<&Matter> {
    versions
        .iter()
        .filter(|m| m.effective_from <= day)
        .max_by_key(|m| (m.effective_from, m.version))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn sample() -> Matter {
        serde_json::from_value(serde_json::json!({
            "code": "11371500MB2853036R4000117001000",
            "basic_code": "000117001000",
            "name": "个体工商户设立登记",
            "matter_type": "行政许可",
            "department": "市场监督管理局",
            "implementing_body": "市场监督管理局",
            "legal_basis": "《促进个体工商户发展条例》第八条",
            "kind": "promised",
            "statutory_days": 15,
            "promised_days": 3,
            "materials": [
                {"id": "id_card", "name": "经营者身份证明", "source": {"by": "data", "fact": "id_valid"}},
                {"id": "premises", "name": "经营场所使用证明", "source": {"by": "upload"},
                 "when": {"question": "owns", "answer": "否"}},
                {"id": "deed", "name": "不动产权证书", "source": {"by": "license", "license_type": "不动产权证书"},
                 "when": {"question": "owns", "answer": "是"}}
            ],
            "questions": [{"id": "owns", "text": "经营场所是否为自有房产？", "answers": ["是", "否"]}],
            "form": [{"name": "age", "label": "年龄", "fact": "age", "locked": true}],
            "process": "two_departments",
            "effective_from": "2026-01-01"
        }))
        .unwrap()
    }

    #[test]
    fn a_sound_matter_and_the_refusals_that_name_their_field() {
        let m = sample();
        m.validate().unwrap();
        let mut bad = m.clone();
        bad.promised_days = 20;
        let e = bad.validate().unwrap_err();
        assert_eq!(e.field.as_deref(), Some("promised_days"));
        assert!(e.message.contains("above the statutory"), "{}", e.message);
        let mut bad = m.clone();
        bad.materials[1].when = Some(When {
            question: "rents".into(),
            answer: "是".into(),
        });
        assert_eq!(
            bad.validate().unwrap_err().field.as_deref(),
            Some("materials")
        );
        let mut bad = m.clone();
        bad.form[0].element = Some("person_name".into());
        assert_eq!(bad.validate().unwrap_err().field.as_deref(), Some("form"));
        let unknown = serde_json::from_value::<Matter>({
            let mut v = serde_json::to_value(&m).unwrap();
            v["colour"] = "red".into();
            v
        });
        assert!(unknown.unwrap_err().to_string().contains("colour"));
    }

    #[test]
    fn answers_choose_the_materials() {
        let m = sample();
        let a = BTreeMap::from([("owns".to_string(), "是".to_string())]);
        m.check_answers(&a).unwrap();
        let ids: Vec<&str> = m.materials_for(&a).iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["id_card", "deed"]);
        assert!(m.check_answers(&BTreeMap::new()).is_err());
        let wrong = BTreeMap::from([("owns".to_string(), "也许".to_string())]);
        assert!(m.check_answers(&wrong).is_err());
    }

    #[test]
    fn the_version_in_effect() {
        let mut v1 = sample();
        v1.version = 1;
        let mut v2 = sample();
        v2.version = 2;
        v2.effective_from = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        let all = [v1, v2];
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(in_effect(&all, d("2026-03-01")).unwrap().version, 1);
        assert_eq!(in_effect(&all, d("2026-07-01")).unwrap().version, 2);
        assert!(in_effect(&all, d("2025-12-31")).is_none());
    }
}
