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
pub struct Stats {
    pub records: usize,
    pub comparisons: u64,
    pub deterministic_links: u64,
    pub probabilistic_links: u64,
    pub review: usize,
    pub clusters: usize,
    /// Records in blocks too large for their rule.
    pub oversized_block_records: usize,
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
        dsu.union(s.a, s.b);
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
