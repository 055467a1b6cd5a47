//! Breach readiness (UU PDP: a breach is reported within 3 × 24 hours; ADR 0014): the audit log
//! of a date range exported through the staff API as JSON and CSV, for admins only, with who
//! (and their name), what, which record (its receipt code) and when; limited in range and rows
//! with a clear refusal, and audited itself. On both back ends, with a real phone.

use jemput_core::permissions::Scope;
use jemput_core::sync::client::RetryPolicy;
use jemput_core::time_util::{date_of_ms, now_ms, DAY_MS};
use jemput_hub::service::audit::MAX_EXPORT_ROWS;
use jemput_tests::harness::{draft, Phone, TestHub};
use jemput_tests::on_both_backends;
use serde_json::{json, Value};

async fn get(url: &str, token: Option<&str>, path: &str) -> (u16, String, String) {
    let mut rb = reqwest::Client::new().get(format!("{url}/api/v1/staff/{path}"));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    let resp = rb.send().await.unwrap();
    let status = resp.status().as_u16();
    let ctype = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    (status, ctype, resp.text().await.unwrap())
}

fn code(body: &str) -> String {
    serde_json::from_str::<Value>(body).ok().and_then(|v| v["kode"].as_str().map(str::to_string)).unwrap_or_default()
}

on_both_backends! {
    async fn the_audit_log_of_a_range_is_exported_for_a_breach_report(kind) {
        let hub = TestHub::start_on(kind).await.expect("back end");
        let url = hub.url();
        let admin = hub.staff_token.clone();
        let phone = Phone::enrol(&hub, "Pak Darmo", Scope { rw: 1, rt: Some(1) }).await;
        let r = phone.store.lock().unwrap().record_request(&draft(1, 1, 1), true).unwrap();
        phone
            .client(&url, RetryPolicy { attempts: 3, ..RetryPolicy::default() })
            .sync(&phone.store, |_| {})
            .await
            .unwrap();
        // Staff read the record and change it.
        let (s, _, _) = get(&url, Some(&admin), &format!("requests/{}", r.id)).await;
        assert_eq!(s, 200);
        let s = reqwest::Client::new()
            .post(format!("{url}/api/v1/staff/requests/{}/status", r.id))
            .bearer_auth(&admin)
            .json(&json!({ "status": "diverifikasi" }))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(s, 200);
        let (operator, admin_id) = hub
            .db
            .with(|tx, _| {
                let admin_id = tx.staff_accounts()?.into_iter().find(|a| a.name == "Admin kelurahan").map(|a| a.id);
                let (_, t) = jemput_hub::web::auth::add_staff_with_role(tx, "Operator uji", jemput_hub::web::Role::Operator, None, "sistem:uji")?;
                Ok::<_, jemput_hub::error::ServiceError>((t, admin_id.expect("the first admin")))
            })
            .unwrap();
        let today = date_of_ms(now_ms()).to_string();
        let range = format!("audit/export?dari={today}&sampai={today}");

        // Admins only; a token is needed before anything else is looked at.
        assert_eq!(get(&url, None, &range).await.0, 401);
        let (s, _, body) = get(&url, Some(&operator), &range).await;
        assert_eq!((s, code(&body).as_str()), (403, "peran_tidak_cukup"));
        assert_eq!(get(&url, None, "audit/export?dari=2026-13-45").await.0, 401);

        // JSON: who (and their name), what, which record (and its receipt code), when.
        let (s, ctype, body) = get(&url, Some(&admin), &range).await;
        assert_eq!(s, 200, "{body}");
        assert!(ctype.starts_with("application/json"));
        let rows: Vec<Value> = serde_json::from_str(&body).unwrap();
        let staff_actor = format!("staf:{admin_id}");
        let read = rows.iter().find(|e| e["tindakan"] == "lihat_permohonan").expect("the staff read is in the export");
        assert_eq!(read["pelaku"], staff_actor.as_str());
        assert_eq!(read["nama_pelaku"], "Admin kelurahan");
        assert_eq!(read["dokumen"], r.id.as_str());
        assert_eq!(read["tanda_terima"], r.receipt.as_str());
        assert!(read["waktu"].as_str().unwrap().starts_with(&today) && read["waktu"].as_str().unwrap().ends_with("+07:00"));
        let at = read["at_ms"].as_i64().unwrap();
        assert!((now_ms() - at).abs() < 600_000);
        assert!(rows.iter().any(|e| e["tindakan"] == "status:diverifikasi" && e["dokumen"] == r.id.as_str()));
        let written = rows.iter().find(|e| e["tindakan"] == "tulis").expect("the phone's write");
        assert!(written["pelaku"].as_str().unwrap().starts_with("perangkat:"));
        assert_eq!(written["nama_pelaku"], "Pak Darmo");
        let times: Vec<i64> = rows.iter().map(|e| e["at_ms"].as_i64().unwrap()).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "oldest first");
        assert!(!body.contains(&draft(1, 1, 1).applicant.nik) && !body.contains(&draft(1, 1, 1).applicant.name), "no personal data");

        // The export is audited, with its range.
        let (_, _, again) = get(&url, Some(&admin), &range).await;
        let again: Vec<Value> = serde_json::from_str(&again).unwrap();
        let exported = again.iter().find(|e| e["tindakan"].as_str().is_some_and(|a| a.starts_with("ekspor_audit:"))).expect("audited");
        assert_eq!(exported["pelaku"], staff_actor.as_str());
        assert_eq!(again.len(), rows.len() + 1);

        // CSV, for a spreadsheet.
        let (s, ctype, csv) = get(&url, Some(&admin), &format!("{range}&format=csv")).await;
        assert_eq!(s, 200);
        assert!(ctype.starts_with("text/csv"));
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some("\u{feff}waktu,waktu_ms,pelaku,nama_pelaku,tindakan,dokumen,tanda_terima"));
        assert!(csv.contains(&format!("{staff_actor},Admin kelurahan,lihat_permohonan,{},{}", r.id, r.receipt)), "{csv}");

        // Another range: yesterday holds none of today's entries.
        let yesterday = date_of_ms(now_ms() - DAY_MS).to_string();
        let (s, _, body) = get(&url, Some(&admin), &format!("audit/export?dari={yesterday}&sampai={yesterday}")).await;
        assert_eq!((s, body.as_str()), (200, "[]"));

        // Refusals with a code and a message.
        for (path, expect) in [
            (format!("audit/export?dari={today}&sampai={yesterday}"), "rentang_tidak_valid"),
            ("audit/export?dari=2026-01-01&sampai=2026-04-30".to_string(), "rentang_terlalu_panjang"),
            ("audit/export?dari=kemarin&sampai=hari-ini".to_string(), "rentang_tidak_valid"),
            ("audit/export".to_string(), "rentang_tidak_valid"),
            (format!("{range}&format=xml"), "format_tidak_dikenal"),
        ] {
            let (s, _, body) = get(&url, Some(&admin), &path).await;
            assert_eq!((s, code(&body).as_str()), (400, expect), "{path}: {body}");
        }
        let (s, _, body) = get(&url, Some(&admin), "audit/export?dari=2026-01-01&sampai=2026-04-01").await;
        assert_eq!(s, 200, "92 days is allowed: {body}");

        // More entries than one export may hold: refused, asking for a shorter range.
        let day = date_of_ms(now_ms() - 3 * DAY_MS).to_string();
        let before = jemput_hub::web::day_start_ms(&day).unwrap() + 3_600_000;
        hub.db
            .with(|tx, _| {
                for i in 0..=MAX_EXPORT_ROWS {
                    tx.audit(before + i64::from(i % 1000), "sistem:uji", "lihat_permohonan", None)?;
                }
                Ok::<_, jemput_hub::storage::StorageError>(())
            })
            .unwrap();
        let (s, _, body) = get(&url, Some(&admin), &format!("audit/export?dari={day}&sampai={day}")).await;
        assert_eq!((s, code(&body).as_str()), (400, "terlalu_banyak_catatan"), "{body}");
        assert!(body.contains("50.000"));
    }
}
