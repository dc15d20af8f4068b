// Starting the app under tauri-driver (which starts WebKitWebDriver and the
// app) and opening a WebDriver session on it.

import { spawn } from "node:child_process";
import { createServer, connect } from "node:net";
import { remote } from "webdriverio";

// ---------------------------------------------------------------------------
// Driver and app sessions (shared by run.mjs and perf.mjs)

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
 * `fn(browser)`, and always tears both down. `opts.onLaunch` is called just
 * before the session request that launches the app (for start-up timing).
 */
export async function withApp(app, driverBin, env, fn, opts = {}) {
  const port = await freePort();
  const nativePort = await freePort();
  const driver = spawn(driverBin, ["--port", String(port), "--native-port", String(nativePort)], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "inherit", "inherit"],
  });
  let browser;
  try {
    // tauri-driver listens at once but proxies to WebKitWebDriver, which
    // starts a moment later: wait for both before asking for a session.
    await waitForPort(port, driver, 15_000);
    await waitForPort(nativePort, driver, 15_000);
    opts.onLaunch?.();
    browser = await remote({
      hostname: "127.0.0.1",
      port,
      logLevel: "error",
      connectionRetryCount: 0,
      capabilities: {
        "tauri:options": { application: app },
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

