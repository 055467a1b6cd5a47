//! Date validation.
