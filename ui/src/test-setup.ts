import "@testing-library/jest-dom/vitest";

// jsdom has no layout and no ResizeObserver (Svelte's bind:clientHeight uses it).
class NoResize {
  observe() {}
  unobserve() {}
  disconnect() {}
}
globalThis.ResizeObserver ??= NoResize as unknown as typeof ResizeObserver;
