// Desktop performance figures (measured, not a timed test): cold start to the
// first interactive frame, the Keys screen with 1,000 keys (a windowed table:
// filter, sort, keyboard, scrolling), and the audit view over 1,000,000 events. Run through `tests/e2e/run.sh --perf` (it
// provides Xvfb, the keyring session and the paths).
//
// Inputs: KEYWARD_E2E_APP (the debug or release app), KEYWARD_E2E_SEED (the
// seed_bulk example), KEYWARD_E2E_WORK (a scratch folder), KEYWARD_E2E_SHOTS.
// KEYWARD_PERF_EVENTS / KEYWARD_PERF_KEYS change the sizes.

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { withApp as withAppAt } from "./driver.mjs";

const env = (n) => {
  const v = process.env[n];
  if (!v) {
    console.error(`perf.mjs: ${n} is not set; run tests/e2e/run.sh --perf`);
    process.exit(2);
  }
  return v;
};
const APP = env("KEYWARD_E2E_APP");
const SEED = env("KEYWARD_E2E_SEED");
const WORK = env("KEYWARD_E2E_WORK");
const SHOTS = env("KEYWARD_E2E_SHOTS");
const EVENTS = Number(process.env.KEYWARD_PERF_EVENTS ?? 1_000_000);
const KEYS = Number(process.env.KEYWARD_PERF_KEYS ?? 1000);
const DRIVER = process.env.TAURI_DRIVER ?? "tauri-driver";
const withApp = (e, fn, o) => withAppAt(APP, DRIVER, e, fn, o);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))];
const fmt = (ms) => `${Math.round(ms)} ms`;
const lines = [];
const report = (what, value, target = "") => {
  const line = `${what.padEnd(58)} ${value.padStart(12)}  ${target}`;
  lines.push(line);
  console.log(line);
};

const vault = join(WORK, "perf-vault");
const empty = join(WORK, "perf-empty");
if (!existsSync(join(vault, "vault.db"))) {
  const t = Date.now();
  execFileSync(SEED, [vault, "--keys", String(KEYS), "--events", String(EVENTS)], { stdio: "inherit" });
  console.log(`seeded ${KEYS} keys and ${EVENTS} events in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
}

/** Launch → the key list's first interactive frame (a performance mark in the page). */
async function coldStart(dir, expectRows) {
  let launched = 0;
  let result = null;
  await withApp(
    { KEYWARD_VAULT: dir },
    async (b) => {
      await b.waitUntil(async () => b.execute(() => performance.getEntriesByName("keyward:keys-interactive").length > 0), {
        timeout: 60_000,
        interval: 20,
        timeoutMsg: "the key list never became interactive",
      });
      const t = await b.execute(() => {
        const m = performance.getEntriesByName("keyward:keys-interactive")[0];
        const table = document.querySelector('[data-testid="key-table"]');
        return {
          origin: performance.timeOrigin,
          mark: m.startTime,
          rows: document.querySelectorAll('[data-testid="key-row"]').length,
          rowcount: Number(table?.getAttribute("aria-rowcount") ?? 1) - 1,
        };
      });
      if (t.rowcount !== expectRows) throw new Error(`expected ${expectRows} keys, the grid has ${t.rowcount}`);
      if ((expectRows > 0) !== (t.rows > 0)) throw new Error(`expected ${expectRows} keys, saw ${t.rows} rows`);
      result = { total: t.origin + t.mark - launched, webview: t.origin - launched, frontend: t.mark, rows: t.rows };
    },
    { onLaunch: () => (launched = Date.now()) },
  );
  return result;
}

/**
 * Scrolls the element `selector` by `step` px a frame for 40 frames and
 * returns the gaps between frames and the most key rows seen in the DOM.
 * `bare`: the same on a plain scrolling div of the same height with no
 * content, put over the page, as a same-run baseline of the webview's cost.
 */
function scrollFrames(b, selector, bare, step) {
  return b.executeAsync(
    (selector, bare, step, done) => {
      let sc = document.querySelector(selector);
      if (bare) {
        const d = document.createElement("div");
        d.style.cssText = "position:fixed;inset:0;overflow:auto;z-index:99;background:#fff";
        const inner = document.createElement("div");
        inner.style.height = `${sc.scrollHeight}px`;
        d.appendChild(inner);
        document.body.appendChild(d);
        sc = d;
      }
      sc.scrollTop = 0;
      const gaps = [];
      let maxRows = 0;
      let last = performance.now();
      let n = 0;
      const frame = () => {
        const now = performance.now();
        gaps.push(now - last);
        last = now;
        maxRows = Math.max(maxRows, document.querySelectorAll('[data-testid="key-row"]').length);
        sc.scrollTop += step;
        if (++n < 40) requestAnimationFrame(frame);
        else {
          if (bare) sc.remove();
          done({ gaps: gaps.slice(1), maxRows });
        }
      };
      requestAnimationFrame(frame);
    },
    selector,
    bare,
    step,
  );
}

console.log(`Keyward desktop performance (Xvfb, software rendering, ${APP.includes("release") ? "release" : "debug"} build)\n`);

// 1. Cold start.
const emptyRuns = [];
for (let i = 0; i < 3; i++) emptyRuns.push(await coldStart(empty, 0));
report("cold start → first interactive frame (empty vault), median of 3", fmt(median(emptyRuns.map((r) => r.total))), "target ≤ 1500 ms");
report("  of which process + webview up to page navigation", fmt(median(emptyRuns.map((r) => r.webview))));
report("  of which page load → key list interactive", fmt(median(emptyRuns.map((r) => r.frontend))));
const fullRuns = [];
for (let i = 0; i < 3; i++) fullRuns.push(await coldStart(vault, KEYS));
report(`cold start → first interactive frame (${KEYS} keys), median of 3`, fmt(median(fullRuns.map((r) => r.total))), "target ≤ 1500 ms");
report(`  rows in the DOM at that frame (windowed table, ${KEYS} keys)`, String(Math.max(...fullRuns.map((r) => r.rows))));

// 2. Keys screen with 1,000 keys, and 3. the audit view over 1,000,000 events.
await withApp({ KEYWARD_VAULT: vault }, async (b) => {
  await b.setTimeout({ script: 180_000 });
  await b.waitUntil(
    async () => b.execute(() => document.querySelector('[data-testid="key-table"]')?.getAttribute("aria-rowcount")),
    { timeout: 60_000, interval: 50 },
  );
  // Filter: from the keystroke to the painted list.
  const filterMs = await b.executeAsync((done) => {
    const input = document.querySelector('[data-testid="key-filter"]');
    const runs = [];
    const one = (q, next) => {
      const t0 = performance.now();
      input.value = q;
      input.dispatchEvent(new Event("input", { bubbles: true }));
      requestAnimationFrame(() => requestAnimationFrame(() => {
        runs.push(performance.now() - t0);
        next();
      }));
    };
    const qs = ["s", "se", "service-0", "service-09", "write", ""];
    const step = (i) => (i < qs.length ? one(qs[i], () => step(i + 1)) : done(runs));
    step(0);
  });
  report(`Keys: filter keystroke → painted (${KEYS} keys), median`, fmt(median(filterMs)), `max ${fmt(Math.max(...filterMs))}`);
  const sortMs = await b.executeAsync((done) => {
    const sel = document.querySelector('[data-testid="sort-select"]');
    const t0 = performance.now();
    sel.value = "expires";
    sel.dispatchEvent(new Event("change", { bubbles: true }));
    requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - t0)));
  });
  report(`Keys: sort by expiry → painted (${KEYS} keys)`, fmt(sortMs));
  const arrowMs = await b.executeAsync((done) => {
    const table = document.querySelector('[data-testid="key-table"]');
    table.focus();
    const runs = [];
    const step = (i) => {
      if (i === 20) return done(runs);
      const t0 = performance.now();
      table.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowDown", bubbles: true }));
      requestAnimationFrame(() => requestAnimationFrame(() => {
        runs.push(performance.now() - t0);
        step(i + 1);
      }));
    };
    step(0);
  });
  report("Keys: arrow key → selection and details painted, median", fmt(median(arrowMs)));
  // End and Home: the far end of the list is drawn and selected, as many times as asked.
  const jumpMs = await b.executeAsync((total, done) => {
    const table = document.querySelector('[data-testid="key-table"]');
    table.focus();
    const runs = [];
    const step = (i) => {
      if (i === 10) return done(runs);
      const key = i % 2 === 0 ? "End" : "Home";
      const want = String(key === "End" ? total + 1 : 2);
      const t0 = performance.now();
      table.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true }));
      const check = () => {
        const sel = document.querySelector('[data-testid="key-row"][aria-selected="true"]');
        if (sel?.getAttribute("aria-rowindex") === want) requestAnimationFrame(() => (runs.push(performance.now() - t0), step(i + 1)));
        else requestAnimationFrame(check);
      };
      requestAnimationFrame(check);
    };
    step(0);
  }, KEYS);
  report(`Keys: End/Home → far end selected and painted (${KEYS} keys), median`, fmt(median(jumpMs)), `max ${fmt(Math.max(...jumpMs))}`);
  const keyFrames = await scrollFrames(b, '[data-testid="key-scroller"]', false, 180);
  const keyBare = await scrollFrames(b, '[data-testid="key-scroller"]', true, 180);
  report(`Keys: continuous scroll (${KEYS} keys), frame time median`, fmt(median(keyFrames.gaps)), `p95 ${fmt(p95(keyFrames.gaps))}`);
  report("  baseline (same run): bare scrolling div, frame time median", fmt(median(keyBare.gaps)), `p95 ${fmt(p95(keyBare.gaps))}`);
  report("  most key rows in the DOM while scrolling", String(keyFrames.maxRows));
  await b.saveScreenshot(join(SHOTS, "perf-keys-1000.png"));

  // Audit: raw page fetches through IPC, then scrolling the virtual list.
  const fetches = await b.executeAsync((last, done) => {
    const invoke = window.__TAURI_INTERNALS__.invoke;
    const runs = [];
    const step = async (i) => {
      if (i === 30) return done(runs);
      const top = Math.floor(Math.random() * last) + 1;
      const t0 = performance.now();
      await invoke("audit_page", { query: { before_seq: top + 1, after_seq: Math.max(0, top - 200), newest_first: true, limit: 200 } });
      runs.push(performance.now() - t0);
      step(i + 1);
    };
    step(0);
  }, EVENTS);
  report(`Audit: page fetch (200 events at a random point of ${EVENTS.toLocaleString()}), median`, fmt(median(fetches)), "target ≤ 50 ms");
  report("Audit: page fetch, p95", fmt(p95(fetches)), `max ${fmt(Math.max(...fetches))}`);

  await b.execute(() => (location.hash = "#/audit"));
  await b.waitUntil(async () => (await b.$$('[data-testid="audit-row"]')).length > 0, { timeout: 60_000, interval: 50 });
  const jumps = [];
  for (const f of [0.1, 0.5, 0.9, 1, 0.25, 0.75]) {
    const ms = await b.executeAsync((frac, done) => {
      const sc = document.querySelector('[data-testid="audit-scroller"]');
      const t0 = performance.now();
      sc.scrollTop = frac * (sc.scrollHeight - sc.clientHeight);
      const check = () => {
        const rows = document.querySelectorAll('[data-testid="audit-row"]');
        const placeholders = document.querySelectorAll(".tr.placeholder").length;
        if (rows.length > 0 && placeholders === 0) done(performance.now() - t0);
        else requestAnimationFrame(check);
      };
      requestAnimationFrame(check);
    }, f);
    jumps.push(ms);
  }
  report(`Audit: jump anywhere in ${EVENTS.toLocaleString()} events → rows painted, median`, fmt(median(jumps)), `max ${fmt(Math.max(...jumps))}`);
  // Continuous scrolling, beside a same-run baseline: a bare scrolling div of
  // the same height with no content (what the webview costs by itself).
  const frames = (await scrollFrames(b, '[data-testid="audit-scroller"]', false, 90)).gaps; // three rows a frame
  const bare = (await scrollFrames(b, '[data-testid="audit-scroller"]', true, 90)).gaps;
  report("Audit: continuous scroll, frame time median", fmt(median(frames)), `p95 ${fmt(p95(frames))}`);
  report("  baseline (same run): bare scrolling div, frame time median", fmt(median(bare)), `p95 ${fmt(p95(bare))}`);
  await b.saveScreenshot(join(SHOTS, "perf-audit-1m.png"));
  const verify = await b.executeAsync((done) => {
    const t0 = performance.now();
    window.__TAURI_INTERNALS__.invoke("audit_verify").then((r) => done({ ms: performance.now() - t0, intact: r.intact, last: r.last_seq }));
  });
  report(`Audit: chain verification of ${EVENTS.toLocaleString()} events (${verify.intact ? "intact" : "BROKEN"})`, fmt(verify.ms));
});

console.log("\ndone");
