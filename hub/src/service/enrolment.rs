//! Enrolment of a device with a one-time code: creating codes for an officer, and redeeming
//! one (atomically) for a device, binding its Automerge actor id.

use jemput_core::sync::protocol::{self, Enrolment};
use jemput_core::validation::limits;

use super::audit::audit;
use super::{now, random_secret, secret_hash};
use crate::error::ServiceError;
use crate::storage::{HubTx, NewDevice};

/// Creates a one-time enrolment code for an officer, valid `hours` hours.
pub fn create_enrol_code(tx: &mut dyn HubTx, officer_id: &str, hours: i64) -> Result<String, ServiceError> {
    if !tx.officer(officer_id)?.is_some_and(|o| o.active) {
        return Err(ServiceError::NotFound("petugas tidak ditemukan atau sudah dicabut"));
    }
    if !(1..=24 * 14).contains(&hours) {
        return Err(ServiceError::BadRequest("masa_berlaku_tidak_valid", "Masa berlaku kode antara 1 jam dan 14 hari"));
    }
    let code = random_secret(10);
    tx.insert_enrol_code(&secret_hash(&code), officer_id, now() + hours * 3_600_000)?;
    Ok(code)
}

/// Redeems a one-time enrolment code (atomically: a code works once), binding the device's
/// Automerge actor id.
pub fn enrol(tx: &mut dyn HubTx, code: &str, device_name: &str, actor_hex: &str, device_id: &str) -> Result<Enrolment, ServiceError> {
    let Some(actor) = protocol::actor_from_hex(actor_hex) else {
        return Err(ServiceError::BadRequest("aktor_tidak_valid", "ID aktor perangkat tidak valid"));
    };
    let device_name = device_name.trim();
    if device_name.is_empty() || device_name.chars().count() > 100 {
        return Err(ServiceError::BadRequest("nama_perangkat_tidak_valid", "Nama perangkat wajib diisi (paling banyak 100 huruf)"));
    }
    let device_id = uuid::Uuid::parse_str(device_id)
        .map_err(|_| ServiceError::BadRequest("id_perangkat_tidak_valid", "ID perangkat tidak valid"))?
        .to_string();
    if code.chars().take(limits::IDENTIFIER + 1).count() > limits::IDENTIFIER {
        return Err(ServiceError::BadRequest("kode_tidak_valid", "Kode pendaftaran terlalu panjang; periksa kembali"));
    }
    let hash = secret_hash(code);
    let Some(ec) = tx.enrol_code(&hash)? else { return Err(ServiceError::Forbidden("kode_salah", "Kode pendaftaran tidak dikenal")) };
    if ec.used_at.is_some() {
        return Err(ServiceError::Forbidden("kode_terpakai", "Kode pendaftaran sudah pernah dipakai"));
    }
    if ec.expires_at < now() {
        return Err(ServiceError::Forbidden("kode_kedaluwarsa", "Kode pendaftaran sudah kedaluwarsa; minta kode baru ke kelurahan"));
    }
    let officer = tx.officer(&ec.officer_id)?.ok_or(ServiceError::Internal)?;
    if !officer.active {
        return Err(ServiceError::Forbidden("petugas_dicabut", "Petugas ini sudah tidak aktif"));
    }
    if tx.device_exists(&device_id)? {
        return Err(ServiceError::Forbidden("perangkat_sudah_terdaftar", "Perangkat ini sudah terdaftar; cabut dulu pendaftaran lamanya"));
    }
    if !tx.use_enrol_code(&hash, now())? {
        return Err(ServiceError::Forbidden("kode_terpakai", "Kode pendaftaran sudah pernah dipakai"));
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
    // An actor id names one device's changes: one already bound (another phone's, or a
    // modified phone copying it) is refused, and the whole enrolment with it.
    if !tx.bind_actor(&protocol::actor_hex(&actor), &device_id)? {
        return Err(ServiceError::Rejected(
            "aktor_terpakai",
            "ID aktor perangkat ini sudah dipakai perangkat lain; hapus data aplikasi lalu daftar ulang".into(),
        ));
    }
    audit(tx, &format!("perangkat:{device_id}"), "daftar_perangkat", None)?;
    let receipt_prefix = jemput_core::receipt::DevicePrefix::from_index(index).as_str().to_string();
    Ok(Enrolment { device_id, token, officer_id: officer.id, officer_name: officer.name, receipt_prefix, rw: officer.rw, rt: officer.rt })
}
