//! Staff accounts of the kelurahan office: creating one (its token shown once), finding the
//! account a token belongs to, deactivating; their roles (operator, pimpinan, admin), which the
//! dashboard and the JSON staff API both check.

use jemput_core::request::Status;

use super::audit::audit;
use super::{now, random_secret, secret_hash};
use crate::error::ServiceError;
use crate::storage::{HubTx, StaffAccount};

/// A dashboard role. Higher roles may do everything lower ones may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Role {
    /// Processes requests and complaints.
    Operator,
    /// Lurah or sekretaris: also approves (selesai), refuses (ditolak) and assigns letter numbers.
    Pimpinan,
    /// Accounts, officers, devices, catalog, profile, audit.
    Admin,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Role; 3] = [Role::Operator, Role::Pimpinan, Role::Admin];

    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Pimpinan => "pimpinan",
            Role::Admin => "admin",
        }
    }

    /// From its code.
    pub fn from_code(c: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == c)
    }

    /// Words shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Operator => "Operator",
            Role::Pimpinan => "Lurah / Sekretaris",
            Role::Admin => "Admin",
        }
    }
}

/// The role of a staff account (accounts made before the dashboard, e.g. by `init` or
/// `staff add`, are admins).
pub fn role_of(tx: &mut dyn HubTx, staff_id: &str) -> Result<Role, ServiceError> {
    Ok(tx.staff_profile(staff_id)?.and_then(|p| Role::from_code(&p.role)).unwrap_or(Role::Admin))
}

/// The role a staff member needs to set a request to `s`: approving (selesai) and refusing
/// (ditolak) are for the lurah/sekretaris.
pub fn role_for_status(s: Status) -> Role {
    match s {
        Status::Selesai | Status::Ditolak => Role::Pimpinan,
        _ => Role::Operator,
    }
}

/// Creates a staff account; returns it and its token (shown once). Audited as "sistem".
pub fn add_staff(tx: &mut dyn HubTx, name: &str) -> Result<(StaffAccount, String), ServiceError> {
    add_staff_as(tx, name, "sistem")
}

/// Creates a staff account, audited once as `by`; returns it and its token (shown once).
pub fn add_staff_as(tx: &mut dyn HubTx, name: &str, by: &str) -> Result<(StaffAccount, String), ServiceError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ServiceError::BadRequest("nama_tidak_valid", "Nama staf wajib diisi (paling banyak 100 huruf)"));
    }
    let s = StaffAccount { id: format!("staf-{}", random_secret(6).to_lowercase()), name: name.into(), active: true };
    let token = random_secret(32);
    tx.insert_staff(&s, &secret_hash(&token), now())?;
    audit(tx, by, &format!("tambah_staf:{}", s.id), None)?;
    Ok((s, token))
}

/// The active staff account a token belongs to.
pub fn staff_by_token(tx: &mut dyn HubTx, token: &str) -> Result<StaffAccount, ServiceError> {
    match tx.staff_by_token_hash(&secret_hash(token))? {
        Some(s) if s.active => Ok(s),
        Some(_) => Err(ServiceError::Unauthorized("staf_dicabut", "Akun staf ini sudah dinonaktifkan")),
        None => Err(ServiceError::Unauthorized("staf_belum_masuk", "Token staf tidak valid")),
    }
}

/// Deactivates a staff account (audited as "sistem").
pub fn revoke_staff(tx: &mut dyn HubTx, staff_id: &str) -> Result<(), ServiceError> {
    revoke_staff_as(tx, staff_id, "sistem")
}

/// Deactivates a staff account and ends its dashboard sessions, audited once as `by`.
pub fn revoke_staff_as(tx: &mut dyn HubTx, staff_id: &str, by: &str) -> Result<(), ServiceError> {
    if !tx.deactivate_staff(staff_id)? {
        return Err(ServiceError::NotFound("staf tidak ditemukan"));
    }
    tx.delete_web_sessions(Some(staff_id), 0)?;
    audit(tx, by, &format!("cabut_staf:{staff_id}"), None)
}
