//! Which resources of the test suite this machine has, as `cfg` flags: a test
//! that needs a missing one is compiled `#[ignore = "<why>"]`, so `cargo
//! test`'s summary counts it as ignored, with the reason on its line, instead
//! of as passed. Under `CI` every resource counts as present, so that a
//! missing one fails its test instead. The flags are decided when the tests
//! are built: setting or unsetting `SPLITCAST_TEST_DATABASE_URL` or `CI`, or
//! installing the browser, rebuilds the crate once.

use std::env;
use std::path::{Path, PathBuf};

/// The Chromium the browser tests start (tests/api/browser/driver.rs).
const CHROMIUM: &str = "/usr/bin/chromium";

fn main() {
    println!("cargo:rustc-check-cfg=cfg(has_postgres, has_browser, can_mount)");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CI");
    println!("cargo:rerun-if-env-changed=SPLITCAST_TEST_DATABASE_URL");
    let ci = env::var_os("CI").is_some();
    if ci || env::var_os("SPLITCAST_TEST_DATABASE_URL").is_some() {
        println!("cargo:rustc-cfg=has_postgres");
    }
    // Both watched, present or not, so that installing them is noticed.
    let chromium = watch(Path::new(CHROMIUM));
    let driver = find_on_path("chromedriver");
    if ci || (chromium && driver) {
        println!("cargo:rustc-cfg=has_browser");
    }
    if ci || can_mount() {
        println!("cargo:rustc-cfg=can_mount");
    }
}

/// Whether `path` exists; watches it when it does, else its directory (a
/// path that does not exist would rerun this script, and rebuild the crate,
/// on every build).
fn watch(path: &Path) -> bool {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
        return true;
    }
    if let Some(dir) = path.parent().filter(|d| d.is_dir()) {
        println!("cargo:rerun-if-changed={}", dir.display());
    }
    false
}

/// Whether `name` is an executable in a `PATH` directory, watching it (or
/// every `PATH` directory while it is in none).
fn find_on_path(name: &str) -> bool {
    let dirs: Vec<PathBuf> = env::var_os("PATH")
        .map(|path| env::split_paths(&path).collect())
        .unwrap_or_default();
    if let Some(found) = dirs.iter().map(|d| d.join(name)).find(|p| p.is_file()) {
        println!("cargo:rerun-if-changed={}", found.display());
        return true;
    }
    for dir in dirs.iter().filter(|d| d.is_dir()) {
        println!("cargo:rerun-if-changed={}", dir.display());
    }
    false
}

/// Mounting the full-disk test's tmpfs needs CAP_SYS_ADMIN (bit 21 of the
/// effective capabilities), which root has outside a restricted container.
fn can_mount() -> bool {
    const CAP_SYS_ADMIN: u32 = 21;
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let hex = status.lines().find_map(|l| l.strip_prefix("CapEff:"))?;
            u64::from_str_radix(hex.trim(), 16).ok()
        })
        .is_some_and(|caps| caps & (1 << CAP_SYS_ADMIN) != 0)
}
