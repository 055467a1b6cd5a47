//! Shared pieces of Jemput's cross-component tests and benchmarks.

pub mod fault_proxy;
pub mod fuzz;
pub mod gen;
pub mod harness;
pub mod hostile;
