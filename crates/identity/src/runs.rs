//! What persons and enterprises share around a resolution: the clerical decisions read back for
//! the next run, and a run recorded in the store (every record's entity and how it was linked,
//! the pairs left for review with their explanations, the counts, the changes and the table
//! versions read) and audited.

use crate::ids::Changes;
use crate::records::{Rec, Records};
use crate::resolve::{Decisions, PairRef, Resolution};
use shuju_admin::Caller;
use shuju_store::Store;
use shuju_store::audit::{self, Outcome};
use shuju_store::identity as db;
use shuju_types::Result;
use std::collections::{BTreeMap, HashMap, HashSet};

/// The clerical decisions taken so far on entities of `kind`, as a run applies them.
pub async fn decisions(store: &Store, kind: &str) -> Result<Decisions> {
    let mut d = Decisions::default();
    for r in db::decisions(store, kind).await? {
        let a = (r.a_source.clone(), r.a_key.clone());
        match (r.decision.as_str(), r.b_source, r.b_key) {
            ("alone", _, _) => {
                d.alone.insert(a);
            }
            (kind, Some(bs), Some(bk)) => {
                let p = PairRef { a, b: (bs, bk) }.ordered();
                if kind == "accept" {
                    d.reject.remove(&p);
                    d.accept.insert(p);
                } else {
                    d.accept.remove(&p);
                    d.reject.insert(p);
                }
            }
            _ => {}
        }
    }
    Ok(d)
}

/// Every record's entity in the last run of `kind`, by (source, key).
pub async fn previous(store: &Store, kind: &str) -> Result<HashMap<(String, String), String>> {
    Ok(db::links(store, kind)
        .await?
        .into_iter()
        .map(|l| ((l.source, l.record_key), l.entity_id))
        .collect())
}

/// A finished run: every record of `recs` under its entity in `ids`.
pub struct Run<'a> {
    pub kind: &'a str,
    pub recs: &'a Records,
    pub res: &'a Resolution,
    pub ids: &'a [String],
    pub changes: &'a Changes,
    /// The table versions read.
    pub versions: &'a BTreeMap<String, i64>,
}

/// Record a run in one transaction, and audit it. Returns the run's ID and the number of
/// entities.
pub async fn record(store: &Store, c: &Caller, run: &Run<'_>) -> Result<(i64, usize)> {
    let Run {
        kind,
        recs,
        res,
        ids,
        changes,
        versions,
    } = *run;
    let model_linked: HashSet<Rec> = res.links.iter().flat_map(|s| [s.a, s.b]).collect();
    let entities = ids.iter().collect::<HashSet<_>>().len();
    let links: Vec<(&str, &str, &str, &str)> = (0..recs.len() as Rec)
        .map(|r| {
            let method = if recs.id(r).is_some() {
                "id"
            } else if model_linked.contains(&r) {
                "model"
            } else {
                "alone"
            };
            (
                recs.source_name(r),
                recs.key(r),
                ids[r as usize].as_str(),
                method,
            )
        })
        .collect();
    let reviews = res
        .review
        .iter()
        .map(|s| {
            let e = res.explain(recs, s.a, s.b);
            (
                recs.source_name(s.a).to_owned(),
                recs.key(s.a).to_owned(),
                recs.source_name(s.b).to_owned(),
                recs.key(s.b).to_owned(),
                format!("{:.4}", e.probability),
                serde_json::to_string(&e).unwrap_or_default(),
            )
        })
        .collect();
    let mut tx = store.write().await?;
    let run_id = db::write_run(
        &mut tx,
        &db::NewRun {
            kind,
            records: recs.len() as i64,
            entities: entities as i64,
            stats: serde_json::to_string(&res.stats).unwrap_or_default(),
            changes: serde_json::to_string(changes).unwrap_or_default(),
            versions: serde_json::to_string(versions).unwrap_or_default(),
            actor: &c.username,
            links,
            reviews,
        },
    )
    .await?;
    tx.commit().await?;
    let _ = audit::record(
        store,
        &c.entry(
            "identity.resolve",
            "identity_run",
            Some(run_id.to_string()),
            Outcome::Ok,
            Some(format!(
                "{kind}: {} records, {entities} entities, {} merged, {} split",
                recs.len(),
                changes.merged.len(),
                changes.split.len()
            )),
        ),
    )
    .await;
    Ok((run_id, entities))
}
