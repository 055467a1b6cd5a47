//! Request validation.
use time::Date;

use super::Issue;
use crate::catalog::Catalog;
use crate::kelurahan::Kelurahan;
use crate::request::RequestDraft;

/// Validates a request draft against the catalog and the kelurahan.
pub fn validate_request(draft: &RequestDraft, catalog: &Catalog, kelurahan: Option<&Kelurahan>, today: Date) -> Vec<Issue> {
    let _ = (catalog, kelurahan);
    super::nik::validate_nik("applicant.nik", &draft.applicant.nik, None, None, today)
}
