//! Shared pieces of Jemput's cross-component tests and benchmarks.

pub mod fault_proxy;
pub mod fuzz;
pub mod gen;
pub mod harness;
pub mod hostile;

/// Runs a test body once per back end (the hub's one macro; see `jemput_hub::testing`).
pub use jemput_hub::on_both_backends;
