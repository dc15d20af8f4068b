// App-wide reactive state: the current route (from the URL hash), the
// settings of the open vault, and short-lived notices (toasts).

import type { DesktopSettings, Theme } from "./types";

export type Route =
  | { screen: "keys" }
  | { screen: "key"; id: string }
  | { screen: "new"; tab: "api" | "signing" | "import" }
  | { screen: "inspect" }
  | { screen: "sign" }
  | { screen: "audit" }
  | { screen: "due" }
  | { screen: "scan" }
  | { screen: "settings"; section?: "health" };

/** Parses `#/keys/k_1`, `#/new/import`... Unknown hashes go to the key list. */
export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  switch (parts[0]) {
    case "keys":
      return parts[1] ? { screen: "key", id: parts[1] } : { screen: "keys" };
    case "new": {
      const tab = parts[1] === "signing" || parts[1] === "import" ? parts[1] : "api";
      return { screen: "new", tab };
    }
    case "inspect":
    case "sign":
    case "audit":
    case "due":
    case "scan":
      return { screen: parts[0] };
    case "settings":
      return parts[1] === "health" ? { screen: "settings", section: "health" } : { screen: "settings" };
    default:
      return { screen: "keys" };
  }
}

/** The hash of a route. */
export function routeHash(r: Route): string {
  switch (r.screen) {
    case "key":
      return `#/keys/${encodeURIComponent(r.id)}`;
    case "new":
      return `#/new/${r.tab}`;
    case "settings":
      return r.section ? `#/settings/${r.section}` : "#/settings";
    default:
      return `#/${r.screen}`;
  }
}

export function go(r: Route | string) {
  const hash = typeof r === "string" ? r : routeHash(r);
  if (location.hash !== hash) location.hash = hash;
}

export const DEFAULT_SETTINGS: DesktopSettings = {
  default_grace: "24h",
  clipboard_clear_seconds: 30,
  reveal_hide_seconds: 20,
  max_token_lifetime: "24h",
  expiring_soon_days: 14,
  grace_ending_soon_days: 3,
  due_window: "14d",
  theme: "system",
};

/** The open vault's settings (defaults until loaded). */
export const settings = $state<{ value: DesktopSettings }>({ value: { ...DEFAULT_SETTINGS } });

/** Applies a theme to the document: `system` follows the OS. */
export function applyTheme(theme: Theme) {
  const root = document.documentElement;
  if (theme === "system") root.removeAttribute("data-theme");
  else root.setAttribute("data-theme", theme);
}

export interface Toast {
  id: number;
  text: string;
  tone: "ok" | "info" | "warn" | "danger";
}

export const toasts = $state<{ list: Toast[] }>({ list: [] });
let nextToast = 1;

/** Shows a short notice for `ms` milliseconds. */
export function toast(text: string, tone: Toast["tone"] = "ok", ms = 4000) {
  const id = nextToast++;
  toasts.list.push({ id, text, tone });
  setTimeout(() => {
    toasts.list = toasts.list.filter((t) => t.id !== id);
  }, ms);
}

/** Bumped after any change to keys, so lists reload. */
export const keysVersion = $state<{ n: number }>({ n: 0 });
export function keysChanged() {
  keysVersion.n++;
}
