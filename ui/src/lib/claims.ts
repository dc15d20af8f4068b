// Claims editor validation for the token signer: instant feedback in the
// form; the core validates again when it signs.

export type ClaimsCheck =
  | { ok: true; claims: Record<string, unknown>; notes: string[] }
  | { ok: false; error: string };

const NUMERIC = ["exp", "nbf", "iat"];

export function checkClaims(text: string): ClaimsCheck {
  if (!text.trim()) return { ok: true, claims: {}, notes: [] };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `not JSON: ${(e as Error).message}` };
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    return { ok: false, error: "the claims must be a JSON object: { \"role\": \"admin\" }" };
  }
  const claims = v as Record<string, unknown>;
  for (const n of NUMERIC) {
    if (n in claims && typeof claims[n] !== "number") {
      return { ok: false, error: `${n} must be a NumericDate (Unix seconds), not ${JSON.stringify(claims[n])}` };
    }
  }
  for (const s of ["iss", "sub", "jti"]) {
    if (s in claims && typeof claims[s] !== "string") return { ok: false, error: `${s} must be a string` };
  }
  if ("aud" in claims) {
    const a = claims.aud;
    if (!(typeof a === "string" || (Array.isArray(a) && a.every((x) => typeof x === "string")))) {
      return { ok: false, error: "aud must be a string or an array of strings" };
    }
  }
  const notes: string[] = [];
  if ("iat" in claims) notes.push("iat is set by the signer: yours is replaced");
  if ("exp" in claims) notes.push("exp from the claims wins over the TTL");
  return { ok: true, claims, notes };
}

/** Splits a comma/space separated list (scopes, audiences, required claims). */
export function splitList(s: string): string[] {
  return s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);
}

/** Base64url JSON part of a JWT, decoded for display (no verification). */
export function tokenParts(token: string): { header: string; payload: string; signature: string } | null {
  const parts = token.trim().split(".");
  if (parts.length !== 3) return null;
  const [header = "", payload = "", signature = ""] = parts;
  return { header, payload, signature };
}
