// Test data in the shapes that cross the IPC boundary, typed against the
// generated bindings so a field added in Rust fails the tests' type check
// here once, not in every test file. Only test files import this module:
// it never reaches the production bundle.

import type { BackendStatus, DueReport, KeyDetail, KeySummary, KnownVault, VersionInfo } from "../lib/types";

/** A plain active API key, v1, with no policy; `over` sets what a test is about. */
export const keySummary = (over: Partial<KeySummary> = {}): KeySummary => ({
  id: "k_1",
  name: "one",
  kind: "api",
  alg: null,
  state: "active",
  version: 1,
  created_at: "2026-01-01T00:00:00Z",
  expires_at: null,
  scopes: [],
  prefix: null,
  last4: null,
  note: null,
  grace_until: null,
  last_used_at: null,
  destroy_at: null,
  public_only: false,
  policy: { auto_rotate: null, grace: null, max_token_ttl: null },
  next_rotation_at: null,
  custody: null,
  ...over,
});

/** An active version 1 with no dates beyond its creation. */
export const keyVersion = (over: Partial<VersionInfo> = {}): VersionInfo => ({
  version: 1,
  state: "active",
  created_at: "2026-01-01T00:00:00Z",
  not_after: null,
  grace_until: null,
  revoked_at: null,
  reason: null,
  kid: null,
  thumbprint: null,
  last4: null,
  last_used_at: null,
  restores_to: null,
  activated_at: null,
  published_at: null,
  stopped_signing_at: null,
  ...over,
});

/** `keySummary` with its versions (none unless given). */
export const keyDetail = (over: Partial<KeyDetail> = {}): KeyDetail => ({ ...keySummary(), versions: [], ...over });

/** The platform's default personal vault. */
export const PERSONAL_VAULT: KnownVault = {
  dir: "/home/u/.local/share/keyward",
  kind: "personal",
  team: null,
  addr: null,
  default: true,
  error: null,
};

/** A team vault added to the list, on a local OpenBao. */
export const teamVault = (team: string): KnownVault => ({
  dir: `/home/u/vaults/${team}`,
  kind: "team",
  team,
  addr: "http://127.0.0.1:8200",
  default: false,
  error: null,
});

/** The backend of a personal vault: the OS keychain, reachable. */
export const KEYCHAIN_BACKEND: BackendStatus = {
  kind: "keychain",
  addr: null,
  team: null,
  sealed: null,
  version: null,
  ha_enabled: null,
  leader: null,
  is_self_leader: null,
  reachable: true,
  error: null,
};

/** `startup_due` with nothing due and nothing applied. */
export const nothingDue = (): DueReport => ({ now: new Date().toISOString(), within: "14d", items: [], applied: [] });
