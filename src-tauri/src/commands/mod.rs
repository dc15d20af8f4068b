//! The IPC commands, one thin call into the core each. Adding one means
//! registering it in `lib.rs`, giving it a permission in
//! `src-tauri/capabilities/app-commands.toml` and granting that in
//! `src-tauri/capabilities/main-window.json` (a test checks all three agree).

pub mod app;
pub mod audit;
pub mod health;
pub mod keys;
pub mod tokens;
pub mod vaults;
