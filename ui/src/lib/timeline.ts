// Geometry of the two timeline pictures: a key's versions on a time axis
// (pending → active → grace → end), and a token's iat/nbf/now/exp with its
// valid window. Pure functions over the IPC types, so they are unit-tested.

import type { Timeline, VersionInfo } from "./types";

export type SpanKind = "pending" | "active" | "grace" | "disabled" | "scheduled";
export type MarkKind = "revoked" | "expired" | "destroyed";

export interface Span {
  kind: SpanKind;
  from: number;
  to: number;
  /** The part after `now`: drawn lighter, it has not happened yet. */
  future: boolean;
}

export interface Mark {
  kind: MarkKind;
  at: number;
}

export interface VersionRow {
  version: number;
  state: string;
  spans: Span[];
  marks: Mark[];
}

export interface VersionPicture {
  rows: VersionRow[];
  start: number;
  end: number;
  now: number;
}

const t = (s: string | null | undefined): number | null => {
  if (!s) return null;
  const v = Date.parse(s);
  return Number.isNaN(v) ? null : v;
};

/** Splits `[from, to)` at `now` into a past and a future span. */
function push(spans: Span[], kind: SpanKind, from: number, to: number, now: number) {
  if (to <= from) return;
  if (from < now) spans.push({ kind, from, to: Math.min(to, now), future: false });
  if (to > now) spans.push({ kind, from: Math.max(from, now), to, future: true });
}

/**
 * Each version's life: pending until activated, active until it stopped
 * signing (or expired, or was revoked), grace until its grace period ended;
 * marks where it was revoked, expired or destroyed. Open-ended spans run to
 * `now` (or to a known future end: expiry, end of grace).
 */
export function versionPicture(versions: readonly VersionInfo[], nowDate: Date = new Date()): VersionPicture {
  const now = nowDate.getTime();
  let start = now;
  let end = now;
  const rows: VersionRow[] = versions.map((v) => {
    const created = t(v.created_at) ?? now;
    const activated = t(v.activated_at) ?? (v.state === "pending" ? null : created);
    const stopped = t(v.stopped_signing_at);
    const revoked = t(v.revoked_at);
    const notAfter = t(v.not_after);
    const graceUntil = t(v.grace_until);
    const spans: Span[] = [];
    const marks: Mark[] = [];
    const cut = (x: number) => Math.min(x, revoked ?? Infinity);

    if (activated === null) {
      push(spans, "pending", created, cut(Math.max(now, created)), now);
    } else {
      if (activated > created) push(spans, "pending", created, cut(activated), now);
      const activeEnd = Math.min(stopped ?? Infinity, notAfter ?? Infinity, revoked ?? Infinity);
      const openEnd = v.state === "active" ? (notAfter ?? now) : now;
      push(spans, "active", activated, Number.isFinite(activeEnd) ? activeEnd : openEnd, now);
      if (stopped !== null && graceUntil !== null) {
        push(spans, "grace", stopped, cut(graceUntil), now);
      }
      if (v.state === "disabled") {
        push(spans, "disabled", stopped ?? activated, now, now);
      }
    }
    if (v.state === "destroy-scheduled") push(spans, "scheduled", Math.min(now, stopped ?? now), now, now);
    if (revoked !== null) marks.push({ kind: "revoked", at: revoked });
    else if (v.state === "expired") {
      const at = graceUntil !== null && graceUntil <= now ? graceUntil : (notAfter ?? now);
      marks.push({ kind: "expired", at });
    }
    if (v.state === "destroyed") marks.push({ kind: "destroyed", at: stopped ?? now });

    start = Math.min(start, created);
    for (const s of spans) end = Math.max(end, s.to);
    for (const m of marks) end = Math.max(end, m.at);
    return { version: v.version, state: v.state, spans, marks };
  });
  // Some room on both sides, and at least ten minutes of axis.
  const span = Math.max(end - start, 600_000);
  return { rows, start: start - span * 0.04, end: end + span * 0.08, now };
}

/** Position of `at` along an axis from `start` to `end`, 0 to 1. */
export function frac(at: number, start: number, end: number): number {
  if (end <= start) return 0;
  return Math.min(1, Math.max(0, (at - start) / (end - start)));
}

/** Evenly spaced tick times on a readable step (minutes to years). */
export function ticks(start: number, end: number, maxTicks = 6): number[] {
  const steps = [
    60_000, 5 * 60_000, 15 * 60_000, 3600_000, 6 * 3600_000, 86400_000, 7 * 86400_000, 30 * 86400_000,
    90 * 86400_000, 365 * 86400_000,
  ];
  const step = steps.find((s) => (end - start) / s <= maxTicks) ?? 365 * 86400_000;
  const out: number[] = [];
  for (let x = Math.ceil(start / step) * step; x <= end; x += step) out.push(x);
  return out;
}

/** A tick label fitted to the step. */
export function tickLabel(at: number, start: number, end: number): string {
  const d = new Date(at);
  const range = end - start;
  if (range <= 2 * 86400_000) return d.toLocaleTimeString("en", { hour: "2-digit", minute: "2-digit" });
  if (range <= 400 * 86400_000) return d.toLocaleDateString("en", { month: "short", day: "numeric" });
  return d.toLocaleDateString("en", { year: "numeric", month: "short" });
}

export interface TokenPicture {
  start: number;
  end: number;
  /** Seconds; null when the token does not say. */
  iat: number | null;
  nbf: number | null;
  exp: number | null;
  now: number;
  /** The window in which the token is accepted, without and with leeway (seconds). */
  validFrom: number | null;
  validTo: number | null;
  leewayFrom: number | null;
  leewayTo: number | null;
  /** Where `now` falls. */
  status: "valid" | "not-yet" | "expired" | "valid-by-leeway";
}

/** The token timeline in Unix seconds, with the valid window and leeway. */
export function tokenPicture(tl: Timeline, leeway = 0): TokenPicture {
  const { iat, nbf, exp, now } = tl;
  const validFrom = nbf ?? null;
  const validTo = exp ?? null;
  const points = [iat, nbf, exp, now].filter((x): x is number => x !== null && x !== undefined);
  let lo = Math.min(...points) - leeway;
  let hi = Math.max(...points) + leeway;
  const span = Math.max(hi - lo, 60);
  lo -= span * 0.08;
  hi += span * 0.08;
  let status: TokenPicture["status"] = "valid";
  if (validTo !== null && now >= validTo) status = now < validTo + leeway ? "valid-by-leeway" : "expired";
  else if (validFrom !== null && now < validFrom) status = now >= validFrom - leeway ? "valid-by-leeway" : "not-yet";
  return {
    start: lo,
    end: hi,
    iat: iat ?? null,
    nbf: nbf ?? null,
    exp: exp ?? null,
    now,
    validFrom,
    validTo,
    leewayFrom: validFrom !== null ? validFrom - leeway : null,
    leewayTo: validTo !== null ? validTo + leeway : null,
    status,
  };
}
