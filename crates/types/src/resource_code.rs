//! Government information resource codes (政务信息资源代码, 2017 编制指南 within GB/T 21063):
//! `前段码/后段码`. The front part is the classification code — 类 (1 digit: 1 基础, 2 主题, 3 部门),
//! 项 (2 digits), 目 (3 digits), 细目 (variable) — and the back part the resource's sequence number.
//!
//! The lengths of 细目 and of the sequence number differ between provinces, so they come from a
//! [`CodingProfile`] (configuration), not from this type.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;

/// How a province writes resource codes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CodingProfile {
    /// Shortest 细目 part (0: the 细目 level may be absent).
    pub detail_min: usize,
    /// Longest 细目 part.
    pub detail_max: usize,
    /// Length of the sequence number (后段码).
    pub sequence_len: usize,
}

impl Default for CodingProfile {
    /// Shandong's practice: 细目 of up to 3 digits, six-digit sequence numbers.
    fn default() -> Self {
        CodingProfile {
            detail_min: 0,
            detail_max: 3,
            sequence_len: 6,
        }
    }
}

/// The resource attribute (资源属性), the first level (类) of the classification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceAttribute {
    /// 基础信息资源 (1)
    Base,
    /// 主题信息资源 (2)
    Theme,
    /// 部门信息资源 (3)
    Department,
}

impl ResourceAttribute {
    pub fn digit(self) -> char {
        match self {
            ResourceAttribute::Base => '1',
            ResourceAttribute::Theme => '2',
            ResourceAttribute::Department => '3',
        }
    }

    pub fn from_digit(c: char) -> Option<Self> {
        match c {
            '1' => Some(ResourceAttribute::Base),
            '2' => Some(ResourceAttribute::Theme),
            '3' => Some(ResourceAttribute::Department),
            _ => None,
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            ResourceAttribute::Base => "基础",
            ResourceAttribute::Theme => "主题",
            ResourceAttribute::Department => "部门",
        }
    }
}

/// A resource code valid under some coding profile.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceCode {
    front: String,
    sequence: String,
}

impl ResourceCode {
    pub fn parse(s: &str, p: &CodingProfile) -> Result<Self> {
        const F: &str = "code";
        let s = s.trim();
        let (front, sequence) = s
            .split_once('/')
            .ok_or_else(|| Error::invalid(F, "must be 前段码/后段码, e.g. 101001/000001"))?;
        if !front.chars().all(|c| c.is_ascii_digit())
            || !sequence.chars().all(|c| c.is_ascii_digit())
        {
            return Err(Error::invalid(F, "both parts must be digits"));
        }
        let min = 6 + p.detail_min;
        let max = 6 + p.detail_max;
        if front.len() < min || front.len() > max {
            return Err(Error::invalid(
                F,
                format!(
                    "the classification part must have {min} to {max} digits (类 1, 项 2, 目 3, 细目 {} to {})",
                    p.detail_min, p.detail_max
                ),
            ));
        }
        if ResourceAttribute::from_digit(front.chars().next().unwrap_or('0')).is_none() {
            return Err(Error::invalid(
                F,
                "the first digit (类) must be 1 (基础), 2 (主题) or 3 (部门)",
            ));
        }
        if sequence.len() != p.sequence_len {
            return Err(Error::invalid(
                F,
                format!("the sequence number must have {} digits", p.sequence_len),
            ));
        }
        if sequence.chars().all(|c| c == '0') {
            return Err(Error::invalid(F, "the sequence number cannot be zero"));
        }
        Ok(ResourceCode {
            front: front.to_owned(),
            sequence: sequence.to_owned(),
        })
    }

    /// Build a code from its parts under a profile.
    pub fn from_parts(front: &str, sequence: u64, p: &CodingProfile) -> Result<Self> {
        Self::parse(
            &format!("{front}/{sequence:0width$}", width = p.sequence_len),
            p,
        )
    }

    pub fn front(&self) -> &str {
        &self.front
    }

    pub fn sequence(&self) -> &str {
        &self.sequence
    }

    pub fn attribute(&self) -> ResourceAttribute {
        ResourceAttribute::from_digit(self.front.chars().next().unwrap_or('3'))
            .unwrap_or(ResourceAttribute::Department)
    }

    /// 类, 项, 目 and (if any) 细目.
    pub fn levels(&self) -> Vec<&str> {
        let f = &self.front;
        let mut v = vec![&f[..1], &f[1..3], &f[3..6]];
        if f.len() > 6 {
            v.push(&f[6..]);
        }
        v
    }
}

impl fmt::Display for ResourceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.front, self.sequence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_refuses() {
        let p = CodingProfile::default();
        let c = ResourceCode::parse("101001/000123", &p).unwrap();
        assert_eq!(c.attribute(), ResourceAttribute::Base);
        assert_eq!(c.levels(), vec!["1", "01", "001"]);
        assert_eq!(c.to_string(), "101001/000123");
        let c = ResourceCode::parse("305001002/000001", &p).unwrap();
        assert_eq!(c.levels(), vec!["3", "05", "001", "002"]);
        for bad in [
            "101001000123",
            "401001/000001",
            "10100/000001",
            "1010010001/000001",
            "101001/00001",
            "101001/000000",
            "10a001/000001",
        ] {
            let e = ResourceCode::parse(bad, &p).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("code"), "{bad}");
        }
        let long = CodingProfile {
            detail_min: 2,
            detail_max: 6,
            sequence_len: 4,
        };
        assert!(ResourceCode::parse("20300112/0001", &long).is_ok());
        assert!(ResourceCode::parse("203001/0001", &long).is_err());
    }

    proptest! {
        #[test]
        fn generated_codes_round_trip(cat in 1u8..=3, item in 0u32..100, target in 0u32..1000, seq in 1u64..1_000_000) {
            let p = CodingProfile::default();
            let front = format!("{cat}{item:02}{target:03}");
            let c = ResourceCode::from_parts(&front, seq, &p).unwrap();
            prop_assert_eq!(ResourceCode::parse(&c.to_string(), &p).unwrap(), c);
        }

        #[test]
        fn never_panics(s in "\\PC{0,30}") {
            let _ = ResourceCode::parse(&s, &CodingProfile::default());
        }
    }
}
