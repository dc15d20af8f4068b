import { describe, expect, test } from "vitest";
import { frac, ticks, tokenPicture, versionPicture } from "./timeline";
import { MAX_SCROLL_PX, PAGE, pageOf, pageQuery, seqAt, visibleWindow, filterQuery, isFiltered } from "./audit";
import { checkClaims, splitList, tokenParts } from "./claims";
import { parseRoute, routeHash } from "./app.svelte";
import { keyBadges, sortKeysBy } from "./keys";
import type { VersionInfo } from "./types";
import { keySummary, keyVersion } from "../test/fixtures";

const H = 3600_000;
const NOW = new Date("2026-03-01T12:00:00Z");
const at = (hours: number) => new Date(NOW.getTime() + hours * H).toISOString();

const version = (over: Partial<VersionInfo>): VersionInfo => keyVersion({ created_at: at(-100), ...over });

describe("version timeline", () => {
  test("a rotated version is active until it stopped signing, then in grace until its grace end", () => {
    const pic = versionPicture(
      [
        version({ version: 1, state: "grace", created_at: at(-100), stopped_signing_at: at(-10), grace_until: at(14) }),
        version({ version: 2, state: "active", created_at: at(-10) }),
      ],
      NOW,
    );
    const v1 = pic.rows[0]!;
    expect(v1.spans.map((s) => [s.kind, s.future])).toEqual([
      ["active", false],
      ["grace", false],
      ["grace", true],
    ]);
    expect(v1.spans[0]!.to).toBe(Date.parse(at(-10)));
    expect(v1.spans[2]!.to).toBe(Date.parse(at(14)));
    const v2 = pic.rows[1]!;
    expect(v2.spans).toEqual([{ kind: "active", from: Date.parse(at(-10)), to: NOW.getTime(), future: false }]);
    expect(pic.start).toBeLessThan(Date.parse(at(-100)));
    expect(pic.end).toBeGreaterThan(Date.parse(at(14)));
  });

  test("a revoked version ends at its revocation with a mark; a pending one is pending up to now", () => {
    const pic = versionPicture(
      [
        version({ version: 1, state: "revoked", revoked_at: at(-5), stopped_signing_at: at(-5) }),
        version({ version: 2, state: "pending", created_at: at(-2) }),
      ],
      NOW,
    );
    expect(pic.rows[0]!.marks).toEqual([{ kind: "revoked", at: Date.parse(at(-5)) }]);
    expect(pic.rows[0]!.spans.every((s) => s.to <= Date.parse(at(-5)))).toBe(true);
    expect(pic.rows[1]!.spans.map((s) => s.kind)).toEqual(["pending"]);
  });

  test("an active version with an expiry runs into the future up to it", () => {
    const pic = versionPicture([version({ not_after: at(48) })], NOW);
    expect(pic.rows[0]!.spans.map((s) => s.future)).toEqual([false, true]);
    expect(pic.rows[0]!.spans[1]!.to).toBe(Date.parse(at(48)));
  });

  test("axis helpers", () => {
    expect(frac(5, 0, 10)).toBe(0.5);
    expect(frac(-5, 0, 10)).toBe(0);
    expect(frac(50, 0, 10)).toBe(1);
    const t = ticks(0, 10 * 86400_000);
    expect(t.length).toBeGreaterThan(1);
    expect(t.length).toBeLessThanOrEqual(7);
  });
});

describe("token timeline", () => {
  test("valid, expired, not yet and accepted by leeway", () => {
    expect(tokenPicture({ iat: 100, nbf: 100, exp: 200, now: 150 }).status).toBe("valid");
    expect(tokenPicture({ iat: 100, nbf: null, exp: 200, now: 250 }).status).toBe("expired");
    expect(tokenPicture({ iat: 100, nbf: 180, exp: 200, now: 150 }).status).toBe("not-yet");
    const p = tokenPicture({ iat: 100, nbf: null, exp: 200, now: 230 }, 60);
    expect(p.status).toBe("valid-by-leeway");
    expect(p.leewayTo).toBe(260);
    expect(p.start).toBeLessThan(100);
    expect(p.end).toBeGreaterThan(260);
  });
});

describe("audit paging", () => {
  test("rows map to sequence numbers newest first and pages to seq ranges", () => {
    expect(seqAt(0, 1_000_000)).toBe(1_000_000);
    expect(seqAt(999_999, 1_000_000)).toBe(1);
    expect(pageOf(PAGE * 3 + 5)).toBe(3);
    const q = pageQuery(2, 1000);
    expect(q.before_seq).toBe(1000 - 2 * PAGE + 1);
    expect(q.after_seq).toBe(1000 - 3 * PAGE);
    expect(q.newest_first).toBe(true);
  });

  test("the window covers the viewport plus overscan, and compresses past the layout limit", () => {
    const w = visibleWindow(3000, 600, 30, 1000, 5);
    expect(w.first).toBe(95);
    expect(w.last).toBe(100 + 21 + 5);
    expect(w.offset).toBe(95 * 30);
    expect(w.height).toBe(30_000);
    const big = visibleWindow(0, 600, 30, 2_000_000);
    expect(big.height).toBe(MAX_SCROLL_PX);
    const end = visibleWindow(MAX_SCROLL_PX - 600, 600, 30, 2_000_000);
    expect(end.last).toBe(2_000_000 - 1);
  });

  test("filters", () => {
    expect(isFiltered(filterQuery({ action: "", key: "", since: "", until: "", text: "" }))).toBe(false);
    const q = filterQuery({ action: "key.rotate", key: " ", since: "", until: "", text: "x" });
    expect(q.action).toBe("key.rotate");
    expect(q.key_id).toBeNull();
    expect(isFiltered(q)).toBe(true);
  });
});

describe("claims editor", () => {
  test("accepts objects and explains what is wrong otherwise", () => {
    expect(checkClaims("")).toEqual({ ok: true, claims: {}, notes: [] });
    expect(checkClaims('{"role":"admin"}').ok).toBe(true);
    expect(checkClaims("[1]")).toMatchObject({ ok: false });
    expect(checkClaims("{")).toMatchObject({ ok: false });
    expect(checkClaims('{"exp":"tomorrow"}')).toMatchObject({ ok: false, error: expect.stringContaining("NumericDate") });
    expect(checkClaims('{"aud":[1]}')).toMatchObject({ ok: false });
    const ok = checkClaims('{"exp": 2000000000}');
    expect(ok.ok && ok.notes[0]).toContain("exp");
  });

  test("lists and token parts", () => {
    expect(splitList("a, b  c,,")).toEqual(["a", "b", "c"]);
    expect(tokenParts("a.b.c")).toEqual({ header: "a", payload: "b", signature: "c" });
    expect(tokenParts("a.b")).toBeNull();
  });
});

describe("routes", () => {
  test("hashes round-trip", () => {
    expect(parseRoute("#/keys/k_1")).toEqual({ screen: "key", id: "k_1" });
    expect(parseRoute("#/new/import")).toEqual({ screen: "new", tab: "import" });
    expect(parseRoute("#/new/bogus")).toEqual({ screen: "new", tab: "api" });
    expect(parseRoute("#/audit")).toEqual({ screen: "audit" });
    expect(parseRoute("")).toEqual({ screen: "keys" });
    expect(routeHash({ screen: "key", id: "k 1" })).toBe("#/keys/k%201");
  });
});

const key = keySummary;

describe("key table", () => {
  test("sorting by a column, dateless keys last", () => {
    const keys = [
      key({ id: "a", name: "a", expires_at: null, version: 3 }),
      key({ id: "b", name: "b", expires_at: at(5), version: 1 }),
      key({ id: "c", name: "c", expires_at: at(1), version: 2 }),
    ];
    expect(sortKeysBy(keys, "expires", "asc").map((k) => k.id)).toEqual(["c", "b", "a"]);
    expect(sortKeysBy(keys, "expires", "desc").map((k) => k.id)).toEqual(["b", "c", "a"]);
    expect(sortKeysBy(keys, "version", "desc").map((k) => k.id)).toEqual(["a", "c", "b"]);
    expect(sortKeysBy(keys, "name", "desc").map((k) => k.id)).toEqual(["c", "b", "a"]);
  });

  test("badges for expiring soon, grace ending soon and due rotation", () => {
    const b = keyBadges(
      key({ expires_at: at(48), grace_until: at(5), next_rotation_at: at(-1) }),
      NOW,
      14,
      3,
    );
    expect(b.map((x) => x.id)).toEqual(["expiring", "grace-ending", "rotation-due"]);
    expect(keyBadges(key({ expires_at: at(24 * 30) }), NOW, 14, 3)).toEqual([]);
  });
});
