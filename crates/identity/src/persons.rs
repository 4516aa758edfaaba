//! One person, one file (一人一档) over the lake: the sources that name persons, resolution over
//! them with the run kept in the store, person files, search, the review queue, and the
//! single-record match.

use crate::block::{Rule, Take};
use crate::checks;
use crate::compare::Compare;
use crate::files::{FactReader, LiveTables, Rows, quote, text};
use crate::ids::{self, Changes};
use crate::model::{Explanation, Model};
use crate::records::{FieldSpec, Rec, Records};
use crate::resolve::{Settings, Stats, resolve};
use crate::runs;
use serde::Serialize;
use shuju_admin::{Caller, perm};
use shuju_lake::Lake;
use shuju_store::Store;
use shuju_store::audit::{self, Outcome};
use shuju_store::identity as db;
use shuju_store::rules as rules_db;
use shuju_types::{CitizenId, Error, Result};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, RwLock};

pub use crate::sources::{PersonSource, person_sources};

/// Evaluate a decision model (version `version` of rule set `key`) on `facts`.
async fn run_rule_set(
    key: &str,
    jdm: &str,
    version: i64,
    facts: &serde_json::Value,
) -> Result<checks::CheckResult> {
    let content = checks::parse(jdm)?;
    let f = facts.clone();
    let rules = tokio::task::spawn_blocking(move || checks::evaluate(content, &f))
        .await
        .map_err(Error::internal)??;
    Ok(checks::CheckResult {
        rule_set: key.to_owned(),
        version,
        passed: checks::passed(&rules),
        rules,
        facts: facts.clone(),
    })
}

fn fact_from_row(row: shuju_store::VersionedRow) -> Result<crate::facts::FactDef> {
    let mut d: crate::facts::FactDef = serde_json::from_str(&row.body).map_err(Error::internal)?;
    d.version = row.version;
    Ok(d)
}

/// The fields persons are compared on. `cid` is the citizen ID as written: a valid one links
/// deterministically anyway, one that failed its check still tells (a typo is strong evidence).
pub fn person_fields() -> Vec<FieldSpec> {
    vec![
        FieldSpec::new("name", Compare::Name).tf(),
        FieldSpec::new("sex", Compare::Exact),
        FieldSpec::new("birth", Compare::Date),
        FieldSpec::new("address", Compare::Address),
        FieldSpec::new("phone", Compare::Phone),
        FieldSpec::new("cid", Compare::CitizenId),
    ]
}

/// How persons are resolved.
pub fn person_settings() -> Settings {
    Settings {
        // Keys that survive what clerks mistype: a day/month swap or a one-day slip (name and
        // year), a short address form (road and door), and a citizen ID with a typo in any one
        // of its thirds (division and birth month; birth date and sequence; division and day,
        // sequence and check).
        rules: vec![
            Rule::new("birth", &[("birth", Take::Whole)]),
            Rule::new(
                "name+door",
                &[("name", Take::Sound), ("address", Take::Door)],
            ),
            Rule::new("phone", &[("phone", Take::Whole)]),
            Rule::new(
                "name+year",
                &[("name", Take::Sound), ("birth", Take::Prefix(4))],
            ),
            Rule::new(
                "name+birth-unordered",
                &[("name", Take::Sorted), ("birth", Take::DaySorted)],
            ),
            Rule::new("id-head", &[("cid", Take::Range(0, 12))]),
            Rule::new("id-tail", &[("cid", Take::Range(6, 18))]),
            Rule::new(
                "id-ends",
                &[("cid", Take::Range(0, 6)), ("cid", Take::Range(12, 18))],
            ),
        ],
        link_only: false,
        one_to_one: false,
        threshold: 0.5,
        review: (0.2, 0.9),
        max_block: 5_000,
        seed: 42,
    }
}

/// Push one source row (key, citizen ID as written, name, sex, birth, address, phone) as a
/// person record. A valid citizen ID links deterministically and fills in the birth date and sex
/// it encodes; one that failed its check is compared as written, and the birth date and sex its
/// digits still say fill in what the record lacks.
pub fn push_person(recs: &mut Records, table: &str, row: &[Option<&str>]) -> Option<Rec> {
    let key = row.first().copied().flatten()?;
    // A key column keeps a flagged ID under `!` and the value as written.
    let written = row
        .get(1)
        .copied()
        .flatten()
        .map(|s| s.strip_prefix('!').unwrap_or(s))
        .filter(|s| !s.trim().is_empty());
    let id = written.and_then(|s| CitizenId::parse(s).ok());
    let (birth, sex) = match (&id, written) {
        (Some(i), _) => (
            Some(i.birth_date().format("%Y%m%d").to_string()),
            Some(i.sex()),
        ),
        (None, Some(w)) => match CitizenId::embedded(w) {
            Some((d, sex)) => (Some(d.format("%Y%m%d").to_string()), Some(sex)),
            None => (None, None),
        },
        (None, None) => (None, None),
    };
    // GB/T 2261.1, as the sex element's code table has it, however the source wrote it.
    let sex = sex.map(shuju_types::Sex::code);
    let get = |i: usize| row.get(i).copied().flatten();
    let fields = [
        get(2),
        get(3).map(sex_code).or(sex),
        get(4).or(birth.as_deref()),
        get(5),
        get(6),
        written,
    ];
    Some(recs.push(table, key, id.as_ref().map(|i| i.as_str()), &fields))
}

/// The citizen ID of a source row as written: the column's value, or for a row kept with the ID
/// flagged, the value set aside in `_raw` (the row's eighth column here).
fn id_as_written(s: &PersonSource, row: &[Option<&str>]) -> Option<String> {
    if let Some(v) = row.get(1).copied().flatten() {
        return Some(v.to_owned());
    }
    let raw = row.get(7).copied().flatten()?;
    let m: serde_json::Map<String, serde_json::Value> = serde_json::from_str(raw).ok()?;
    m.get(&s.citizen_id)?.as_str().map(str::to_owned)
}

/// Push one row read by [`source_sql`] for source `s`.
pub fn push_source_row(recs: &mut Records, s: &PersonSource, row: &[Option<&str>]) -> Option<Rec> {
    if row.get(1).copied().flatten().is_some() || row.get(7).copied().flatten().is_none() {
        return push_person(recs, &s.table, row);
    }
    let written = id_as_written(s, row);
    let mut r: Vec<Option<&str>> = row.to_vec();
    r[1] = written.as_deref();
    push_person(recs, &s.table, &r)
}

/// A record the model linked as it landed stays with its person when the full run finds no
/// link for it at all (evidence no stronger than the landing's): it rejoins the cluster of the
/// person's other records. A run that links it elsewhere moves it, and says why.
fn keep_landing_links(
    recs: &Records,
    res: &mut crate::resolve::Resolution,
    landed: &HashSet<(String, String)>,
    previous: &HashMap<(String, String), String>,
) {
    if landed.is_empty() {
        return;
    }
    let key = |r: Rec| (recs.source_name(r).to_owned(), recs.key(r).to_owned());
    let mut size: HashMap<Rec, usize> = HashMap::new();
    for c in &res.cluster {
        *size.entry(*c).or_default() += 1;
    }
    let alone = |r: Rec, size: &HashMap<Rec, usize>| size.get(&res.cluster[r as usize]) == Some(&1);
    // Where each person's records that the run did link somewhere now are.
    let mut home: HashMap<&str, Rec> = HashMap::new();
    let mut strays: Vec<(Rec, &str)> = Vec::new();
    for r in 0..recs.len() as Rec {
        let k = key(r);
        let Some(p) = previous.get(&k) else { continue };
        if landed.contains(&k) && alone(r, &size) {
            strays.push((r, p.as_str()));
        } else {
            home.entry(p.as_str()).or_insert(res.cluster[r as usize]);
        }
    }
    for (r, p) in strays {
        if let Some(&c) = home.get(p) {
            res.cluster[r as usize] = c;
        }
    }
}

/// The records whose person changed, each with why (at most [`ids::MAX_MOVES`]).
fn moves(
    recs: &Records,
    res: &crate::resolve::Resolution,
    previous: &HashMap<(String, String), String>,
    now: &[String],
) -> Vec<ids::Move> {
    let linked: HashSet<Rec> = res.links.iter().flat_map(|s| [s.a, s.b]).collect();
    let mut out = Vec::new();
    for r in 0..recs.len() as Rec {
        let k = (recs.source_name(r).to_owned(), recs.key(r).to_owned());
        let Some(from) = previous.get(&k) else {
            continue;
        };
        let to = &now[r as usize];
        if from == to {
            continue;
        }
        let reason = if recs.id(r).is_some() {
            "its citizen ID is another person's records' (a deterministic link)"
        } else if linked.contains(&r) {
            "the model links it to the other person's records"
        } else {
            "its former person's records were merged or split"
        };
        out.push(ids::Move {
            source: k.0,
            record_key: k.1,
            from: from.clone(),
            to: to.clone(),
            reason: reason.into(),
        });
        if out.len() >= ids::MAX_MOVES {
            break;
        }
    }
    out
}

/// A sex as the GB/T 2261.1 code when it is written in a known form, else as written.
pub fn sex_code(written: &str) -> &str {
    match shuju_types::Sex::parse(written) {
        Some(sex) => sex.code(),
        None => written,
    }
}

/// The SQL that reads one source as person rows.
pub fn source_sql(s: &PersonSource) -> String {
    use crate::files::{column, select_text};
    select_text(
        &[
            (Some(s.key_sql()), "k"),
            (column(Some(&s.citizen_id)), "citizen_id"),
            (column(s.name.as_deref()), "name"),
            (column(s.sex.as_deref()), "sex"),
            (column(s.birth.as_deref()), "birth"),
            (column(s.address.as_deref()), "address"),
            (column(s.phone.as_deref()), "phone"),
            (column(Some("_raw")), "raw"),
        ],
        &s.table,
    )
}

/// What a resolution run did.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunReport {
    pub run_id: i64,
    pub records: usize,
    pub persons: usize,
    pub stats: Stats,
    pub changes: Changes,
    pub versions: BTreeMap<String, i64>,
}

/// What matching a delivery as it landed did.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Absorbed {
    pub records: usize,
    pub already_linked: usize,
    pub by_id: usize,
    pub by_model: usize,
    pub new_persons: usize,
}

/// A candidate for a single record.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Candidate {
    pub person_id: String,
    pub probability: f64,
    pub explanation: Explanation,
}

impl Candidate {
    /// A person found by citizen ID: certain, nothing to weigh.
    fn certain(person_id: String) -> Candidate {
        Candidate {
            person_id,
            probability: 1.0,
            explanation: Explanation {
                prior: 0.0,
                fields: Vec::new(),
                weight: 99.0,
                probability: 1.0,
            },
        }
    }
}

/// What the single-record match keeps in memory: the model and settings of the last run, the
/// run's records, and the records that landed since ([`MatchIndex::add`]), so the next delivery
/// links to them before any full run.
pub struct MatchIndex {
    model: Model,
    settings: Settings,
    /// Each blocking rule's parts as field indices of the person fields (every layer and query
    /// has them).
    rules: Vec<(usize, Vec<(usize, Take)>)>,
    base: Layer,
    landed: RwLock<Layer>,
}

/// Records with every record under each blocking key, the citizen-ID map and each record's
/// person.
struct Layer {
    recs: Records,
    blocks: Vec<HashMap<u64, Vec<Rec>>>,
    by_citizen_id: HashMap<Box<str>, Rec>,
    person: Vec<Arc<str>>,
}

impl Layer {
    fn empty(settings: &Settings) -> Layer {
        Layer {
            recs: Records::new(person_fields()),
            blocks: vec![HashMap::new(); settings.rules.len()],
            by_citizen_id: HashMap::new(),
            person: Vec::new(),
        }
    }

    /// Index record `r` (already in `recs`) under each rule's key.
    fn index(&mut self, rules: &[(usize, Vec<(usize, Take)>)], r: Rec) {
        for (i, parts) in rules {
            if let Some(k) = crate::block::key_of(&self.recs, r, parts) {
                self.blocks[*i].entry(k.max(1)).or_default().push(r);
            }
        }
        if let Some(id) = self.recs.id(r) {
            self.by_citizen_id.insert(id.into(), r);
        }
    }
}

/// Each rule's parts as field indices of the person fields.
fn rule_parts(settings: &Settings, recs: &Records) -> Vec<(usize, Vec<(usize, Take)>)> {
    settings
        .rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let parts = rule
                .parts
                .iter()
                .filter_map(|(f, t)| recs.field(f).map(|f| (f, *t)))
                .collect();
            (i, parts)
        })
        .collect()
}

pub use crate::files::Fact;

/// A person's file.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonFile {
    pub person_id: String,
    pub masked: bool,
    pub facts: Vec<Fact>,
    /// The members of the person's household (户) in the registry, the person included.
    pub household: Vec<Member>,
    /// Electronic licences issued to the person (driving licence, …).
    pub licences: Vec<crate::files::LicenceHeld>,
}

/// A member of a household, as the viewer may see the registry.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Member {
    pub person_id: Option<String>,
    pub name: Option<String>,
    pub sex: Option<String>,
    pub birth: Option<String>,
}

/// The person side of the identity service.
#[derive(Clone)]
pub struct Persons {
    pub(crate) store: Store,
    pub(crate) lake: Lake,
    index: Arc<RwLock<Option<Arc<MatchIndex>>>>,
    /// One writer of links at a time: a full run, or a delivery matched as it lands.
    linking: Arc<tokio::sync::Mutex<()>>,
    /// The fact definitions' newest versions, read by every form and decision (cleared when
    /// this process saves one).
    facts: Arc<shuju_store::Cached<Vec<crate::facts::FactDef>>>,
}

const KIND: &str = "person";

/// The kind of entity a review or decision is about: persons unless enterprises are named.
pub(crate) fn entity_kind(kind: Option<&str>) -> Result<&'static str> {
    match kind.unwrap_or(KIND) {
        "person" => Ok("person"),
        "enterprise" => Ok("enterprise"),
        _ => Err(Error::invalid("kind", "person or enterprise")),
    }
}

impl std::fmt::Debug for Persons {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Persons")
            .field("index_loaded", &self.has_index())
            .finish_non_exhaustive()
    }
}

impl Persons {
    pub fn new(store: Store, lake: Lake) -> Persons {
        Persons {
            store,
            lake,
            index: Arc::new(RwLock::new(None)),
            linking: Default::default(),
            facts: Default::default(),
        }
    }

    async fn require(&self, c: &Caller, p: &str, action: &str) -> Result<()> {
        c.require(&self.store, p, action, "identity", None).await
    }

    /// The person sources: the lake tables with data whose items carry the person-identifying
    /// data element.
    pub async fn sources(&self) -> Result<Vec<PersonSource>> {
        Ok(person_sources(&LiveTables::load(&self.lake).await?.specs))
    }

    /// Read every person source from the lake into records.
    pub async fn read_sources(&self, c: &Caller) -> Result<(Records, BTreeMap<String, i64>)> {
        let mut recs = Records::new(person_fields());
        let mut versions = BTreeMap::new();
        for s in self.sources().await? {
            let v = self
                .lake
                .scan(c, "entity resolution", &source_sql(&s), |row| {
                    push_source_row(&mut recs, &s, row);
                })
                .await?;
            if let Some(v) = v.get(&s.table) {
                versions.insert(s.table.clone(), *v);
            }
        }
        Ok((recs, versions))
    }

    /// Resolve every person source in the lake; person IDs of the last run carry over.
    pub async fn resolve(&self, c: &Caller) -> Result<RunReport> {
        self.require(c, perm::IDENTITY_RESOLVE, "identity.resolve")
            .await?;
        let _one = self.linking.lock().await;
        let (recs, versions) = self.read_sources(c).await?;
        let settings = person_settings();
        let decisions = runs::decisions(&self.store, KIND).await?;
        // The last links, read once: every record's person, and those the model linked as
        // they landed.
        let mut previous = HashMap::new();
        let mut landed = HashSet::new();
        for l in db::links(&self.store, KIND).await? {
            let k = (l.source, l.record_key);
            if l.method == "model" {
                landed.insert(k.clone());
            }
            previous.insert(k, l.entity_id);
        }
        let (res, recs, previous) = tokio::task::spawn_blocking(move || {
            let r = resolve(&recs, &settings, &decisions, None);
            r.map(|mut r| {
                keep_landing_links(&recs, &mut r, &landed, &previous);
                (r, recs, previous)
            })
        })
        .await
        .map_err(Error::internal)??;
        let (person_ids, mut changes) = ids::assign(&recs, &res.cluster, &previous, "P");
        changes.moves = moves(&recs, &res, &previous, &person_ids);
        let (run_id, persons) = runs::record(
            &self.store,
            c,
            &runs::Run {
                kind: KIND,
                recs: &recs,
                res: &res,
                ids: &person_ids,
                changes: &changes,
                versions: &versions,
            },
        )
        .await?;
        let report = RunReport {
            run_id,
            records: recs.len(),
            persons,
            stats: res.stats.clone(),
            changes,
            versions,
        };
        self.set_index(recs, res.model, person_settings(), person_ids);
        Ok(report)
    }

    fn set_index(&self, recs: Records, model: Model, settings: Settings, ids: Vec<String>) {
        match MatchIndex::build(recs, model, settings, ids) {
            Ok(ix) => self.install_index(Arc::new(ix)),
            Err(e) => tracing::warn!(error = %e.report(), "person match index not built"),
        }
    }

    /// Serve single-record matches from `ix` (built by a run, or by a benchmark).
    pub fn install_index(&self, ix: Arc<MatchIndex>) {
        if let Ok(mut g) = self.index.write() {
            *g = Some(ix);
        }
    }

    /// Whether the match index is loaded.
    pub fn has_index(&self) -> bool {
        self.index.read().is_ok_and(|g| g.is_some())
    }

    /// Whether a resolution run exists but its match index is not loaded yet (a server just
    /// started loads it in the background): a delivery landing now should wait for it.
    pub async fn loading(&self) -> bool {
        !self.has_index()
            && db::runs(&self.store, KIND, 1)
                .await
                .is_ok_and(|r| !r.is_empty())
    }

    /// Load the match index from the lake and the last run, if the server started after one.
    pub async fn load_index(&self, c: &Caller) -> Result<bool> {
        let links = db::links(&self.store, KIND).await?;
        if links.is_empty() {
            return Ok(false);
        }
        let (recs, _) = self.read_sources(c).await?;
        let by: HashMap<(String, String), String> = links
            .into_iter()
            .map(|l| ((l.source, l.record_key), l.entity_id))
            .collect();
        let settings = person_settings();
        let (recs, model, ids) = tokio::task::spawn_blocking(move || {
            let blocking = crate::block::Blocking::new(&recs, &settings.rules, settings.max_block)?;
            let model = Model::train(&recs, &blocking, settings.link_only, settings.seed);
            let ids: Vec<String> = (0..recs.len() as Rec)
                .map(|r| {
                    by.get(&(recs.source_name(r).to_owned(), recs.key(r).to_owned()))
                        .cloned()
                        .unwrap_or_default()
                })
                .collect();
            Ok::<_, Error>((recs, model, ids))
        })
        .await
        .map_err(Error::internal)??;
        self.set_index(recs, model, person_settings(), ids);
        Ok(true)
    }

    /// Match one record (name, sex, birth, address, phone, citizen ID — any may be missing)
    /// against the persons of the last run: the best candidates with their probability and why.
    pub async fn match_one(
        &self,
        c: &Caller,
        citizen_id: Option<&str>,
        fields: [Option<&str>; 5],
    ) -> Result<Vec<Candidate>> {
        self.require(c, perm::IDENTITY_VIEW, "identity.match")
            .await?;
        let out = match self.match_in_memory(citizen_id, fields) {
            // Before the index is loaded (a server just started), a citizen ID is still found
            // through the sources and the last run's links.
            Err(e) if e.code == shuju_types::ErrorCode::Unavailable => {
                match citizen_id.and_then(|s| CitizenId::parse(s).ok()) {
                    Some(id) => self.by_citizen_id(&id).await?,
                    None => return Err(e),
                }
            }
            r => r?,
        };
        let _ = audit::record(
            &self.store,
            &c.entry(
                "identity.match",
                "person",
                None,
                Outcome::Ok,
                Some(format!("{} candidates", out.len())),
            ),
        )
        .await;
        Ok(out)
    }

    pub(crate) async fn by_citizen_id(&self, id: &CitizenId) -> Result<Vec<Candidate>> {
        if db::runs(&self.store, KIND, 1).await?.is_empty() {
            return Err(Error::conflict(
                "no resolution has run yet: resolve the persons first",
            ));
        }
        for s in self.sources().await? {
            let sql = format!(
                "SELECT {} FROM \"{}\" WHERE \"{}\" = '{}'",
                s.key_sql(),
                s.table,
                s.citizen_id,
                id.as_str()
            );
            let mut keys = Vec::new();
            self.lake
                .scan(
                    &Caller::system(),
                    "person search by citizen ID",
                    &sql,
                    |r| {
                        if let Some(k) = r.first().copied().flatten() {
                            keys.push(k.to_owned());
                        }
                    },
                )
                .await?;
            for k in keys {
                if let Some(l) = db::entity_of(&self.store, KIND, &s.table, &k).await? {
                    return Ok(vec![Candidate::certain(l.entity_id)]);
                }
            }
        }
        Ok(Vec::new())
    }

    /// The match itself, without the permission check and audit.
    pub fn match_in_memory(
        &self,
        citizen_id: Option<&str>,
        fields: [Option<&str>; 5],
    ) -> Result<Vec<Candidate>> {
        let ix = self
            .index
            .read()
            .map_err(|_| Error::internal("match index poisoned"))?
            .clone()
            .ok_or_else(|| {
                Error::conflict("no match index: resolve the persons first (after a start it loads in a moment)")
            })?;
        ix.find(citizen_id, fields)
    }

    /// Persons by citizen ID, or by name and birth date.
    pub async fn search(
        &self,
        c: &Caller,
        citizen_id: Option<&str>,
        name: Option<&str>,
        birth: Option<&str>,
    ) -> Result<Vec<Candidate>> {
        if citizen_id.is_none() && (name.is_none() || birth.is_none()) {
            return Err(Error::invalid(
                "query",
                "give a citizen ID, or a name and a birth date",
            ));
        }
        self.match_one(c, citizen_id, [name, None, birth, None, None])
            .await
    }

    /// Hold the key indexes of the tables persons' files are read from, so that the first files
    /// and forms after a start do not wait for them (what a server does in the background at
    /// start). Returns the tables held.
    pub async fn warm(&self) -> Result<usize> {
        let live = LiveTables::load(&self.lake).await?;
        let fr = FactReader::new(&self.lake, &live);
        let mut n = 0;
        let tables: std::collections::BTreeSet<String> = person_sources(&live.specs)
            .into_iter()
            .map(|s| s.table)
            .collect();
        for t in &tables {
            if fr.index(&Caller::system(), t).await?.is_some() {
                n += 1;
            }
        }
        Ok(n)
    }

    /// A person's file: every source record of the person, read from the lake with the
    /// viewer's masking, each with its table and version. Audited with the viewer's purpose.
    pub async fn file(&self, c: &Caller, person_id: &str) -> Result<PersonFile> {
        self.require_purpose(c, "identity.file").await?;
        let (file, _) = self.read_file(c, person_id).await?;
        let _ = audit::record(
            &self.store,
            &c.entry(
                "identity.file",
                "person",
                Some(person_id.to_owned()),
                Outcome::Ok,
                Some(format!("{} facts", file.facts.len())),
            ),
        )
        .await;
        Ok(file)
    }

    pub(crate) async fn require_view(&self, c: &Caller, action: &str) -> Result<()> {
        self.require(c, perm::IDENTITY_VIEW, action).await
    }

    async fn require_purpose(&self, c: &Caller, action: &str) -> Result<()> {
        self.require(c, perm::IDENTITY_VIEW, action).await?;
        if c.purpose.as_deref().is_none_or(str::is_empty) {
            return Err(Error::invalid(
                "purpose",
                "say why you open this file (X-Purpose)",
            ));
        }
        Ok(())
    }

    /// The file as `reader` may see it (its masking), without checks or audit of our own.
    pub(crate) async fn read_file(
        &self,
        reader: &Caller,
        person_id: &str,
    ) -> Result<(PersonFile, Vec<PersonSource>)> {
        let records = db::entity_records(&self.store, KIND, person_id).await?;
        if records.is_empty() {
            return Err(Error::not_found(format!("person {person_id}")));
        }
        // Each source at its current version (records absorbed since the run are in newer ones).
        let live = LiveTables::load(&self.lake).await?;
        let sources = person_sources(&live.specs);
        let mut fr = FactReader::new(&self.lake, &live);
        let mut facts = Vec::new();
        for s in &sources {
            let keys: Vec<&db::LinkRow> = records
                .iter()
                .filter(|l| {
                    l.source == s.table && s.record_key(s.table_key(&l.record_key)) == l.record_key
                })
                .collect();
            if keys.is_empty() {
                continue;
            }
            let list: Vec<String> = keys
                .iter()
                .map(|l| s.table_key(&l.record_key).to_owned())
                .collect();
            for mut f in fr
                .read(
                    reader,
                    &s.table,
                    &s.key,
                    Rows::Keys(&list),
                    &s.fact,
                    s.date.as_deref(),
                )
                .await?
            {
                f.record_key = s.record_key(&f.record_key);
                f.role = s.role.clone();
                f.method = keys
                    .iter()
                    .find(|l| l.record_key == f.record_key)
                    .map(|l| l.method.clone())
                    .unwrap_or_else(|| keys[0].method.clone());
                f.entity = s
                    .enterprise
                    .as_deref()
                    .and_then(|c| text(&f.row, c))
                    .filter(|c| shuju_types::CreditCode::parse(c).is_ok());
                facts.push(f);
            }
        }
        let household = self.household(reader, &records, &sources, &fr).await?;
        // The person's citizen IDs: the record keys of the sources keyed by them.
        let ids: Vec<String> = records
            .iter()
            .filter(|l| {
                sources
                    .iter()
                    .any(|s| s.table == l.source && s.key == s.citizen_id)
            })
            .filter(|l| CitizenId::parse(&l.record_key).is_ok())
            .map(|l| l.record_key.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let licences = crate::files::licences_of(&self.store, &ids).await?;
        let file = PersonFile {
            person_id: person_id.to_owned(),
            masked: fr.masked,
            facts,
            household,
            licences,
        };
        Ok((file, sources))
    }

    /// The household members of a person's registry records: found through the household
    /// number (read as the system, to find them), shown as `reader` may see them.
    async fn household(
        &self,
        reader: &Caller,
        records: &[db::LinkRow],
        sources: &[PersonSource],
        fr: &FactReader<'_>,
    ) -> Result<Vec<Member>> {
        let Some(reg) = sources
            .iter()
            .find(|s| s.is_registry() && fr.present(&s.table))
        else {
            return Ok(Vec::new());
        };
        let Some(hh) = reg.column(crate::sources::HOUSEHOLD) else {
            return Ok(Vec::new());
        };
        let t = &reg.table;
        let mine: Vec<String> = records
            .iter()
            .filter(|l| l.source == *t)
            .map(|l| quote(reg.table_key(&l.record_key)))
            .collect();
        if mine.is_empty() {
            return Ok(Vec::new());
        }
        let sys = Caller::system();
        // Read from the key index for a reader who may query the lake (others are refused by
        // the SQL path, as before).
        if reader.can(shuju_admin::perm::LAKE_QUERY)
            && let Some((index, spec)) = fr.index(&sys, t).await?
            && spec.key.first() == Some(&reg.key)
        {
            let mut holds = std::collections::BTreeSet::new();
            for l in records.iter().filter(|l| l.source == *t) {
                if let Some(row) = index.get(reg.table_key(&l.record_key))?
                    && let Some(h) = text(&row, hh)
                {
                    holds.insert(h);
                }
            }
            let unmasked = reader.can(shuju_admin::perm::LAKE_UNMASKED);
            let mut out = Vec::new();
            for h in holds.iter().take(10) {
                for mut row in index.rows_where(hh, h, 50)? {
                    let person_id = match text(&row, &reg.key) {
                        Some(k) => db::entity_of(&self.store, KIND, t, &reg.record_key(&k))
                            .await?
                            .map(|l| l.entity_id),
                        None => None,
                    };
                    if !unmasked {
                        index.mask(spec, &mut row);
                    }
                    let field = |c: Option<&String>| c.and_then(|c| text(&row, c));
                    out.push(Member {
                        person_id,
                        name: field(reg.name.as_ref()),
                        sex: field(reg.sex.as_ref()),
                        birth: field(reg.birth.as_ref()),
                    });
                }
            }
            return Ok(out);
        }
        let none = BTreeMap::new();
        let key = &reg.key;
        let sql = format!(
            "SELECT DISTINCT \"{hh}\" AS hh FROM \"{t}\" WHERE \"{key}\" IN ({}) AND \"{hh}\" IS NOT NULL",
            mine.join(", ")
        );
        let col = |c: Option<&String>| {
            c.map(|c| format!("\"{c}\""))
                .unwrap_or_else(|| "NULL".into())
        };
        let mut out = Vec::new();
        for row in self.lake.sql(&sys, &sql, &none, 10).await?.rows {
            let Some(h) = text(&row, "hh") else { continue };
            let cond = format!("\"{hh}\" = {} ORDER BY \"{key}\"", quote(&h));
            let keys = self
                .lake
                .sql(
                    &sys,
                    &format!("SELECT CAST(\"{key}\" AS VARCHAR) AS k FROM \"{t}\" WHERE {cond}"),
                    &none,
                    50,
                )
                .await?;
            let shown = self
                .lake
                .sql_across(
                    reader,
                    &format!(
                        "SELECT {} AS name, {} AS sex, {} AS birth FROM \"{t}\" WHERE {cond}",
                        col(reg.name.as_ref()),
                        col(reg.sex.as_ref()),
                        col(reg.birth.as_ref())
                    ),
                    50,
                )
                .await?;
            for (k, row) in keys.rows.iter().zip(shown.rows) {
                let person_id = match text(k, "k") {
                    Some(k) => db::entity_of(&self.store, KIND, t, &reg.record_key(&k))
                        .await?
                        .map(|l| l.entity_id),
                    None => None,
                };
                out.push(Member {
                    person_id,
                    name: text(&row, "name"),
                    sex: text(&row, "sex"),
                    birth: text(&row, "birth"),
                });
            }
        }
        Ok(out)
    }

    /// The review queue of persons, or of enterprises (`kind`).
    pub async fn reviews(
        &self,
        c: &Caller,
        kind: Option<&str>,
        limit: i64,
    ) -> Result<Vec<db::ReviewRow>> {
        self.require(c, perm::IDENTITY_REVIEW, "identity.reviews")
            .await?;
        db::reviews(&self.store, entity_kind(kind)?, limit).await
    }

    /// Decide a pair in the queue: `accept` (one person) or `reject` (two). Later runs respect it.
    pub async fn decide(
        &self,
        c: &Caller,
        review_id: i64,
        decision: &str,
        reason: &str,
    ) -> Result<()> {
        self.require(c, perm::IDENTITY_REVIEW, "identity.decide")
            .await?;
        if !matches!(decision, "accept" | "reject") {
            return Err(Error::invalid("decision", "accept or reject"));
        }
        let r = db::review(&self.store, review_id)
            .await?
            .ok_or_else(|| Error::not_found(format!("review {review_id}")))?;
        self.record_decision(
            c,
            Some(&r.kind),
            decision,
            (&r.a_source, &r.a_key),
            Some((&r.b_source, &r.b_key)),
            reason,
            Some(review_id),
        )
        .await
    }

    /// Merge two records' persons (or enterprises, `kind`), or split one record off into an
    /// entity of its own.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_decision(
        &self,
        c: &Caller,
        kind: Option<&str>,
        decision: &str,
        a: (&str, &str),
        b: Option<(&str, &str)>,
        reason: &str,
        review_id: Option<i64>,
    ) -> Result<()> {
        self.require(c, perm::IDENTITY_REVIEW, "identity.decide")
            .await?;
        let kind = entity_kind(kind)?;
        match (decision, b) {
            ("accept" | "reject", Some(_)) | ("alone", None) => {}
            _ => {
                return Err(Error::invalid(
                    "decision",
                    "accept or reject a pair of records, or set one record alone",
                ));
            }
        }
        for (s, k) in [Some(a), b].into_iter().flatten() {
            if db::entity_of(&self.store, kind, s, k).await?.is_none() {
                return Err(Error::not_found(format!("record {s}/{k}")));
            }
        }
        if reason.trim().is_empty() {
            return Err(Error::invalid("reason", "a decision needs a reason"));
        }
        let mut tx = self.store.write().await?;
        db::decide(
            &mut tx,
            &db::DecisionRow {
                id: 0,
                kind: kind.into(),
                decision: decision.into(),
                a_source: a.0.into(),
                a_key: a.1.into(),
                b_source: b.map(|b| b.0.to_owned()),
                b_key: b.map(|b| b.1.to_owned()),
                reason: reason.into(),
                actor: c.username.clone(),
                decided_at: String::new(),
            },
            review_id,
        )
        .await?;
        tx.commit().await?;
        let _ = audit::record(
            &self.store,
            &c.entry(
                "identity.decide",
                "identity_pair",
                Some(format!("{}/{}", a.0, a.1)),
                Outcome::Ok,
                Some(decision.to_owned()),
            ),
        )
        .await;
        Ok(())
    }

    /// The rule sets for one-click checks, newest versions (the built-in ones saved at first use).
    pub async fn rule_sets(&self, c: &Caller) -> Result<Vec<rules_db::RuleSetRow>> {
        self.require(c, perm::IDENTITY_VIEW, "identity.rules")
            .await?;
        let mut have = rules_db::list(&self.store).await?;
        let missing: Vec<_> = checks::BUILT_IN
            .iter()
            .filter(|(k, _, _)| !have.iter().any(|r| r.rule_key == *k))
            .collect();
        if !missing.is_empty() {
            let mut tx = self.store.write().await?;
            for (k, name, jdm) in missing {
                rules_db::save(&mut tx, k, name, jdm, "system").await?;
            }
            tx.commit().await?;
            have = rules_db::list(&self.store).await?;
        }
        Ok(have)
    }

    /// The fact definitions, newest versions (the built-in ones saved at first use).
    pub async fn fact_defs(&self) -> Result<Vec<crate::facts::FactDef>> {
        Ok(self.facts.get(|| self.read_fact_defs()).await?.to_vec())
    }

    async fn read_fact_defs(&self) -> Result<Vec<crate::facts::FactDef>> {
        let mut have = rules_db::facts(&self.store).await?;
        let missing: Vec<_> = crate::facts::built_in()?
            .into_iter()
            .filter(|d| !have.iter().any(|r| r.name == d.name))
            .collect();
        if !missing.is_empty() {
            let mut tx = self.store.write().await?;
            for d in missing {
                let body = serde_json::to_string(&d).map_err(Error::internal)?;
                rules_db::save_fact(&mut tx, &d.name, &body, "system").await?;
            }
            tx.commit().await?;
            have = rules_db::facts(&self.store).await?;
        }
        have.into_iter().map(fact_from_row).collect()
    }

    /// The fact definitions, for the facts page and API.
    pub async fn facts(&self, c: &Caller) -> Result<Vec<crate::facts::FactDef>> {
        self.require(c, perm::IDENTITY_VIEW, "identity.facts")
            .await?;
        self.fact_defs().await
    }

    /// Every version of one fact, newest first.
    pub async fn fact_history(&self, c: &Caller, name: &str) -> Result<Vec<crate::facts::FactDef>> {
        self.require(c, perm::IDENTITY_VIEW, "identity.facts")
            .await?;
        let rows = rules_db::fact_history(&self.store, name).await?;
        if rows.is_empty() {
            return Err(Error::not_found(format!("fact {name}")));
        }
        rows.into_iter().map(fact_from_row).collect()
    }

    /// Save a new version of a fact (or a new fact), checked against the data elements the
    /// registry has (`elements`; empty: not checked). An unchanged definition keeps its version.
    pub async fn save_fact(
        &self,
        c: &Caller,
        mut def: crate::facts::FactDef,
        elements: &[String],
    ) -> Result<i64> {
        self.require(c, perm::IDENTITY_RULES, "identity.fact.save")
            .await?;
        def.version = 0;
        if let Err(e) = def.validate(elements) {
            let _ = audit::record(
                &self.store,
                &c.entry(
                    "identity.fact.save",
                    "fact",
                    Some(def.name.clone()),
                    Outcome::Rejected,
                    e.field.clone(),
                ),
            )
            .await;
            return Err(e);
        }
        let current = self.fact_defs().await?;
        if let Some(other) = &def.otherwise
            && !current.iter().any(|d| d.name == *other)
        {
            return Err(Error::invalid("otherwise", format!("no fact {other}")));
        }
        if let Some(before) = current.iter().find(|d| d.name == def.name)
            && (crate::facts::FactDef {
                version: 0,
                ..before.clone()
            }) == def
        {
            return Ok(before.version);
        }
        let body = serde_json::to_string(&def).map_err(Error::internal)?;
        let mut tx = self.store.write().await?;
        let v = rules_db::save_fact(&mut tx, &def.name, &body, &c.username).await?;
        audit::append(
            &mut tx,
            &c.entry(
                "identity.fact.save",
                "fact",
                Some(format!("{}@{v}", def.name)),
                Outcome::Ok,
                None,
            ),
        )
        .await?;
        tx.commit().await?;
        self.facts.clear();
        Ok(v)
    }

    /// The facts of a person's whole file (read unmasked), with the definitions they came from.
    async fn facts_for(
        &self,
        person_id: &str,
    ) -> Result<(serde_json::Value, Vec<crate::facts::FactDef>)> {
        let (file, sources) = self.read_file(&Caller::system(), person_id).await?;
        let defs = self.fact_defs().await?;
        let today = chrono::Local::now().date_naive();
        Ok((crate::facts::evaluate(&defs, &file, &sources, today), defs))
    }

    /// The facts drawn from a person's whole file, as the checks read them. Needs a purpose;
    /// audited with it and the fact versions.
    pub async fn facts_of(&self, c: &Caller, person_id: &str) -> Result<serde_json::Value> {
        self.require_purpose(c, "identity.facts").await?;
        let (facts, defs) = self.facts_for(person_id).await?;
        let versions: Vec<String> = defs
            .iter()
            .map(|d| format!("{}@{}", d.name, d.version))
            .collect();
        let _ = audit::record(
            &self.store,
            &c.entry(
                "identity.facts",
                "person",
                Some(person_id.to_owned()),
                Outcome::Ok,
                Some(versions.join(", ")),
            ),
        )
        .await;
        Ok(facts)
    }

    /// One rule set, newest version.
    pub async fn rule_set(&self, c: &Caller, key: &str) -> Result<rules_db::RuleSetRow> {
        self.rule_sets(c)
            .await?
            .into_iter()
            .find(|r| r.rule_key == key)
            .ok_or_else(|| Error::not_found(format!("rule set {key}")))
    }

    /// Save a new version of a rule set (or a new one), after vetting it.
    pub async fn save_rule_set(&self, c: &Caller, key: &str, name: &str, jdm: &str) -> Result<i64> {
        self.require(c, perm::IDENTITY_RULES, "identity.rules.save")
            .await?;
        if key.is_empty()
            || !key
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
        {
            return Err(Error::invalid("key", "lowercase letters, digits and _"));
        }
        if name.trim().is_empty() {
            return Err(Error::invalid("name", "a rule set needs a name"));
        }
        checks::parse(jdm)?;
        let mut tx = self.store.write().await?;
        let v = rules_db::save(&mut tx, key, name.trim(), jdm, &c.username).await?;
        audit::append(
            &mut tx,
            &c.entry(
                "identity.rules.save",
                "rule_set",
                Some(format!("{key}@{v}")),
                Outcome::Ok,
                None,
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(v)
    }

    /// Run a rule set (or a draft of it) on sample facts, as the editor's test does.
    pub async fn test_rule_set(
        &self,
        c: &Caller,
        key: &str,
        draft: Option<&str>,
        facts: &serde_json::Value,
    ) -> Result<checks::CheckResult> {
        let saved = self.rule_set(c, key).await?;
        match draft {
            Some(d) => run_rule_set(key, d, 0, facts).await,
            None => run_rule_set(key, &saved.jdm, saved.version, facts).await,
        }
    }

    /// A one-click check of a person: the facts drawn from the person's whole file, the rule set
    /// evaluated, yes or no with the reason for each rule. Needs a purpose; audited with it.
    pub async fn check(
        &self,
        c: &Caller,
        person_id: &str,
        key: &str,
    ) -> Result<checks::CheckResult> {
        self.require_purpose(c, "identity.check").await?;
        let saved = self.rule_set(c, key).await?;
        let (facts, defs) = self.facts_for(person_id).await?;
        let r = run_rule_set(key, &saved.jdm, saved.version, &facts).await?;
        let used = crate::facts::used_by(&defs, &saved.jdm);
        let _ = audit::record(
            &self.store,
            &c.entry(
                "identity.check",
                "person",
                Some(person_id.to_owned()),
                Outcome::Ok,
                Some(format!(
                    "{key}@{}: {}; facts {}",
                    r.version,
                    if r.passed { "yes" } else { "no" },
                    used.join(", ")
                )),
            ),
        )
        .await;
        Ok(r)
    }

    /// Match the person records a delivery just brought (the rows of `table` written by lake job
    /// `job`) as they land: a known citizen ID joins its person, a confident model match
    /// (probability ≥ the run's threshold) joins the best candidate, anything else becomes a new
    /// person. Each record joins the match index at once, so the next record — of this delivery
    /// or the next — links to it. Records already linked keep their person. Before the first
    /// full run the model is trained on the person sources the lake holds, and the index starts
    /// empty. The next full run starts from these IDs, so none is renumbered. Tables that name
    /// no persons are left alone.
    pub async fn absorb(&self, c: &Caller, table: &str, job: i64) -> Result<Absorbed> {
        self.require(c, perm::IDENTITY_RESOLVE, "identity.absorb")
            .await?;
        let _one = self.linking.lock().await;
        let mut out = Absorbed::default();
        let sources = self.sources().await?;
        let mine: Vec<&PersonSource> = sources.iter().filter(|s| s.table == table).collect();
        if mine.is_empty() {
            return Ok(out);
        }
        let run_id = db::runs(&self.store, KIND, 1)
            .await?
            .into_iter()
            .next()
            .map(|r| r.id);
        let ix = match (self.index.read().ok().and_then(|g| g.clone()), run_id) {
            (Some(ix), Some(_)) => ix,
            // Before the first run, every delivery retrains on all the lake holds.
            (_, None) => self.first_index(c).await?,
            // A run exists but its index is not loaded: the run's links would be missed.
            (None, Some(_)) => return Ok(out),
        };
        let mut rows: Vec<(&PersonSource, Vec<Option<String>>)> = Vec::new();
        for source in mine {
            let sql = format!("{} WHERE \"_job\" = {job}", source_sql(source));
            self.lake
                .scan(c, "entity resolution (a delivery as it lands)", &sql, |r| {
                    rows.push((source, r.iter().map(|v| v.map(str::to_owned)).collect()));
                })
                .await?;
        }
        let threshold = person_settings().threshold;
        let mut links: Vec<(String, String, String)> = Vec::new();
        for (source, row) in &rows {
            let row: Vec<Option<&str>> = row.iter().map(Option::as_deref).collect();
            let Some(key) = row.first().copied().flatten() else {
                continue;
            };
            out.records += 1;
            if db::entity_of(&self.store, KIND, table, key)
                .await?
                .is_some()
            {
                out.already_linked += 1;
                continue;
            }
            // The ID as written (a flagged one from `_raw`); the match normalises it.
            let written = id_as_written(source, &row);
            let f = |i: usize| row.get(i).copied().flatten();
            let best = ix
                .find(written.as_deref(), [f(2), f(3), f(4), f(5), f(6)])?
                .into_iter()
                .next()
                .filter(|c| c.probability >= threshold);
            let (person, method) = match best {
                Some(b) if b.probability >= 1.0 => (b.person_id, "id"),
                Some(b) => (b.person_id, "model"),
                None => {
                    out.new_persons += 1;
                    (ids::mint_for("P", table, key), "new")
                }
            };
            match method {
                "id" => out.by_id += 1,
                "model" => out.by_model += 1,
                _ => {}
            }
            ix.add(source, &row, &person);
            links.push((key.to_owned(), person, method.to_owned()));
        }
        if !links.is_empty() {
            let mut tx = self.store.write().await?;
            // Links made before any run carry run 0.
            db::add_links(&mut tx, KIND, table, &links, run_id.unwrap_or(0)).await?;
            audit::append(
                &mut tx,
                &c.entry(
                    "identity.absorb",
                    "lake_job",
                    Some(job.to_string()),
                    Outcome::Ok,
                    Some(format!(
                        "{table}: {} by ID, {} by the model, {} new persons",
                        out.by_id, out.by_model, out.new_persons
                    )),
                ),
            )
            .await?;
            tx.commit().await?;
        }
        Ok(out)
    }

    /// Before any full run: an index of the records linked as they landed, with a model trained
    /// on every person source the lake holds (the delivery that landed included), installed for
    /// what follows.
    async fn first_index(&self, c: &Caller) -> Result<Arc<MatchIndex>> {
        // Landings before a restart left links: index them.
        if self.load_index(c).await?
            && let Some(ix) = self.index.read().ok().and_then(|g| g.clone())
        {
            return Ok(ix);
        }
        let (recs, _) = self.read_sources(c).await?;
        let settings = person_settings();
        let model = tokio::task::spawn_blocking(move || {
            let blocking = crate::block::Blocking::new(&recs, &settings.rules, settings.max_block)?;
            Ok::<_, Error>(Model::train(
                &recs,
                &blocking,
                settings.link_only,
                settings.seed,
            ))
        })
        .await
        .map_err(Error::internal)??;
        let ix = Arc::new(MatchIndex::build(
            Records::new(person_fields()),
            model,
            person_settings(),
            Vec::new(),
        )?);
        self.install_index(ix.clone());
        Ok(ix)
    }

    /// Resolution runs, newest first.
    pub async fn runs(&self, c: &Caller) -> Result<Vec<db::RunRow>> {
        self.require(c, perm::IDENTITY_VIEW, "identity.runs")
            .await?;
        db::runs(&self.store, KIND, 20).await
    }
}

impl MatchIndex {
    /// Index `recs` (resolved into `ids`, one per record) for single-record matching.
    pub fn build(
        recs: Records,
        model: Model,
        settings: Settings,
        ids: Vec<String>,
    ) -> Result<MatchIndex> {
        let blocking = crate::block::Blocking::new(&recs, &settings.rules, settings.max_block)?;
        let mut interned: HashMap<String, Arc<str>> = HashMap::new();
        let person: Vec<Arc<str>> = ids
            .into_iter()
            .map(|p| {
                interned
                    .entry(p.clone())
                    .or_insert_with(|| p.into())
                    .clone()
            })
            .collect();
        let mut blocks: Vec<HashMap<u64, Vec<Rec>>> = vec![HashMap::new(); settings.rules.len()];
        let mut by_citizen_id = HashMap::new();
        for r in 0..recs.len() as Rec {
            for (i, b) in blocks.iter_mut().enumerate() {
                if let Some(k) = blocking.key(i, r) {
                    b.entry(k).or_default().push(r);
                }
            }
            // A record nobody linked yet does not stand for its ID.
            if let Some(id) = recs.id(r)
                && person.get(r as usize).is_some_and(|p| !p.is_empty())
            {
                by_citizen_id.entry(id.into()).or_insert(r);
            }
        }
        drop(blocking);
        let landed = RwLock::new(Layer::empty(&settings));
        let rules = rule_parts(&settings, &recs);
        Ok(MatchIndex {
            model,
            settings,
            rules,
            base: Layer {
                recs,
                blocks,
                by_citizen_id,
                person,
            },
            landed,
        })
    }

    /// Records indexed, those landed since the run included.
    pub fn len(&self) -> usize {
        self.base.recs.len() + self.landed.read().map_or(0, |l| l.recs.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Add a record that landed (a row read by [`source_sql`] of `source`) under `person`: the
    /// next record matched can link to it.
    pub fn add(&self, source: &PersonSource, row: &[Option<&str>], person: &str) {
        let Ok(mut l) = self.landed.write() else {
            return;
        };
        if let Some(r) = push_source_row(&mut l.recs, source, row) {
            l.person.push(person.into());
            l.index(&self.rules, r);
        }
    }

    /// The best persons (at most five) for one record, with their probability and why. Blocks
    /// larger than the resolution's bound are not scanned.
    pub fn find(
        &self,
        citizen_id: Option<&str>,
        fields: [Option<&str>; 5],
    ) -> Result<Vec<Candidate>> {
        // The query as a one-record set, normalised the same way.
        let mut q = Records::new(person_fields());
        let row: Vec<Option<&str>> = [Some("query"), citizen_id]
            .into_iter()
            .chain(fields)
            .collect();
        let r = push_person(&mut q, "query", &row)
            .ok_or_else(|| Error::invalid("record", "empty record"))?;
        let landed = self
            .landed
            .read()
            .map_err(|_| Error::internal("match index poisoned"))?;
        for layer in [&self.base, &*landed] {
            if let Some(id) = q.id(r)
                && let Some(&hit) = layer.by_citizen_id.get(id)
                && !layer.person[hit as usize].is_empty()
            {
                return Ok(vec![Candidate::certain(
                    layer.person[hit as usize].to_string(),
                )]);
            }
        }
        let mut best: HashMap<Arc<str>, Candidate> = HashMap::new();
        for layer in [&self.base, &*landed] {
            let mut seen = HashSet::new();
            for (i, parts) in &self.rules {
                let Some(k) = crate::block::key_of(&q, r, parts).map(|k| k.max(1)) else {
                    continue;
                };
                let block = layer.blocks[*i]
                    .get(&k)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                if block.len() > self.settings.max_block {
                    continue;
                }
                for &cand in block {
                    if !seen.insert(cand) {
                        continue;
                    }
                    let e = self.model.explain_across(&q, r, &layer.recs, cand);
                    if e.probability < self.settings.review.0 {
                        continue;
                    }
                    let pid = layer.person[cand as usize].clone();
                    // A record no run or landing linked yet is nobody's.
                    if pid.is_empty() {
                        continue;
                    }
                    let better = best.get(&pid).is_none_or(|b| b.probability < e.probability);
                    if better {
                        best.insert(
                            pid.clone(),
                            Candidate {
                                person_id: pid.to_string(),
                                probability: e.probability,
                                explanation: e,
                            },
                        );
                    }
                }
            }
        }
        let mut out: Vec<Candidate> = best.into_values().collect();
        out.sort_by(|a, b| b.probability.total_cmp(&a.probability));
        out.truncate(5);
        Ok(out)
    }
}
