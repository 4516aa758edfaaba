//! Blocking: which pairs are compared at all. Each rule puts records with equal keys in one
//! block; a pair is compared once, under the first rule that blocks it. Rules are unioned, so a
//! pair that one rule misses (a typo in the birth date) another catches (same name and road).
//! Blocks larger than a bound are left out of that rule — memory stays bounded, and the other
//! rules keep recall.

use crate::records::{Rec, Records};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::Hasher;
use twox_hash::XxHash3_64;

/// What a rule takes of a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Take {
    /// The normalised value.
    Whole,
    /// Its first n characters.
    Prefix(usize),
    /// Its comparison aid (a hanzi name's pinyin), else the value.
    Sound,
    /// The value's characters sorted: a key that survives two characters swapped.
    Sorted,
    /// Characters `from..to` of the value (a citizen ID's division and birth month): a typo
    /// elsewhere leaves the key whole.
    Range(usize, usize),
    /// A `YYYYMMDD` date as its year and its month and day in order of size: a key that survives
    /// day and month swapped.
    DaySorted,
    /// An address's road and door number, without the division or the dwelling (which short
    /// forms leave out).
    Door,
}

/// A blocking rule: records whose parts all agree share a block.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Rule {
    pub name: String,
    pub parts: Vec<(String, Take)>,
}

impl Rule {
    pub fn new(name: &str, parts: &[(&str, Take)]) -> Rule {
        Rule {
            name: name.into(),
            parts: parts.iter().map(|(f, t)| ((*f).into(), *t)).collect(),
        }
    }
}

/// Rules resolved to field indices, with every record's key under each.
pub struct Blocking {
    pub rules: Vec<Rule>,
    /// The fields each rule uses (their comparisons say nothing new within its blocks).
    pub fields: Vec<Vec<usize>>,
    pub max_block: usize,
    keys: Vec<Vec<u64>>,
}

fn part(recs: &Records, r: Rec, f: usize, take: Take, h: &mut XxHash3_64) -> bool {
    let Some(v) = recs.value(r, f) else {
        return false;
    };
    match take {
        Take::Whole => h.write(v.as_bytes()),
        Take::Prefix(n) => {
            let end = v.char_indices().nth(n).map_or(v.len(), |(i, _)| i);
            h.write(&v.as_bytes()[..end]);
        }
        Take::Sound => h.write(recs.aid(r, f).unwrap_or(v).as_bytes()),
        Take::Range(from, to) => {
            let at = |n: usize| v.char_indices().nth(n).map_or(v.len(), |(i, _)| i);
            let (a, b) = (at(from), at(to));
            if a >= b {
                return false;
            }
            h.write(&v.as_bytes()[a..b]);
        }
        Take::DaySorted => {
            let (Some(y), Some(m), Some(d)) = (v.get(..4), v.get(4..6), v.get(6..8)) else {
                return false;
            };
            h.write(y.as_bytes());
            h.write(m.min(d).as_bytes());
            h.write(m.max(d).as_bytes());
        }
        Take::Door => {
            let mut p = v.split('|').skip(1);
            let (Some(road), Some(number)) = (p.next(), p.next()) else {
                return false;
            };
            if road.is_empty() || number.is_empty() {
                return false;
            }
            h.write(road.as_bytes());
            h.write_u8(b'|');
            h.write(number.as_bytes());
        }
        Take::Sorted => {
            let mut c: Vec<char> = v.chars().collect();
            c.sort_unstable();
            h.write(c.into_iter().collect::<String>().as_bytes());
        }
    }
    h.write_u8(0x1f);
    true
}

/// A record's key under a rule's parts (given as field indices); `None` when a part is missing.
pub fn key_of(recs: &Records, r: Rec, parts: &[(usize, Take)]) -> Option<u64> {
    let mut h = XxHash3_64::with_seed(0);
    for (f, t) in parts {
        if !part(recs, r, *f, *t, &mut h) {
            return None;
        }
    }
    Some(h.finish())
}

impl Blocking {
    pub fn new(recs: &Records, rules: &[Rule], max_block: usize) -> shuju_types::Result<Blocking> {
        let mut fields = Vec::new();
        let mut resolved = Vec::new();
        for rule in rules {
            let mut parts = Vec::new();
            for (name, t) in &rule.parts {
                let f = recs.field(name).ok_or_else(|| {
                    shuju_types::Error::invalid(
                        "rules",
                        format!("rule {} names unknown field {name}", rule.name),
                    )
                })?;
                parts.push((f, *t));
            }
            fields.push(parts.iter().map(|p| p.0).collect());
            resolved.push(parts);
        }
        let keys = resolved
            .iter()
            .map(|parts| {
                // 0 stands for "no key": half the memory of an Option.
                (0..recs.len() as Rec)
                    .map(|r| key_of(recs, r, parts).map_or(0, |k| k.max(1)))
                    .collect()
            })
            .collect();
        Ok(Blocking {
            rules: rules.to_vec(),
            fields,
            max_block,
            keys,
        })
    }

    pub fn key(&self, rule: usize, r: Rec) -> Option<u64> {
        Some(self.keys[rule][r as usize]).filter(|k| *k != 0)
    }

    /// Whether an earlier rule than `rule` already blocks the pair.
    pub fn seen_before(&self, rule: usize, a: Rec, b: Rec) -> bool {
        (0..rule).any(|q| {
            let k = self.keys[q][a as usize];
            k != 0 && k == self.keys[q][b as usize]
        })
    }

    /// The blocks of one rule (two records or more, at most `max_block`), and how many records
    /// sat in blocks left out for size.
    pub fn blocks(&self, rule: usize) -> (Vec<Vec<Rec>>, usize) {
        let mut map: HashMap<u64, Vec<Rec>> = HashMap::new();
        for (r, k) in self.keys[rule].iter().enumerate() {
            if *k != 0 {
                map.entry(*k).or_default().push(r as Rec);
            }
        }
        let mut skipped = 0;
        let blocks = map
            .into_values()
            .filter(|b| {
                if b.len() > self.max_block {
                    skipped += b.len();
                }
                b.len() >= 2 && b.len() <= self.max_block
            })
            .collect();
        (blocks, skipped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::Compare;
    use crate::records::FieldSpec;

    fn key(field: Compare, take: Take, v: &str) -> Option<u64> {
        let mut recs = Records::new(vec![FieldSpec::new("f", field)]);
        let r = recs.push("s", "k", None, &[Some(v)]);
        key_of(&recs, r, &[(0, take)])
    }

    #[test]
    fn keys_that_survive_what_clerks_mistype() {
        let swapped = (
            key(Compare::Date, Take::DaySorted, "1980-05-06"),
            key(Compare::Date, Take::DaySorted, "19800605"),
        );
        assert_eq!(swapped.0, swapped.1, "day and month swapped");
        let id = |v| key(Compare::CitizenId, Take::Range(0, 12), v);
        assert_eq!(id("11010519491231002X"), id("110105194912310021"));
        assert_ne!(id("11010519491231002X"), id("110105194911310021"));
        let door = |v| key(Compare::Address, Take::Door, v);
        assert_eq!(
            door("聊城市东昌府区古楼街道柳园路12号3号楼2单元502室"),
            door("柳园路12号")
        );
        assert_eq!(door("聊城市东昌府区"), None, "no road, no key");
    }
}
