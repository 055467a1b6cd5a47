//! Setting a hub up: the data key file, the kelurahan profile and the default catalog as
//! documents every device receives, and the staff token.

use std::path::Path;

use jemput_core::crypto::{Cipher, MasterKey};
use jemput_core::document::{self, DocKind};
use jemput_core::sync::hub_side::Placement;
use jemput_core::{Catalog, Kelurahan};

use crate::error::ServiceError;
use crate::service;
use crate::storage::{HubDb, HubTx};

/// Reads the 32-byte data key from `path`, creating it (mode 0600) if it does not exist.
pub fn load_or_create_key(path: &Path) -> Result<MasterKey, ServiceError> {
    if path.exists() {
        return read_key(path);
    }
    let key = MasterKey::generate();
    write_new_key_file(path, &key)?;
    Ok(key)
}

/// Reads the 32-byte key file `path` (never creates it).
pub fn read_key(path: &Path) -> Result<MasterKey, ServiceError> {
    let b = std::fs::read(path).map_err(|e| ServiceError::Config(format!("tidak dapat membaca kunci {}: {e}", path.display())))?;
    MasterKey::from_slice(&b).ok_or_else(|| ServiceError::Config(format!("berkas kunci {} harus berisi tepat 32 bita", path.display())))
}

/// Writes a new key file, readable by its owner only from its first byte (never written first
/// and restricted afterwards), never over an existing file (one that appeared meanwhile), and
/// durable (the file and its directory synced) before it returns.
pub fn write_new_key_file(path: &Path, key: &MasterKey) -> Result<(), ServiceError> {
    let fail = |e: std::io::Error| ServiceError::Config(format!("tidak dapat menulis kunci {}: {e}", path.display()));
    let mut file = crate::storage::backup::create_owner_only(path).map_err(fail)?;
    std::io::Write::write_all(&mut file, key.as_bytes()).map_err(fail)?;
    file.sync_all().map_err(fail)?;
    sync_dir(path).map_err(fail)
}

/// Makes a file's creation or renaming in its directory durable.
pub fn sync_dir(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Stores the kelurahan profile and the catalog (as documents every device receives) and
/// creates the first staff account; returns its token (shown once). A hub is set up once:
/// running it again is refused, so devices never see their profile replaced by an unrelated
/// document.
pub fn init(db: &HubDb, kelurahan: &Kelurahan, catalog: &Catalog) -> Result<String, ServiceError> {
    db.with(|tx, cipher| {
        if tx.sealed_doc("kelurahan", true)?.is_some() {
            return Err(ServiceError::Config("hub ini sudah dibuat; tambah akun staf dengan `jemput-hub staff add NAMA`".into()));
        }
        let actor = service::hub_actor(tx)?;
        let mut k = document::create(kelurahan, &actor).map_err(|_| ServiceError::Internal)?;
        service::put_doc_from(tx, cipher, "kelurahan", &mut k, &Placement::everyone(DocKind::Kelurahan))?;
        let mut cat = document::create(catalog, &actor).map_err(|_| ServiceError::Internal)?;
        service::put_doc_from(tx, cipher, "catalog", &mut cat, &Placement::everyone(DocKind::Catalog))?;
        let (_, token) = service::add_staff(tx, "Admin kelurahan")?;
        service::audit(tx, "sistem", "inisialisasi", None)?;
        Ok(token)
    })
}

/// The payload of the enrolment QR code: the hub's address and the one-time code.
pub fn qr_payload(hub_url: &str, code: &str) -> String {
    qr_payload_pinned(hub_url, code, None)
}

/// The payload of the enrolment QR code, with the SHA-256 fingerprint of a self-signed hub
/// certificate (`sha256=`, 64 hex digits) that the phone pins.
pub fn qr_payload_pinned(hub_url: &str, code: &str, cert_sha256: Option<&str>) -> String {
    let mut u = url::Url::parse("jemput://enroll").expect("static URL");
    u.query_pairs_mut().append_pair("hub", hub_url).append_pair("code", code);
    if let Some(pin) = cert_sha256 {
        u.query_pairs_mut().append_pair("sha256", pin);
    }
    u.to_string()
}

/// The fingerprint phones pin for the hub's own certificate file, when that file holds a single
/// certificate (self-signed, no chain). A file with a chain (Let's Encrypt's `fullchain.pem`)
/// gives `None`: phones verify it the ordinary way, so renewals never lock them out.
pub fn pin_of_cert_file(path: &std::path::Path) -> Option<String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path).ok()?.collect::<Result<_, _>>().ok()?;
    match certs.as_slice() {
        [one] => Some(jemput_core::sync::tls::CertPin::of_certificate(one.as_ref()).to_hex()),
        _ => None,
    }
}

/// Replaces the service catalog with `catalog` (a staff edit): the change is merged into the
/// catalog document every device holds, so phones receive only what changed.
pub fn update_catalog(db: &HubDb, catalog: &Catalog) -> Result<(), ServiceError> {
    db.with(|tx, cipher| update_catalog_in(tx, cipher, catalog, "sistem")).map(|_| ())
}

/// [`update_catalog`] inside a transaction, audited once as `by` (e.g. `staf:ID`). Returns
/// whether the catalog changed.
pub fn update_catalog_in(tx: &mut dyn HubTx, cipher: &Cipher, catalog: &Catalog, by: &str) -> Result<bool, ServiceError> {
    let mut doc =
        service::load_doc(tx, cipher, "catalog", true)?.ok_or(ServiceError::Config("katalog belum dibuat; jalankan init".into()))?;
    doc.set_actor(service::hub_actor(tx)?);
    if document::update(&mut doc, catalog).map_err(|_| ServiceError::Internal)? {
        service::put_doc_from(tx, cipher, "catalog", &mut doc, &Placement::everyone(DocKind::Catalog))?;
        service::audit(tx, by, "ubah_katalog", Some("catalog"))?;
        return Ok(true);
    }
    Ok(false)
}

/// Checks at start-up whether the hub was set up (`init`, or the first set-up in the browser):
/// `Ok(true)` when its kelurahan profile and catalog exist and can be read, `Ok(false)` when
/// neither exists yet (the dashboard then offers only the first set-up, `/siapkan`). One
/// without the other, or one that cannot be read, is refused now rather than failing every
/// request later.
pub fn check_ready(db: &HubDb) -> Result<bool, ServiceError> {
    let nothing_yet = db.with(|tx, _| -> Result<bool, ServiceError> {
        Ok(tx.sealed_doc("kelurahan", false)?.is_none() && tx.sealed_doc("catalog", false)?.is_none())
    })?;
    if nothing_yet {
        return Ok(false);
    }
    db.with(|tx, cipher| {
        for (doc_id, what) in [("kelurahan", "profil kelurahan"), ("catalog", "katalog layanan")] {
            let doc = service::load_doc(tx, cipher, doc_id, false)?
                .ok_or_else(|| ServiceError::Config(format!("{what} belum dibuat; jalankan `jemput-hub init` dulu")))?;
            let readable = match doc_id {
                "kelurahan" => document::read::<Kelurahan>(&doc).is_ok(),
                _ => document::read::<Catalog>(&doc).is_ok(),
            };
            if !readable {
                return Err(ServiceError::Config(format!("{what} di basis data rusak")));
            }
        }
        Ok(true)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_is_created_owner_only_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hub.key");
        let key = load_or_create_key(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert_eq!(std::fs::read(&path).unwrap(), key.as_bytes().to_vec());
        assert_eq!(load_or_create_key(&path).unwrap().as_bytes(), key.as_bytes(), "the same key next time");
        std::fs::write(&path, b"pendek").unwrap();
        assert!(matches!(load_or_create_key(&path), Err(ServiceError::Config(_))));
    }
}
