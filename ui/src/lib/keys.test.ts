import { describe, expect, test } from "vitest";
import { expiryUrgency, filterKeys, relativeTime, sortKeys, stateLabel, stateTone } from "./keys";
import { cliCommand, shellQuote } from "./cli";
import { shortenPath } from "./paths";
import type { KeyState } from "./types";
import { keySummary } from "../test/fixtures";

const key = keySummary;

const NOW = new Date("2026-03-01T12:00:00Z");

describe("filterKeys", () => {
  const keys = [
    key({ id: "k_a", name: "Payments", kind: "signing", alg: "RS256" }),
    key({ id: "k_b", name: "webhooks", scopes: ["hooks:send"], state: "grace" }),
  ];

  test("empty or blank query keeps everything", () => {
    expect(filterKeys(keys, "")).toHaveLength(2);
    expect(filterKeys(keys, "   ")).toHaveLength(2);
  });

  test("matches case-insensitively on name, id, algorithm, state and scope", () => {
    expect(filterKeys(keys, "PAY").map((k) => k.id)).toEqual(["k_a"]);
    expect(filterKeys(keys, "k_b").map((k) => k.id)).toEqual(["k_b"]);
    expect(filterKeys(keys, "rs256").map((k) => k.id)).toEqual(["k_a"]);
    expect(filterKeys(keys, "grace").map((k) => k.id)).toEqual(["k_b"]);
    expect(filterKeys(keys, "hooks:send").map((k) => k.id)).toEqual(["k_b"]);
  });

  test("every word must match", () => {
    expect(filterKeys(keys, "signing rs256").map((k) => k.id)).toEqual(["k_a"]);
    expect(filterKeys(keys, "signing grace")).toEqual([]);
  });
});

test("sortKeys orders by name naturally and case-insensitively", () => {
  const sorted = sortKeys([key({ id: "3", name: "key10" }), key({ id: "1", name: "Key2" }), key({ id: "2", name: "alpha" })]);
  expect(sorted.map((k) => k.name)).toEqual(["alpha", "Key2", "key10"]);
});

test("relativeTime picks the largest unit", () => {
  expect(relativeTime("2026-03-04T12:00:00Z", NOW)).toBe("in 3 days");
  expect(relativeTime("2026-03-01T10:00:00Z", NOW)).toBe("2 hours ago");
  expect(relativeTime("2026-03-01T12:00:20Z", NOW)).toBe("now");
  expect(relativeTime("not a date", NOW)).toBe("not a date");
});

test("expiryUrgency", () => {
  expect(expiryUrgency(null, NOW)).toBe("none");
  expect(expiryUrgency("2026-02-28T00:00:00Z", NOW)).toBe("past");
  expect(expiryUrgency("2026-03-10T00:00:00Z", NOW)).toBe("soon");
  expect(expiryUrgency("2026-06-01T00:00:00Z", NOW)).toBe("none");
});

test("state tones and labels", () => {
  expect(stateTone("active")).toBe("ok");
  expect(stateTone("revoked")).toBe("danger");
  expect(stateTone("something-new" as KeyState)).toBe("muted");
  expect(stateLabel("destroy-scheduled")).toBe("Destroy scheduled");
  expect(stateLabel("active")).toBe("Active");
});

test("CLI hints are shell-quoted", () => {
  expect(shellQuote("my-key")).toBe("my-key");
  expect(shellQuote("it's here")).toBe(`'it'\\''s here'`);
  expect(cliCommand(["key", "show", "k_1"])).toBe("keyward key show k_1");
  expect(cliCommand(["key", "show", "k_1"], "/home/a b/v")).toBe("keyward --vault '/home/a b/v' key show k_1");
});

test("shortenPath keeps the end of long paths", () => {
  expect(shortenPath("/tmp/v")).toBe("/tmp/v");
  expect(shortenPath("/home/someone/.local/share/keyward", 20)).toBe("…/share/keyward");
  const cut = shortenPath("/x/averyveryverylongdirectoryname", 12);
  expect(cut).toBe("…rectoryname");
  expect(cut).toHaveLength(12);
});
