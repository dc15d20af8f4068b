// How the vault switcher names vaults and words a backend's status. Pure
// functions over the generated types, so they are tested without a window.

import { absoluteTime } from "./keys";
import type { BackendStatus, KnownVault, LastChange, VaultList } from "./types";

/** The last component of a path. */
function baseName(dir: string): string {
  const parts = dir.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? dir;
}

/** A vault's own label: "Personal", "Personal · work", "Team payments". */
function ownLabel(v: KnownVault): string {
  if (v.kind === "team") return v.team ? `Team ${v.team}` : `Team vault · ${baseName(v.dir)} (unreadable)`;
  return v.default ? "Personal" : `Personal · ${baseName(v.dir)}`;
}

/** The label with the folder's name, for a team label that names no folder. */
function withFolder(v: KnownVault): string {
  const own = ownLabel(v);
  return v.kind === "team" && v.team ? `${own} · ${baseName(v.dir)}` : own;
}

/**
 * The switcher's label: "Personal", "Personal · work", "Team payments".
 * Given the other vaults of the list, a label two vaults would share (two
 * clients of one team) gets the folder's name ("Team e2e · a"), and the
 * whole folder path when the names are the same too.
 */
export function vaultLabel(v: KnownVault, list: readonly KnownVault[] = []): string {
  const own = ownLabel(v);
  const others = list.filter((o) => o.dir !== v.dir && ownLabel(o) === own);
  if (others.length === 0) return own;
  const folder = withFolder(v);
  if (folder !== own && !others.some((o) => withFolder(o) === folder)) return folder;
  return `${own} · ${v.dir}`;
}

/**
 * The entries "Remove from list" offers: ones the user added, never the
 * personal default, the open vault or a list that KEYWARD_VAULT decides.
 */
export function removableVaults(list: VaultList): KnownVault[] {
  if (list.from_env) return [];
  return list.vaults.filter((v) => !v.default && v.dir !== list.open);
}

/** One status line per fact, in the order shown; `tone` colours the dot. */
export interface BackendView {
  title: string;
  tone: "ok" | "warn" | "danger";
  rows: { id: string; label: string; value: string }[];
  /** What is wrong and what to do, when something is. */
  problem: string | null;
}

/** The leader line: who is active, or that a single server leads itself. */
export function leaderText(s: BackendStatus): string {
  if (!s.reachable) return "unknown";
  if (s.ha_enabled === false) return "this server (single node, no HA)";
  if (s.leader) return s.is_self_leader ? `${s.leader} (this server)` : s.leader;
  return s.sealed ? "unknown while sealed" : "none elected";
}

/** What the backend block shows for `s`. */
export function backendView(s: BackendStatus): BackendView {
  if (s.kind !== "openbao") {
    return {
      title: s.reachable ? "OS keychain reachable" : "OS keychain unreachable",
      tone: s.reachable ? "ok" : "danger",
      rows: [],
      problem: s.reachable ? null : (s.error ?? "unlock your login keyring, then refresh"),
    };
  }
  const rows: BackendView["rows"] = [];
  if (s.addr) rows.push({ id: "addr", label: "Address", value: s.addr });
  if (s.team) rows.push({ id: "team", label: "Team", value: s.team });
  rows.push({
    id: "seal",
    label: "Seal",
    value: s.sealed === null ? "unknown" : s.sealed ? "Sealed" : "Unsealed",
  });
  rows.push({ id: "leader", label: "Leader", value: leaderText(s) });
  if (s.version) rows.push({ id: "version", label: "Version", value: s.version });
  const tone = !s.reachable ? "danger" : s.sealed ? "warn" : "ok";
  const title = !s.reachable ? "OpenBao unreachable" : s.sealed ? "OpenBao sealed" : "OpenBao reachable";
  let problem = s.error;
  if (!problem && !s.reachable) problem = "OpenBao did not answer: check that the server runs and the address is right, then refresh";
  return { title, tone, rows, problem };
}

/** "changed last by alice at 3 Mar 2026, 12:00"; null when nothing is known. */
export function changedLastText(c: LastChange | null): string | null {
  if (!c || (!c.by && !c.at)) return null;
  const when = c.at ? ` at ${absoluteTime(c.at)}` : "";
  return `changed last by ${c.by ?? "someone"}${when}`;
}

/** Where that line comes from, for its tooltip. */
export function changedLastSource(c: LastChange): string {
  return c.source === "openbao"
    ? `From the key's team document in OpenBao (version ${c.version})`
    : "From this vault's audit log (reads such as reveal and export are not changes)";
}
