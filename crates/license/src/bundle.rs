//! Verifying without a connection: a window keeps the offline bundle (trust list + signed status
//! list, each with its time to live) and verifies presentations against it; the result says when
//! the bundle is stale, so the official knows a revocation could be missed.

use crate::jose::{Jws, from_jwk};
use crate::sdjwt::{Expect, TrustList, Verified, verify};
use crate::status::StatusList;
use serde_json::Value;
use shuju_types::{Error, Result};

/// The outcome of an offline verification.
#[derive(Clone, Debug)]
pub struct OfflineResult {
    pub verified: Verified,
    /// True when the bundle is past its time to live: fetch a fresh one.
    pub stale: bool,
}

/// Verify a presentation with an offline bundle at time `now`.
pub fn verify_offline(
    bundle: &Value,
    presentation: &str,
    aud: &str,
    nonce: &str,
    now: i64,
) -> Result<OfflineResult> {
    let bad = |m: &str| Error::invalid("bundle", m.to_owned());
    let mut trust = TrustList::default();
    let issuer = bundle["trust_list"]["issuer"]
        .as_str()
        .ok_or_else(|| bad("no issuer"))?;
    let mut keys = Vec::new();
    for k in bundle["trust_list"]["keys"]
        .as_array()
        .ok_or_else(|| bad("no keys"))?
    {
        if k["alg"] == "ES256" {
            let key = from_jwk(&k["public"])?;
            trust.add(k["kid"].as_str().unwrap_or_default(), issuer, key);
            keys.push((k["kid"].as_str().unwrap_or_default().to_owned(), key));
        }
    }
    let token = Jws::decode(
        bundle["status_list_token"]
            .as_str()
            .ok_or_else(|| bad("no status list"))?,
        "bundle",
    )?;
    let kid = token.header["kid"].as_str().unwrap_or_default();
    let key = keys
        .iter()
        .find(|(k, _)| k == kid)
        .ok_or_else(|| bad("the status list's key is not in the trust list"))?;
    token.verify(&key.1, "bundle")?;
    let list = StatusList::decode(
        token.payload["status_list"]["lst"]
            .as_str()
            .unwrap_or_default(),
    )?;
    let stale = bundle["stale_after"].as_i64().is_none_or(|t| now > t)
        || token.payload["exp"].as_i64().is_some_and(|e| now > e);
    let status = |_: &str, idx: u64| list.get(idx as usize);
    let verified = verify(
        presentation,
        &trust,
        &Expect {
            aud,
            nonce,
            now,
            max_age: 600,
            status: &status,
        },
    )?;
    Ok(OfflineResult { verified, stale })
}
