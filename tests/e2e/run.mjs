// End-to-end tests of the built desktop app: starts tauri-driver (which
// starts WebKitWebDriver and the app), drives the real window over
// WebDriver, and reports `N passed, M failed` on the last line.
//
// Inputs (set by run.sh):
//   KEYWARD_E2E_APP     absolute path of target/debug/keyward-desktop
//   KEYWARD_E2E_CLI     the keyward CLI (default: beside the app)
//   KEYWARD_E2E_VAULT   a vault seeded by the CLI with `e2e-api` and `e2e-signer`
//   KEYWARD_E2E_EMPTY   an empty directory to use as a fresh vault
//   KEYWARD_E2E_SHOTS   where screenshots go
//   KEYWARD_E2E_FLOW    a vault with flow-signer (ES256), flow-weak (HS256,
//                       secret "secret") and flow-leaked (an API key)
//   KEYWARD_E2E_DUE     a vault whose key is overdue for automatic rotation
//   KEYWARD_E2E_SWITCH_DUE  another one (switch-due-signer), in the switcher's
//                       list: rotated when the app switches to it
//   KEYWARD_E2E_TOKEN   a token the CLI signed with flow-signer (sub alice, aud api)
//   KEYWARD_E2E_WEAK_TOKEN  a token signed with flow-weak
//   KEYWARD_E2E_PEM     a private key PEM from another vault, to import
//   KEYWARD_E2E_SCAN    a folder whose .env holds flow-leaked's key
//   KEYWARD_E2E_SAVED   where the save dialog is answered (debug builds)
//   KEYWARD_E2E_TEAM    a team vault on OpenBao with team-signer, made by alice-e2e
//   KEYWARD_E2E_BAO_ADDR  that OpenBao dev server's address (single-node Raft)
//   KEYWARD_E2E_CONFIG_HOME  XDG_CONFIG_HOME whose keyward/desktop.json lists
//                       the team and switch-due vaults (the personal default open)
//   KEYWARD_E2E_DATA_HOME  XDG_DATA_HOME whose keyward/ is the personal
//                       default vault, with personal-api

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Key } from "webdriverio";
import { withApp as withAppAt } from "./driver.mjs";

const APP = required("KEYWARD_E2E_APP");
const VAULT = required("KEYWARD_E2E_VAULT");
const EMPTY = required("KEYWARD_E2E_EMPTY");
const SHOTS = required("KEYWARD_E2E_SHOTS");
const FLOW = required("KEYWARD_E2E_FLOW");
const DUE = required("KEYWARD_E2E_DUE");
const SWITCH_DUE = required("KEYWARD_E2E_SWITCH_DUE");
const TOKEN = required("KEYWARD_E2E_TOKEN");
const WEAK_TOKEN = required("KEYWARD_E2E_WEAK_TOKEN");
const PEM = readFileSync(required("KEYWARD_E2E_PEM"), "utf8");
const SCAN = required("KEYWARD_E2E_SCAN");
const SAVED = required("KEYWARD_E2E_SAVED");
const TEAM = required("KEYWARD_E2E_TEAM");
const BAO_ADDR = required("KEYWARD_E2E_BAO_ADDR");
const CONFIG_HOME = required("KEYWARD_E2E_CONFIG_HOME");
const DATA_HOME = required("KEYWARD_E2E_DATA_HOME");
const DRIVER = process.env.TAURI_DRIVER ?? "tauri-driver";
// The CLI, to check what the app wrote (run.sh passes the one it seeded with).
const CLI = process.env.KEYWARD_E2E_CLI ?? join(dirname(APP), "keyward");
// The debug build answers its save and folder dialogs from these (files.rs).
const DIALOGS = { KEYWARD_DESKTOP_TEST_SAVE_DIR: SAVED, KEYWARD_DESKTOP_TEST_PICK_DIR: SCAN };
mkdirSync(SHOTS, { recursive: true });

function required(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`run.mjs: ${name} is not set; start the tests with tests/e2e/run.sh`);
    process.exit(2);
  }
  return v;
}

/** Starts the app under tauri-driver with `env` and runs `fn(browser)`. */
const withApp = (env, fn) => withAppAt(APP, DRIVER, env, fn);

// ---------------------------------------------------------------------------
// Helpers over the UI's test ids

const rows = (b) => b.$$('[data-testid="key-row"]');

async function rowTexts(b) {
  const out = [];
  for (const row of await rows(b)) {
    const name = row.$('[data-testid="key-name"]');
    // WebKitWebDriver's visible-text atom returns "" for an ellipsised
    // (overflow: hidden) block, so read the text and check visibility apart.
    assert(await name.isDisplayed(), "key name is displayed");
    out.push({
      name: await name.getProperty("textContent"),
      // The badge's data-state is the core's state; its text is what users read.
      state: await row.$('[data-testid="key-state"] [data-state]').getAttribute("data-state"),
      stateText: await row.$('[data-testid="key-state"]').getText(),
      text: await row.getText(),
      selected: (await row.getAttribute("aria-selected")) === "true",
    });
  }
  return out;
}

async function waitForRows(b, count, what) {
  await b.waitUntil(async () => (await rows(b)).length === count, {
    timeout: 15_000,
    interval: 100,
    timeoutMsg: `expected ${count} key rows (${what}), saw ${(await rows(b)).length}`,
  });
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

function assertEq(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

async function shot(b, name) {
  // WebKitGTK under Xvfb paints lazily: a screenshot taken right after a DOM
  // change can show an older frame. Wait for fonts and two frames, then a beat.
  await b.executeAsync((done) => {
    document.fonts.ready.then(() => requestAnimationFrame(() => requestAnimationFrame(() => done())));
  });
  await b.pause(400);
  await b.saveScreenshot(join(SHOTS, `${name}.png`));
}

// ---------------------------------------------------------------------------
// Tests

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test("lists the keys the CLI created, with their kind, algorithm and state", async () => {
  await withApp({ KEYWARD_VAULT: VAULT }, async (b) => {
    await waitForRows(b, 2, "seeded vault");
    const list = await rowTexts(b);
    assertEq(
      list.map((r) => [r.name, r.state]),
      [
        ["e2e-api", "active"],
        ["e2e-signer", "active"],
      ],
      "names and states",
    );
    assertEq(
      list.map((r) => r.stateText),
      ["Active", "Active"],
      "state badges as shown",
    );
    assert(/API key/.test(list[0].text), `api row shows its kind: ${list[0].text}`);
    assert(/Signing key/.test(list[1].text) && /ES256/.test(list[1].text), `signer row shows kind and alg: ${list[1].text}`);
    assertEq(await b.$('[data-testid="key-count"]').getText(), "2 keys", "key count");

    // The sidebar reports the vault the app was started on, and a reachable keychain.
    const status = b.$('[data-testid="vault-status"]');
    await status.waitForExist({ timeout: 15_000 });
    assertEq(await status.$(".vault-dir").getAttribute("title"), VAULT, "vault dir in the sidebar");
    assert(/KEYWARD_VAULT/.test(await status.getText()), "sidebar says the vault came from KEYWARD_VAULT");
    assertEq(await b.$('[data-testid="keychain-status"]').getAttribute("data-reachable"), "true", "keychain reachable");
    await shot(b, "keys");
  });
});

test("the filter narrows the list as the user types; / focuses it, arrows move, Esc clears", async () => {
  await withApp({ KEYWARD_VAULT: VAULT }, async (b) => {
    await waitForRows(b, 2, "seeded vault");
    const filter = b.$('[data-testid="key-filter"]');

    await b.keys("/");
    assert(await filter.isFocused(), "/ focuses the filter box");

    await b.keys("signer".split(""));
    await waitForRows(b, 1, "after typing 'signer'");
    assertEq((await rowTexts(b)).map((r) => r.name), ["e2e-signer"], "filtered list");
    assertEq(await b.$('[data-testid="key-count"]').getText(), "1 of 2 keys", "filtered count");
    await shot(b, "filtered");

    await b.keys("Escape");
    await waitForRows(b, 2, "after Escape");
    assertEq(await filter.getValue(), "", "Escape empties the filter");

    await b.keys("es256");
    await waitForRows(b, 1, "after typing 'es256'");
    assertEq((await rowTexts(b)).map((r) => r.name), ["e2e-signer"], "match on the algorithm");
    await b.keys("Escape");
    await waitForRows(b, 2, "after Escape");

    // The selection survives the filter (the signer stayed visible), and the
    // arrow keys move it from the filter box; the details pane follows.
    const selected = async () => (await rowTexts(b)).find((r) => r.selected)?.name;
    assertEq(await selected(), "e2e-signer", "selection kept after clearing the filter");
    await b.keys("ArrowUp");
    await b.waitUntil(async () => (await selected()) === "e2e-api", {
      timeout: 5_000,
      timeoutMsg: "ArrowUp did not select e2e-api",
    });
    assertEq(await b.$('[data-testid="key-details"] h2').getText(), "e2e-api", "details follow ArrowUp");
    await b.keys("ArrowDown");
    await b.waitUntil(async () => (await selected()) === "e2e-signer", {
      timeout: 5_000,
      timeoutMsg: "ArrowDown did not select e2e-signer",
    });
    assertEq(await b.$('[data-testid="key-details"] h2').getText(), "e2e-signer", "details follow ArrowDown");
    await shot(b, "selected");
  });
});

test("an empty vault shows the CLI command that creates a key", async () => {
  await withApp({ KEYWARD_VAULT: EMPTY }, async (b) => {
    const empty = b.$('[data-testid="empty-state"]');
    await empty.waitForExist({ timeout: 15_000 });
    // The hint names this vault once the vault status has arrived.
    const expected = `keyward --vault ${EMPTY} key new --kind api --name`;
    const first = () => b.$('[data-testid="empty-command"]').getText();
    await b.waitUntil(async () => (await first()).includes(expected), {
      timeout: 10_000,
      timeoutMsg: `the empty state never showed "${expected}"`,
    });
    await shot(b, "empty");
  });
});

test("a vault that cannot be opened shows the core's error code and message", async () => {
  const missing = join(EMPTY, "no-such-parent", "vault");
  await withApp({ KEYWARD_VAULT: missing }, async (b) => {
    const banner = b.$('[data-testid="error-banner"]');
    await banner.waitForExist({ timeout: 15_000 });
    assertEq(await banner.$('[data-testid="error-code"]').getText(), "io_error", "error code");
    const message = await banner.$('[data-testid="error-message"]').getText();
    assert(message.includes("does not exist"), `message says what is wrong: ${message}`);
    assertEq((await rows(b)).length, 0, "no rows");
    await shot(b, "error");
  });
});

test("follows a dark OS theme", async () => {
  // GTK_THEME's `:dark` variant is what a dark desktop session sets.
  await withApp({ KEYWARD_VAULT: VAULT, GTK_THEME: "Adwaita:dark" }, async (b) => {
    await waitForRows(b, 2, "seeded vault");
    const dark = await b.execute(() => window.matchMedia("(prefers-color-scheme: dark)").matches);
    assert(dark, "the webview reports prefers-color-scheme: dark");
    const bg = await b.execute(() => getComputedStyle(document.body).backgroundColor);
    const [r, g, bl] = bg.match(/\d+/g).map(Number);
    assert(r + g + bl < 150, `dark background, got ${bg}`);
    await shot(b, "keys-dark");
  });
});


// ---------------------------------------------------------------------------
// Flows on the flow vault

const byTest = (b, id) => b.$(`[data-testid="${id}"]`);

async function waitText(b, id, re, what, timeout = 15_000) {
  let last = "";
  await b.waitUntil(
    async () => {
      const el = byTest(b, id);
      if (!(await el.isExisting())) return false;
      last = await el.getText();
      return re.test(last);
    },
    { timeout, interval: 100, timeoutMsg: `${what}: ${id} never matched ${re} (last: ${JSON.stringify(last)})` },
  );
  return last;
}

async function click(b, id) {
  const el = byTest(b, id);
  await el.waitForClickable({ timeout: 15_000 });
  await el.click();
}

/**
 * Types `text` key by key into whatever has focus. WebKitWebDriver sends a
 * space's keyup only when the whole action sequence ends, so a second space
 * in one `keys` call is taken for a key still held and never reaches the
 * page (no keydown at all): each space starts a sequence of its own.
 */
async function typeText(b, text) {
  for (const part of text.split(/(?= )/)) await b.keys(part.split(""));
}

/** Types into an input the way a user would (WebDriver Element Send Keys, after a clear). */
async function typeInto(b, id, text) {
  const el = byTest(b, id);
  await el.waitForDisplayed({ timeout: 15_000 });
  await el.setValue(text);
}

/** Waits until the app has loaded its first screen (its key handlers are attached by then). */
async function ready(b) {
  await b.waitUntil(async () => b.execute(() => performance.getEntriesByName("keyward:keys-interactive").length > 0), {
    timeout: 15_000,
    interval: 50,
    timeoutMsg: "the app never became interactive",
  });
}

/** Sets a long value (a token, a PEM) at once, as a paste would, and fires `input`. */
async function paste(b, id, text) {
  const el = byTest(b, id);
  await el.waitForDisplayed({ timeout: 15_000 });
  await b.execute(
    (sel, v) => {
      const e = document.querySelector(sel);
      e.focus();
      e.value = v;
      e.dispatchEvent(new Event("input", { bubbles: true }));
    },
    `[data-testid="${id}"]`,
    text,
  );
}

async function goTo(b, hash) {
  await b.execute((h) => (location.hash = h), hash);
}

function clipboard() {
  try {
    return execFileSync("xclip", ["-o", "-selection", "clipboard"], { encoding: "utf8", timeout: 5000 });
  } catch {
    return ""; // empty clipboard: xclip exits 1
  }
}

test("API key: create → shown once → copy (clipboard, auto-cleared) → reveal → rotate → revoke with typed name", async () => {
  await withApp({ KEYWARD_VAULT: FLOW, ...DIALOGS }, async (b) => {
    await ready(b);
    // A short clipboard delay through the Settings screen, so the auto-clear can be seen.
    await b.keys([Key.Ctrl, ","]);
    await typeInto(b, "set-clipboard", "5");
    await click(b, "settings-save");
    await byTest(b, "toast").waitForExist({ timeout: 10_000 });
    await shot(b, "settings");

    await b.keys([Key.Ctrl, "2"]);
    await byTest(b, "new-key-form").waitForExist({ timeout: 10_000 });
    await typeInto(b, "new-name", "e2e-flow");
    await typeInto(b, "new-scopes", "read write");
    await shot(b, "new-key");
    await click(b, "new-submit");

    const dialog = byTest(b, "new-secret-dialog");
    await dialog.waitForExist({ timeout: 15_000 });
    assert(/only time/.test(await byTest(b, "shown-once-warning").getText()), "the dialog warns the key is shown once");
    const hint = await byTest(b, "new-secret-hint").getText();
    await shot(b, "new-secret");
    await click(b, "new-secret-copy");
    let copied = "";
    await b.waitUntil(async () => /^kw_[0-9A-Za-z]{49}$/.test((copied = clipboard().trim())), {
      timeout: 10_000,
      timeoutMsg: `the clipboard never held a kw_ key (hint ${hint})`,
    });
    assert(copied.endsWith(hint.slice(-4)), `the copied key ends like the hint ${hint}`);
    const html = await b.execute(() => document.documentElement.outerHTML);
    assert(!html.includes(copied), "the copied key never entered the page");
    // Cleared after the 5 s set above, because the clipboard still held it.
    await b.waitUntil(async () => clipboard().trim() === "", {
      timeout: 12_000,
      timeoutMsg: "the clipboard was not cleared after 5 s",
    });

    await click(b, "new-secret-done");
    await waitText(b, "detail-name", /^e2e-flow$/, "detail page after the dialog");
    await shot(b, "key-detail-api");

    // Reveal: masked until toggled, then the same key.
    await click(b, "action-reveal");
    const value = byTest(b, "secret-value");
    await value.waitForExist({ timeout: 10_000 });
    assertEq(await value.getAttribute("data-shown"), "false", "revealed secret starts masked");
    await click(b, "secret-toggle");
    await b.waitUntil(async () => (await value.getAttribute("data-shown")) === "true", { timeout: 5000 });
    assertEq((await value.getText()).trim(), copied, "the revealed key is the copied one");
    await shot(b, "reveal");
    await click(b, "secret-close");

    // Rotate from the keyboard with a 7-day grace.
    await b.keys("r");
    await byTest(b, "rotate-dialog").waitForExist({ timeout: 10_000 });
    await typeInto(b, "rotate-grace", "7d");
    await shot(b, "rotate-dialog");
    await click(b, "rotate-confirm");
    await byTest(b, "new-secret-dialog").waitForExist({ timeout: 15_000 });
    await click(b, "new-secret-done");
    await b.waitUntil(
      async () => (await b.$$('[data-testid="version-row"]')).length === 2,
      { timeout: 10_000, timeoutMsg: "two versions after the rotation" },
    );
    const states = async () => {
      const out = [];
      for (const r of await b.$$('[data-testid="version-row"]')) out.push(`v${await r.getAttribute("data-version")}:${await r.getAttribute("data-state")}`);
      return out;
    };
    assertEq(await states(), ["v2:active", "v1:grace"], "versions after rotate");
    await shot(b, "key-detail-rotated");

    // Revoke: the button stays disabled until the name is typed exactly.
    await click(b, "action-revoke");
    await byTest(b, "revoke-dialog").waitForExist({ timeout: 10_000 });
    await typeInto(b, "revoke-reason", "e2e test");
    await typeInto(b, "revoke-confirm-name", "e2e-flo");
    assert(!(await byTest(b, "revoke-submit").isEnabled()), "revoke is disabled with a wrong name");
    await b.keys("w");
    await shot(b, "revoke-dialog");
    await click(b, "revoke-submit");
    await b.waitUntil(async () => (await states()).every((s) => s.endsWith(":revoked")), {
      timeout: 10_000,
      timeoutMsg: "every version revoked",
    });
    await shot(b, "key-detail-revoked");
  });
});

test("inspect and verify a token the CLI signed; the weak-secret check finds an HS256 secret; sign a token in the app", async () => {
  await withApp({ KEYWARD_VAULT: FLOW }, async (b) => {
    await ready(b);
    await b.keys([Key.Ctrl, "3"]);
    await paste(b, "token-input", TOKEN);
    await waitText(b, "token-claims", /"sub": "alice"/, "claims decoded");
    await waitText(b, "kid-match", /signed by flow-signer v1/, "kid resolved against the vault");
    await waitText(b, "token-status", /valid now/, "timeline status");
    // The kid picked the vault key; require aud.
    await b.waitUntil(async () => (await byTest(b, "verify-key").getValue()) !== "", { timeout: 10_000 });
    await typeInto(b, "verify-aud", "api");
    await typeInto(b, "verify-require", "exp sub");
    await click(b, "verify-submit");
    await waitText(b, "verdict", /^Valid$/, "verdict");
    const checks = await b.execute(() =>
      [...document.querySelectorAll("[data-check]")].map((e) => `${e.dataset.check}:${e.dataset.status}`),
    );
    assertEq(
      checks,
      ["format:pass", "algorithm:pass", "signature:pass", "exp:pass", "nbf:skipped", "iat:pass", "iss:skipped", "aud:pass", "required:pass", "revocation:pass"],
      "the checklist",
    );
    await byTest(b, "checklist").scrollIntoView({ block: "end" });
    await shot(b, "inspector-verified");

    await paste(b, "token-input", WEAK_TOKEN);
    await byTest(b, "weak-check").waitForExist({ timeout: 10_000 });
    await click(b, "weak-start");
    await waitText(b, "weak-result", /guessable/, "weak secret found");
    await byTest(b, "weak-result").scrollIntoView({ block: "end" });
    await shot(b, "inspector-weak-secret");

    await b.keys([Key.Ctrl, "4"]);
    await b.waitUntil(async () => (await byTest(b, "sign-key").getValue()) !== "", { timeout: 10_000 });
    await typeInto(b, "sign-sub", "carol");
    await paste(b, "sign-claims", '{"role": "admin"}');
    await click(b, "sign-submit");
    const signed = await waitText(b, "signed-token", /^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$/, "signed token");
    await click(b, "signed-copy");
    await b.waitUntil(async () => clipboard().trim() === signed, { timeout: 10_000, timeoutMsg: "token copied" });
    await shot(b, "signer");
  });
});

test("import a PEM by paste; export the public key through the save dialog", async () => {
  await withApp({ KEYWARD_VAULT: FLOW, ...DIALOGS }, async (b) => {
    await ready(b);
    await goTo(b, "#/new/import");
    await typeInto(b, "new-name", "e2e-imported");
    await paste(b, "import-text", PEM);
    await shot(b, "import");
    await click(b, "new-submit");
    await waitText(b, "detail-name", /^e2e-imported$/, "imported key page");
    await waitText(b, "detail-thumbprint", /^[\w-]{43}$/, "RFC 7638 thumbprint");
    await click(b, "action-export");
    await byTest(b, "export-dialog").waitForExist({ timeout: 10_000 });
    await shot(b, "export-dialog");
    await click(b, "export-submit");
    const file = join(SAVED, "e2e-imported.pub.pem");
    await b.waitUntil(async () => existsSync(file), { timeout: 10_000, timeoutMsg: `${file} was not written` });
    assert(readFileSync(file, "utf8").includes("BEGIN PUBLIC KEY"), "a public PEM was exported");
  });
});

test("the audit log shows the events with the chain badge and filters by action", async () => {
  await withApp({ KEYWARD_VAULT: FLOW }, async (b) => {
    await ready(b);
    await b.keys([Key.Ctrl, "5"]);
    await waitText(b, "chain-badge", /Chain verified up to #\d+/, "chain badge");
    await b.waitUntil(async () => (await b.$$('[data-testid="audit-row"]')).length > 5, { timeout: 10_000 });
    const actions = await b.execute(() => [...document.querySelectorAll('[data-testid="audit-row"]')].map((r) => r.dataset.action));
    for (const a of ["key.create", "key.reveal", "key.rotate", "key.revoke", "token.sign", "key.import", "key.export", "settings.change"]) {
      assert(actions.includes(a), `audit shows ${a} (saw ${[...new Set(actions)].join(", ")})`);
    }
    await shot(b, "audit");
    await byTest(b, "filter-action").selectByAttribute("value", "key.revoke");
    await b.waitUntil(
      async () => {
        const list = await b.execute(() => [...document.querySelectorAll('[data-testid="audit-row"]')].map((r) => r.dataset.action));
        return list.length > 0 && list.every((a) => a === "key.revoke");
      },
      { timeout: 10_000, timeoutMsg: "only key.revoke rows after filtering" },
    );
    await shot(b, "audit-filtered");
  });
});

test("scan a folder: the leaked key is named, and rotated from the finding", async () => {
  await withApp({ KEYWARD_VAULT: FLOW, ...DIALOGS }, async (b) => {
    await ready(b);
    await b.keys([Key.Ctrl, "7"]);
    await click(b, "scan-browse");
    await waitText(b, "scan-summary", /1 findings? in 1 files?/, "scan summary");
    const finding = await b.$('[data-testid="scan-finding"]');
    assert(/flow-leaked/.test(await finding.getText()), "the finding names the vault key");
    const env = readFileSync(join(SCAN, ".env"), "utf8").trim().split("=")[1];
    const html = await b.execute(() => document.documentElement.outerHTML);
    assert(!html.includes(env), "the scan view never shows the whole key");
    await shot(b, "scan");
    await click(b, "scan-rotate");
    await byTest(b, "new-secret-dialog").waitForExist({ timeout: 15_000 });
    await click(b, "new-secret-done");
  });
});

test("due rotations are applied at start, with a banner; the Due view, palette and shortcuts", async () => {
  await withApp({ KEYWARD_VAULT: DUE }, async (b) => {
    await ready(b);
    await waitText(b, "due-banner", /Applied at start: rotated due-signer to v2/, "start-up banner");
    await waitForRows(b, 1, "due vault");
    await shot(b, "due-banner");
    await b.keys([Key.Ctrl, "6"]);
    await byTest(b, "due").waitForExist({ timeout: 10_000 });
    await shot(b, "due");
    await b.keys([Key.Ctrl, "k"]);
    await byTest(b, "palette").waitForExist({ timeout: 5000 });
    await b.keys("audit".split(""));
    await shot(b, "palette");
    await b.keys("Enter");
    await byTest(b, "audit").waitForExist({ timeout: 10_000 });
    await waitText(b, "chain-badge", /verified/, "due vault chain");
    const rotatedBySystem = await b.execute(() =>
      [...document.querySelectorAll('[data-testid="audit-row"]')].some((r) => r.dataset.action === "key.rotate" && r.textContent.includes("system")),
    );
    assert(rotatedBySystem, "the start-up rotation is audited as system");
    await b.keys("?");
    await byTest(b, "shortcuts").waitForExist({ timeout: 5000 });
    await shot(b, "shortcuts");
  });
});

// Joining a team vault from the app, without the CLI: a first start (no
// vault list, a fresh personal default), then "Join a team vault…" from
// the palette joins the team the CLI made in run.sh, on the same OpenBao
// dev server with its token file ($WORK/bao/token, beside $WORK/team).
test("join a team vault from the app: a form of paths (no secret), the core's refusal shown as is, then the team vault open, Unsealed, with the CLI member's key", async () => {
  const work = join(TEAM, "..");
  const tokenFile = join(work, "bao", "token");
  const home = join(work, "join-home");
  const [config, data] = [join(home, "config"), join(home, "data")];
  mkdirSync(config, { recursive: true });
  mkdirSync(data, { recursive: true });
  const cache = join(data, "keyward", "teams", "e2e");
  const token = readFileSync(tokenFile, "utf8").trim();
  // The debug build answers the file dialog with the token file (files.rs).
  const env = { KEYWARD_VAULT: "", XDG_CONFIG_HOME: config, XDG_DATA_HOME: data, KEYWARD_DESKTOP_TEST_PICK_FILE: tokenFile };
  await withApp(env, async (b) => {
    await ready(b);
    await b.keys([Key.Ctrl, "k"]);
    await byTest(b, "palette").waitForExist({ timeout: 5000 });
    await b.waitUntil(async () => byTest(b, "palette-input").isFocused(), { timeout: 5000, timeoutMsg: "palette input focused" });
    await typeText(b, "join team");
    await b.keys("Enter");
    await byTest(b, "join-team").waitForExist({ timeout: 5000 });
    await b.waitUntil(async () => byTest(b, "join-team-name").isFocused(), { timeout: 5000, timeoutMsg: "the team field has focus" });
    await typeText(b, "e2e");
    // The cache folder defaults to the app data dir, named after the team.
    await b.waitUntil(async () => (await byTest(b, "join-team-dir").getValue()) === cache, {
      timeout: 5000,
      timeoutMsg: `the folder defaults to ${cache}`,
    });
    // Enter with fields missing: inline errors, nothing sent.
    await b.keys("Enter");
    await waitText(b, "join-team-err-addr", /OpenBao's address/, "address required");
    await waitText(b, "join-team-err-tokenFile", /Choose the token file/, "token file required");
    await typeInto(b, "join-team-addr", "bao.local:8200");
    await waitText(b, "join-team-err-addr", /is not a URL|https:\/\//, "an address without a scheme");
    await typeInto(b, "join-team-addr", BAO_ADDR);
    assert(!(await byTest(b, "join-team-err-addr").isExisting()), "the address error clears");
    await click(b, "join-team-token-pick");
    await b.waitUntil(async () => (await byTest(b, "join-team-token-file").getValue()) === tokenFile, {
      timeout: 10_000,
      timeoutMsg: "Choose… filled in the token file's path",
    });
    // No secret on the form: no password field, and the token is in no field.
    const values = await b.execute(() => [...document.querySelectorAll('[data-testid="join-team"] input')].map((i) => [i.type, i.value]));
    assert(!values.some(([type]) => type === "password"), "no password field");
    assert(!values.some(([, v]) => v === token), "the token is in no field");
    assert(!(await byTest(b, "join-team").getText()).includes(token), "the token is not shown");
    await shot(b, "join-team-form");
    // A mount that is not there: the core's own words.
    await typeInto(b, "join-team-mount", "nope");
    await byTest(b, "join-team-mount").click();
    await b.keys("Enter");
    const refusal = await waitText(b, "join-team-error", /no KV v2 engine at nope\//, "the core's refusal", 40_000).catch(async (e) => {
      await shot(b, "join-team-failed");
      throw e;
    });
    assert(/^OpenBao at .+ has no KV v2 engine at nope\/: enable it \(bao secrets enable -version=2 -path=nope kv\)/.test(refusal), `the core's one line, as is: ${refusal}`);
    await shot(b, "join-team-error");

    await typeInto(b, "join-team-mount", "secret");
    await b.keys("Enter");
    await byTest(b, "join-team").waitForExist({ timeout: 30_000, reverse: true });
    await b.waitUntil(async () => (await byTest(b, "vault-select").getValue()) === cache, {
      timeout: 15_000,
      timeoutMsg: "the joined team vault is open",
    });
    const options = await b.execute(() => [...document.querySelectorAll('[data-testid="vault-select"] option')].map((o) => o.textContent.trim()));
    assertEq(options, ["Personal", "Team e2e"], "the switcher lists the joined team vault");
    assertEq(await byTest(b, "vault-status").getAttribute("data-kind"), "team", "the open vault is a team vault");
    await waitText(b, "backend-seal", /^Unsealed$/, "seal state");
    await waitText(b, "backend-addr", new RegExp(`^${BAO_ADDR.replace(/[.]/g, "\\.")}$`), "OpenBao address");
    await b.waitUntil(async () => (await rowTexts(b)).some((r) => r.name === "team-signer"), { timeout: 15_000, timeoutMsg: "team-signer (made by the CLI member) listed" });
    await shot(b, "team-joined");
    const desktop = JSON.parse(readFileSync(join(config, "keyward", "desktop.json"), "utf8"));
    assertEq(desktop.vault, cache, "the joined vault is remembered for the next start");
    assert(existsSync(join(cache, "team.json")), "team.json written in the cache folder");
    assert(!readFileSync(join(cache, "team.json"), "utf8").includes(token), "no token in team.json");

    // Opened as a switch is: the join and the session are in its audit log.
    await b.keys([Key.Ctrl, "5"]);
    await waitText(b, "chain-badge", /verified/, "joined vault chain");
    await b.waitUntil(
      async () => {
        const actions = await b.execute(() => [...document.querySelectorAll('[data-testid="audit-row"]')].map((r) => r.dataset.action));
        return actions.includes("team.init") && actions.includes("vault.open");
      },
      { timeout: 15_000, timeoutMsg: "team.init and vault.open audited" },
    );
  });
});

test("switch to a team vault on OpenBao: backend status (address, unsealed, leader) and who changed a key last; a switch applies what is due; remove from list", async () => {
  const personal = join(DATA_HOME, "keyward");
  const desktopJson = () => JSON.parse(readFileSync(join(CONFIG_HOME, "keyward", "desktop.json"), "utf8"));
  const remembered = () => desktopJson().vault;
  const options = (b) => b.execute(() => [...document.querySelectorAll('[data-testid="vault-select"] option')].map((o) => o.textContent.trim()));
  // No KEYWARD_VAULT: the app opens the vault remembered in its config dir.
  await withApp({ KEYWARD_VAULT: "", XDG_CONFIG_HOME: CONFIG_HOME, XDG_DATA_HOME: DATA_HOME }, async (b) => {
    await ready(b);
    await waitForRows(b, 1, "personal default vault");
    assertEq((await rowTexts(b)).map((r) => r.name), ["personal-api"], "personal vault keys");
    const select = byTest(b, "vault-select");
    assertEq(await select.getValue(), personal, "the personal default is open");
    assertEq(await options(b), ["Personal", "Team e2e", "Personal · switch-due"], "the switcher lists the personal default and the added vaults");
    await b.waitUntil(async () => (await byTest(b, "keychain-status").isExisting()) && (await byTest(b, "keychain-status").getAttribute("data-reachable")) === "true", {
      timeout: 15_000,
      timeoutMsg: "the personal vault's keychain status",
    });
    await shot(b, "keys-switcher");

    await select.selectByAttribute("value", TEAM);
    await waitForRows(b, 1, "team vault");
    await b.waitUntil(async () => (await rowTexts(b))[0]?.name === "team-signer", { timeout: 15_000, timeoutMsg: "team-signer listed" });
    assertEq(await byTest(b, "vault-status").getAttribute("data-kind"), "team", "the open vault is a team vault");
    await waitText(b, "backend-title", /^OpenBao reachable$/, "backend reachable");
    await waitText(b, "backend-addr", new RegExp(`^${BAO_ADDR.replace(/[.]/g, "\\.")}$`), "OpenBao address");
    await waitText(b, "backend-seal", /^Unsealed$/, "seal state");
    await waitText(b, "backend-leader", new RegExp(`${BAO_ADDR.replace(/[.]/g, "\\.")} \\(this server\\)`), "leader");
    await waitText(b, "backend-version", /^\d+\.\d+\.\d+/, "server version");
    assert(!(await byTest(b, "backend-error").isExisting()), "no backend error");
    assertEq(remembered(), TEAM, "the choice is remembered for the next start");
    await click(b, "backend-refresh");
    await waitText(b, "backend-seal", /^Unsealed$/, "seal state after refresh");
    await shot(b, "team-vault");

    // The key page says who changed the key last, from its OpenBao document.
    // From the keyboard: the filter box, ↓ to select, Enter to open.
    await click(b, "key-filter");
    await b.keys("ArrowDown");
    await b.waitUntil(async () => (await rowTexts(b))[0]?.selected, { timeout: 5000, timeoutMsg: "team-signer selected" });
    await b.keys("Enter");
    await waitText(b, "detail-name", /^team-signer$/, "team key page");
    await waitText(b, "detail-last-change", /^changed last by alice-e2e at .+/, "changed-last line");
    assertEq(await byTest(b, "detail-last-change").getAttribute("data-source"), "openbao", "from the team document");
    await shot(b, "team-key-detail");

    // Back to the personal vault from the keyboard, through the palette,
    // typed on the key page with spaces (no shortcut takes them).
    await b.keys([Key.Ctrl, "k"]);
    await byTest(b, "palette").waitForExist({ timeout: 5000 });
    await b.waitUntil(async () => byTest(b, "palette-input").isFocused(), { timeout: 5000, timeoutMsg: "palette input focused" });
    await typeText(b, "switch vault: personal");
    assertEq(await byTest(b, "palette-input").getValue(), "switch vault: personal", "the palette input keeps the spaces typed");
    const offered = await b.execute(() => [...document.querySelectorAll("#palette-list li")].map((li) => li.textContent.trim()));
    assertEq(offered, ["Switch vault: Personal", "Switch vault: Personal · switch-due"], "the palette offers the personal vaults");
    await b.keys("Enter");
    await b.waitUntil(async () => (await byTest(b, "vault-select").getValue()) === personal, {
      timeout: 15_000,
      timeoutMsg: "the palette switched back to the personal vault",
    }).catch(async (e) => {
      await shot(b, "team-switch-back-failed");
      throw e;
    });
    await b.waitUntil(async () => (await rowTexts(b))[0]?.name === "personal-api", { timeout: 15_000, timeoutMsg: "personal keys again" });
    await b.waitUntil(async () => (await byTest(b, "backend-status").getAttribute("data-kind")) === "keychain", {
      timeout: 15_000,
      timeoutMsg: "the backend block follows the switch",
    });
    assertEq(remembered(), personal, "the last choice is remembered");

    // A switch runs the start-up step on the vault opened: its overdue
    // rotation is applied, and the banner says so.
    await select.selectByAttribute("value", SWITCH_DUE);
    await waitText(b, "due-banner", /Applied on opening this vault: rotated switch-due-signer to v2/, "banner after the switch");
    const versions = () => b.execute(() => [...document.querySelectorAll('[data-testid="key-row"]')].map((r) => [r.querySelector('[data-testid="key-name"]')?.textContent, r.querySelector("td.num")?.textContent]));
    await b.waitUntil(async () => JSON.stringify(await versions()) === JSON.stringify([["switch-due-signer", "v2"]]), {
      timeout: 15_000,
      timeoutMsg: "switch-due-signer listed at v2",
    });

    // Remove it from the list, from the keyboard, once it is closed again:
    // the confirm says nothing is deleted, and nothing is.
    await select.selectByAttribute("value", personal);
    await b.waitUntil(async () => (await rowTexts(b))[0]?.name === "personal-api", { timeout: 15_000, timeoutMsg: "personal keys after switch-due" });
    await b.execute(() => document.querySelector('[data-testid="vault-forget"]').focus());
    await b.keys("Enter");
    await byTest(b, "vault-forget-pick").waitForExist({ timeout: 5000 });
    await b.keys(["Tab"]); // the second entry: switch-due
    await b.keys("Enter");
    await waitText(b, "vault-forget-text", /Nothing is deleted/, "the confirm says nothing is deleted");
    assert((await byTest(b, "vault-forget-text").getText()).includes(SWITCH_DUE), "the confirm names the folder");
    await shot(b, "vault-forget-confirm");
    await b.keys(["Tab"]);
    await b.keys("Enter");
    await b.waitUntil(async () => JSON.stringify(await options(b)) === JSON.stringify(["Personal", "Team e2e"]), {
      timeout: 10_000,
      timeoutMsg: "switch-due left the list",
    });
    assert(!desktopJson().vaults.includes(SWITCH_DUE), "desktop.json no longer lists it");
    assert(existsSync(join(SWITCH_DUE, "vault.db")), "its files stay on disk");
  });
});

// ---------------------------------------------------------------------------
// File drop and audit export, on a vault of their own

test("drop a PEM file on the import form: the key is imported and listed; export the audit log and verify it with the CLI", async () => {
  // A fresh vault and save folder, so what is checked is only what this test did.
  const dir = mkdtempSync(join(tmpdir(), "keyward-e2e-drop-"));
  const vault = join(dir, "vault");
  const saved = join(dir, "saved");
  mkdirSync(saved);
  try {
    await withApp({ KEYWARD_VAULT: vault, KEYWARD_DESKTOP_TEST_SAVE_DIR: saved }, async (b) => {
      await ready(b);
      await goTo(b, "#/new/import");
      await byTest(b, "import-text").waitForDisplayed({ timeout: 15_000 });
      // WebDriver cannot drag a file from the OS into the window. So the page
      // builds the File and its DataTransfer and dispatches dragenter,
      // dragover and drop on the key material field, as the webview does for
      // a real drop (the window's native drag-drop is off, dragDropEnabled:
      // false in tauri.conf.json): the same ondrop handler reads the file.
      await b.execute((pem) => {
        const target = document.querySelector('[data-testid="import-text"]');
        const dt = new DataTransfer();
        dt.items.add(new File([pem], "e2e-dropped.pem", { type: "application/x-pem-file" }));
        for (const type of ["dragenter", "dragover", "drop"]) {
          target.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
        }
      }, PEM);
      await b.waitUntil(async () => (await byTest(b, "import-text").getValue()).includes("-----BEGIN"), {
        timeout: 10_000,
        timeoutMsg: "the dropped file's PEM never reached the field",
      });
      assertEq(await byTest(b, "new-name").getValue(), "e2e-dropped", "the name comes from the file name");
      await shot(b, "import-dropped");
      await click(b, "new-submit");
      await waitText(b, "detail-name", /^e2e-dropped$/, "the dropped key's page");

      await goTo(b, "#/keys");
      await waitForRows(b, 1, "the vault after the drop");
      const [row] = await rowTexts(b);
      assertEq([row.name, row.state], ["e2e-dropped", "active"], "the imported key is listed");
      assert(/ES256/.test(row.text), `the imported key shows its algorithm: ${row.text}`);

      // Export the audit log through the audit screen's Export… button. The
      // debug build answers the save dialog with KEYWARD_DESKTOP_TEST_SAVE_DIR
      // (files.rs), as for the other exports; Rust writes the file.
      await b.keys([Key.Ctrl, "5"]);
      await waitText(b, "chain-badge", /Chain verified up to #\d+/, "chain badge before the export");
      await click(b, "audit-export");
      const file = join(saved, "keyward-audit.jsonl");
      await waitText(b, "toast", new RegExp(`Audit log exported to ${file.replace(/[.]/g, "\\.")}`), "export toast");
      assert(existsSync(file), `${file} was written`);
      const events = readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));
      const actions = events.map((e) => e.action).filter(Boolean);
      assert(actions.includes("key.import"), `the export holds the import (saw ${[...new Set(actions)].join(", ")})`);
    });

    // The export verifies offline against the vault's checkpoint key, and a
    // copy with one event altered does not.
    const pub = join(dir, "audit.pem");
    writeFileSync(pub, execFileSync(CLI, ["--vault", vault, "audit", "pubkey"], { encoding: "utf8" }));
    const file = join(saved, "keyward-audit.jsonl");
    const ok = execFileSync(CLI, ["audit", "verify", "--file", file, "--pubkey", pub], { encoding: "utf8" });
    assert(/^export intact: \d+ events/.test(ok), `keyward audit verify: ${ok}`);
    const tampered = join(dir, "tampered.jsonl");
    writeFileSync(tampered, readFileSync(file, "utf8").replace(/"action":"key\.import"/, '"action":"key.create"'));
    let rejected = null;
    try {
      execFileSync(CLI, ["audit", "verify", "--file", tampered, "--pubkey", pub], { encoding: "utf8", stdio: "pipe" });
    } catch (e) {
      rejected = { status: e.status, out: `${e.stdout}${e.stderr}` };
    }
    assert(rejected?.status === 1 && /altered/.test(rejected.out), `a tampered export is rejected: ${JSON.stringify(rejected)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("vault health: a crashed create and an orphan keychain entry are found, repaired after a confirm listing both, then consistent", async () => {
  // A fresh vault with one key, then what crashes leave behind: a `key new`
  // killed right after writing its keychain entry (an unfinished operation,
  // KEYWARD_FAILPOINT as in tests/reliability/crash.rs) and a keychain entry
  // no key version owns (planted with secret-tool, as RepairOrphan does).
  const dir = mkdtempSync(join(tmpdir(), "keyward-e2e-health-"));
  const vault = join(dir, "vault");
  try {
    execFileSync(CLI, ["--vault", vault, "key", "new", "--kind", "signing", "--alg", "ES256", "--name", "health-signer"], { stdio: "ignore" });
    let killed = null;
    try {
      execFileSync(CLI, ["--vault", vault, "key", "new", "--kind", "api", "--name", "health-crashed"], {
        env: { ...process.env, KEYWARD_FAILPOINT: "create.after_keychain" },
        stdio: "ignore",
      });
    } catch (e) {
      killed = e.signal;
    }
    assert(killed === "SIGKILL", `the planted create was killed at its failpoint (signal ${killed})`);
    const info = JSON.parse(execFileSync(CLI, ["--vault", vault, "--json", "vault", "info"], { encoding: "utf8" }));
    execFileSync(
      "secret-tool",
      ["store", "--label", "planted", "service", info.keychain_namespace, "username", "k_e2e_planted/v1", "target", "default", "application", "rust-keyring"],
      { input: "e2e-planted-secret-7Qx" },
    );

    await withApp({ KEYWARD_VAULT: vault }, async (b) => {
      await ready(b);
      await b.keys([Key.Ctrl, ","]);
      await click(b, "health-check");
      await waitText(b, "health-status", /2 problems found, 2 repairable/, "the check finds both");
      const kinds = await b.execute(() => [...document.querySelectorAll('[data-testid="health-problem"]')].map((p) => p.dataset.kind).sort());
      assertEq(kinds, ["orphan_entry", "unfinished_operation"], "the problems found");
      const text = await byTest(b, "health-problems").getText();
      assert(/k_e2e_planted\/v1/.test(text) && /interrupted create/.test(text), `each problem says what and where: ${text}`);
      const page = await b.execute(() => document.body.innerText);
      assert(!page.includes("e2e-planted-secret-7Qx"), "the planted entry's secret is nowhere on the page");
      await shot(b, "health-problems");

      // Repair… opens the confirm dialog from the keyboard; it lists both repairs.
      await byTest(b, "health-repair").waitForEnabled({ timeout: 5000 });
      await b.execute(() => document.querySelector('[data-testid="health-repair"]').focus());
      await b.keys(["Enter"]);
      await byTest(b, "repair-dialog").waitForDisplayed({ timeout: 5000 });
      const actions = await b.execute(() => [...document.querySelectorAll('[data-testid="repair-action"]')].map((a) => a.textContent));
      assert(actions.length === 2, `the dialog lists two repairs: ${JSON.stringify(actions)}`);
      assert(actions.some((a) => /delete keychain entry k_e2e_planted\/v1/.test(a)), `orphan repair listed: ${actions}`);
      assert(actions.some((a) => /roll back the unfinished create/.test(a)), `rollback listed: ${actions}`);
      assert(!(await byTest(b, "repair-truncated-warning").isExisting()), "no audit warning without audit_truncated");
      await shot(b, "health-confirm");
      await click(b, "repair-confirm");
      await waitText(b, "health-status", /^Consistent: 1 key version matches the keychain/, "consistent after repair");
      const repaired = await byTest(b, "health-repaired").getText();
      assert(/deleted orphan keychain entry k_e2e_planted\/v1/.test(repaired) && /rolled back the interrupted create/.test(repaired), `what was repaired: ${repaired}`);
      await shot(b, "health-repaired");
    });
    // The CLI agrees, and both repairs are in the audit log.
    const check = execFileSync(CLI, ["--vault", vault, "vault", "check"], { encoding: "utf8" });
    assert(/vault is consistent/.test(check), `keyward vault check after the app's repair: ${check}`);
    const events = JSON.parse(execFileSync(CLI, ["--vault", vault, "--json", "audit", "list", "--action", "vault.repair"], { encoding: "utf8" }));
    const list = Array.isArray(events) ? events : (events.events ?? []);
    assert(list.length === 2, `two vault.repair events: ${JSON.stringify(list).slice(0, 400)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------

let passed = 0;
let failed = 0;
// KEYWARD_E2E_ONLY=text runs only the tests whose name contains it.
const only = process.env.KEYWARD_E2E_ONLY;
for (const t of tests.filter((t) => !only || t.name.includes(only))) {
  const started = Date.now();
  try {
    await t.fn();
    passed++;
    console.log(`ok   ${t.name} (${Date.now() - started} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${t.name} (${Date.now() - started} ms)\n     ${String(e?.stack ?? e).split("\n").join("\n     ")}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
