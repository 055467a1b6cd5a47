//! [`JemputStore`]: the encrypted offline store on the officer's phone, as one UniFFI object.
//! Every method locks the store and delegates to [`jemput_core::Store`]; what is done here is
//! reshaping a few results for a screen ([`crate::views`]), converting errors, and starting
//! enrolment and sync on the library's runtime ([`crate::sync`]).

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};

use jemput_core::catalog::Catalog;
use jemput_core::complaint::ComplaintDraft;
use jemput_core::kelurahan::Kelurahan;
use jemput_core::store::index::{ComplaintSummary, RequestFilter, RequestSummary};
use jemput_core::store::{Identity, PurgeReport, Recorded};
use jemput_core::sync::bundle::Bundle;
use jemput_core::sync::client::SyncSummary;
use jemput_core::sync::device::SyncHealth;
use jemput_core::{Issue, RequestDraft, Status};
use zeroize::Zeroize;

use crate::error::ApiError;
use crate::sync::{HubTransport, SyncListener, SyncTask};
use crate::views::{ComplaintDetail, EnrolmentInfo, RequestDetail, StatusCount};

/// Where the app keeps the database key (on Android: generated once, wrapped by an Android
/// Keystore key that does not depend on biometrics or the lock screen). The library asks for it
/// once, when the store opens.
#[uniffi::export(with_foreign)]
pub trait KeyProvider: Send + Sync {
    /// The 32-byte database key. `create` is true only when the database file does not exist
    /// yet: make a new key, keep it, and return it. When `create` is false, return the kept key,
    /// or `None` when it is lost (the store then refuses to open; it never starts empty over
    /// the old data).
    fn database_key(&self, create: bool) -> Result<Option<Vec<u8>>, ApiError>;
}

/// The device's encrypted store of requests and complaints. Open one per database file and
/// share it; calls from several threads are serialised. Calls block on disk I/O: make them off
/// the main thread.
#[derive(uniffi::Object)]
pub struct JemputStore {
    inner: Arc<Mutex<jemput_core::Store>>,
    syncing: Arc<AtomicBool>,
    transport: Mutex<Option<Arc<dyn HubTransport>>>,
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

    /// The app's HTTP transport, or the refusal to enrol or sync without one.
    fn transport(&self) -> Result<Arc<dyn HubTransport>, ApiError> {
        self.transport
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| ApiError::sync("transport_belum_dipasang", "Aplikasi belum menyiapkan koneksi ke server kelurahan"))
    }

    fn detail(&self, request: jemput_core::Request) -> Result<RequestDetail, ApiError> {
        let refusal = self.store().sync_refusal(&request.id)?;
        Ok(RequestDetail { status: request.status(), status_reason: request.status_reason().map(str::to_string), refusal, request })
    }
}

#[uniffi::export]
impl JemputStore {
    /// Opens (or creates) the store at `path`, asking `keys` for the database key (see
    /// [`KeyProvider`]). A wrong key throws `ApiError.WrongKey` with code `kunci_salah`, a lost
    /// one `kunci_hilang`, a provider that failed `kunci_tidak_tersedia`; the database is left
    /// untouched in every case.
    #[uniffi::constructor]
    pub fn open(path: String, keys: Arc<dyn KeyProvider>) -> Result<Arc<Self>, ApiError> {
        let create = !std::path::Path::new(&path).exists();
        match keys.database_key(create)? {
            Some(key) => JemputStore::open_with_key(path, key),
            None => Err(ApiError::WrongKey {
                code: "kunci_hilang".into(),
                detail: "Kunci enkripsi data di HP ini hilang; data lama tidak dapat dibuka dan tidak diubah".into(),
            }),
        }
    }

    /// Opens (or creates) the store at `path` with a 256-bit key (32 bytes). A wrong key throws
    /// `ApiError.WrongKey` with code `kunci_salah` and leaves the database untouched; a key that
    /// is not 32 bytes throws `ApiError.WrongKey` with code `kunci_tidak_valid`.
    #[uniffi::constructor]
    pub fn open_with_key(path: String, mut key: Vec<u8>) -> Result<Arc<Self>, ApiError> {
        let store_key = jemput_core::StoreKey::from_slice(&key);
        key.zeroize();
        let store_key = store_key.ok_or_else(ApiError::bad_key_length)?;
        let store = jemput_core::Store::open(&path, &store_key)?;
        Ok(Arc::new(JemputStore {
            inner: Arc::new(Mutex::new(store)),
            syncing: Arc::new(AtomicBool::new(false)),
            transport: Mutex::new(None),
        }))
    }

    /// Gives the store the app's HTTP client (see [`HubTransport`]), through which enrolment
    /// and every sync talk to the hub. Set it once after opening the store; a later call
    /// replaces it for the next enrolment or sync. Without it they throw `ApiError.Sync` with
    /// code `transport_belum_dipasang`.
    pub fn set_transport(&self, transport: Arc<dyn HubTransport>) {
        *self.transport.lock().unwrap_or_else(|e| e.into_inner()) = Some(transport);
    }

    /// This device's identity: its id, the officer it is enrolled for and its receipt prefix.
    pub fn identity(&self) -> Result<Identity, ApiError> {
        Ok(self.store().identity()?)
    }

    /// The enrolment (officer, scope, hub), or `None` before the phone is enrolled.
    pub fn enrolment(&self) -> Result<Option<EnrolmentInfo>, ApiError> {
        let s = self.store();
        let (Some(link), id) = (s.hub_link()?, s.identity()?) else { return Ok(None) };
        Ok(Some(EnrolmentInfo {
            officer_id: id.officer_id.unwrap_or_default(),
            officer_name: link.officer_name,
            receipt_prefix: id.receipt_prefix,
            rw: link.rw,
            rt: link.rt,
            hub_url: link.hub_url,
            device_id: id.device_id,
        }))
    }

    /// Enrols this phone from the hub's QR code (`jemput://enroll?hub=…&code=…[&sha256=…]`):
    /// redeems the one-time code, pinning the hub's certificate when the code carries its
    /// fingerprint. The device token stays inside the encrypted store.
    pub async fn enroll(self: Arc<Self>, qr_payload: String, device_name: String) -> Result<EnrolmentInfo, ApiError> {
        let qr = crate::sync::parse_enrolment_qr(qr_payload)?;
        self.enroll_with_code(qr.hub_url, qr.code, qr.cert_sha256, device_name).await
    }

    /// Enrols this phone with a typed code: the hub's address, the one-time code, and the
    /// hub certificate's SHA-256 fingerprint for a self-signed hub (`None`: ordinary
    /// certificate verification).
    pub async fn enroll_with_code(
        self: Arc<Self>,
        hub_url: String,
        code: String,
        cert_sha256: Option<String>,
        device_name: String,
    ) -> Result<EnrolmentInfo, ApiError> {
        let transport = self.transport()?;
        crate::sync::enroll(self.inner.clone(), transport, hub_url, code.trim().to_string(), cert_sha256, device_name).await?;
        self.enrolment()?.ok_or_else(|| ApiError::sync("jawaban_rusak", "Jawaban server rusak"))
    }

    /// Starts a sync with the hub now, on the library's runtime, and gives its handle.
    /// `listener` (if any) hears the progress. Throws `ApiError.Sync` with code
    /// `sinkron_sedang_berjalan` while another sync of this store runs.
    pub fn start_sync(&self, listener: Option<Arc<dyn SyncListener>>) -> Result<Arc<SyncTask>, ApiError> {
        SyncTask::start(self.inner.clone(), self.transport()?, self.syncing.clone(), listener)
    }

    /// Syncs with the hub and gives the outcome (a Kotlin `suspend` call: cancelling the
    /// coroutine cancels the sync).
    pub async fn sync(&self, listener: Option<Arc<dyn SyncListener>>) -> Result<SyncSummary, ApiError> {
        let task = self.start_sync(listener)?;
        let mut cancel_if_dropped = CancelOnDrop(Some(task.clone()));
        let outcome = task.wait().await;
        cancel_if_dropped.0 = None;
        outcome
    }

    /// Records the enrolment: the officer and the 4-character receipt prefix the hub allocated.
    /// Until then the device uses a random prefix. (Enrolling through [`JemputStore::enroll`]
    /// does this itself.)
    pub fn set_enrolment(&self, officer_id: String, receipt_prefix: String) -> Result<(), ApiError> {
        Ok(self.store().set_enrolment(&officer_id, &receipt_prefix)?)
    }

    /// The service catalog: the synced one, or the built-in default before the first sync.
    pub fn catalog(&self) -> Result<Catalog, ApiError> {
        Ok(self.store().catalog()?)
    }

    /// The kelurahan profile, once known (it arrives by sync).
    pub fn kelurahan(&self) -> Result<Option<Kelurahan>, ApiError> {
        Ok(self.store().kelurahan()?)
    }

    /// Replaces the kelurahan profile (it normally arrives by sync; this is for set-up).
    pub fn set_kelurahan(&self, kelurahan: Kelurahan) -> Result<(), ApiError> {
        Ok(self.store().set_kelurahan(&kelurahan)?)
    }

    /// Validates a draft and looks for an open request of the same NIK and service (code
    /// `kemungkinan_ganda`). Returns every issue: errors block saving, warnings need the
    /// officer's confirmation. Saves nothing.
    pub fn check_request(&self, draft: RequestDraft) -> Result<Vec<Issue>, ApiError> {
        Ok(self.store().check_request(&draft)?)
    }

    /// Validates and saves a request and gives its receipt code. Errors throw
    /// `ApiError.Invalid`; warnings throw `ApiError.NeedsConfirmation` unless `confirmed` is
    /// true. Once this returns, the request survives the app being killed.
    pub fn record_request(&self, draft: RequestDraft, confirmed: bool) -> Result<Recorded, ApiError> {
        Ok(self.store().record_request(&draft, confirmed)?)
    }

    /// A request by id, for its detail screen.
    pub fn request(&self, id: String) -> Result<RequestDetail, ApiError> {
        let r = self.store().request(&id)?;
        self.detail(r)
    }

    /// A request by receipt code as a person typed it (any case, spaces or dashes). A mistyped
    /// code throws `ApiError.Invalid`; an unknown one `ApiError.NotFound`.
    pub fn request_by_receipt(&self, code: String) -> Result<RequestDetail, ApiError> {
        let r = self.store().request_by_receipt(&code)?;
        self.detail(r)
    }

    /// A page of requests matching `filter`, newest first.
    pub fn list_requests(&self, filter: RequestFilter, offset: u32, limit: u32) -> Result<Vec<RequestSummary>, ApiError> {
        Ok(self.store().list_requests(&filter, offset, limit)?)
    }

    /// How many requests match `filter`.
    pub fn count_requests(&self, filter: RequestFilter) -> Result<u64, ApiError> {
        Ok(self.store().count_requests(&filter)?)
    }

    /// How many requests have each status, every status in life order (home screen).
    pub fn status_counts(&self) -> Result<Vec<StatusCount>, ApiError> {
        let s = self.store();
        Status::ALL
            .iter()
            .map(|&status| {
                let count = s.count_requests(&RequestFilter { status: Some(status), ..Default::default() })?;
                Ok(StatusCount { status, count })
            })
            .collect()
    }

    /// The officer moves a request to a status that is theirs (`Dilengkapi`, `Diserahkan`).
    /// Office statuses throw `ApiError.Forbidden`.
    pub fn set_request_status(&self, id: String, status: Status, reason: Option<String>) -> Result<RequestDetail, ApiError> {
        let r = self.store().set_request_status(&id, status, reason)?;
        self.detail(r)
    }

    /// The finished letter was handed to the resident (status `Diserahkan`, only from
    /// `Selesai`).
    pub fn mark_handed_over(&self, id: String) -> Result<RequestDetail, ApiError> {
        self.set_request_status(id, Status::Diserahkan, None)
    }

    /// Marks a requirement's document as seen (or not) by the officer.
    pub fn set_document_seen(&self, id: String, requirement_code: String, seen: bool) -> Result<RequestDetail, ApiError> {
        let r = self.store().set_document_seen(&id, &requirement_code, seen)?;
        self.detail(r)
    }

    /// Replaces the officer's notes on a request.
    pub fn set_request_notes(&self, id: String, notes: String) -> Result<RequestDetail, ApiError> {
        let r = self.store().set_request_notes(&id, &notes)?;
        self.detail(r)
    }

    /// Validates and saves a complaint, aspiration or suggestion; gives its receipt code.
    pub fn record_complaint(&self, draft: ComplaintDraft) -> Result<Recorded, ApiError> {
        Ok(self.store().record_complaint(&draft)?)
    }

    /// A complaint by id, with the office's latest answer.
    pub fn complaint(&self, id: String) -> Result<ComplaintDetail, ApiError> {
        let s = self.store();
        let c = s.complaint(&id)?;
        let refusal = s.sync_refusal(&c.id)?;
        Ok(ComplaintDetail { status: c.status(), latest_response: c.latest_response().map(str::to_string), refusal, complaint: c })
    }

    /// A page of complaints, newest first; only those not closed when `open_only`.
    pub fn list_complaints(&self, open_only: bool, offset: u32, limit: u32) -> Result<Vec<ComplaintSummary>, ApiError> {
        Ok(self.store().list_complaints(open_only, offset, limit)?)
    }

    /// How many records wait to be sent, since when, and a sentence for the officer.
    pub fn sync_health(&self) -> Result<SyncHealth, ApiError> {
        Ok(self.store().sync_health()?)
    }

    /// Replaces the database key with `new_key` (32 bytes): everything is sealed again under it
    /// in one transaction (ADR 0015). Keep the new key as pending in the key store *before*
    /// calling, and the old one until this returns; then make the new one current. Cut short,
    /// the database stays whole under the old key (opening it with the new key then throws
    /// `kunci_salah`: use the old one and call again).
    pub fn rotate_key(&self, mut new_key: Vec<u8>) -> Result<(), ApiError> {
        let key = jemput_core::StoreKey::from_slice(&new_key);
        new_key.zeroize();
        let key = key.ok_or_else(ApiError::bad_key_length)?;
        Ok(self.store().rotate_key(&key)?)
    }

    /// Removes requests handed over or rejected, and complaints closed, more than
    /// `retention_days` days ago.
    pub fn purge_expired(&self, retention_days: u32) -> Result<PurgeReport, ApiError> {
        Ok(self.store().purge_expired(retention_days)?)
    }

    /// Every change the hub is not known to have, as a bundle file to hand over without signal.
    /// The records stay unsent until a sync confirms them.
    pub fn export_bundle(&self) -> Result<Vec<u8>, ApiError> {
        Ok(self.store().export_bundle()?)
    }

    /// Keeps a colleague's bundle file (encrypted) to forward to the hub at this phone's next
    /// sync; gives the number of records in it. Keeping the same file twice keeps it once. A
    /// damaged file, or this phone's own bundle, throws `ApiError.Invalid`.
    pub fn import_bundle(&self, bytes: Vec<u8>) -> Result<u32, ApiError> {
        let mut s = self.store();
        if let Ok(b) = Bundle::decode(&bytes) {
            if b.device_id == s.identity()?.device_id {
                return Err(jemput_core::Error::Invalid(vec![Issue::error(
                    "bundle",
                    "bundel_sendiri",
                    "Bundel ini dibuat oleh HP ini sendiri; kirimkan ke HP lain atau ke kantor kelurahan",
                )])
                .into());
            }
        }
        Ok(s.keep_bundle_for_relay(&bytes)? as u32)
    }

    /// Colleagues' bundles waiting to be forwarded at the next sync.
    pub fn relay_waiting(&self) -> Result<u32, ApiError> {
        Ok(self.store().relay_bundles()?.len() as u32)
    }
}

/// Cancels a sync when the Kotlin coroutine waiting for it is cancelled (its future dropped).
struct CancelOnDrop(Option<Arc<SyncTask>>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(task) = &self.0 {
            task.cancel();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jemput_core::complaint::{ComplaintCategory, Place};
    use jemput_core::Severity;

    /// The shared "Siti Aminah" draft, with every SKTM requirement of the default catalog seen.
    fn draft(nik: &str) -> RequestDraft {
        let mut d = jemput_core::test_support::draft("Siti Aminah", nik);
        d.documents_seen.push("surat_pernyataan_tidak_mampu".into());
        d
    }

    #[test]
    fn delegates_to_the_core_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jemput.db").to_string_lossy().into_owned();
        let key = vec![7u8; 32];
        let store = JemputStore::open_with_key(path.clone(), key.clone()).unwrap();
        store.set_enrolment("petugas-1".into(), "K7QM".into()).unwrap();
        assert!(store.catalog().unwrap().services.iter().any(|s| s.code == "sktm"));
        assert!(store.check_request(draft("3576024405900001")).unwrap().is_empty());
        let rec = store.record_request(draft("3576024405900001"), false).unwrap();
        assert!(rec.receipt.starts_with("K7QM-"));
        assert_eq!(store.request_by_receipt(rec.receipt.to_lowercase()).unwrap().request.id, rec.id);
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

        match JemputStore::open_with_key(path.clone(), vec![8u8; 32]) {
            Err(e @ ApiError::WrongKey { .. }) => assert_eq!(e.code(), "kunci_salah"),
            other => panic!("{other:?}"),
        }
        match JemputStore::open_with_key(path.clone(), vec![7u8; 16]) {
            Err(e) => assert_eq!(e.code(), "kunci_tidak_valid"),
            Ok(_) => panic!("a 16-byte key must be refused"),
        }
        assert_eq!(JemputStore::open_with_key(path, key).unwrap().count_requests(RequestFilter::default()).unwrap(), 1);
    }

    #[test]
    fn rotates_the_key_through_the_core_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jemput.db").to_string_lossy().into_owned();
        let store = JemputStore::open_with_key(path.clone(), vec![7u8; 32]).unwrap();
        let rec = store.record_request(draft("3576024405900001"), false).unwrap();
        match store.rotate_key(vec![9u8; 16]) {
            Err(e) => assert_eq!(e.code(), "kunci_tidak_valid"),
            Ok(()) => panic!("a 16-byte key must be refused"),
        }
        store.rotate_key(vec![9u8; 32]).unwrap();
        assert_eq!(store.request_by_receipt(rec.receipt.clone()).unwrap().request.id, rec.id, "the open store carries on");
        drop(store);
        match JemputStore::open_with_key(path.clone(), vec![7u8; 32]) {
            Err(e @ ApiError::WrongKey { .. }) => assert_eq!(e.code(), "kunci_salah"),
            other => panic!("the old key must stop working: {other:?}"),
        }
        let store = JemputStore::open_with_key(path, vec![9u8; 32]).unwrap();
        assert_eq!(store.request_by_receipt(rec.receipt).unwrap().request.applicant.name, "Siti Aminah");
    }
}
