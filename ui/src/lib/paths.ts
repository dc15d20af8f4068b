// Display of file system paths in narrow places.

/**
 * Keeps the end of a long path, where the distinguishing part is
 * (`…/vaults/work`), and never cuts inside a path component unless the
 * last one alone is too long.
 */
export function shortenPath(path: string, max = 26): string {
  if (path.length <= max) return path;
  const sep = path.includes("\\") && !path.includes("/") ? "\\" : "/";
  const parts = path.split(sep).filter(Boolean);
  let tail = "";
  for (let i = parts.length - 1; i >= 0; i--) {
    const next = tail ? `${parts[i]}${sep}${tail}` : (parts[i] ?? "");
    if (next.length + 2 > max) break;
    tail = next;
  }
  if (!tail) {
    const last = parts[parts.length - 1] ?? path;
    return `…${last.slice(-(max - 1))}`;
  }
  return `…${sep}${tail}`;
}
