//! The encrypted offline store (in progress).
/// Key.
pub struct StoreKey;
/// Store.
pub struct Store;
