//! 24-hour self-service (24小时自助服务): an instant matter applied for at a terminal in a
//! service centre, at any hour. The terminal's own account (one that may take applications at
//! its centre) opens the case for the person standing at it, once that person has been checked
//! to be the holder of the citizen ID they give (人证核验) and has consented to the reading of
//! their data. The check is an interface: a city plugs in its ID-card reader and face
//! comparison; the built-in implementation is for tests and demos, and says so on every answer.

use crate::{CaseView, OpenCase, Services};
use shuju_admin::{Caller, perm};
use shuju_identity::persons::Persons;
use shuju_types::{CitizenId, Error, Result};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

/// What the terminal read of the person at it: the ID they give, the name, and whatever the
/// device produced (a card read, a face comparison's token).
#[derive(Clone, Debug)]
pub struct PresenceRequest<'a> {
    pub citizen_id: &'a CitizenId,
    pub name: &'a str,
    pub evidence: &'a str,
}

/// The check's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Presence {
    /// The person is the ID's holder.
    Confirmed,
    /// Not confirmed, with the reason shown to the person.
    Refused(String),
}

/// 人证核验: whether the person at a terminal holds the citizen ID they give.
pub trait PresenceCheck: Send + Sync {
    /// What the check is, shown at the terminal and kept with the case.
    fn describe(&self) -> &str;
    /// A stand-in that proves nothing about the person (tests and demos only).
    fn is_test(&self) -> bool;
    fn check<'a>(
        &'a self,
        persons: &'a Persons,
        r: PresenceRequest<'a>,
    ) -> Pin<Box<dyn Future<Output = Result<Presence>> + Send + 'a>>;
}

/// The built-in check, for tests and demos: the name given must be the name on the person's file.
/// It compares no face and reads no card, and says so.
#[derive(Clone, Copy, Debug, Default)]
pub struct TestPresence;

impl PresenceCheck for TestPresence {
    fn describe(&self) -> &str {
        "测试实现：仅核对所报姓名与档案一致，未读取身份证芯片、未做人脸比对，不得用于生产"
    }

    fn is_test(&self) -> bool {
        true
    }

    fn check<'a>(
        &'a self,
        persons: &'a Persons,
        r: PresenceRequest<'a>,
    ) -> Pin<Box<dyn Future<Output = Result<Presence>> + Send + 'a>> {
        Box::pin(async move {
            let name = shuju_identity::sources::NAME.to_owned();
            let on_file = persons
                .fill(r.citizen_id, std::slice::from_ref(&name))
                .await?
                .and_then(|f| f.elements.get(&name).map(|s| s.value.clone()));
            Ok(match on_file {
                None => Presence::Refused("未找到该身份证号码的档案，请到窗口办理".into()),
                Some(n) if n.trim() == r.name.trim() => Presence::Confirmed,
                Some(_) => Presence::Refused("姓名与身份证号码不一致".into()),
            })
        })
    }
}

/// An application at a terminal.
#[derive(Clone, Debug, Default)]
pub struct KioskApply {
    pub matter: String,
    pub citizen_id: String,
    pub name: String,
    /// What the terminal's devices produced for the presence check.
    pub evidence: String,
    pub consent: bool,
    pub answers: BTreeMap<String, String>,
    pub values: BTreeMap<String, String>,
}

/// What the terminal shows after an application.
#[derive(Clone, Debug)]
pub struct KioskOutcome {
    pub case: CaseView,
    /// The presence check used, as described to the person.
    pub presence: String,
    /// The issued permit as the holder carries it (the SD-JWT credential), when one was issued.
    pub permit: Option<String>,
}

impl Services {
    /// The instant matters in effect today: what a terminal offers.
    pub async fn kiosk_matters(&self) -> Result<Vec<crate::Matter>> {
        let today = crate::today();
        let mut out = Vec::new();
        for m in self.matters().await? {
            let all = self.matter_versions(&m.code).await?;
            if let Some(m) = crate::matter::in_effect(&all, today)
                && m.instant.is_some()
            {
                out.push(m.clone());
            }
        }
        Ok(out)
    }

    /// The presence check the terminals use.
    pub fn presence(&self) -> &dyn PresenceCheck {
        self.presence.as_ref()
    }

    /// Apply at a terminal: the caller is the terminal's account (it may take applications); the
    /// person is checked to hold the ID, then the case opens as at a window, with the person's
    /// consent. Only instant matters are offered; a case the rules cannot settle goes to an
    /// officer, and the person is told why.
    pub async fn kiosk_apply(&self, c: &Caller, k: &KioskApply) -> Result<KioskOutcome> {
        const ACTION: &str = "service.kiosk";
        self.require(c, perm::SERVICE_INTAKE, ACTION).await?;
        let id = CitizenId::parse(k.citizen_id.trim()).map_err(|e| e.in_field("citizen_id"))?;
        if k.name.trim().is_empty() || k.name.chars().count() > 50 {
            return Err(Error::invalid("name", "请填写姓名（不超过 50 个字）"));
        }
        if k.evidence.len() > 4096 {
            return Err(Error::invalid("evidence", "is at most 4096 bytes"));
        }
        let all = self.matter_versions(&k.matter).await?;
        let m = crate::matter::in_effect(&all, crate::today())
            .ok_or_else(|| Error::not_found(format!("matter {} in effect today", k.matter)))?;
        if m.instant.is_none() {
            return Err(Error::invalid(
                "matter",
                "只有秒批事项可在自助终端办理，请到窗口申请",
            ));
        }
        if !k.consent {
            return Err(Error::invalid(
                "consent",
                "自助办理需要您同意读取您的数据；不同意请到窗口办理",
            ));
        }
        let presence = self
            .presence
            .check(
                &self.persons,
                PresenceRequest {
                    citizen_id: &id,
                    name: &k.name,
                    evidence: &k.evidence,
                },
            )
            .await?;
        if let Presence::Refused(why) = presence {
            let _ = shuju_store::audit::record(
                &self.store,
                &c.entry(
                    ACTION,
                    "matter",
                    Some(k.matter.clone()),
                    shuju_store::audit::Outcome::Rejected,
                    Some("人证核验未通过".into()),
                ),
            )
            .await;
            return Err(Error::forbidden(format!("人证核验未通过：{why}")));
        }
        let case = self
            .open(
                c,
                &OpenCase {
                    matter: k.matter.clone(),
                    applicant: Some(id.as_str().to_owned()),
                    answers: k.answers.clone(),
                    consent: true,
                    values: k.values.clone(),
                    ..Default::default()
                },
            )
            .await?;
        let permit = match &case.case.license {
            Some(lid) => self.licenses.credential_of(lid).await?,
            None => None,
        };
        Ok(KioskOutcome {
            case,
            presence: self.presence.describe().to_owned(),
            permit,
        })
    }
}
