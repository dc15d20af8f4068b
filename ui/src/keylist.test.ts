// The Keys screen over a big vault: the table is windowed, so the DOM holds
// only the rows in view however many keys there are, while the keyboard,
// the filter and the grid's row numbers still cover the whole list.

import { afterEach, describe, expect, test } from "vitest";
import { cleanup, render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import KeysScreen from "./components/KeysScreen.svelte";
import { pageRows, rowWindow, scrollToReveal } from "./lib/rows";
import type { KeySummary } from "./lib/types";
import { keySummary } from "./test/fixtures";

const N = 10_000;
/** The DOM may hold a view's worth of rows plus overscan, never the list. */
const MAX_DOM_ROWS = 40;

const name = (i: number) => `service-${String(i).padStart(5, "0")}`;

function bigVault(n: number): KeySummary[] {
  return Array.from({ length: n }, (_, i) =>
    keySummary({
      id: `k_${i.toString(16).padStart(6, "0")}`,
      name: name(i),
      scopes: [["read", "write", "admin"][i % 3]!],
      prefix: "kw",
      last4: "Ab12",
    }),
  );
}

const domRows = () => screen.queryAllByTestId("key-row");
const rowName = (r: HTMLElement) => within(r).getByTestId("key-name").textContent;
const selectedRow = () => domRows().find((r) => r.getAttribute("aria-selected") === "true");

async function renderBig() {
  const keys = bigVault(N);
  mockIPC((cmd) => {
    if (cmd === "list_keys") return keys;
    throw new Error(`unexpected command ${cmd}`);
  });
  render(KeysScreen);
  await waitFor(() => expect(screen.getByTestId("key-count")).toHaveTextContent(`${N} keys`));
  const table = screen.getByTestId("key-table");
  table.focus();
  return { user: userEvent.setup(), table };
}

afterEach(() => {
  location.hash = "";
  cleanup();
  clearMocks();
});

describe("Keys table with 10,000 keys", () => {
  test("the DOM holds a bounded number of rows, and the grid still counts every key", async () => {
    const { table } = await renderBig();
    const rows = domRows();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThanOrEqual(MAX_DOM_ROWS);
    expect(table).toHaveAttribute("role", "grid");
    expect(table).toHaveAttribute("aria-rowcount", String(N + 1)); // + the header row
    expect(rows[0]).toHaveAttribute("aria-rowindex", "2");
    expect(rowName(rows[0]!)).toBe(name(0));
    expect(table).toHaveAttribute("aria-activedescendant", rows[0]!.id);
  });

  test("End, PgUp, PgDn, Home and the arrows reach every row, and the selected row is always drawn", async () => {
    const { user, table } = await renderBig();

    await user.keyboard("{End}");
    let sel = selectedRow();
    expect(sel && rowName(sel)).toBe(name(N - 1));
    expect(sel).toHaveAttribute("aria-rowindex", String(N + 1));
    expect(table).toHaveAttribute("aria-activedescendant", sel!.id);
    expect(domRows().length).toBeLessThanOrEqual(MAX_DOM_ROWS);

    // PgUp moves a view's worth up (the row number says which row that is).
    await user.keyboard("{PageUp}");
    sel = selectedRow()!;
    const up = Number(sel.getAttribute("aria-rowindex")) - 2;
    expect(up).toBeLessThan(N - 2);
    expect(rowName(sel)).toBe(name(up));

    await user.keyboard("{PageDown}{ArrowUp}");
    expect(rowName(selectedRow()!)).toBe(name(N - 2));

    await user.keyboard("{Home}");
    expect(rowName(selectedRow()!)).toBe(name(0));
    await user.keyboard("{PageDown}{ArrowDown}");
    sel = selectedRow()!;
    expect(Number(sel.getAttribute("aria-rowindex"))).toBeGreaterThan(3);
    expect(domRows().length).toBeLessThanOrEqual(MAX_DOM_ROWS);

    // Enter opens the selected key's page.
    await user.keyboard("{Enter}");
    expect(location.hash).toBe(`#/keys/${sel.dataset.keyId}`);
  });

  test("the selection survives filtering and clearing the filter, and its row is drawn", async () => {
    const { user } = await renderBig();
    const filter = screen.getByTestId("key-filter");

    await user.type(filter, "service-0777");
    await waitFor(() => expect(domRows()).toHaveLength(10));
    await user.keyboard("{ArrowDown}{ArrowDown}");
    expect(rowName(selectedRow()!)).toBe(name(7772));

    // Narrowing further keeps it; clearing the filter puts it back among
    // 10,000 keys, far past the first screen, and scrolls it into view.
    await user.type(filter, "2");
    expect(domRows().map(rowName)).toEqual([name(7772)]);
    expect(rowName(selectedRow()!)).toBe(name(7772));

    await user.keyboard("{Escape}");
    await waitFor(() => expect(screen.getByTestId("key-count")).toHaveTextContent(`${N} keys`));
    const sel = selectedRow();
    expect(sel && rowName(sel)).toBe(name(7772));
    expect(sel).toHaveAttribute("aria-rowindex", String(7772 + 2));
    expect(domRows().length).toBeLessThanOrEqual(MAX_DOM_ROWS);
    expect(within(screen.getByTestId("key-details")).getByRole("heading", { name: name(7772) })).toBeInTheDocument();
  });
});

describe("row windowing", () => {
  test("draws the rows in view plus the overscan, with spacers for the rest", () => {
    expect(rowWindow(0, 600, 60, 10_000, 6)).toEqual({ first: 0, end: 17, before: 0, after: (10_000 - 17) * 60 });
    expect(rowWindow(6000, 600, 60, 10_000, 6)).toEqual({ first: 94, end: 117, before: 94 * 60, after: (10_000 - 117) * 60 });
    expect(rowWindow(600_000, 600, 60, 10_000, 6)).toEqual({ first: 9993, end: 10_000, before: 9993 * 60, after: 0 });
    expect(rowWindow(0, 600, 60, 3)).toEqual({ first: 0, end: 3, before: 0, after: 0 });
    expect(rowWindow(0, 600, 60, 0)).toEqual({ first: 0, end: 0, before: 0, after: 0 });
  });

  test("scrolls the least needed to show a row, below a sticky header", () => {
    // Rows 0..8 in view (600 px, 40 px header): no move for row 3.
    expect(scrollToReveal(3, 0, 600, 60, 40)).toBe(0);
    // Row 20's bottom edge is 40 + 21 * 60 = 1300: the view ends there.
    expect(scrollToReveal(20, 0, 600, 60, 40)).toBe(700);
    // Back up to row 2: its top meets the header's bottom.
    expect(scrollToReveal(2, 700, 600, 60, 40)).toBe(120);
    expect(scrollToReveal(0, 700, 600, 60, 40)).toBe(0);
    expect(pageRows(600, 60, 40)).toBe(8);
    expect(pageRows(50, 60, 40)).toBe(1);
  });
});
