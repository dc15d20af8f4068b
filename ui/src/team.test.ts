// "Join a team vault…": the form's rules, the form itself (keyboard,
// inline errors, the core's refusal word for word, no secret field), and
// its entries in the switcher and the palette, against a mocked backend.

import { afterEach, describe, expect, test, vi } from "vitest";
import { cleanup, render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { clearMocks } from "@tauri-apps/api/mocks";
import App from "./App.svelte";
import JoinTeamDialog from "./components/JoinTeamDialog.svelte";
import { addrWarning, isAbsolutePath, joinPath, toJoinForm, validateJoin, type JoinFields } from "./lib/team";
import type { KnownVault, TeamJoined } from "./lib/types";
import { mockBackend, type Handler } from "./test/backend";
import { nothingDue, PERSONAL_VAULT } from "./test/fixtures";

const DEFAULTS = { teams_dir: "/home/u/.local/share/keyward/teams", mount: "secret", approle_mount: "approle" };
const FIELDS: JoinFields = {
  team: "payments",
  addr: "https://bao.example.com:8200",
  mount: "secret",
  namespace: "",
  caFile: "",
  dir: "/home/u/.local/share/keyward/teams/payments",
  method: "token",
  tokenFile: "/home/u/bao-token",
  roleId: "",
  approleMount: "approle",
  secretIdFile: "",
};
const JOINED: TeamJoined = {
  location: { dir: "/home/u/.local/share/keyward/teams/payments", from_env: false },
  report: {
    backend: "openbao", addr: "https://bao.example.com:8200", mount: "secret", namespace: null, team: "payments",
    team_vault_id: "t_0123456789abcdef", created: false, auth: "token", audit_device: "not requested",
    config_file: "/home/u/.local/share/keyward/teams/payments/team.json",
  },
};

const backend = (handlers: Record<string, Handler>) => mockBackend(handlers, { team_join_defaults: () => DEFAULTS });

afterEach(() => {
  cleanup();
  clearMocks();
});

describe("the join form's rules", () => {
  test("required fields, team names, URL schemes, mounts and full paths", () => {
    expect(validateJoin(FIELDS)).toEqual({});
    const empty = validateJoin({ ...FIELDS, team: " ", addr: "", tokenFile: "", dir: "" });
    expect(Object.keys(empty).sort()).toEqual(["addr", "dir", "team", "tokenFile"]);
    expect(validateJoin({ ...FIELDS, team: "../etc" }).team).toMatch(/a-z A-Z 0-9/);
    expect(validateJoin({ ...FIELDS, team: ".hidden" }).team).toBeDefined();
    expect(validateJoin({ ...FIELDS, addr: "bao.example.com:8200" }).addr).toMatch(/https:\/\//);
    expect(validateJoin({ ...FIELDS, addr: "ftp://bao:8200" }).addr).toMatch(/use an https:\/\//);
    expect(validateJoin({ ...FIELDS, addr: "https://a:8200, https://b:8200 ," }).addr).toBeUndefined();
    expect(validateJoin({ ...FIELDS, addr: "https://a:8200,nope" }).addr).toMatch(/^nope is not a URL/);
    expect(validateJoin({ ...FIELDS, mount: "kv/../x" }).mount).toMatch(/not a mount path/);
    expect(validateJoin({ ...FIELDS, tokenFile: "bao-token" }).tokenFile).toMatch(/full path/);
    expect(validateJoin({ ...FIELDS, caFile: "ca.pem" }).caFile).toMatch(/full path/);
    expect(validateJoin({ ...FIELDS, caFile: "" }).caFile).toBeUndefined();
    const approle = validateJoin({ ...FIELDS, method: "approle", tokenFile: "" });
    expect(Object.keys(approle).sort()).toEqual(["roleId", "secretIdFile"]);
    expect(isAbsolutePath("C:\\Users\\u\\token")).toBe(true);
    expect(joinPath("C:\\Users\\u\\teams", "x")).toBe("C:\\Users\\u\\teams\\x");
    expect(joinPath("/a/teams/", "x")).toBe("/a/teams/x");
  });

  test("plain http to another machine is a warning, not an error", () => {
    expect(addrWarning("http://127.0.0.1:8200,https://b:8200")).toBeNull();
    expect(addrWarning("http://bao.internal:8200")).toMatch(/unencrypted/);
    expect(validateJoin({ ...FIELDS, addr: "http://bao.internal:8200" }).addr).toBeUndefined();
  });

  test("the IPC form holds names and paths only", () => {
    expect(toJoinForm({ ...FIELDS, addr: " https://a:8200 , https://b:8200 ", namespace: " " })).toEqual({
      team: "payments",
      addr: "https://a:8200,https://b:8200",
      mount: "secret",
      namespace: null,
      ca_file: null,
      dir: FIELDS.dir,
      credential: { method: "token", token_file: "/home/u/bao-token" },
    });
    expect(toJoinForm({ ...FIELDS, method: "approle", roleId: "r-1", secretIdFile: "/s/sid" }).credential).toEqual({
      method: "approle",
      mount: "approle",
      role_id: "r-1",
      secret_id_file: "/s/sid",
    });
  });
});

describe("the join form", () => {
  test("has no field for a token or secret id: only paths, and says the file stays in Rust", async () => {
    backend({});
    const user = userEvent.setup();
    render(JoinTeamDialog, { props: { onjoined: () => {}, onclose: () => {} } });
    const dialog = await screen.findByTestId("join-team");
    expect(dialog.querySelectorAll('input[type="password"]')).toHaveLength(0);
    const labels = () => within(dialog).getAllByRole("textbox").map((i) => i.closest("label")?.querySelector("span")?.textContent?.trim());
    expect(labels()).toEqual(["Team", "KV v2 mount", "OpenBao address", "Token file", "Namespace (optional)", "CA file (optional, PEM)", "Local cache folder"]);
    await user.click(screen.getByTestId("join-team-method-approle"));
    expect(labels()).toContain("Secret id file");
    expect(labels()).not.toContain("Token file");
    expect(labels().some((l) => /^(token|secret id)$/i.test(l ?? ""))).toBe(false);
    expect(within(dialog).getByText(/keeps the secret id in the OS keychain, never here/)).toBeInTheDocument();
  });

  test("from the keyboard: the team has focus, the folder follows it, Enter joins with paths only", async () => {
    const calls = backend({ join_team_vault: () => JOINED });
    const onjoined = vi.fn();
    const user = userEvent.setup();
    render(JoinTeamDialog, { props: { onjoined, onclose: () => {} } });
    const team = await screen.findByTestId("join-team-name");
    expect(team).toHaveFocus();
    await waitFor(() => expect(screen.getByTestId("join-team-dir")).toHaveValue(`${DEFAULTS.teams_dir}/team`));
    await user.keyboard("payments");
    expect(screen.getByTestId("join-team-dir")).toHaveValue(`${DEFAULTS.teams_dir}/payments`);
    await user.tab(); // mount
    expect(screen.getByTestId("join-team-mount")).toHaveFocus();
    expect(screen.getByTestId("join-team-mount")).toHaveValue("secret");
    await user.tab(); // address
    await user.keyboard("https://bao.example.com:8200");
    await user.tab(); // the method: token
    expect(screen.getByTestId("join-team-method-token")).toHaveFocus();
    await user.tab(); // the token file
    expect(screen.getByTestId("join-team-token-file")).toHaveFocus();
    await user.keyboard("/home/u/bao-token{Enter}");

    await waitFor(() => expect(onjoined).toHaveBeenCalledWith(JOINED));
    const join = calls.filter((c) => c.cmd === "join_team_vault");
    expect(join.map((c) => c.args)).toEqual([
      {
        form: {
          team: "payments",
          addr: "https://bao.example.com:8200",
          mount: "secret",
          namespace: null,
          ca_file: null,
          dir: `${DEFAULTS.teams_dir}/payments`,
          credential: { method: "token", token_file: "/home/u/bao-token" },
        },
      },
    ]);
  });

  test("checks inline: nothing is sent until the fields are right, and the first wrong one gets focus", async () => {
    const calls = backend({ join_team_vault: () => JOINED });
    const user = userEvent.setup();
    render(JoinTeamDialog, { props: { onjoined: () => {}, onclose: () => {} } });
    await screen.findByTestId("join-team-name");
    await user.click(screen.getByTestId("join-team-submit"));
    expect(await screen.findByTestId("join-team-err-team")).toHaveTextContent("Give the team's name");
    expect(screen.getByTestId("join-team-err-addr")).toBeInTheDocument();
    expect(screen.getByTestId("join-team-err-tokenFile")).toHaveTextContent("Choose the token file");
    expect(screen.getByTestId("join-team-name")).toHaveFocus();
    expect(screen.getByTestId("join-team-name")).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByTestId("join-team-name")).toHaveAccessibleDescription("Give the team's name");

    // Errors clear as the user fixes the fields.
    await user.keyboard("ops");
    expect(screen.queryByTestId("join-team-err-team")).toBeNull();
    await user.type(screen.getByTestId("join-team-addr"), "bao:8200");
    expect(screen.getByTestId("join-team-err-addr")).toHaveTextContent("bao:8200");
    await user.click(screen.getByTestId("join-team-submit"));
    expect(screen.getByTestId("join-team-addr")).toHaveFocus();
    expect(calls.some((c) => c.cmd === "join_team_vault")).toBe(false);
  });

  test("a refusal from the core is shown word for word, the form stays, and a retry works", async () => {
    const REFUSAL = "OpenBao at https://bao.example.com:8200 is sealed: unseal it (bao operator unseal) and retry";
    let refuse = true;
    const calls = backend({
      join_team_vault: () => {
        if (refuse) throw { code: "keychain_unavailable", message: REFUSAL };
        return JOINED;
      },
    });
    const onjoined = vi.fn();
    const user = userEvent.setup();
    render(JoinTeamDialog, { props: { onjoined, onclose: () => {} } });
    await user.type(await screen.findByTestId("join-team-name"), "payments");
    await user.type(screen.getByTestId("join-team-addr"), "https://bao.example.com:8200");
    await user.type(screen.getByTestId("join-team-token-file"), "/home/u/bao-token");
    await user.click(screen.getByTestId("join-team-submit"));
    const error = await screen.findByTestId("join-team-error");
    expect(error.textContent).toBe(REFUSAL);
    expect(error).toHaveAttribute("role", "alert");
    expect(screen.getByTestId("join-team-name")).toHaveValue("payments");
    expect(screen.getByTestId("join-team-submit")).toBeEnabled();
    expect(onjoined).not.toHaveBeenCalled();

    refuse = false;
    await user.click(screen.getByTestId("join-team-submit"));
    await waitFor(() => expect(onjoined).toHaveBeenCalledOnce());
    expect(calls.filter((c) => c.cmd === "join_team_vault")).toHaveLength(2);
  });

  test("Choose… asks Rust for a path and fills the field; Esc cancels", async () => {
    const calls = backend({
      pick_path: (a) => (a.purpose === "token_file" ? "/home/u/Downloads/token" : a.purpose === "team_folder" ? "/srv/vaults/ops" : null),
    });
    const onclose = vi.fn();
    const user = userEvent.setup();
    render(JoinTeamDialog, { props: { onjoined: () => {}, onclose } });
    await screen.findByTestId("join-team-name");
    await user.click(screen.getByRole("button", { name: "Choose the token file" }));
    await waitFor(() => expect(screen.getByTestId("join-team-token-file")).toHaveValue("/home/u/Downloads/token"));
    await user.click(screen.getByRole("button", { name: "Choose the local cache folder" }));
    await waitFor(() => expect(screen.getByTestId("join-team-dir")).toHaveValue("/srv/vaults/ops"));
    // A chosen folder no longer follows the team name.
    await user.type(screen.getByTestId("join-team-name"), "ops");
    expect(screen.getByTestId("join-team-dir")).toHaveValue("/srv/vaults/ops");
    await user.click(screen.getByRole("button", { name: "Choose the CA file" }));
    expect(screen.getByTestId("join-team-ca")).toHaveValue(""); // cancelled
    expect(calls.filter((c) => c.cmd === "pick_path").map((c) => c.args.purpose)).toEqual(["token_file", "team_folder", "ca_file"]);
    await user.keyboard("{Escape}");
    expect(onclose).toHaveBeenCalled();
  });
});

describe("in the app", () => {
  const PERSONAL = PERSONAL_VAULT;
  const JOINED_VAULT: KnownVault = { dir: JOINED.location.dir, kind: "team", team: "payments", addr: JOINED.report.addr, default: false, error: null };

  function app() {
    let list = { vaults: [PERSONAL], open: PERSONAL.dir, from_env: false };
    return backend({
      list_vaults: () => list,
      join_team_vault: () => {
        list = { vaults: [PERSONAL, JOINED_VAULT], open: JOINED_VAULT.dir, from_env: false };
        return JOINED;
      },
      startup_due: nothingDue,
      list_keys: () => [],
      vault_status: () => {
        throw { code: "internal", message: "not in this test" };
      },
      backend_status: () => ({
        kind: list.open === PERSONAL.dir ? "keychain" : "openbao", addr: null, team: null, sealed: false, version: null,
        ha_enabled: null, leader: null, is_self_leader: null, reachable: true, error: null,
      }),
    });
  }

  test("the switcher's entry opens the form; joining opens the team vault as a switch does", async () => {
    location.hash = "";
    const calls = app();
    const user = userEvent.setup();
    render(App);
    await user.click(await screen.findByTestId("vault-join"));
    await user.type(await screen.findByTestId("join-team-name"), "payments");
    await user.type(screen.getByTestId("join-team-addr"), "https://bao.example.com:8200");
    await user.type(screen.getByTestId("join-team-token-file"), "/home/u/bao-token{Enter}");
    await waitFor(() => expect(screen.queryByTestId("join-team")).toBeNull());
    const select = screen.getByTestId("vault-select") as HTMLSelectElement;
    await waitFor(() => expect(select.value).toBe(JOINED_VAULT.dir));
    expect([...select.options].map((o) => o.textContent)).toEqual(["Personal", "Team payments"]);
    expect(await screen.findByText(/Joined team payments at https:\/\/bao\.example\.com:8200/)).toBeInTheDocument();
    // The opening step's report is asked again, for the vault joined.
    await waitFor(() => expect(calls.filter((c) => c.cmd === "startup_due")).toHaveLength(2));
    await waitFor(() => expect(screen.getByTestId("backend-status")).toHaveAttribute("data-kind", "openbao"));
  });

  test("Ctrl+K offers Join a team vault…", async () => {
    location.hash = "";
    app();
    const user = userEvent.setup();
    render(App);
    await screen.findByTestId("vault-join");
    await user.keyboard("{Control>}k{/Control}");
    await user.keyboard("join team");
    await user.keyboard("{Enter}");
    expect(await screen.findByTestId("join-team")).toBeInTheDocument();
    expect(screen.getByTestId("join-team-name")).toHaveFocus();
  });
});
