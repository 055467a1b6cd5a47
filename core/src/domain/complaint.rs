//! Complaints, aspirations and suggestions (pengaduan, aspirasi, saran) recorded at the door,
//! with the office's responses.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::request::{Actor, Role};

/// What kind of message the resident brings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Reconcile, Hydrate)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum ComplaintCategory {
    /// Pengaduan: something is wrong and needs action.
    Pengaduan,
    /// Aspirasi: a wish for the neighbourhood.
    Aspirasi,
    /// Saran: a suggestion to the office.
    Saran,
}

impl ComplaintCategory {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            ComplaintCategory::Pengaduan => "pengaduan",
            ComplaintCategory::Aspirasi => "aspirasi",
            ComplaintCategory::Saran => "saran",
        }
    }
}

/// The status of a complaint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Reconcile, Hydrate)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum ComplaintStatus {
    /// Recorded on the phone.
    Dicatat,
    /// Received by the office.
    Diterima,
    /// Forwarded or being acted on (e.g. passed to a city agency).
    Ditindaklanjuti,
    /// Done, with the office's answer.
    Selesai,
}

impl ComplaintStatus {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            ComplaintStatus::Dicatat => "dicatat",
            ComplaintStatus::Diterima => "diterima",
            ComplaintStatus::Ditindaklanjuti => "ditindaklanjuti",
            ComplaintStatus::Selesai => "selesai",
        }
    }

    /// Parses a stable code.
    pub fn from_code(code: &str) -> Option<ComplaintStatus> {
        [Self::Dicatat, Self::Diterima, Self::Ditindaklanjuti, Self::Selesai].into_iter().find(|s| s.code() == code)
    }

    /// Whether `role` may move a complaint from `self` to `to`.
    pub fn check_transition(self, to: ComplaintStatus, role: Role) -> Result<(), String> {
        use ComplaintStatus::*;
        if role != Role::Staf {
            return Err("status pengaduan hanya dapat diubah oleh staf kelurahan".into());
        }
        let ok = matches!(
            (self, to),
            (Dicatat, Diterima | Ditindaklanjuti | Selesai) | (Diterima, Ditindaklanjuti | Selesai) | (Ditindaklanjuti, Selesai)
        );
        if ok {
            Ok(())
        } else {
            Err(format!("tidak dapat berpindah dari \"{}\" ke \"{}\"", self.code(), to.code()))
        }
    }
}

/// The place a complaint is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Place {
    /// RT number.
    pub rt: u16,
    /// RW number.
    pub rw: u16,
    /// Where exactly (street, landmark).
    pub description: String,
}

/// Who reported it, unless anonymous.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Reporter {
    /// Name.
    pub name: String,
    /// Phone number, if any.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub phone: Option<String>,
}

/// One step (status plus the office's answer) in a complaint's life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ComplaintUpdate {
    /// The new status.
    pub status: ComplaintStatus,
    /// When, Unix milliseconds.
    pub at: i64,
    /// Who.
    pub by: Actor,
    /// The office's answer to the resident.
    pub response: Option<String>,
}

/// What an officer enters for a complaint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ComplaintDraft {
    /// Pengaduan, aspirasi or saran.
    pub category: ComplaintCategory,
    /// Topic (e.g. "Jalan rusak", "Sampah", "Bansos").
    pub topic: String,
    /// The resident's words.
    pub text: String,
    /// Where.
    pub place: Place,
    /// Who reported it; `None` for anonymous.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub reporter: Option<Reporter>,
}

/// A complaint, aspiration or suggestion as kept in its Automerge document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Complaint {
    /// Unique id (UUID v7).
    pub id: String,
    /// Receipt code given to the resident.
    pub receipt: String,
    /// Category.
    pub category: ComplaintCategory,
    /// Topic.
    pub topic: String,
    /// The resident's words.
    pub text: String,
    /// Where.
    pub place: Place,
    /// Reporter, or `None` for anonymous.
    pub reporter: Option<Reporter>,
    /// Officer who recorded it.
    pub officer_id: String,
    /// Device it was recorded on.
    pub device_id: String,
    /// When it was recorded.
    pub created_at: i64,
    /// Status history with the office's answers.
    pub updates: Vec<ComplaintUpdate>,
}

impl Complaint {
    /// The current status (latest update by time, ties to the later status).
    pub fn status(&self) -> ComplaintStatus {
        self.current().map(|u| u.status).unwrap_or(ComplaintStatus::Dicatat)
    }

    /// The update that decides the current status.
    pub fn current(&self) -> Option<&ComplaintUpdate> {
        self.updates.iter().max_by(|a, b| (a.at, a.status).cmp(&(b.at, b.status)))
    }

    /// The latest answer from the office, if any.
    pub fn latest_response(&self) -> Option<&str> {
        self.updates.iter().filter(|u| u.response.is_some()).max_by_key(|u| u.at).and_then(|u| u.response.as_deref())
    }

    /// When the complaint was closed, if it is.
    pub fn closed_at(&self) -> Option<i64> {
        let c = self.current()?;
        (c.status == ComplaintStatus::Selesai).then_some(c.at)
    }

    /// What the register keeps of this complaint once its personal data is erased (ADR 0013):
    /// receipt code, category, RT/RW, dates and status steps; the topic, the resident's words,
    /// the place's description, the reporter and the office's typed answers are gone.
    pub fn register_only(&self) -> Complaint {
        Complaint {
            id: self.id.clone(),
            receipt: self.receipt.clone(),
            category: self.category,
            topic: String::new(),
            text: String::new(),
            place: Place { rt: self.place.rt, rw: self.place.rw, description: String::new() },
            reporter: None,
            officer_id: self.officer_id.clone(),
            device_id: self.device_id.clone(),
            created_at: self.created_at,
            updates: self.updates.iter().map(|u| ComplaintUpdate { response: None, ..u.clone() }).collect(),
        }
    }

    /// Appends an office update after checking it is allowed.
    pub fn respond(&mut self, to: ComplaintStatus, actor: Actor, response: Option<String>, at: i64) -> Result<(), String> {
        self.status().check_transition(to, actor.role)?;
        let response = response.map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
        if to == ComplaintStatus::Selesai && response.is_none() {
            return Err("pengaduan yang selesai wajib disertai jawaban kelurahan".into());
        }
        let at = self.updates.iter().map(|c| c.at.saturating_add(1)).max().map_or(at, |m| m.max(at));
        self.updates.push(ComplaintUpdate { status: to, at, by: actor, response });
        Ok(())
    }
}
