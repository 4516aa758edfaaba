//! Decision receipts checked offline: a receipt's ES256 signature and SM2 seal against the
//! published trust list, with nothing but the receipt and the list.

use crate::jose::{self, Jws};
use crate::seal;
use serde_json::Value;
use shuju_types::{Error, Result};

/// Check a receipt (`{"payload", "jws", "es256_kid", "seal", "sm2_kid"}`) against a trust list
/// (`{"keys": [{"kid", "alg", "public"}]}`): the JWS verifies under its ES256 key and signs
/// exactly the payload; the seal verifies under its SM2 key over the payload's canonical JSON.
pub fn verify(receipt: &Value, trust_list: &Value) -> Result<()> {
    let payload = receipt
        .get("payload")
        .filter(|p| p.is_object())
        .ok_or_else(|| Error::invalid("payload", "a receipt has its payload"))?;
    let text = |k: &str| {
        receipt
            .get(k)
            .and_then(Value::as_str)
            .ok_or_else(|| Error::invalid(k, "is missing from the receipt"))
    };
    let key = |kid: &str, alg: &str| {
        trust_list
            .get("keys")
            .and_then(Value::as_array)
            .and_then(|ks| ks.iter().find(|k| k["kid"] == kid && k["alg"] == alg))
            .map(|k| k["public"].clone())
            .ok_or_else(|| {
                Error::invalid("kid", format!("{alg} key {kid} is not in the trust list"))
            })
    };
    let jws = Jws::decode(text("jws")?, "jws")?;
    if jws.header["kid"] != text("es256_kid")? {
        return Err(Error::invalid("jws", "is signed under another key"));
    }
    jws.verify(&jose::from_jwk(&key(text("es256_kid")?, "ES256")?)?, "jws")?;
    if seal::canonical(&jws.payload) != seal::canonical(payload) {
        return Err(Error::invalid("payload", "differs from what the JWS signs"));
    }
    let sm = key(text("sm2_kid")?, "SM2")?;
    seal::check(
        payload,
        text("seal")?,
        sm.as_str()
            .ok_or_else(|| Error::invalid("kid", "the SM2 key is not hex"))?,
    )
}
