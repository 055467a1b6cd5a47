//! The hub's record keeping over any storage back end ([`HubTx`]): documents sealed under the
//! hub's data key, what each device is known to hold, officers, enrolment codes and devices,
//! staff accounts, and the audit log. Only hashes of tokens and codes are stored.

use automerge::{AutoCommit, ChangeHash};
use jemput_core::crypto::Cipher;
use jemput_core::permissions::Scope;
use jemput_core::sync::hub_side::Placement;

use crate::error::AppError;
pub use crate::storage::{DeviceRow, DocFilter, HubDb, HubTx, Officer, StaffAccount};
use crate::storage::{DocPlace, NewDevice, SealedFull};

/// An enrolled device, as the sync exchange needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Device id.
    pub id: String,
    /// Officer id.
    pub officer_id: String,
    /// Scope.
    pub scope: Scope,
    /// Automerge actor ids bound to it (hex).
    pub actors: Vec<String>,
    /// Whether it was revoked.
    pub revoked: bool,
}

fn now() -> i64 {
    jemput_core::time_util::now_ms()
}

/// A keyed hash of a secret (token or enrolment code); only hashes are stored.
pub fn secret_hash(secret: &str) -> Vec<u8> {
    blake3::derive_key("jemput 2026 hub token", secret.trim().to_ascii_uppercase().as_bytes()).to_vec()
}

/// A random secret of `n` characters from the receipt alphabet (readable, no 0/O/1/I/L).
pub fn random_secret(n: usize) -> String {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).expect("the OS random source works");
    b.iter().map(|x| jemput_core::receipt::ALPHABET[(*x as usize) % 31] as char).collect()
}

fn heads_bytes(h: &[ChangeHash]) -> Vec<u8> {
    h.iter().flat_map(|x| x.0).collect()
}

fn bytes_heads(b: &[u8]) -> Vec<ChangeHash> {
    b.chunks_exact(32).filter_map(|c| c.try_into().ok().map(ChangeHash)).collect()
}

/// The hub's own Automerge actor (for its stamps and staff edits).
pub fn hub_actor(tx: &mut dyn HubTx) -> Result<automerge::ActorId, AppError> {
    let b = tx.meta("actor")?.ok_or(AppError::Internal)?;
    Ok(automerge::ActorId::from(b.as_slice()))
}

/// Loads a stored document; `for_update` locks it until the transaction ends (use it before
/// changing the document).
pub fn load_doc(tx: &mut dyn HubTx, cipher: &Cipher, doc_id: &str, for_update: bool) -> Result<Option<AutoCommit>, AppError> {
    match load_doc_bytes(tx, cipher, doc_id, for_update)? {
        None => Ok(None),
        Some(bytes) => Ok(Some(AutoCommit::load(&bytes).map_err(|_| AppError::Internal)?)),
    }
}

/// A stored document's bytes (opened, not decoded).
pub fn load_doc_bytes(tx: &mut dyn HubTx, cipher: &Cipher, doc_id: &str, for_update: bool) -> Result<Option<Vec<u8>>, AppError> {
    match tx.sealed_doc(doc_id, for_update)? {
        None => Ok(None),
        Some(s) => Ok(Some(cipher.open(format!("hubdoc:{doc_id}").as_bytes(), &s).map_err(|_| AppError::Internal)?)),
    }
}

/// A version of a document to store: its `save()` bytes and the message carrying all its
/// changes with its heads (what a device that has none of it is sent, without decoding).
pub struct DocVersion<'a> {
    /// `save()` bytes.
    pub bytes: &'a [u8],
    /// [`jemput_core::sync::peer::exact_message`] from nothing.
    pub full_message: &'a [u8],
    /// The document's heads.
    pub heads: &'a [ChangeHash],
}

/// Stores a document (sealed) under its placement and appends it to the change log; returns
/// the new sequence number.
pub fn put_doc(tx: &mut dyn HubTx, cipher: &Cipher, doc_id: &str, v: &DocVersion<'_>, place: &Placement) -> Result<i64, AppError> {
    let sealed = cipher.seal(format!("hubdoc:{doc_id}").as_bytes(), v.bytes);
    let full = SealedFull { message: cipher.seal(format!("hubfull:{doc_id}").as_bytes(), v.full_message), heads: heads_bytes(v.heads) };
    let kind = place.kind.code();
    let row = DocPlace { kind, rw: place.rw, rt: place.rt, status: place.status.as_deref(), receipt: place.receipt.as_deref() };
    tx.put_sealed_doc(doc_id, &row, &sealed, &full)
}

/// Stores a document the hub holds decoded (see [`put_doc`]).
pub fn put_doc_from(tx: &mut dyn HubTx, cipher: &Cipher, doc_id: &str, doc: &mut AutoCommit, place: &Placement) -> Result<i64, AppError> {
    let full = jemput_core::sync::peer::exact_message(doc, &[]).unwrap_or_default();
    put_doc(tx, cipher, doc_id, &DocVersion { bytes: &doc.save(), full_message: &full, heads: &doc.get_heads() }, place)
}

/// A document's message carrying all its changes, with its heads.
pub struct FullMessage {
    /// The message (opened).
    pub message: Vec<u8>,
    /// The document's heads.
    pub heads: Vec<ChangeHash>,
}

/// The message carrying all of a document's changes and its heads, without decoding it; none
/// for a document stored before schema v3 (the caller then decodes it).
pub fn full_message(tx: &mut dyn HubTx, cipher: &Cipher, doc_id: &str) -> Result<Option<FullMessage>, AppError> {
    match tx.sealed_full(doc_id)? {
        None => Ok(None),
        Some(f) => {
            let message = cipher.open(format!("hubfull:{doc_id}").as_bytes(), &f.message).map_err(|_| AppError::Internal)?;
            Ok(Some(FullMessage { message, heads: bytes_heads(&f.heads) }))
        }
    }
}

/// What the hub knows a device has of a document. Heads sent in an earlier answer count once
/// the device's cursor shows it applied that answer (`cursor` ≥ the answer's cursor); an answer
/// lost on the way leaves the older heads, so the changes are sent again.
pub fn known_heads(tx: &mut dyn HubTx, device_id: &str, doc_id: &str, cursor: u64) -> Result<Vec<ChangeHash>, AppError> {
    known_heads_as(tx, device_id, doc_id, cursor, true)
}

/// [`known_heads`] without recording anything (for checks prepared outside the write
/// transaction).
pub fn known_heads_peek(tx: &mut dyn HubTx, device_id: &str, doc_id: &str, cursor: u64) -> Result<Vec<ChangeHash>, AppError> {
    known_heads_as(tx, device_id, doc_id, cursor, false)
}

fn known_heads_as(tx: &mut dyn HubTx, device_id: &str, doc_id: &str, cursor: u64, promote: bool) -> Result<Vec<ChangeHash>, AppError> {
    Ok(match tx.known(device_id, doc_id)? {
        None => Vec::new(),
        Some(k) => match k.pending {
            Some((p, pc)) if cursor as i64 >= pc => {
                if promote {
                    tx.promote_pending(device_id, doc_id, &p)?;
                }
                bytes_heads(&p)
            }
            _ => bytes_heads(&k.heads),
        },
    })
}

/// Records heads sent to a device in an answer with cursor `cursor`.
pub fn set_pending_heads(tx: &mut dyn HubTx, device_id: &str, doc_id: &str, heads: &[ChangeHash], cursor: u64) -> Result<(), AppError> {
    tx.set_pending(device_id, doc_id, &heads_bytes(heads), cursor as i64)
}

/// Records what a device has of a document.
pub fn set_known_heads(tx: &mut dyn HubTx, device_id: &str, doc_id: &str, heads: &[ChangeHash]) -> Result<(), AppError> {
    tx.set_known(device_id, doc_id, &heads_bytes(heads))
}

/// Appends to the audit log (UU PDP: who saw and changed what).
pub fn audit(tx: &mut dyn HubTx, actor: &str, action: &str, doc_id: Option<&str>) -> Result<(), AppError> {
    tx.audit(now(), actor, action, doc_id)
}

/// Adds an officer with a scope (audited as "sistem": the command line, the demo).
pub fn add_officer(tx: &mut dyn HubTx, name: &str, scope: Scope) -> Result<Officer, AppError> {
    add_officer_as(tx, name, scope, "sistem")
}

/// Adds an officer with a scope, audited once as `by`.
pub fn add_officer_as(tx: &mut dyn HubTx, name: &str, scope: Scope, by: &str) -> Result<Officer, AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::BadRequest("nama_tidak_valid", "Nama petugas wajib diisi (paling banyak 100 huruf)"));
    }
    if scope.rw == 0 || scope.rt == Some(0) {
        return Err(AppError::BadRequest("wilayah_tidak_valid", "Nomor RW/RT petugas tidak valid"));
    }
    let o =
        Officer { id: format!("petugas-{}", random_secret(6).to_lowercase()), name: name.into(), rw: scope.rw, rt: scope.rt, active: true };
    tx.insert_officer(&o, now())?;
    audit(tx, by, &format!("tambah_petugas:{}", o.id), None)?;
    Ok(o)
}

/// Lists officers.
pub fn officers(tx: &mut dyn HubTx) -> Result<Vec<Officer>, AppError> {
    tx.officers()
}

/// Creates a one-time enrolment code for an officer, valid `hours` hours.
pub fn create_enrol_code(tx: &mut dyn HubTx, officer_id: &str, hours: i64) -> Result<String, AppError> {
    if !tx.officer(officer_id)?.is_some_and(|o| o.active) {
        return Err(AppError::NotFound("petugas tidak ditemukan atau sudah dicabut"));
    }
    if !(1..=24 * 14).contains(&hours) {
        return Err(AppError::BadRequest("masa_berlaku_tidak_valid", "Masa berlaku kode antara 1 jam dan 14 hari"));
    }
    let code = random_secret(10);
    tx.insert_enrol_code(&secret_hash(&code), officer_id, now() + hours * 3_600_000)?;
    Ok(code)
}

/// Revokes an officer and all their devices (audited as "sistem").
pub fn revoke_officer(tx: &mut dyn HubTx, officer_id: &str) -> Result<(), AppError> {
    revoke_officer_as(tx, officer_id, "sistem")
}

/// Revokes an officer and all their devices, audited once as `by`.
pub fn revoke_officer_as(tx: &mut dyn HubTx, officer_id: &str, by: &str) -> Result<(), AppError> {
    if !tx.deactivate_officer(officer_id)? {
        return Err(AppError::NotFound("petugas tidak ditemukan"));
    }
    tx.revoke_devices_of(officer_id, now())?;
    audit(tx, by, &format!("cabut_petugas:{officer_id}"), None)
}

/// The result of enrolling a device.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Enrolled {
    /// New device id.
    pub device_id: String,
    /// The device's secret token (shown once).
    pub token: String,
    /// Officer id.
    pub officer_id: String,
    /// Receipt prefix allocated to the device.
    pub receipt_prefix: String,
    /// Scope RW.
    pub rw: u16,
    /// Scope RT (none = whole RW).
    pub rt: Option<u16>,
}

/// Redeems a one-time enrolment code (atomically: a code works once), binding the device's
/// Automerge actor id.
pub fn enrol(tx: &mut dyn HubTx, code: &str, device_name: &str, actor_hex: &str, device_id: &str) -> Result<Enrolled, AppError> {
    if actor_hex.len() != 32 || !actor_hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::BadRequest("aktor_tidak_valid", "ID aktor perangkat tidak valid"));
    }
    let device_name = device_name.trim();
    if device_name.is_empty() || device_name.chars().count() > 100 {
        return Err(AppError::BadRequest("nama_perangkat_tidak_valid", "Nama perangkat wajib diisi (paling banyak 100 huruf)"));
    }
    let device_id = uuid::Uuid::parse_str(device_id)
        .map_err(|_| AppError::BadRequest("id_perangkat_tidak_valid", "ID perangkat tidak valid"))?
        .to_string();
    let hash = secret_hash(code);
    let Some(ec) = tx.enrol_code(&hash)? else { return Err(AppError::Forbidden("kode_salah", "Kode pendaftaran tidak dikenal")) };
    if ec.used_at.is_some() {
        return Err(AppError::Forbidden("kode_terpakai", "Kode pendaftaran sudah pernah dipakai"));
    }
    if ec.expires_at < now() {
        return Err(AppError::Forbidden("kode_kedaluwarsa", "Kode pendaftaran sudah kedaluwarsa; minta kode baru ke kelurahan"));
    }
    let officer = tx.officer(&ec.officer_id)?.ok_or(AppError::Internal)?;
    if !officer.active {
        return Err(AppError::Forbidden("petugas_dicabut", "Petugas ini sudah tidak aktif"));
    }
    if tx.device_exists(&device_id)? {
        return Err(AppError::Forbidden("perangkat_sudah_terdaftar", "Perangkat ini sudah terdaftar; cabut dulu pendaftaran lamanya"));
    }
    if !tx.use_enrol_code(&hash, now())? {
        return Err(AppError::Forbidden("kode_terpakai", "Kode pendaftaran sudah pernah dipakai"));
    }
    let index = tx.next_prefix_index()?;
    let token = random_secret(32);
    let token_hash = secret_hash(&token);
    tx.insert_device(&NewDevice {
        id: &device_id,
        officer_id: &officer.id,
        name: device_name,
        token_hash: &token_hash,
        prefix_index: index,
        created_at: now(),
    })?;
    tx.bind_actor(&actor_hex.to_ascii_lowercase(), &device_id)?;
    audit(tx, &format!("perangkat:{device_id}"), "daftar_perangkat", None)?;
    let receipt_prefix = jemput_core::receipt::DevicePrefix::from_index(index).as_str().to_string();
    Ok(Enrolled { device_id, token, officer_id: officer.id, receipt_prefix, rw: officer.rw, rt: officer.rt })
}

/// The device a token belongs to.
pub fn device_by_token(tx: &mut dyn HubTx, token: &str) -> Result<Option<Device>, AppError> {
    let row = tx.device_by_token_hash(&secret_hash(token))?;
    with_actors(tx, row)
}

/// A device row with the actor ids bound to it.
fn with_actors(tx: &mut dyn HubTx, row: Option<DeviceRow>) -> Result<Option<Device>, AppError> {
    let Some(row) = row else { return Ok(None) };
    let actors = tx.device_actors(&row.id)?;
    Ok(Some(Device {
        id: row.id,
        officer_id: row.officer_id,
        scope: Scope { rw: row.rw, rt: row.rt },
        actors,
        revoked: row.revoked_at.is_some(),
    }))
}

/// A device by id (for bundles brought to the office).
pub fn device_by_id(tx: &mut dyn HubTx, id: &str) -> Result<Option<Device>, AppError> {
    let row = tx.device(id)?;
    with_actors(tx, row)
}

/// Revokes one device (audited as "sistem").
pub fn revoke_device(tx: &mut dyn HubTx, device_id: &str) -> Result<(), AppError> {
    revoke_device_as(tx, device_id, "sistem")
}

/// Revokes one device, audited once as `by`.
pub fn revoke_device_as(tx: &mut dyn HubTx, device_id: &str, by: &str) -> Result<(), AppError> {
    if !tx.revoke_device(device_id, now())? {
        return Err(AppError::NotFound("perangkat tidak ditemukan atau sudah dicabut"));
    }
    audit(tx, by, &format!("cabut_perangkat:{device_id}"), None)
}

/// Creates a staff account; returns it and its token (shown once). Audited as "sistem".
pub fn add_staff(tx: &mut dyn HubTx, name: &str) -> Result<(StaffAccount, String), AppError> {
    add_staff_as(tx, name, "sistem")
}

/// Creates a staff account, audited once as `by`; returns it and its token (shown once).
pub fn add_staff_as(tx: &mut dyn HubTx, name: &str, by: &str) -> Result<(StaffAccount, String), AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::BadRequest("nama_tidak_valid", "Nama staf wajib diisi (paling banyak 100 huruf)"));
    }
    let s = StaffAccount { id: format!("staf-{}", random_secret(6).to_lowercase()), name: name.into(), active: true };
    let token = random_secret(32);
    tx.insert_staff(&s, &secret_hash(&token), now())?;
    audit(tx, by, &format!("tambah_staf:{}", s.id), None)?;
    Ok((s, token))
}

/// The active staff account a token belongs to.
pub fn staff_by_token(tx: &mut dyn HubTx, token: &str) -> Result<StaffAccount, AppError> {
    match tx.staff_by_token_hash(&secret_hash(token))? {
        Some(s) if s.active => Ok(s),
        Some(_) => Err(AppError::Unauthorized("staf_dicabut", "Akun staf ini sudah dinonaktifkan")),
        None => Err(AppError::Unauthorized("staf_belum_masuk", "Token staf tidak valid")),
    }
}

/// Deactivates a staff account (audited as "sistem").
pub fn revoke_staff(tx: &mut dyn HubTx, staff_id: &str) -> Result<(), AppError> {
    revoke_staff_as(tx, staff_id, "sistem")
}

/// Deactivates a staff account and ends its dashboard sessions, audited once as `by`.
pub fn revoke_staff_as(tx: &mut dyn HubTx, staff_id: &str, by: &str) -> Result<(), AppError> {
    if !tx.deactivate_staff(staff_id)? {
        return Err(AppError::NotFound("staf tidak ditemukan"));
    }
    tx.delete_web_sessions(Some(staff_id), 0)?;
    audit(tx, by, &format!("cabut_staf:{staff_id}"), None)
}
