// Suggested `keyward` CLI command lines, shown where the app cannot yet do
// something itself. They must run as printed, so arguments are shell-quoted.

/** Quotes one argument for a POSIX shell; plain words stay bare. */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * A `keyward` command line. `vaultDir` adds `--vault DIR`: needed when the app
 * runs on a vault the CLI would not find by default.
 */
export function cliCommand(args: readonly string[], vaultDir?: string | null): string {
  const global = vaultDir ? ["--vault", vaultDir] : [];
  return ["keyward", ...global, ...args].map(shellQuote).join(" ");
}
