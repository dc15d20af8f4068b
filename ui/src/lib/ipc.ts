// The only module that talks to the Tauri backend. Components import the
// typed functions below, never `@tauri-apps/*`, so the IPC surface is in one
// place and tests can swap it with `mockIPC`. The argument and result types
// are generated from the Rust types (./bindings, by ts-rs).

import { Channel, invoke } from "@tauri-apps/api/core";
import type {
  AuditBounds,
  AuditEvent,
  AuditExportFormat,
  AuditQuery,
  BackendStatus,
  ChainReport,
  CheckReport,
  Copied,
  CrackTick,
  CreatedKey,
  DesktopSettings,
  DueReport,
  ImportForm,
  JoinTeamForm,
  KeyDetail,
  KeyExportFormat,
  KeySummary,
  LastChange,
  NewKeyForm,
  PathPurpose,
  Policy,
  PolicyForm,
  Problem,
  Revealed,
  RotatedKey,
  Saved,
  ScanReport,
  SignForm,
  SignedTokenView,
  TeamJoinDefaults,
  TeamJoined,
  TokenReport,
  VaultList,
  VaultLocation,
  VaultStatus,
  VerifyForm,
  VerifyReport,
  WeakCheck,
} from "./types";
import type { IpcErrorPayload } from "./types";

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

// --- App -------------------------------------------------------------------

/** Where the vault is and whether the keychain answers. */
export const vaultStatus = () => call<VaultStatus>("vault_status");
export const getSettings = () => call<DesktopSettings>("get_settings");
export const saveSettings = (settings: DesktopSettings) => call<DesktopSettings>("save_settings", { settings });
/** Opens a folder dialog, adds the vault to the list and switches to it; null when cancelled. */
export const chooseVault = () => call<VaultLocation | null>("choose_vault");
/** The vaults the app knows and which one is open (never opens a vault). */
export const listVaults = () => call<VaultList>("list_vaults");
/** Switches to a vault of the list (remembered for the next start). */
export const switchVault = (dir: string) => call<VaultLocation>("switch_vault", { dir });
/** Removes a vault from the list (its files stay). */
export const forgetVault = (dir: string) => call<VaultList>("forget_vault_entry", { dir });
/** Where a joined team's cache goes by default, and the default mounts. */
export const teamJoinDefaults = () => call<TeamJoinDefaults>("team_join_defaults");
/** A native dialog for one of the join form's paths; null when cancelled. Only the path comes back. */
export const pickPath = (purpose: PathPurpose) => call<string | null>("pick_path", { purpose });
/**
 * Joins (or creates) a team vault on OpenBao, adds it to the list and opens it.
 * The form holds paths only: Rust reads the token or secret id file.
 */
export const joinTeamVault = (form: JoinTeamForm) => call<TeamJoined>("join_team_vault", { form });
/** The open vault's backend: keychain, or OpenBao's address, seal state and leader. */
export const backendStatus = () => call<BackendStatus>("backend_status");
/** What the app applied at start (resolves once the start-up check is done). */
export const startupDue = () => call<DueReport>("startup_due");
export const dueReport = () => call<DueReport>("due_report");
export const applyDue = () => call<DueReport>("apply_due");
export const pickFolder = () => call<string | null>("pick_folder");
export const scanPath = (path: string) => call<ScanReport>("scan_path", { path });

// --- Keys ------------------------------------------------------------------

/** Every key in the vault, without secrets. */
export const listKeys = () => call<KeySummary[]>("list_keys");
export const showKey = (id: string) => call<KeyDetail>("show_key", { id });
/** Who changed a key last (a team vault's OpenBao document, or the audit log). */
export const keyLastChange = (id: string) => call<LastChange | null>("key_last_change", { id });
export const createKey = (form: NewKeyForm) => call<CreatedKey>("create_key", { form });
export const importKey = (form: ImportForm) => call<CreatedKey>("import_key", { form });
export const rotateKey = (id: string, grace: string | null, stage: boolean) =>
  call<RotatedKey>("rotate_key", { id, grace, stage });
export const promoteKey = (id: string, minPublished: string | null) =>
  call<number>("promote_key", { id, minPublished });
export const revokeKey = (id: string, version: number | null, reason: string, force: boolean) =>
  call<number[]>("revoke_key", { id, version, reason, force });
export const disableKey = (id: string, version: number | null, reason: string, force: boolean) =>
  call<number[]>("disable_key", { id, version, reason, force });
export const enableKey = (id: string, version: number | null) => call<number[]>("enable_key", { id, version });
/** Schedules destruction after `after` (`30d`, `0s` for now); returns the date. */
export const deleteKey = (id: string, after: string) => call<string | null>("delete_key", { id, after });
export const restoreKey = (id: string) => call<null>("restore_key", { id });
export const setPolicy = (id: string, policy: PolicyForm) => call<Policy>("set_policy", { id, policy });
/** Reveals a secret (audited). The caller must drop it when hidden. */
export const revealKey = (id: string, version: number | null) => call<Revealed>("reveal_key", { id, version });
/** Copies a secret to the clipboard in Rust (audited); the secret never reaches the webview. */
export const copyKeySecret = (id: string, version: number | null) =>
  call<Copied>("copy_key_secret", { id, version });
export const revealNewSecret = (handle: string) => call<string>("reveal_new_secret", { handle });
export const copyNewSecret = (handle: string) => call<Copied>("copy_new_secret", { handle });
export const forgetNewSecret = (handle: string) => call<null>("forget_new_secret", { handle });
/** Exports through the native save dialog; null when cancelled. */
export const exportKey = (id: string, version: number | null, format: KeyExportFormat, isPublic: boolean) =>
  call<Saved | null>("export_key", { id, version, format, public: isPublic });

// --- Tokens ----------------------------------------------------------------

export const inspectToken = (token: string) => call<TokenReport>("inspect_token", { token });
export const verifyToken = (form: VerifyForm) => call<VerifyReport>("verify_token", { form });
export const signToken = (form: SignForm) => call<SignedTokenView>("sign_token", { form });
/** Copies a value already on screen; `clear` clears the clipboard after the configured delay. */
export const copyText = (text: string, clear: boolean) => call<Copied>("copy_text", { text, clear });

/** Runs the weak-secret check of an HS* token; `onProgress` gets about five ticks a second. */
export function weakSecretCheck(job: string, token: string, onProgress: (t: CrackTick) => void): Promise<WeakCheck> {
  const channel = new Channel<CrackTick>();
  channel.onmessage = onProgress;
  return call<WeakCheck>("weak_secret_check", { job, token, onProgress: channel });
}
export const cancelJob = (job: string) => call<boolean>("cancel_job", { job });

// --- Audit -----------------------------------------------------------------

export const auditBounds = () => call<AuditBounds>("audit_bounds");
export const auditPage = (query: AuditQuery) => call<AuditEvent[]>("audit_page", { query });
export const auditActions = () => call<string[]>("audit_actions");
export const auditVerify = () => call<ChainReport>("audit_verify");
export const exportAudit = (format: AuditExportFormat) => call<Saved | null>("export_audit", { format });

// --- Vault health ----------------------------------------------------------

/** `vault check`: the database against the keychain and the audit chain (audited). */
export const checkVault = () => call<CheckReport>("check_vault");
/**
 * `vault check --repair`, limited to what the user confirmed: refused with
 * `vault_changed` when a fresh check finds a repairable problem not in `confirmed`.
 */
export const repairVault = (confirmed: Problem[]) => call<CheckReport>("repair_vault", { confirmed });
