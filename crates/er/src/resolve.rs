//! From records to entities: deterministic links on validated identifiers, then the
//! Fellegi–Sunter model over the blocked pairs, clerical decisions applied, and clusters.

use crate::block::{Blocking, Rule};
use crate::model::{Explanation, Model, probability};
use crate::records::{Rec, Records};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// How a resolution runs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Settings {
    pub rules: Vec<Rule>,
    /// Records of one source are never the same entity (linkage, not deduplication).
    pub link_only: bool,
    /// A record links to at most one record of each other source (best weight first).
    pub one_to_one: bool,
    /// Match probability at or above which two records are one entity.
    pub threshold: f64,
    /// Pairs with a probability in this range go to clerical review.
    pub review: (f64, f64),
    /// Blocks larger than this are left out of their rule.
    pub max_block: usize,
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            rules: Vec::new(),
            link_only: false,
            one_to_one: false,
            threshold: 0.5,
            review: (0.2, 0.9),
            max_block: 2_000,
            seed: 42,
        }
    }
}

/// A clerical decision on a pair of records, named by source and key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PairRef {
    pub a: (String, String),
    pub b: (String, String),
}

impl PairRef {
    /// The same pair whichever way round it is named.
    pub fn ordered(mut self) -> PairRef {
        if self.b < self.a {
            std::mem::swap(&mut self.a, &mut self.b);
        }
        self
    }
}

/// Decisions officials made, respected by every later run.
#[derive(Clone, Debug, Default)]
pub struct Decisions {
    /// These pairs are one entity.
    pub accept: HashSet<PairRef>,
    /// These pairs are not.
    pub reject: HashSet<PairRef>,
    /// These records stand alone (a cluster split by hand).
    pub alone: HashSet<(String, String)>,
}

/// A scored pair.
#[derive(Clone, Copy, Debug)]
pub struct Scored {
    pub a: Rec,
    pub b: Rec,
    pub weight: f32,
}

/// What a run found.
pub struct Resolution {
    pub model: Model,
    /// Every record's cluster, as the smallest record in it.
    pub cluster: Vec<Rec>,
    /// Pairs linked by the model (deterministic links are not listed).
    pub links: Vec<Scored>,
    /// Pairs left for clerical review.
    pub review: Vec<Scored>,
    pub stats: Stats,
}

/// Counts of a run.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stats {
    pub records: usize,
    pub comparisons: u64,
    pub deterministic_links: u64,
    pub probabilistic_links: u64,
    pub review: usize,
    pub clusters: usize,
    /// Records in blocks too large for their rule.
    pub oversized_block_records: usize,
    /// Model links left out because they would have joined two different validated identifiers
    /// (a record without one scored high against two persons; the stronger link won).
    #[serde(default)]
    pub conflicts: u64,
    pub ms_train: u64,
    pub ms_score: u64,
    pub ms_cluster: u64,
}

struct Dsu(Vec<Rec>);

impl Dsu {
    fn find(&mut self, mut x: Rec) -> Rec {
        while self.0[x as usize] != x {
            let p = self.0[x as usize];
            self.0[x as usize] = self.0[p as usize];
            x = p;
        }
        x
    }
    fn union(&mut self, a: Rec, b: Rec) -> bool {
        let (a, b) = (self.find(a), self.find(b));
        if a == b {
            return false;
        }
        let (lo, hi) = if a < b { (a, b) } else { (b, a) };
        self.0[hi as usize] = lo;
        true
    }
}

fn pair_ref(recs: &Records, a: Rec, b: Rec) -> PairRef {
    PairRef {
        a: (recs.source_name(a).into(), recs.key(a).into()),
        b: (recs.source_name(b).into(), recs.key(b).into()),
    }
    .ordered()
}

/// Resolve `recs` into entities.
pub fn resolve(
    recs: &Records,
    settings: &Settings,
    decisions: &Decisions,
    model: Option<Model>,
) -> shuju_types::Result<Resolution> {
    let t0 = std::time::Instant::now();
    let blocking = Blocking::new(recs, &settings.rules, settings.max_block)?;
    let model = match model {
        Some(m) => m,
        None => Model::train(recs, &blocking, settings.link_only, settings.seed),
    };
    let mut stats = Stats {
        records: recs.len(),
        ..Default::default()
    };
    stats.ms_train = t0.elapsed().as_millis() as u64;

    // Score every blocked pair once; keep those worth linking or reviewing.
    let t1 = std::time::Instant::now();
    let keep = probability_to_weight(settings.review.0.min(settings.threshold));
    let mut scored: Vec<Scored> = Vec::new();
    let comparisons = std::sync::atomic::AtomicU64::new(0);
    for rule in 0..blocking.rules.len() {
        let (blocks, skipped) = blocking.blocks(rule);
        stats.oversized_block_records += skipped;
        let found: Vec<Scored> = blocks
            .par_iter()
            .flat_map_iter(|b| {
                let mut out = Vec::new();
                let mut n = 0u64;
                // Two records with validated identifiers are decided by them: compare only pairs
                // in which at least one record has none.
                let (with, without): (Vec<Rec>, Vec<Rec>) =
                    b.iter().partition(|r| recs.id(**r).is_some());
                let mut score = |x: Rec, y: Rec| {
                    if (settings.link_only && recs.source(x) == recs.source(y))
                        || blocking.seen_before(rule, x, y)
                    {
                        return;
                    }
                    n += 1;
                    let w = model.weight(recs, x, y);
                    if w >= keep {
                        out.push(Scored {
                            a: x.min(y),
                            b: x.max(y),
                            weight: w as f32,
                        });
                    }
                };
                for (i, &x) in without.iter().enumerate() {
                    for &y in &without[i + 1..] {
                        score(x, y);
                    }
                    for &y in &with {
                        score(x, y);
                    }
                }
                comparisons.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
                out
            })
            .collect();
        scored.extend(found);
    }
    stats.comparisons = comparisons.into_inner();
    stats.ms_score = t1.elapsed().as_millis() as u64;

    // Clusters: identifiers first, then clerical acceptances, then the model's links.
    let t2 = std::time::Instant::now();
    let mut dsu = Dsu((0..recs.len() as Rec).collect());
    let alone: HashSet<Rec> = (0..recs.len() as Rec)
        .filter(|&r| {
            !decisions.alone.is_empty()
                && decisions
                    .alone
                    .contains(&(recs.source_name(r).to_owned(), recs.key(r).to_owned()))
        })
        .collect();
    let mut by_id: HashMap<&str, Rec> = HashMap::new();
    for r in 0..recs.len() as Rec {
        if alone.contains(&r) {
            continue;
        }
        if let Some(id) = recs.id(r) {
            match by_id.get(id) {
                Some(&first) => {
                    if dsu.union(first, r) {
                        stats.deterministic_links += 1;
                    }
                }
                None => {
                    by_id.insert(id, r);
                }
            }
        }
    }
    if !decisions.accept.is_empty() {
        let index: HashMap<(&str, &str), Rec> = (0..recs.len() as Rec)
            .map(|r| ((recs.source_name(r), recs.key(r)), r))
            .collect();
        for p in &decisions.accept {
            if let (Some(&a), Some(&b)) = (
                index.get(&(p.a.0.as_str(), p.a.1.as_str())),
                index.get(&(p.b.0.as_str(), p.b.1.as_str())),
            ) {
                dsu.union(a, b);
            }
        }
    }
    scored.sort_unstable_by(|x, y| y.weight.total_cmp(&x.weight).then(x.a.cmp(&y.a)));
    // The identifier each cluster holds (as the record that first carried it), by root.
    let mut ident: Vec<Option<Rec>> = vec![None; recs.len()];
    for r in 0..recs.len() as Rec {
        if let Some(id) = recs.id(r) {
            let root = dsu.find(r);
            if ident[root as usize].is_none() {
                ident[root as usize] = by_id.get(id).copied();
            }
        }
    }
    let threshold = probability_to_weight(settings.threshold);
    let review_hi = probability_to_weight(settings.review.1);
    let review_lo = probability_to_weight(settings.review.0);
    let mut used: HashSet<(Rec, u16)> = HashSet::new();
    let mut links = Vec::new();
    let mut review = Vec::new();
    for s in scored {
        let w = s.weight as f64;
        let decided = (!decisions.reject.is_empty() || !decisions.accept.is_empty()) && {
            let p = pair_ref(recs, s.a, s.b);
            decisions.reject.contains(&p) || decisions.accept.contains(&p)
        };
        if decided || alone.contains(&s.a) || alone.contains(&s.b) {
            continue;
        }
        if w >= review_lo && w < review_hi {
            review.push(s);
        }
        if w < threshold {
            continue;
        }
        if settings.one_to_one {
            let (ka, kb) = ((s.a, recs.source(s.b)), (s.b, recs.source(s.a)));
            if used.contains(&ka) || used.contains(&kb) {
                continue;
            }
            used.insert(ka);
            used.insert(kb);
        }
        // Two different identifiers never end in one cluster, not even through a third record.
        let (ra, rb) = (dsu.find(s.a), dsu.find(s.b));
        if ra == rb {
            links.push(s);
            continue;
        }
        let (ia, ib) = (ident[ra as usize], ident[rb as usize]);
        if let (Some(x), Some(y)) = (ia, ib)
            && x != y
        {
            stats.conflicts += 1;
            continue;
        }
        dsu.union(ra, rb);
        let root = dsu.find(ra);
        ident[root as usize] = ia.or(ib);
        links.push(s);
    }
    stats.probabilistic_links = links.len() as u64;
    stats.review = review.len();
    let cluster: Vec<Rec> = (0..recs.len() as Rec).map(|r| dsu.find(r)).collect();
    stats.clusters = cluster
        .iter()
        .enumerate()
        .filter(|(i, c)| **c as usize == *i)
        .count();
    stats.ms_cluster = t2.elapsed().as_millis() as u64;
    Ok(Resolution {
        model,
        cluster,
        links,
        review,
        stats,
    })
}

/// The weight at which the probability is `p`.
pub fn probability_to_weight(p: f64) -> f64 {
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    (p / (1.0 - p)).log2()
}

impl Resolution {
    /// Why `a` and `b` are (or are not) one entity.
    pub fn explain(&self, recs: &Records, a: Rec, b: Rec) -> Explanation {
        self.model.explain(recs, a, b)
    }

    /// The probability of a scored pair.
    pub fn probability(s: &Scored) -> f64 {
        probability(s.weight as f64)
    }
}

/// Pairwise precision, recall and F1 of a clustering against the truth (each record's true
/// entity, `None` for records the truth does not cover — they are left out).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct Accuracy {
    pub true_pairs: u64,
    pub predicted_pairs: u64,
    pub correct_pairs: u64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

pub fn accuracy<C: Copy + Eq + std::hash::Hash>(cluster: &[C], truth: &[Option<u64>]) -> Accuracy {
    let c2 = |n: u64| n * n.saturating_sub(1) / 2;
    let mut pred: HashMap<C, u64> = HashMap::new();
    let mut real: HashMap<u64, u64> = HashMap::new();
    let mut both: HashMap<(C, u64), u64> = HashMap::new();
    for (r, t) in truth.iter().enumerate() {
        let Some(t) = t else { continue };
        *pred.entry(cluster[r]).or_default() += 1;
        *real.entry(*t).or_default() += 1;
        *both.entry((cluster[r], *t)).or_default() += 1;
    }
    let predicted_pairs: u64 = pred.values().map(|n| c2(*n)).sum();
    let true_pairs: u64 = real.values().map(|n| c2(*n)).sum();
    let correct_pairs: u64 = both.values().map(|n| c2(*n)).sum();
    let precision = correct_pairs as f64 / predicted_pairs.max(1) as f64;
    let recall = correct_pairs as f64 / true_pairs.max(1) as f64;
    Accuracy {
        true_pairs,
        predicted_pairs,
        correct_pairs,
        precision,
        recall,
        f1: if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::Take;
    use crate::compare::Compare;
    use crate::ids;
    use crate::records::FieldSpec;

    fn people() -> Records {
        let mut r = Records::new(vec![
            FieldSpec::new("name", Compare::Name).tf(),
            FieldSpec::new("birth", Compare::Date),
            FieldSpec::new("address", Compare::Address),
        ]);
        let base = [
            ("王伟", "19800506", "东昌府区柳园路12号3号楼2单元502室"),
            ("李娜", "19910101", "冠县建设路8号1号楼1单元101室"),
            ("张强", "19751212", "临清市黄河路99号5号楼3单元301室"),
            ("刘洋", "20010203", "莘县花园路1号2号楼1单元201室"),
        ];
        // A registry with IDs, and a second source without them, names as clerks write them.
        for (i, (n, b, a)) in base.iter().enumerate() {
            let id = format!("ID{i}");
            r.push(
                "registry",
                &format!("r{i}"),
                Some(&id),
                &[Some(n), Some(b), Some(a)],
            );
        }
        // Many unrelated people so the model has non-matches to learn from.
        for i in 0..400 {
            let b = format!("19{:02}{:02}{:02}", 40 + i % 60, 1 + i % 12, 1 + i % 28);
            let n = format!(
                "{}{}",
                ["赵", "钱", "孙", "周"][i % 4],
                ["一", "二", "三", "四", "五", "六"][i % 6]
            );
            let a = format!("东阿县利民路{}号", i);
            r.push(
                "registry",
                &format!("x{i}"),
                Some(&format!("X{i}")),
                &[Some(&n), Some(&b), Some(&a)],
            );
        }
        r.push(
            "clinic",
            "c0",
            None,
            &[
                Some("王玮"),
                Some("1980-05-06"),
                Some("东昌府区柳园路１２号3号楼2单元502室"),
            ],
        );
        r.push(
            "clinic",
            "c1",
            None,
            &[Some("李娜"), Some("1991/1/1"), None],
        );
        r.push(
            "clinic",
            "c2",
            None,
            &[Some("张强"), Some("19751212"), Some("临清市黄河路99号")],
        );
        r
    }

    fn settings() -> Settings {
        Settings {
            rules: vec![
                Rule::new("birth", &[("birth", Take::Whole)]),
                Rule::new("name", &[("name", Take::Sound)]),
            ],
            ..Settings::default()
        }
    }

    #[test]
    fn records_without_ids_join_their_person_and_explain_why() {
        let recs = people();
        let r = resolve(&recs, &settings(), &Decisions::default(), None).unwrap();
        let reg = |k: &str| (0..recs.len() as Rec).find(|i| recs.key(*i) == k).unwrap();
        assert_eq!(
            r.cluster[reg("c0") as usize],
            r.cluster[reg("r0") as usize],
            "homophone name, full-width address"
        );
        assert_eq!(r.cluster[reg("c1") as usize], r.cluster[reg("r1") as usize]);
        assert_eq!(r.cluster[reg("c2") as usize], r.cluster[reg("r2") as usize]);
        assert_ne!(r.cluster[reg("r3") as usize], r.cluster[reg("r0") as usize]);
        let e = r.explain(&recs, reg("c0"), reg("r0"));
        assert_eq!(e.fields[0].level, "same sound or nearly");
        assert!(e.fields.iter().all(|f| f.weight >= 0.0), "{e:?}");
        assert!(e.probability > 0.5);
    }

    #[test]
    fn a_record_between_two_identifiers_never_joins_them() {
        let mut recs = people();
        // 王伟's twin in the registry: same name, birth date and building, another ID. A clinic
        // record scores high against both; only the stronger link is made.
        recs.push(
            "registry",
            "twin",
            Some("ID-TWIN"),
            &[
                Some("王伟"),
                Some("19800506"),
                Some("东昌府区柳园路12号3号楼2单元501室"),
            ],
        );
        let r = resolve(&recs, &settings(), &Decisions::default(), None).unwrap();
        let reg = |k: &str| (0..recs.len() as Rec).find(|i| recs.key(*i) == k).unwrap();
        assert_ne!(
            r.cluster[reg("r0") as usize],
            r.cluster[reg("twin") as usize]
        );
        assert_eq!(r.cluster[reg("c0") as usize], r.cluster[reg("r0") as usize]);
        assert!(r.stats.conflicts >= 1, "{:?}", r.stats);
    }

    #[test]
    fn decisions_are_respected() {
        let recs = people();
        let mut d = Decisions::default();
        d.reject.insert(
            PairRef {
                a: ("clinic".into(), "c0".into()),
                b: ("registry".into(), "r0".into()),
            }
            .ordered(),
        );
        d.accept.insert(PairRef {
            a: ("registry".into(), "r3".into()),
            b: ("clinic".into(), "c1".into()),
        });
        let r = resolve(&recs, &settings(), &d, None).unwrap();
        let reg = |k: &str| (0..recs.len() as Rec).find(|i| recs.key(*i) == k).unwrap();
        assert_ne!(
            r.cluster[reg("c0") as usize],
            r.cluster[reg("r0") as usize],
            "rejected"
        );
        assert_eq!(
            r.cluster[reg("c1") as usize],
            r.cluster[reg("r3") as usize],
            "accepted"
        );
    }

    #[test]
    fn ids_survive_reruns_and_changes_are_listed() {
        let recs = people();
        let s = settings();
        let r = resolve(&recs, &s, &Decisions::default(), None).unwrap();
        let (first, changes) = ids::assign(&recs, &r.cluster, &Default::default(), "P");
        assert!(changes.is_empty());
        let prev: std::collections::HashMap<(String, String), String> = (0..recs.len())
            .map(|i| {
                let r = i as Rec;
                (
                    (recs.source_name(r).to_owned(), recs.key(r).to_owned()),
                    first[i].clone(),
                )
            })
            .collect();
        // The same data again: no ID changes.
        let r2 = resolve(&recs, &s, &Decisions::default(), None).unwrap();
        let (second, changes) = ids::assign(&recs, &r2.cluster, &prev, "P");
        assert_eq!(first, second);
        assert!(changes.is_empty(), "{changes:?}");
        // A hand split: c0 stands alone. Only that record moves; 王伟 keeps the ID.
        let mut d = Decisions::default();
        d.alone.insert(("clinic".into(), "c0".into()));
        let r3 = resolve(&recs, &s, &d, None).unwrap();
        let (third, changes) = ids::assign(&recs, &r3.cluster, &prev, "P");
        let moved: Vec<usize> = (0..recs.len()).filter(|i| first[*i] != third[*i]).collect();
        assert_eq!(moved.len(), 1);
        assert_eq!(recs.key(moved[0] as Rec), "c0");
        assert_eq!(changes.split.len(), 1, "{changes:?}");
        // And a merge the other way: r3 and r2 declared one person.
        let mut d = Decisions::default();
        d.accept.insert(PairRef {
            a: ("registry".into(), "r3".into()),
            b: ("registry".into(), "r2".into()),
        });
        let r4 = resolve(&recs, &s, &d, None).unwrap();
        let (_, changes) = ids::assign(&recs, &r4.cluster, &prev, "P");
        assert_eq!(changes.merged.len(), 1, "{changes:?}");
    }

    #[test]
    fn pairwise_accuracy() {
        let a = accuracy(&[0u32, 0, 2, 2], &[Some(1), Some(1), Some(2), Some(3)]);
        assert_eq!(
            (a.true_pairs, a.predicted_pairs, a.correct_pairs),
            (1, 2, 1)
        );
        assert!((a.f1 - 2.0 / 3.0).abs() < 1e-9);
    }
}
