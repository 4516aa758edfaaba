//! The national seal: an SM2 signature (with SM3) over the license's canonical content.

use serde_json::Value;
use shuju_types::{Error, Result};
use sm2::dsa::signature::{Signer, Verifier};
use sm2::dsa::{Signature, SigningKey, VerifyingKey};

/// The distinguishing identifier GB/T 32918 uses by default.
pub const DISTID: &str = "1234567812345678";

/// JSON with object keys sorted, no insignificant white space: what the seal signs.
pub fn canonical(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let inner: Vec<String> = keys
                .iter()
                .map(|k| format!("{}:{}", Value::String((*k).clone()), canonical(&m[*k])))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

pub fn generate() -> Result<SigningKey> {
    let secret = sm2::SecretKey::random(&mut rand::rngs::OsRng);
    SigningKey::new(DISTID, &secret).map_err(|e| Error::internal(e.to_string()))
}

/// Seal content: the SM2 signature (r‖s, hex) over its canonical form.
pub fn seal(content: &Value, key: &SigningKey) -> String {
    let sig: Signature = key.sign(canonical(content).as_bytes());
    hex::encode(sig.to_bytes())
}

/// The public key, uncompressed SEC1, hex.
pub fn public_hex(key: &SigningKey) -> String {
    hex::encode(key.verifying_key().to_sec1_bytes())
}

pub fn check(content: &Value, seal_hex: &str, public: &str) -> Result<()> {
    let bad = || Error::invalid("seal", "the SM2 seal does not verify");
    let pk = hex::decode(public).map_err(|_| bad())?;
    let vk = VerifyingKey::from_sec1_bytes(DISTID, &pk).map_err(|_| bad())?;
    let sig =
        Signature::from_slice(&hex::decode(seal_hex).map_err(|_| bad())?).map_err(|_| bad())?;
    vk.verify(canonical(content).as_bytes(), &sig)
        .map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn seal_and_check() {
        let k = generate().unwrap();
        let content = json!({"b": 2, "a": {"y": [1, "二"], "x": null}});
        assert_eq!(
            canonical(&content),
            r#"{"a":{"x":null,"y":[1,"二"]},"b":2}"#
        );
        let s = seal(&content, &k);
        assert!(check(&content, &s, &public_hex(&k)).is_ok());
        // Key order does not matter; content does.
        assert!(
            check(
                &json!({"a": {"y": [1, "二"], "x": null}, "b": 2}),
                &s,
                &public_hex(&k)
            )
            .is_ok()
        );
        assert!(
            check(
                &json!({"b": 3, "a": {"y": [1, "二"], "x": null}}),
                &s,
                &public_hex(&k)
            )
            .is_err()
        );
    }
}
