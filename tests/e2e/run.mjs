// End-to-end tests of the built desktop app: starts tauri-driver (which
// starts WebKitWebDriver and the app), drives the real window over
// WebDriver, and reports `N passed, M failed` on the last line.
//
// Inputs (set by run.sh):
//   KEYWARD_E2E_APP     absolute path of target/debug/keyward-desktop
//   KEYWARD_E2E_VAULT   a vault seeded by the CLI with `e2e-api` and `e2e-signer`
//   KEYWARD_E2E_EMPTY   an empty directory to use as a fresh vault
//   KEYWARD_E2E_SHOTS   where screenshots go

import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer, connect } from "node:net";
import { join } from "node:path";
import { remote } from "webdriverio";

const APP = required("KEYWARD_E2E_APP");
const VAULT = required("KEYWARD_E2E_VAULT");
const EMPTY = required("KEYWARD_E2E_EMPTY");
const SHOTS = required("KEYWARD_E2E_SHOTS");
const DRIVER = process.env.TAURI_DRIVER ?? "tauri-driver";
mkdirSync(SHOTS, { recursive: true });

function required(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`run.mjs: ${name} is not set; start the tests with tests/e2e/run.sh`);
    process.exit(2);
  }
  return v;
}

// ---------------------------------------------------------------------------
// Driver and app sessions

const taken = new Set();

/** A free loopback port, never the same twice in this run. */
async function freePort() {
  for (;;) {
    const port = await anyPort();
    if (!taken.has(port)) {
      taken.add(port);
      return port;
    }
  }
}

async function anyPort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`tauri-driver exited with code ${child.exitCode}`);
    const open = await new Promise((resolve) => {
      const s = connect(port, "127.0.0.1");
      s.once("connect", () => (s.destroy(), resolve(true)));
      s.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`tauri-driver did not listen on port ${port} within ${timeoutMs} ms`);
}

/**
 * Starts tauri-driver with `env` (the app inherits it: that is how
 * KEYWARD_VAULT reaches it), opens a WebDriver session on the app, runs
 * `fn(browser)`, and always tears both down.
 */
async function withApp(env, fn) {
  const port = await freePort();
  const nativePort = await freePort();
  const driver = spawn(DRIVER, ["--port", String(port), "--native-port", String(nativePort)], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "inherit", "inherit"],
  });
  let browser;
  try {
    // tauri-driver listens at once but proxies to WebKitWebDriver, which
    // starts a moment later: wait for both before asking for a session.
    await waitForPort(port, driver, 15_000);
    await waitForPort(nativePort, driver, 15_000);
    browser = await remote({
      hostname: "127.0.0.1",
      port,
      logLevel: "error",
      connectionRetryCount: 0,
      capabilities: {
        "tauri:options": { application: APP },
        "wdio:enforceWebDriverClassic": true,
      },
    });
    await fn(browser);
  } finally {
    if (browser) await browser.deleteSession().catch(() => {});
    driver.kill("SIGTERM");
    await new Promise((r) => (driver.exitCode !== null ? r() : driver.once("exit", r)));
  }
}

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

let passed = 0;
let failed = 0;
for (const t of tests) {
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
