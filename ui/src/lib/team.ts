// The "Join a team vault" form's rules, as pure functions over its fields:
// what the core would refuse is caught here first and said next to the
// field. The form holds names and paths only; the token or secret id stays
// in its file, which Rust reads.

import type { JoinTeamForm } from "./types";

/** The form's fields as typed. */
export interface JoinFields {
  team: string;
  addr: string;
  mount: string;
  namespace: string;
  caFile: string;
  dir: string;
  method: "token" | "approle";
  tokenFile: string;
  roleId: string;
  approleMount: string;
  secretIdFile: string;
}

export type JoinField = keyof JoinFields;

/** The order fields appear in (the first invalid one gets focus). */
export const FIELD_ORDER: JoinField[] = [
  "team",
  "addr",
  "mount",
  "tokenFile",
  "roleId",
  "approleMount",
  "secretIdFile",
  "namespace",
  "caFile",
  "dir",
];

const TEAM = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;

/** A full path: `/…` on Unix, `C:\…` or `\\server\…` on Windows. */
export function isAbsolutePath(p: string): boolean {
  return /^(\/|[A-Za-z]:[\\/]|\\\\)/.test(p);
}

/** `base` + `name` with the separator `base` already uses. */
export function joinPath(base: string, name: string): string {
  const sep = base.includes("\\") && !base.includes("/") ? "\\" : "/";
  return base.endsWith(sep) ? `${base}${name}` : `${base}${sep}${name}`;
}

/** The addresses of a comma-separated list, trimmed, empty ones dropped. */
export function addresses(addr: string): string[] {
  return addr
    .split(",")
    .map((a) => a.trim())
    .filter(Boolean);
}

function addrProblem(addr: string): string | null {
  const list = addresses(addr);
  if (list.length === 0) return "Give OpenBao's address, e.g. https://bao.example.com:8200";
  for (const a of list) {
    let url: URL;
    try {
      url = new URL(a);
    } catch {
      return `${a} is not a URL: write it as https://host:8200`;
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") return `${a}: use an https:// (or http://) address`;
    if (!url.hostname) return `${a} has no host`;
  }
  return null;
}

function pathProblem(p: string, what: string, required: boolean): string | null {
  const v = p.trim();
  if (!v) return required ? `Choose the ${what}` : null;
  return isAbsolutePath(v) ? null : `Give the ${what} as a full path (from /), or choose it`;
}

/** What is wrong with each field, by field; empty when the form may be sent. */
export function validateJoin(f: JoinFields): Partial<Record<JoinField, string>> {
  const out: Partial<Record<JoinField, string>> = {};
  const team = f.team.trim();
  if (!team) out.team = "Give the team's name";
  else if (!TEAM.test(team)) out.team = "1 to 64 characters a-z A-Z 0-9 . _ -, not starting with a dot";
  const addr = addrProblem(f.addr);
  if (addr) out.addr = addr;
  const mount = f.mount.trim().replace(/^\/+|\/+$/g, "");
  if (!mount) out.mount = "Give the KV v2 mount (secret by default)";
  else if (mount.includes("..") || /[\s?]/.test(mount)) out.mount = `${f.mount.trim()} is not a mount path`;
  if (f.method === "token") {
    const p = pathProblem(f.tokenFile, "token file", true);
    if (p) out.tokenFile = p;
  } else {
    if (!f.roleId.trim()) out.roleId = "Give the AppRole role id";
    if (!f.approleMount.trim()) out.approleMount = "Give where AppRole is mounted (approle by default)";
    const p = pathProblem(f.secretIdFile, "secret id file", true);
    if (p) out.secretIdFile = p;
  }
  const ca = pathProblem(f.caFile, "CA file", false);
  if (ca) out.caFile = ca;
  const dir = pathProblem(f.dir, "folder", true);
  if (dir) out.dir = dir;
  return out;
}

/** A warning that does not stop the form: a token sent in clear over the network. */
export function addrWarning(addr: string): string | null {
  const clear = addresses(addr).filter((a) => {
    try {
      const u = new URL(a);
      return u.protocol === "http:" && !["127.0.0.1", "localhost", "[::1]"].includes(u.hostname);
    } catch {
      return false;
    }
  });
  return clear.length > 0
    ? `${clear.join(", ")}: http:// sends the token unencrypted; use https:// unless the server is on this machine`
    : null;
}

/** The IPC form: names and paths, never a secret. */
export function toJoinForm(f: JoinFields): JoinTeamForm {
  const opt = (s: string) => (s.trim() ? s.trim() : null);
  return {
    team: f.team.trim(),
    addr: addresses(f.addr).join(","),
    mount: f.mount.trim(),
    namespace: opt(f.namespace),
    ca_file: opt(f.caFile),
    dir: opt(f.dir),
    credential:
      f.method === "token"
        ? { method: "token", token_file: f.tokenFile.trim() }
        : {
            method: "approle",
            mount: f.approleMount.trim(),
            role_id: f.roleId.trim(),
            secret_id_file: f.secretIdFile.trim(),
          },
  };
}
