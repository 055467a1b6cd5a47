//! The audit log (UU PDP: who saw and changed what).

use crate::error::ServiceError;
use crate::storage::HubTx;

/// Appends to the audit log (UU PDP: who saw and changed what).
pub fn audit(tx: &mut dyn HubTx, actor: &str, action: &str, doc_id: Option<&str>) -> Result<(), ServiceError> {
    Ok(tx.audit(super::now(), actor, action, doc_id)?)
}

/// Appends several entries to the audit log at once, in order: (actor, action, document).
pub fn audit_many(tx: &mut dyn HubTx, entries: &[(&str, &str, Option<&str>)]) -> Result<(), ServiceError> {
    if entries.is_empty() {
        return Ok(());
    }
    Ok(tx.audit_many(super::now(), entries)?)
}

/// Most days one audit export may cover (a breach report needs days, not years).
pub const MAX_EXPORT_DAYS: i64 = 92;
/// Most entries one audit export may hold; a range with more is refused (choose a shorter one).
pub const MAX_EXPORT_ROWS: u32 = 50_000;

/// The time range of an audit export: from `from_ms` (included) to `until_ms` (excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportRange {
    /// Start, Unix milliseconds.
    pub from_ms: i64,
    /// End (excluded), Unix milliseconds.
    pub until_ms: i64,
}

/// Midnight (WIB, UTC+7) at the start of the ISO date `day`.
fn day_start_wib(day: &str) -> Option<i64> {
    let d = jemput_core::time_util::parse_date(day)?;
    Some((d.midnight().assume_utc().unix_timestamp() - 7 * 3600) * 1000)
}

impl ExportRange {
    /// The days `from` to `to` (ISO dates, WIB, both included).
    pub fn from_days(from: &str, to: &str) -> Result<ExportRange, ServiceError> {
        let bad = ServiceError::BadRequest(
            "rentang_tidak_valid",
            "Isi tanggal awal dan akhir sebagai TTTT-BB-HH, tanggal awal tidak sesudah tanggal akhir",
        );
        if from.len() > 10 || to.len() > 10 {
            return Err(bad);
        }
        let (Some(from_ms), Some(to_ms)) = (day_start_wib(from), day_start_wib(to)) else { return Err(bad) };
        ExportRange::new(from_ms, to_ms + jemput_core::time_util::DAY_MS)
    }

    /// From `from_ms` (included) to `until_ms` (excluded), at most [`MAX_EXPORT_DAYS`] long.
    pub fn new(from_ms: i64, until_ms: i64) -> Result<ExportRange, ServiceError> {
        if until_ms <= from_ms {
            return Err(ServiceError::BadRequest(
                "rentang_tidak_valid",
                "Isi tanggal awal dan akhir sebagai TTTT-BB-HH, tanggal awal tidak sesudah tanggal akhir",
            ));
        }
        if until_ms - from_ms > MAX_EXPORT_DAYS * jemput_core::time_util::DAY_MS {
            return Err(ServiceError::BadRequest(
                "rentang_terlalu_panjang",
                "Rentang ekspor audit paling panjang 92 hari; ekspor per bagian",
            ));
        }
        Ok(ExportRange { from_ms, until_ms })
    }
}

/// One line of an audit export: who did what to which record, when.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExportRow {
    /// When, Unix milliseconds.
    pub at_ms: i64,
    /// When, ISO 8601 in WIB (`2026-11-29T14:05:09.123+07:00`).
    pub waktu: String,
    /// Who (`staf:ID`, `perangkat:ID`, `sistem…`).
    pub pelaku: String,
    /// The staff account's or device's name, when known.
    pub nama_pelaku: Option<String>,
    /// What (`lihat_permohonan`, `status:selesai`, `tulis`, …).
    pub tindakan: String,
    /// The record's document id.
    pub dokumen: Option<String>,
    /// The record's receipt code, when the hub holds the record.
    pub tanda_terima: Option<String>,
}

fn wib(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(time::UtcOffset::from_hms(7, 0, 0).unwrap_or(time::UtcOffset::UTC));
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3][offset_hour sign:mandatory]:[offset_minute]"
    );
    t.format(&fmt).unwrap_or_else(|_| ms.to_string())
}

/// The audit log of `range`, oldest first, with names and receipt codes; refused when it holds
/// more than [`MAX_EXPORT_ROWS`] entries. The export is itself audited (as `by`), after it is
/// read, so it does not count in its own range.
pub fn export(tx: &mut dyn HubTx, range: &ExportRange, by: &str) -> Result<Vec<ExportRow>, ServiceError> {
    let entries = tx.audit_export(range.from_ms, range.until_ms, MAX_EXPORT_ROWS + 1)?;
    if entries.len() > MAX_EXPORT_ROWS as usize {
        return Err(ServiceError::BadRequest(
            "terlalu_banyak_catatan",
            "Rentang ini berisi lebih dari 50.000 catatan audit; pilih rentang yang lebih pendek",
        ));
    }
    let mut names: std::collections::HashMap<String, String> =
        tx.staff_accounts()?.into_iter().map(|a| (format!("staf:{}", a.id), a.name)).collect();
    names.extend(tx.devices()?.into_iter().map(|d| (format!("perangkat:{}", d.id), d.name)));
    let rows = entries
        .into_iter()
        .map(|(e, receipt)| ExportRow {
            at_ms: e.at,
            waktu: wib(e.at),
            nama_pelaku: names.get(&e.actor).cloned(),
            pelaku: e.actor,
            tindakan: e.action,
            dokumen: e.doc_id,
            tanda_terima: receipt,
        })
        .collect();
    audit(tx, by, &format!("ekspor_audit:{}..{}", wib(range.from_ms), wib(range.until_ms)), None)?;
    Ok(rows)
}

/// A CSV cell: quoted when needed, and a leading `=`, `+`, `-`, `@` made harmless for
/// spreadsheet programs.
fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r', ';']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The export as CSV (UTF-8 with BOM, so spreadsheet programs read it right), with a header
/// row in Bahasa Indonesia.
pub fn to_csv(rows: &[ExportRow]) -> String {
    let mut out = String::from("\u{feff}waktu,waktu_ms,pelaku,nama_pelaku,tindakan,dokumen,tanda_terima\r\n");
    for r in rows {
        let cells = [
            r.waktu.clone(),
            r.at_ms.to_string(),
            r.pelaku.clone(),
            r.nama_pelaku.clone().unwrap_or_default(),
            r.tindakan.clone(),
            r.dokumen.clone().unwrap_or_default(),
            r.tanda_terima.clone().unwrap_or_default(),
        ];
        out.push_str(&cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_ranges_are_whole_days_in_wib_and_bounded() {
        let r = ExportRange::from_days("2026-11-01", "2026-11-01").unwrap();
        // 2026-11-01 00:00 WIB = 2026-10-31 17:00 UTC.
        assert_eq!(r.from_ms, 1_793_466_000_000);
        assert_eq!(r.until_ms - r.from_ms, jemput_core::time_util::DAY_MS);
        assert_eq!(wib(r.from_ms), "2026-11-01T00:00:00.000+07:00");
        // 92 days (both ends included) is the most; 93 is refused.
        assert!(ExportRange::from_days("2026-01-01", "2026-04-02").is_ok());
        let e = ExportRange::from_days("2026-01-01", "2026-04-03").unwrap_err();
        assert!(matches!(e, ServiceError::BadRequest("rentang_terlalu_panjang", _)));
        for (from, to) in [("2026-11-02", "2026-11-01"), ("2026-11-01", ""), ("1-1-1", "2026-11-01"), ("2026-11-01T00:00", "2026-11-02")] {
            assert!(matches!(ExportRange::from_days(from, to), Err(ServiceError::BadRequest("rentang_tidak_valid", _))), "{from}..{to}");
        }
    }

    #[test]
    fn csv_cells_are_quoted_and_defused() {
        let row = ExportRow {
            at_ms: 0,
            waktu: "w".into(),
            pelaku: "=HYPERLINK(\"x\")".into(),
            nama_pelaku: Some("Budi, S.Kom".into()),
            tindakan: "tulis".into(),
            dokumen: None,
            tanda_terima: None,
        };
        let csv = to_csv(&[row]);
        assert_eq!(csv.lines().nth(1), Some("w,0,\"'=HYPERLINK(\"\"x\"\")\",\"Budi, S.Kom\",tulis,,"));
    }
}
