//! Citizen identity numbers (GB 11643-1999): 6-digit division, 8-digit birth date, 3-digit sequence
//! (odd for men), and a check character by ISO 7064 MOD 11-2.

use crate::division::is_province_prefix;
use crate::error::{Error, Result};
use crate::mask::mask_middle;
use chrono::NaiveDate;
use std::fmt;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_MAP: &[u8; 11] = b"10X98765432";

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    /// The GB/T 2261.1 code: `1` male, `2` female.
    pub fn code(self) -> &'static str {
        match self {
            Sex::Male => "1",
            Sex::Female => "2",
        }
    }

    /// A sex as commonly written — the GB/T 2261.1 code or label, 男/女, M/F, male/female —
    /// or `None` for anything else.
    pub fn parse(written: &str) -> Option<Sex> {
        match written.trim().to_ascii_lowercase().as_str() {
            "1" | "男" | "男性" | "m" | "male" => Some(Sex::Male),
            "2" | "女" | "女性" | "f" | "female" => Some(Sex::Female),
            _ => None,
        }
    }
}

/// A citizen identity number whose structure, birth date and check character are valid.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CitizenId([u8; 18]);

impl CitizenId {
    /// The check character for the first 17 digits.
    pub fn check_char(first17: &[u8]) -> Option<u8> {
        if first17.len() != 17 || !first17.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let sum: u32 = first17
            .iter()
            .zip(WEIGHTS)
            .map(|(d, w)| u32::from(d - b'0') * w)
            .sum();
        Some(CHECK_MAP[(sum % 11) as usize])
    }

    /// Parse an 18-character ID. A lower-case `x` is accepted and normalised; surrounding white
    /// space is ignored. Full-width characters must be normalised by the caller.
    pub fn parse(s: &str) -> Result<Self> {
        const F: &str = "citizen_id";
        let s = s.trim();
        let b = s.as_bytes();
        if b.len() != 18 {
            return Err(Error::invalid(F, "must be 18 characters (GB 11643)"));
        }
        if !b[..17].iter().all(u8::is_ascii_digit) {
            return Err(Error::invalid(F, "the first 17 characters must be digits"));
        }
        let last = b[17].to_ascii_uppercase();
        if !(last.is_ascii_digit() || last == b'X') {
            return Err(Error::invalid(
                F,
                "the check character must be a digit or X",
            ));
        }
        if !is_province_prefix(&b[..2]) {
            return Err(Error::invalid(
                F,
                "the division part does not start with a province code",
            ));
        }
        // Digits were checked above; build the date without a general-purpose parser.
        let num = |r: std::ops::Range<usize>| {
            b[r].iter().fold(0u32, |n, &d| n * 10 + u32::from(d - b'0'))
        };
        if NaiveDate::from_ymd_opt(num(6..10) as i32, num(10..12), num(12..14)).is_none()
            || num(6..8) < 18
        {
            return Err(Error::invalid(F, "the birth date part is not a valid date"));
        }
        let expected = Self::check_char(&b[..17]).unwrap_or(b'?');
        if expected != last {
            return Err(Error::invalid(
                F,
                "the check character does not match (ISO 7064 MOD 11-2)",
            ));
        }
        let mut a = [0u8; 18];
        a.copy_from_slice(b);
        a[17] = last;
        Ok(CitizenId(a))
    }

    /// Widen a legacy 15-digit ID (issued before 1999) to its 18-digit form, as GB 11643 says:
    /// the year gains `19` and a check character is added. `None` when it is not 15 digits or
    /// the widened form is not a valid ID.
    pub fn widen(s: &str) -> Option<Self> {
        let b = s.trim().as_bytes();
        if b.len() != 15 || !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let mut first17 = Vec::with_capacity(18);
        first17.extend_from_slice(&b[..6]);
        first17.extend_from_slice(b"19");
        first17.extend_from_slice(&b[6..]);
        let c = Self::check_char(&first17)?;
        first17.push(c);
        Self::parse(std::str::from_utf8(&first17).ok()?).ok()
    }

    /// Parse an ID as written, widening a legacy 15-digit one; whether it was widened.
    pub fn parse_or_widen(s: &str) -> Result<(Self, bool)> {
        match Self::widen(s) {
            Some(id) => Ok((id, true)),
            None => Self::parse(s).map(|id| (id, false)),
        }
    }

    /// What an ID that failed its check still says: the birth date and sex its digits encode,
    /// when they are a real date and digit (an 18- or 15-digit number with a typo elsewhere).
    pub fn embedded(s: &str) -> Option<(NaiveDate, Sex)> {
        let b = s.trim().as_bytes();
        let (date, sex) = match b.len() {
            18 => (std::str::from_utf8(&b[6..14]).ok()?.to_owned(), b[16]),
            15 => (format!("19{}", std::str::from_utf8(&b[6..12]).ok()?), b[14]),
            _ => return None,
        };
        if !date.bytes().all(|c| c.is_ascii_digit()) || !sex.is_ascii_digit() {
            return None;
        }
        let d = NaiveDate::parse_from_str(&date, "%Y%m%d").ok()?;
        let year = chrono::Datelike::year(&d);
        if !(1880..=2100).contains(&year) {
            return None;
        }
        Some((
            d,
            if (sex - b'0') % 2 == 1 {
                Sex::Male
            } else {
                Sex::Female
            },
        ))
    }

    /// Build a valid ID from its parts (used by the synthetic city and tests).
    pub fn from_parts(division: &str, birth: NaiveDate, sequence: u16) -> Result<Self> {
        let mut s = format!("{division}{}{:03}", birth.format("%Y%m%d"), sequence % 1000);
        let c = Self::check_char(s.as_bytes())
            .ok_or_else(|| Error::invalid("citizen_id", "bad parts"))?;
        s.push(c as char);
        Self::parse(&s)
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    pub fn division(&self) -> &str {
        &self.as_str()[..6]
    }

    pub fn birth_date(&self) -> NaiveDate {
        NaiveDate::parse_from_str(&self.as_str()[6..14], "%Y%m%d").unwrap_or_default()
    }

    pub fn sex(&self) -> Sex {
        if (self.0[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// `371502********1234`: division and last four kept.
    pub fn masked(&self) -> String {
        mask_middle(self.as_str(), 6, 4)
    }
}

/// Debug never prints the full number, so IDs cannot leak into logs by accident.
impl fmt::Debug for CitizenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CitizenId({})", self.masked())
    }
}

impl fmt::Display for CitizenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for CitizenId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sex_as_written_reads_as_its_gb_t_2261_1_code() {
        for w in ["1", "男", "男性", "M", "male", " m "] {
            assert_eq!(Sex::parse(w).map(Sex::code), Some("1"), "{w}");
        }
        for w in ["2", "女", "女性", "F", "Female"] {
            assert_eq!(Sex::parse(w).map(Sex::code), Some("2"), "{w}");
        }
        assert_eq!(Sex::parse("9"), None);
        assert_eq!(Sex::parse("X"), None);
    }

    #[test]
    fn known_examples() {
        // The standard's own example.
        let id = CitizenId::parse("11010519491231002X").unwrap();
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert_eq!(id.masked(), "110105********002X");
        assert!(CitizenId::parse("11010519491231002x").is_ok());
        assert!(CitizenId::parse("110105194912310021").is_err());
        assert!(CitizenId::parse("110105194902300021").is_err(), "30 Feb");
        assert!(format!("{id:?}").contains("********"));
    }

    #[test]
    fn legacy_ids_widen_and_bad_ids_still_say_their_birth_date() {
        // 15 digits: 6 of division, YYMMDD, 3 of sequence.
        let id = CitizenId::widen("110105491231002").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(
            CitizenId::parse_or_widen("110105491231002").unwrap(),
            (id, true)
        );
        assert!(!CitizenId::parse_or_widen("11010519491231002X").unwrap().1);
        assert!(CitizenId::widen("110105491331002").is_none(), "month 13");
        assert!(CitizenId::widen("11010519491231002X").is_none());
        let (d, sex) = CitizenId::embedded("110105194912310021").unwrap();
        assert_eq!(d, NaiveDate::from_ymd_opt(1949, 12, 31).unwrap());
        assert_eq!(sex, Sex::Female);
        assert!(CitizenId::embedded("110105194913310021").is_none());
    }

    fn arb_id() -> impl Strategy<Value = CitizenId> {
        (
            prop::sample::select(vec![
                "371502", "371503", "371521", "371581", "110105", "440305",
            ]),
            (1900i32..2025, 1u32..=12, 1u32..=28),
            0u16..1000,
        )
            .prop_map(|(div, (y, m, d), seq)| {
                CitizenId::from_parts(div, NaiveDate::from_ymd_opt(y, m, d).unwrap(), seq).unwrap()
            })
    }

    proptest! {
        #[test]
        fn every_generated_id_parses(id in arb_id()) {
            let again = CitizenId::parse(id.as_str()).unwrap();
            prop_assert_eq!(again, id);
        }

        /// MOD 11-2 detects every single-character substitution.
        #[test]
        fn every_single_substitution_is_caught(id in arb_id(), pos in 0usize..18, c in prop::sample::select(b"0123456789X".to_vec())) {
            let mut b = id.as_str().as_bytes().to_vec();
            prop_assume!(b[pos] != c);
            b[pos] = c;
            let s = String::from_utf8(b).unwrap();
            prop_assert!(CitizenId::parse(&s).is_err(), "{} accepted", s);
        }

        #[test]
        fn a_widened_id_keeps_what_the_legacy_one_said(id in arb_id()) {
            let s = id.as_str();
            if &s[6..8] == "19" {
                let legacy = format!("{}{}", &s[..6], &s[8..17]);
                prop_assert_eq!(CitizenId::widen(&legacy), Some(id));
            }
        }

        #[test]
        fn never_panics(s in "\\PC{0,24}") {
            let _ = CitizenId::parse(&s);
            let _ = CitizenId::widen(&s);
            let _ = CitizenId::embedded(&s);
        }
    }
}
