//! Records to resolve: each from a source, under its key there, with its fields normalised once
//! for comparison, and (when it carries one) a validated identifier — a citizen ID or a USCC — that
//! links it deterministically.

use crate::compare::Compare;
use serde::{Deserialize, Serialize};

/// One field records are compared on.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FieldSpec {
    pub name: String,
    pub compare: Compare,
    /// Adjust the weight of an exact agreement by how common the value is (王伟 agreeing says
    /// less than 欧阳修远 agreeing).
    #[serde(default)]
    pub tf: bool,
}

impl FieldSpec {
    pub fn new(name: &str, compare: Compare) -> FieldSpec {
        FieldSpec {
            name: name.into(),
            compare,
            tf: false,
        }
    }

    pub fn tf(mut self) -> FieldSpec {
        self.tf = true;
        self
    }
}

/// A set of records with their normalised fields, stored field-major per record.
#[derive(Default)]
pub struct Records {
    pub fields: Vec<FieldSpec>,
    sources: Vec<String>,
    source: Vec<u16>,
    keys: Vec<Box<str>>,
    ids: Vec<Option<Box<str>>>,
    values: Vec<Option<Box<str>>>,
    aids: Vec<Option<Box<str>>>,
}

/// A record's place in a [`Records`].
pub type Rec = u32;

impl Records {
    pub fn new(fields: Vec<FieldSpec>) -> Records {
        Records {
            fields,
            ..Default::default()
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Add a record. `raw` holds one value per field (missing as `None`); `id` a validated
    /// identifier, if the record carries one.
    pub fn push(&mut self, source: &str, key: &str, id: Option<&str>, raw: &[Option<&str>]) -> Rec {
        let s = match self.sources.iter().position(|s| s == source) {
            Some(i) => i,
            None => {
                self.sources.push(source.to_owned());
                self.sources.len() - 1
            }
        };
        let n = self.keys.len() as Rec;
        self.source.push(s as u16);
        self.keys.push(key.into());
        self.ids.push(id.filter(|s| !s.is_empty()).map(Into::into));
        for (f, spec) in self.fields.iter().enumerate() {
            let v = raw
                .get(f)
                .copied()
                .flatten()
                .and_then(|r| spec.compare.normalise(r));
            match v {
                Some((v, aid)) => {
                    self.values.push(Some(v));
                    self.aids.push(aid);
                }
                None => {
                    self.values.push(None);
                    self.aids.push(None);
                }
            }
        }
        n
    }

    pub fn source(&self, r: Rec) -> u16 {
        self.source[r as usize]
    }

    pub fn source_name(&self, r: Rec) -> &str {
        &self.sources[self.source(r) as usize]
    }

    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    pub fn key(&self, r: Rec) -> &str {
        &self.keys[r as usize]
    }

    pub fn id(&self, r: Rec) -> Option<&str> {
        self.ids[r as usize].as_deref()
    }

    /// The normalised value of field `f`.
    pub fn value(&self, r: Rec, f: usize) -> Option<&str> {
        self.values[r as usize * self.fields.len() + f].as_deref()
    }

    /// The comparison aid of field `f` (a hanzi name's pinyin).
    pub fn aid(&self, r: Rec, f: usize) -> Option<&str> {
        self.aids[r as usize * self.fields.len() + f].as_deref()
    }

    /// The level at which two records agree on field `f` (0: missing on one side).
    pub fn level(&self, a: Rec, b: Rec, f: usize) -> u8 {
        match (self.value(a, f), self.value(b, f)) {
            (Some(x), Some(y)) => {
                self.fields[f]
                    .compare
                    .level(x, y, self.aid(a, f), self.aid(b, f))
            }
            _ => 0,
        }
    }

    /// Field index by name.
    pub fn field(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }
}
