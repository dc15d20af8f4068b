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
import type { VaultList } from "./lib/types";
import { keyDetail, keyVersion, nothingDue, PERSONAL_VAULT, teamVault } from "./test/fixtures";

const iso = (ms: number) => new Date(Date.now() + ms).toISOString();

const DETAIL = keyDetail({
  id: "k_sig",
  name: "billing-signer",
  kind: "signing",
  alg: "ES256",
  created_at: iso(-3600_000),
  versions: [
    keyVersion({
      created_at: iso(-3600_000),
      kid: "kid-1",
      thumbprint: "tp-1",
      activated_at: iso(-3600_000),
      published_at: iso(-3600_000),
    }),
  ],
});

const PERSONAL = PERSONAL_VAULT;
const TEAM = teamVault("e2e");

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
        return nothingDue();
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
