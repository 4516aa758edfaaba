//! The Fellegi–Sunter model: for each field and level, m (how often a true match agrees at that
//! level) and u (how often two different people do). u is estimated from randomly sampled pairs;
//! m by expectation–maximisation over the pairs each blocking rule brings, the rule's own fields
//! left out (within a rule's blocks they agree by construction); exact agreement on a value is
//! adjusted by how common the value is. A pair's match weight is the sum of log₂(m/u) over its
//! fields plus the prior; its probability follows from the weight.

use crate::block::Blocking;
use crate::records::{Rec, Records};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The trained model.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Model {
    /// Prior probability that two records drawn at random are the same entity.
    pub lambda: f64,
    /// m[field][level].
    pub m: Vec<Vec<f64>>,
    /// u[field][level].
    pub u: Vec<Vec<f64>>,
    /// How often each value occurs, for fields with term-frequency adjustment.
    #[serde(skip)]
    pub tf: Vec<Option<HashMap<Box<str>, f64>>>,
    /// EM iterations run per rule.
    pub iterations: Vec<usize>,
}

/// One field's part in a pair's weight.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldWeight {
    pub field: String,
    pub level: String,
    pub weight: f64,
    /// The term-frequency adjustment included in `weight`.
    pub tf_adjustment: f64,
}

/// Why two records are (or are not) taken for one entity.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Explanation {
    pub prior: f64,
    pub fields: Vec<FieldWeight>,
    pub weight: f64,
    pub probability: f64,
}

const MAX_LEVELS: usize = 5;
const FLOOR: f64 = 1e-6;

fn pattern(recs: &Records, a: Rec, b: Rec) -> u64 {
    let mut p = 0u64;
    for f in 0..recs.fields.len() {
        p |= (recs.level(a, b, f) as u64) << (4 * f);
    }
    p
}

fn level_of(p: u64, f: usize) -> usize {
    ((p >> (4 * f)) & 0xf) as usize
}

fn default_m(levels: usize) -> Vec<f64> {
    // Exact agreement likely for a match, each weaker level less so.
    let mut m = vec![0.0; levels];
    let mut left = 1.0;
    for (l, v) in m.iter_mut().enumerate().skip(1) {
        let share = if l + 1 == levels { left } else { left * 0.8 };
        *v = share;
        left -= share;
    }
    m
}

impl Model {
    /// Train on `recs` with the given blocking. `link_only`: pairs from one source never match.
    pub fn train(recs: &Records, blocking: &Blocking, link_only: bool, seed: u64) -> Model {
        let nf = recs.fields.len();
        assert!(nf <= 16, "at most 16 fields");
        let levels: Vec<usize> = recs.fields.iter().map(|f| f.compare.levels()).collect();

        // u from random pairs.
        let n = recs.len();
        let mut rng = StdRng::seed_from_u64(seed);
        let samples = 1_000_000.min(n.saturating_mul(n.saturating_sub(1)) / 2);
        let mut pairs = Vec::with_capacity(samples);
        let mut tries = 0;
        while pairs.len() < samples && tries < samples * 20 && n >= 2 {
            tries += 1;
            let (a, b) = (rng.gen_range(0..n) as Rec, rng.gen_range(0..n) as Rec);
            if a == b || (link_only && recs.source(a) == recs.source(b)) {
                continue;
            }
            pairs.push((a, b));
        }
        let counts = count_patterns(recs, &pairs);
        let mut u: Vec<Vec<f64>> = levels.iter().map(|l| vec![0.0; *l]).collect();
        for (f, uf) in u.iter_mut().enumerate() {
            let mut c = vec![0u64; levels[f]];
            for (p, k) in &counts {
                c[level_of(*p, f)] += k;
            }
            let seen: u64 = c[1..].iter().sum();
            for l in 1..levels[f] {
                // Add-one smoothing: a level never seen among random pairs is rare, not impossible.
                uf[l] = ((c[l] as f64 + 1.0) / (seen as f64 + levels[f] as f64)).max(FLOOR);
            }
        }

        let tf = term_frequencies(recs);

        // m by EM, rule by rule, the rule's own fields left out.
        let mut m_sum: Vec<Vec<f64>> = levels.iter().map(|l| vec![0.0; *l]).collect();
        let mut m_n = vec![0usize; nf];
        let mut matches_best = 0.0f64;
        let mut iterations = Vec::new();
        for rule in 0..blocking.rules.len() {
            let (blocks, _) = blocking.blocks(rule);
            // Sample pairs from the rule's blocks without listing them all: a block is drawn by
            // its share of the pairs, then a pair inside it.
            let mut cum = Vec::with_capacity(blocks.len());
            let mut total_pairs = 0u64;
            for b in &blocks {
                let k = b.len() as u64;
                total_pairs += k * (k - 1) / 2;
                cum.push(total_pairs);
            }
            if total_pairs == 0 {
                continue;
            }
            let cap = 400_000u64;
            let mut pairs = Vec::new();
            if total_pairs <= cap {
                for b in &blocks {
                    for (i, &x) in b.iter().enumerate() {
                        for &y in &b[i + 1..] {
                            pairs.push((x, y));
                        }
                    }
                }
            } else {
                for _ in 0..cap {
                    let t = rng.gen_range(0..total_pairs);
                    let bi = cum.partition_point(|c| *c <= t);
                    let b = &blocks[bi];
                    let i = rng.gen_range(0..b.len());
                    let mut j = rng.gen_range(0..b.len() - 1);
                    if j >= i {
                        j += 1;
                    }
                    pairs.push((b[i], b[j]));
                }
            }
            let sampled = pairs.len();
            if link_only {
                pairs.retain(|(x, y)| recs.source(*x) != recs.source(*y));
            }
            if pairs.is_empty() {
                continue;
            }
            // Pairs within one source never match: count only the rule's cross-source share.
            let total_pairs = total_pairs as f64 * pairs.len() as f64 / sampled as f64;
            let counts = count_patterns(recs, &pairs);
            let used = &blocking.fields[rule];
            let free: Vec<usize> = (0..nf).filter(|f| !used.contains(f)).collect();
            let mut m: Vec<Vec<f64>> = levels.iter().map(|l| default_m(*l)).collect();
            let mut lambda = 0.3;
            let mut it = 0;
            for _ in 0..100 {
                it += 1;
                let mut num: Vec<Vec<f64>> = levels.iter().map(|l| vec![0.0; *l]).collect();
                let (mut wsum, mut csum) = (0.0, 0.0);
                for (p, c) in &counts {
                    let (mut pm, mut pu) = (lambda, 1.0 - lambda);
                    for &f in &free {
                        let l = level_of(*p, f);
                        if l > 0 {
                            pm *= m[f][l];
                            pu *= u[f][l];
                        }
                    }
                    let w = pm / (pm + pu);
                    let c = *c as f64;
                    wsum += w * c;
                    csum += c;
                    for &f in &free {
                        num[f][level_of(*p, f)] += w * c;
                    }
                }
                let mut delta = (wsum / csum - lambda).abs();
                lambda = (wsum / csum).clamp(1e-9, 1.0 - 1e-9);
                for &f in &free {
                    let seen: f64 = num[f][1..].iter().sum();
                    if seen <= 0.0 {
                        continue;
                    }
                    for l in 1..levels[f] {
                        let v = (num[f][l] / seen).max(FLOOR);
                        delta = delta.max((v - m[f][l]).abs());
                        m[f][l] = v;
                    }
                }
                if delta < 1e-6 {
                    break;
                }
            }
            iterations.push(it);
            for &f in &free {
                for l in 1..levels[f] {
                    m_sum[f][l] += m[f][l];
                }
                m_n[f] += 1;
            }
            matches_best = matches_best.max(lambda * total_pairs);
        }
        let m = m_sum
            .into_iter()
            .enumerate()
            .map(|(f, s)| {
                if m_n[f] == 0 {
                    default_m(levels[f])
                } else {
                    s.into_iter()
                        .map(|v| (v / m_n[f] as f64).max(FLOOR))
                        .collect()
                }
            })
            .collect();
        let all_pairs = if link_only {
            let mut per = HashMap::<u16, f64>::new();
            for r in 0..n as Rec {
                *per.entry(recs.source(r)).or_default() += 1.0;
            }
            let total: f64 = per.values().sum();
            per.values().map(|k| k * (total - k)).sum::<f64>() / 2.0
        } else {
            n as f64 * (n as f64 - 1.0) / 2.0
        };
        let lambda = (matches_best.max(1.0) / all_pairs.max(1.0)).clamp(1e-12, 0.5);
        Model {
            lambda,
            m,
            u,
            tf,
            iterations,
        }
    }

    /// Recompute term frequencies for a new set of records (a model read back from JSON).
    pub fn with_tf(mut self, recs: &Records) -> Model {
        self.tf = term_frequencies(recs);
        self
    }

    fn prior(&self) -> f64 {
        (self.lambda / (1.0 - self.lambda)).log2()
    }

    fn field_weight(&self, recs: &Records, a: Rec, b: Rec, f: usize, l: usize) -> (f64, f64) {
        if l == 0 {
            return (0.0, 0.0);
        }
        let w = (self.m[f][l] / self.u[f][l]).log2();
        let mut adj = 0.0;
        if l == 1
            && let Some(Some(tf)) = self.tf.get(f)
            && let Some(v) = recs.value(a, f)
            && let Some(freq) = tf.get(v)
        {
            // Splink's adjustment: the value's own frequency in place of the average u.
            let other = recs.value(b, f).and_then(|v| tf.get(v)).unwrap_or(freq);
            adj = (self.u[f][1] / freq.max(*other).max(FLOOR))
                .log2()
                .clamp(-10.0, 10.0);
        }
        (w + adj, adj)
    }

    /// The match weight of a pair (log₂ of the odds).
    pub fn weight(&self, recs: &Records, a: Rec, b: Rec) -> f64 {
        let mut w = self.prior();
        for f in 0..recs.fields.len() {
            w += self
                .field_weight(recs, a, b, f, recs.level(a, b, f) as usize)
                .0;
        }
        w
    }

    /// The weight of a pair, field by field.
    pub fn explain(&self, recs: &Records, a: Rec, b: Rec) -> Explanation {
        self.explain_across(recs, a, recs, b)
    }

    /// The weight of a record from another set (a query) against one of `recs`.
    pub fn explain_across(&self, q: &Records, a: Rec, recs: &Records, b: Rec) -> Explanation {
        let prior = self.prior();
        let mut fields = Vec::new();
        let mut w = prior;
        for (f, spec) in recs.fields.iter().enumerate() {
            let l = match (q.value(a, f), recs.value(b, f)) {
                (Some(x), Some(y)) => spec.compare.level(x, y, q.aid(a, f), recs.aid(b, f)),
                _ => 0,
            } as usize;
            let (fw, adj) = if l == 0 {
                (0.0, 0.0)
            } else {
                // Term frequency from the stored record's value (equal at level 1).
                self.field_weight(recs, b, b, f, l)
            };
            w += fw;
            fields.push(FieldWeight {
                field: spec.name.clone(),
                level: spec.compare.level_names()[l].into(),
                weight: round(fw),
                tf_adjustment: round(adj),
            });
        }
        Explanation {
            prior: round(prior),
            fields,
            weight: round(w),
            probability: probability(w),
        }
    }

    /// m and u by field and level, for display.
    pub fn table(&self, recs: &Records) -> Vec<(String, String, f64, f64)> {
        let mut out = Vec::new();
        for (f, spec) in recs.fields.iter().enumerate() {
            for l in 1..spec.compare.levels().min(MAX_LEVELS) {
                out.push((
                    spec.name.clone(),
                    spec.compare.level_names()[l].to_owned(),
                    self.m[f][l],
                    self.u[f][l],
                ));
            }
        }
        out
    }
}

/// How often each value occurs, for the fields with term-frequency adjustment.
fn term_frequencies(recs: &Records) -> Vec<Option<HashMap<Box<str>, f64>>> {
    recs.fields
        .iter()
        .enumerate()
        .map(|(f, spec)| {
            spec.tf.then(|| {
                let mut m: HashMap<Box<str>, f64> = HashMap::new();
                let mut total = 0.0;
                for r in 0..recs.len() as Rec {
                    if let Some(v) = recs.value(r, f) {
                        *m.entry(v.into()).or_default() += 1.0;
                        total += 1.0;
                    }
                }
                m.values_mut().for_each(|v| *v /= total);
                m
            })
        })
        .collect()
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Probability from a match weight.
pub fn probability(w: f64) -> f64 {
    1.0 / (1.0 + (-w).exp2())
}

fn count_patterns(recs: &Records, pairs: &[(Rec, Rec)]) -> HashMap<u64, u64> {
    pairs
        .par_chunks(8192)
        .map(|chunk| {
            let mut m: HashMap<u64, u64> = HashMap::new();
            for &(a, b) in chunk {
                *m.entry(pattern(recs, a, b)).or_default() += 1;
            }
            m
        })
        .reduce(HashMap::new, |mut a, b| {
            for (k, v) in b {
                *a.entry(k).or_default() += v;
            }
            a
        })
}
