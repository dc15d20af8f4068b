// Windowing for the key list: which rows of a fixed-height list to put in
// the DOM for a scroll position, and where to scroll so a row is in view.
// Pure functions (no DOM), so they are tested on their own.
//
// Unlike the audit view (lib/audit.ts), positions are never compressed: at
// 60 px a row, browsers' ~33 million pixel limit is half a million keys.

/** Rows drawn beyond each edge of the view, so a fast scroll rarely shows blank space. */
export const OVERSCAN = 6;

export interface RowWindow {
  /** First row drawn (0-based). */
  first: number;
  /** One past the last row drawn. */
  end: number;
  /** Height of the undrawn rows above `first`, in px. */
  before: number;
  /** Height of the undrawn rows from `end` on, in px. */
  after: number;
}

/**
 * The rows to draw when the list's scroll area shows `viewport` px from
 * `scrollTop` on, rows being `rowHeight` px each (a header inside the scroll
 * area only makes the view show fewer rows: drawing a few more is harmless).
 */
export function rowWindow(
  scrollTop: number,
  viewport: number,
  rowHeight: number,
  total: number,
  overscan = OVERSCAN,
): RowWindow {
  if (total <= 0) return { first: 0, end: 0, before: 0, after: 0 };
  const top = Math.min(total - 1, Math.max(0, Math.floor(scrollTop / rowHeight)));
  const inView = Math.ceil(Math.max(0, viewport) / rowHeight) + 1;
  const first = Math.max(0, top - overscan);
  const end = Math.min(total, top + inView + overscan);
  return { first, end, before: first * rowHeight, after: (total - end) * rowHeight };
}

/**
 * The scroll position that brings row `index` fully into view with the least
 * movement (`scrollTop` itself when it already is). `header` is the height of
 * a sticky header at the top of the scroll area, which covers the rows under it.
 */
export function scrollToReveal(
  index: number,
  scrollTop: number,
  viewport: number,
  rowHeight: number,
  header = 0,
): number {
  const top = header + index * rowHeight;
  const bottom = top + rowHeight;
  if (top < scrollTop + header) return Math.max(0, top - header);
  if (bottom > scrollTop + viewport) return Math.max(0, bottom - viewport);
  return scrollTop;
}

/** Rows a PgUp/PgDn moves: a view's worth, less one so the last row seen stays on screen. */
export function pageRows(viewport: number, rowHeight: number, header = 0): number {
  return Math.max(1, Math.floor((viewport - header) / rowHeight) - 1);
}
