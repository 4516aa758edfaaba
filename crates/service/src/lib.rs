//! Get it done once (一次办好): service matters and their guides, processes as versioned stage
//! graphs, cases opened at one window (or online) whose materials resolve to shared data, shown
//! e-licenses or uploads, forms that fill themselves after the applicant consents, and routing by
//! an event-sourced stage engine on the working-day calendar.
//!
//! - [`matter`]: matters (GB/T 39554.1), their checks, guiding questions and materials;
//! - [`process`]: stage graphs and their checks (no cycle, every stage reachable, joins sound);
//! - [`case`]: events, the fold that is a case's state, and the engine deciding the next events;
//! - [`notices`]: which transition tells the applicant what, from versioned templates.

pub mod case;
pub mod instant;
pub mod kiosk;
pub mod matter;
pub mod notices;
pub mod process;
pub mod replay;

use case::{Act, Case, Contact, Engine, Event, FormValue, MaterialState, Pause};
use chrono::NaiveDate;
use matter::{Matter, Source};
use notices::{Template, TemplateView, Templates};
use process::Process;
use serde::Serialize;
use shuju_admin::{Caller, perm};
use shuju_identity::persons::Persons;
use shuju_license::registry::{Licenses, Prepared};
use shuju_notify::{Channel, Failure, NoticeConfig, Transports};
use shuju_store::Store;
use shuju_store::audit::{self, Outcome};
use shuju_store::service::{self as db, NewCase, NewNotice, NoticeRow, PullRow, TaskRow};
use shuju_types::calendar::Calendar;
use shuju_types::{CitizenId, CreditCode, Error, Result};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

pub use shuju_store::service::CaseRow;

/// The demo city's matters and processes.
pub const DEMO: &str = include_str!("../demo/liaocheng.toml");

/// Process versions read so far, by (name, version): a saved version never changes.
type ProcessCache = HashMap<(String, i64), Arc<Process>>;

/// The notice templates in force and when they were read.
type TemplatesRead = (std::time::Instant, Arc<Templates>);

/// The departments by name and when they were read.
type DepartmentsRead = (std::time::Instant, Arc<BTreeMap<String, i64>>);

/// The service flow, opened once by the platform.
#[derive(Clone)]
pub struct Services {
    store: Store,
    persons: Persons,
    licenses: Licenses,
    calendar: Calendar,
    /// Escalate a task this many working days before its deadline.
    warn_days: u32,
    processes: Arc<Mutex<ProcessCache>>,
    /// The departments by name, read at most every few seconds (a renamed department is seen
    /// within [`DEPT_TTL`]).
    departments: Arc<Mutex<Option<DepartmentsRead>>>,
    /// Group commit: transitions queued here are written by one task, as many as are waiting
    /// in one transaction, and each caller is answered after that transaction commits.
    committer: Option<tokio::sync::mpsc::UnboundedSender<Queued>>,
    /// The notice templates in force, read at most every few seconds (and at once after a save).
    templates: Arc<Mutex<Option<TemplatesRead>>>,
    /// Matters' names by (code, version): a saved version never changes.
    matter_names: Arc<Mutex<HashMap<(String, i64), String>>>,
    /// One delivery pass at a time.
    delivering: Arc<tokio::sync::Mutex<()>>,
    /// Instant matters' rule sets, vetted, by (key, version): a saved version never changes.
    rules_cache: Arc<Mutex<HashMap<(String, i64), shuju_identity::checks::Rules>>>,
    /// The self-service terminals' check that the person holds the ID (人证核验).
    presence: Arc<dyn kiosk::PresenceCheck>,
    /// Case numbers taken a block at a time, so a case is numbered (and its decision's receipt,
    /// which names it, signed) before the write that opens it.
    case_ids: Arc<shuju_store::Numbers>,
}

const DEPT_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// A transition's write: its events, and with a decision the license it issues and its
/// signed receipt; for a case just opened, its row, screening and consented reads too. Written
/// by the group commit, or at once where there is none (no runtime).
struct Pending {
    opened: Option<Opened>,
    id: i64,
    after: i64,
    bodies: Vec<(String, String)>,
    status: &'static str,
    promised_by: String,
    tasks: Vec<TaskRow>,
    at: String,
    audits: Vec<audit::AuditEntry>,
    notices: Vec<NewNotice>,
    license: Option<Prepared>,
    receipt: Option<(db::ReceiptRow, audit::AuditEntry)>,
}

/// A transition's events, decided, before what they bring with them is added
/// ([`Services::record`]).
struct Transition {
    id: i64,
    /// How many events the case had before (0: the transition opens it).
    before: i64,
    was_decided: bool,
    after: Case,
    events: Vec<Event>,
    /// Each event as stored, with the name of who caused it.
    bodies: Vec<(String, String)>,
    audits: Vec<audit::AuditEntry>,
    opened: Option<Opened>,
}

/// A case opened by a transition: its row, its screening by an instant matter's rules, and
/// what was read with the applicant's consent.
struct Opened {
    case: NewCase,
    screening: Option<db::ScreeningRow>,
    pull: Option<db::NewPull>,
}

impl Pending {
    /// Write it inside `tx`; a case that moved on meanwhile is a conflict, found before
    /// anything is written.
    async fn write(&mut self, tx: &mut shuju_store::WriteTx, licenses: &Licenses) -> Result<()> {
        if let Some(o) = &self.opened {
            db::insert_case(tx, &o.case).await?;
        }
        db::append(
            tx,
            self.id,
            self.after,
            &self.bodies,
            self.status,
            &self.promised_by,
            &self.tasks,
            &self.at,
        )
        .await?;
        if let Some(o) = &self.opened {
            if let Some(s) = &o.screening {
                db::add_screening(tx, s).await?;
            }
            if let Some(pull) = &o.pull {
                db::add_pull(tx, pull).await?;
            }
        }
        let mut audits = std::mem::take(&mut self.audits);
        if let Some(p) = &self.license {
            let source = format!("case:{}", self.id);
            licenses.write(tx, p, Some(&source), &mut audits).await?;
        }
        if let Some((row, entry)) = self.receipt.take()
            && db::add_receipt(tx, &row).await?
        {
            audits.push(entry);
        }
        audit::append_many(tx, &audits).await?;
        db::add_notices(tx, &self.notices, &self.at).await
    }
}

type Queued = (Pending, tokio::sync::oneshot::Sender<Result<()>>);

/// Write queued transitions, each batch in one transaction: a transition whose case moved on
/// meanwhile is answered with a conflict and the rest of its batch still commits.
async fn committer(
    store: Store,
    licenses: Licenses,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<Queued>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < 512 {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let written = async {
            let mut tx = store.write().await?;
            let mut outcomes = Vec::with_capacity(batch.len());
            for (p, _) in &mut batch {
                match p.write(&mut tx, &licenses).await {
                    Ok(()) => outcomes.push(Ok(())),
                    Err(e) if e.code == shuju_types::ErrorCode::Conflict => outcomes.push(Err(e)),
                    Err(e) => return Err(e),
                }
            }
            tx.commit().await?;
            Ok(outcomes)
        }
        .await;
        match written {
            Ok(outcomes) => {
                for ((_, reply), r) in batch.into_iter().zip(outcomes) {
                    let _ = reply.send(r);
                }
            }
            Err(e) => {
                tracing::error!(error = %e.report(), n = batch.len(), "a batch of case transitions failed");
                for (_, reply) in batch {
                    let _ = reply.send(Err(Error::unavailable(
                        "the transition could not be written; try again",
                    )));
                }
            }
        }
    }
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services").finish_non_exhaustive()
    }
}

/// How a material would be served, shown before anything is read.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MaterialPreview {
    pub id: String,
    pub name: String,
    /// `data`, `license` or `upload`: what serves it if the applicant consents.
    pub served_by: String,
    /// The fact or license type read.
    pub reads: String,
}

/// A form field and what it would be filled from, before anything is read.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldPreview {
    pub name: String,
    pub label: String,
    /// `element <name>` or `fact <name>`.
    pub reads: String,
    pub locked: bool,
}

/// What opening a case would read and ask for: shown to the applicant, who consents or not.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Preview {
    pub matter: Matter,
    pub materials: Vec<MaterialPreview>,
    pub fields: Vec<FieldPreview>,
    /// The promised completion date if the case were opened today.
    pub promised_by: NaiveDate,
}

/// What a case is opened with.
#[derive(Clone, Debug, Default)]
pub struct OpenCase {
    pub matter: String,
    /// The applicant's citizen ID or credit code (at a window); online, the caller's own.
    pub applicant: Option<String>,
    pub answers: BTreeMap<String, String>,
    /// The applicant agreed that the platform read their data for this case.
    pub consent: bool,
    /// Values the applicant writes into the form, by field name: any field not locked (a
    /// locked field filled from data may not be changed).
    pub values: BTreeMap<String, String>,
    /// Where the applicant is told of the case's progress.
    pub contact: Contact,
}

/// One stored event, as the history shows it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryItem {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub event: Event,
}

/// A case as its applicant and officers see it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseView {
    pub id: i64,
    pub status: String,
    pub case: Case,
    pub history: Vec<HistoryItem>,
    /// What was read of the applicant's data for the case.
    pub pulls: Vec<Pull>,
}

/// A read of an applicant's data for a case ("who used my data").
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Pull {
    pub case_id: i64,
    pub at: String,
    pub actor: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub what: serde_json::Value,
}

impl From<PullRow> for Pull {
    fn from(r: PullRow) -> Pull {
        Pull {
            case_id: r.case_id,
            at: r.at,
            actor: r.actor,
            what: serde_json::from_str(&r.what).unwrap_or_default(),
        }
    }
}

/// An open task in an officer's list.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskView {
    pub case_id: i64,
    pub stage: String,
    pub due: String,
    /// `overdue`, `due_soon` (within the warning days) or `on_time`.
    pub badge: String,
    pub escalated: bool,
    pub paused: bool,
}

/// A notice of a case and how far its delivery got.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoticeView {
    pub id: i64,
    /// The event it tells of.
    pub seq: i64,
    pub kind: String,
    pub channel: String,
    /// Masked: `z***@example.cn`, `138****5678`.
    pub recipient: String,
    /// The template's version (0: built in).
    pub template_version: i64,
    pub subject: String,
    pub text: String,
    /// `queued`, `sent`, `retrying` or `failed`.
    pub state: String,
    pub attempts: i64,
    /// When the next attempt is due (while queued or retrying).
    pub next_at: String,
    pub last_error: Option<String>,
    /// What the relay or gateway answered when it took the notice.
    pub receipt: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<NoticeRow> for NoticeView {
    fn from(n: NoticeRow) -> NoticeView {
        NoticeView {
            id: n.id,
            seq: n.seq,
            kind: n.kind,
            channel: n.channel,
            recipient: notices::mask(&n.recipient),
            template_version: n.template_version,
            subject: n.subject,
            text: n.body,
            state: n.state,
            attempts: n.attempts,
            next_at: n.next_at,
            last_error: n.last_error,
            receipt: n.receipt,
            created_at: n.created_at,
            updated_at: n.updated_at,
        }
    }
}

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

fn truthy(v: Option<&serde_json::Value>) -> bool {
    match v {
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::Number(n)) => n.as_f64().is_some_and(|x| x != 0.0),
        Some(serde_json::Value::String(s)) => !s.is_empty(),
        Some(serde_json::Value::Array(a)) => !a.is_empty(),
        _ => false,
    }
}

/// A citizen ID or a credit code, in its standard form.
fn subject(s: &str) -> Result<String> {
    let s = s.trim();
    match (CitizenId::parse(s), CreditCode::parse(s)) {
        (Ok(id), _) => Ok(id.as_str().to_owned()),
        (_, Ok(code)) => Ok(code.as_str().to_owned()),
        (Err(e), Err(_)) => Err(e.in_field("applicant")),
    }
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(Error::internal)
}

impl Services {
    pub fn new(store: Store, persons: Persons, licenses: Licenses, calendar: Calendar) -> Services {
        let committing = licenses.clone();
        Services {
            persons,
            licenses,
            calendar,
            warn_days: 1,
            processes: Default::default(),
            departments: Default::default(),
            templates: Default::default(),
            matter_names: Default::default(),
            delivering: Default::default(),
            rules_cache: Default::default(),
            presence: Arc::new(kiosk::TestPresence),
            case_ids: Arc::new(shuju_store::Numbers::new(shuju_store::Counter::CaseIds, 64)),
            committer: tokio::runtime::Handle::try_current().ok().map(|h| {
                let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
                h.spawn(committer(store.clone(), committing.clone(), rx));
                tx
            }),
            store,
        }
    }

    /// With the terminals' presence check a city plugs in (its ID-card readers and face
    /// comparison) in place of the built-in test implementation.
    pub fn with_presence(mut self, p: Arc<dyn kiosk::PresenceCheck>) -> Services {
        self.presence = p;
        self
    }

    async fn require(&self, c: &Caller, p: &str, action: &str) -> Result<()> {
        c.require(&self.store, p, action, "service", None).await
    }

    // ---- matters and processes ----

    /// Every version of a matter, oldest first.
    async fn matter_versions(&self, code: &str) -> Result<Vec<Matter>> {
        let mut out = Vec::new();
        for r in db::matter_history(&self.store, code)
            .await?
            .into_iter()
            .rev()
        {
            let mut m: Matter = serde_json::from_str(&r.body).map_err(Error::internal)?;
            m.version = r.version;
            out.push(m);
        }
        Ok(out)
    }

    /// The newest version of every matter (the guides are public).
    pub async fn matters(&self) -> Result<Vec<Matter>> {
        db::matters(&self.store)
            .await?
            .into_iter()
            .map(|r| {
                let mut m: Matter = serde_json::from_str(&r.body).map_err(Error::internal)?;
                m.version = r.version;
                Ok(m)
            })
            .collect()
    }

    /// A matter's guide (办事指南): the version in effect today, or the newest if none is yet.
    pub async fn matter(&self, code: &str) -> Result<Matter> {
        let all = self.matter_versions(code).await?;
        matter::in_effect(&all, today())
            .or(all.last())
            .cloned()
            .ok_or_else(|| Error::not_found(format!("matter {code}")))
    }

    /// Every version of a matter, newest first.
    pub async fn matter_history(&self, code: &str) -> Result<Vec<Matter>> {
        let mut v = self.matter_versions(code).await?;
        v.reverse();
        Ok(v)
    }

    /// Save a new version of a matter, after checking it and that its process exists.
    pub async fn save_matter(&self, c: &Caller, mut m: Matter) -> Result<Matter> {
        const ACTION: &str = "service.matter.save";
        self.require(c, perm::SERVICE_MATTERS, ACTION).await?;
        let checked = async {
            m.validate()?;
            if db::process_history(&self.store, &m.process)
                .await?
                .is_empty()
            {
                return Err(Error::invalid(
                    "process",
                    format!("no process named {}; save the process first", m.process),
                ));
            }
            let p = self.process(&m.process, None).await?;
            m.fits(&p)?;
            // An instant matter's rules exist and pass the vetting (no code, no network).
            if let Some(i) = &m.instant {
                self.rules(&i.rules).await?;
            }
            Ok(())
        }
        .await;
        if let Err(e) = checked {
            return Err(self.refused(c, ACTION, &m.code, e).await);
        }
        m.version = 0;
        let mut tx = self.store.write().await?;
        let v = db::save_matter(&mut tx, &m.code, &json(&m)?, &c.username).await?;
        audit::append(
            &mut tx,
            &c.entry(
                ACTION,
                "matter",
                Some(format!("{}@{v}", m.code)),
                Outcome::Ok,
                None,
            ),
        )
        .await?;
        tx.commit().await?;
        m.version = v;
        Ok(m)
    }

    async fn refused(&self, c: &Caller, action: &str, object: &str, e: Error) -> Error {
        let _ = audit::record(
            &self.store,
            &c.entry(
                action,
                "service",
                Some(object.to_owned()),
                Outcome::Rejected,
                Some(format!(
                    "{}: {}",
                    e.field.as_deref().unwrap_or("-"),
                    e.message
                )),
            ),
        )
        .await;
        e
    }

    /// The departments by name, as process tasks name them.
    async fn departments(&self) -> Result<Arc<BTreeMap<String, i64>>> {
        if let Some((at, m)) = lock(&self.departments).as_ref()
            && at.elapsed() < DEPT_TTL
        {
            return Ok(m.clone());
        }
        let m: Arc<BTreeMap<String, i64>> = Arc::new(
            shuju_admin::departments::all(&self.store)
                .await?
                .into_iter()
                .map(|d| (d.name, d.id))
                .collect(),
        );
        *lock(&self.departments) = Some((std::time::Instant::now(), m.clone()));
        Ok(m)
    }

    /// Save a new version of a process, after checking its graph, its departments and roles.
    pub async fn save_process(&self, c: &Caller, mut p: Process) -> Result<Process> {
        const ACTION: &str = "service.process.save";
        self.require(c, perm::SERVICE_MATTERS, ACTION).await?;
        let checked = async {
            p.validate()?;
            let depts = self.departments().await?;
            for (id, s) in &p.stages {
                if let process::Stage::Task {
                    department, role, ..
                } = s
                {
                    if !depts.contains_key(department) {
                        return Err(Error::invalid(
                            "stages",
                            format!("task {id}: no department named {department}"),
                        ));
                    }
                    if shuju_admin::roles::by_key(&self.store, role)
                        .await?
                        .is_none()
                    {
                        return Err(Error::invalid(
                            "stages",
                            format!("task {id}: no role {role}"),
                        ));
                    }
                }
            }
            Ok(())
        }
        .await;
        if let Err(e) = checked {
            return Err(self.refused(c, ACTION, &p.name, e).await);
        }
        p.version = 0;
        let mut tx = self.store.write().await?;
        let v = db::save_process(&mut tx, &p.name, &json(&p)?, &c.username).await?;
        audit::append(
            &mut tx,
            &c.entry(
                ACTION,
                "process",
                Some(format!("{}@{v}", p.name)),
                Outcome::Ok,
                None,
            ),
        )
        .await?;
        tx.commit().await?;
        p.version = v;
        Ok(p)
    }

    /// Save the processes and matters of a TOML file (`[[process]]` and `[[matter]]` tables, the
    /// shape of `demo/liaocheng.toml`), each through the same checks as one saved alone; the
    /// first refusal stops the import and names the entry. Returns (processes, matters) saved.
    pub async fn import_toml(&self, c: &Caller, text: &str) -> Result<(usize, usize)> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct File {
            #[serde(default)]
            process: Vec<Process>,
            #[serde(default)]
            matter: Vec<Matter>,
        }
        self.require(c, perm::SERVICE_MATTERS, "service.import")
            .await?;
        let f: File = toml::from_str(text).map_err(|e| Error::invalid("file", e.message()))?;
        for p in &f.process {
            self.save_process(c, p.clone()).await.map_err(|e| {
                Error::invalid(
                    format!("process {}: {}", p.name, e.field.as_deref().unwrap_or("-")),
                    e.message,
                )
            })?;
        }
        for m in &f.matter {
            self.save_matter(c, m.clone()).await.map_err(|e| {
                Error::invalid(
                    format!("matter {}: {}", m.code, e.field.as_deref().unwrap_or("-")),
                    e.message,
                )
            })?;
        }
        Ok((f.process.len(), f.matter.len()))
    }

    /// The demo city's matters and processes (`demo/liaocheng.toml`), unless matters exist.
    pub async fn seed_demo(&self) -> Result<(usize, usize)> {
        if !db::matters(&self.store).await?.is_empty() {
            return Ok((0, 0));
        }
        self.import_toml(&Caller::system(), DEMO).await
    }

    /// The newest version of every process.
    pub async fn processes(&self) -> Result<Vec<Process>> {
        db::processes(&self.store)
            .await?
            .into_iter()
            .map(|r| {
                let mut p: Process = serde_json::from_str(&r.body).map_err(Error::internal)?;
                p.version = r.version;
                Ok(p)
            })
            .collect()
    }

    /// One version of a process (`None`: the newest).
    async fn process(&self, name: &str, version: Option<i64>) -> Result<Arc<Process>> {
        if let Some(v) = version
            && let Some(p) = lock(&self.processes).get(&(name.to_owned(), v))
        {
            return Ok(p.clone());
        }
        let rows = db::process_history(&self.store, name).await?;
        let r = match version {
            Some(v) => rows.into_iter().find(|r| r.version == v),
            None => rows.into_iter().next(),
        }
        .ok_or_else(|| Error::not_found(format!("process {name}")))?;
        let mut p: Process = serde_json::from_str(&r.body).map_err(Error::internal)?;
        p.version = r.version;
        let p = Arc::new(p);
        lock(&self.processes).insert((name.to_owned(), r.version), p.clone());
        Ok(p)
    }

    // ---- intake ----

    /// What opening a case of `code` would read and ask for, with these answers: nothing of the
    /// applicant's is read.
    pub async fn preview(&self, code: &str, answers: &BTreeMap<String, String>) -> Result<Preview> {
        let m = self.matter(code).await?;
        m.check_answers(answers)?;
        let materials = m
            .materials_for(answers)
            .into_iter()
            .map(|x| {
                let (served_by, reads) = match &x.source {
                    Source::Data { fact } => ("data", fact.clone()),
                    Source::License { license_type } => ("license", license_type.clone()),
                    Source::Upload => ("upload", String::new()),
                };
                MaterialPreview {
                    id: x.id.clone(),
                    name: x.name.clone(),
                    served_by: served_by.into(),
                    reads,
                }
            })
            .collect();
        let fields = m
            .form
            .iter()
            .map(|f| FieldPreview {
                name: f.name.clone(),
                label: f.label.clone(),
                reads: match (&f.element, &f.fact) {
                    (Some(e), _) => format!("element {e}"),
                    (_, Some(x)) => format!("fact {x}"),
                    _ => String::new(),
                },
                locked: f.locked,
            })
            .collect();
        let promised_by = self.calendar.add_working_days(today(), m.promised_days);
        Ok(Preview {
            matter: m,
            materials,
            fields,
            promised_by,
        })
    }

    /// Open a case: at a window for an applicant named by citizen ID or credit code, or online
    /// for the caller's own holder. With consent the applicant's file and licenses serve what
    /// they can (each read recorded); without, nothing is read and every material is an upload.
    pub async fn open(&self, c: &Caller, o: &OpenCase) -> Result<CaseView> {
        const ACTION: &str = "service.case.open";
        let (applicant, centre_id) = if c.can(perm::SERVICE_INTAKE) && o.applicant.is_some() {
            let a = subject(o.applicant.as_deref().unwrap_or_default())?;
            (a, c.dept_id)
        } else {
            self.require(c, perm::SERVICE_APPLY, ACTION).await?;
            let holder = self.licenses.holder(c).await?.ok_or_else(|| {
                Error::forbidden("this account is not bound to a citizen or an enterprise")
            })?;
            if let Some(a) = &o.applicant
                && subject(a)? != holder
            {
                return Err(Error::forbidden("an applicant applies for themself"));
            }
            (holder, None)
        };
        o.contact.check()?;
        let day = today();
        let all = self.matter_versions(&o.matter).await?;
        let m = matter::in_effect(&all, day)
            .cloned()
            .ok_or_else(|| Error::not_found(format!("matter {} in effect today", o.matter)))?;
        m.check_answers(&o.answers)?;
        for (k, v) in &o.values {
            if !m.form.iter().any(|f| &f.name == k) {
                return Err(Error::invalid(
                    format!("values.{k}"),
                    "is not a field of the matter's form",
                ));
            }
            if v.chars().count() > 500 || v.chars().any(char::is_control) {
                return Err(Error::invalid(
                    format!("values.{k}"),
                    "is at most 500 characters, without control characters",
                ));
            }
        }
        let p = self.process(&m.process, None).await?;
        let depts = self.departments().await?;

        // Read what the applicant consented to, and only that.
        let elements: Vec<String> = m.form.iter().filter_map(|f| f.element.clone()).collect();
        let filled = match (o.consent, CitizenId::parse(&applicant)) {
            (true, Ok(id)) => self.persons.fill(&id, &elements).await?,
            _ => None,
        };
        let mut materials = Vec::new();
        let mut reads = Vec::new();
        for x in m.materials_for(&o.answers) {
            let (served_by, detail) = match (&x.source, o.consent) {
                (Source::Data { fact }, true)
                    if filled.as_ref().is_some_and(|f| truthy(f.facts.get(fact))) =>
                {
                    let v = filled
                        .as_ref()
                        .and_then(|f| f.fact_versions.get(fact))
                        .copied()
                        .unwrap_or(0);
                    reads.push(serde_json::json!({"material": x.id, "fact": fact, "version": v}));
                    ("data", format!("{fact}@{v}"))
                }
                (Source::License { license_type }, true) => {
                    match self.licenses.held(&applicant, license_type).await? {
                        Some(id) => {
                            reads.push(serde_json::json!({"material": x.id, "license": id}));
                            ("license", id)
                        }
                        None => ("upload", String::new()),
                    }
                }
                _ => ("upload", String::new()),
            };
            materials.push(MaterialState {
                id: x.id.clone(),
                name: x.name.clone(),
                served_by: served_by.into(),
                detail,
            });
        }
        let form: Vec<FormValue> = m
            .form
            .iter()
            .map(|f| {
                let (value, source) = match (&filled, &f.element, &f.fact) {
                    (Some(fl), Some(e), _) => match fl.elements.get(e) {
                        Some(s) => {
                            reads.push(serde_json::json!({
                                "field": f.name, "element": e, "table": s.table,
                                "provider": s.provider, "version": s.version, "delivered": s.delivered
                            }));
                            (
                                Some(s.value.clone()),
                                format!(
                                    "{}@{}, {}",
                                    s.table,
                                    s.version.unwrap_or(0),
                                    s.delivered.as_deref().unwrap_or("")
                                ),
                            )
                        }
                        None => (None, String::new()),
                    },
                    (Some(fl), None, Some(x)) => match fl.facts.get(x) {
                        Some(v) if !v.is_null() => {
                            let ver = fl.fact_versions.get(x).copied().unwrap_or(0);
                            reads.push(serde_json::json!({"field": f.name, "fact": x, "version": ver}));
                            (
                                Some(match v {
                                    serde_json::Value::String(s) => s.clone(),
                                    v => v.to_string(),
                                }),
                                format!("{x}@{ver}"),
                            )
                        }
                        _ => (None, String::new()),
                    },
                    _ => (None, String::new()),
                };
                let locked = f.locked && value.is_some();
                match o.values.get(&f.name) {
                    Some(_) if locked => Err(Error::invalid(
                        format!("values.{}", f.name),
                        "is filled from shared data and locked",
                    )),
                    Some(v) => Ok(FormValue {
                        name: f.name.clone(),
                        label: f.label.clone(),
                        locked: false,
                        value: Some(v.clone()),
                        source: "applicant".into(),
                    }),
                    None => Ok(FormValue {
                        name: f.name.clone(),
                        label: f.label.clone(),
                        locked,
                        value,
                        source,
                    }),
                }
            })
            .collect::<Result<_>>()?;
        let opened = Event::Opened {
            matter: m.code.clone(),
            matter_version: m.version,
            process: p.name.clone(),
            process_version: p.version,
            applicant: applicant.clone(),
            centre_id,
            deciding: m.implementing_body.clone(),
            answers: o.answers.clone(),
            materials,
            form,
            consent: o.consent,
            on: day,
            promised_by: self.calendar.add_working_days(day, m.promised_days),
            contact: o.contact.clone(),
        };
        let screened = match &m.instant {
            Some(i) => Some(
                self.screen(i, &applicant, o.consent, filled.as_ref())
                    .await?,
            ),
            None => None,
        };
        let events = match screened {
            // Decided by the rules: no officer's task is opened.
            Some(s) if s.route != case::Route::Manual => {
                let (outcome, basis) = if s.route == case::Route::Approve {
                    (case::Outcome::Approved, String::new())
                } else {
                    (case::Outcome::Refused, s.reasons.join("；"))
                };
                vec![
                    opened,
                    Event::Screened(s),
                    Event::Decided {
                        outcome,
                        basis,
                        on: day,
                    },
                ]
            }
            other => {
                let mut events = self.engine(&p, &depts).open(opened, day)?;
                if let Some(s) = other {
                    events.insert(1, Event::Screened(s));
                }
                events
            }
        };
        let case = case::fold(&events)?;
        let bodies = events
            .iter()
            .map(|e| Ok((json(e)?, c.username.clone())))
            .collect::<Result<Vec<_>>>()?;
        let id = self
            .case_ids
            .next(&self.store)
            .await?
            .ok_or_else(|| Error::internal("no case number was taken"))?;
        let screening = match &case.screened {
            Some(s) => Some(db::ScreeningRow {
                case_id: id,
                rule_set: s.rule_set.clone(),
                rule_set_version: s.rule_set_version,
                route: json(&s.route)?.trim_matches('"').to_owned(),
                ruled: i64::from(!s.rows.is_empty()),
                facts: s.facts_object().to_string(),
                rows: json(&s.rows)?,
                sampled: i64::from(s.sampled),
            }),
            None => None,
        };
        let pull = match reads.is_empty() {
            true => None,
            false => Some(db::NewPull {
                case_id: id,
                subject: applicant.clone(),
                what: json(&reads)?,
                actor: c.username.clone(),
            }),
        };
        let mut audits = Vec::new();
        if pull.is_some() {
            audits.push(case_entry(
                c,
                id,
                "service.pull",
                format!("{} values read with consent", reads.len()),
            ));
        }
        audits.push(case_entry(
            c,
            id,
            ACTION,
            format!("{}@{}", m.code, m.version),
        ));
        let opened = Opened {
            case: NewCase {
                id,
                matter_code: m.code.clone(),
                matter_version: m.version,
                process_name: p.name.clone(),
                process_version: p.version,
                applicant,
                centre_id,
                status: "open".into(),
                promised_by: case.promised_by.to_string(),
            },
            screening,
            pull,
        };
        let (case, history) = self
            .record(
                Transition {
                    id,
                    before: 0,
                    was_decided: false,
                    after: case,
                    events,
                    bodies,
                    audits,
                    opened: Some(opened),
                },
                Some(&m),
                Vec::new(),
            )
            .await?;
        self.view_of(id, case, history).await
    }

    fn engine<'a>(&'a self, p: &'a Process, depts: &'a BTreeMap<String, i64>) -> Engine<'a> {
        Engine {
            process: p,
            calendar: &self.calendar,
            departments: depts,
            warn_days: self.warn_days,
        }
    }

    // ---- reading cases ----

    /// A case's state, replayed from its events, and the events.
    async fn load(&self, id: i64) -> Result<(Case, Vec<HistoryItem>)> {
        let events = self.events(id).await?;
        if events.is_empty() {
            return Err(Error::not_found(format!("case {id}")));
        }
        let case = case::fold(events.iter().map(|h| &h.event))?;
        Ok((case, events))
    }

    async fn events(&self, id: i64) -> Result<Vec<HistoryItem>> {
        db::events(&self.store, id)
            .await?
            .into_iter()
            .map(|r| {
                Ok(HistoryItem {
                    seq: r.seq,
                    at: r.at,
                    actor: r.actor,
                    event: serde_json::from_str(&r.body).map_err(Error::internal)?,
                })
            })
            .collect()
    }

    async fn view_of(&self, id: i64, case: Case, history: Vec<HistoryItem>) -> Result<CaseView> {
        Ok(CaseView {
            id,
            status: case.status().into(),
            history,
            pulls: db::pulls_of_case(&self.store, id)
                .await?
                .into_iter()
                .map(Into::into)
                .collect(),
            case,
        })
    }

    /// May the caller see this case? Its applicant; the centre that received it; a department
    /// that has held one of its tasks.
    async fn may_see(&self, c: &Caller, case: &Case) -> Result<bool> {
        if c.is_system() {
            return Ok(true);
        }
        if c.can(perm::SERVICE_APPLY)
            && self.licenses.holder(c).await?.as_deref() == Some(case.applicant.as_str())
        {
            return Ok(true);
        }
        Ok(c.dept_id.is_some_and(|d| {
            (c.can(perm::SERVICE_HANDLE) && case.departments.contains(&d))
                || (c.can(perm::SERVICE_INTAKE) && case.centre_id == Some(d))
        }))
    }

    /// One case with its history and what was read for it, to whoever may see it (audited; the
    /// case of someone else is answered as not found).
    pub async fn case(&self, c: &Caller, id: i64) -> Result<CaseView> {
        let (case, history) = self.readable(c, id, "service.case.read").await?;
        self.view_of(id, case, history).await
    }

    /// A case and its history for a read by whoever may see it, the read audited (a refused
    /// one as denied, and answered as not found: another's case is not confirmed to exist).
    async fn readable(
        &self,
        c: &Caller,
        id: i64,
        action: &str,
    ) -> Result<(Case, Vec<HistoryItem>)> {
        let (case, history) = self.load(id).await?;
        let seen = self.may_see(c, &case).await?;
        let outcome = if seen { Outcome::Ok } else { Outcome::Denied };
        let _ = audit::record(
            &self.store,
            &c.entry(action, "case", Some(id.to_string()), outcome, None),
        )
        .await;
        if !seen {
            return Err(Error::not_found(format!("case {id}")));
        }
        Ok((case, history))
    }

    /// The caller's own cases (an applicant's), newest first.
    pub async fn my_cases(&self, c: &Caller) -> Result<Vec<CaseRow>> {
        self.require(c, perm::SERVICE_APPLY, "service.case.mine")
            .await?;
        let Some(h) = self.licenses.holder(c).await? else {
            return Ok(Vec::new());
        };
        db::cases_of(&self.store, &h, 200).await
    }

    /// The open tasks of the caller's department for the caller's roles, soonest first, with
    /// deadline badges.
    pub async fn tasks(&self, c: &Caller) -> Result<Vec<TaskView>> {
        self.require(c, perm::SERVICE_HANDLE, "service.task.list")
            .await?;
        let Some(dept) = c.dept_id else {
            return Ok(Vec::new());
        };
        let day = today();
        let soon = self
            .calendar
            .add_working_days(day, self.warn_days)
            .to_string();
        let day = day.to_string();
        Ok(db::tasks_for(&self.store, dept, &c.roles, 500)
            .await?
            .into_iter()
            .map(|t| TaskView {
                badge: if t.due < day {
                    "overdue"
                } else if t.due <= soon {
                    "due_soon"
                } else {
                    "on_time"
                }
                .into(),
                case_id: t.case_id,
                stage: t.stage,
                due: t.due,
                escalated: t.escalated != 0,
                paused: t.paused != 0,
            })
            .collect())
    }

    /// Every read of a subject's data for service cases: to the subject, or to an officer who
    /// may see who used whose data.
    pub async fn data_use(&self, c: &Caller, who: Option<&str>) -> Result<Vec<Pull>> {
        let own = self.licenses.holder(c).await?;
        let s = match who {
            Some(w) => subject(w)?,
            None => own
                .clone()
                .ok_or_else(|| Error::invalid("subject", "name the citizen ID or credit code"))?,
        };
        if own.as_deref() != Some(s.as_str()) {
            self.require(c, perm::DATA_USE_VIEW, "service.datause")
                .await?;
        }
        Ok(db::pulls(&self.store, &s, 500)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    // ---- notices ----

    /// The notice templates in force.
    async fn templates(&self) -> Result<Arc<Templates>> {
        if let Some((at, t)) = lock(&self.templates).as_ref()
            && at.elapsed() < DEPT_TTL
        {
            return Ok(t.clone());
        }
        let t = Arc::new(Templates::from_saved(
            db::templates(&self.store)
                .await?
                .into_iter()
                .map(|r| (r.name, r.version, r.body)),
        )?);
        *lock(&self.templates) = Some((std::time::Instant::now(), t.clone()));
        Ok(t)
    }

    /// A matter version's name (for a notice's text).
    async fn matter_name(&self, code: &str, version: i64) -> Result<String> {
        let key = (code.to_owned(), version);
        if let Some(n) = lock(&self.matter_names).get(&key) {
            return Ok(n.clone());
        }
        let name = self
            .matter_versions(code)
            .await?
            .into_iter()
            .find(|m| m.version == version)
            .map(|m| m.name)
            .unwrap_or_else(|| code.to_owned());
        lock(&self.matter_names).insert(key, name.clone());
        Ok(name)
    }

    /// Every kind of notice and channel with the template in force (version 0: built in).
    pub async fn notice_templates(&self, c: &Caller) -> Result<Vec<TemplateView>> {
        self.require(c, perm::SERVICE_MATTERS, "service.notice.templates")
            .await?;
        let rows = db::templates(&self.store).await?;
        let by = rows
            .iter()
            .map(|r| (r.name.clone(), (r.updated_by.clone(), r.updated_at.clone())))
            .collect();
        let t = Templates::from_saved(rows.into_iter().map(|r| (r.name, r.version, r.body)))?;
        Ok(t.views(&by))
    }

    /// Save a new version of a notice template, after checking that it renders and fits its
    /// channel; notices written from now on use it.
    pub async fn save_notice_template(
        &self,
        c: &Caller,
        kind: &str,
        channel: &str,
        t: Template,
    ) -> Result<TemplateView> {
        const ACTION: &str = "service.notice.template.save";
        self.require(c, perm::SERVICE_MATTERS, ACTION).await?;
        let name = format!("{kind}.{channel}");
        if let Err(e) = notices::check(kind, channel, &t) {
            return Err(self.refused(c, ACTION, &name, e).await);
        }
        let mut tx = self.store.write().await?;
        let v = db::save_template(&mut tx, &name, &json(&t)?, &c.username).await?;
        audit::append(
            &mut tx,
            &c.entry(
                ACTION,
                "notice_template",
                Some(format!("{name}@{v}")),
                Outcome::Ok,
                None,
            ),
        )
        .await?;
        tx.commit().await?;
        *lock(&self.templates) = None;
        Ok(TemplateView {
            kind: kind.into(),
            channel: channel.into(),
            version: v,
            subject: t.subject,
            text: t.text,
            updated_by: Some(c.username.clone()),
            updated_at: Some(shuju_store::now()),
        })
    }

    /// A case's notices and how far each got, to whoever may see the case (the recipient
    /// masked; the read audited).
    pub async fn notices(&self, c: &Caller, id: i64) -> Result<Vec<NoticeView>> {
        self.readable(c, id, "service.notice.read").await?;
        Ok(db::notices_of_case(&self.store, id)
            .await?
            .into_iter()
            .map(NoticeView::from)
            .collect())
    }

    /// How many notices are in each delivery state.
    pub async fn notice_states(&self) -> Result<Vec<(String, i64)>> {
        db::notice_states(&self.store).await
    }

    /// Send the notices that are due, one pass: a notice sent is `sent` with the transport's
    /// answer; a temporary failure is tried again after `retry_secs`, doubling each time, until
    /// `max_attempts`, then `failed`; a permanent failure is `failed` at once. Each notice is
    /// claimed before it is sent, so senders in several processes send it once. Returns how many
    /// were attempted.
    pub async fn deliver_notices(&self, t: &Transports, cfg: &NoticeConfig) -> Result<usize> {
        let _one = self.delivering.lock().await;
        let now = chrono::Utc::now();
        let due = db::notices_due(&self.store, &shuju_store::fmt_time(now), 100).await?;
        // A send may take `timeout_secs`; the lease outlasts it.
        let lease = shuju_store::fmt_time(
            now + chrono::Duration::seconds(cfg.timeout_secs.max(1) as i64 * 2 + 30),
        );
        let mut attempted = 0;
        for n in &due {
            if !db::claim_notice(&self.store, n.id, &n.next_at, &lease).await? {
                continue;
            }
            attempted += 1;
            let attempts = n.attempts + 1;
            let sent = match Channel::parse(&n.channel) {
                Some(ch) => t.send(ch, &n.recipient, &n.subject, &n.body).await,
                None => Err(Failure::Permanent(format!("unknown channel {}", n.channel))),
            };
            let (state, next_at, receipt, error) = match sent {
                Ok(r) => ("sent", n.next_at.clone(), Some(r), None),
                Err(Failure::Temporary(m)) if attempts < i64::from(cfg.max_attempts.max(1)) => {
                    let wait = cfg
                        .retry_secs
                        .saturating_mul(1u64 << (attempts - 1).clamp(0, 20));
                    let next = now + chrono::Duration::seconds(wait.min(86_400 * 7) as i64);
                    ("retrying", shuju_store::fmt_time(next), None, Some(m))
                }
                Err(Failure::Temporary(m)) => (
                    "failed",
                    n.next_at.clone(),
                    None,
                    Some(format!("{m}; gave up after {attempts} attempts")),
                ),
                Err(Failure::Permanent(m)) => ("failed", n.next_at.clone(), None, Some(m)),
            };
            if state != "sent" {
                tracing::warn!(notice = n.id, case = n.case_id, channel = %n.channel, state, reason = error.as_deref().unwrap_or(""), "notice not sent");
            }
            db::notice_attempted(
                &self.store,
                n.id,
                state,
                attempts,
                &next_at,
                receipt.as_deref(),
                error.as_deref(),
            )
            .await?;
        }
        Ok(attempted)
    }

    // ---- transitions ----

    /// Write the events a transition decided, after the case's `before` state and `history`;
    /// returns the state after and the whole history (see [`Services::record`]).
    async fn commit(
        &self,
        c: &Caller,
        id: i64,
        before: &Case,
        history: Vec<HistoryItem>,
        events: Vec<Event>,
        action: &str,
    ) -> Result<(Case, Vec<HistoryItem>)> {
        let mut after = before.clone();
        for e in &events {
            after.apply(e)?;
        }
        let detail = events
            .iter()
            .map(|e| {
                serde_json::to_value(e)
                    .ok()
                    .and_then(|v| v["type"].as_str().map(String::from))
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(", ");
        let bodies = events
            .iter()
            .map(|e| Ok((json(e)?, c.username.clone())))
            .collect::<Result<Vec<_>>>()?;
        let t = Transition {
            id,
            before: before.events as i64,
            was_decided: before.decided.is_some(),
            after,
            events,
            bodies,
            audits: vec![case_entry(c, id, action, detail)],
            opened: None,
        };
        self.record(t, None, history).await
    }

    /// Complete a transition and write it in one transaction: an approval issues the matter's
    /// e-license, signed before the write (or records why it could not be), the notices its
    /// events call for are queued, and a decision's receipt is signed. `matter`: the case's
    /// matter version where the caller has it (else read when an approval needs it).
    async fn record(
        &self,
        t: Transition,
        matter: Option<&Matter>,
        mut history: Vec<HistoryItem>,
    ) -> Result<(Case, Vec<HistoryItem>)> {
        let Transition {
            id,
            before,
            was_decided,
            mut after,
            mut events,
            mut bodies,
            mut audits,
            opened,
        } = t;
        let mut license = None;
        if after.status() == "approved" && !after.issuing_done {
            let issues = match matter {
                Some(m) => m.issues_license.clone(),
                None => {
                    self.matter_version(&after.matter, after.matter_version)
                        .await?
                        .issues_license
                }
            };
            if let Some(t) = issues {
                license = self
                    .license_for(&mut after, &t, &mut events, &mut bodies)
                    .await?;
                audits.push(case_entry(
                    &Caller::system(),
                    id,
                    "service.case.issue",
                    "issued".into(),
                ));
            }
        }
        let name = match matter {
            Some(m) => m.name.clone(),
            None => {
                self.matter_name(&after.matter, after.matter_version)
                    .await?
            }
        };
        let notices = if after.contact.is_empty() {
            Vec::new()
        } else {
            let t = self.templates().await?;
            notices::notices_for(id, &after, before + 1, &events, &name, &t)
        };
        let at = shuju_store::now();
        history.extend(history_items(events, &bodies, before, &at));
        let decides = !was_decided && after.decided.is_some();
        let receipt = match decides {
            true => self.try_receipt(id, &after, &history, &name, &at).await,
            false => None,
        };
        let receipted = receipt.is_some();
        self.write_pending(Pending {
            opened,
            id,
            after: before,
            bodies,
            status: after.status(),
            promised_by: after.promised_by.to_string(),
            tasks: task_rows(id, &after),
            at,
            audits,
            notices,
            license,
            receipt,
        })
        .await?;
        // A receipt that could not be signed is made on its first read (or tried again now).
        if decides && !receipted {
            self.receipt_for(id, &after, &history).await;
        }
        Ok((after, history))
    }

    /// Write a transition: through the group commit, or at once where there is none.
    async fn write_pending(&self, mut pending: Pending) -> Result<()> {
        let issued = pending.license.is_some();
        match &self.committer {
            Some(q) => {
                let (reply, answer) = tokio::sync::oneshot::channel();
                q.send((pending, reply))
                    .map_err(|_| Error::unavailable("the service is shutting down"))?;
                answer
                    .await
                    .map_err(|_| Error::unavailable("the service is shutting down"))??;
            }
            None => {
                let mut tx = self.store.write().await?;
                pending.write(&mut tx, &self.licenses).await?;
                tx.commit().await?;
            }
        }
        if issued {
            self.licenses.invalidate();
        }
        Ok(())
    }

    /// One version of a matter.
    async fn matter_version(&self, code: &str, version: i64) -> Result<Matter> {
        self.matter_versions(code)
            .await?
            .into_iter()
            .find(|m| m.version == version)
            .ok_or_else(|| Error::internal("a case's matter version is missing"))
    }

    /// License type `t` for a case just approved, signed by the platform on the deciding
    /// department's behalf to be written with the decision, and the `Issued` event that records
    /// it (or why it could not be issued) added to the transition's events.
    async fn license_for(
        &self,
        case: &mut Case,
        t: &str,
        events: &mut Vec<Event>,
        bodies: &mut Vec<(String, String)>,
    ) -> Result<Option<Prepared>> {
        let prepared = match self.license_input(case, t).await {
            Ok((input, dept)) => {
                self.licenses
                    .prepare(&Caller::system(), input, None, Some(dept))
                    .await
            }
            Err(e) => Err(e),
        };
        let (p, issued) = match prepared {
            Ok(p) => {
                let license_id = Some(p.license_id().to_owned());
                let issued = Event::Issued {
                    license_id,
                    note: String::new(),
                };
                (Some(p), issued)
            }
            Err(e) => {
                tracing::warn!(error = %e.message, "issuing the license of an approved case failed");
                (None, issue_failed(&e))
            }
        };
        case.apply(&issued)?;
        bodies.push((json(&issued)?, Caller::system().username));
        events.push(issued);
        Ok(p)
    }

    /// What license type `t` is issued with for a case, and by which department.
    async fn license_input(
        &self,
        case: &Case,
        t: &str,
    ) -> Result<(shuju_license::registry::IssueInput, i64)> {
        let lt = self
            .licenses
            .types()
            .await?
            .into_iter()
            .find(|x| x.type_key == t || x.name == t)
            .ok_or_else(|| Error::invalid("issues_license", format!("no license type {t}")))?;
        let names: Vec<serde_json::Value> =
            serde_json::from_str(&lt.claims).map_err(Error::internal)?;
        let form: BTreeMap<&str, &str> = case
            .form
            .iter()
            .filter_map(|f| f.value.as_deref().map(|v| (f.name.as_str(), v)))
            .collect();
        let mut claims = serde_json::Map::new();
        for n in names.iter().filter_map(|c| c["name"].as_str()) {
            let v = match (form.get(n), n) {
                (Some(v), _) => (*v).to_owned(),
                (None, "citizen_id" | "uscc" | "holder_id") => case.applicant.clone(),
                _ => {
                    return Err(Error::invalid(
                        format!("claims.{n}"),
                        "the case's form has no value for it",
                    ));
                }
            };
            claims.insert(n.to_owned(), serde_json::Value::String(v));
        }
        let holder_name = ["holder_name", "name", "owner"]
            .iter()
            .find_map(|k| form.get(k))
            .map(|v| (*v).to_owned())
            .ok_or_else(|| Error::invalid("holder_name", "the case's form has no name"))?;
        let dept = *self
            .departments()
            .await?
            .get(&case.deciding)
            .ok_or_else(|| Error::invalid("implementing_body", "no such department"))?;
        let input = shuju_license::registry::IssueInput {
            type_key: lt.type_key,
            holder_id: case.applicant.clone(),
            holder_name,
            claims,
            valid_from: None,
            valid_until: None,
            holder_jwk: None,
        };
        Ok((input, dept))
    }

    /// An officer acts on a task of their department and role: approve, refuse (citing the
    /// basis), ask for a correction or start a special step (both pause the clock).
    pub async fn act(
        &self,
        c: &Caller,
        id: i64,
        stage: &str,
        act: Act,
        note: &str,
    ) -> Result<CaseView> {
        const ACTION: &str = "service.task.act";
        self.require(c, perm::SERVICE_HANDLE, ACTION).await?;
        // Another department's transition may land between reading the case and writing this
        // one (parallel co-approval): read it again and decide again, a few times.
        let mut tries = 0;
        loop {
            match self.act_once(c, id, stage, act, note).await {
                Err(e)
                    if e.code == shuju_types::ErrorCode::Conflict
                        && e.message.starts_with("the case changed meanwhile")
                        && tries < 5 =>
                {
                    tries += 1;
                }
                r => return r,
            }
        }
    }

    async fn act_once(
        &self,
        c: &Caller,
        id: i64,
        stage: &str,
        act: Act,
        note: &str,
    ) -> Result<CaseView> {
        const ACTION: &str = "service.task.act";
        let (case, history) = self.load(id).await?;
        let Some(task) = case.tasks.get(stage) else {
            return Err(Error::conflict(format!(
                "task {stage} of case {id} is not open"
            )));
        };
        if c.dept_id != Some(task.dept_id) || !c.roles.contains(&task.role) {
            let e = Error::forbidden(format!(
                "task {stage} is for another department or role ({})",
                task.role
            ));
            let _ = audit::record(
                &self.store,
                &c.entry(
                    ACTION,
                    "case",
                    Some(id.to_string()),
                    Outcome::Denied,
                    Some(e.message.clone()),
                ),
            )
            .await;
            return Err(e);
        }
        let p = self
            .process(&case.process, Some(case.process_version))
            .await?;
        let depts = self.departments().await?;
        let events = self
            .engine(&p, &depts)
            .act(&case, stage, &c.username, act, note, today())?;
        let (after, history) = self.commit(c, id, &case, history, events, ACTION).await?;
        self.view_of(id, after, history).await
    }

    /// The clock runs again: the applicant (or the receiving centre) has supplied the
    /// correction, or a department holding a task has finished the special step.
    pub async fn resume(&self, c: &Caller, id: i64) -> Result<CaseView> {
        const ACTION: &str = "service.case.resume";
        let (case, history) = self.load(id).await?;
        let allowed = match case.paused {
            Some(case::Paused {
                pause: Pause::Correction,
                ..
            }) => {
                (c.can(perm::SERVICE_APPLY)
                    && self.licenses.holder(c).await?.as_deref() == Some(case.applicant.as_str()))
                    || (c.can(perm::SERVICE_INTAKE)
                        && c.dept_id.is_some()
                        && c.dept_id == case.centre_id)
            }
            Some(case::Paused {
                pause: Pause::SpecialStep,
                ..
            }) => {
                c.can(perm::SERVICE_HANDLE)
                    && case.tasks.values().any(|t| Some(t.dept_id) == c.dept_id)
            }
            None => return Err(Error::conflict("the case is not paused")),
        };
        if !allowed {
            let _ = audit::record(
                &self.store,
                &c.entry(ACTION, "case", Some(id.to_string()), Outcome::Denied, None),
            )
            .await;
            return Err(Error::not_found(format!("case {id}")));
        }
        let p = self
            .process(&case.process, Some(case.process_version))
            .await?;
        let depts = self.departments().await?;
        let events = self.engine(&p, &depts).resume(&case, today())?;
        let (after, history) = self.commit(c, id, &case, history, events, ACTION).await?;
        self.view_of(id, after, history).await
    }

    /// What the clock brings on `day`: waits that are over go on, tasks near their deadline are
    /// escalated. Returns the cases changed.
    pub async fn tick(&self, day: NaiveDate) -> Result<usize> {
        let by = self
            .calendar
            .add_working_days(day, self.warn_days)
            .to_string();
        let mut ids: Vec<i64> = db::tasks_due(&self.store, &by, 1000)
            .await?
            .into_iter()
            .map(|t| t.case_id)
            .collect();
        ids.dedup();
        let depts = self.departments().await?;
        let sys = Caller::system();
        let mut changed = 0;
        for id in ids {
            let (case, history) = self.load(id).await?;
            let p = self
                .process(&case.process, Some(case.process_version))
                .await?;
            let events = self.engine(&p, &depts).tick(&case, day)?;
            if !events.is_empty() {
                self.commit(&sys, id, &case, history, events, "service.case.tick")
                    .await?;
                changed += 1;
            }
        }
        Ok(changed)
    }

    /// Replay every case from its events and compare with the stored projection: the ids of the
    /// cases whose history does not fold, or whose row or tasks differ from the fold.
    pub async fn verify(&self, c: &Caller) -> Result<(usize, Vec<i64>)> {
        self.require(c, perm::SERVICE_MATTERS, "service.verify")
            .await?;
        let mut bad = Vec::new();
        let mut n = 0;
        let mut after = 0;
        loop {
            let ids = db::case_ids(&self.store, after, 500).await?;
            let Some(last) = ids.last() else { break };
            after = *last;
            for id in ids {
                n += 1;
                let row = db::case(&self.store, id).await?;
                let ok = match (row, self.load(id).await) {
                    (Some(row), Ok((case, _))) => {
                        let tasks = db::tasks_of_case(&self.store, id).await?;
                        row.status == case.status()
                            && row.events == case.events as i64
                            && row.promised_by == case.promised_by.to_string()
                            && tasks == task_rows(id, &case)
                    }
                    _ => false,
                };
                if !ok {
                    bad.push(id);
                }
            }
        }
        Ok((n, bad))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The open tasks and timers of a case as the projection stores them (timers: department 0, no
/// role, so no task list shows them).
fn task_rows(id: i64, case: &Case) -> Vec<TaskRow> {
    let paused = i64::from(case.paused.is_some());
    let mut rows: Vec<TaskRow> = case
        .tasks
        .iter()
        .map(|(s, t)| TaskRow {
            case_id: id,
            stage: s.clone(),
            dept_id: t.dept_id,
            role: t.role.clone(),
            due: t.due.to_string(),
            escalated: i64::from(t.escalated),
            paused,
        })
        .chain(case.waits.iter().map(|(s, d)| TaskRow {
            case_id: id,
            stage: s.clone(),
            dept_id: 0,
            role: String::new(),
            due: d.to_string(),
            escalated: 0,
            paused,
        }))
        .collect();
    rows.sort_by(|a, b| a.stage.cmp(&b.stage));
    rows
}

/// The event recording that an approved case's license could not be issued, and why.
/// The audit record of a step done on case `id`.
fn case_entry(c: &Caller, id: i64, action: &str, detail: String) -> audit::AuditEntry {
    c.entry(
        action,
        "case",
        Some(id.to_string()),
        Outcome::Ok,
        Some(detail),
    )
}

/// The history items of events written after `after` events, each with its actor's name.
fn history_items(
    events: Vec<Event>,
    bodies: &[(String, String)],
    after: i64,
    at: &str,
) -> Vec<HistoryItem> {
    events
        .into_iter()
        .zip(bodies)
        .enumerate()
        .map(|(i, (event, (_, actor)))| HistoryItem {
            seq: after + 1 + i as i64,
            at: at.to_owned(),
            actor: actor.clone(),
            event,
        })
        .collect()
}

fn issue_failed(e: &Error) -> Event {
    Event::Issued {
        license_id: None,
        note: format!(
            "{}{}",
            e.field
                .as_ref()
                .map(|f| format!("{f}: "))
                .unwrap_or_default(),
            e.message
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The demo file's processes and matters pass the checks a save makes on its own, and every
    /// matter fits its process.
    #[test]
    fn the_demo_file_is_sound() {
        #[derive(serde::Deserialize)]
        struct File {
            process: Vec<Process>,
            matter: Vec<Matter>,
        }
        let f: File = toml::from_str(DEMO).unwrap();
        assert!(f.matter.len() >= 12, "a dozen matters");
        let by_name: BTreeMap<&str, &Process> =
            f.process.iter().map(|p| (p.name.as_str(), p)).collect();
        for p in &f.process {
            p.validate()
                .unwrap_or_else(|e| panic!("{}: {}", p.name, e.message));
        }
        for m in &f.matter {
            m.validate()
                .unwrap_or_else(|e| panic!("{}: {}", m.code, e.message));
            m.fits(by_name[m.process.as_str()])
                .unwrap_or_else(|e| panic!("{}: {}", m.code, e.message));
        }
    }
}
