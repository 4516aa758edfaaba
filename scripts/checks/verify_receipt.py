"""Check a Shuju decision receipt with implementations independent of Shuju's: the ES256 JWS with
the `cryptography` package (OpenSSL) and the SM2 seal with `gmssl` (SM2 with SM3, the default
distinguishing identifier), each against the published trust list.

Usage: python verify_receipt.py receipt.json trust-list.json
Prints {"es256": true|false, "sm2": true|false}: es256 is true when the JWS verifies under the
trust list's key of its kid AND signs exactly the receipt's payload; sm2 when the seal verifies
under the SM2 key over the payload's canonical JSON (keys sorted, no white space).
"""
import base64
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from gmssl import sm2


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def canonical(v):
    return json.dumps(v, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def key(trust, kid, alg):
    for k in trust["keys"]:
        if k["kid"] == kid and k["alg"] == alg:
            return k["public"]
    raise KeyError(f"{alg} key {kid} is not in the trust list")


def es256(receipt, trust):
    try:
        h, p, s = receipt["jws"].split(".")
        header = json.loads(b64d(h))
        if header.get("alg") != "ES256" or header.get("kid") != receipt["es256_kid"]:
            return False
        jwk = key(trust, receipt["es256_kid"], "ES256")
        x = int.from_bytes(b64d(jwk["x"]), "big")
        y = int.from_bytes(b64d(jwk["y"]), "big")
        public = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
        sig = b64d(s)
        if len(sig) != 64:
            return False
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        public.verify(der, f"{h}.{p}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
        return canonical(json.loads(b64d(p))) == canonical(receipt["payload"])
    except (InvalidSignature, ValueError, KeyError):
        return False


def seal(receipt, trust):
    try:
        public = key(trust, receipt["sm2_kid"], "SM2")
        public = public[2:] if public.startswith("04") else public
        crypt = sm2.CryptSM2(public_key=public, private_key=None)
        return bool(crypt.verify_with_sm3(receipt["seal"], canonical(receipt["payload"]).encode("utf-8")))
    except (ValueError, KeyError, TypeError):
        return False


def main(receipt_path, trust_path):
    receipt = json.load(open(receipt_path, encoding="utf-8"))
    trust = json.load(open(trust_path, encoding="utf-8"))
    print(json.dumps({"es256": es256(receipt, trust), "sm2": seal(receipt, trust)}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
