//! What the tests of the `jemput-hub` binary share: running a command, starting `serve` on a
//! free port and waiting until it answers, and reading a value out of a command's output.
#![allow(dead_code)] // each test file uses a part

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The built hub binary.
pub const BIN: &str = env!("CARGO_BIN_EXE_jemput-hub");

/// Runs `jemput-hub --config CONFIG ARGS…`, which must succeed; gives its standard output.
pub fn hub_cmd(config: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(BIN).arg("--config").arg(config).args(args).env("RUST_LOG", "warn").output().expect("run jemput-hub");
    assert!(out.status.success(), "jemput-hub {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// A loopback port nobody listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts `jemput-hub serve` on `port` and waits until `/healthz` answers.
pub async fn start_serving(config: &std::path::Path, port: u16) -> Child {
    start_serving_with(config, port, &[]).await
}

/// [`start_serving`] with extra environment variables.
pub async fn start_serving_with(config: &std::path::Path, port: u16, env: &[(&str, &str)]) -> Child {
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(config)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start jemput-hub serve");
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(r) = http.get(format!("http://127.0.0.1:{port}/healthz")).send().await {
            if r.status().is_success() {
                return child;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("jemput-hub serve did not come up");
}

/// The word that follows `after` on the first line of `s` that holds it.
pub fn last_word(s: &str, after: &str) -> String {
    let line = s.lines().find(|l| l.contains(after)).unwrap_or_else(|| panic!("no line with {after:?} in {s}"));
    line.split(after).nth(1).unwrap().split_whitespace().next().unwrap().to_string()
}
