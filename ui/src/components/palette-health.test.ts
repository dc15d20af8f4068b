// "Check vault health" in the Ctrl+K palette: Settings opens at the Vault
// health card with Check now focused, from any screen and again from there.

import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { cleanup, render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import App from "../App.svelte";
import { DEFAULT_SETTINGS, parseRoute, routeHash } from "../lib/app.svelte";
import type { BackendStatus, DueReport, VaultList, VaultStatus } from "../lib/types";

const DIR = "/tmp/keyward palette vault";
const STATUS: VaultStatus = {
  from_env: false,
  vault_id: "v_0123456789abcdef",
  data_dir: DIR,
  database: `${DIR}/vault.db`,
  schema_version: 1,
  keychain_backend: "secret-service",
  keychain_namespace: "keyward:v_0123456789abcdef",
  keychain_reachable: true,
  keychain_error: null,
  keys: 0,
  events: 1,
};
const VAULTS: VaultList = {
  vaults: [{ dir: DIR, kind: "personal", team: null, addr: null, default: true, error: null }],
  open: DIR,
  from_env: false,
};
const KEYCHAIN: BackendStatus = {
  kind: "keychain",
  addr: null,
  team: null,
  sealed: null,
  version: null,
  ha_enabled: null,
  leader: null,
  is_self_leader: null,
  reachable: true,
  error: null,
};
const NOTHING_DUE: DueReport = { now: new Date().toISOString(), within: "14d", items: [], applied: [] };

function backend(): string[] {
  const calls: string[] = [];
  mockIPC((cmd) => {
    calls.push(cmd);
    switch (cmd) {
      case "list_keys":
        return [];
      case "vault_status":
        return STATUS;
      case "get_settings":
        return structuredClone(DEFAULT_SETTINGS);
      case "startup_due":
        return NOTHING_DUE;
      case "list_vaults":
        return VAULTS;
      case "backend_status":
        return KEYCHAIN;
      default:
        throw new Error(`unexpected command ${cmd}`);
    }
  });
  return calls;
}

async function runFromPalette(user: ReturnType<typeof userEvent.setup>, text: string) {
  await user.keyboard("{Control>}k{/Control}");
  await screen.findByTestId("palette-input");
  await user.keyboard(text);
  const options = within(screen.getByTestId("palette")).getAllByRole("option");
  expect(options.map((o) => o.textContent?.trim())).toEqual(["Check vault health"]);
  await user.keyboard("{Enter}");
}

beforeEach(() => {
  location.hash = "";
});

afterEach(() => {
  cleanup();
  clearMocks();
});

describe("Check vault health from the palette", () => {
  test("the route #/settings/health is Settings at the health card", () => {
    expect(parseRoute("#/settings/health")).toEqual({ screen: "settings", section: "health" });
    expect(parseRoute("#/settings")).toEqual({ screen: "settings" });
    expect(routeHash({ screen: "settings", section: "health" })).toBe("#/settings/health");
    expect(routeHash({ screen: "settings" })).toBe("#/settings");
  });

  test("opens Settings with Check now focused, and focuses it again when run there", async () => {
    const calls = backend();
    const user = userEvent.setup();
    render(App);
    await waitFor(() => expect(calls).toContain("list_vaults"));

    await runFromPalette(user, "vault health");
    await waitFor(() => expect(location.hash).toBe("#/settings/health"));
    const check = await screen.findByTestId("health-check");
    await waitFor(() => expect(check).toHaveFocus());
    expect(check).toHaveTextContent("Check now");
    expect(screen.queryByTestId("palette")).toBeNull();
    expect(calls).not.toContain("check_vault"); // focused, not run

    // Focus elsewhere, then ask again from the same screen.
    screen.getByTestId("settings-save").focus();
    await runFromPalette(user, "check vault health");
    await waitFor(() => expect(screen.getByTestId("health-check")).toHaveFocus());

    // Settings from the sidebar does not steal focus to the card.
    location.hash = "#/keys";
    await waitFor(() => expect(screen.queryByTestId("settings")).toBeNull());
    location.hash = "#/settings";
    await screen.findByTestId("health-check");
    await new Promise((r) => setTimeout(r, 20));
    expect(screen.getByTestId("health-check")).not.toHaveFocus();
  });
});
