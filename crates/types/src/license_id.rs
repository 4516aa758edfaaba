//! Electronic license identifiers (GB/T 36904): `1.2.156.3005.2.<type>.<issuer>.<serial>.<version>.<check>`.
//!
//! - `type`: the license type code — the type definer's unified social credit code and 3 digits;
//! - `issuer`: the issuing authority's unified social credit code;
//! - `serial`: the issuer's serial number of the license (digits and capital letters);
//! - `version`: 3 digits, raised when the license is renewed or changed;
//! - `check`: ISO/IEC 7064 MOD 37,36 over type, issuer, serial and version joined without dots.

use crate::credit_code::CreditCode;
use crate::error::{Error, Result};
use std::fmt;

/// The OID root of e-license identifiers.
pub const ROOT: &str = "1.2.156.3005.2";
const ALNUM: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

fn value(c: u8) -> Option<u32> {
    ALNUM.iter().position(|a| *a == c).map(|p| p as u32)
}

/// ISO/IEC 7064 MOD 37,36 (hybrid system) check character of an alphanumeric string.
pub fn mod_37_36(s: &str) -> Option<char> {
    let mut product = 36u32;
    for c in s.bytes() {
        let mut sum = (value(c)? + product) % 36;
        if sum == 0 {
            sum = 36;
        }
        product = (2 * sum) % 37;
    }
    Some(ALNUM[((37 - product) % 36) as usize] as char)
}

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LicenseId {
    type_code: String,
    issuer: String,
    serial: String,
    version: u16,
}

impl LicenseId {
    /// Build an identifier; the parts are validated and the check character computed.
    pub fn new(type_code: &str, issuer: &str, serial: &str, version: u16) -> Result<Self> {
        const F: &str = "license_id";
        // Split by characters, never by bytes: the input may hold any character.
        let (Some(definer), Some(digits)) = (type_code.get(..18), type_code.get(18..)) else {
            return Err(Error::invalid(
                F,
                "the type code must be the definer's 18-character USCC and 3 digits",
            ));
        };
        if type_code.len() != 21 {
            return Err(Error::invalid(
                F,
                "the type code must be the definer's 18-character USCC and 3 digits",
            ));
        }
        CreditCode::parse(definer)
            .map_err(|_| Error::invalid(F, "the type code does not start with a valid USCC"))?;
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::invalid(F, "the type code must end with 3 digits"));
        }
        CreditCode::parse(issuer)
            .map_err(|_| Error::invalid(F, "the issuer is not a valid USCC"))?;
        if serial.is_empty()
            || serial.len() > 40
            || !serial
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        {
            return Err(Error::invalid(
                F,
                "the serial number must be 1 to 40 digits or capital letters",
            ));
        }
        if version > 999 {
            return Err(Error::invalid(F, "the version has 3 digits"));
        }
        Ok(LicenseId {
            type_code: type_code.into(),
            issuer: issuer.into(),
            serial: serial.into(),
            version,
        })
    }

    /// Parse an identifier strictly: the root, five parts, a 3-digit version and the right check.
    pub fn parse(s: &str) -> Result<Self> {
        const F: &str = "license_id";
        let rest = s
            .trim()
            .strip_prefix(ROOT)
            .and_then(|r| r.strip_prefix('.'))
            .ok_or_else(|| Error::invalid(F, format!("must start with {ROOT}.")))?;
        let parts: Vec<&str> = rest.split('.').collect();
        let [type_code, issuer, serial, version, check] = parts[..] else {
            return Err(Error::invalid(
                F,
                "must have five parts after the root: type.issuer.serial.version.check",
            ));
        };
        if version.len() != 3 || !version.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::invalid(F, "the version must be 3 digits"));
        }
        let id = LicenseId::new(type_code, issuer, serial, version.parse().unwrap_or(0))?;
        if check.len() != 1 || Some(check.chars().next().unwrap_or(' ')) != id.check() {
            return Err(Error::invalid(
                F,
                "the check character does not match (ISO/IEC 7064 MOD 37,36)",
            ));
        }
        Ok(id)
    }

    fn payload(&self) -> String {
        format!(
            "{}{}{}{:03}",
            self.type_code, self.issuer, self.serial, self.version
        )
    }

    pub fn check(&self) -> Option<char> {
        mod_37_36(&self.payload())
    }

    pub fn type_code(&self) -> &str {
        &self.type_code
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn serial(&self) -> &str {
        &self.serial
    }

    pub fn version(&self) -> u16 {
        self.version
    }

    /// The same license at the next version (renewal or change).
    pub fn next_version(&self) -> Result<Self> {
        LicenseId::new(
            &self.type_code,
            &self.issuer,
            &self.serial,
            self.version + 1,
        )
    }
}

impl fmt::Display for LicenseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{ROOT}.{}.{}.{}.{:03}.{}",
            self.type_code,
            self.issuer,
            self.serial,
            self.version,
            self.check().unwrap_or('?')
        )
    }
}

impl fmt::Debug for LicenseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LicenseId({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DEFINER: &str = "11100000000013127D"; // a USCC used as the type definer
    const ISSUER: &str = "91350100M000100Y43";

    #[test]
    fn check_characters() {
        // ISO/IEC 7064's own example for MOD 37,36 is "A12425GABC1234002M": check M.
        assert_eq!(mod_37_36("A12425GABC1234002"), Some('M'));
        let id = LicenseId::new(&format!("{DEFINER}001"), ISSUER, "2026000123", 1).unwrap();
        let s = id.to_string();
        assert!(s.starts_with(
            "1.2.156.3005.2.11100000000013127D001.91350100M000100Y43.2026000123.001."
        ));
        assert_eq!(LicenseId::parse(&s).unwrap(), id);
        let next = id.next_version().unwrap();
        assert_eq!(next.version(), 2);
        assert!(next.to_string().contains(".002."));
    }

    fn arb_id() -> impl Strategy<Value = LicenseId> {
        (0u32..1000, "[0-9A-Z]{1,20}", 1u16..1000).prop_map(|(t, serial, v)| {
            LicenseId::new(&format!("{DEFINER}{t:03}"), ISSUER, &serial, v).unwrap()
        })
    }

    proptest! {
        #[test]
        fn every_valid_identifier_parses(id in arb_id()) {
            prop_assert_eq!(LicenseId::parse(&id.to_string()).unwrap(), id);
        }

        /// Every single-character change is rejected: in the checked parts MOD 37,36 catches it;
        /// in the root, the dots and the version's form the parser does.
        #[test]
        fn every_single_character_change_is_rejected(id in arb_id(), pos in 0usize..200, c in prop::sample::select(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.".to_vec())) {
            let s = id.to_string();
            let mut b = s.clone().into_bytes();
            let pos = pos % b.len();
            prop_assume!(b[pos] != c);
            b[pos] = c;
            let changed = String::from_utf8(b).unwrap();
            prop_assert!(LicenseId::parse(&changed).is_err(), "{} accepted", changed);
        }
    }
}
