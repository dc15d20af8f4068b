// When a window-wide single-key shortcut (R, V, ?, /, Backspace…) may act:
// never while the user types. One rule for every screen, so a key typed into
// any text field — an input, a textarea, a select, anything contenteditable,
// in a dialog or not — reaches the field and nothing else.

/** True when `el` (or the element it sits in) takes typed text. */
export function isTextField(el: EventTarget | null): boolean {
  if (!(el instanceof Element)) return false;
  if (el instanceof HTMLElement && el.isContentEditable) return true;
  // jsdom has no isContentEditable: check the attribute up the tree too.
  return el.closest('input, textarea, select, [contenteditable]:not([contenteditable="false"])') !== null;
}

/**
 * True when a plain-key shortcut may handle `e`: no Ctrl/Cmd/Alt, not
 * typed into a text field, not part of an IME composition, and not already
 * handled by something closer to the target.
 */
export function shortcutAllowed(e: KeyboardEvent): boolean {
  if (e.defaultPrevented || e.isComposing || e.ctrlKey || e.metaKey || e.altKey) return false;
  return !isTextField(e.target);
}
