// The switcher's labels: two vaults never share one.
import { describe, expect, test } from "vitest";
import { vaultLabel } from "./vaults";
import type { KnownVault } from "./types";
import { PERSONAL_VAULT as PERSONAL, teamVault } from "../test/fixtures";

const team = (dir: string, name = "e2e"): KnownVault => ({ ...teamVault(name), dir });

describe("vault labels", () => {
  test("a label no other vault has stays as it is", () => {
    const a = team("/v/a");
    const list = [PERSONAL, a, team("/v/p", "payments")];
    expect(vaultLabel(a, list)).toBe("Team e2e");
    expect(vaultLabel(PERSONAL, list)).toBe("Personal");
    expect(vaultLabel(a)).toBe("Team e2e");
  });

  test("two clients of one team are told apart by their folders", () => {
    const a = team("/home/u/.local/share/keyward/teams/e2e");
    const b = team("/tmp/client-b");
    const list = [PERSONAL, a, b];
    expect(vaultLabel(a, list)).toBe("Team e2e · e2e");
    expect(vaultLabel(b, list)).toBe("Team e2e · client-b");
  });

  test("folders of the same name fall back to the whole path", () => {
    const a = team("/one/cache");
    const b = team("/two/cache");
    const c = team("/three/other");
    const list = [a, b, c];
    expect(vaultLabel(a, list)).toBe("Team e2e · /one/cache");
    expect(vaultLabel(b, list)).toBe("Team e2e · /two/cache");
    expect(vaultLabel(c, list)).toBe("Team e2e · other");
    const personal = (dir: string): KnownVault => ({ ...PERSONAL, default: false, dir });
    const [p, q] = [personal("/x/work"), personal("/y/work")];
    expect(vaultLabel(p, [p, q])).toBe("Personal · work · /x/work");
  });

  test("every label of a list is different", () => {
    const list = [PERSONAL, team("/a/x"), team("/b/x"), team("/c/y"), team("/d/z", "other"), { ...PERSONAL, default: false, dir: "/w/work" }];
    const labels = list.map((v) => vaultLabel(v, list));
    expect(new Set(labels).size).toBe(list.length);
  });
});
