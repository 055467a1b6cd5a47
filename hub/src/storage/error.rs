//! What a storage back end can fail with, apart from the errors of the logic above it. The
//! layers above convert it (`crate::error::ServiceError` wraps it; the HTTP error maps it to a
//! status code in one place).

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// SQLite failed.
    #[error("kesalahan basis data hub")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed.
    #[error("kesalahan basis data hub")]
    Pg(#[from] tokio_postgres::Error),
    /// The database cannot be used as configured (bad address, newer schema, wrong key).
    #[error("{0}")]
    Config(String),
    /// Stored data that cannot be read (what is corrupt, without personal data).
    #[error("data tersimpan rusak: {0}")]
    Corrupt(&'static str),
    /// No connection free for now; try again.
    #[error("hub sedang sibuk; coba lagi sebentar lagi")]
    Busy,
    /// The back end failed in a way it cannot describe (a panicked worker thread).
    #[error("kesalahan internal penyimpanan")]
    Internal,
    /// The transaction's closure failed with the caller's own error, kept by the caller
    /// ([`super::HubDb::with`]); `transient` says whether it is a storage conflict worth
    /// running the closure again for.
    #[error("transaksi dibatalkan")]
    Aborted {
        /// A conflict another attempt may not meet (e.g. a PostgreSQL deadlock).
        transient: bool,
    },
}

impl StorageError {
    /// Whether running the transaction again may succeed (a PostgreSQL deadlock, serialization
    /// failure or a unique key two hub instances inserted at once).
    pub fn is_transient(&self) -> bool {
        use tokio_postgres::error::SqlState;
        match self {
            StorageError::Pg(e) => {
                matches!(e.code(), Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED
                    || *c == SqlState::T_R_SERIALIZATION_FAILURE
                    || *c == SqlState::UNIQUE_VIOLATION)
            }
            StorageError::Aborted { transient } => *transient,
            _ => false,
        }
    }
}

/// An error a transaction's closure may fail with: any error that can carry a storage error
/// and say whether it is one (so a back end can retry a transient conflict).
pub trait TxError: From<StorageError> + Send {
    /// The storage error inside, if this error is one.
    fn storage(&self) -> Option<&StorageError>;
}

impl TxError for StorageError {
    fn storage(&self) -> Option<&StorageError> {
        Some(self)
    }
}
