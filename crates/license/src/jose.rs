//! ES256 JWS (compact serialisation) and P-256 public keys as JWKs.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::elliptic_curve::sec1::EncodedPoint;
use serde_json::{Value, json};
use shuju_types::{Error, Result};

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    B64.encode(bytes)
}

pub fn unb64(s: &str, what: &str) -> Result<Vec<u8>> {
    B64.decode(s)
        .map_err(|_| Error::invalid(what, "is not base64url"))
}

/// A fresh P-256 key.
pub fn generate() -> SigningKey {
    SigningKey::random(&mut rand::rngs::OsRng)
}

/// The public key as a JWK.
pub fn jwk(key: &VerifyingKey) -> Value {
    let p = key.to_encoded_point(false);
    json!({
        "kty": "EC",
        "crv": "P-256",
        "x": b64(p.x().map(|x| x.as_slice()).unwrap_or_default()),
        "y": b64(p.y().map(|y| y.as_slice()).unwrap_or_default()),
    })
}

/// A P-256 public key from a JWK.
pub fn from_jwk(v: &Value) -> Result<VerifyingKey> {
    let bad = || Error::invalid("jwk", "is not a P-256 public key");
    if v["kty"] != "EC" || v["crv"] != "P-256" {
        return Err(bad());
    }
    let x = unb64(v["x"].as_str().ok_or_else(bad)?, "jwk.x")?;
    let y = unb64(v["y"].as_str().ok_or_else(bad)?, "jwk.y")?;
    if x.len() != 32 || y.len() != 32 {
        return Err(bad());
    }
    let point = EncodedPoint::<p256::NistP256>::from_affine_coordinates(
        x.as_slice().into(),
        y.as_slice().into(),
        false,
    );
    VerifyingKey::from_encoded_point(&point).map_err(|_| bad())
}

/// Sign a header and payload as a compact JWS with ES256.
pub fn sign(header: &Value, payload: &Value, key: &SigningKey) -> String {
    let input = format!("{}.{}", b64(header.to_string()), b64(payload.to_string()));
    let sig: Signature = key.sign(input.as_bytes());
    format!("{input}.{}", b64(sig.to_bytes()))
}

/// The uncompressed SEC1 point (`04 ‖ x ‖ y`) of a P-256 JWK, without decoding it to a curve point
/// (the verifier checks it).
pub fn jwk_point(v: &Value) -> Result<Vec<u8>> {
    let bad = || Error::invalid("jwk", "is not a P-256 public key");
    if v["kty"] != "EC" || v["crv"] != "P-256" {
        return Err(bad());
    }
    let x = unb64(v["x"].as_str().ok_or_else(bad)?, "jwk.x")?;
    let y = unb64(v["y"].as_str().ok_or_else(bad)?, "jwk.y")?;
    if x.len() != 32 || y.len() != 32 {
        return Err(bad());
    }
    let mut p = Vec::with_capacity(65);
    p.push(4);
    p.extend_from_slice(&x);
    p.extend_from_slice(&y);
    Ok(p)
}

/// The uncompressed SEC1 point of a verifying key.
pub fn point(key: &VerifyingKey) -> Vec<u8> {
    key.to_encoded_point(false).as_bytes().to_vec()
}

/// A decoded, unverified JWS.
pub struct Jws {
    pub header: Value,
    pub payload: Value,
    signing_input: String,
    signature: Vec<u8>,
}

impl Jws {
    pub fn decode(s: &str, what: &str) -> Result<Jws> {
        let parts: Vec<&str> = s.split('.').collect();
        let [h, p, sig] = parts[..] else {
            return Err(Error::invalid(what, "is not a compact JWS"));
        };
        let header: Value = serde_json::from_slice(&unb64(h, what)?)
            .map_err(|_| Error::invalid(what, "has a header that is not JSON"))?;
        let payload: Value = serde_json::from_slice(&unb64(p, what)?)
            .map_err(|_| Error::invalid(what, "has a payload that is not JSON"))?;
        Ok(Jws {
            header,
            payload,
            signing_input: format!("{h}.{p}"),
            signature: unb64(sig, what)?,
        })
    }

    /// Check the ES256 signature.
    pub fn verify(&self, key: &VerifyingKey, what: &str) -> Result<()> {
        self.verify_point(&point(key), what)
    }

    /// Check the ES256 signature against an uncompressed P-256 point (aws-lc's ECDSA).
    pub fn verify_point(&self, point: &[u8], what: &str) -> Result<()> {
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
        if self.header["alg"] != "ES256" {
            return Err(Error::invalid(what, "must be signed with ES256"));
        }
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
            .verify(self.signing_input.as_bytes(), &self.signature)
            .map_err(|_| Error::invalid(what, "signature does not verify"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_jwk_round_trip() {
        let k = generate();
        let vk = *k.verifying_key();
        let t = sign(&json!({"alg": "ES256"}), &json!({"a": 1}), &k);
        let jws = Jws::decode(&t, "t").unwrap();
        assert!(jws.verify(&vk, "t").is_ok());
        assert_eq!(from_jwk(&jwk(&vk)).unwrap(), vk);
        let other = generate();
        assert!(jws.verify(other.verifying_key(), "t").is_err());
        let mut forged = t.clone();
        forged.replace_range(t.find('.').unwrap() + 2..t.find('.').unwrap() + 3, "A");
        assert!(
            Jws::decode(&forged, "t")
                .and_then(|j| j.verify(&vk, "t"))
                .is_err()
        );
    }
}
