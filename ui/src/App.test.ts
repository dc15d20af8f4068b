// The app against a mocked backend: `mockIPC` answers the same commands the
// Rust shell registers, with the shapes it returns, so these tests exercise
// ipc.ts and every component on the Keys screen.

import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { cleanup, render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import App from "./App.svelte";
import { DEFAULT_SETTINGS } from "./lib/app.svelte";
import type { KeySummary, VaultList, VaultStatus } from "./lib/types";
import { KEYCHAIN_BACKEND, keySummary, nothingDue } from "./test/fixtures";

const DAY = 24 * 3600 * 1000;
const iso = (msFromNow: number) => new Date(Date.now() + msFromNow).toISOString();

const KEYS: KeySummary[] = [
  keySummary({
    id: "k_signer",
    name: "billing-signer",
    kind: "signing",
    alg: "ES256",
    state: "active",
    version: 2,
    created_at: iso(-40 * DAY),
    expires_at: null,
    scopes: [],
  }),
  keySummary({
    id: "k_ci",
    name: "ci-deploy",
    kind: "api",
    alg: null,
    state: "revoked",
    version: 1,
    created_at: iso(-90 * DAY),
    expires_at: iso(-5 * DAY),
    scopes: ["deploy:write"],
    prefix: "kw",
    last4: "Zx9Q",
    note: "used by the release pipeline",
  }),
  keySummary({
    id: "k_web",
    name: "api-web",
    kind: "api",
    alg: null,
    state: "grace",
    version: 3,
    created_at: iso(-10 * DAY),
    expires_at: iso(3 * DAY),
    scopes: ["read", "write"],
  }),
];

const STATUS: VaultStatus = {
  from_env: true,
  vault_id: "v_0123456789abcdef",
  data_dir: "/tmp/keyward test vault",
  database: "/tmp/keyward test vault/vault.db",
  schema_version: 1,
  keychain_backend: "secret-service",
  keychain_namespace: "keyward:v_0123456789abcdef",
  keychain_reachable: true,
  keychain_error: null,
  keys: 3,
  events: 7,
};

const VAULTS: VaultList = {
  vaults: [{ dir: STATUS.data_dir, kind: "personal", team: null, addr: null, default: false, error: null }],
  open: STATUS.data_dir,
  from_env: true,
};

type Handler = (cmd: string, args: unknown) => unknown;

function backend(overrides: Partial<Record<string, Handler>> = {}) {
  const calls: string[] = [];
  mockIPC((cmd, args) => {
    calls.push(cmd);
    const h = overrides[cmd];
    if (h) return h(cmd, args);
    if (cmd === "list_keys") return structuredClone(KEYS);
    if (cmd === "vault_status") return STATUS;
    if (cmd === "get_settings") return structuredClone(DEFAULT_SETTINGS);
    if (cmd === "startup_due") return nothingDue();
    if (cmd === "list_vaults") return VAULTS;
    if (cmd === "backend_status") return KEYCHAIN_BACKEND;
    throw new Error(`unexpected command ${cmd}`);
  });
  return calls;
}

function rowNames(): string[] {
  return screen.queryAllByTestId("key-row").map((r) => within(r).getByTestId("key-name").textContent ?? "");
}

function selectedName(): string | null {
  const row = screen.queryAllByTestId("key-row").find((r) => r.getAttribute("aria-selected") === "true");
  return row ? (within(row).getByTestId("key-name").textContent ?? null) : null;
}

beforeEach(() => {
  location.hash = "";
});

afterEach(() => {
  cleanup();
  clearMocks();
});

describe("Keys screen", () => {
  test("lists every key from list_keys, sorted by name, with kind, algorithm, state, version", async () => {
    const calls = backend();
    render(App);

    await waitFor(() => expect(rowNames()).toEqual(["api-web", "billing-signer", "ci-deploy"]));
    expect(calls).toContain("list_keys");

    const signer = screen.getAllByTestId("key-row").find((r) => r.dataset.keyId === "k_signer")!;
    const cells = within(signer);
    expect(cells.getByText("Signing key")).toBeInTheDocument();
    expect(cells.getByText("ES256")).toBeInTheDocument();
    expect(within(cells.getByTestId("key-state")).getByText("Active")).toBeInTheDocument();
    expect(cells.getByText("v2")).toBeInTheDocument();
    expect(cells.getAllByText("Never")).toHaveLength(2); // expires, last used

    const web = screen.getAllByTestId("key-row").find((r) => r.dataset.keyId === "k_web")!;
    expect(within(web).getByText("in 3 days")).toHaveClass("urgency-soon");
    expect(within(web).getByText("Grace")).toBeInTheDocument();
    expect(screen.getByTestId("key-count")).toHaveTextContent("3 keys");
  });

  test("the filter narrows the list as the user types and matches scopes and algorithms", async () => {
    backend();
    const user = userEvent.setup();
    render(App);
    await waitFor(() => expect(rowNames()).toHaveLength(3));

    const filter = screen.getByTestId("key-filter");
    await user.type(filter, "api");
    expect(rowNames()).toEqual(["api-web", "ci-deploy"]); // name, then kind
    expect(screen.getByTestId("key-count")).toHaveTextContent("2 of 3 keys");

    await user.clear(filter);
    await user.type(filter, "deploy:write");
    expect(rowNames()).toEqual(["ci-deploy"]);

    await user.clear(filter);
    await user.type(filter, "es256 active");
    expect(rowNames()).toEqual(["billing-signer"]);

    await user.type(filter, " nothing");
    expect(rowNames()).toEqual([]);
    expect(screen.getByTestId("no-match")).toHaveTextContent("No keys match");

    await user.keyboard("{Escape}");
    expect(filter).toHaveValue("");
    expect(rowNames()).toHaveLength(3);
  });

  test("/ focuses the filter; arrow keys move the selection and the details follow", async () => {
    backend();
    const user = userEvent.setup();
    render(App);
    await waitFor(() => expect(rowNames()).toHaveLength(3));
    expect(selectedName()).toBe("api-web");

    await user.keyboard("/");
    const filter = screen.getByTestId("key-filter");
    expect(filter).toHaveFocus();
    expect(filter).toHaveValue(""); // the slash is a shortcut, not input

    await user.keyboard("{ArrowDown}");
    expect(selectedName()).toBe("billing-signer");
    expect(within(screen.getByTestId("key-details")).getByRole("heading", { name: "billing-signer" })).toBeInTheDocument();

    await user.keyboard("{ArrowDown}{ArrowDown}{ArrowDown}");
    expect(selectedName()).toBe("ci-deploy"); // stops at the end
    await user.keyboard("{ArrowUp}");
    expect(selectedName()).toBe("billing-signer");

    // The selection follows the filter when the selected key is filtered out.
    await user.type(filter, "ci");
    expect(selectedName()).toBe("ci-deploy");
    expect(within(screen.getByTestId("key-details")).getByText("deploy:write")).toBeInTheDocument();
  });

  test("clicking a row selects it", async () => {
    backend();
    const user = userEvent.setup();
    render(App);
    await waitFor(() => expect(rowNames()).toHaveLength(3));
    await user.click(screen.getByText("ci-deploy"));
    expect(selectedName()).toBe("ci-deploy");
  });

  test("an empty vault tells the user the CLI command that creates a key, with --vault for a custom vault", async () => {
    backend({ list_keys: () => [] });
    render(App);
    const empty = await screen.findByTestId("empty-state");
    expect(empty).toHaveTextContent("No keys in this vault yet");
    await waitFor(() =>
      expect(screen.getAllByTestId("empty-command")[0]).toHaveTextContent(
        "keyward --vault '/tmp/keyward test vault' key new --kind api --name my-service",
      ),
    );
    expect(screen.queryByTestId("key-table")).toBeNull();
  });

  test("a backend error shows its code and message, and Retry recovers", async () => {
    let fail = true;
    const calls = backend({
      list_keys: () => {
        if (fail) {
          // What the shell sends for a core error: `{code, message}`.
          throw { code: "keychain_unavailable", message: "the keychain is locked: unlock your login keyring and retry" };
        }
        return structuredClone(KEYS);
      },
    });
    const user = userEvent.setup();
    render(App);

    const banner = await screen.findByTestId("error-banner");
    expect(banner).toHaveAttribute("role", "alert");
    expect(within(banner).getByTestId("error-code")).toHaveTextContent("keychain_unavailable");
    expect(within(banner).getByTestId("error-message")).toHaveTextContent(
      "the keychain is locked: unlock your login keyring and retry",
    );
    expect(within(banner).getByText("The keychain is unavailable")).toBeInTheDocument();
    expect(rowNames()).toEqual([]);

    fail = false;
    await user.click(within(banner).getByRole("button", { name: "Retry" }));
    await waitFor(() => expect(rowNames()).toHaveLength(3));
    expect(screen.queryByTestId("error-banner")).toBeNull();
    expect(calls.filter((c) => c === "list_keys")).toHaveLength(2);
  });

  test("a rejection that is not a command error still shows a banner", async () => {
    backend({
      list_keys: () => {
        throw "Command list_keys not allowed by ACL";
      },
    });
    render(App);
    const banner = await screen.findByTestId("error-banner");
    expect(within(banner).getByTestId("error-code")).toHaveTextContent("ipc_failure");
    expect(within(banner).getByTestId("error-message")).toHaveTextContent("not allowed by ACL");
  });

  test("the sidebar shows where the vault is and that the keychain answers", async () => {
    backend();
    render(App);
    const status = await screen.findByTestId("vault-status");
    expect(status).toHaveTextContent("from KEYWARD_VAULT");
    expect(within(status).getByTitle(STATUS.data_dir)).toBeInTheDocument();
    expect(await screen.findByTestId("keychain-status")).toHaveTextContent("Keychain: secret-service");
    expect(screen.queryByTestId("error-banner")).toBeNull();
  });

  test("an unreachable keychain is reported even though the list loads", async () => {
    const calls = backend({
      vault_status: () => ({
        ...STATUS,
        keychain_reachable: false,
        keychain_error: "the OS keychain is unavailable (no secret service): start and unlock your login keyring, then retry",
      }),
    });
    const user = userEvent.setup();
    render(App);
    await waitFor(() => expect(rowNames()).toHaveLength(3));
    const banner = await screen.findByTestId("error-banner");
    expect(within(banner).getByTestId("error-code")).toHaveTextContent("keychain_unavailable");
    expect(within(banner).getByTestId("error-message")).toHaveTextContent("no secret service");
    expect(await screen.findByTestId("keychain-status")).toHaveTextContent("Keychain unreachable");

    // Retry asks for the status again, not just the list.
    await user.click(within(banner).getByRole("button", { name: "Retry" }));
    await waitFor(() => expect(calls.filter((c) => c === "vault_status")).toHaveLength(2));
  });

  test("API keys are recognisable by prefix and last 4 characters, never more", async () => {
    backend();
    const user = userEvent.setup();
    render(App);
    await waitFor(() => expect(rowNames()).toHaveLength(3));
    const row = screen.getAllByTestId("key-row").find((r) => r.dataset.keyId === "k_ci")!;
    expect(row).toHaveTextContent("kw_…Zx9Q");
    await user.click(within(row).getByTestId("key-name"));
    const details = screen.getByTestId("key-details");
    expect(details).toHaveTextContent("used by the release pipeline");
    // The note is searchable too.
    await user.type(screen.getByTestId("key-filter"), "pipeline");
    expect(rowNames()).toEqual(["ci-deploy"]);
  });
});
