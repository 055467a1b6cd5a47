//! The audit log (UU PDP: who saw and changed what).

use crate::error::ServiceError;
use crate::storage::HubTx;

/// Appends to the audit log (UU PDP: who saw and changed what).
pub fn audit(tx: &mut dyn HubTx, actor: &str, action: &str, doc_id: Option<&str>) -> Result<(), ServiceError> {
    Ok(tx.audit(super::now(), actor, action, doc_id)?)
}
