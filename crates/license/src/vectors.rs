//! Test vectors for independent verifiers: presentations that must verify and ones that must not
//! (forged disclosure, extra disclosure, wrong nonce, expired license, revoked status), the trust
//! list and status list they need, and an SM2 seal. `scripts/test` checks them with the OpenWallet
//! Foundation `sd-jwt` and `gmssl` Python packages; this crate's tests check them with Shuju's
//! verifier, so both sides judge the same bytes.

use crate::jose::{b64, generate, jwk, sign};
use crate::sdjwt::{Credential, issue, present};
use crate::seal;
use crate::status::StatusList;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use shuju_types::Result;

pub const AUD: &str = "https://window.yanggu.example/verifier";
pub const NONCE: &str = "7f3a9c21";
pub const STATUS_URI: &str = "https://shuju.example/api/v1/licenses/status/1";

/// Make a fresh set of vectors at time `now` (Unix seconds).
pub fn generate_vectors(now: i64) -> Result<Value> {
    let issuer_key = generate();
    let holder = generate();
    let issuer = "https://shuju.example/issuers/11371500004353002Q";
    let mut claims = Map::new();
    for (k, v) in [
        ("name", json!("张三")),
        ("citizen_id", json!("371502199001011234")),
        ("vehicle_class", json!("C1")),
        ("valid_from", json!("2020-01-01")),
        ("address", json!("聊城市东昌府区柳园街道")),
    ] {
        claims.insert(k.into(), v);
    }
    let mk = |idx: u64, exp: i64| {
        issue(
            &Credential {
                issuer,
                kid: "es256-2026",
                vct: "driving_licence",
                license_id: "1.2.156.3005.2.11100000000013127D003.11371500004353002Q.2026000001.001.X",
                iat: now - 3600,
                exp: Some(exp),
                claims: &claims,
                holder: holder.verifying_key(),
                status: Some((STATUS_URI, idx)),
            },
            &issuer_key,
        )
    };
    let good = mk(1, now + 86_400 * 365)?;
    let revoked = mk(2, now + 86_400 * 365)?;
    let expired = mk(3, now - 60)?;
    let mut list = StatusList::new(1024);
    list.set(2, crate::sdjwt::Status::Revoked)?;
    let status_token = list.token(STATUS_URI, "es256-2026", now, 3600, &issuer_key)?;
    let show = ["name", "vehicle_class"];
    let valid = present(&good, &show, &holder, AUD, NONCE, now)?;
    // A forged disclosure: a claim the issuer never signed, bound by the holder.
    let jwt = good.split('~').next().unwrap_or_default();
    let forged_d = b64(json!(["c2FsdA", "vehicle_class", "A1"]).to_string());
    let body = format!("{jwt}~{forged_d}~");
    let sd_hash = b64(Sha256::digest(body.as_bytes()));
    let kb = sign(
        &json!({"alg": "ES256", "typ": "kb+jwt"}),
        &json!({"iat": now, "aud": AUD, "nonce": NONCE, "sd_hash": sd_hash}),
        &holder,
    );
    let forged = format!("{body}{kb}");
    // An extra, unreferenced disclosure slipped in (and re-bound).
    let (valid_body, _) = valid.rsplit_once('~').unwrap_or_default();
    let body = format!(
        "{valid_body}~{}~",
        b64(json!(["c2FsdDI", "note", "extra"]).to_string())
    );
    let sd_hash = b64(Sha256::digest(body.as_bytes()));
    let kb = sign(
        &json!({"alg": "ES256", "typ": "kb+jwt"}),
        &json!({"iat": now, "aud": AUD, "nonce": NONCE, "sd_hash": sd_hash}),
        &holder,
    );
    let extra = format!("{body}{kb}");
    let wrong_nonce = present(&good, &show, &holder, AUD, "00000000", now)?;
    let expired_p = present(&expired, &show, &holder, AUD, NONCE, now)?;
    let revoked_p = present(&revoked, &show, &holder, AUD, NONCE, now)?;
    let seal_key = seal::generate()?;
    let content = json!({"license_id": "1.2.156.3005.2.11100000000013127D003.11371500004353002Q.2026000001.001.X", "name": "张三", "vehicle_class": "C1"});
    let sig = seal::seal(&content, &seal_key);
    Ok(json!({
        "now": now,
        "aud": AUD,
        "nonce": NONCE,
        "issuer": issuer,
        "trust_list": {"keys": [{"kid": "es256-2026", "iss": issuer, "jwk": jwk(issuer_key.verifying_key())}]},
        "status_list_token": status_token,
        "disclosed": show,
        "presentations": [
            {"case": "valid", "expect": "accept", "presentation": valid},
            {"case": "forged disclosure", "expect": "reject", "presentation": forged},
            {"case": "extra disclosure", "expect": "reject", "presentation": extra},
            {"case": "wrong nonce", "expect": "reject", "presentation": wrong_nonce},
            {"case": "expired", "expect": "reject", "presentation": expired_p},
            {"case": "revoked", "expect": "reject", "presentation": revoked_p},
        ],
        "withheld_values": ["371502199001011234", "聊城市东昌府区柳园街道", "2020-01-01"],
        "sm2": {"distid": seal::DISTID, "public": seal::public_hex(&seal_key), "message": seal::canonical(&content), "signature": sig},
    }))
}

/// Judge vectors with Shuju's verifier: (case, expected, Shuju's verdict and reason) per presentation,
/// then the SM2 seal. Also checks that accepted presentations hide the withheld values.
pub fn judge(v: &Value) -> Result<Vec<(String, String, String)>> {
    use crate::jose::{Jws, from_jwk};
    use crate::sdjwt::{Expect, TrustList, verify};
    let bad = |m: &str| shuju_types::Error::invalid("vectors", m.to_owned());
    let now = v["now"].as_i64().ok_or_else(|| bad("no now"))?;
    let mut trust = TrustList::default();
    let mut first_key = None;
    for k in v["trust_list"]["keys"]
        .as_array()
        .ok_or_else(|| bad("no trust list"))?
    {
        let key = from_jwk(&k["jwk"])?;
        first_key.get_or_insert(key);
        trust.add(
            k["kid"].as_str().unwrap_or_default(),
            k["iss"].as_str().unwrap_or_default(),
            key,
        );
    }
    let token = Jws::decode(
        v["status_list_token"].as_str().unwrap_or_default(),
        "status_list_token",
    )?;
    token.verify(
        &first_key.ok_or_else(|| bad("empty trust list"))?,
        "status_list_token",
    )?;
    let list = StatusList::decode(
        token.payload["status_list"]["lst"]
            .as_str()
            .unwrap_or_default(),
    )?;
    let status = move |_: &str, idx: u64| list.get(idx as usize);
    let x = Expect {
        aud: v["aud"].as_str().unwrap_or_default(),
        nonce: v["nonce"].as_str().unwrap_or_default(),
        now,
        max_age: 300,
        status: &status,
    };
    let mut out = Vec::new();
    for p in v["presentations"]
        .as_array()
        .ok_or_else(|| bad("no presentations"))?
    {
        let text = p["presentation"].as_str().unwrap_or_default();
        let verdict = match verify(text, &trust, &x) {
            Ok(ok) => {
                let decoded: String = text
                    .split(['~', '.'])
                    .filter_map(|s| crate::jose::unb64(s, "x").ok())
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .collect();
                let leaked = v["withheld_values"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .find(|w| decoded.contains(*w));
                match leaked {
                    Some(w) => format!("LEAK {w}"),
                    None => format!("accept ({} claims)", ok.claims.len()),
                }
            }
            Err(e) => format!("reject ({})", e.message),
        };
        out.push((
            p["case"].as_str().unwrap_or_default().to_owned(),
            p["expect"].as_str().unwrap_or_default().to_owned(),
            verdict,
        ));
    }
    let s = &v["sm2"];
    let content: Value = serde_json::from_str(s["message"].as_str().unwrap_or_default())
        .map_err(|_| bad("sm2 message is not JSON"))?;
    let sealed = seal::check(
        &content,
        s["signature"].as_str().unwrap_or_default(),
        s["public"].as_str().unwrap_or_default(),
    );
    out.push((
        "sm2 seal".into(),
        "accept".into(),
        if sealed.is_ok() {
            "accept".into()
        } else {
            "reject".into()
        },
    ));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuju_judges_the_vectors_as_labelled() {
        let v = generate_vectors(1_800_000_000).unwrap();
        for (case, expect, got) in judge(&v).unwrap() {
            assert!(
                got.starts_with(&expect),
                "{case}: expected {expect}, got {got}"
            );
        }
    }
}
