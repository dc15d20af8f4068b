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
}

/** Where the app's vault lives and whether the app could open it. */
export interface VaultStatus {
  /** The vault's data directory. */
  dir: string;
  /** True when the directory came from `KEYWARD_VAULT` rather than the platform default. */
  from_env: boolean;
}

/** The error shape every command rejects with. */
export interface IpcErrorPayload {
  code: string;
  message: string;
}
