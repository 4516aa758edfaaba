//! The composition root. [`Platform::open`] builds every service of the platform once from one
//! [`Config`]: the metadata store (migrated), administration (first start and built-in roles),
//! the catalog, the lake, e-licenses (keys sealed under the configured key-encryption key), the
//! exchange with its one gateway, projects, and the person and enterprise files.
//! [`Platform::spawn_background`] runs the work no request waits for: the match index's load, the
//! drop-folder watcher, the outbox subscribers and the deadline ticker. `serve`, `demo`, the tests'
//! `TestApp` and the benchmarks all start here, so a service is never built twice in a process
//! (two gateways would count one grant's quota twice).
//!
//! What happens after a delivery lands is read from the durable outbox (`lake.loaded`, written in
//! the load's own transaction): whether the file came through the API, a page, the drop folder or
//! `shuju ingest` in another process, the same subscribers match its persons and enterprises and
//! hand its changes to bulk subscribers.

mod config;

pub use config::{Config, IdentityConfig, Overrides, WebConfig, hide_password, sqlite_url};

use shuju_admin::{Admin, Caller};
use shuju_catalog::Catalog;
use shuju_exchange::gateway::Gateway;
use shuju_exchange::projects::Projects;
use shuju_exchange::requests::Exchange;
use shuju_identity::enterprises::Enterprises;
use shuju_identity::persons::Persons;
use shuju_lake::{Lake, LoadReport};
use shuju_license::registry::Licenses;
use shuju_service::Services;
use shuju_store::{Migrate, Store, outbox};
use shuju_types::{Error, Result};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Every service of the platform, built once.
#[derive(Clone)]
pub struct Platform {
    pub config: Arc<Config>,
    pub store: Store,
    pub admin: Admin,
    pub catalog: Catalog,
    pub lake: Lake,
    pub licenses: Licenses,
    pub exchange: Exchange,
    pub projects: Projects,
    /// The one data-service gateway of this process (its grant cache, usage counters and call
    /// writer are the process's).
    pub gateway: Gateway,
    pub persons: Persons,
    pub enterprises: Enterprises,
    pub services: Services,
    /// The SMTP relay and SMS gateway the service flow's notices leave by.
    pub transports: Arc<shuju_notify::Transports>,
    /// The `admin` account's one-time password, when this start made it (the first).
    pub first_password: Option<String>,
    /// One reader of the outbox at a time.
    draining: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Platform")
            .field("data_dir", &self.config.data_dir)
            .finish()
    }
}

/// The outbox's subscribers, by the name their cursor is kept under.
const MATCHING: &str = "identity.match";
const BULK: &str = "exchange.bulk";

impl Platform {
    /// Open the platform: the data folder (private to its owner), the database (migrated; on the
    /// first start the `admin` account with a one-time password, written to
    /// `DATA_DIR/initial-admin-password`), every service once.
    pub async fn open(cfg: &Config) -> Result<Platform> {
        Platform::open_with(cfg, Migrate::Apply).await
    }

    /// [`Platform::open`], migrating the database or only checking it is current.
    pub async fn open_with(cfg: &Config, migrate: Migrate) -> Result<Platform> {
        private_dir(&cfg.data_dir)?;
        cfg.identity.full_run_at()?;
        let store = Store::open(&cfg.database_url(), migrate).await?;
        let admin = Admin::new(store.clone(), cfg.admin.clone());
        let first_password = if migrate == Migrate::Apply {
            let pw = admin.bootstrap().await?;
            if let Some(pw) = &pw {
                write_secret(
                    &cfg.data_dir.join("initial-admin-password"),
                    &format!("{pw}\n"),
                )?;
            }
            admin.ensure_builtin_roles().await?;
            pw
        } else {
            None
        };
        let catalog = Catalog::open(admin.clone(), cfg.catalog.clone()).await?;
        let mut lake = Lake::open(&cfg.lake_location(), store.clone())?.with_limits(cfg.limits);
        if lake.root().scheme() != "file" {
            // Files handed to departments stay on this machine when the tables are in a store.
            lake = lake.with_spaces(cfg.data_dir.join("exchange"));
        }
        lake.recover().await?;
        shuju_catalog::lake::stamp_providers(&catalog, &lake).await?;
        let kek = cfg
            .key_wrap()
            .map_err(|e| Error::invalid("kek", format!("{e:#}")))?;
        let licenses = Licenses::open(admin.clone(), &cfg.public_url(), kek).await?;
        let exchange = Exchange::new(
            admin.clone(),
            catalog.clone(),
            cfg.exchange.calendar.clone(),
            cfg.exchange.deadlines.clone(),
        );
        let gateway = Gateway::new(store.clone(), exchange.clone(), lake.clone());
        let persons = Persons::new(store.clone(), lake.clone());
        let transports = Arc::new(shuju_notify::Transports::open(&cfg.notices)?);
        let services = Services::new(
            store.clone(),
            persons.clone(),
            licenses.clone(),
            cfg.exchange.calendar.clone(),
        );
        Ok(Platform {
            config: Arc::new(cfg.clone()),
            projects: Projects::new(admin.clone()),
            persons,
            services,
            transports,
            enterprises: Enterprises::new(store.clone(), lake.clone()),
            store,
            admin,
            catalog,
            lake,
            licenses,
            exchange,
            gateway,
            first_password,
            draining: Default::default(),
        })
    }

    /// Load a delivery into the table of a published entry whose provider is in the caller's
    /// scope, then act on it at once (its persons and enterprises matched, bulk subscribers
    /// served) before answering.
    pub async fn deliver(
        &self,
        c: &Caller,
        resource_code: &str,
        path: &Path,
        file_name: &str,
    ) -> Result<LoadReport> {
        let r = shuju_catalog::lake::deliver(
            &self.catalog,
            &self.lake,
            c,
            resource_code,
            path,
            file_name,
        )
        .await?;
        self.catch_up().await;
        Ok(r)
    }

    /// Act on every event of the outbox not yet acted on. Failures are logged with their cause;
    /// an event whose action failed is not read again (the next full resolution run links what
    /// its matching missed).
    pub async fn catch_up(&self) {
        let _one = self.draining.lock().await;
        for subscriber in [MATCHING, BULK] {
            if let Err(e) = self.drain(subscriber).await {
                tracing::warn!(subscriber, error = %e.report(), "outbox not read");
            }
        }
    }

    async fn drain(&self, subscriber: &str) -> Result<()> {
        // A subscriber new to this database starts from now: what landed before it existed
        // was handled by the full runs.
        let mut at = match outbox::cursor(&self.store, subscriber).await? {
            Some(at) => at,
            None => {
                let newest = outbox::newest(&self.store).await?;
                self.advance(subscriber, newest).await?;
                newest
            }
        };
        loop {
            let events = outbox::after(&self.store, at, 100).await?;
            if events.is_empty() {
                return Ok(());
            }
            for e in &events {
                if e.topic == outbox::LAKE_LOADED {
                    self.on_loaded(subscriber, &e.payload).await;
                }
                at = e.id;
                self.advance(subscriber, at).await?;
            }
        }
    }

    async fn advance(&self, subscriber: &str, id: i64) -> Result<()> {
        let mut tx = self.store.write().await?;
        outbox::set_cursor(&mut tx, subscriber, id).await?;
        tx.commit().await
    }

    async fn on_loaded(&self, subscriber: &str, payload: &str) {
        let v: serde_json::Value = serde_json::from_str(payload).unwrap_or_default();
        let (Some(table), Some(job)) = (v["table"].as_str(), v["job"].as_i64()) else {
            tracing::warn!(payload, "an outbox event without its table and job");
            return;
        };
        match subscriber {
            MATCHING => shuju_identity::landed(&self.persons, &self.enterprises, table, job).await,
            BULK => match self.gateway.deliver_due().await {
                Ok(d) if !d.is_empty() => {
                    tracing::info!(deliveries = d.len(), %table, "bulk changes delivered")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e.report(), %table, "bulk delivery"),
            },
            _ => {}
        }
    }

    /// Start the work no request waits for; it stops when the returned value is dropped.
    pub fn spawn_background(&self) -> Background {
        let mut tasks = Vec::new();
        // The single-record match index of the last resolution run.
        if !self.persons.has_index() {
            let persons = self.persons.clone();
            tasks.push(tokio::spawn(async move {
                if let Err(e) = persons.load_index(&Caller::system()).await {
                    tracing::warn!(error = %e.report(), "person match index not loaded");
                }
            }));
        }
        // The key indexes persons' files and forms are read from.
        {
            let persons = self.persons.clone();
            tasks.push(tokio::spawn(async move {
                match persons.warm().await {
                    Ok(n) => tracing::info!(tables = n, "file indexes held"),
                    Err(e) => tracing::warn!(error = %e.report(), "file indexes not built"),
                }
            }));
        }
        // Deliveries copied into DATA_DIR/drop/… are loaded once they stop growing; the outbox
        // tells the subscribers.
        tasks.push(tokio::spawn(self.lake.clone().watch_drop(
            self.config.data_dir.join("drop"),
            Duration::from_secs(10),
        )));
        // The outbox, read every second (and at once after a delivery through this process).
        {
            let p = self.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    p.catch_up().await;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }));
        }
        // The nightly full resolution (`[identity] full_run`), one at a time with the matching
        // of deliveries as they land.
        if let Ok(Some(at)) = self.config.identity.full_run_at() {
            let p = self.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    tokio::time::sleep(config::until_next(chrono::Utc::now(), at)).await;
                    p.full_run().await;
                }
            }));
        }
        // Every 30 seconds: requests past their answer deadline escalated (once each), and bulk
        // subscribers whose tables changed without a delivery (a build) served.
        {
            let (exchange, gateway) = (self.exchange.clone(), self.gateway.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    match exchange.escalate_overdue().await {
                        Ok(r) if !r.is_empty() => {
                            tracing::info!(requests = r.len(), "escalated past their deadline")
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e.report(), "escalation"),
                    }
                    if let Err(e) = gateway.deliver_due().await {
                        tracing::warn!(error = %e.report(), "bulk delivery");
                    }
                }
            }));
        }
        // Every 30 seconds: service cases' timers that are over go on, and tasks a working day
        // from their deadline are escalated (once each).
        {
            let services = self.services.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    let today = chrono::Local::now().date_naive();
                    match services.tick(today).await {
                        Ok(n) if n > 0 => {
                            tracing::info!(cases = n, "service timers and escalations")
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e.report(), "service tick"),
                    }
                }
            }));
        }
        // The notice outbox: what is due is sent; temporary failures wait and are tried again.
        {
            let (services, transports) = (self.services.clone(), self.transports.clone());
            let cfg = self.config.notices.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(cfg.every_ms.max(50))).await;
                    if let Err(e) = services.deliver_notices(&transports, &cfg).await {
                        tracing::warn!(error = %e.report(), "notice delivery");
                    }
                }
            }));
        }
        Background { tasks }
    }

    /// The full resolution of persons, then enterprises, as the platform (what the schedule
    /// starts); not while deliveries are being matched as they land.
    pub async fn full_run(&self) {
        let _one = self.draining.lock().await;
        let sys = Caller::system();
        match self.persons.resolve(&sys).await {
            Ok(r) => tracing::info!(
                run = r.run_id,
                persons = r.persons,
                "scheduled person resolution"
            ),
            Err(e) => tracing::warn!(error = %e.report(), "scheduled person resolution"),
        }
        match self.enterprises.resolve(&sys).await {
            Ok(r) => tracing::info!(run = r.run_id, "scheduled enterprise resolution"),
            Err(e) => tracing::warn!(error = %e.report(), "scheduled enterprise resolution"),
        }
    }

    /// Close the database's connections.
    pub async fn close(&self) {
        self.store.close().await;
    }
}

/// The platform's background tasks; dropping this stops them.
pub struct Background {
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Background {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Write a file readable by its owner only (replacing one left by an earlier start).
pub fn write_secret(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(path).map_err(Error::internal)?;
    f.write_all(text.as_bytes()).map_err(Error::internal)
}

/// Create the data folder readable by its owner only: it holds password hashes and keys.
fn private_dir(dir: &Path) -> Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(|e| {
        Error::invalid(
            "data_dir",
            format!("cannot create the data folder {}: {e}", dir.display()),
        )
    })
}
