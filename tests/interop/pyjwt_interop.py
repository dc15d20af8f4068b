"""Keyward <-> PyJWT interoperability, both directions, every algorithm family.

Keyward signs with vault keys (`jwt sign`), PyJWT verifies with the exported
public key (or the revealed HMAC secret). PyJWT signs with keys made by the
`cryptography` package, Keyward verifies with `--key-file`/`--secret-file`,
and must reject the same token with one signature byte changed.
"""
import base64
import json
import os
import subprocess
import sys
import tempfile
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

KW = sys.argv[1]
ALGS = ["HS256", "HS512", "RS256", "PS256", "ES256", "ES384", "EdDSA"]
results = []


def kw(vault, *args, stdin=None):
    p = subprocess.run([KW, "--vault", vault, *args], input=stdin, capture_output=True)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}{'' if ok else ': ' + detail}")


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def python_key(alg):
    """A private key for PyJWT and what Keyward verifies with: (signing key, file bytes, flag)."""
    if alg.startswith("HS"):
        secret = os.urandom(64)
        return secret, secret, "--secret-file"
    if alg.startswith(("RS", "PS")):
        k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif alg == "ES256":
        k = ec.generate_private_key(ec.SECP256R1())
    elif alg == "ES384":
        k = ec.generate_private_key(ec.SECP384R1())
    else:
        k = ed25519.Ed25519PrivateKey.generate()
    pem = k.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return k, pem, "--key-file"


def main():
    with tempfile.TemporaryDirectory() as tmp:
        vault = os.path.join(tmp, "vault")
        for alg in ALGS:
            name = f"interop-{alg.lower()}"
            code, out, err = kw(vault, "key", "new", "--kind", "signing", "--name", name, "--alg", alg)
            if code != 0:
                check(f"{alg}: key new", False, err)
                continue
            code, token, err = kw(vault, "jwt", "sign", "--key", name, "--sub", "alice", "--aud", "api", "--ttl", "10m")
            token = token.strip()
            if alg.startswith("HS"):
                _, secret, _ = kw(vault, "key", "reveal", name)
                key = b64url_decode(secret.strip())
            else:
                _, key, _ = kw(vault, "key", "export", name, "--format", "pem", "--public")
            try:
                claims = jwt.decode(token, key, algorithms=[alg], audience="api")
                check(f"{alg}: Keyward-signed token verifies in PyJWT", claims.get("sub") == "alice", str(claims))
            except Exception as e:  # noqa: BLE001 - any failure is the finding
                check(f"{alg}: Keyward-signed token verifies in PyJWT", False, repr(e))

            signing, verifying, flag = python_key(alg)
            now = int(time.time())
            token = jwt.encode({"sub": "bob", "iat": now, "exp": now + 600, "aud": "api"}, signing, algorithm=alg)
            path = os.path.join(tmp, f"{alg}.key")
            with open(path, "wb") as f:
                f.write(verifying)
            code, out, err = kw(vault, "--json", "jwt", "verify", token, flag, path, "--aud", "api")
            report = json.loads(out) if out.strip().startswith("{") else {}
            check(f"{alg}: PyJWT-signed token verifies in Keyward", code == 0 and report.get("valid") is True, out + err)
            head, payload, sig = token.split(".")
            raw = bytearray(b64url_decode(sig))
            raw[0] ^= 1
            forged = f"{head}.{payload}." + base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
            code, out, err = kw(vault, "jwt", "verify", forged, flag, path, "--aud", "api")
            check(f"{alg}: PyJWT token with a changed signature byte is rejected", code == 1, f"exit {code}")
    passed = sum(results)
    failed = len(results) - passed
    print(f"interop: {passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 and passed > 0 else 1)


if __name__ == "__main__":
    main()
