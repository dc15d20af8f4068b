//! Build script of the desktop app: embeds `tauri.conf.json` (at the
//! repository root, beside the package's `Cargo.toml`) and compiles the
//! access-control lists from `src-tauri/capabilities/`: the app command
//! permissions (`*.toml`) and what each window is granted (`*.json`).

fn main() {
    // Capabilities and permissions live beside the shell's sources, not at
    // the root where tauri-build looks by default.
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("src-tauri/capabilities/*.json")
        .app_manifest(
            tauri_build::AppManifest::new()
                .permissions_path_pattern("src-tauri/capabilities/*.toml"),
        );
    if let Err(e) = tauri_build::try_build(attributes) {
        // A build script reports failure by panicking; say what to fix.
        panic!("tauri-build failed (check tauri.conf.json and src-tauri/capabilities/): {e:#}");
    }
}
