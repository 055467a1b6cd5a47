//! The native library the Android and iOS apps load. Thin delegation to `jemput-core`.
uniffi::setup_scaffolding!();
