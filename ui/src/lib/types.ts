// Shapes that cross the IPC boundary, mirroring the Rust types the shell
// returns (`keyward_core::vault::KeySummary`, the shell's `VaultStatus`).
// Never a secret: this phase of the app only reads metadata.

/** What a key is for. */
export type KeyKind = "api" | "signing";

/**
 * Lifecycle state of a key (CLI.md, "States" and "Lifecycle policy").
 * Kept open-ended so a state added by the core still renders.
 */
export type KeyState =
  | "active"
  | "pending"
  | "grace"
  | "disabled"
  | "expired"
  | "revoked"
  | "destroy-scheduled"
  | "destroyed"
  | (string & {});

/** One row of the key list. */
export interface KeySummary {
  id: string;
  name: string;
  kind: KeyKind;
  /** Signing algorithm (`ES256`, `HS256`...); null for API keys. */
  alg: string | null;
  state: KeyState;
  version: number;
  /** RFC 3339. */
  created_at: string;
  /** RFC 3339, or null when the key never expires. */
  expires_at: string | null;
  scopes: string[];
  /** API keys: the key's prefix (`kw`), a display hint. */
  prefix: string | null;
  /** API keys: the secret's last 4 characters, a display hint. */
  last4: string | null;
  note: string | null;
  /** RFC 3339: when the newest rotated-out version stops verifying. */
  grace_until: string | null;
  /** RFC 3339. */
  last_used_at: string | null;
  /** RFC 3339: scheduled destruction. */
  destroy_at: string | null;
  /** A signing key imported without its private half. */
  public_only: boolean;
}

/** `vault info` as the shell reports it: where the vault is, and whether the keychain answers. */
export interface VaultStatus {
  /** True when the directory came from `KEYWARD_VAULT` rather than the platform default. */
  from_env: boolean;
  vault_id: string;
  /** The vault's data directory. */
  data_dir: string;
  /** Path of the SQLite database. */
  database: string;
  schema_version: number;
  /** `secret-service`, `macos-keychain`, `windows-credential-manager`. */
  keychain_backend: string;
  keychain_namespace: string;
  keychain_reachable: boolean;
  /** Why the keychain did not answer, when it did not. */
  keychain_error: string | null;
  /** Keys that are not destroyed. */
  keys: number;
  /** Audit events. */
  events: number;
}

/** The error shape every command rejects with. */
export interface IpcErrorPayload {
  code: string;
  message: string;
}
