//! Old market-entity registration numbers (工商注册号, GS 15-2006), which enterprises carried
//! before the unified social credit code and which older records still name them by: 15 digits —
//! the registering authority's division (6), a sequence (8), and a check digit by ISO 7064
//! MOD 11,10.

use crate::error::{Error, Result};
use std::fmt;

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegistrationNumber([u8; 15]);

impl RegistrationNumber {
    /// The ISO 7064 MOD 11,10 check digit of the first 14 digits.
    pub fn check_digit(first14: &[u8]) -> Option<u8> {
        if first14.len() != 14 || !first14.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let mut p = 10u32;
        for d in first14 {
            let mut s = (p + u32::from(d - b'0')) % 10;
            if s == 0 {
                s = 10;
            }
            p = (2 * s) % 11;
        }
        Some(b'0' + ((11 - p) % 10) as u8)
    }

    pub fn parse(s: &str) -> Result<Self> {
        const F: &str = "registration_number";
        let b = s.trim().as_bytes();
        if b.len() != 15 || !b.iter().all(u8::is_ascii_digit) {
            return Err(Error::invalid(F, "must be 15 digits (GS 15)"));
        }
        if Self::check_digit(&b[..14]) != Some(b[14]) {
            return Err(Error::invalid(
                F,
                "the check digit does not match (ISO 7064 MOD 11,10)",
            ));
        }
        let mut a = [0u8; 15];
        a.copy_from_slice(b);
        Ok(RegistrationNumber(a))
    }

    /// Build a valid number from the first 14 digits (for the synthetic city and tests).
    pub fn complete(first14: &str) -> Result<Self> {
        let c = Self::check_digit(first14.as_bytes())
            .ok_or_else(|| Error::invalid("registration_number", "bad first 14 digits"))?;
        Self::parse(&format!("{first14}{}", c as char))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl fmt::Debug for RegistrationNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegistrationNumber({})", self.as_str())
    }
}

impl fmt::Display for RegistrationNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn published_numbers_check() {
        for n in ["440301103097413", "110108000000016", "440301503289710"] {
            assert!(RegistrationNumber::parse(n).is_ok(), "{n}");
        }
        assert!(RegistrationNumber::parse("440301103097414").is_err());
        assert!(RegistrationNumber::parse("11000045000024").is_err());
        assert!(RegistrationNumber::parse("11000045000024X").is_err());
    }

    proptest! {
        #[test]
        fn any_single_digit_error_is_caught(first in "[0-9]{14}", pos in 0usize..15, delta in 1u8..10) {
            let n = RegistrationNumber::complete(&first).unwrap();
            let mut b = n.as_str().as_bytes().to_vec();
            b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
            prop_assert!(RegistrationNumber::parse(std::str::from_utf8(&b).unwrap()).is_err());
        }
    }
}
