//! SD-JWT VC: issuance, presentation with key binding, and strict verification (RFC 9901).
//!
//! Compact forms: an issued credential is `<issuer-jwt>~<disclosure>~…~`; a presentation is
//! `<issuer-jwt>~<disclosure>~…~<kb-jwt>`. Each disclosure is base64url(JSON `[salt, name, value]`)
//! and the issuer-signed `_sd` array holds the SHA-256 digests of all of them.

use crate::jose::{Jws, b64, jwk, sign, unb64};
use p256::ecdsa::{SigningKey, VerifyingKey};
use rand::RngCore;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use shuju_types::{Error, Result};
use std::collections::{HashMap, HashSet};

/// Claims that are always visible (never selectively disclosable).
pub const ALWAYS_VISIBLE: [&str; 8] = [
    "iss",
    "iat",
    "nbf",
    "exp",
    "vct",
    "license_id",
    "cnf",
    "status",
];

fn digest(disclosure: &str) -> String {
    b64(Sha256::digest(disclosure.as_bytes()))
}

fn err(msg: impl Into<String>) -> Error {
    Error::invalid("presentation", msg)
}

/// What to put in a credential.
pub struct Credential<'a> {
    pub issuer: &'a str,
    pub kid: &'a str,
    /// The license type (`vct`).
    pub vct: &'a str,
    pub license_id: &'a str,
    pub iat: i64,
    pub exp: Option<i64>,
    /// Selectively disclosable claims.
    pub claims: &'a Map<String, Value>,
    pub holder: &'a VerifyingKey,
    /// The status list entry: (uri, index).
    pub status: Option<(&'a str, u64)>,
}

/// Issue an SD-JWT VC.
pub fn issue(c: &Credential<'_>, key: &SigningKey) -> Result<String> {
    let mut disclosures = Vec::with_capacity(c.claims.len());
    let mut digests = Vec::with_capacity(c.claims.len());
    for (name, value) in c.claims {
        if ALWAYS_VISIBLE.contains(&name.as_str())
            || name == "_sd"
            || name == "_sd_alg"
            || name == "..."
        {
            return Err(Error::invalid("claims", format!("'{name}' is reserved")));
        }
        let mut salt = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        let d = b64(json!([b64(salt), name, value]).to_string());
        digests.push(digest(&d));
        disclosures.push(d);
    }
    digests.sort();
    let mut payload = json!({
        "iss": c.issuer,
        "iat": c.iat,
        "vct": c.vct,
        "license_id": c.license_id,
        "_sd_alg": "sha-256",
        "_sd": digests,
        "cnf": {"jwk": jwk(c.holder)},
    });
    if let Some(exp) = c.exp {
        payload["exp"] = json!(exp);
    }
    if let Some((uri, idx)) = c.status {
        payload["status"] = json!({"status_list": {"idx": idx, "uri": uri}});
    }
    let header = json!({"alg": "ES256", "typ": "dc+sd-jwt", "kid": c.kid});
    let mut out = sign(&header, &payload, key);
    out.push('~');
    for d in disclosures {
        out.push_str(&d);
        out.push('~');
    }
    Ok(out)
}

/// Build a presentation that discloses only `names`, bound to the verifier's audience and nonce.
pub fn present(
    sd_jwt: &str,
    names: &[&str],
    holder: &SigningKey,
    aud: &str,
    nonce: &str,
    iat: i64,
) -> Result<String> {
    let mut parts = sd_jwt.split('~');
    let jwt = parts.next().ok_or_else(|| err("empty credential"))?;
    let mut kept = Vec::new();
    let mut found = HashSet::new();
    for d in parts.filter(|p| !p.is_empty()) {
        let arr: Value = serde_json::from_slice(&unb64(d, "disclosure")?)
            .map_err(|_| err("a disclosure is not JSON"))?;
        if let Some(name) = arr.get(1).and_then(Value::as_str)
            && names.contains(&name)
        {
            kept.push(d);
            found.insert(name.to_owned());
        }
    }
    if let Some(missing) = names.iter().find(|n| !found.contains(**n)) {
        return Err(Error::invalid(
            "claims",
            format!("the license has no claim '{missing}'"),
        ));
    }
    let mut body = format!("{jwt}~");
    for d in &kept {
        body.push_str(d);
        body.push('~');
    }
    let kb = sign(
        &json!({"alg": "ES256", "typ": "kb+jwt"}),
        &json!({"iat": iat, "aud": aud, "nonce": nonce, "sd_hash": digest(&body)}),
        holder,
    );
    Ok(format!("{body}{kb}"))
}

/// Issuer keys the verifier trusts, by `kid`, with the issuer each belongs to.
#[derive(Clone, Default)]
pub struct TrustList {
    /// kid → (issuer, uncompressed P-256 point)
    keys: HashMap<String, (String, Vec<u8>)>,
}

impl TrustList {
    pub fn add(&mut self, kid: &str, issuer: &str, key: VerifyingKey) {
        self.keys
            .insert(kid.into(), (issuer.into(), crate::jose::point(&key)));
    }
}

/// The status of a credential in its status list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Valid,
    Revoked,
    Suspended,
}

/// What the verifier expects.
pub struct Expect<'a> {
    pub aud: &'a str,
    pub nonce: &'a str,
    pub now: i64,
    /// How old the key-binding JWT may be, in seconds.
    pub max_age: i64,
    /// Look up a status list entry (uri, index).
    pub status: &'a dyn Fn(&str, u64) -> Result<Status>,
}

/// A verified presentation.
#[derive(Clone, Debug)]
pub struct Verified {
    pub issuer: String,
    pub vct: String,
    pub license_id: String,
    pub exp: Option<i64>,
    /// Only the disclosed claims.
    pub claims: Map<String, Value>,
}

/// Verify a presentation strictly: issuer signature and trust, validity period, every disclosure
/// referenced exactly once, key binding (signature, audience, nonce, freshness, sd_hash) and status.
pub fn verify(presentation: &str, trust: &TrustList, x: &Expect<'_>) -> Result<Verified> {
    let parts: Vec<&str> = presentation.split('~').collect();
    if parts.len() < 2 {
        return Err(err("is not an SD-JWT presentation"));
    }
    let kb_jwt = parts[parts.len() - 1];
    if kb_jwt.is_empty() {
        return Err(err("has no key-binding JWT"));
    }
    let jws = Jws::decode(parts[0], "presentation")?;
    if jws.header["typ"] != "dc+sd-jwt" {
        return Err(err("the credential's typ must be dc+sd-jwt"));
    }
    let kid = jws.header["kid"]
        .as_str()
        .ok_or_else(|| err("the credential names no key (kid)"))?;
    let (issuer, key) = trust
        .keys
        .get(kid)
        .ok_or_else(|| err("the issuer key is not in the trust list"))?;
    jws.verify_point(key, "presentation")?;
    let p = &jws.payload;
    if p["iss"].as_str() != Some(issuer.as_str()) {
        return Err(err("the issuer does not own the signing key"));
    }
    if p["_sd_alg"].as_str().unwrap_or("sha-256") != "sha-256" {
        return Err(err("unsupported _sd_alg"));
    }
    if let Some(nbf) = p["nbf"].as_i64()
        && x.now < nbf
    {
        return Err(err("the license is not valid yet"));
    }
    if let Some(exp) = p["exp"].as_i64()
        && x.now >= exp
    {
        return Err(err("the license has expired"));
    }
    let referenced: HashSet<&str> = p["_sd"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut seen = HashSet::new();
    let mut claims = Map::new();
    for d in &parts[1..parts.len() - 1] {
        if d.is_empty() {
            return Err(err("has an empty disclosure"));
        }
        let h = digest(d);
        if !referenced.contains(h.as_str()) {
            return Err(err("has a disclosure the credential does not reference"));
        }
        if !seen.insert(h) {
            return Err(err("has the same disclosure twice"));
        }
        let arr: Value = serde_json::from_slice(&unb64(d, "disclosure")?)
            .map_err(|_| err("a disclosure is not JSON"))?;
        let [_, name, value] = arr.as_array().map(Vec::as_slice).unwrap_or_default() else {
            return Err(err("a disclosure is not [salt, name, value]"));
        };
        let name = name
            .as_str()
            .ok_or_else(|| err("a disclosure's name is not a string"))?;
        if name == "_sd" || name == "..." || p.get(name).is_some() || claims.contains_key(name) {
            return Err(err(format!("a disclosure would overwrite '{name}'")));
        }
        claims.insert(name.to_owned(), value.clone());
    }
    // Key binding.
    let holder = crate::jose::jwk_point(&p["cnf"]["jwk"])
        .map_err(|_| err("the credential has no holder key"))?;
    let kb = Jws::decode(kb_jwt, "presentation")?;
    if kb.header["typ"] != "kb+jwt" {
        return Err(err("the key-binding JWT's typ must be kb+jwt"));
    }
    kb.verify_point(&holder, "presentation")
        .map_err(|_| err("the key-binding signature does not verify"))?;
    let body = &presentation[..presentation.len() - kb_jwt.len()];
    if kb.payload["sd_hash"].as_str() != Some(digest(body).as_str()) {
        return Err(err(
            "the key-binding JWT does not match the disclosures (sd_hash)",
        ));
    }
    if kb.payload["aud"].as_str() != Some(x.aud) {
        return Err(err("the presentation is for another verifier (aud)"));
    }
    if kb.payload["nonce"].as_str() != Some(x.nonce) {
        return Err(err("the nonce does not match"));
    }
    let iat = kb.payload["iat"]
        .as_i64()
        .ok_or_else(|| err("the key-binding JWT has no iat"))?;
    if iat > x.now + 60 || x.now - iat > x.max_age {
        return Err(err("the presentation is too old or from the future"));
    }
    if let (Some(uri), Some(idx)) = (
        p["status"]["status_list"]["uri"].as_str(),
        p["status"]["status_list"]["idx"].as_u64(),
    ) {
        match (x.status)(uri, idx)? {
            Status::Valid => {}
            Status::Revoked => return Err(err("the license has been revoked")),
            Status::Suspended => return Err(err("the license is suspended")),
        }
    }
    Ok(Verified {
        issuer: issuer.clone(),
        vct: p["vct"].as_str().unwrap_or_default().into(),
        license_id: p["license_id"].as_str().unwrap_or_default().into(),
        exp: p["exp"].as_i64(),
        claims,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::generate;

    const NOW: i64 = 1_800_000_000;

    fn setup() -> (String, SigningKey, TrustList) {
        let issuer = generate();
        let holder = generate();
        let mut claims = Map::new();
        claims.insert("name".into(), json!("张三"));
        claims.insert("citizen_id".into(), json!("11010519491231002X"));
        claims.insert("vehicle_class".into(), json!("C1"));
        claims.insert("address".into(), json!("聊城市东昌府区"));
        let cred = Credential {
            issuer: "https://shuju.example/issuers/91350100M000100Y43",
            kid: "k1",
            vct: "driving_licence",
            license_id: "1.2.156.3005.2.x",
            iat: NOW - 100,
            exp: Some(NOW + 1000),
            claims: &claims,
            holder: holder.verifying_key(),
            status: Some(("https://shuju.example/status/1", 7)),
        };
        let sd = issue(&cred, &issuer).unwrap();
        let mut trust = TrustList::default();
        trust.add("k1", cred.issuer, *issuer.verifying_key());
        (sd, holder, trust)
    }

    fn valid(_: &str, _: u64) -> Result<Status> {
        Ok(Status::Valid)
    }

    fn expect<'a>(f: &'a dyn Fn(&str, u64) -> Result<Status>) -> Expect<'a> {
        Expect {
            aud: "window-1",
            nonce: "n-123",
            now: NOW,
            max_age: 300,
            status: f,
        }
    }

    #[test]
    fn discloses_exactly_what_was_asked() {
        let (sd, holder, trust) = setup();
        let p = present(
            &sd,
            &["name", "vehicle_class"],
            &holder,
            "window-1",
            "n-123",
            NOW,
        )
        .unwrap();
        let v = verify(&p, &trust, &expect(&valid)).unwrap();
        assert_eq!(v.claims.len(), 2);
        assert_eq!(v.claims["vehicle_class"], "C1");
        // The presentation, decoded, contains no other claim value.
        let decoded: String = p
            .split(['~', '.'])
            .filter_map(|s| crate::jose::unb64(s, "x").ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .collect();
        assert!(!decoded.contains("11010519491231002X") && !decoded.contains("东昌府区"));
    }

    #[test]
    fn rejects_forgeries_and_stale_or_revoked_presentations() {
        let (sd, holder, trust) = setup();
        let ok = |p: &str| verify(p, &trust, &expect(&valid));
        let p = present(&sd, &["name"], &holder, "window-1", "n-123", NOW).unwrap();
        assert!(ok(&p).is_ok());
        // A forged disclosure (changed value), re-bound by the holder.
        let forged = b64(json!(["salt", "name", "李四"]).to_string());
        let jwt = sd.split('~').next().unwrap();
        let body = format!("{jwt}~{forged}~");
        let kb = sign(
            &json!({"alg": "ES256", "typ": "kb+jwt"}),
            &json!({"iat": NOW, "aud": "window-1", "nonce": "n-123", "sd_hash": digest(&body)}),
            &holder,
        );
        assert!(
            ok(&format!("{body}{kb}"))
                .unwrap_err()
                .message
                .contains("does not reference")
        );
        // An extra disclosure appended after key binding.
        let (prefix, kbjwt) = p.rsplit_once('~').unwrap();
        let extra = sd.split('~').nth(2).unwrap();
        assert!(ok(&format!("{prefix}~{extra}~{kbjwt}")).is_err());
        // The same disclosure twice.
        let d = p.split('~').nth(1).unwrap();
        let body = format!("{jwt}~{d}~{d}~");
        let kb = sign(
            &json!({"alg": "ES256", "typ": "kb+jwt"}),
            &json!({"iat": NOW, "aud": "window-1", "nonce": "n-123", "sd_hash": digest(&body)}),
            &holder,
        );
        assert!(
            ok(&format!("{body}{kb}"))
                .unwrap_err()
                .message
                .contains("twice")
        );
        // Wrong nonce, wrong audience, too old, expired, no key binding.
        assert!(
            ok(&present(&sd, &["name"], &holder, "window-1", "other", NOW).unwrap())
                .unwrap_err()
                .message
                .contains("nonce")
        );
        assert!(ok(&present(&sd, &["name"], &holder, "window-2", "n-123", NOW).unwrap()).is_err());
        assert!(
            ok(&present(&sd, &["name"], &holder, "window-1", "n-123", NOW - 3600).unwrap())
                .is_err()
        );
        let late = Expect {
            now: NOW + 2000,
            ..expect(&valid)
        };
        assert!(
            verify(
                &present(&sd, &["name"], &holder, "window-1", "n-123", NOW + 2000).unwrap(),
                &trust,
                &late
            )
            .unwrap_err()
            .message
            .contains("expired")
        );
        assert!(ok(&format!("{prefix}~")).is_err());
        // Someone else's key binding.
        let thief = generate();
        assert!(ok(&present(&sd, &["name"], &thief, "window-1", "n-123", NOW).unwrap()).is_err());
        // Revoked and suspended.
        let revoked = |_: &str, idx: u64| {
            Ok(if idx == 7 {
                Status::Revoked
            } else {
                Status::Valid
            })
        };
        assert!(
            verify(&p, &trust, &expect(&revoked))
                .unwrap_err()
                .message
                .contains("revoked")
        );
        // An issuer key that is not trusted.
        assert!(verify(&p, &TrustList::default(), &expect(&valid)).is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 1024, ..Default::default() })]

        /// Any text as a presentation is verified or refused, never a panic (a fuzz target for
        /// the SD-JWT parser and verifier).
        #[test]
        fn any_text_is_refused_never_a_panic(text in "[A-Za-z0-9_\\-~.=+/{}\\[\\]\":,中]{0,400}") {
            let (_, _, trust) = setup();
            let f = valid;
            let _ = verify(&text, &trust, &expect(&f));
        }

        /// A real presentation with characters changed, cut or added: refused, never a panic.
        #[test]
        fn a_damaged_presentation_is_refused_never_a_panic(
            at in 0usize..2000,
            cut in 0usize..8,
            insert in "[A-Za-z0-9_\\-~.中]{0,4}",
        ) {
            let (sd, holder, trust) = setup();
            let p = present(&sd, &["name"], &holder, "window-1", "n-123", NOW).unwrap();
            let chars: Vec<char> = p.chars().collect();
            let at = at % chars.len();
            let end = (at + cut).min(chars.len());
            let mut damaged: String = chars[..at].iter().collect();
            damaged.push_str(&insert);
            damaged.extend(&chars[end..]);
            let f = valid;
            let r = verify(&damaged, &trust, &expect(&f));
            if damaged != p {
                proptest::prop_assert!(r.is_err(), "a changed presentation verified: {damaged}");
            }
        }
    }
}
