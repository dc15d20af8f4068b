#!/usr/bin/env python3
"""Writes the bad-input corpus (tests/corpus/{tokens,keys,apikeys}/ and
manifest.tsv). Run once; the files are committed. Needs Python 3 with the
`cryptography` package and the openssl command (for weak and off-curve keys). The big and binary
inputs (10 MB token, deep nesting, NUL bytes, invalid UTF-8) are made at test
time by tests/reliability/bad_input.rs instead.

Every input here must be refused with exit 2: a token that is not a compact
JWS, a key that is malformed, weak or unsupported, an API key that is not
well-formed."""
import base64, json, os, zlib
from cryptography.hazmat.primitives.asymmetric import rsa, ec, ed25519, ed448, x25519, dsa
from cryptography.hazmat.primitives import serialization as ser

root = os.path.dirname(os.path.abspath(__file__))
manifest = []

def put(kind, name, data, why):
    d = os.path.join(root, kind)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
    manifest.append((f"{kind}/{name}", why))

def b64u(b):
    if isinstance(b, str):
        b = b.encode()
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

GOOD_H = b64u('{"alg":"HS256","typ":"JWT"}')
GOOD_P = b64u('{"sub":"x","iat":1700000000}')
SIG = b64u(b"\x01" * 32)

# ---- tokens -----------------------------------------------------------
t = lambda n, s, why: put("tokens", n + ".txt", s, why)
t("empty", "", "empty token")
t("spaces", "   \n\t  ", "whitespace only")
t("one-part", "abcdef", "one part")
t("two-parts", f"{GOOD_H}.{GOOD_P}", "two parts")
t("four-parts", f"{GOOD_H}.{GOOD_P}.{SIG}.{SIG}", "four parts")
t("jwe-five-parts", f"{GOOD_H}.{SIG}.{SIG}.{SIG}.{SIG}", "five parts (JWE)")
t("six-parts", ".".join([GOOD_H] * 6), "six parts")
t("only-dots", "..", "empty header")
t("empty-header", f".{GOOD_P}.{SIG}", "empty header part")
t("many-dots", "." * 5000, "5000 dots")
t("std-base64-plus", f"{GOOD_H[:-2]}+/.{GOOD_P}.{SIG}", "standard base64 alphabet in the header")
t("padded-header", f"{GOOD_H}==.{GOOD_P}.{SIG}", "padding in the header")
t("space-in-header", f"{GOOD_H[:5]} {GOOD_H[5:]}.{GOOD_P}.{SIG}", "space inside the header")
t("bang-in-header", f"{GOOD_H[:5]}!{GOOD_H[5:]}.{GOOD_P}.{SIG}", "! in the header")
t("len-1-mod-4", f"{GOOD_H}A.{GOOD_P}.{SIG}", "header length 1 mod 4")
t("bad-sig-b64", f"{GOOD_H}.{GOOD_P}.%%%%", "signature not base64url")
t("bad-payload-b64", f"{GOOD_H}.pay*load.{SIG}", "payload not base64url")
t("newline-inside", f"{GOOD_H}\n.{GOOD_P}.{SIG}", "newline inside the token")
t("tab-inside", f"{GOOD_H}.{GOOD_P}\t.{SIG}", "tab inside the token")
t("unicode-inside", f"{GOOD_H}é.{GOOD_P}.{SIG}", "non-ASCII letter in the header")
t("fullwidth-dot", f"{GOOD_H}\uff0e{GOOD_P}\uff0e{SIG}", "full-width dots")
t("jws-json", json.dumps({"payload": GOOD_P, "signatures": [{"protected": GOOD_H, "signature": SIG}]}), "JWS JSON serialization")
t("jws-json-flattened", json.dumps({"payload": GOOD_P, "protected": GOOD_H, "signature": SIG}), "flattened JWS JSON")
for i, (hdr, why) in enumerate([
    ("[]", "header is an array"), ("1", "header is a number"), ('"HS256"', "header is a string"),
    ("null", "header is null"), ("true", "header is a boolean"), ("{", "header is truncated JSON"),
    ("{alg:HS256}", "header with unquoted names"), ("{'alg':'HS256'}", "header with single quotes"),
    ("{}", "header without alg"), ('{"typ":"JWT"}', "header without alg, with typ"),
    ('{"alg":1}', "alg is a number"), ('{"alg":null}', "alg is null"), ('{"alg":["HS256"]}', "alg is an array"),
    ('{"alg":{"name":"HS256"}}', "alg is an object"),
    ('{"alg":"HS256","alg":"none"}', "duplicate alg"), ('{"alg":"none","alg":"HS256"}', "duplicate alg, none first"),
    ('{"alg":"HS256","kid":"a","kid":"b"}', "duplicate kid"),
    ('{"alg":"HS256"}x', "trailing garbage after the header"), ('{"alg":"HS256"}{}', "two JSON values"),
    ('\ufeff{"alg":"HS256"}', "byte-order mark before the header"),
    ('{"alg":"HS256","x":1e999999}', "number out of range"),
    ('{"alg":"HS256","x":"\\ud800"}', "lone surrogate escape"),
    ('{"alg":"HS256",}', "trailing comma"), ('{"alg":"HS256" "typ":"JWT"}', "missing comma"),
    ('{"alg":"HS256","x":NaN}', "NaN"), ('{"alg":"HS256","x":01}', "leading zero"),
    ('{"alg":"HS256","x":"a\x01b"}', "raw control character in a string"),
    ("", "empty header JSON"),
]):
    t(f"header-{i:02}", f"{b64u(hdr)}.{GOOD_P}.{SIG}", why)
ALG_JSON = b'{"alg":"HS256"}'
def tok(header_bytes):
    return b64u(header_bytes) + "." + GOOD_P + "." + SIG
t("header-utf16", tok(ALG_JSON.decode().encode("utf-16")), "UTF-16 header")
t("header-invalid-utf8", tok(b'{"alg":"HS\xff256"}'), "invalid UTF-8 in the header JSON")
t("header-latin1", tok(b'{"alg":"HS256","n":"caf\xe9"}'), "Latin-1 byte in the header JSON")
t("header-deep-64", tok(b'{"alg":"HS256","x":' + b"[" * 64 + b"]" * 64 + b"}"), "header nested 64 levels")
t("header-deep-1000", tok(b'{"alg":"HS256","x":' + b'{"a":' * 1000 + b"1" + b"}" * 1000 + b"}"), "header nested 1000 levels")
t("header-nul", tok(ALG_JSON + bytes(1)), "NUL byte after the header JSON")

# ---- keys ---------------------------------------------------------------
k = lambda n, s, why: put("keys", n, s, why)
P8, SPKI, PEM, DER = ser.PrivateFormat.PKCS8, ser.PublicFormat.SubjectPublicKeyInfo, ser.Encoding.PEM, ser.Encoding.DER
NOENC = ser.NoEncryption()
ec256 = ec.generate_private_key(ec.SECP256R1())
good_pem = ec256.private_bytes(PEM, P8, NOENC).decode()
lines = good_pem.strip().split("\n")
k("truncated-half.pem", good_pem[: len(good_pem) // 2], "PEM cut in half")
k("truncated-body.pem", "\n".join(lines[:2] + [lines[-1]]) + "\n", "PEM body cut short")
k("no-end.pem", "\n".join(lines[:-1]) + "\n", "PEM without END line")
k("end-mismatch.pem", good_pem.replace("END PRIVATE KEY", "END PUBLIC KEY"), "END label differs from BEGIN")
k("begin-unclosed.pem", good_pem.replace("-----BEGIN PRIVATE KEY-----", "-----BEGIN PRIVATE KEY"), "BEGIN line not closed")
k("bad-b64.pem", good_pem.replace(lines[1][:8], "!!!!!!!!"), "invalid base64 in PEM body")
k("empty-body.pem", "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n", "empty PEM body")
k("garbage-body.pem", "-----BEGIN PRIVATE KEY-----\nSGVsbG8gd29ybGQ=\n-----END PRIVATE KEY-----\n", "PEM body is not a key")
body = "\n".join(lines[1:-1])
for label in ["CERTIFICATE REQUEST", "OPENSSH PRIVATE KEY", "DSA PRIVATE KEY", "PGP PRIVATE KEY BLOCK", "X509 CRL", "FOO", "private key", "PKCS7"]:
    k(f"label-{label.lower().replace(' ', '-')}.pem", f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n", f"wrong PEM label {label}")
pub_pem = ec256.public_key().public_bytes(PEM, SPKI).decode()
k("private-label-public-body.pem", pub_pem.replace("PUBLIC KEY", "PRIVATE KEY"), "PRIVATE KEY label around an SPKI")
k("public-label-private-body.pem", good_pem.replace("PRIVATE KEY", "PUBLIC KEY"), "PUBLIC KEY label around a PKCS#8 key")
sec1 = ec256.private_bytes(PEM, ser.PrivateFormat.TraditionalOpenSSL, NOENC).decode()
k("rsa-label-ec-body.pem", sec1.replace("EC PRIVATE KEY", "RSA PRIVATE KEY"), "RSA PRIVATE KEY label around a SEC1 EC key")
k("cert-label-key-body.pem", good_pem.replace("PRIVATE KEY", "CERTIFICATE"), "CERTIFICATE label around a key")
k("encrypted-pkcs8.pem", ec256.private_bytes(PEM, P8, ser.BestAvailableEncryption(b"pw")).decode(), "encrypted PKCS#8")
k("encrypted-legacy.pem", ec256.private_bytes(PEM, ser.PrivateFormat.TraditionalOpenSSL, ser.BestAvailableEncryption(b"pw")).decode(), "legacy encrypted PEM (Proc-Type)")
import subprocess
for bits in (512, 1024):
    r = ser.load_pem_private_key(subprocess.run(["openssl", "genrsa", str(bits)], capture_output=True, check=True).stdout, None, unsafe_skip_rsa_key_validation=True)
    k(f"rsa{bits}-pkcs8.pem", r.private_bytes(PEM, P8, NOENC).decode(), f"RSA {bits} bits (private)")
    k(f"rsa{bits}-pkcs1.pem", r.private_bytes(PEM, ser.PrivateFormat.TraditionalOpenSSL, NOENC).decode(), f"RSA {bits} bits (PKCS#1)")
    k(f"rsa{bits}-spki.pem", r.public_key().public_bytes(PEM, SPKI).decode(), f"RSA {bits} bits (public)")
    k(f"rsa{bits}.jwk", json.dumps({"kty": "RSA", "n": b64u(r.public_key().public_numbers().n.to_bytes(bits // 8, "big")), "e": "AQAB"}), f"RSA {bits} bits JWK")
r1536 = rsa.generate_private_key(65537, 1536)
k("rsa1536-spki.pem", r1536.public_key().public_bytes(PEM, SPKI).decode(), "RSA 1536 bits")
k("rsa1536-pkcs1-public.pem", r1536.public_key().public_bytes(PEM, ser.PublicFormat.PKCS1).decode(), "RSA 1536 bits (PKCS#1 public)")

def der_len(n):
    if n < 128:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b
def tlv(tag, content):
    return bytes([tag]) + der_len(len(content)) + content
def der_int(v):
    b = v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big")
    return tlv(0x02, b)
RSA_ALG = bytes.fromhex("300d06092a864886f70d0101010500")
def rsa_spki(n, e):
    pk = tlv(0x30, der_int(n) + der_int(e))
    return tlv(0x30, RSA_ALG + tlv(0x03, b"\x00" + pk))
def pem(label, der):
    b = base64.b64encode(der).decode()
    return f"-----BEGIN {label}-----\n" + "\n".join(b[i:i + 64] for i in range(0, len(b), 64)) + f"\n-----END {label}-----\n"
n2048 = rsa.generate_private_key(65537, 2048).public_key().public_numbers().n
k("rsa-e1.pem", pem("PUBLIC KEY", rsa_spki(n2048, 1)), "RSA public exponent 1")
k("rsa-e-even.pem", pem("PUBLIC KEY", rsa_spki(n2048, 65536)), "RSA even public exponent")
k("rsa-n-even.pem", pem("PUBLIC KEY", rsa_spki(n2048 - 1, 65537)), "RSA even modulus")
k("rsa-e1.jwk", json.dumps({"kty": "RSA", "n": b64u(n2048.to_bytes(256, "big")), "e": "AQ"}), "RSA JWK exponent 1")

ec_pub_der = ec256.public_key().public_bytes(DER, SPKI)
def flip_last(der):
    return der[:-1] + bytes([der[-1] ^ 1])
k("p256-off-curve.pem", pem("PUBLIC KEY", flip_last(ec_pub_der)), "P-256 point off the curve")
ec384 = ec.generate_private_key(ec.SECP384R1())
k("p384-off-curve.pem", pem("PUBLIC KEY", flip_last(ec384.public_key().public_bytes(DER, SPKI))), "P-384 point off the curve")
k("p256-off-curve.der", flip_last(ec_pub_der), "P-256 point off the curve (DER)")
# The point at infinity and a compressed point whose x has no y.
pre = ec_pub_der[: ec_pub_der.index(b"\x03\x42\x00") ]
k("p256-infinity.pem", pem("PUBLIC KEY", tlv(0x30, pre[2:] + tlv(0x03, b"\x00\x00"))), "P-256 point at infinity")
k("p256-x-only-bad.pem", pem("PUBLIC KEY", tlv(0x30, pre[2:] + tlv(0x03, b"\x00\x02" + b"\xff" * 32))), "compressed P-256 point with x beyond p")
nums = ec256.public_key().public_numbers()
k("p256-off-curve.jwk", json.dumps({"kty": "EC", "crv": "P-256", "x": b64u(nums.x.to_bytes(32, "big")), "y": b64u((nums.y ^ 1).to_bytes(32, "big"))}), "P-256 JWK point off the curve")
n384 = ec384.public_key().public_numbers()
k("p384-off-curve.jwk", json.dumps({"kty": "EC", "crv": "P-384", "x": b64u(n384.x.to_bytes(48, "big")), "y": b64u((n384.y ^ 1).to_bytes(48, "big"))}), "P-384 JWK point off the curve")
k("p256-zero-point.jwk", json.dumps({"kty": "EC", "crv": "P-256", "x": b64u(bytes(32)), "y": b64u(bytes(32))}), "P-256 JWK point (0,0)")
k("secp256k1.pem", ec.generate_private_key(ec.SECP256K1()).private_bytes(PEM, P8, NOENC).decode(), "unsupported curve secp256k1")
k("p521.pem", ec.generate_private_key(ec.SECP521R1()).private_bytes(PEM, P8, NOENC).decode(), "unsupported curve P-521")
k("p224-public.pem", ec.generate_private_key(ec.SECP224R1()).public_key().public_bytes(PEM, SPKI).decode(), "unsupported curve P-224")
k("ed448.pem", ed448.Ed448PrivateKey.generate().private_bytes(PEM, P8, NOENC).decode(), "unsupported Ed448")
k("x25519.pem", x25519.X25519PrivateKey.generate().private_bytes(PEM, P8, NOENC).decode(), "X25519 is not a signing key")
k("dsa.pem", dsa.generate_private_key(2048).private_bytes(PEM, P8, NOENC).decode(), "DSA is unsupported")
k("garbage.der", b"\x30\x82\x01\x00" + os.urandom(64), "DER header over random bytes")
k("trailing-garbage.der", ec_pub_der + b"\x00\x01\x02", "DER key followed by garbage")
k("random.bin", bytes(range(1, 200)), "binary noise")
k("hello.txt", "hello, I am not a key\n", "plain text")
k("jwt-in-key-file.txt", f"{GOOD_H}.{GOOD_P}.{SIG}", "a JWT instead of a key")
k("whitespace.txt", " \n \t\n", "whitespace only")
k("cert-truncated.pem", "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUY29ycnVwdA==\n-----END CERTIFICATE-----\n", "truncated certificate")
ed = ed25519.Ed25519PrivateKey.generate()
ed_der = ed.private_bytes(DER, P8, NOENC)
k("ed25519-short-seed.pem", pem("PRIVATE KEY", ed_der[:-2].replace(b"\x04\x22\x04\x20", b"\x04\x20\x04\x1e")), "Ed25519 private key with a 30-byte seed")
# JWKs with members missing, wrong or contradictory.
ex, ey = b64u(nums.x.to_bytes(32, "big")), b64u(nums.y.to_bytes(32, "big"))
for i, (jwk, why) in enumerate([
    ({}, "empty JWK"), ({"kty": "EC"}, "EC JWK without crv, x, y"),
    ({"kty": "EC", "crv": "P-256", "x": ex}, "EC JWK without y"),
    ({"kty": "EC", "crv": "P-256", "y": ey}, "EC JWK without x"),
    ({"kty": "EC", "x": ex, "y": ey}, "EC JWK without crv"),
    ({"kty": "EC", "crv": "P-256", "x": ex[:-4], "y": ey}, "EC JWK x too short"),
    ({"kty": "EC", "crv": "P-256", "x": ex + "AAAA", "y": ey}, "EC JWK x too long"),
    ({"kty": "EC", "crv": "P-521", "x": ex, "y": ey}, "EC JWK unsupported curve"),
    ({"kty": "EC", "crv": "secp256k1", "x": ex, "y": ey}, "EC JWK secp256k1"),
    ({"kty": "EC", "crv": 256, "x": ex, "y": ey}, "EC JWK crv not a string"),
    ({"kty": "EC", "crv": "P-256", "x": ex.replace("-", "+").replace("_", "/") + "=", "y": ey}, "EC JWK x in padded standard base64"),
    ({"kty": "EC", "crv": "P-256", "x": ex, "y": ey, "d": "AAAA"}, "EC JWK with a short d"),
    ({"kty": "EC", "crv": "P-256", "x": ex, "y": ey, "d": b64u(bytes(32))}, "EC JWK with d = 0"),
    ({"kty": "RSA"}, "RSA JWK without n, e"), ({"kty": "RSA", "n": b64u(n2048.to_bytes(256, "big"))}, "RSA JWK without e"),
    ({"kty": "RSA", "e": "AQAB"}, "RSA JWK without n"), ({"kty": "RSA", "n": "", "e": "AQAB"}, "RSA JWK empty n"),
    ({"kty": "RSA", "n": 12345, "e": "AQAB"}, "RSA JWK n is a number"),
    ({"kty": "oct"}, "oct JWK without k"), ({"kty": "oct", "k": ""}, "oct JWK empty k"), ({"kty": "oct", "k": 1}, "oct JWK k is a number"),
    ({"kty": "oct", "k": "!!!"}, "oct JWK k not base64url"),
    ({"kty": "OKP", "crv": "Ed25519"}, "OKP JWK without x"), ({"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}, "OKP JWK short x"),
    ({"kty": "OKP", "crv": "Ed448", "x": b64u(bytes(57))}, "OKP Ed448"), ({"kty": "OKP", "crv": "X25519", "x": b64u(bytes(32))}, "OKP X25519"),
    ({"kty": "XYZ"}, "unknown kty"), ({"kty": 1}, "kty is a number"), ({"kty": None}, "kty is null"), ({"crv": "P-256", "x": ex, "y": ey}, "JWK without kty"),
    ({"kty": "EC", "crv": "P-256", "x": ex, "y": ey, "alg": "none"}, "alg none in a JWK"),
    ({"kty": "EC", "crv": "P-256", "x": ex, "y": ey, "alg": "RS256"}, "EC JWK claiming RS256"),
    ({"kty": "EC", "crv": "P-256", "x": ex, "y": ey, "use": "enc"}, "EC JWK for encryption only"),
    ({"kty": "EC", "crv": "P-256", "x": ex, "y": ey, "key_ops": ["encrypt"]}, "EC JWK key_ops encrypt only"),
    ({"kty": "EC", "crv": "P-256", "x": ex, "y": ey, "key_ops": "verify"}, "key_ops not an array"),
    ({"kty": "oct", "k": b64u(b"0123456789abcdef0123456789abcdef"), "x": ex}, "oct JWK with an EC member"),
    ({"keys": []}, "empty JWK Set"), ({"keys": [{"kty": "XYZ"}]}, "JWK Set of unusable keys"), ({"keys": "nope"}, "keys is not an array"),
]):
    k(f"jwk-{i:02}.json", json.dumps(jwk), why)
k("jwk-dup-kty.json", '{"kty":"EC","kty":"RSA","crv":"P-256","x":"%s","y":"%s"}' % (ex, ey), "duplicate kty")
k("jwk-truncated.json", '{"kty":"EC","crv":"P-2', "truncated JSON")
k("jwk-array.json", "[1,2,3]", "a JSON array")
k("jwk-deep.json", '{"a":' * 2000 + "1" + "}" * 2000, "JSON nested 2000 levels")
k("jwk-trailing.json", '{"kty":"oct","k":"AAAA"} trailing', "garbage after the JWK")

# ---- API keys -------------------------------------------------------------
ALPHA = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
def b62(n, width):
    out = []
    while n:
        n, r = divmod(n, 62)
        out.append(ALPHA[r:r + 1])
    out = b"".join(reversed(out)).decode()
    return out.rjust(width, "0")
def apikey(prefix, body):
    head = f"{prefix}_{body}"
    return head + b62(zlib.crc32(head.encode()), 6)
body = "Q" * 20 + "w3" * 11 + "z"
assert len(body) == 43
good = apikey("kw", body)
a = lambda n, s, why: put("apikeys", n + ".txt", s, why)
a("empty", "", "empty")
a("prefix-only", "kw_", "prefix only")
a("no-underscore", good.replace("_", ""), "no prefix separator")
a("upper-prefix", apikey("KW", body), "upper-case prefix")
a("long-prefix", apikey("abcdefghijklm", body), "prefix of 13 characters")
a("short-prefix", apikey("k", body), "prefix of 1 character")
a("short-body", apikey("kw", body[:-1]), "body one character short")
a("long-body", apikey("kw", body + "x"), "body one character long")
a("dash-in-body", apikey("kw", body[:10] + "-" + body[11:]), "non-base62 character")
a("bad-checksum", good[:-1] + ("A" if good[-1] != "A" else "B"), "checksum mismatch")
i = next(i for i in range(3, len(good) - 7) if good[i] != good[i + 1])
a("swapped-chars", good[:i] + good[i + 1] + good[i] + good[i + 2:], "two neighbouring characters swapped")
a("double-underscore", apikey("kw", "_" + body[1:]), "second underscore")
a("cyrillic", good.replace("Q", "\u0421", 1), "Cyrillic letter that looks Latin")
a("inner-space", good[:20] + " " + good[20:], "space inside")
a("two-keys", good + " " + good, "two keys on one line")
a("trailing-garbage", good + "x", "garbage after the checksum")
a("leading-garbage", "x" + good, "garbage before the prefix")
a("long-string", "kw_" + "A" * 10000, "10,000 characters")
a("jwt-instead", f"{GOOD_H}.{GOOD_P}.{SIG}", "a JWT instead of an API key")
a("github-token", "ghp_" + "a" * 36, "another provider's token")
a("latin1", b"kw_" + b"\xe9" * 49, "Latin-1 bytes")

with open(os.path.join(root, "manifest.tsv"), "w") as f:
    f.write("# path\twhat is wrong with it (every entry must be refused with exit 2)\n")
    for path, why in sorted(manifest):
        f.write(f"{path}\t{why}\n")
print(len(manifest), "inputs")
