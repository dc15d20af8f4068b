// "Check vault health" in the Ctrl+K palette: Settings opens at the Vault
// health card with Check now focused, from any screen and again from there.

import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { cleanup, render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { clearMocks } from "@tauri-apps/api/mocks";
import App from "../App.svelte";
import { parseRoute, routeHash } from "../lib/app.svelte";
import type { VaultList, VaultStatus } from "../lib/types";
import { mockBackend, type IpcCall } from "../test/backend";
import { KEYCHAIN_BACKEND, nothingDue, PERSONAL_VAULT } from "../test/fixtures";

const STATUS: VaultStatus = {
  from_env: false,
  vault_id: "v_0123456789abcdef",
  data_dir: PERSONAL_VAULT.dir,
  database: `${PERSONAL_VAULT.dir}/vault.db`,
  schema_version: 1,
  keychain_backend: "secret-service",
  keychain_namespace: "keyward:v_0123456789abcdef",
  keychain_reachable: true,
  keychain_error: null,
  keys: 0,
  events: 1,
};
const VAULTS: VaultList = { vaults: [PERSONAL_VAULT], open: PERSONAL_VAULT.dir, from_env: false };

function backend(): IpcCall[] {
  return mockBackend({
    list_keys: () => [],
    vault_status: () => STATUS,
    startup_due: () => nothingDue(),
    list_vaults: () => VAULTS,
    backend_status: () => KEYCHAIN_BACKEND,
  });
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
    await waitFor(() => expect(calls.map((c) => c.cmd)).toContain("list_vaults"));

    await runFromPalette(user, "vault health");
    await waitFor(() => expect(location.hash).toBe("#/settings/health"));
    const check = await screen.findByTestId("health-check");
    await waitFor(() => expect(check).toHaveFocus());
    expect(check).toHaveTextContent("Check now");
    expect(screen.queryByTestId("palette")).toBeNull();
    expect(calls.map((c) => c.cmd)).not.toContain("check_vault"); // focused, not run

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
