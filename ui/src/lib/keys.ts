// Presentation rules for the key list: filtering, ordering and the wording of
// dates and states. Pure functions, so they are tested without a DOM.

import type { KeyState, KeySummary } from "./types";

/** Visual tone of a state badge. */
export type Tone = "ok" | "info" | "warn" | "danger" | "muted";

const STATE_TONES: Record<string, Tone> = {
  active: "ok",
  pending: "info",
  grace: "warn",
  expired: "danger",
  revoked: "danger",
  "destroy-scheduled": "danger",
  disabled: "muted",
  destroyed: "muted",
};

/** The badge tone of a state; unknown states stay neutral rather than alarming. */
export function stateTone(state: KeyState): Tone {
  return STATE_TONES[state] ?? "muted";
}

/** Human label of a state (`destroy-scheduled` → `Destroy scheduled`). */
export function stateLabel(state: KeyState): string {
  const words = state.replace(/-/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Human label of a key kind. */
export function kindLabel(kind: KeySummary["kind"]): string {
  return kind === "api" ? "API key" : "Signing key";
}

/** How an API key is recognised without showing it: `kw_…a1B2`. */
export function apiKeyHint(prefix: string, last4: string): string {
  return `${prefix}_…${last4}`;
}

/**
 * Keys whose name, id, kind, algorithm, state, note or scopes contain every
 * whitespace-separated word of `query` (case-insensitive).
 */
export function filterKeys(keys: readonly KeySummary[], query: string): KeySummary[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...keys];
  return keys.filter((k) => {
    const haystack = [k.name, k.id, k.kind, kindLabel(k.kind), k.alg ?? "", k.state, k.note ?? "", ...k.scopes]
      .join("\n")
      .toLowerCase();
    return words.every((w) => haystack.includes(w));
  });
}

/** Keys ordered by name (natural order, case-insensitive), then id. */
export function sortKeys(keys: readonly KeySummary[]): KeySummary[] {
  return sortKeysBy(keys, "name", "asc");
}

/** Sortable columns of the key table. */
export type SortColumn = "name" | "kind" | "alg" | "state" | "version" | "expires" | "last_used";
export type SortDir = "asc" | "desc";

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

/**
 * Keys ordered by `column`; ties by name then id. Keys without a date
 * (never expire, never used) sort after the dated ones either way.
 */
export function sortKeysBy(keys: readonly KeySummary[], column: SortColumn, dir: SortDir): KeySummary[] {
  const sign = dir === "asc" ? 1 : -1;
  const date = (s: string | null) => (s ? Date.parse(s) : null);
  const cmp = (a: KeySummary, b: KeySummary): number => {
    switch (column) {
      case "name":
        return 0;
      case "kind":
        return a.kind.localeCompare(b.kind) * sign;
      case "alg":
        return collator.compare(a.alg ?? "", b.alg ?? "") * sign;
      case "state":
        return a.state.localeCompare(b.state) * sign;
      case "version":
        return (a.version - b.version) * sign;
      case "expires":
      case "last_used": {
        const x = date(column === "expires" ? a.expires_at : a.last_used_at);
        const y = date(column === "expires" ? b.expires_at : b.last_used_at);
        if (x === null && y === null) return 0;
        if (x === null) return 1;
        if (y === null) return -1;
        return (x - y) * sign;
      }
    }
  };
  return [...keys].sort(
    (a, b) =>
      cmp(a, b) ||
      collator.compare(a.name, b.name) * (column === "name" ? sign : 1) ||
      a.id.localeCompare(b.id),
  );
}

/** Badges a key deserves beside its state: expiring soon, grace ending soon, destruction scheduled. */
export function keyBadges(
  k: KeySummary,
  now: Date,
  soonDays: number,
  graceDays: number,
): { id: "expiring" | "expired" | "grace-ending" | "destroying" | "rotation-due"; label: string; tone: Tone }[] {
  const out: ReturnType<typeof keyBadges> = [];
  const exp = expiryUrgency(k.expires_at, now, soonDays);
  if (exp === "soon" && k.expires_at) out.push({ id: "expiring", label: `Expires ${relativeTime(k.expires_at, now)}`, tone: "warn" });
  if (k.grace_until && expiryUrgency(k.grace_until, now, graceDays) === "soon") {
    out.push({ id: "grace-ending", label: `Grace ends ${relativeTime(k.grace_until, now)}`, tone: "warn" });
  }
  if (k.next_rotation_at && Date.parse(k.next_rotation_at) <= now.getTime()) {
    out.push({ id: "rotation-due", label: "Rotation due", tone: "danger" });
  }
  if (k.destroy_at) out.push({ id: "destroying", label: `Destroyed ${relativeTime(k.destroy_at, now)}`, tone: "danger" });
  return out;
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
];

/** `in 3 days`, `2 hours ago`, `now`: the largest unit that fits, rounded down. */
export function relativeTime(iso: string, now: Date = new Date()): string {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  const seconds = Math.round((at - now.getTime()) / 1000);
  const rtf = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return rtf.format(Math.trunc(seconds / size), unit);
  }
  return "now";
}

/** A full local date and time, for tooltips and the details pane. */
export function absoluteTime(iso: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  return at.toLocaleString("en", { dateStyle: "medium", timeStyle: "short" });
}

/** How soon an expiry deserves attention. */
export type Urgency = "none" | "soon" | "past";

/** `past` once expired, `soon` within `soonDays`, else `none` (also for keys that never expire). */
export function expiryUrgency(expiresAt: string | null, now: Date = new Date(), soonDays = 14): Urgency {
  if (!expiresAt) return "none";
  const at = Date.parse(expiresAt);
  if (Number.isNaN(at)) return "none";
  const left = at - now.getTime();
  if (left <= 0) return "past";
  return left <= soonDays * 24 * 3600 * 1000 ? "soon" : "none";
}
