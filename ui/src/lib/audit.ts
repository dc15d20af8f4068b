// The audit view's paging: rows are addressed by index (newest first), an
// unfiltered log maps index → sequence number directly (the chain numbers
// events consecutively), and pages of PAGE rows are fetched by sequence
// range, so any point of a million-event log is one page fetch away.

import type { AuditQuery } from "./types";

export const PAGE = 200;
/** Browsers stop laying out elements around 33 million pixels: stay below. */
export const MAX_SCROLL_PX = 30_000_000;

/** The sequence number shown at row `index` (newest first). */
export function seqAt(index: number, lastSeq: number): number {
  return lastSeq - index;
}

/** The page that holds row `index`. */
export function pageOf(index: number): number {
  return Math.floor(index / PAGE);
}

/** The query for page `page` of an unfiltered log whose newest event is `lastSeq`. */
export function pageQuery(page: number, lastSeq: number): AuditQuery {
  const top = lastSeq - page * PAGE;
  return {
    action: null,
    key_id: null,
    since: null,
    until: null,
    grep: null,
    after_seq: Math.max(0, top - PAGE),
    before_seq: top + 1,
    newest_first: true,
    limit: PAGE,
  };
}

export interface Window {
  first: number;
  last: number;
  /** Pixel offset of row `first` inside the scroll area. */
  offset: number;
  /** Height of the scroll area. */
  height: number;
}

/**
 * Which rows to draw for a scroll position. Past MAX_SCROLL_PX the scroll
 * area is compressed and positions map proportionally.
 */
export function visibleWindow(
  scrollTop: number,
  viewport: number,
  rowHeight: number,
  total: number,
  overscan = 8,
): Window {
  const natural = total * rowHeight;
  const height = Math.min(natural, MAX_SCROLL_PX);
  const rowsInView = Math.ceil(viewport / rowHeight) + 1;
  let top: number;
  if (natural <= MAX_SCROLL_PX || height <= viewport) {
    top = Math.floor(scrollTop / rowHeight);
  } else {
    const ratio = scrollTop / (height - viewport);
    top = Math.round(ratio * Math.max(0, total - rowsInView + 1));
  }
  top = Math.max(0, Math.min(top, Math.max(0, total - 1)));
  const first = Math.max(0, top - overscan);
  const last = Math.min(total - 1, top + rowsInView + overscan);
  const offset =
    natural <= MAX_SCROLL_PX ? first * rowHeight : scrollTop - (top - first) * rowHeight;
  return { first, last, offset, height };
}

/** Turns the filter form into a query (blank fields dropped). */
export function filterQuery(f: {
  action: string;
  key: string;
  since: string;
  until: string;
  text: string;
}): AuditQuery {
  const v = (s: string) => (s.trim() ? s.trim() : null);
  // <input type="datetime-local"> gives local time without a zone.
  const time = (s: string) => (s.trim() ? new Date(s).toISOString() : null);
  return {
    action: v(f.action),
    key_id: v(f.key),
    since: time(f.since),
    until: time(f.until),
    grep: v(f.text),
    after_seq: null,
    before_seq: null,
    newest_first: true,
    limit: PAGE,
  };
}

/** True when any filter is set. */
export function isFiltered(q: AuditQuery): boolean {
  return Boolean(q.action || q.key_id || q.since || q.until || q.grep);
}
