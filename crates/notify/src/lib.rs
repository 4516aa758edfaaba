//! Notices leave the platform here: email over SMTP to the bureau's relay (lettre), text
//! messages through an SMS gateway's HTTP interface (reqwest). This crate only sends; what is
//! sent, to whom and when, and every delivery state, belong to the service flow's outbox.
//!
//! Every failure is told apart as [`Failure::Temporary`] (try again later: a 4xx SMTP reply, a
//! gateway that is busy or down) or [`Failure::Permanent`] (a 5xx SMTP reply, a number the
//! gateway refuses): the outbox retries the first and gives up on the second.

#![forbid(unsafe_code)]

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Where notices go, from `[notices]` in shuju.toml.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NoticeConfig {
    /// The SMTP relay, `smtp://[user:password@]host[:port]` (port 25 by default). None: no email
    /// is sent and email notices fail as undeliverable.
    pub smtp: Option<String>,
    /// The sender of every email.
    pub from: String,
    /// The SMS gateway's send endpoint: each message is POSTed as JSON `{"to", "text"}`; a 2xx
    /// answer is sent, 429 and 5xx are tried again, any other answer is a permanent failure.
    pub sms_gateway: Option<String>,
    /// The bearer token the gateway expects, if any (usually given as
    /// `SHUJU_NOTICES__SMS_TOKEN`; shown hidden by `shuju config print`).
    pub sms_token: Option<String>,
    /// Attempts before a notice that keeps failing temporarily is marked failed.
    pub max_attempts: u32,
    /// The wait before the first retry; each further retry waits twice as long.
    pub retry_secs: u64,
    /// How often the outbox is read, in milliseconds.
    pub every_ms: u64,
    /// The longest one send may take.
    pub timeout_secs: u64,
}

impl Default for NoticeConfig {
    fn default() -> Self {
        NoticeConfig {
            smtp: None,
            from: "数聚 <noreply@shuju.local>".into(),
            sms_gateway: None,
            sms_token: None,
            max_attempts: 5,
            retry_secs: 60,
            every_ms: 5_000,
            timeout_secs: 20,
        }
    }
}

/// How a notice is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        match s {
            "email" => Some(Channel::Email),
            "sms" => Some(Channel::Sms),
            _ => None,
        }
    }
}

/// Why a send did not go through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Try again later.
    Temporary(String),
    /// Trying again will not help.
    Permanent(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Temporary(m) | Failure::Permanent(m) => f.write_str(m),
        }
    }
}

/// The transports the configuration names, opened once.
#[derive(Clone)]
pub struct Transports {
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
    sms: Option<(reqwest::Client, url::Url, Option<String>)>,
}

impl std::fmt::Debug for Transports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transports")
            .field("smtp", &self.smtp.is_some())
            .field("sms", &self.sms.as_ref().map(|s| s.1.as_str()))
            .finish()
    }
}

/// A configuration error, naming the setting.
fn bad(setting: &str, why: impl std::fmt::Display) -> shuju_types::Error {
    shuju_types::Error::invalid(format!("notices.{setting}"), why.to_string())
}

impl Transports {
    /// Check the configuration and open what it names; nothing is contacted yet.
    pub fn open(cfg: &NoticeConfig) -> shuju_types::Result<Transports> {
        let from: Mailbox = cfg
            .from
            .parse()
            .map_err(|e| bad("from", format!("is not a mailbox: {e}")))?;
        let timeout = Duration::from_secs(cfg.timeout_secs.max(1));
        let smtp = match &cfg.smtp {
            None => None,
            Some(u) => {
                let url = url::Url::parse(u).map_err(|e| bad("smtp", e))?;
                if url.scheme() != "smtp" {
                    return Err(bad("smtp", "must be smtp://host[:port]"));
                }
                let host = url
                    .host_str()
                    .ok_or_else(|| bad("smtp", "names no host"))?
                    .trim_matches(|c| c == '[' || c == ']')
                    .to_owned();
                let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                    .port(url.port().unwrap_or(25))
                    .hello_name(ClientId::Domain("shuju".into()))
                    .timeout(Some(timeout));
                if !url.username().is_empty() {
                    let user = percent_decode(url.username());
                    let pass = percent_decode(url.password().unwrap_or_default());
                    b = b.credentials(Credentials::new(user, pass));
                }
                Some(b.build())
            }
        };
        let sms = match &cfg.sms_gateway {
            None => None,
            Some(u) => {
                let url = url::Url::parse(u).map_err(|e| bad("sms_gateway", e))?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(bad("sms_gateway", "must be an http(s) URL"));
                }
                let client = reqwest::Client::builder()
                    .timeout(timeout)
                    .build()
                    .map_err(|e| bad("sms_gateway", e))?;
                Some((client, url, cfg.sms_token.clone()))
            }
        };
        Ok(Transports { smtp, from, sms })
    }

    /// Whether notices of this channel can be sent at all.
    pub fn has(&self, channel: Channel) -> bool {
        match channel {
            Channel::Email => self.smtp.is_some(),
            Channel::Sms => self.sms.is_some(),
        }
    }

    /// Send one notice; on success, what the transport answered (kept as the receipt).
    pub async fn send(
        &self,
        channel: Channel,
        to: &str,
        subject: &str,
        body: &str,
    ) -> Result<String, Failure> {
        match channel {
            Channel::Email => self.email(to, subject, body).await,
            Channel::Sms => self.sms(to, body).await,
        }
    }

    async fn email(&self, to: &str, subject: &str, body: &str) -> Result<String, Failure> {
        let Some(smtp) = &self.smtp else {
            return Err(Failure::Permanent("no SMTP relay is configured".into()));
        };
        let to: Mailbox = to
            .parse()
            .map_err(|_| Failure::Permanent("the address is not a mailbox".into()))?;
        let m = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| Failure::Permanent(format!("the message cannot be built: {e}")))?;
        match smtp.send(m).await {
            Ok(r) => Ok(format!(
                "{} {}",
                r.code(),
                r.message().collect::<Vec<_>>().join(" ")
            )),
            Err(e) if e.is_permanent() => Err(Failure::Permanent(smtp_reason(&e))),
            // 4xx replies, and a relay that cannot be reached or times out.
            Err(e) => Err(Failure::Temporary(smtp_reason(&e))),
        }
    }

    async fn sms(&self, to: &str, text: &str) -> Result<String, Failure> {
        let Some((client, url, token)) = &self.sms else {
            return Err(Failure::Permanent("no SMS gateway is configured".into()));
        };
        let mut req = client
            .post(url.clone())
            .json(&serde_json::json!({"to": to, "text": text}));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.map_err(|e| {
            Failure::Temporary(format!("the gateway was not reached: {}", kind(&e)))
        })?;
        let status = r.status();
        let answer: String = r
            .text()
            .await
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
        if status.is_success() {
            Ok(format!("{} {answer}", status.as_u16()))
        } else if status.as_u16() == 429 || status.is_server_error() {
            Err(Failure::Temporary(format!(
                "the gateway answered {}",
                status.as_u16()
            )))
        } else {
            Err(Failure::Permanent(format!(
                "the gateway refused it ({}): {answer}",
                status.as_u16()
            )))
        }
    }
}

/// The SMTP reply, or what went wrong on the way, without the transport's internals.
fn smtp_reason(e: &lettre::transport::smtp::Error) -> String {
    match e.status() {
        Some(code) => format!("the relay answered {code}"),
        None if e.is_timeout() => "the relay did not answer in time".into(),
        None => "the relay could not be reached".into(),
    }
}

/// What kind of HTTP failure, without the URL (it may carry a token).
fn kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "no connection"
    } else {
        "the exchange failed"
    }
}

fn percent_decode(s: &str) -> String {
    let hex = |c: u8| (c as char).to_digit(16);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configuration_is_checked_naming_the_setting() {
        let ok = Transports::open(&NoticeConfig {
            smtp: Some("smtp://user:p%40ss@relay.gov.local:2525".into()),
            sms_gateway: Some("http://sms.gov.local/send".into()),
            ..Default::default()
        })
        .unwrap();
        assert!(ok.has(Channel::Email) && ok.has(Channel::Sms));
        for (cfg, setting) in [
            (
                NoticeConfig {
                    smtp: Some("http://relay".into()),
                    ..Default::default()
                },
                "notices.smtp",
            ),
            (
                NoticeConfig {
                    from: "not a mailbox".into(),
                    ..Default::default()
                },
                "notices.from",
            ),
            (
                NoticeConfig {
                    sms_gateway: Some("ftp://x".into()),
                    ..Default::default()
                },
                "notices.sms_gateway",
            ),
        ] {
            let e = Transports::open(&cfg).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(setting), "{e:?}");
        }
        assert_eq!(percent_decode("p%40ss"), "p@ss");
        assert_eq!(percent_decode("100%"), "100%");
    }

    #[tokio::test]
    async fn nothing_configured_is_a_permanent_failure() {
        let t = Transports::open(&NoticeConfig::default()).unwrap();
        for ch in [Channel::Email, Channel::Sms] {
            assert!(matches!(
                t.send(ch, "a@b.cn", "s", "b").await,
                Err(Failure::Permanent(_))
            ));
        }
    }
}
