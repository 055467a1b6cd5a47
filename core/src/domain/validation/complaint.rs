//! Validation of a complaint, aspiration or suggestion.

use super::phone::validate_phone;
use super::request::{validate_area, validate_name};
use super::{limits, Issue};
use crate::complaint::ComplaintDraft;
use crate::kelurahan::Kelurahan;

/// Validates a complaint draft: topic and text (10 to 2000 characters), an RT/RW that exists,
/// and the reporter's name and phone when the resident is not anonymous.
pub fn validate_complaint(draft: &ComplaintDraft, kelurahan: Option<&Kelurahan>) -> Vec<Issue> {
    let mut issues = Vec::new();
    if draft.topic.trim().is_empty() {
        issues.push(Issue::error("topic", "wajib_diisi", "Topik wajib diisi (misalnya: jalan rusak, sampah, bansos)"));
    } else {
        issues.extend(limits::check("topic", "Topik", &draft.topic, limits::TOPIC));
    }
    let len = draft.text.trim().chars().take(10).count();
    if len < 10 {
        issues.push(Issue::error("text", "terlalu_pendek", "Isi pengaduan terlalu pendek; tulis paling sedikit 10 huruf"));
    } else {
        issues.extend(limits::check("text", "Isi pengaduan", &draft.text, limits::COMPLAINT_TEXT));
    }
    issues.extend(validate_area("place", draft.place.rw, draft.place.rt, kelurahan));
    issues.extend(limits::check("place.description", "Keterangan tempat", &draft.place.description, limits::PLACE_DESCRIPTION));
    if let Some(r) = &draft.reporter {
        issues.extend(validate_name("reporter.name", &r.name));
        if let Some(p) = r.phone.as_deref().filter(|p| !p.trim().is_empty()) {
            issues.extend(validate_phone("reporter.phone", p));
        }
    }
    issues
}
