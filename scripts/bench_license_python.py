"""The Python peer of `shuju bench license-verify`: verify the same presentations with the
OpenWallet Foundation sd-jwt package (plus the expiry, unreferenced-disclosure and status checks it
lacks) for a fixed time, and print the rate as JSON.

Usage: python bench_license_python.py tokens.json SECONDS
"""
import base64
import hashlib
import json
import sys
import time
import zlib

from jwcrypto.jwk import JWK
from jwcrypto.jws import JWS
from sd_jwt.verifier import SDJWTVerifier


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64hash(data):
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def main(path, seconds):
    v = json.load(open(path))
    keys = {k["kid"]: JWK.from_json(json.dumps(k["public"])) for k in v["trust_list"]["keys"] if k["alg"] == "ES256"}
    token = JWS()
    token.deserialize(v["status_list_token"])
    token.verify(keys[token.jose_header["kid"]], alg="ES256")
    status = json.loads(token.payload)["status_list"]
    bits, lst = status["bits"], zlib.decompress(b64d(status["lst"]))
    now = time.time()

    def verify(case):
        p = case["presentation"]
        verifier = SDJWTVerifier(p, lambda iss, header: keys[header["kid"]], case["aud"], case["nonce"])
        verifier.get_verified_payload()
        payload = verifier._sd_jwt_payload
        if "exp" in payload and now >= payload["exp"]:
            raise ValueError("expired")
        referenced = set(payload.get("_sd", []))
        for d in p.split("~")[1:-1]:
            if b64hash(d.encode("ascii")) not in referenced:
                raise ValueError("unreferenced disclosure")
        idx = payload["status"]["status_list"]["idx"]
        if (lst[idx * bits // 8] >> ((idx * bits) % 8)) & ((1 << bits) - 1):
            raise ValueError("status")

    cases = v["presentations"]
    n = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        verify(cases[n % len(cases)])
        n += 1
    elapsed = time.perf_counter() - start
    print(json.dumps({"verifications": n, "seconds": elapsed, "per_second": n / elapsed}))


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
