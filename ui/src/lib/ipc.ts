// The only module that talks to the Tauri backend. Components import the
// typed functions below, never `@tauri-apps/*`, so the IPC surface is in one
// place and tests can swap it with `mockIPC`.

import { invoke } from "@tauri-apps/api/core";
import type { IpcErrorPayload, KeySummary, VaultStatus } from "./types";

/** A command failure as the backend reported it: a stable code and a one-line message. */
export class IpcError extends Error implements IpcErrorPayload {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = "IpcError";
    this.code = code;
  }

  /** Turns whatever `invoke` rejected with into an `IpcError`. */
  static from(raw: unknown): IpcError {
    if (raw instanceof IpcError) return raw;
    if (isPayload(raw)) return new IpcError(raw.code, raw.message);
    // Not from one of our commands: a missing command, a denied permission
    // (Tauri rejects with a plain string) or a bug in the bridge.
    const message = raw instanceof Error ? raw.message : String(raw);
    return new IpcError("ipc_failure", message);
  }
}

function isPayload(v: unknown): v is IpcErrorPayload {
  return (
    typeof v === "object" &&
    v !== null &&
    typeof (v as IpcErrorPayload).code === "string" &&
    typeof (v as IpcErrorPayload).message === "string"
  );
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw IpcError.from(e);
  }
}

/** Every key in the vault, without secrets. */
export function listKeys(): Promise<KeySummary[]> {
  return call<KeySummary[]>("list_keys");
}

/** Where the vault is; does not touch the keychain. */
export function vaultStatus(): Promise<VaultStatus> {
  return call<VaultStatus>("vault_status");
}
