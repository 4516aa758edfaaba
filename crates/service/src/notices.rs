//! Notices of a case's transitions: which event calls for which notice, the versioned templates
//! they are written from (a built-in text until the bureau saves its own), and how a recipient
//! is shown (masked). The notices are queued in the transaction of the events they tell of; the
//! platform's sender delivers them ([`crate::Services::deliver_notices`]).

use crate::case::{Case, Event, Outcome, Pause};
use serde::{Deserialize, Serialize};
use shuju_notify::Channel;
use shuju_store::service::NewNotice;
use shuju_types::{Error, Result};
use std::collections::HashMap;

/// The kinds of notice, each with the event that calls for it.
pub const KINDS: &[(&str, &str)] = &[
    ("received", "受理：the case was opened"),
    (
        "correction",
        "补正：the applicant is asked for a correction",
    ),
    ("approved", "办结：approved"),
    ("refused", "办结：refused, with its basis"),
    ("issued", "证照：the e-license is in the wallet"),
];

/// A notice's text: minijinja templates over the case's figures (`case`, `matter`,
/// `matter_name`, `promised_by`, `note`, `license`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// The email's subject (unused for a text message).
    pub subject: String,
    pub text: String,
}

/// A template as the bureau sees it: version 0 is the built-in text.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateView {
    pub kind: String,
    pub channel: String,
    pub version: i64,
    pub subject: String,
    pub text: String,
    pub updated_by: Option<String>,
    pub updated_at: Option<String>,
}

/// The built-in text of each kind (the same for both channels).
fn builtin(kind: &str) -> Template {
    let (subject, text) = match kind {
        "received" => (
            "【数聚】您的申请已受理",
            "您申请的“{{ matter_name }}”已受理，受理编号 {{ case }}，承诺于 {{ promised_by }} 前办结。",
        ),
        "correction" => (
            "【数聚】请补正材料",
            "您申请的“{{ matter_name }}”（受理编号 {{ case }}）需要补正：{{ note }}。补正后办理时限继续计算。",
        ),
        "approved" => (
            "【数聚】您的申请已办结",
            "您申请的“{{ matter_name }}”（受理编号 {{ case }}）已办结，准予许可。",
        ),
        "refused" => (
            "【数聚】您的申请已办结",
            "您申请的“{{ matter_name }}”（受理编号 {{ case }}）不予许可，依据：{{ note }}。",
        ),
        _ => (
            "【数聚】电子证照已发放",
            "您申请的“{{ matter_name }}”（受理编号 {{ case }}）的电子证照已发放到您的证照夹，证照编号 {{ license }}。",
        ),
    };
    Template {
        subject: subject.into(),
        text: text.into(),
    }
}

/// The template in force for each kind and channel, with its version.
#[derive(Clone, Debug, Default)]
pub struct Templates {
    saved: HashMap<(String, String), (i64, Template)>,
}

impl Templates {
    /// From the newest saved version of each (`kind.channel`, version, JSON body).
    pub fn from_saved(rows: impl IntoIterator<Item = (String, i64, String)>) -> Result<Templates> {
        let mut saved = HashMap::new();
        for (name, version, body) in rows {
            let Some((kind, channel)) = name.split_once('.') else {
                continue;
            };
            let t: Template = serde_json::from_str(&body)
                .map_err(|e| Error::internal(format!("notice template {name}: {e}")))?;
            saved.insert((kind.to_owned(), channel.to_owned()), (version, t));
        }
        Ok(Templates { saved })
    }

    /// The template in force and its version (0: built-in).
    pub fn get(&self, kind: &str, channel: Channel) -> (i64, Template) {
        self.saved
            .get(&(kind.to_owned(), channel.as_str().to_owned()))
            .cloned()
            .unwrap_or_else(|| (0, builtin(kind)))
    }

    /// Every kind and channel, as in force.
    pub fn views(&self, saved_by: &HashMap<String, (String, String)>) -> Vec<TemplateView> {
        let mut out = Vec::new();
        for (kind, _) in KINDS {
            for ch in [Channel::Email, Channel::Sms] {
                let (version, t) = self.get(kind, ch);
                let by = saved_by.get(&format!("{kind}.{}", ch.as_str()));
                out.push(TemplateView {
                    kind: (*kind).into(),
                    channel: ch.as_str().into(),
                    version,
                    subject: t.subject,
                    text: t.text,
                    updated_by: by.map(|b| b.0.clone()),
                    updated_at: by.map(|b| b.1.clone()),
                });
            }
        }
        out
    }
}

/// What a template may use.
#[derive(Serialize)]
struct Vars<'a> {
    case: i64,
    matter: &'a str,
    matter_name: &'a str,
    promised_by: String,
    note: &'a str,
    license: &'a str,
}

fn render_one(src: &str, vars: &Vars) -> std::result::Result<String, minijinja::Error> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.render_str(src, vars)
}

/// Check a template before it is saved: the kind and channel known, each part renders with every
/// variable (an unknown one or a syntax error refused, naming the part), and fits its channel.
pub fn check(kind: &str, channel: &str, t: &Template) -> Result<Channel> {
    if !KINDS.iter().any(|(k, _)| *k == kind) {
        return Err(Error::invalid(
            "kind",
            format!(
                "is not a kind of notice ({})",
                KINDS.iter().map(|k| k.0).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    let ch = Channel::parse(channel).ok_or_else(|| Error::invalid("channel", "is email or sms"))?;
    let vars = Vars {
        case: 1,
        matter: "371500-000000000000-01",
        matter_name: "示例事项",
        promised_by: "2026-01-01".into(),
        note: "示例",
        license: "示例证照",
    };
    for (part, src, max) in [
        ("subject", &t.subject, 200),
        ("text", &t.text, if ch == Channel::Sms { 500 } else { 4000 }),
    ] {
        if src.trim().is_empty() {
            return Err(Error::invalid(part, "is empty"));
        }
        let out = render_one(src, &vars)
            .map_err(|e| Error::invalid(part, format!("does not render: {e}")))?;
        if out.chars().count() > max {
            return Err(Error::invalid(
                part,
                format!("renders to more than {max} characters"),
            ));
        }
        if part == "subject" && out.contains(['\r', '\n']) {
            return Err(Error::invalid(part, "is one line"));
        }
    }
    Ok(ch)
}

/// The kind of notice an event calls for, and the note it carries.
fn kind_of(e: &Event) -> Option<(&'static str, &str, &str)> {
    match e {
        Event::Opened { .. } => Some(("received", "", "")),
        Event::Paused {
            pause: Pause::Correction,
            note,
            ..
        } => Some(("correction", note.as_str(), "")),
        Event::Decided {
            outcome: Outcome::Approved,
            ..
        } => Some(("approved", "", "")),
        Event::Decided {
            outcome: Outcome::Refused,
            basis,
            ..
        } => Some(("refused", basis.as_str(), "")),
        Event::Issued {
            license_id: Some(l),
            ..
        } => Some(("issued", "", l.as_str())),
        _ => None,
    }
}

/// The notices the events starting at `first_seq` call for, to the case's contact; none when
/// the applicant left no address.
pub fn notices_for(
    case_id: i64,
    case: &Case,
    first_seq: i64,
    events: &[Event],
    matter_name: &str,
    templates: &Templates,
) -> Vec<NewNotice> {
    let mut out = Vec::new();
    if case.contact.is_empty() {
        return out;
    }
    for (i, e) in events.iter().enumerate() {
        let Some((kind, note, license)) = kind_of(e) else {
            continue;
        };
        let vars = Vars {
            case: case_id,
            matter: &case.matter,
            matter_name,
            promised_by: case.promised_by.to_string(),
            note,
            license,
        };
        for (ch, to) in [
            (Channel::Email, &case.contact.email),
            (Channel::Sms, &case.contact.phone),
        ] {
            let Some(to) = to else { continue };
            let (version, t) = templates.get(kind, ch);
            // A saved template was checked against these variables; a failure here falls back
            // to the built-in text rather than losing the notice.
            let (version, subject, body) =
                match (render_one(&t.subject, &vars), render_one(&t.text, &vars)) {
                    (Ok(s), Ok(b)) => (version, s, b),
                    _ => {
                        let t = builtin(kind);
                        (
                            0,
                            render_one(&t.subject, &vars).unwrap_or_default(),
                            render_one(&t.text, &vars).unwrap_or_default(),
                        )
                    }
                };
            out.push(NewNotice {
                case_id,
                seq: first_seq + i as i64,
                kind: kind.into(),
                channel: ch.as_str().into(),
                recipient: to.clone(),
                template_version: version,
                subject,
                body,
            });
        }
    }
    out
}

/// A recipient as shown: enough to recognise, not to reuse (`z***@example.cn`, `138****5678`).
pub fn mask(recipient: &str) -> String {
    if let Some((local, domain)) = recipient.split_once('@') {
        let first: String = local.chars().take(1).collect();
        return format!("{first}***@{domain}");
    }
    let c: Vec<char> = recipient.chars().collect();
    if c.len() >= 7 {
        let head: String = c[..3].iter().collect();
        let tail: String = c[c.len() - 4..].iter().collect();
        return format!("{head}****{tail}");
    }
    "****".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_checked_and_rendered() {
        let ok = Template {
            subject: "受理 {{ case }}".into(),
            text: "{{ matter_name }} 于 {{ promised_by }} 前办结".into(),
        };
        assert_eq!(check("received", "sms", &ok).unwrap(), Channel::Sms);
        let e = check("received", "fax", &ok).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("channel"));
        let e = check("opened", "sms", &ok).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("kind"));
        let unknown = Template {
            subject: "ok".into(),
            text: "{{ applicant_phone }}".into(),
        };
        assert_eq!(
            check("received", "email", &unknown)
                .unwrap_err()
                .field
                .as_deref(),
            Some("text")
        );
        let broken = Template {
            subject: "{% if %}".into(),
            text: "x".into(),
        };
        assert_eq!(
            check("received", "email", &broken)
                .unwrap_err()
                .field
                .as_deref(),
            Some("subject")
        );
        for (kind, _) in KINDS {
            check(kind, "email", &builtin(kind)).unwrap();
            check(kind, "sms", &builtin(kind)).unwrap();
        }
        assert_eq!(mask("zhang.san@example.cn"), "z***@example.cn");
        assert_eq!(mask("13812345678"), "138****5678");
    }
}
