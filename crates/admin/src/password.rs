//! Passwords: argon2id hashes, the configurable policy, and random passwords for new accounts.

use crate::config::PasswordPolicy;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::Rng;
use rand::rngs::OsRng;
use shuju_types::{Error, Result};

fn hasher() -> Argon2<'static> {
    // OWASP's argon2id recommendation: 19 MiB, 2 iterations, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::internal(e.to_string()))
}

pub fn verify(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| hasher().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// Spend the same time as a real verification, so unknown usernames cannot be told apart.
pub fn verify_dummy(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let h = DUMMY.get_or_init(|| hash("not-a-real-password").unwrap_or_default());
    let _ = verify(password, h);
}

/// Check a new password against the policy; the message says what is missing.
pub fn check_policy(p: &PasswordPolicy, password: &str, username: &str) -> Result<()> {
    const F: &str = "new_password";
    if password.chars().count() < p.min_length {
        return Err(Error::invalid(
            F,
            format!("must have at least {} characters", p.min_length),
        ));
    }
    if password.chars().count() > 128 {
        return Err(Error::invalid(F, "must have at most 128 characters"));
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if classes < p.min_classes {
        return Err(Error::invalid(
            F,
            format!(
                "must use at least {} of: lower-case letters, upper-case letters, digits, symbols",
                p.min_classes
            ),
        ));
    }
    if !username.is_empty() && password.to_lowercase().contains(&username.to_lowercase()) {
        return Err(Error::invalid(F, "must not contain the username"));
    }
    Ok(())
}

/// A random password that satisfies any policy up to 4 classes and 16 characters.
pub fn random() -> String {
    const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGIT: &[u8] = b"23456789";
    const SYMBOL: &[u8] = b"!#%+-=@^_";
    let mut rng = OsRng;
    let mut out: Vec<u8> = Vec::with_capacity(16);
    for set in [LOWER, UPPER, DIGIT, SYMBOL] {
        out.push(set[rng.gen_range(0..set.len())]);
    }
    let all: Vec<u8> = [LOWER, UPPER, DIGIT].concat();
    while out.len() < 16 {
        out.push(all[rng.gen_range(0..all.len())]);
    }
    // Shuffle so the classes are not always in the same positions.
    for i in (1..out.len()).rev() {
        let j = rng.gen_range(0..=i);
        out.swap(i, j);
    }
    String::from_utf8(out).unwrap_or_default()
}

/// A random secret for tokens: 32 bytes, URL-safe base64.
pub fn random_token() -> String {
    use base64::Engine;
    let mut b = [0u8; 32];
    OsRng.fill(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// The stored form of a token: its SM3 digest in hex.
pub fn token_hash(token: &str) -> String {
    use sm3::{Digest, Sm3};
    hex::encode(Sm3::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = hash("Correct-Horse-9").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("Correct-Horse-9", &h));
        assert!(!verify("correct-horse-9", &h));
        assert!(!verify("x", "not a hash"));
    }

    #[test]
    fn policy() {
        let p = PasswordPolicy::default();
        assert!(check_policy(&p, "short1A", "u").is_err());
        assert!(check_policy(&p, "alllowercaseletters", "u").is_err());
        assert!(check_policy(&p, "Good-Password-1", "admin").is_ok());
        assert!(check_policy(&p, "Admin-Password-1", "admin").is_err());
        for _ in 0..50 {
            let r = random();
            assert!(check_policy(&p, &r, "admin").is_ok(), "{r}");
        }
    }
}
