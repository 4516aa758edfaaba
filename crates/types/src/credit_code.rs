//! Unified social credit codes (GB 32100-2015): 18 characters from `0-9A-Y` without I, O, S, V, Z —
//! registration authority (1), organisation type (1), division (6), organisation code (9), check (1).
//! The check character is `(31 − Σ cᵢ·wᵢ mod 31) mod 31` with `wᵢ = 3ⁱ mod 31`.

use crate::error::{Error, Result};
use std::fmt;

pub const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CreditCode([u8; 18]);

impl CreditCode {
    /// The check character for the first 17 characters, or `None` when one is outside the alphabet.
    pub fn check_char(first17: &[u8]) -> Option<u8> {
        if first17.len() != 17 {
            return None;
        }
        let mut sum = 0u32;
        for (c, w) in first17.iter().zip(WEIGHTS) {
            sum += value(*c)? * w;
        }
        Some(ALPHABET[((31 - sum % 31) % 31) as usize])
    }

    /// Parse a code; lower case is accepted and normalised to upper case.
    pub fn parse(s: &str) -> Result<Self> {
        const F: &str = "uscc";
        let up = s.trim().to_ascii_uppercase();
        let b = up.as_bytes();
        if b.len() != 18 {
            return Err(Error::invalid(F, "must be 18 characters (GB 32100)"));
        }
        if let Some(bad) = b.iter().find(|c| value(**c).is_none()) {
            return Err(Error::invalid(
                F,
                format!(
                    "character '{}' is not allowed (0-9, A-Y without I, O, S, V, Z)",
                    *bad as char
                ),
            ));
        }
        if !b[2..8].iter().all(u8::is_ascii_digit) {
            return Err(Error::invalid(F, "characters 3-8 must be a division code"));
        }
        let expected = Self::check_char(&b[..17]).unwrap_or(b'?');
        if expected != b[17] {
            return Err(Error::invalid(
                F,
                "the check character does not match (GB 32100)",
            ));
        }
        let mut a = [0u8; 18];
        a.copy_from_slice(b);
        Ok(CreditCode(a))
    }

    /// Build a valid code from the first 17 characters (for the synthetic city and tests).
    pub fn complete(first17: &str) -> Result<Self> {
        let c = Self::check_char(first17.as_bytes())
            .ok_or_else(|| Error::invalid("uscc", "bad first 17 characters"))?;
        Self::parse(&format!("{first17}{}", c as char))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    pub fn division(&self) -> &str {
        &self.as_str()[2..8]
    }

    /// The organisation code (组织机构代码, GB 11714) inside it, characters 9–17.
    pub fn organization_code(&self) -> &str {
        &self.as_str()[8..17]
    }

    /// Registration authority: 1 organ establishment, 5 civil affairs, 9 market regulation, …
    pub fn authority(&self) -> char {
        self.0[0] as char
    }
}

impl fmt::Debug for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CreditCode({})", self.as_str())
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for CreditCode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl serde::Serialize for CreditCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_examples() {
        // Published codes of real organisations.
        // The standard's example and codes published by well-known companies.
        for ok in [
            "91350100M000100Y43",
            "91330100799655058B",
            "914403001922038216",
            "9144030071526726XG",
        ] {
            assert!(CreditCode::parse(ok).is_ok(), "{ok}");
        }
        assert!(CreditCode::parse("91350100M000100Y44").is_err());
        assert!(CreditCode::parse("91350100M000100I43").is_err());
        assert_eq!(
            CreditCode::parse("91350100m000100y43").unwrap().as_str(),
            "91350100M000100Y43"
        );
    }

    fn arb_code() -> impl Strategy<Value = CreditCode> {
        (
            prop::sample::select(b"159Y".to_vec()),
            prop::sample::select(b"123".to_vec()),
            prop::sample::select(vec!["371500", "371502", "371581", "110108"]),
            prop::collection::vec(prop::sample::select(ALPHABET.to_vec()), 9),
        )
            .prop_map(|(a, t, d, org)| {
                let s = format!(
                    "{}{}{}{}",
                    a as char,
                    t as char,
                    d,
                    String::from_utf8(org).unwrap()
                );
                CreditCode::complete(&s).unwrap()
            })
    }

    proptest! {
        #[test]
        fn every_generated_code_parses(c in arb_code()) {
            prop_assert_eq!(CreditCode::parse(c.as_str()).unwrap(), c);
        }

        /// 31 is prime and every weight is non-zero mod 31, so every single substitution within the
        /// alphabet changes the check; substitutions outside it are refused by the alphabet.
        #[test]
        fn every_single_substitution_is_caught(c in arb_code(), pos in 0usize..18, ch in prop::num::u8::ANY) {
            let mut b = c.as_str().as_bytes().to_vec();
            prop_assume!(b[pos] != ch && b[pos] != ch.to_ascii_uppercase());
            b[pos] = ch;
            if let Ok(s) = String::from_utf8(b) {
                prop_assert!(CreditCode::parse(&s).is_err(), "{} accepted", s);
            }
        }
    }
}
