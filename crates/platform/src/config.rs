//! The effective configuration: defaults, then `shuju.toml` (in the data dir, or `--config`), then
//! `SHUJU_*` environment variables (`__` separates sections: `SHUJU_ADMIN__LOCKOUT_FAILURES=3`), then
//! command-line flags. One [`Config`] opens the whole platform ([`crate::Platform::open`]).

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use shuju_admin::AdminConfig;
use shuju_catalog::CatalogConfig;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the platform keeps its files (SQLite database, lake, keys).
    pub data_dir: PathBuf,
    /// The address to listen on.
    pub listen: String,
    /// The metadata database URL; default: an SQLite file in the data dir.
    pub database: Option<String>,
    /// Log filter (tracing's EnvFilter syntax).
    pub log: String,
    /// The address citizens, verifiers and departments reach the platform at (issuer URIs and
    /// the status list derive from it). Default: `http://` and the listen address.
    pub public_url: Option<String>,
    /// Where the lake's Delta tables live: a folder, a `file://` URL, or an S3-compatible store
    /// (`s3://bucket/prefix`, configured by the `AWS_*` environment variables). Default:
    /// DATA_DIR/lake.
    pub lake: Option<String>,
    /// The key-encryption key that seals the stored private keys (64 hex digits), usually given
    /// as `SHUJU_KEK`; default: read from `kek_file`.
    pub kek: Option<String>,
    /// The file holding the key-encryption key (mode 0600, made at first start). Default:
    /// DATA_DIR/kek. Keep it out of the database's backups.
    pub kek_file: Option<PathBuf>,
    pub admin: AdminConfig,
    pub catalog: CatalogConfig,
    pub exchange: shuju_exchange::ExchangeConfig,
    pub web: WebConfig,
    pub identity: IdentityConfig,
    /// What reading one delivery may hold: record length, fields, a workbook's expanded parts.
    pub limits: shuju_lake::read::Limits,
    /// Where the service flow's notices go: the SMTP relay and the SMS gateway.
    pub notices: shuju_notify::NoticeConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./shuju-data"),
            listen: "127.0.0.1:8080".into(),
            database: None,
            log: "info".into(),
            lake: None,
            public_url: None,
            kek: None,
            kek_file: None,
            admin: AdminConfig::default(),
            catalog: CatalogConfig::default(),
            exchange: Default::default(),
            web: WebConfig::default(),
            identity: IdentityConfig::default(),
            limits: Default::default(),
            notices: Default::default(),
        }
    }
}

/// Flags that override the configuration.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub listen: Option<String>,
    pub database: Option<String>,
}

impl Config {
    pub fn load(o: &Overrides, default_data_dir: &str) -> anyhow::Result<Config> {
        // The data dir decides where shuju.toml is, so resolve it first.
        let env_dir = std::env::var_os("SHUJU_DATA_DIR").map(PathBuf::from);
        let data_dir = o
            .data_dir
            .clone()
            .or(env_dir)
            .unwrap_or_else(|| PathBuf::from(default_data_dir));
        let file = o
            .config
            .clone()
            .unwrap_or_else(|| data_dir.join("shuju.toml"));
        if o.config.is_some() && !file.exists() {
            anyhow::bail!("the config file {} does not exist", file.display());
        }
        let defaults = Config {
            data_dir: data_dir.clone(),
            ..Config::default()
        };
        let mut fig = Figment::from(Serialized::defaults(defaults));
        if file.exists() {
            fig = fig.merge(Toml::file(&file));
        }
        fig = fig.merge(Env::prefixed("SHUJU_").split("__"));
        let mut c: Config = fig
            .extract()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        if let Some(d) = &o.data_dir {
            c.data_dir = d.clone();
        }
        if let Some(l) = &o.listen {
            c.listen = l.clone();
        }
        if let Some(d) = &o.database {
            c.database = Some(d.clone());
        }
        Ok(c)
    }

    /// The lake's location.
    pub fn lake_location(&self) -> String {
        self.lake
            .clone()
            .unwrap_or_else(|| self.data_dir.join("lake").display().to_string())
    }

    /// The metadata database URL.
    pub fn database_url(&self) -> String {
        self.database
            .clone()
            .unwrap_or_else(|| sqlite_url(&self.data_dir))
    }

    /// The address the platform is reached at.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
            .trim_end_matches('/')
            .to_owned()
    }

    /// The key-encryption key: `kek` when set, else the `kek_file` (made at first start).
    pub fn key_wrap(&self) -> anyhow::Result<std::sync::Arc<dyn shuju_license::kek::KeyWrap>> {
        use shuju_license::kek::LocalKek;
        let k = match &self.kek {
            Some(text) => LocalKek::parse(text),
            None => LocalKek::load_or_create(
                &self
                    .kek_file
                    .clone()
                    .unwrap_or_else(|| self.data_dir.join("kek")),
            ),
        }
        .map_err(|e| anyhow::anyhow!("the key-encryption key: {}", e.message))?;
        Ok(std::sync::Arc::new(k))
    }

    /// The configuration as TOML with secrets hidden.
    pub fn printable(&self) -> anyhow::Result<String> {
        let mut c = self.clone();
        c.database = c.database.as_deref().map(hide_password);
        c.kek = c.kek.as_ref().map(|_| "***".to_owned());
        c.notices.smtp = c.notices.smtp.as_deref().map(hide_password);
        c.notices.sms_token = c.notices.sms_token.as_ref().map(|_| "***".to_owned());
        Ok(toml::to_string_pretty(&c)?)
    }
}

pub fn sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("shuju.db").display())
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn hide_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// The `[identity]` section of `shuju.toml`: when the full resolution runs (deliveries are
/// matched as they land between runs).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdentityConfig {
    /// The time of day (Beijing time, `HH:MM`) the full resolution of persons and enterprises
    /// runs each day; `off` for never (a data officer starts it).
    pub full_run: String,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig {
            full_run: "02:00".into(),
        }
    }
}

impl IdentityConfig {
    /// The daily time of the full run, `None` when off. A time that does not read is refused
    /// when the platform opens.
    pub fn full_run_at(&self) -> shuju_types::Result<Option<chrono::NaiveTime>> {
        let t = self.full_run.trim();
        if t.eq_ignore_ascii_case("off") || t.is_empty() {
            return Ok(None);
        }
        chrono::NaiveTime::parse_from_str(t, "%H:%M")
            .map(Some)
            .map_err(|_| {
                shuju_types::Error::invalid("identity.full_run", "a time as HH:MM, or off")
            })
    }
}

/// How long from `now` until the next `at` (Beijing time).
pub fn until_next(
    now: chrono::DateTime<chrono::Utc>,
    at: chrono::NaiveTime,
) -> std::time::Duration {
    let local = now.naive_utc() + chrono::Duration::hours(8);
    let mut next = local.date().and_time(at);
    if next <= local {
        next += chrono::Duration::days(1);
    }
    (next - local).to_std().unwrap_or_default()
}

/// The `[web]` section of `shuju.toml`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebConfig {
    /// The largest JSON body accepted, in bytes.
    pub json_limit: usize,
    /// The largest upload (Excel import) accepted, in bytes.
    pub upload_limit: usize,
    /// The largest delivery uploaded to the lake through the web, in bytes (larger files go
    /// through `shuju ingest` or the drop folder).
    pub delivery_limit: usize,
    /// Set the Secure flag on cookies (when served over HTTPS behind a proxy).
    pub secure_cookies: bool,
    /// Serve the open-data face (CKAN actions, the DCAT export) to callers who do not sign in:
    /// only entries whose opening attribute is 无条件开放. Off by default: every caller signs in.
    pub open_data: bool,
    /// Answer `/metrics` without sign-in (a scraper on a closed network). Off by default: the
    /// scraper sends an API token with `monitor:metrics:view`.
    pub anonymous_metrics: bool,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            json_limit: 256 * 1024,
            upload_limit: 10 * 1024 * 1024,
            delivery_limit: 256 * 1024 * 1024,
            secure_cookies: false,
            open_data: false,
            anonymous_metrics: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_full_run_is_nightly_unless_off() {
        use chrono::TimeZone;
        let c = IdentityConfig::default();
        let at = c.full_run_at().unwrap().unwrap();
        // 01:00 Beijing is 17:00 UTC the day before: an hour to wait.
        let now = chrono::Utc.with_ymd_and_hms(2026, 12, 2, 17, 0, 0).unwrap();
        assert_eq!(until_next(now, at).as_secs(), 3600);
        // 03:00 Beijing: the next is tomorrow's.
        let now = chrono::Utc.with_ymd_and_hms(2026, 12, 2, 19, 0, 0).unwrap();
        assert_eq!(until_next(now, at).as_secs(), 23 * 3600);
        let off = IdentityConfig {
            full_run: "off".into(),
        };
        assert_eq!(off.full_run_at().unwrap(), None);
        let bad = IdentityConfig {
            full_run: "25:99".into(),
        };
        assert!(bad.full_run_at().is_err());
    }

    #[test]
    fn hides_passwords() {
        assert_eq!(
            hide_password("postgres://shuju:s3cret@localhost:5432/shuju"),
            "postgres://shuju:***@localhost:5432/shuju"
        );
        assert_eq!(hide_password("sqlite://x.db"), "sqlite://x.db");
    }

    #[test]
    fn printing_hides_the_notice_secrets() {
        let mut c = Config::default();
        c.notices.smtp = Some("smtp://mailer:relay-pw@mail.gov.local:25".into());
        c.notices.sms_token = Some("gateway-token".into());
        c.kek = Some("ab".repeat(32));
        let out = c.printable().unwrap();
        assert!(out.contains("smtp://mailer:***@mail.gov.local:25"), "{out}");
        for secret in ["relay-pw", "gateway-token", &"ab".repeat(32)] {
            assert!(!out.contains(secret), "{secret} printed: {out}");
        }
    }
}
