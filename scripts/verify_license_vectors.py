"""Verify Shuju's e-license test vectors with independent implementations.

- SD-JWT presentations: the OpenWallet Foundation `sd-jwt` package (SDJWTVerifier), plus the checks
  it lacks, added here: the expiry (`exp`), disclosures the credential does not reference, and the
  IETF Token Status List entry.
- The SM2 seal: the `gmssl` package (SM2 with SM3 and the default distinguishing identifier).

Usage: shuju license test-vectors > v.json && python verify_license_vectors.py v.json
"""
import base64
import hashlib
import json
import sys
import zlib

from gmssl import sm2
from jwcrypto.jwk import JWK
from jwcrypto.jws import JWS
from sd_jwt.verifier import SDJWTVerifier


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64hash(data):
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def main(path):
    v = json.load(open(path))
    keys = {k["kid"]: JWK.from_json(json.dumps(k["jwk"])) for k in v["trust_list"]["keys"]}
    issuers = {k["kid"]: k["iss"] for k in v["trust_list"]["keys"]}

    # The status list, verified with the trust list.
    token = JWS()
    token.deserialize(v["status_list_token"])
    kid = token.jose_header["kid"]
    token.verify(keys[kid], alg="ES256")
    status = json.loads(token.payload)["status_list"]
    bits, lst = status["bits"], zlib.decompress(b64d(status["lst"]))

    def status_of(idx):
        return (lst[idx * bits // 8] >> ((idx * bits) % 8)) & ((1 << bits) - 1)

    def issuer_key(iss, header):
        if issuers.get(header.get("kid")) != iss:
            raise ValueError("issuer does not own the key")
        return keys[header["kid"]]

    failures = 0
    for case in v["presentations"]:
        p = case["presentation"]
        try:
            verifier = SDJWTVerifier(p, issuer_key, v["aud"], v["nonce"])
            claims = verifier.get_verified_payload()
            payload = verifier._sd_jwt_payload
            # Added: expiry.
            if "exp" in payload and v["now"] >= payload["exp"]:
                raise ValueError("expired")
            # Added: every disclosure must be referenced by the credential.
            referenced = set(payload.get("_sd", []))
            for d in p.split("~")[1:-1]:
                if b64hash(d.encode("ascii")) not in referenced:
                    raise ValueError("unreferenced disclosure")
            # Added: the status list.
            entry = payload.get("status", {}).get("status_list")
            if entry and status_of(entry["idx"]) != 0:
                raise ValueError("status is not valid")
            verdict = "accept"
            disclosed = sorted(k for k in claims if k not in ("iss", "iat", "exp", "vct", "license_id", "cnf", "status", "nbf"))
            if disclosed != sorted(v["disclosed"]):
                raise SystemExit(f"{case['case']}: disclosed {disclosed}, expected {v['disclosed']}")
            text = json.dumps(claims, ensure_ascii=False)
            for w in v["withheld_values"]:
                if w in text:
                    raise SystemExit(f"{case['case']}: withheld value {w} visible")
        except (ValueError, KeyError, Exception) as e:  # noqa: BLE001 - any failure is a rejection
            if isinstance(e, SystemExit):
                raise
            verdict = "reject"
            reason = str(e)
        ok = verdict == case["expect"]
        failures += not ok
        print(f"sd-jwt {case['case']:<18} expected {case['expect']:<6} python verifier: {verdict:<6} {'ok' if ok else 'MISMATCH'}"
              + ("" if verdict == "accept" else f" ({reason})"))

    s = v["sm2"]
    public = s["public"][2:] if s["public"].startswith("04") else s["public"]
    crypt = sm2.CryptSM2(public_key=public, private_key=None)
    sm2_ok = crypt.verify_with_sm3(s["signature"], s["message"].encode("utf-8"))
    tampered = crypt.verify_with_sm3(s["signature"], (s["message"] + " ").encode("utf-8"))
    print(f"sm2 seal verifies with gmssl: {sm2_ok}; tampered message rejected: {not tampered}")
    failures += (not sm2_ok) + bool(tampered)
    if failures:
        sys.exit(f"{failures} vector(s) judged differently")


if __name__ == "__main__":
    main(sys.argv[1])
