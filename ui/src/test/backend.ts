// A mocked Rust shell for component tests: `mockIPC` answering from a table
// of handlers and recording every call, so a test can assert what was sent.
// Only test files import this module.

import { mockIPC } from "@tauri-apps/api/mocks";
import { DEFAULT_SETTINGS } from "../lib/app.svelte";

/** One IPC command the UI sent, with its arguments. */
export type IpcCall = { cmd: string; args: Record<string, unknown> };
export type Handler = (args: Record<string, unknown>) => unknown;

/**
 * Answers each command from `handlers`, else from `defaults` (after
 * `get_settings`, which answers the default settings); any other command
 * fails the test. Returns the calls, in order.
 */
export function mockBackend(handlers: Record<string, Handler>, defaults: Record<string, Handler> = {}): IpcCall[] {
  const calls: IpcCall[] = [];
  const table: Record<string, Handler> = { get_settings: () => structuredClone(DEFAULT_SETTINGS), ...defaults, ...handlers };
  mockIPC((cmd, args) => {
    const a = (args ?? {}) as Record<string, unknown>;
    calls.push({ cmd, args: a });
    const h = Object.hasOwn(table, cmd) ? table[cmd] : undefined;
    if (h) return h(a);
    throw new Error(`unexpected command ${cmd}`);
  });
  return calls;
}

/** The arguments of every call of `cmd`, in order. */
export const argsOf = (calls: IpcCall[], cmd: string) => calls.filter((c) => c.cmd === cmd).map((c) => c.args);
