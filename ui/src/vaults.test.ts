// The vault switcher, the backend status block and the key page's
// "changed last by" line, against a mocked backend (`mockIPC` answers with
// the shapes the Rust commands return).

import { afterEach, describe, expect, test, vi } from "vitest";
import { cleanup, render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { clearMocks } from "@tauri-apps/api/mocks";
import App from "./App.svelte";
import BackendStatus from "./components/BackendStatus.svelte";
import KeyDetailScreen from "./components/KeyDetailScreen.svelte";
import VaultSwitcher from "./components/VaultSwitcher.svelte";
import { backendView, changedLastText, leaderText, removableVaults, vaultLabel } from "./lib/vaults";
import type { BackendStatus as Status, KnownVault, VaultList } from "./lib/types";
import { mockBackend, type Handler } from "./test/backend";
import { KEYCHAIN_BACKEND, keyDetail, nothingDue, PERSONAL_VAULT, teamVault } from "./test/fixtures";

const PERSONAL = PERSONAL_VAULT;
const TEAM = teamVault("payments");
const LIST: VaultList = { vaults: [PERSONAL, TEAM], open: PERSONAL.dir, from_env: false };

const KEYCHAIN = KEYCHAIN_BACKEND;
const BAO: Status = {
  kind: "openbao", addr: "http://127.0.0.1:8200", team: "payments", sealed: false, version: "2.7.2",
  ha_enabled: true, leader: "http://127.0.0.1:8200", is_self_leader: true, reachable: true, error: null,
};

const backend = (handlers: Record<string, Handler>) => mockBackend(handlers);

afterEach(() => {
  cleanup();
  clearMocks();
});

describe("naming and wording", () => {
  test("vault labels say personal or team", () => {
    expect(vaultLabel(PERSONAL)).toBe("Personal");
    expect(vaultLabel({ ...PERSONAL, default: false, dir: "/x/work" })).toBe("Personal · work");
    expect(vaultLabel(TEAM)).toBe("Team payments");
    expect(vaultLabel({ ...TEAM, team: null, error: "bad team.json" })).toMatch(/unreadable/);
  });

  test("the leader line covers HA, a single node and an unreachable server", () => {
    expect(leaderText(BAO)).toBe("http://127.0.0.1:8200 (this server)");
    expect(leaderText({ ...BAO, is_self_leader: false, leader: "http://10.0.0.2:8200" })).toBe("http://10.0.0.2:8200");
    expect(leaderText({ ...BAO, ha_enabled: false, leader: null })).toMatch(/single node/);
    expect(leaderText({ ...BAO, reachable: false })).toBe("unknown");
  });

  test("an unreachable or sealed server says what to do", () => {
    const down = backendView({ ...BAO, reachable: false, sealed: null, error: "OpenBao at http://127.0.0.1:8200 is unreachable: start it" });
    expect(down.tone).toBe("danger");
    expect(down.problem).toMatch(/start it/);
    const sealed = backendView({ ...BAO, sealed: true, error: "OpenBao at x is sealed: unseal it (bao operator unseal) and retry" });
    expect(sealed.title).toBe("OpenBao sealed");
    expect(sealed.rows.find((r) => r.id === "seal")?.value).toBe("Sealed");
    expect(backendView(KEYCHAIN).rows).toEqual([]);
  });

  test("changed last by names the actor and the time", () => {
    const line = changedLastText({ key_id: "k_1", by: "alice", at: "2026-03-01T12:00:00Z", version: 3, source: "openbao" });
    expect(line).toMatch(/^changed last by alice at /);
    expect(line).toContain("2026");
    expect(changedLastText(null)).toBeNull();
  });
});

describe("vault switcher", () => {
  test("lists personal and team vaults, marks the open one, and switches from the keyboard", async () => {
    backend({ backend_status: () => KEYCHAIN });
    const onswitch = vi.fn();
    const user = userEvent.setup();
    render(VaultSwitcher, { props: { list: LIST, onswitch, onadd: () => {}, onforget: async () => {} } });
    const select = screen.getByTestId("vault-select") as HTMLSelectElement;
    expect([...select.options].map((o) => o.textContent)).toEqual(["Personal", "Team payments"]);
    expect(select.value).toBe(PERSONAL.dir);
    expect(screen.getByLabelText("Vault")).toBe(select);
    expect(await screen.findByTestId("keychain-status")).toHaveAttribute("data-reachable", "true");

    select.focus();
    await user.keyboard("{ArrowDown}");
    await user.selectOptions(select, TEAM.dir);
    expect(onswitch).toHaveBeenCalledWith(TEAM.dir);
  });

  test("Remove from list: only added, closed vaults; from the keyboard, after a confirm that nothing is deleted", async () => {
    backend({ backend_status: () => KEYCHAIN });
    const WORK: KnownVault = { ...PERSONAL, dir: "/home/u/vaults/work", default: false };
    const onforget = vi.fn(async () => {});
    const user = userEvent.setup();
    render(VaultSwitcher, { props: { list: { ...LIST, vaults: [PERSONAL, TEAM, WORK] }, onswitch: () => {}, onadd: () => {}, onforget } });

    screen.getByTestId("vault-forget").focus();
    await user.keyboard("{Enter}");
    const pick = await screen.findByTestId("vault-forget-pick");
    // Neither the personal default nor the open vault is offered.
    expect(within(pick).getAllByTestId("vault-forget-choose").map((b) => b.getAttribute("aria-label"))).toEqual([
      "Remove Team payments from the list",
      "Remove Personal · work from the list",
    ]);
    expect(within(pick).getAllByTestId("vault-forget-choose")[0]).toHaveFocus();
    await user.keyboard("{Enter}");

    const confirm = await screen.findByTestId("vault-forget-confirm");
    expect(screen.queryByTestId("vault-forget-pick")).toBeNull();
    const text = within(confirm).getByTestId("vault-forget-text").textContent ?? "";
    expect(text).toMatch(/Nothing is deleted/);
    expect(text).toContain(TEAM.dir);
    expect(text).toMatch(/stay on disk/);
    expect(text).toMatch(/in OpenBao/);
    // Cancel is where focus lands: Enter alone removes nothing.
    expect(within(confirm).getByRole("button", { name: "Cancel" })).toHaveFocus();
    await user.keyboard("{Enter}");
    expect(screen.queryByTestId("vault-forget-confirm")).toBeNull();
    expect(onforget).not.toHaveBeenCalled();

    screen.getByTestId("vault-forget").focus();
    await user.keyboard("{Enter}");
    await screen.findByTestId("vault-forget-pick");
    await user.keyboard("{Tab}{Enter}"); // the second entry: work
    const again = await screen.findByTestId("vault-forget-confirm");
    expect(within(again).getByTestId("vault-forget-text")).toHaveTextContent(/in the OS keychain/);
    await user.keyboard("{Tab}{Enter}");
    expect(onforget).toHaveBeenCalledWith(WORK.dir);
    await waitFor(() => expect(screen.queryByTestId("vault-forget-confirm")).toBeNull());
  });

  test("Remove from list goes straight to the confirm for a single entry, and shows a refusal", async () => {
    backend({ backend_status: () => KEYCHAIN });
    const onforget = vi.fn(async () => {
      throw { code: "vault_open", message: "this vault is open: switch to another one first" };
    });
    const user = userEvent.setup();
    render(VaultSwitcher, { props: { list: LIST, onswitch: () => {}, onadd: () => {}, onforget } });
    await user.click(screen.getByTestId("vault-forget"));
    const confirm = await screen.findByTestId("vault-forget-confirm");
    await user.click(within(confirm).getByTestId("vault-forget-yes"));
    expect(onforget).toHaveBeenCalledWith(TEAM.dir);
    expect(await screen.findByTestId("vault-forget-error")).toHaveTextContent("switch to another one first");
    expect(screen.getByTestId("vault-forget-confirm")).toBeInTheDocument();
  });

  test("nothing to remove: no button (only the default and the open vault, or KEYWARD_VAULT)", () => {
    backend({ backend_status: () => KEYCHAIN });
    const { unmount } = render(VaultSwitcher, {
      props: { list: { ...LIST, vaults: [PERSONAL, TEAM], open: TEAM.dir }, onswitch: () => {}, onadd: () => {}, onforget: async () => {} },
    });
    expect(removableVaults({ ...LIST, open: TEAM.dir })).toEqual([]);
    expect(screen.queryByTestId("vault-forget")).toBeNull();
    unmount();
    expect(removableVaults({ ...LIST, from_env: true })).toEqual([]);
    expect(removableVaults(LIST)).toEqual([TEAM]);
  });

  test("KEYWARD_VAULT locks the switcher and hides Add", async () => {
    backend({ backend_status: () => KEYCHAIN });
    render(VaultSwitcher, { props: { list: { ...LIST, from_env: true }, onswitch: () => {}, onadd: () => {}, onforget: async () => {} } });
    expect(screen.getByTestId("vault-select")).toBeDisabled();
    expect(screen.getByText("from KEYWARD_VAULT")).toBeInTheDocument();
    expect(screen.queryByTestId("vault-add")).toBeNull();
  });
});

describe("backend status", () => {
  test("a team vault shows address, seal, leader and version, and refreshes on demand", async () => {
    let sealed = false;
    const calls = backend({ backend_status: () => ({ ...BAO, sealed, error: sealed ? "OpenBao at http://127.0.0.1:8200 is sealed: unseal it (bao operator unseal) and retry" : null }) });
    const user = userEvent.setup();
    render(BackendStatus, { props: { open: TEAM.dir } });
    expect(await screen.findByTestId("backend-addr")).toHaveTextContent("http://127.0.0.1:8200");
    expect(screen.getByTestId("backend-seal")).toHaveTextContent("Unsealed");
    expect(screen.getByTestId("backend-leader")).toHaveTextContent("http://127.0.0.1:8200 (this server)");
    expect(screen.getByTestId("backend-version")).toHaveTextContent("2.7.2");
    expect(screen.queryByTestId("backend-error")).toBeNull();

    sealed = true;
    await user.click(screen.getByRole("button", { name: "Refresh the backend status" }));
    await waitFor(() => expect(screen.getByTestId("backend-seal")).toHaveTextContent("Sealed"));
    expect(screen.getByTestId("backend-error")).toHaveTextContent("bao operator unseal");
    expect(screen.getByTestId("backend-status")).toHaveAttribute("data-sealed", "true");
    expect(calls.filter((c) => c.cmd === "backend_status")).toHaveLength(2);
  });

  test("an unreachable server is shown with the reason", async () => {
    backend({
      backend_status: () => ({ ...BAO, reachable: false, sealed: null, leader: null, ha_enabled: null, version: null, error: "cannot reach OpenBao at http://127.0.0.1:8200 (connection refused): start it or check --addr" }),
    });
    render(BackendStatus, { props: { open: TEAM.dir } });
    expect(await screen.findByTestId("backend-title")).toHaveTextContent("OpenBao unreachable");
    expect(screen.getByTestId("backend-error")).toHaveTextContent("connection refused");
    expect(screen.getByTestId("backend-leader")).toHaveTextContent("unknown");
  });
});

describe("key page", () => {
  const DETAIL = keyDetail({ name: "billing", created_at: "2026-03-01T12:00:00Z", prefix: "kw", last4: "ab12" });

  test("says who changed the key last, from the team document", async () => {
    backend({
      show_key: () => structuredClone(DETAIL),
      key_last_change: (a) => ({ key_id: a.id, by: "alice", at: "2026-03-01T12:00:00Z", version: 4, source: "openbao" }),
    });
    render(KeyDetailScreen, { props: { id: "k_1" } });
    const line = await screen.findByTestId("detail-last-change");
    expect(line).toHaveTextContent(/changed last by alice at .*2026/);
    expect(line).toHaveAttribute("data-source", "openbao");
    expect(line.title).toMatch(/OpenBao \(version 4\)/);
  });

  test("no line when nothing is known", async () => {
    backend({ show_key: () => structuredClone(DETAIL), key_last_change: () => null });
    render(KeyDetailScreen, { props: { id: "k_1" } });
    await screen.findByTestId("detail-name");
    expect(screen.queryByTestId("detail-last-change")).toBeNull();
  });
});

describe("in the app", () => {

  function app(opts: { applyOnSwitch: string[] }) {
    let open = PERSONAL.dir;
    let vaults = [PERSONAL, TEAM];
    let switched = false;
    return backend({
      list_vaults: () => ({ vaults, open, from_env: false }),
      switch_vault: (a) => {
        open = a.dir as string;
        switched = true;
        return { dir: open, from_env: false };
      },
      forget_vault_entry: (a) => {
        vaults = vaults.filter((v) => v.dir !== a.dir);
        return { vaults, open, from_env: false };
      },
      // The opening step's report: start-up, then the vault switched to.
      startup_due: () => (switched ? { ...nothingDue(), applied: opts.applyOnSwitch } : nothingDue()),
      list_keys: () => [],
      vault_status: () => {
        throw { code: "internal", message: "not in this test" };
      },
      backend_status: () => KEYCHAIN,
    });
  }

  test("a switch shows what the opening step applied in the vault switched to", async () => {
    location.hash = "";
    const calls = app({ applyOnSwitch: ["rotated team-signer to v2"] });
    const user = userEvent.setup();
    render(App);
    const select = (await screen.findByTestId("vault-select")) as HTMLSelectElement;
    await waitFor(() => expect(calls.filter((c) => c.cmd === "startup_due")).toHaveLength(1));
    expect(screen.queryByTestId("due-banner")).toBeNull();

    await user.selectOptions(select, TEAM.dir);
    const banner = await screen.findByTestId("due-banner");
    expect(banner).toHaveTextContent("Applied on opening this vault: rotated team-signer to v2.");
    expect(calls.filter((c) => c.cmd === "startup_due")).toHaveLength(2);
    // The rotation may have landed after the list was read: it is read again.
    await waitFor(() => expect(calls.filter((c) => c.cmd === "list_keys").length).toBeGreaterThanOrEqual(2));
  });

  test("Remove from list calls forget_vault_entry and the switcher drops the entry", async () => {
    location.hash = "";
    const calls = app({ applyOnSwitch: [] });
    const user = userEvent.setup();
    render(App);
    await user.click(await screen.findByTestId("vault-forget"));
    await user.click(within(await screen.findByTestId("vault-forget-confirm")).getByTestId("vault-forget-yes"));
    await waitFor(() => expect(calls.filter((c) => c.cmd === "forget_vault_entry").map((c) => c.args)).toEqual([{ dir: TEAM.dir }]));
    await waitFor(() => expect([...(screen.getByTestId("vault-select") as HTMLSelectElement).options].map((o) => o.value)).toEqual([PERSONAL.dir]));
    expect(screen.queryByTestId("vault-forget")).toBeNull();
    expect(await screen.findByText(/nothing was deleted/)).toBeInTheDocument();
  });
});
