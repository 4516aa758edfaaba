//! Administrative division codes (GB/T 2260): six digits, `PPCCDD` — province, prefecture, county.
//!
//! The code itself only tells its level and its parents; whether a code exists in a given year is a
//! fact of the versioned divisions table in the store, not of this type.

use crate::error::{Error, Result};
use std::fmt;

/// Province-level prefixes of GB/T 2260 (plus 71 Taiwan, 81 Hong Kong, 82 Macao, 83 for residence
/// permits of their residents).
const PROVINCES: &[u8] = &[
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
];

pub(crate) fn is_province_prefix(two: &[u8]) -> bool {
    two.len() == 2
        && two.iter().all(u8::is_ascii_digit)
        && PROVINCES.contains(&((two[0] - b'0') * 10 + (two[1] - b'0')))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DivisionCode([u8; 6]);

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DivisionLevel {
    Province,
    Prefecture,
    County,
}

impl DivisionCode {
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        let b = s.as_bytes();
        if b.len() != 6 || !b.iter().all(u8::is_ascii_digit) {
            return Err(Error::invalid(
                "division_code",
                "must be 6 digits (GB/T 2260)",
            ));
        }
        if !is_province_prefix(&b[..2]) {
            return Err(Error::invalid(
                "division_code",
                "the first two digits are not a province code of GB/T 2260",
            ));
        }
        if &b[2..4] == b"00" && &b[4..6] != b"00" {
            return Err(Error::invalid(
                "division_code",
                "a county code needs a prefecture part (digits 3-4 cannot be 00)",
            ));
        }
        let mut a = [0u8; 6];
        a.copy_from_slice(b);
        Ok(DivisionCode(a))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("000000")
    }

    pub fn level(&self) -> DivisionLevel {
        if &self.0[2..] == b"0000" {
            DivisionLevel::Province
        } else if &self.0[4..] == b"00" {
            DivisionLevel::Prefecture
        } else {
            DivisionLevel::County
        }
    }

    /// The code of the division one level up, if any.
    pub fn parent(&self) -> Option<DivisionCode> {
        let mut a = self.0;
        match self.level() {
            DivisionLevel::Province => None,
            DivisionLevel::Prefecture => {
                a[2] = b'0';
                a[3] = b'0';
                Some(DivisionCode(a))
            }
            DivisionLevel::County => {
                a[4] = b'0';
                a[5] = b'0';
                Some(DivisionCode(a))
            }
        }
    }

    /// True when `self` is `other` or lies inside it.
    pub fn is_within(&self, other: &DivisionCode) -> bool {
        match other.level() {
            DivisionLevel::Province => self.0[..2] == other.0[..2],
            DivisionLevel::Prefecture => self.0[..4] == other.0[..4],
            DivisionLevel::County => self.0 == other.0,
        }
    }
}

impl fmt::Display for DivisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for DivisionCode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl serde::Serialize for DivisionCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for DivisionCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        DivisionCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_parents() {
        let c = DivisionCode::parse("371502").unwrap();
        assert_eq!(c.level(), DivisionLevel::County);
        let p = c.parent().unwrap();
        assert_eq!(p.as_str(), "371500");
        assert_eq!(p.level(), DivisionLevel::Prefecture);
        assert_eq!(p.parent().unwrap().as_str(), "370000");
        assert!(c.is_within(&p));
        assert!(!DivisionCode::parse("371600").unwrap().is_within(&p));
    }

    #[test]
    fn rejects() {
        for bad in ["37150", "3715021", "99150x", "991500", "370012", "37 502"] {
            assert!(DivisionCode::parse(bad).is_err(), "{bad}");
        }
    }
}
