//! Complaint validation.
use super::Issue;
use crate::complaint::ComplaintDraft;
use crate::kelurahan::Kelurahan;

/// Validates a complaint draft.
pub fn validate_complaint(draft: &ComplaintDraft, kelurahan: Option<&Kelurahan>) -> Vec<Issue> {
    let _ = (draft, kelurahan);
    vec![]
}
