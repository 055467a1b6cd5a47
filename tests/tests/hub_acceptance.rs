//! The hub's acceptance suite, run against both storage back ends: real phones (the core's
//! store and sync client) on loopback, the office acting through the staff API, bundles brought
//! by hand, and two hub instances sharing one database.

use jemput_core::complaint::{ComplaintCategory, ComplaintDraft, ComplaintStatus, Place};
use jemput_core::permissions::Scope;
use jemput_core::request::Status;
use jemput_core::sync::client::RetryPolicy;
use jemput_hub::storage::DocFilter;
use jemput_tests::harness::{draft, serve, Phone, TestHub};
use jemput_tests::on_both_backends;
use serde_json::{json, Value};

fn quick() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        base_delay: std::time::Duration::from_millis(5),
        max_delay: std::time::Duration::from_millis(50),
        timeout: std::time::Duration::from_secs(10),
    }
}

/// A staff API call; returns (HTTP status, JSON body).
async fn staff(hub_url: &str, token: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let http = reqwest::Client::new();
    let url = format!("{hub_url}/api/v1/staff/{path}");
    let rb = match method {
        "GET" => http.get(url),
        _ => http.post(url),
    };
    let rb = rb.bearer_auth(token);
    let rb = match body {
        Some(b) => rb.json(&b),
        None => rb,
    };
    let resp = rb.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
}

fn hub_requests(hub: &TestHub) -> u64 {
    hub.db.with(|tx, _| tx.count_docs(&DocFilter { kind: "request".into(), ..Default::default() })).unwrap()
}

on_both_backends! {
    async fn the_office_works_through_the_staff_api_and_decisions_reach_the_phone(kind) {
        let hub = TestHub::start_on(kind).await.expect("back end");
        let url = hub.url();
        let t = hub.staff_token.clone();
        let phone = Phone::enrol(&hub, "Pak Darmo", Scope { rw: 1, rt: Some(1) }).await;
        let client = phone.client(&url, quick());
        let a = phone.store.lock().unwrap().record_request(&draft(1, 1, 1), true).unwrap();
        let b = phone.store.lock().unwrap().record_request(&draft(2, 1, 1), true).unwrap();
        let c = phone
            .store
            .lock()
            .unwrap()
            .record_complaint(&ComplaintDraft {
                category: ComplaintCategory::Pengaduan,
                topic: "Saluran air".into(),
                text: "Got di depan rumah nomor 4 tersumbat sampah".into(),
                place: Place { rt: 1, rw: 1, description: "Jl. Balongsari gang 2".into() },
                reporter: None,
            })
            .unwrap();
        client.sync(&phone.store, |_| {}).await.unwrap();

        // Lists filter by status and area; a page carries the total.
        let (s, page) = staff(&url, &t, "GET", "requests?status=terkirim&rw=1", None).await;
        assert_eq!(s, 200);
        assert_eq!(page["total"], 2);
        assert_eq!(page["items"].as_array().unwrap().len(), 2);
        let (_, none) = staff(&url, &t, "GET", "requests?status=selesai", None).await;
        assert_eq!(none["total"], 0);
        let (s, bad) = staff(&url, &t, "GET", "requests?status=entah", None).await;
        assert_eq!((s, bad["kode"].as_str()), (400, Some("status_tidak_dikenal")));
        // Read one in full; find one by the resident's receipt code.
        let (s, full) = staff(&url, &t, "GET", &format!("requests/{}", a.id), None).await;
        assert_eq!(s, 200);
        assert_eq!(full["applicant"]["nik"], draft(1, 1, 1).applicant.nik);
        let (s, found) = staff(&url, &t, "GET", &format!("receipts/{}", b.receipt.to_lowercase()), None).await;
        assert_eq!((s, found["id"].as_str()), (200, Some(b.id.as_str())));
        let mut typo = b.receipt.clone();
        typo.replace_range(0..1, if typo.starts_with('A') { "B" } else { "A" });
        let (s, _) = staff(&url, &t, "GET", &format!("receipts/{typo}"), None).await;
        assert_eq!(s, 400, "a mistyped receipt code is caught by its check character");

        // Office statuses with their rules, and the letter number.
        for st in ["diverifikasi", "diproses"] {
            let (s, _) = staff(&url, &t, "POST", &format!("requests/{}/status", a.id), Some(json!({ "status": st }))).await;
            assert_eq!(s, 200);
        }
        let (s, e) = staff(&url, &t, "POST", &format!("requests/{}/status", a.id), Some(json!({ "status": "diserahkan" }))).await;
        assert_eq!((s, e["kode"].as_str()), (409, Some("status_tidak_diizinkan")), "not from diproses");
        let (s, e) = staff(&url, &t, "POST", &format!("requests/{}/status", b.id), Some(json!({ "status": "ditolak" }))).await;
        assert_eq!((s, e["kode"].as_str()), (409, Some("status_tidak_diizinkan")), "a refusal needs its reason: {e}");
        let (s, _) = staff(&url, &t, "POST", &format!("requests/{}/status", b.id), Some(json!({ "status": "ditolak", "reason": "Bukan warga RT 001" })))
            .await;
        assert_eq!(s, 200);
        let (s, r) = staff(&url, &t, "POST", &format!("requests/{}/office", a.id), Some(json!({ "letter_number": "470/123/418.57.3/2026" }))).await;
        assert_eq!((s, r["office"]["letter_number"].as_str()), (200, Some("470/123/418.57.3/2026")));
        let (s, _) = staff(&url, &t, "POST", &format!("requests/{}/status", a.id), Some(json!({ "status": "selesai" }))).await;
        assert_eq!(s, 200);
        // The complaint is answered.
        let (s, _) = staff(&url, &t, "POST", &format!("complaints/{}/response", c.id), Some(json!({ "status": "selesai" }))).await;
        assert_eq!(s, 409, "closing needs an answer");
        let (s, _) = staff(&url, &t, "POST", &format!("complaints/{}/response", c.id), Some(json!({ "status": "selesai", "response": "Sudah dibersihkan bersama DLH hari Sabtu" })))
            .await;
        assert_eq!(s, 200);
        let (_, cl) = staff(&url, &t, "GET", "complaints?status=selesai", None).await;
        assert_eq!(cl["total"], 1);

        // Decisions reach the phone.
        let out = client.sync(&phone.store, |_| {}).await.unwrap();
        let mut changes: Vec<(String, Status)> = out.report.status_changes.iter().map(|n| (n.receipt.clone(), n.status)).collect();
        changes.sort();
        let mut expect = vec![(a.receipt.clone(), Status::Selesai), (b.receipt.clone(), Status::Ditolak)];
        expect.sort();
        assert_eq!(changes, expect);
        {
            let s = phone.store.lock().unwrap();
            let ra = s.request(&a.id).unwrap();
            assert_eq!(ra.office.letter_number.as_deref(), Some("470/123/418.57.3/2026"));
            assert_eq!(s.request(&b.id).unwrap().status_reason(), Some("Bukan warga RT 001"));
            let comp = s.complaint(&c.id).unwrap();
            assert_eq!(comp.status(), ComplaintStatus::Selesai);
            assert_eq!(comp.latest_response(), Some("Sudah dibersihkan bersama DLH hari Sabtu"));
        }

        // Officers and devices, and the audit trail of who saw what.
        let (s, o) = staff(&url, &t, "POST", "officers", Some(json!({ "name": "Bu Ningsih", "rw": 1, "rt": 2 }))).await;
        assert_eq!(s, 201);
        let (s, e) = staff(&url, &t, "POST", "officers", Some(json!({ "name": "Pak Entah", "rw": 99 }))).await;
        assert_eq!((s, e["kode"].as_str()), (400, Some("wilayah_tidak_ada")));
        let oid = o["id"].as_str().unwrap();
        let (s, code) = staff(&url, &t, "POST", &format!("officers/{oid}/enrol-code"), Some(json!({ "hours": 24, "hub_url": "https://hub.balongsari.go.id" }))).await;
        assert_eq!(s, 201);
        assert!(code["qr"].as_str().unwrap().starts_with("jemput://enroll?hub=https%3A%2F%2Fhub.balongsari.go.id&code="));
        let (_, devices) = staff(&url, &t, "GET", "devices", None).await;
        let dev = devices.as_array().unwrap().iter().find(|d| d["officer_id"] == phone.officer_id.as_str()).unwrap().clone();
        assert!(dev["last_seen"].is_i64());
        let (_, audit) = staff(&url, &t, "GET", "audit?limit=200", None).await;
        let actions: Vec<&str> = audit.as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
        assert!(actions.contains(&"lihat_permohonan") && actions.contains(&"status:selesai") && actions.contains(&"isian_kantor"));
        // Revoking the device from the API: 401 for the phone, its unsent data kept.
        let dev_id = dev["id"].as_str().unwrap().to_string();
        let (s, _) = staff(&url, &t, "POST", &format!("devices/{dev_id}/revoke"), None).await;
        assert_eq!(s, 204);
        // Who did what: each staff change is in the audit once, with the person who made it.
        let (_, me) = staff(&url, &t, "GET", "me", None).await;
        let who = format!("staf:{}", me["id"].as_str().unwrap());
        let (_, audit) = staff(&url, &t, "GET", "audit?limit=500", None).await;
        let rows: Vec<(String, String)> = audit
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["actor"].as_str().unwrap().to_string(), r["action"].as_str().unwrap().to_string()))
            .collect();
        let of = |action: &str| rows.iter().filter(|(_, a)| a == action).cloned().collect::<Vec<_>>();
        assert_eq!(of(&format!("tambah_petugas:{oid}")), vec![(who.clone(), format!("tambah_petugas:{oid}"))]);
        assert_eq!(of(&format!("kode_pendaftaran:{oid}")), vec![(who.clone(), format!("kode_pendaftaran:{oid}"))]);
        assert_eq!(of(&format!("cabut_perangkat:{dev_id}")), vec![(who.clone(), format!("cabut_perangkat:{dev_id}"))]);
        assert!(of("status:selesai").iter().all(|(a, _)| *a == who) && !of("status:selesai").is_empty());
        phone.store.lock().unwrap().record_request(&draft(3, 1, 1), true).unwrap();
        assert!(client.sync(&phone.store, |_| {}).await.is_err());
        assert_eq!(phone.store.lock().unwrap().sync_health().unwrap().unsent_requests, 1);
        // No token, no data.
        let (s, _) = staff(&url, "salah", "GET", "requests", None).await;
        assert_eq!(s, 401);
    }
}

on_both_backends! {
    async fn a_bundle_brought_by_hand_is_imported_once_and_the_later_sync_adds_nothing(kind) {
        let hub = TestHub::start_on(kind).await.expect("back end");
        let url = hub.url();
        let phone = Phone::enrol(&hub, "Pak Hadi", Scope { rw: 2, rt: None }).await;
        let client = phone.client(&url, quick());
        client.sync(&phone.store, |_| {}).await.unwrap();
        let recs: Vec<_> = (0..3).map(|i| phone.store.lock().unwrap().record_request(&draft(10 + i, 2, 1 + i as u16), true).unwrap()).collect();
        let bundle = phone.store.lock().unwrap().export_bundle().unwrap();
        let post = |bytes: Vec<u8>| {
            let url = url.clone();
            let t = hub.staff_token.clone();
            async move {
                let r = reqwest::Client::new().post(format!("{url}/api/v1/staff/bundles")).bearer_auth(t).body(bytes).send().await.unwrap();
                (r.status().as_u16(), r.json::<Value>().await.unwrap())
            }
        };
        let (s, first) = post(bundle.clone()).await;
        assert_eq!(s, 200, "{first}");
        assert_eq!((first["docs"].as_u64(), first["changed"].as_u64()), (Some(3), Some(3)));
        assert_eq!(hub_requests(&hub), 3);
        let (_, again) = post(bundle.clone()).await;
        assert_eq!(again["changed"], 0, "importing the same bundle twice changes nothing");
        assert_eq!(hub_requests(&hub), 3);
        let (s, e) = post(b"bukan bundel".to_vec()).await;
        assert_eq!((s, e["kode"].as_str()), (400, Some("bundel_rusak")));
        // The office sees them; the phone's next sync confirms them without duplicates.
        let (_, page) = staff(&url, &hub.staff_token, "GET", "requests?rw=2", None).await;
        assert_eq!(page["total"], 3);
        let out = client.sync(&phone.store, |_| {}).await.unwrap();
        assert_eq!(out.report.refused.len(), 0);
        assert_eq!(hub_requests(&hub), 3);
        let s = phone.store.lock().unwrap();
        assert_eq!(s.sync_health().unwrap().unsent_requests, 0);
        for r in &recs {
            assert_eq!(s.request(&r.id).unwrap().status(), Status::Terkirim);
        }
    }
}

on_both_backends! {
    async fn two_hub_instances_on_one_database_serve_the_same_kelurahan(kind) {
        let hub = TestHub::start_on(kind).await.expect("back end");
        // A second instance: its own handle on the same database, its own address.
        let second = hub.store.reopen().unwrap();
        let (addr2, task2) = serve(second.clone()).await;
        let url2 = format!("http://{addr2}");
        let mut phones = Vec::new();
        for i in 0..4u16 {
            phones.push(Phone::enrol(&hub, &format!("Petugas {i}"), Scope { rw: 1 + i / 2, rt: Some(1 + i % 2) }).await);
        }
        // Phones record and sync at once, alternating instances.
        let mut tasks = Vec::new();
        for (i, p) in phones.iter().enumerate() {
            let rw = 1 + (i / 2) as u16;
            let rt = 1 + (i % 2) as u16;
            for k in 0..5 {
                p.store.lock().unwrap().record_request(&draft(i * 10 + k, rw, rt), true).unwrap();
            }
            let url = if i.is_multiple_of(2) { hub.url() } else { url2.clone() };
            let client = p.client(&url, quick());
            let p: &Phone = p;
            tasks.push(async move { client.sync(&p.store, |_| {}).await.unwrap() });
        }
        futures_join(tasks).await;
        assert_eq!(hub_requests(&hub), 20);
        // Staff decide through the second instance; phones hear of it through the first.
        let (_, page) = staff(&url2, &hub.staff_token, "GET", "requests?limit=100", None).await;
        for r in page["items"].as_array().unwrap() {
            let (s, _) = staff(&url2, &hub.staff_token, "POST", &format!("requests/{}/status", r["id"].as_str().unwrap()), Some(json!({ "status": "diproses" }))).await;
            assert_eq!(s, 200);
        }
        for p in &phones {
            let out = p.client(&hub.url(), quick()).sync(&p.store, |_| {}).await.unwrap();
            assert_eq!(out.report.status_changes.len(), 5, "each phone hears of its own five");
            let s = p.store.lock().unwrap();
            assert_eq!(s.count_requests(&jemput_core::store::RequestFilter { status: Some(Status::Diproses), ..Default::default() }).unwrap(), 5);
        }
        task2.abort();
    }
}

/// Runs futures concurrently on this task.
async fn futures_join<F: std::future::Future>(fs: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = fs.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in pinned.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(|o| o.expect("ready")).collect()
}
