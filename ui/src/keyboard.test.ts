// Window-wide shortcuts never fire while the user types: a space (or R, V,
// ?, Backspace…) typed into the Ctrl+K palette on a key page, or into any
// other text field, reaches the field and nothing else.

import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { cleanup, render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import App from "./App.svelte";
import { DEFAULT_SETTINGS } from "./lib/app.svelte";
import { isTextField, shortcutAllowed } from "./lib/keyboard";
import type { KeyDetail, KnownVault, VaultList } from "./lib/types";

const iso = (ms: number) => new Date(Date.now() + ms).toISOString();

const DETAIL: KeyDetail = {
  id: "k_sig",
  name: "billing-signer",
  kind: "signing",
  alg: "ES256",
  state: "active",
  version: 1,
  created_at: iso(-3600_000),
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
  versions: [
    {
      version: 1,
      state: "active",
      created_at: iso(-3600_000),
      not_after: null,
      grace_until: null,
      revoked_at: null,
      reason: null,
      kid: "kid-1",
      thumbprint: "tp-1",
      last4: null,
      last_used_at: null,
      restores_to: null,
      activated_at: iso(-3600_000),
      published_at: iso(-3600_000),
      stopped_signing_at: null,
    },
  ],
};

const PERSONAL: KnownVault = { dir: "/home/u/.local/share/keyward", kind: "personal", team: null, addr: null, default: true, error: null };
const TEAM: KnownVault = { dir: "/home/u/vaults/e2e", kind: "team", team: "e2e", addr: "http://127.0.0.1:8200", default: false, error: null };

function backend() {
  const calls: { cmd: string; args: Record<string, unknown> }[] = [];
  let open = TEAM.dir;
  mockIPC((cmd, args) => {
    const a = (args ?? {}) as Record<string, unknown>;
    calls.push({ cmd, args: a });
    switch (cmd) {
      case "get_settings":
        return structuredClone(DEFAULT_SETTINGS);
      case "startup_due":
        return { now: new Date().toISOString(), within: "14d", items: [], applied: [] };
      case "list_vaults":
        return { vaults: [PERSONAL, TEAM], open, from_env: false } satisfies VaultList;
      case "switch_vault":
        open = a.dir as string;
        return { dir: open, from_env: false };
      case "show_key":
        return structuredClone(DETAIL);
      case "key_last_change":
        return null;
      case "list_keys":
        return [];
      case "vault_status":
      case "backend_status":
        throw { code: "internal", message: "not in this test" };
    }
    throw new Error(`unexpected command ${cmd}`);
  });
  return calls;
}

beforeEach(() => {
  location.hash = "#/keys/k_sig";
});

afterEach(() => {
  cleanup();
  clearMocks();
  location.hash = "";
});

describe("shortcuts and text fields", () => {
  test("a space typed into the palette on a key page stays in the field, and the palette switches vault", async () => {
    const calls = backend();
    const user = userEvent.setup();
    render(App);
    expect(await screen.findByTestId("detail-name")).toHaveTextContent("billing-signer");

    await user.keyboard("{Control>}k{/Control}");
    const input = await screen.findByTestId("palette-input");
    expect(input).toHaveFocus();
    // Every key-page shortcut letter and Backspace, plus spaces and "?".
    await user.keyboard("switch vault: personal ? rvcexdp");
    expect(input).toHaveValue("switch vault: personal ? rvcexdp");
    await user.keyboard("{Backspace>10/}");
    expect(input).toHaveValue("switch vault: personal");
    expect(screen.getByTestId("detail-name")).toBeInTheDocument(); // Backspace did not leave the page
    expect(screen.queryByTestId("shortcuts")).toBeNull();
    expect(screen.queryByTestId("rotate-dialog")).toBeNull();
    expect(calls.map((c) => c.cmd)).not.toContain("reveal_key");

    const options = within(screen.getByTestId("palette")).getAllByRole("option");
    expect(options.map((o) => o.textContent)).toEqual(["Switch vault: Personal"]);
    await user.keyboard("{Enter}");
    await waitFor(() => expect(calls.filter((c) => c.cmd === "switch_vault").map((c) => c.args)).toEqual([{ dir: PERSONAL.dir }]));
  });

  test("shortcuts stay quiet in a contenteditable and in a select, and work again outside them", async () => {
    backend();
    const user = userEvent.setup();
    render(App);
    await screen.findByTestId("detail-name");

    const editable = document.createElement("div");
    editable.setAttribute("contenteditable", "true");
    editable.tabIndex = 0;
    document.body.append(editable);
    editable.focus();
    await user.keyboard("r ?");
    expect(screen.queryByTestId("rotate-dialog")).toBeNull();
    expect(screen.queryByTestId("shortcuts")).toBeNull();
    editable.remove();

    screen.getByTestId("vault-select").focus();
    await user.keyboard("r");
    expect(screen.queryByTestId("rotate-dialog")).toBeNull();

    (document.activeElement as HTMLElement).blur();
    await user.keyboard("r");
    expect(await screen.findByTestId("rotate-dialog")).toBeInTheDocument();
  });
});

describe("the rule", () => {
  const key = (target: EventTarget, init: KeyboardEventInit = {}) => {
    const e = new KeyboardEvent("keydown", { key: "r", bubbles: true, cancelable: true, ...init });
    Object.defineProperty(e, "target", { value: target });
    return e;
  };

  test("text fields of every kind, and their insides, take typed keys", () => {
    const input = document.createElement("input");
    const area = document.createElement("textarea");
    const select = document.createElement("select");
    const editable = document.createElement("div");
    editable.setAttribute("contenteditable", "");
    const inside = document.createElement("b");
    editable.append(inside);
    const off = document.createElement("div");
    off.setAttribute("contenteditable", "false");
    for (const el of [input, area, select, editable, inside]) expect(isTextField(el)).toBe(true);
    for (const el of [off, document.createElement("button"), document.body, null, window]) expect(isTextField(el)).toBe(false);
  });

  test("modifiers, IME composition and handled events are never shortcuts", () => {
    const body = document.body;
    expect(shortcutAllowed(key(body))).toBe(true);
    expect(shortcutAllowed(key(body, { ctrlKey: true }))).toBe(false);
    expect(shortcutAllowed(key(body, { altKey: true }))).toBe(false);
    expect(shortcutAllowed(key(body, { metaKey: true }))).toBe(false);
    expect(shortcutAllowed(key(body, { isComposing: true }))).toBe(false);
    expect(shortcutAllowed(key(document.createElement("textarea")))).toBe(false);
    const handled = key(body);
    handled.preventDefault();
    expect(shortcutAllowed(handled)).toBe(false);
  });
});
