//! The layering of ADR 0008, checked on the source: every `crate::…` path in `core/src` and
//! `hub/src` names a module of the same layer or a lower one, never a higher one. Layers, low
//! to high:
//!
//! - core: foundation (`crypto`, `time_util`) → domain (`domain/`, re-exported as `catalog`,
//!   `request`, …, and `error`, which carries validation issues) → device store (`store/`) → sync (`sync/`: protocol, device engine,
//!   per-document hub check, client, certificate pinning);
//! - hub: storage (`storage/`) → services (`service/`, with `setup`; `error.rs`) → sync engine (`engine/`) →
//!   HTTP (`api/`, and the staff dashboard `web/`) → what runs it (`main.rs`, `serve.rs`, `setup.rs`, `demo.rs`, …).
//!
//! `lib.rs` files only declare and re-export modules, so they are not checked. A unit-test file
//! (`tests.rs`, compiled only for tests) may use the hub's test fixtures (`testing`).

use std::path::{Path, PathBuf};

/// The layer of a core module named right after `crate::`.
fn core_layer(module: &str) -> Option<u8> {
    Some(match module {
        "crypto" | "time_util" => 0,
        // The core's error carries validation issues, so it sits with the domain.
        "error" | "domain" | "catalog" | "complaint" | "document" | "kelurahan" | "permissions" | "receipt" | "request" | "validation" => 1,
        "store" => 2,
        "sync" => 3,
        // Items re-exported at the crate root (`crate::Store`, `crate::Request`, …) are
        // checked where they are defined; an unknown name is not a module.
        _ => return None,
    })
}

/// The layer of a hub module named right after `crate::`.
fn hub_layer(module: &str) -> Option<u8> {
    Some(match module {
        "storage" => 0,
        "service" | "error" | "setup" => 1,
        "engine" => 2,
        // The staff dashboard is at the HTTP level, like the JSON API it shares handlers with.
        "api" | "web" => 3,
        "config" | "demo" | "serve" | "testing" | "office" => 4,
        _ => return None,
    })
}

/// The layer of a source file, from its path relative to `core/src` or `hub/src`.
fn file_layer(hub: bool, rel: &Path) -> Option<u8> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    let module = first.strip_suffix(".rs").unwrap_or(first);
    if module == "lib" {
        return None;
    }
    if hub {
        Some(hub_layer(module).unwrap_or(4))
    } else {
        core_layer(module)
    }
}

/// The `crate::module` paths in `text` that point above `layer`, as (line number, module).
fn violations(hub: bool, layer: u8, text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            // `jemput_core::…` and `some_crate::…` are other crates, not `crate::`.
            let before = rest[..at].chars().last();
            rest = &rest[at + "crate::".len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let module: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            let target = if hub { hub_layer(&module) } else { core_layer(&module) };
            if target.is_some_and(|t| t > layer) {
                out.push((n + 1, module));
            }
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read a source folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_checker_flags_an_import_from_a_higher_layer() {
    // Without this, a checker that never matches would pass the real check below.
    assert_eq!(violations(false, 2, "use crate::sync::protocol::SyncRequest;"), vec![(1, "sync".to_string())]);
    assert_eq!(violations(true, 0, "    let x = crate::engine::Engine::new(db, i);"), vec![(1, "engine".to_string())]);
    assert!(violations(false, 2, "use crate::document::{self, DocKind};").is_empty());
    assert!(violations(false, 1, "use jemput_core::sync::protocol;").is_empty(), "another crate's path");
    assert!(violations(false, 1, "// see crate::sync for the protocol").is_empty());
    assert_eq!(file_layer(false, Path::new("store/mod.rs")), Some(2));
    assert_eq!(file_layer(true, Path::new("engine/exchange.rs")), Some(2));
    assert_eq!(file_layer(true, Path::new("main.rs")), Some(4));
}

#[test]
fn no_module_imports_from_a_layer_above_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace");
    let mut found = Vec::new();
    let mut checked = 0;
    for (hub, src) in [(false, root.join("core/src")), (true, root.join("hub/src"))] {
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        for file in files {
            let rel = file.strip_prefix(&src).expect("under src");
            let Some(layer) = file_layer(hub, rel) else { continue };
            checked += 1;
            let text = std::fs::read_to_string(&file).expect("read a source file");
            // A unit-test file (`tests.rs`, compiled only for tests) may use the test fixtures.
            let test_file = rel.file_name().is_some_and(|n| n == "tests.rs");
            for (line, module) in violations(hub, layer, &text) {
                if test_file && module == "testing" {
                    continue;
                }
                found.push(format!("{}:{line} uses crate::{module}", file.strip_prefix(root).unwrap_or(&file).display()));
            }
        }
    }
    assert!(checked > 40, "only {checked} files checked: the source folders moved?");
    assert!(found.is_empty(), "imports from a higher layer (ADR 0008):\n{}", found.join("\n"));
}
