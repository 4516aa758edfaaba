//! Verifier nonces: the platform issues a nonce to one verifier (its audience), a presentation is
//! made for it, and the verification that accepts it uses it up. A nonce unknown, expired, made
//! for another verifier or used already is refused, so a presentation verifies once.
//!
//! Nonces live in memory: one lost in a restart is merely refused (the verifier asks again), and
//! none outlives [`TTL`].

use shuju_types::{Error, Result};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a verifier may wait for the holder's presentation.
pub const TTL: Duration = Duration::from_secs(300);
/// At most this many nonces wait at once; past it the oldest expire early.
const CAP: usize = 1_000_000;

#[derive(Debug, Default)]
pub struct Nonces {
    waiting: Mutex<HashMap<String, (String, Instant)>>,
}

impl Nonces {
    /// A fresh nonce for the verifier `aud`, and how many seconds it lives.
    pub fn issue(&self, aud: &str) -> Result<(String, u64)> {
        if aud.trim().is_empty() || aud.len() > 200 {
            return Err(Error::invalid(
                "aud",
                "name the verifier (1 to 200 characters)",
            ));
        }
        let nonce = shuju_admin::password::random_token();
        let mut w = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        if w.len() >= CAP {
            w.retain(|_, (_, at)| at.elapsed() < TTL);
            if w.len() >= CAP {
                let cut = w.values().map(|(_, at)| *at).min();
                w.retain(|_, (_, at)| Some(*at) != cut);
            }
        }
        w.insert(nonce.clone(), (aud.to_owned(), Instant::now()));
        Ok((nonce, TTL.as_secs()))
    }

    /// Is `nonce` waiting for `aud`? (Without using it up.)
    pub fn check(&self, nonce: &str, aud: &str) -> Result<()> {
        let w = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        match w.get(nonce) {
            Some((a, at)) if a == aud && at.elapsed() < TTL => Ok(()),
            _ => Err(refused()),
        }
    }

    /// Use `nonce` up for `aud`; refused if it is not waiting for it.
    pub fn take(&self, nonce: &str, aud: &str) -> Result<()> {
        let mut w = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        match w.get(nonce) {
            Some((a, at)) if a == aud && at.elapsed() < TTL => {
                w.remove(nonce);
                Ok(())
            }
            Some((_, at)) if at.elapsed() >= TTL => {
                w.remove(nonce);
                Err(refused())
            }
            _ => Err(refused()),
        }
    }
}

fn refused() -> Error {
    Error::invalid(
        "nonce",
        "the nonce was not issued to this verifier, has expired or was used already: ask for a new one (POST /api/v1/licenses/nonces) and have the holder show again",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_used_once_by_its_verifier() {
        let n = Nonces::default();
        let (a, ttl) = n.issue("window-01").unwrap();
        assert_eq!(ttl, 300);
        assert!(n.check(&a, "window-02").is_err());
        assert!(n.take(&a, "window-02").is_err(), "another verifier");
        n.check(&a, "window-01").unwrap();
        n.take(&a, "window-01").unwrap();
        assert!(n.take(&a, "window-01").is_err(), "used already");
        assert!(n.take("made-up-nonce", "window-01").is_err());
        assert!(n.issue("").is_err());
    }
}
