//! Stable entity IDs. A cluster keeps the ID most of its records had in the last run; when an old
//! ID's records now sit in several clusters, the one holding most of them keeps it (a split); when
//! a cluster brings records of several old IDs together, one survives and the others retire (a
//! merge). New clusters get an ID derived from their first record, so two runs from scratch over
//! the same data agree.

use crate::records::{Rec, Records};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::Hasher;
use twox_hash::XxHash3_64;

/// What changed against the last run.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Changes {
    /// Entities seen for the first time.
    pub created: usize,
    /// (surviving ID, IDs it absorbed).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Vec<Object>>))]
    pub merged: Vec<(String, Vec<String>)>,
    /// (old ID, new IDs its records moved to).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Vec<Object>>))]
    pub split: Vec<(String, Vec<String>)>,
    /// Records of an old entity now under another, not counted above.
    pub moved_records: usize,
    /// The records that moved (at most [`MAX_MOVES`] listed), each with why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub moves: Vec<Move>,
}

/// How many moved records a run lists.
pub const MAX_MOVES: usize = 1000;

/// A record that moved from one entity to another in a run, and why.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Move {
    pub source: String,
    pub record_key: String,
    pub from: String,
    pub to: String,
    pub reason: String,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.merged.is_empty() && self.split.is_empty() && self.moved_records == 0
    }
}

fn mint(prefix: &str, recs: &Records, r: Rec, taken: &HashSet<String>) -> String {
    let mut salt = 0u64;
    loop {
        let id = minted(prefix, recs.source_name(r), recs.key(r), salt);
        if !taken.contains(&id) {
            return id;
        }
        salt += 1;
    }
}

fn minted(prefix: &str, source: &str, key: &str, salt: u64) -> String {
    let mut h = XxHash3_64::with_seed(salt);
    h.write(source.as_bytes());
    h.write_u8(0);
    h.write(key.as_bytes());
    format!("{prefix}{:016X}", h.finish())
}

/// The ID a new entity founded by this record gets (the same a full run would give it).
pub fn mint_for(prefix: &str, source: &str, key: &str) -> String {
    minted(prefix, source, key, 0)
}

/// IDs for every record's cluster, given the IDs of the last run by (source, key).
pub fn assign(
    recs: &Records,
    cluster: &[Rec],
    previous: &HashMap<(String, String), String>,
    prefix: &str,
) -> (Vec<String>, Changes) {
    // Members per cluster, in record order (so the first member is stable).
    let mut members: BTreeMap<Rec, Vec<Rec>> = BTreeMap::new();
    for (r, c) in cluster.iter().enumerate() {
        members.entry(*c).or_default().push(r as Rec);
    }
    let old_of = |r: Rec| previous.get(&(recs.source_name(r).to_owned(), recs.key(r).to_owned()));
    // How many records of each old ID each cluster holds.
    let mut claims: Vec<(usize, Rec, String)> = Vec::new();
    for (c, rs) in &members {
        let mut n: HashMap<&String, usize> = HashMap::new();
        for r in rs {
            if let Some(id) = old_of(*r) {
                *n.entry(id).or_default() += 1;
            }
        }
        for (id, k) in n {
            claims.push((k, *c, id.clone()));
        }
    }
    // Strongest claims first; ties by cluster, then ID, so the outcome is deterministic.
    claims.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut given: HashMap<Rec, String> = HashMap::new();
    let mut taken: HashSet<String> = HashSet::new();
    for (_, c, id) in &claims {
        if given.contains_key(c) || taken.contains(id) {
            continue;
        }
        given.insert(*c, id.clone());
        taken.insert(id.clone());
    }
    let mut changes = Changes::default();
    for (c, rs) in &members {
        if !given.contains_key(c) {
            let id = mint(prefix, recs, rs[0], &taken);
            taken.insert(id.clone());
            given.insert(*c, id);
            if rs.iter().all(|r| old_of(*r).is_none()) {
                changes.created += 1;
            }
        }
    }
    // Merges and splits, as seen from the old IDs.
    let mut went: BTreeMap<String, HashSet<String>> = BTreeMap::new();
    let mut absorbed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (c, rs) in &members {
        let now = &given[c];
        for r in rs {
            if let Some(old) = old_of(*r) {
                went.entry(old.clone()).or_default().insert(now.clone());
                if old != now {
                    changes.moved_records += 1;
                }
            }
        }
    }
    for (old, now) in &went {
        if !now.contains(old) {
            // The old ID lives on nowhere: its records joined other entities.
            for n in now {
                absorbed.entry(n.clone()).or_default().push(old.clone());
            }
        } else if now.len() > 1 {
            let mut others: Vec<String> = now.iter().filter(|n| *n != old).cloned().collect();
            others.sort();
            changes.split.push((old.clone(), others));
        }
    }
    for (survivor, mut olds) in absorbed {
        olds.sort();
        olds.dedup();
        changes.merged.push((survivor, olds));
    }
    let ids = cluster.iter().map(|c| given[c].clone()).collect();
    (ids, changes)
}
