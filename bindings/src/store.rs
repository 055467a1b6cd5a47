//! [`JemputStore`]: the encrypted offline store on the officer's phone, as one UniFFI object.
//! Every method locks the store and delegates to [`jemput_core::Store`]; the only work done
//! here is converting records and errors.

use std::sync::{Arc, Mutex, MutexGuard};

use zeroize::Zeroize;

use crate::error::ApiError;
use crate::records::{
    Catalog, ComplaintDraft, ComplaintSummary, Identity, Issue, Kelurahan, PurgeReport, Recorded, Request, RequestDraft, RequestFilter,
    RequestSummary, Status, SyncHealth,
};

/// The device's encrypted store of requests and complaints. Open one per database file and
/// share it; calls from several threads are serialised. Calls block on disk I/O: make them off
/// the main thread.
#[derive(uniffi::Object)]
pub struct JemputStore {
    inner: Mutex<jemput_core::Store>,
}

impl std::fmt::Debug for JemputStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JemputStore").finish_non_exhaustive()
    }
}

impl JemputStore {
    fn store(&self) -> MutexGuard<'_, jemput_core::Store> {
        // A panic while the lock was held rolled back the open SQLite transaction (it is dropped
        // on unwind), so the store is still consistent: carry on with it.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[uniffi::export]
impl JemputStore {
    /// Opens (or creates) the store at `path` with the app's 256-bit key (32 bytes, from the
    /// Android Keystore or iOS Keychain). A wrong key throws `ApiError.WrongKey` with code
    /// `kunci_salah` and leaves the database untouched; a key that is not 32 bytes throws
    /// `ApiError.WrongKey` with code `kunci_tidak_valid`.
    #[uniffi::constructor]
    pub fn open(path: String, mut key: Vec<u8>) -> Result<Arc<Self>, ApiError> {
        let store_key = jemput_core::StoreKey::from_slice(&key);
        key.zeroize();
        let store_key = store_key.ok_or_else(ApiError::bad_key_length)?;
        let store = jemput_core::Store::open(&path, &store_key)?;
        Ok(Arc::new(JemputStore { inner: Mutex::new(store) }))
    }

    /// This device's identity: its id, the officer it is enrolled for and its receipt prefix.
    pub fn identity(&self) -> Result<Identity, ApiError> {
        Ok(self.store().identity()?.into())
    }

    /// Records the enrolment: the officer and the 4-character receipt prefix the hub allocated.
    /// Until then the device uses a random prefix.
    pub fn set_enrolment(&self, officer_id: String, receipt_prefix: String) -> Result<(), ApiError> {
        Ok(self.store().set_enrolment(&officer_id, &receipt_prefix)?)
    }

    /// The service catalog: the synced one, or the built-in default before the first sync.
    pub fn catalog(&self) -> Result<Catalog, ApiError> {
        Ok(self.store().catalog()?.into())
    }

    /// The kelurahan profile, once known (it arrives by sync).
    pub fn kelurahan(&self) -> Result<Option<Kelurahan>, ApiError> {
        Ok(self.store().kelurahan()?.map(Into::into))
    }

    /// Replaces the kelurahan profile (it normally arrives by sync; this is for set-up).
    pub fn set_kelurahan(&self, kelurahan: Kelurahan) -> Result<(), ApiError> {
        Ok(self.store().set_kelurahan(&kelurahan.into())?)
    }

    /// Validates a draft and looks for an open request of the same NIK and service (code
    /// `kemungkinan_ganda`). Returns every issue: errors block saving, warnings need the
    /// officer's confirmation. Saves nothing.
    pub fn check_request(&self, draft: RequestDraft) -> Result<Vec<Issue>, ApiError> {
        Ok(self.store().check_request(&draft.into())?.into_iter().map(Into::into).collect())
    }

    /// Validates and saves a request and gives its receipt code. Errors throw
    /// `ApiError.Invalid`; warnings throw `ApiError.NeedsConfirmation` unless `confirmed` is
    /// true. Once this returns, the request survives the app being killed.
    pub fn record_request(&self, draft: RequestDraft, confirmed: bool) -> Result<Recorded, ApiError> {
        Ok(self.store().record_request(&draft.into(), confirmed)?.into())
    }

    /// A request by id.
    pub fn request(&self, id: String) -> Result<Request, ApiError> {
        Ok(self.store().request(&id)?.into())
    }

    /// A request by receipt code as a person typed it (any case, spaces or dashes). A mistyped
    /// code throws `ApiError.Invalid`; an unknown one `ApiError.NotFound`.
    pub fn request_by_receipt(&self, code: String) -> Result<Request, ApiError> {
        Ok(self.store().request_by_receipt(&code)?.into())
    }

    /// A page of requests matching `filter`, newest first.
    pub fn list_requests(&self, filter: RequestFilter, offset: u32, limit: u32) -> Result<Vec<RequestSummary>, ApiError> {
        Ok(self.store().list_requests(&filter.into(), offset, limit)?.into_iter().map(Into::into).collect())
    }

    /// How many requests match `filter`.
    pub fn count_requests(&self, filter: RequestFilter) -> Result<u64, ApiError> {
        Ok(self.store().count_requests(&filter.into())?)
    }

    /// The officer moves a request to a status that is theirs (`Dilengkapi`, `Diserahkan`).
    /// Office statuses throw `ApiError.Forbidden`.
    pub fn set_request_status(&self, id: String, status: Status, reason: Option<String>) -> Result<Request, ApiError> {
        Ok(self.store().set_request_status(&id, status.into(), reason)?.into())
    }

    /// Marks a requirement's document as seen (or not) by the officer.
    pub fn set_document_seen(&self, id: String, requirement_code: String, seen: bool) -> Result<Request, ApiError> {
        Ok(self.store().set_document_seen(&id, &requirement_code, seen)?.into())
    }

    /// Replaces the officer's notes on a request.
    pub fn set_request_notes(&self, id: String, notes: String) -> Result<Request, ApiError> {
        Ok(self.store().set_request_notes(&id, &notes)?.into())
    }

    /// Validates and saves a complaint, aspiration or suggestion; gives its receipt code.
    pub fn record_complaint(&self, draft: ComplaintDraft) -> Result<Recorded, ApiError> {
        Ok(self.store().record_complaint(&draft.into())?.into())
    }

    /// A page of complaints, newest first; only those not closed when `open_only`.
    pub fn list_complaints(&self, open_only: bool, offset: u32, limit: u32) -> Result<Vec<ComplaintSummary>, ApiError> {
        Ok(self.store().list_complaints(open_only, offset, limit)?.into_iter().map(Into::into).collect())
    }

    /// How many records wait to be sent, since when, and a sentence for the officer.
    pub fn sync_health(&self) -> Result<SyncHealth, ApiError> {
        Ok(self.store().sync_health()?.into())
    }

    /// Removes requests handed over or rejected, and complaints closed, more than
    /// `retention_days` days ago.
    pub fn purge_expired(&self, retention_days: u32) -> Result<PurgeReport, ApiError> {
        Ok(self.store().purge_expired(retention_days)?.into())
    }

    /// Every change the hub is not known to have, as a bundle file to hand over without signal.
    /// The records stay unsent until a sync confirms them.
    pub fn export_bundle(&self) -> Result<Vec<u8>, ApiError> {
        Ok(self.store().export_bundle()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{Address, Applicant, ComplaintCategory, Place, Severity, Sex};

    fn draft(nik: &str) -> RequestDraft {
        RequestDraft {
            service_code: "sktm".into(),
            applicant: Applicant {
                name: "Siti Aminah".into(),
                nik: nik.into(),
                kk: "3576020101150003".into(),
                birth_place: "Mojokerto".into(),
                birth_date: "1990-05-04".into(),
                sex: Sex::Perempuan,
                address: Address { street: "Jl. Balongsari Gg. 3 No. 12".into(), rt: 3, rw: 5 },
                phone: Some("0812-3456-7890".into()),
                uses_whatsapp: true,
            },
            documents_seen: vec!["ktp".into(), "kk".into(), "surat_pernyataan_tidak_mampu".into()],
            fields: [("keperluan".to_string(), "Keringanan biaya berobat".to_string())].into(),
            notes: String::new(),
        }
    }

    #[test]
    fn delegates_to_the_core_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jemput.db").to_string_lossy().into_owned();
        let key = vec![7u8; 32];
        let store = JemputStore::open(path.clone(), key.clone()).unwrap();
        store.set_enrolment("petugas-1".into(), "K7QM".into()).unwrap();
        assert!(store.catalog().unwrap().services.iter().any(|s| s.code == "sktm"));
        assert!(store.check_request(draft("3576024405900001")).unwrap().is_empty());
        let rec = store.record_request(draft("3576024405900001"), false).unwrap();
        assert!(rec.receipt.starts_with("K7QM-"));
        assert_eq!(store.request_by_receipt(rec.receipt.to_lowercase()).unwrap().id, rec.id);
        let dup = store.check_request(draft("3576024405900001")).unwrap();
        assert_eq!(dup.iter().map(|i| (i.code.as_str(), i.severity)).collect::<Vec<_>>(), [("kemungkinan_ganda", Severity::Warning)]);
        match store.record_request(draft("3576024405900001"), false) {
            Err(ApiError::NeedsConfirmation { issues, .. }) => assert_eq!(issues[0].code, "kemungkinan_ganda"),
            other => panic!("{other:?}"),
        }
        assert_eq!(store.count_requests(RequestFilter { rw: Some(5), ..Default::default() }).unwrap(), 1);
        assert_eq!(store.count_requests(RequestFilter { rw: Some(6), ..Default::default() }).unwrap(), 0);
        let c = store
            .record_complaint(ComplaintDraft {
                category: ComplaintCategory::Pengaduan,
                topic: "Jalan rusak".into(),
                text: "Jalan berlubang di depan musala".into(),
                place: Place { rt: 3, rw: 5, description: "Depan musala".into() },
                reporter: None,
            })
            .unwrap();
        assert_eq!(store.list_complaints(true, 0, 10).unwrap()[0].id, c.id);
        assert_eq!(store.sync_health().unwrap().unsent_requests, 1);
        assert!(!store.export_bundle().unwrap().is_empty());
        drop(store);

        match JemputStore::open(path.clone(), vec![8u8; 32]) {
            Err(e @ ApiError::WrongKey { .. }) => assert_eq!(e.code(), "kunci_salah"),
            other => panic!("{other:?}"),
        }
        match JemputStore::open(path.clone(), vec![7u8; 16]) {
            Err(e) => assert_eq!(e.code(), "kunci_tidak_valid"),
            Ok(_) => panic!("a 16-byte key must be refused"),
        }
        assert_eq!(JemputStore::open(path, key).unwrap().count_requests(RequestFilter::default()).unwrap(), 1);
    }
}
