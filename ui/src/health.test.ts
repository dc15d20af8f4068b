// The Vault health section (Settings): check, the problems with what repair
// would do, the confirm dialog that lists exactly that, and the plain
// warning before re-anchoring a truncated audit log.

import { afterEach, describe, expect, test } from "vitest";
import { cleanup, render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import VaultHealth from "./components/VaultHealth.svelte";
import type { CheckReport, Problem } from "./lib/types";

const ORPHAN: Problem = {
  kind: "orphan_entry",
  key_id: "k_gone",
  version: null,
  entry: "k_gone/v1",
  detail: "keychain entry k_gone/v1 belongs to no key version of this vault",
  repair: "delete keychain entry k_gone/v1",
  repairable: true,
};
const UNFINISHED: Problem = {
  kind: "unfinished_operation",
  key_id: "k_new",
  version: 1,
  entry: "k_new/v1",
  detail: "an interrupted create of k_new v1 (started 2026-01-01T00:00:00Z by process 42)",
  repair: "roll back the unfinished create of k_new v1: delete keychain entry k_new/v1 if present (the new version was never handed out)",
  repairable: true,
};
const CHAIN: Problem = {
  kind: "audit_chain",
  key_id: null,
  version: null,
  entry: null,
  detail: "the audit chain is broken at event #7: the event was altered",
  repair: "none: the audit log is never rewritten; restore the database from a backup and keep this copy as evidence",
  repairable: false,
};
const TRUNCATED: Problem = {
  kind: "audit_truncated",
  key_id: null,
  version: null,
  entry: null,
  detail: "the audit chain in the database is intact up to event #4, but the checkpoint says #6",
  repair: "only if vault.db was restored from a backup: accept the log as it is, recording in a vault.repair event what the checkpoint said, and anchor the checkpoint at the log's end",
  repairable: true,
};

const report = (problems: Problem[], repaired: string[] = []): CheckReport => ({
  consistent: problems.length === 0,
  problems,
  repaired,
  in_progress: [],
  keychain_enumerated: true,
  versions_checked: 3,
  audit_events: 12,
});

function backend(check: () => CheckReport, repair?: (confirmed: Problem[]) => CheckReport) {
  const calls: { cmd: string; args: Record<string, unknown> }[] = [];
  mockIPC((cmd, args) => {
    const a = (args ?? {}) as Record<string, unknown>;
    calls.push({ cmd, args: a });
    if (cmd === "check_vault") return check();
    if (cmd === "repair_vault" && repair) return repair(a.confirmed as Problem[]);
    throw new Error(`unexpected command ${cmd}`);
  });
  return calls;
}

afterEach(() => {
  cleanup();
  clearMocks();
});

describe("Vault health", () => {
  test("a consistent vault: the counts, and Repair stays disabled", async () => {
    backend(() => report([]));
    const user = userEvent.setup();
    render(VaultHealth);
    expect(screen.getByTestId("health-repair")).toBeDisabled();
    await user.click(screen.getByTestId("health-check"));
    const status = await screen.findByTestId("health-status");
    expect(status).toHaveAttribute("data-state", "consistent");
    expect(status).toHaveTextContent("3 key versions match the keychain, 12 audit events chain");
    expect(screen.getByTestId("health-repair")).toBeDisabled();
  });

  test("renders each problem with its detail and what repair would do; nothing repairable keeps Repair disabled", async () => {
    backend(() => report([CHAIN]));
    const user = userEvent.setup();
    render(VaultHealth);
    await user.click(screen.getByTestId("health-check"));
    expect(await screen.findByTestId("health-status")).toHaveTextContent("1 problem found, none repairable");
    const [p] = screen.getAllByTestId("health-problem");
    expect(p).toHaveAttribute("data-kind", "audit_chain");
    expect(p).toHaveTextContent("Broken audit chain");
    expect(p).toHaveTextContent("not repairable");
    expect(p).toHaveTextContent(CHAIN.detail);
    expect(p).toHaveTextContent(CHAIN.repair);
    expect(screen.getByTestId("health-repair")).toBeDisabled();
  });

  test("the confirm dialog lists exactly the repairs; confirming sends those problems and shows the result", async () => {
    let fixed = false;
    const calls = backend(
      () => report(fixed ? [CHAIN] : [ORPHAN, UNFINISHED, CHAIN]),
      () => {
        fixed = true;
        return report([], ["deleted orphan keychain entry k_gone/v1", "rolled back the interrupted create of k_new v1"]);
      },
    );
    const user = userEvent.setup();
    render(VaultHealth);
    await user.click(screen.getByTestId("health-check"));
    expect(await screen.findAllByTestId("health-problem")).toHaveLength(3);
    expect(screen.getByTestId("health-status")).toHaveTextContent("3 problems found, 2 repairable");
    await user.click(screen.getByTestId("health-repair"));
    const dialog = await screen.findByTestId("repair-dialog");
    const actions = within(dialog).getAllByTestId("repair-action");
    expect(actions.map((a) => a.dataset.kind)).toEqual(["orphan_entry", "unfinished_operation"]);
    expect(actions[0]).toHaveTextContent(ORPHAN.repair);
    expect(actions[1]).toHaveTextContent(UNFINISHED.repair);
    expect(within(dialog).getByTestId("repair-untouched")).toHaveTextContent("Broken audit chain");
    expect(within(dialog).queryByTestId("repair-truncated-warning")).toBeNull();
    // Keyboard: Esc closes without repairing.
    await user.keyboard("{Escape}");
    expect(screen.queryByTestId("repair-dialog")).toBeNull();
    expect(calls.some((c) => c.cmd === "repair_vault")).toBe(false);
    await user.click(screen.getByTestId("health-repair"));
    await user.click(await screen.findByTestId("repair-confirm"));
    expect(await screen.findByTestId("health-repaired")).toHaveTextContent("deleted orphan keychain entry k_gone/v1");
    expect(screen.getByTestId("health-status")).toHaveAttribute("data-state", "consistent");
    const sent = calls.filter((c) => c.cmd === "repair_vault").map((c) => (c.args.confirmed as Problem[]).map((p) => p.kind));
    expect(sent).toEqual([["orphan_entry", "unfinished_operation"]]);
  });

  test("audit_truncated: a plain warning, and Repair needs the explicit backup confirmation", async () => {
    const calls = backend(
      () => report([TRUNCATED]),
      () => report([], ["accepted the audit log as it is"]),
    );
    const user = userEvent.setup();
    render(VaultHealth);
    await user.click(screen.getByTestId("health-check"));
    await user.click(await screen.findByTestId("health-repair"));
    const dialog = await screen.findByTestId("repair-dialog");
    expect(within(dialog).getByTestId("repair-truncated-warning")).toHaveTextContent(
      "Only repair the audit log if you have just restored vault.db from a backup",
    );
    const confirm = within(dialog).getByTestId("repair-confirm");
    expect(confirm).toBeDisabled();
    await user.click(within(dialog).getByTestId("repair-truncated-confirm"));
    expect(confirm).toBeEnabled();
    await user.click(confirm);
    expect(await screen.findByTestId("health-repaired")).toHaveTextContent("accepted the audit log");
    expect(calls.filter((c) => c.cmd === "repair_vault")).toHaveLength(1);
  });

  test("a repair refused because the vault changed shows the fresh list and repairs nothing", async () => {
    let n = 0;
    backend(
      () => (n++ === 0 ? report([ORPHAN]) : report([ORPHAN, TRUNCATED])),
      () => {
        throw { code: "vault_changed", message: "the vault changed since it was checked (1 new repairable problem(s)): nothing was repaired; check again and review the list" };
      },
    );
    const user = userEvent.setup();
    render(VaultHealth);
    await user.click(screen.getByTestId("health-check"));
    await user.click(await screen.findByTestId("health-repair"));
    await user.click(await screen.findByTestId("repair-confirm"));
    expect(await screen.findByTestId("health-error")).toHaveTextContent("the vault changed since it was checked");
    expect(screen.queryByTestId("repair-dialog")).toBeNull();
    expect(await screen.findAllByTestId("health-problem")).toHaveLength(2);
  });
});
