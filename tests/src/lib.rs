//! Shared helpers for Jemput's cross-component tests.
