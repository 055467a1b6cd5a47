//! Officers (with their RW/RT scope) and the devices enrolled for them: adding, listing,
//! revoking, and finding the device a token belongs to.

use jemput_core::permissions::Scope;

use super::audit::audit;
use super::{now, random_secret, secret_hash};
use crate::error::ServiceError;
use crate::storage::{DeviceRow, HubTx, Officer};

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
    /// The receipt prefix allocated to it at enrolment.
    pub receipt_prefix: String,
}

/// Adds an officer with a scope (audited as "sistem": the command line, the demo).
pub fn add_officer(tx: &mut dyn HubTx, name: &str, scope: Scope) -> Result<Officer, ServiceError> {
    add_officer_as(tx, name, scope, "sistem")
}

/// Adds an officer with a scope, audited once as `by`.
pub fn add_officer_as(tx: &mut dyn HubTx, name: &str, scope: Scope, by: &str) -> Result<Officer, ServiceError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ServiceError::BadRequest("nama_tidak_valid", "Nama petugas wajib diisi (paling banyak 100 huruf)"));
    }
    if scope.rw == 0 || scope.rt == Some(0) {
        return Err(ServiceError::BadRequest("wilayah_tidak_valid", "Nomor RW/RT petugas tidak valid"));
    }
    let o =
        Officer { id: format!("petugas-{}", random_secret(6).to_lowercase()), name: name.into(), rw: scope.rw, rt: scope.rt, active: true };
    tx.insert_officer(&o, now())?;
    audit(tx, by, &format!("tambah_petugas:{}", o.id), None)?;
    Ok(o)
}

/// Lists officers.
pub fn officers(tx: &mut dyn HubTx) -> Result<Vec<Officer>, ServiceError> {
    Ok(tx.officers()?)
}

/// Revokes an officer and all their devices (audited as "sistem").
pub fn revoke_officer(tx: &mut dyn HubTx, officer_id: &str) -> Result<(), ServiceError> {
    revoke_officer_as(tx, officer_id, "sistem")
}

/// Revokes an officer and all their devices, audited once as `by`.
pub fn revoke_officer_as(tx: &mut dyn HubTx, officer_id: &str, by: &str) -> Result<(), ServiceError> {
    if !tx.deactivate_officer(officer_id)? {
        return Err(ServiceError::NotFound("petugas tidak ditemukan"));
    }
    tx.revoke_devices_of(officer_id, now())?;
    audit(tx, by, &format!("cabut_petugas:{officer_id}"), None)
}

/// The device a token belongs to.
pub fn device_by_token(tx: &mut dyn HubTx, token: &str) -> Result<Option<Device>, ServiceError> {
    Ok(tx.device_with_actors_by_token_hash(&secret_hash(token))?.map(|(row, actors)| device_of(row, actors)))
}

/// A device row with the actor ids bound to it.
fn with_actors(tx: &mut dyn HubTx, row: Option<DeviceRow>) -> Result<Option<Device>, ServiceError> {
    let Some(row) = row else { return Ok(None) };
    let actors = tx.device_actors(&row.id)?;
    Ok(Some(device_of(row, actors)))
}

fn device_of(row: DeviceRow, actors: Vec<String>) -> Device {
    Device {
        id: row.id,
        officer_id: row.officer_id,
        scope: Scope { rw: row.rw, rt: row.rt },
        actors,
        revoked: row.revoked_at.is_some(),
        receipt_prefix: jemput_core::receipt::DevicePrefix::from_index(row.prefix_index).as_str().to_string(),
    }
}

/// A device by id (for bundles brought to the office).
pub fn device_by_id(tx: &mut dyn HubTx, id: &str) -> Result<Option<Device>, ServiceError> {
    let row = tx.device(id)?;
    with_actors(tx, row)
}

/// Revokes one device (audited as "sistem").
pub fn revoke_device(tx: &mut dyn HubTx, device_id: &str) -> Result<(), ServiceError> {
    revoke_device_as(tx, device_id, "sistem")
}

/// Revokes one device, audited once as `by`.
pub fn revoke_device_as(tx: &mut dyn HubTx, device_id: &str, by: &str) -> Result<(), ServiceError> {
    if !tx.revoke_device(device_id, now())? {
        return Err(ServiceError::NotFound("perangkat tidak ditemukan atau sudah dicabut"));
    }
    audit(tx, by, &format!("cabut_perangkat:{device_id}"), None)
}
