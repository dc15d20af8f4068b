// Each screen against a mocked backend (`mockIPC` answers the commands the
// Rust shell registers, with the shapes it returns): what the user sees,
// what is sent, and that secrets stay out of the DOM unless revealed.

import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { cleanup, render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { clearMocks } from "@tauri-apps/api/mocks";
import KeyDetailScreen from "./components/KeyDetailScreen.svelte";
import NewKeyScreen from "./components/NewKeyScreen.svelte";
import InspectorScreen from "./components/InspectorScreen.svelte";
import SignerScreen from "./components/SignerScreen.svelte";
import AuditScreen from "./components/AuditScreen.svelte";
import DueScreen from "./components/DueScreen.svelte";
import ScanScreen from "./components/ScanScreen.svelte";
import SettingsScreen from "./components/SettingsScreen.svelte";
import Toasts from "./components/Toasts.svelte";
import type { AuditEvent, KeyDetail, TokenReport, VerifyReport } from "./lib/types";
import { argsOf, mockBackend, type Handler } from "./test/backend";
import { keySummary, keyVersion } from "./test/fixtures";

const H = 3600_000;
const iso = (ms: number) => new Date(Date.now() + ms).toISOString();

const SUMMARY = keySummary({
  id: "k_sig",
  name: "billing-signer",
  kind: "signing",
  alg: "ES256",
  state: "active",
  version: 2,
  created_at: iso(-100 * H),
  scopes: ["tokens"],
  grace_until: iso(20 * H),
});

const DETAIL: KeyDetail = {
  ...SUMMARY,
  versions: [
    keyVersion({
      version: 1,
      state: "grace",
      created_at: iso(-100 * H),
      grace_until: iso(20 * H),
      kid: "kid-v1",
      thumbprint: "tp-v1",
      activated_at: iso(-100 * H),
      published_at: iso(-100 * H),
      stopped_signing_at: iso(-4 * H),
    }),
    keyVersion({
      version: 2,
      state: "active",
      created_at: iso(-4 * H),
      kid: "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
      thumbprint: "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
      activated_at: iso(-4 * H),
      published_at: iso(-4 * H),
    }),
  ],
};

const backend = (handlers: Record<string, Handler>) =>
  mockBackend(handlers, { list_keys: () => [structuredClone(SUMMARY)] });

beforeEach(() => {
  location.hash = "";
});

afterEach(() => {
  cleanup();
  clearMocks();
});

describe("Key detail", () => {
  test("shows metadata, thumbprint and the version timeline", async () => {
    backend({ show_key: () => structuredClone(DETAIL) });
    render(KeyDetailScreen, { props: { id: "k_sig" } });
    expect(await screen.findByTestId("detail-name")).toHaveTextContent("billing-signer");
    expect(screen.getByTestId("detail-thumbprint")).toHaveTextContent("NzbLsXh8uDCcd");
    const tl = screen.getByTestId("version-timeline");
    expect(tl.querySelectorAll('rect[data-kind="active"]').length).toBeGreaterThanOrEqual(2);
    expect(tl.querySelectorAll('rect[data-kind="grace"]').length).toBeGreaterThanOrEqual(1);
    expect(tl).toHaveTextContent("now");
    expect(screen.getAllByTestId("version-row").map((r) => r.dataset.state)).toEqual(["active", "grace"]);
    // Grace ends within 3 days: badge.
    expect(screen.getByText(/Grace ends in/)).toBeInTheDocument();
  });

  test("reveal shows the secret masked until toggled; copy happens in Rust and never returns the secret", async () => {
    const SECRET = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n-----END PRIVATE KEY-----";
    const calls = backend({
      show_key: () => structuredClone(DETAIL),
      reveal_key: () => ({ text: SECRET, hide_after: 20 }),
      copy_key_secret: () => ({ copied: true, clears_in: 30 }),
    });
    const user = userEvent.setup();
    render(KeyDetailScreen, { props: { id: "k_sig" } });
    render(Toasts);
    await screen.findByTestId("detail-name");

    await user.click(screen.getByTestId("action-copy"));
    expect(argsOf(calls, "copy_key_secret")).toEqual([{ id: "k_sig", version: null }]);
    expect(await screen.findByText(/clipboard clears in 30 s/)).toBeInTheDocument();
    expect(document.body.textContent).not.toContain("MIGHAgEAMBMGByqGSM49");

    await user.click(screen.getByTestId("action-reveal"));
    const value = await screen.findByTestId("secret-value");
    expect(value).toHaveAttribute("data-shown", "false");
    expect(value.textContent).not.toContain("MIGH");
    await user.click(screen.getByTestId("secret-toggle"));
    expect(value).toHaveAttribute("data-shown", "true");
    expect(value.textContent).toContain("MIGHAgEAMBMGByqGSM49");
    // Done drops it.
    await user.click(screen.getByTestId("secret-close"));
    expect(screen.queryByTestId("secret-value")).toBeNull();
    expect(document.body.textContent).not.toContain("MIGH");
  });

  test("rotate with a grace preset; an API key's new secret opens the shown-once dialog", async () => {
    const api: KeyDetail = { ...structuredClone(DETAIL), kind: "api", alg: null, id: "k_api", name: "web" };
    const calls = backend({
      show_key: () => api,
      rotate_key: () => ({
        rotated: { id: "k_api", name: "web", version: 3, previous_version: 2, state: "active", grace_until: iso(7 * 24 * H), kid: null, thumbprint: null },
        secret_handle: "once-1",
        hint: "kw_…ab12",
      }),
    });
    const user = userEvent.setup();
    render(KeyDetailScreen, { props: { id: "k_api" } });
    await screen.findByTestId("detail-name");
    await user.keyboard("r");
    const dlg = await screen.findByTestId("rotate-dialog");
    await user.click(within(dlg).getByRole("button", { name: "7d" }));
    await user.click(within(dlg).getByTestId("rotate-confirm"));
    expect(argsOf(calls, "rotate_key")).toEqual([{ id: "k_api", grace: "7d", stage: false }]);
    const once = await screen.findByTestId("new-secret-dialog");
    expect(within(once).getByTestId("new-secret-hint")).toHaveTextContent("kw_…ab12");
    expect(within(once).getByTestId("shown-once-warning")).toHaveTextContent("only time");
  });

  test("revoke needs a reason and the key's name typed exactly", async () => {
    const calls = backend({ show_key: () => structuredClone(DETAIL), revoke_key: () => [1, 2] });
    const user = userEvent.setup();
    render(KeyDetailScreen, { props: { id: "k_sig" } });
    await screen.findByTestId("detail-name");
    await user.click(screen.getByTestId("action-revoke"));
    const dlg = await screen.findByTestId("revoke-dialog");
    const submit = within(dlg).getByTestId("revoke-submit");
    expect(submit).toBeDisabled();
    await user.type(within(dlg).getByTestId("revoke-reason"), "leaked");
    expect(submit).toBeDisabled();
    await user.type(within(dlg).getByTestId("revoke-confirm-name"), "billing-signe");
    expect(submit).toBeDisabled();
    await user.type(within(dlg).getByTestId("revoke-confirm-name"), "r");
    expect(submit).toBeEnabled();
    await user.click(submit);
    expect(argsOf(calls, "revoke_key")).toEqual([{ id: "k_sig", version: null, reason: "leaked", force: false }]);
  });

  test("a refused transition is shown in the dialog with the core's message", async () => {
    backend({
      show_key: () => structuredClone(DETAIL),
      delete_key: () => {
        throw { code: "invalid_transition", message: "billing-signer v2 is active: revoke or disable it first" };
      },
    });
    const user = userEvent.setup();
    render(KeyDetailScreen, { props: { id: "k_sig" } });
    await screen.findByTestId("detail-name");
    await user.click(screen.getByTestId("action-delete"));
    const dlg = await screen.findByTestId("delete-dialog");
    await user.type(within(dlg).getByTestId("delete-confirm-name"), "billing-signer");
    await user.click(within(dlg).getByTestId("delete-submit"));
    expect(await within(dlg).findByTestId("dialog-error")).toHaveTextContent("revoke or disable it first");
  });

  test("export asks Rust to save through the dialog and reports the path", async () => {
    const calls = backend({
      show_key: () => structuredClone(DETAIL),
      export_key: () => ({ path: "/home/u/billing-signer.pub.pem", bytes: 178 }),
    });
    const user = userEvent.setup();
    render(KeyDetailScreen, { props: { id: "k_sig" } });
    render(Toasts);
    await screen.findByTestId("detail-name");
    await user.keyboard("e");
    const dlg = await screen.findByTestId("export-dialog");
    await user.selectOptions(within(dlg).getByTestId("export-format"), "jwks");
    await user.click(within(dlg).getByTestId("export-submit"));
    expect(argsOf(calls, "export_key")).toEqual([{ id: "k_sig", version: null, format: "jwks", public: true }]);
    expect(await screen.findByText(/Exported to \/home\/u\/billing-signer.pub.pem/)).toBeInTheDocument();
  });
});

describe("New key", () => {
  test("an API key is created, shown once behind a handle, copied from Rust, then forgotten", async () => {
    const calls = backend({
      create_key: () => ({
        id: "k_new",
        name: "payments",
        kind: "api",
        version: 1,
        alg: null,
        kid: null,
        thumbprint: null,
        public_only: false,
        expires_at: null,
        secret_handle: "once-7",
        hint: "pay_…9xYz",
        warnings: [],
      }),
      copy_new_secret: () => ({ copied: true, clears_in: 30 }),
      reveal_new_secret: () => "pay_SECRETSECRET9xYz",
      forget_new_secret: () => null,
    });
    const user = userEvent.setup();
    render(NewKeyScreen, { props: { tab: "api" } });
    await user.type(screen.getByTestId("new-name"), "payments");
    await user.type(screen.getByTestId("new-prefix"), "pay");
    await user.type(screen.getByTestId("new-scopes"), "read, write");
    await user.type(screen.getByTestId("new-expires"), "90d");
    await user.click(screen.getByTestId("new-submit"));
    expect(argsOf(calls, "create_key")[0]).toEqual({
      form: { name: "payments", scopes: ["read", "write"], expires_in: "90d", kind: "api", prefix: "pay", alg: null, bits: null, note: null },
    });
    const dlg = await screen.findByTestId("new-secret-dialog");
    expect(dlg).not.toHaveTextContent("SECRETSECRET");
    await user.click(within(dlg).getByTestId("new-secret-copy"));
    expect(argsOf(calls, "copy_new_secret")).toEqual([{ handle: "once-7" }]);
    await user.click(within(dlg).getByTestId("new-secret-show"));
    await user.click(await within(dlg).findByTestId("secret-toggle"));
    expect(within(dlg).getByTestId("secret-value")).toHaveTextContent("pay_SECRETSECRET9xYz");
    await user.click(within(dlg).getByTestId("new-secret-done"));
    expect(argsOf(calls, "forget_new_secret")).toEqual([{ handle: "once-7" }]);
    expect(location.hash).toBe("#/keys/k_new");
  });

  test("a signing key form sends the algorithm and RSA size", async () => {
    const calls = backend({
      create_key: () => ({
        id: "k_rsa",
        name: "rsa",
        kind: "signing",
        version: 1,
        alg: "RS256",
        kid: "t",
        thumbprint: "t",
        public_only: false,
        expires_at: null,
        secret_handle: null,
        hint: null,
        warnings: [],
      }),
    });
    const user = userEvent.setup();
    render(NewKeyScreen, { props: { tab: "signing" } });
    await user.type(screen.getByTestId("new-name"), "rsa");
    await user.selectOptions(screen.getByTestId("new-alg"), "RS256");
    await user.selectOptions(screen.getByTestId("new-bits"), "3072");
    await user.click(screen.getByTestId("new-submit"));
    expect(argsOf(calls, "create_key")[0]!.form).toMatchObject({ kind: "signing", alg: "RS256", bits: 3072 });
    await waitFor(() => expect(location.hash).toBe("#/keys/k_rsa"));
  });

  test("import by paste reports the core's error where the user acted", async () => {
    backend({
      import_key: () => {
        throw { code: "bad_key", message: "not a PEM or JWK key" };
      },
    });
    const user = userEvent.setup();
    render(NewKeyScreen, { props: { tab: "import" } });
    await user.type(screen.getByTestId("new-name"), "imported");
    await user.click(screen.getByTestId("import-text"));
    await user.paste("-----BEGIN PUBLIC KEY-----\nbroken\n-----END PUBLIC KEY-----");
    await user.click(screen.getByTestId("new-submit"));
    expect(await screen.findByTestId("form-error")).toHaveTextContent("bad_key: not a PEM or JWK key");
  });
});

const HS_TOKEN =
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

const REPORT: TokenReport = {
  inspection: {
    header: { alg: "HS256", typ: "JWT" },
    claims: { sub: "1234567890", name: "John Doe", iat: 1516239022 },
    payload_text: null,
    alg: "HS256",
    kid: null,
    signature_bytes: 32,
    registered: [{ claim: "sub", value: "1234567890", explained: "subject: who the token is about" }],
    lints: [
      { id: "missing_exp", severity: "error", message: "no exp: the token never expires" },
      { id: "symmetric_alg", severity: "info", message: "HS256 is a shared-secret algorithm" },
    ],
    timeline: { iat: 1516239022, nbf: null, exp: null, now: Math.floor(Date.now() / 1000) },
  },
  kid_match: null,
  hmac: true,
};

const VERIFIED: VerifyReport = {
  verification: {
    valid: false,
    reason: "exp: missing (required)",
    header: {},
    claims: {},
    checks: [
      { check: "format", status: "pass", detail: "compact JWS, JSON claims" },
      { check: "signature", status: "pass", detail: "valid" },
      { check: "exp", status: "fail", detail: "missing (required)" },
      { check: "iss", status: "skipped", detail: "not configured" },
    ],
    key: null,
  },
  weak_secret: [{ code: "common_secret", message: "the secret is on Keyward's list" }],
};

describe("Token inspector", () => {
  test("decodes, explains, lints, verifies step by step and runs the weak-secret check", async () => {
    const calls = backend({
      inspect_token: () => structuredClone(REPORT),
      verify_token: () => structuredClone(VERIFIED),
      weak_secret_check: () => ({ found: true, hint: "yo…et", length: 19, tried: 4000, cancelled: false, elapsed_ms: 12 }),
    });
    const user = userEvent.setup();
    render(InspectorScreen);
    await user.click(screen.getByTestId("token-input"));
    await user.paste(HS_TOKEN);
    expect(await screen.findByTestId("token-claims")).toHaveTextContent('"name": "John Doe"');
    const parts = screen.getByTestId("token-parts");
    expect(parts.querySelector(".p-header")).toHaveTextContent("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");
    expect(screen.getByTestId("registered")).toHaveTextContent("subject: who the token is about");
    expect(screen.getByTestId("lints").querySelector('[data-lint="missing_exp"]')).toHaveClass("sev-error");
    expect(screen.getByTestId("token-status")).toHaveTextContent("valid now");

    await user.click(screen.getByTestId("src-secret"));
    await user.type(screen.getByTestId("verify-material"), "your-256-bit-secret");
    await user.type(screen.getByTestId("verify-require"), "exp");
    await user.click(screen.getByTestId("verify-submit"));
    const list = await screen.findByTestId("checklist");
    expect([...list.querySelectorAll("[data-check]")].map((e) => `${e.getAttribute("data-check")}:${e.getAttribute("data-status")}`)).toEqual([
      "format:pass",
      "signature:pass",
      "exp:fail",
      "iss:skipped",
    ]);
    expect(screen.getByTestId("verdict")).toHaveTextContent("Rejected — exp: missing (required)");
    const form = argsOf(calls, "verify_token")[0]!.form as Record<string, unknown>;
    expect(form).toMatchObject({ key: { kind: "secret", text: "your-256-bit-secret" }, require: ["exp"], leeway: 0 });

    await user.click(screen.getByTestId("weak-start"));
    expect(await screen.findByTestId("weak-result")).toHaveAttribute("data-found", "true");
    expect(screen.getByTestId("weak-result")).toHaveTextContent("yo…et");
  });

  test("a malformed token shows the parser's code and message", async () => {
    backend({
      inspect_token: () => {
        throw { code: "malformed_token", message: "not a JWT: expected three parts" };
      },
    });
    const user = userEvent.setup();
    render(InspectorScreen);
    await user.type(screen.getByTestId("token-input"), "abc");
    expect(await screen.findByTestId("inspect-error")).toHaveTextContent("malformed_token");
  });
});

describe("Token signer", () => {
  test("claims are validated as typed; the signed token can be copied", async () => {
    const calls = backend({
      sign_token: () => ({ token: "aaa.bbb.ccc", jti: "j1", iat: 1, exp: 3601 }),
      copy_text: () => ({ copied: true, clears_in: 30 }),
    });
    const user = userEvent.setup();
    render(SignerScreen);
    await waitFor(() => expect(screen.getByTestId("sign-key")).toHaveValue("k_sig"));
    const claims = screen.getByTestId("sign-claims");
    await user.clear(claims);
    await user.type(claims, '{{"exp": "soon"}');
    expect(screen.getByTestId("claims-error")).toHaveTextContent("NumericDate");
    expect(screen.getByTestId("sign-submit")).toBeDisabled();
    await user.clear(claims);
    await user.type(claims, '{{"role": "admin"}');
    await user.type(screen.getByTestId("sign-sub"), "alice");
    await user.click(screen.getByTestId("sign-submit"));
    expect(argsOf(calls, "sign_token")[0]!.form).toMatchObject({ key: "k_sig", claims: '{"role": "admin"}', sub: "alice", ttl: "1h" });
    expect(await screen.findByTestId("signed-token")).toHaveTextContent("aaa.bbb.ccc");
    await user.click(screen.getByTestId("signed-copy"));
    expect(argsOf(calls, "copy_text")).toEqual([{ text: "aaa.bbb.ccc", clear: true }]);
  });
});

const event = (seq: number, action = "key.create"): AuditEvent => ({
  seq,
  at: new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString(),
  actor: "alice",
  source: "desktop",
  action,
  key_id: "k_1",
  version: 1,
  outcome: "success",
  details: { name: "one" },
  hash: "00",
});

describe("Audit log", () => {
  test("pages by sequence number from the newest, shows the chain badge, and filters", async () => {
    const calls = backend({
      audit_bounds: () => ({ first_seq: 1, last_seq: 1_000_000, count: 1_000_000 }),
      audit_actions: () => ["key.create", "key.rotate"],
      audit_verify: () => ({ intact: true, events: 1_000_000, last_seq: 1_000_000, first_broken: null, anchor: "checkpoint ok" }),
      audit_page: (a) => {
        const q = a.query as { before_seq: number | null; limit: number; action: string | null };
        const top = (q.before_seq ?? 1_000_001) - 1;
        return Array.from({ length: Math.min(q.limit, 5) }, (_, i) => event(top - i, q.action ?? "key.create"));
      },
    });
    const user = userEvent.setup();
    render(AuditScreen);
    await waitFor(() => expect(screen.getByTestId("chain-badge")).toHaveTextContent("Chain verified up to #1000000"));
    await waitFor(() => expect(screen.getAllByTestId("audit-row")[0]).toHaveAttribute("data-seq", "1000000"));
    expect(screen.getByTestId("audit-count")).toHaveTextContent("1,000,000 events");
    // Only a window of rows is in the DOM.
    expect(document.querySelectorAll(".tr").length).toBeLessThan(60);
    expect(argsOf(calls, "audit_page")[0]!.query).toMatchObject({ before_seq: 1_000_001, newest_first: true, limit: 200 });

    await waitFor(() => expect(screen.getByTestId("filter-action").querySelectorAll("option").length).toBe(3));
    await user.selectOptions(screen.getByTestId("filter-action"), "key.rotate");
    await waitFor(() => expect(screen.getAllByTestId("audit-row")[0]).toHaveAttribute("data-action", "key.rotate"));
    expect(argsOf(calls, "audit_page").at(-1)!.query).toMatchObject({ action: "key.rotate", before_seq: null });
  });

  test("a broken chain names the first broken event", async () => {
    backend({
      audit_bounds: () => ({ first_seq: 1, last_seq: 3, count: 3 }),
      audit_actions: () => [],
      audit_verify: () => ({ intact: false, events: 3, last_seq: 3, first_broken: { seq: 2, problem: "hash mismatch" }, anchor: null }),
      audit_page: () => [event(3), event(2), event(1)],
    });
    render(AuditScreen);
    await waitFor(() => expect(screen.getByTestId("chain-badge")).toHaveTextContent("Chain broken at #2: hash mismatch"));
  });
});

describe("Due, scan and settings", () => {
  test("the Due view lists items and applies the due ones", async () => {
    const item = { kind: "rotation", key_id: "k_1", name: "web", version: null, due_at: iso(-2 * H), overdue: true, late: false, detail: "auto-rotation every 30d is due" };
    const calls = backend({
      due_report: () => ({ now: new Date().toISOString(), within: "14d", items: [item], applied: [] }),
      apply_due: () => ({ now: new Date().toISOString(), within: "14d", items: [], applied: ["rotated web to v2"] }),
    });
    const user = userEvent.setup();
    render(DueScreen);
    render(Toasts);
    const row = await screen.findByTestId("due-item");
    expect(row).toHaveTextContent("overdue");
    expect(row).toHaveTextContent("auto-rotation every 30d is due");
    await user.click(screen.getByTestId("due-apply"));
    expect(argsOf(calls, "apply_due")).toHaveLength(1);
    expect(await screen.findByText("rotated web to v2")).toBeInTheDocument();
  });

  test("scan results are grouped by file and a live key can be rotated", async () => {
    const finding = (file: string, kind: string, extra = {}) => ({
      file,
      line: 3,
      column: 7,
      kind,
      level: "error",
      masked: "kw_…ab12",
      message: "a live Keyward key",
      variant: null,
      key: null,
      suggestion: null,
      jwt: null,
      ...extra,
    });
    const calls = backend({
      scan_path: () => ({
        findings: [
          finding(".env", "keyward-api-key", { key: { lookup: "found", id: "k_1", name: "web", version: 1, state: "active", live: true } }),
          finding(".env", "aws-access-key-id"),
          finding("src/app.js", "github-token"),
        ],
        files_scanned: 12,
        bytes_scanned: 4096,
        skipped: { binary: 0, too_large: 0, unreadable: 0 },
        warnings: [],
      }),
      rotate_key: () => ({
        rotated: { id: "k_1", name: "web", version: 2, previous_version: 1, state: "active", grace_until: null, kid: null, thumbprint: null },
        secret_handle: "once-2",
        hint: "kw_…zz99",
      }),
    });
    const user = userEvent.setup();
    render(ScanScreen);
    await user.type(screen.getByTestId("scan-path"), "/src/project");
    await user.click(screen.getByTestId("scan-run"));
    const files = await screen.findAllByTestId("scan-file");
    expect(files).toHaveLength(2);
    expect(within(files[0]!).getAllByTestId("scan-finding")).toHaveLength(2);
    expect(document.body.textContent).toContain("kw_…ab12");
    await user.click(screen.getByTestId("scan-rotate"));
    expect(argsOf(calls, "rotate_key")).toEqual([{ id: "k_1", grace: null, stage: false }]);
    expect(await screen.findByTestId("new-secret-dialog")).toBeInTheDocument();
  });

  test("settings load, save and report validation errors", async () => {
    let fail = true;
    const calls = backend({
      vault_status: () => ({
        from_env: false,
        vault_id: "v_1",
        data_dir: "/home/u/.local/share/keyward",
        database: "/home/u/.local/share/keyward/vault.db",
        schema_version: 4,
        keychain_backend: "secret-service",
        keychain_namespace: "keyward:v_1",
        keychain_reachable: true,
        keychain_error: null,
        keys: 2,
        events: 10,
      }),
      save_settings: (a) => {
        if (fail) throw { code: "bad_setting", message: "clipboard clear delay (seconds) must be between 5 and 600" };
        return a.settings;
      },
    });
    const user = userEvent.setup();
    render(SettingsScreen);
    expect(await screen.findByTestId("settings-vault")).toHaveTextContent("/home/u/.local/share/keyward");
    const clip = screen.getByTestId("set-clipboard");
    await user.clear(clip);
    await user.type(clip, "9");
    await user.click(screen.getByTestId("settings-save"));
    expect(await screen.findByTestId("settings-error")).toHaveTextContent("between 5 and 600");
    fail = false;
    await user.clear(clip);
    await user.type(clip, "45");
    await user.click(screen.getByTestId("theme-dark"));
    await user.click(screen.getByTestId("settings-save"));
    await waitFor(() => expect(document.documentElement).toHaveAttribute("data-theme", "dark"));
    expect(argsOf(calls, "save_settings").at(-1)!.settings).toMatchObject({ clipboard_clear_seconds: 45, theme: "dark" });
    document.documentElement.removeAttribute("data-theme");
  });
});
