//! Engine tests: a real device [`Store`] against the real hub-side functions, with the hub's
//! storage kept in memory (the HTTP hub and its databases are tested in `hub/` and `tests/`).

use std::collections::HashMap;

use automerge::{ActorId, AutoCommit, ChangeHash};

use crate::document;
use crate::permissions::{DeviceWriter, Scope};
use crate::request::{Actor, Request, Role, Status};
use crate::store::tests::{draft, nik, test_catalog, test_kelurahan};
use crate::store::{RequestFilter, Store, StoreKey};
use crate::sync::hub_side;
use crate::sync::protocol::{DocMessage, DocRefusal, SyncRequest, SyncResponse, PROTOCOL_VERSION};

/// The receipt prefix the in-memory hub allocated to every test device.
const PREFIX: &str = "K7QM";

/// The hub's clock: an hour after the phones' (1_763_000_000_000, November 2025).
const HUB_NOW: i64 = 1_763_003_600_000;

/// The hub's state, in memory.
struct MemHub {
    actor: ActorId,
    docs: HashMap<String, AutoCommit>,
    log: Vec<(String, u16, u16)>,
    known: HashMap<String, Vec<ChangeHash>>,
    catalog: crate::catalog::Catalog,
    kelurahan: crate::kelurahan::Kelurahan,
    /// The scope of the devices it serves.
    scope: Scope,
}

impl MemHub {
    fn new() -> MemHub {
        MemHub {
            actor: document::random_actor(),
            docs: HashMap::new(),
            log: Vec::new(),
            known: HashMap::new(),
            catalog: test_catalog(),
            kelurahan: test_kelurahan(),
            scope: Scope { rw: 5, rt: Some(3) },
        }
    }

    /// One exchange for a device with `actors` and scope RW 5 / RT 3.
    fn exchange(&mut self, actors: &[ActorId], officer: &str, device: &str, req: &SyncRequest) -> SyncResponse {
        let prefixes = [PREFIX];
        let writer = DeviceWriter { device_id: device, officer_id: officer, scope: self.scope, prefixes: &prefixes };
        let ctx = hub_side::HubContext { now_ms: HUB_NOW, catalog: Some(&self.catalog), kelurahan: Some(&self.kelurahan) };
        let mut replies = Vec::new();
        let mut refused = Vec::new();
        for dm in &req.docs {
            let known = self.known.get(&dm.doc_id).cloned().unwrap_or_default();
            let inc = hub_side::receive_from_device(
                self.docs.get(&dm.doc_id),
                &known,
                &writer,
                actors,
                &self.actor,
                &dm.doc_id,
                &ctx,
                &dm.message,
            );
            self.known.insert(dm.doc_id.clone(), inc.device_heads.clone());
            if let Some(r) = inc.refusal {
                refused.push(DocRefusal { doc_id: dm.doc_id.clone(), code: r.code, message: r.message });
                continue;
            }
            if let (Some(doc), Some(p)) = (inc.updated, inc.placed) {
                let (rw, rt) = (p.rw, p.rt);
                self.docs.insert(dm.doc_id.clone(), doc);
                self.log.push((dm.doc_id.clone(), rw, rt));
            }
            if let Some(m) = inc.reply {
                replies.push(DocMessage { doc_id: dm.doc_id.clone(), message: m });
            }
        }
        // Documents changed in the log after the device's cursor and not answered yet.
        for (doc_id, _, _) in self.log.iter().skip(req.cursor as usize) {
            if replies.iter().any(|r| &r.doc_id == doc_id) || refused.iter().any(|r| &r.doc_id == doc_id) {
                continue;
            }
            let known = self.known.get(doc_id).cloned().unwrap_or_default();
            if let Some(m) = hub_side::message_for_device(self.docs.get_mut(doc_id).unwrap(), &known) {
                replies.push(DocMessage { doc_id: doc_id.clone(), message: m });
            }
        }
        SyncResponse { version: PROTOCOL_VERSION, cursor: self.log.len() as u64, more: false, docs: replies, refused }
    }

    fn staff_sets(&mut self, id: &str, status: Status, reason: Option<&str>) {
        let doc = self.docs.get_mut(id).unwrap();
        let mut r: Request = document::read(doc).unwrap();
        r.mark_received();
        r.change_status(status, Actor { role: Role::Staf, id: "staf-1".into() }, reason.map(str::to_string), 1_763_000_900_000).unwrap();
        doc.set_actor(self.actor.clone());
        document::update(doc, &r).unwrap();
        self.log.push((id.to_string(), 5, 3));
    }
}

fn device() -> (tempfile::TempDir, Store, Vec<ActorId>) {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path().join("hp.db"), &StoreKey::generate()).unwrap();
    s.set_clock(|| 1_763_000_000_000);
    s.set_kelurahan(&test_kelurahan()).unwrap();
    s.set_catalog(&test_catalog()).unwrap();
    s.set_enrolment("petugas-1", PREFIX).unwrap();
    let actors = vec![ActorId::from(hex(&s.actor_hex()))];
    (dir, s, actors)
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn sync(hub: &mut MemHub, s: &mut Store, actors: &[ActorId]) -> (SyncRequest, crate::sync::SyncReport) {
    let device = s.identity().unwrap().device_id;
    let req = s.prepare_sync(1 << 20).unwrap();
    let resp = hub.exchange(actors, "petugas-1", &device, &req);
    let report = s.apply_sync(&req, &resp).unwrap();
    (req, report)
}

#[test]
fn upload_takes_one_exchange_and_is_acknowledged_without_an_answer() {
    let (_d, mut s, actors) = device();
    for i in 0..3 {
        s.record_request(&draft("Siti Aminah", &nik(i + 1)), false).unwrap();
    }
    assert!(s.sync_health().unwrap().summary.starts_with("3 permohonan belum terkirim"), "{}", s.sync_health().unwrap().summary);
    let mut hub = MemHub::new();
    let device_id = s.identity().unwrap().device_id;
    let req = s.prepare_sync(1 << 20).unwrap();
    let resp = hub.exchange(&actors, "petugas-1", &device_id, &req);
    assert!(resp.docs.is_empty() && resp.refused.is_empty(), "the exchange itself acknowledges: {resp:?}");
    let report = s.apply_sync(&req, &resp).unwrap();
    assert_eq!(req.docs.len(), 3);
    assert_eq!(report.confirmed, 3, "{report:?}");
    assert_eq!(report.status_changes.iter().filter(|n| n.status == Status::Terkirim).count(), 3);
    assert!(!report.more);
    assert_eq!(hub.docs.len(), 3);
    for r in s.list_requests(&RequestFilter::default(), 0, 10).unwrap() {
        assert_eq!(r.status, Status::Terkirim);
        let mut on_hub: Request = document::read(&hub.docs[&r.id]).unwrap();
        assert_eq!(on_hub.history.len(), 1, "the hub writes no terkirim step");
        on_hub.mark_received();
        assert_eq!(on_hub, s.request(&r.id).unwrap(), "device and hub hold the same record");
    }
    let h = s.sync_health().unwrap();
    assert_eq!((h.unsent_requests, h.refused), (0, 0));
    assert!(h.summary.starts_with("Semua data sudah terkirim"), "{}", h.summary);
    // Idle: nothing to send, nothing comes back.
    let (req, report) = sync(&mut hub, &mut s, &actors);
    assert!(req.docs.is_empty());
    assert_eq!(report, Default::default());
}

#[test]
fn office_decisions_come_back_with_their_reasons() {
    let (_d, mut s, actors) = device();
    let rec = s.record_request(&draft("Siti Aminah", &nik(1)), false).unwrap();
    let mut hub = MemHub::new();
    sync(&mut hub, &mut s, &actors);
    hub.staff_sets(&rec.id, Status::PerluKelengkapan, Some("Fotokopi KK belum ada"));
    let (req, report) = sync(&mut hub, &mut s, &actors);
    assert!(req.docs.is_empty());
    assert_eq!(report.status_changes.len(), 1);
    assert_eq!(report.status_changes[0].status, Status::PerluKelengkapan);
    assert_eq!(report.status_changes[0].reason.as_deref(), Some("Fotokopi KK belum ada"));
    // The officer collects the document; the office sees it.
    s.set_request_status(&rec.id, Status::Dilengkapi, None).unwrap();
    let (req, _) = sync(&mut hub, &mut s, &actors);
    assert_eq!(req.docs.len(), 1);
    let on_hub: Request = document::read(&hub.docs[&rec.id]).unwrap();
    assert_eq!(on_hub.status(), Status::Dilengkapi);
}

#[test]
fn a_lost_response_is_repaired_by_the_next_sync_without_duplicates() {
    let (_d, mut s, actors) = device();
    let rec = s.record_request(&draft("Siti Aminah", &nik(1)), false).unwrap();
    let mut hub = MemHub::new();
    let device = s.identity().unwrap().device_id;
    let req = s.prepare_sync(1 << 20).unwrap();
    let _lost = hub.exchange(&actors, "petugas-1", &device, &req);
    assert_eq!(s.sync_health().unwrap().unsent_requests, 1, "nothing applied, still unsent");
    let (req2, report) = sync(&mut hub, &mut s, &actors);
    assert_eq!(req2.docs.len(), 1);
    assert_eq!(report.confirmed, 1);
    let mut on_hub: Request = document::read(&hub.docs[&rec.id]).unwrap();
    assert_eq!(on_hub.history.len(), 1, "recorded once: {:?}", on_hub.history);
    on_hub.mark_received();
    assert_eq!(s.request(&rec.id).unwrap(), on_hub);
    // Applying the same response twice changes nothing.
    let again = hub.exchange(&actors, "petugas-1", &device, &req2);
    s.apply_sync(&req2, &again).unwrap();
    assert_eq!(s.request(&rec.id).unwrap(), on_hub);
}

#[test]
fn forbidden_changes_are_refused_and_the_hub_copy_stays_untouched() {
    let (_d, mut s, actors) = device();
    let rec = s.record_request(&draft("Siti Aminah", &nik(1)), false).unwrap();
    let mut hub = MemHub::new();
    sync(&mut hub, &mut s, &actors);
    let before = document::read::<Request>(&hub.docs[&rec.id]).unwrap();
    // A tampered app writes an office field directly into its document.
    s.edit_request(&rec.id, |r| {
        r.office.letter_number = Some("474/999/2026".into());
        Ok(())
    })
    .unwrap();
    let (_, report) = sync(&mut hub, &mut s, &actors);
    assert_eq!(report.refused.len(), 1);
    assert_eq!(report.refused[0].code, "kolom_kantor");
    assert_eq!(document::read::<Request>(&hub.docs[&rec.id]).unwrap(), before);
    let h = s.sync_health().unwrap();
    assert_eq!(h.refused, 1);
    assert!(h.summary.contains("ditolak"), "{}", h.summary);
    assert_eq!(s.sync_refusal(&rec.id).unwrap().unwrap().code, "kolom_kantor");
    // A refused document is not resent on every sync.
    assert!(s.prepare_sync(1 << 20).unwrap().docs.is_empty());
    // Changes from an actor not bound to the device are refused too.
    let (_d2, mut other, _) = device();
    other.record_request(&draft("Budi", &nik(2)), false).unwrap();
    let device2 = other.identity().unwrap().device_id;
    let req = other.prepare_sync(1 << 20).unwrap();
    let resp = hub.exchange(&actors, "petugas-1", &device2, &req);
    assert_eq!(resp.refused[0].code, "aktor_tidak_dikenal");
    assert_eq!(hub.docs.len(), 1, "nothing of the foreign device was stored");
}

#[test]
fn a_bundle_hands_unsent_changes_over_without_signal_and_imports_idempotently() {
    let (_d, mut s, actors) = device();
    let a = s.record_request(&draft("Siti Aminah", &nik(1)), false).unwrap();
    s.record_request(&draft("Budi Santoso", &nik(2)), false).unwrap();
    let file = s.export_bundle().unwrap();
    assert!(!file.windows(5).any(|w| w == b"Aminah"), "the bundle body is compressed, not plain text");
    let bundle = crate::sync::bundle::Bundle::decode(&file).unwrap();
    assert_eq!(bundle.docs.len(), 2);
    assert_eq!(bundle.officer_id, "petugas-1");
    // The office imports it (twice).
    let mut hub = MemHub::new();
    let as_request = SyncRequest { version: PROTOCOL_VERSION, cursor: 0, docs: bundle.docs.clone() };
    let first = hub.exchange(&actors, &bundle.officer_id, &bundle.device_id, &as_request);
    assert!(first.refused.is_empty());
    let snapshot: Vec<Request> = {
        let mut v: Vec<Request> = hub.docs.values().map(|d| document::read(d).unwrap()).collect();
        v.sort_by(|x, y| x.id.cmp(&y.id));
        v
    };
    let log_len = hub.log.len();
    hub.exchange(&actors, &bundle.officer_id, &bundle.device_id, &as_request);
    let again: Vec<Request> = {
        let mut v: Vec<Request> = hub.docs.values().map(|d| document::read(d).unwrap()).collect();
        v.sort_by(|x, y| x.id.cmp(&y.id));
        v
    };
    assert_eq!(snapshot, again, "importing the same bundle twice changes nothing");
    assert_eq!(hub.log.len(), log_len);
    // The device is still "unsent" until its own sync confirms; that sync sends the same
    // changes again and the hub takes them as known.
    assert_eq!(s.sync_health().unwrap().unsent_requests, 2);
    let (_, report) = sync(&mut hub, &mut s, &actors);
    assert_eq!(report.confirmed, 2);
    assert_eq!(hub.docs.len(), 2);
    assert_eq!(s.request(&a.id).unwrap().status(), Status::Terkirim);
    // A colleague keeps the bundle to forward later, once.
    let (_d2, mut colleague, _) = device();
    assert_eq!(colleague.keep_bundle_for_relay(&file).unwrap(), 2);
    colleague.keep_bundle_for_relay(&file).unwrap();
    let waiting = colleague.relay_bundles().unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].1, file);
    colleague.forget_relay_bundle(&waiting[0].0).unwrap();
    assert!(colleague.relay_bundles().unwrap().is_empty());
    assert!(colleague.keep_bundle_for_relay(b"bukan bundel").is_err());
}

// ---- The hub's trust boundary (issue 10): what a modified phone sends, crafted with the real
// core, and what the per-document check makes of it.

/// Sends one document message as a modified phone would, under `doc_id`.
fn send_one(hub: &mut MemHub, actors: &[ActorId], device: &str, doc_id: &str, message: Vec<u8>) -> SyncResponse {
    let req = SyncRequest { version: PROTOCOL_VERSION, cursor: 0, docs: vec![DocMessage { doc_id: doc_id.into(), message }] };
    hub.exchange(actors, "petugas-1", device, &req)
}

/// The code the hub refused the device's only unsent document with (after a sync).
fn refused_code(hub: &mut MemHub, s: &mut Store, actors: &[ActorId]) -> Option<String> {
    let (_, report) = sync(hub, s, actors);
    report.refused.first().map(|r| r.code.clone())
}

#[test]
fn a_receipt_code_outside_the_prefixes_allocated_to_the_device_is_refused() {
    let (_d, mut s, actors) = device();
    // The modified phone writes receipt codes under a prefix the hub never allocated to it.
    s.set_enrolment("petugas-1", "M2X9").unwrap();
    let rec = s.record_request(&draft("Siti Aminah", &nik(1)), false).unwrap();
    assert!(rec.receipt.starts_with("M2X9"));
    let mut hub = MemHub::new();
    assert_eq!(refused_code(&mut hub, &mut s, &actors).as_deref(), Some("kode_bukan_perangkat"));
    assert!(hub.docs.is_empty(), "nothing stored");
    // Its own prefix goes through.
    s.set_enrolment("petugas-1", PREFIX).unwrap();
    s.record_request(&draft("Sri Wahyuni", &nik(2)), false).unwrap();
    let (_, report) = sync(&mut hub, &mut s, &actors);
    assert_eq!(hub.docs.len(), 1, "{report:?}");
}

#[test]
fn device_timestamps_outside_the_window_are_refused() {
    let cases: [(i64, bool); 5] = [
        (i64::MAX, false),
        (HUB_NOW + 2 * crate::time_util::DAY_MS, false),
        (crate::time_util::EPOCH_MS - 1, false),
        (i64::MIN, false),
        (HUB_NOW + crate::time_util::DAY_MS - 60_000, true),
    ];
    for (at, accepted) in cases {
        let (_d, mut s, actors) = device();
        let rec = s.record_request(&draft("Siti Aminah", &nik(1)), false).unwrap();
        s.edit_request(&rec.id, |r| {
            r.created_at = at;
            r.history[0].at = at;
            Ok(())
        })
        .unwrap();
        let mut hub = MemHub::new();
        let code = refused_code(&mut hub, &mut s, &actors);
        if accepted {
            assert_eq!(code, None, "at {at}");
            assert_eq!(hub.docs.len(), 1);
        } else {
            assert_eq!(code.as_deref(), Some("waktu_tidak_valid"), "at {at}");
            assert!(hub.docs.is_empty(), "at {at}");
        }
    }
    // An officer's later step stamped far ahead is refused too, and the office still works.
    let (_d, mut s, actors) = device();
    let rec = s.record_request(&draft("Siti Aminah", &nik(1)), false).unwrap();
    let mut hub = MemHub::new();
    sync(&mut hub, &mut s, &actors);
    hub.staff_sets(&rec.id, Status::PerluKelengkapan, Some("Fotokopi KK belum ada"));
    sync(&mut hub, &mut s, &actors);
    s.edit_request(&rec.id, |r| {
        r.history.push(crate::request::StatusChange {
            status: Status::Dilengkapi,
            at: i64::MAX,
            by: Actor { role: Role::Petugas, id: "petugas-1".into() },
            reason: None,
        });
        Ok(())
    })
    .unwrap();
    assert_eq!(refused_code(&mut hub, &mut s, &actors).as_deref(), Some("waktu_tidak_valid"));
    let on_hub: Request = document::read(&hub.docs[&rec.id]).unwrap();
    assert_eq!(on_hub.status(), Status::PerluKelengkapan);
}

#[test]
fn the_derived_terkirim_step_and_later_steps_never_wrap() {
    let mut r = crate::document::tests_support::sample_request();
    r.created_at = i64::MAX;
    r.history[0].at = i64::MAX;
    r.mark_received();
    assert_eq!(r.status(), Status::Terkirim, "the derived step saturates instead of wrapping");
    let staff = Actor { role: Role::Staf, id: "staf-1".into() };
    r.change_status(Status::Diverifikasi, staff.clone(), None, HUB_NOW).unwrap();
    assert_eq!(r.status(), Status::Diverifikasi);
    let mut c = crate::complaint::Complaint {
        id: "c".into(),
        receipt: "K7QM-2223-X".into(),
        category: crate::complaint::ComplaintCategory::Saran,
        topic: "Taman".into(),
        text: "Mohon taman diberi lampu".into(),
        place: crate::complaint::Place { rt: 3, rw: 5, description: String::new() },
        reporter: None,
        officer_id: "petugas-1".into(),
        device_id: "hp-1".into(),
        created_at: i64::MAX,
        updates: vec![crate::complaint::ComplaintUpdate {
            status: crate::complaint::ComplaintStatus::Diterima,
            at: i64::MAX,
            by: staff.clone(),
            response: None,
        }],
    };
    c.respond(crate::complaint::ComplaintStatus::Selesai, staff, Some("Sudah dipasang".into()), HUB_NOW).unwrap();
    assert_eq!(c.status(), crate::complaint::ComplaintStatus::Selesai);
}

#[test]
fn records_failing_the_phones_validators_are_refused_with_the_validators_code() {
    type Edit = fn(&mut Request);
    let cases: [(Edit, &str); 8] = [
        (|r| r.applicant.nik = "357602440590001".into(), "nik_panjang"),
        (|r| r.applicant.name = "Siti ".repeat(40_000), "nama_terlalu_panjang"),
        (|r| r.applicant.birth_date = "2099-01-01".into(), "tanggal_masa_depan"),
        (|r| r.applicant.address.rt = 4, "rt_tidak_ada"),
        (|r| r.service_code = "bukan_layanan".into(), "layanan_tidak_dikenal"),
        (|r| r.notes = "catatan ".repeat(400), "terlalu_panjang"),
        (|r| r.applicant.birth_place = "Mojokerto ".repeat(30), "terlalu_panjang"),
        (|r| r.applicant.address.street = "Jl. Balongsari ".repeat(30), "terlalu_panjang"),
    ];
    for (edit, code) in cases {
        let (_d, mut s, actors) = device();
        let rec = s.record_request(&draft("Siti Aminah", &nik(1)), false).unwrap();
        s.edit_request(&rec.id, |r| {
            edit(r);
            Ok(())
        })
        .unwrap();
        let mut hub = MemHub::new();
        hub.scope = Scope { rw: 5, rt: None };
        let (_, report) = sync(&mut hub, &mut s, &actors);
        assert_eq!(report.refused.first().map(|r| r.code.as_str()), Some(code), "{report:?}");
        assert!(!report.refused[0].message.is_empty());
        assert!(hub.docs.is_empty(), "{code}: nothing stored");
    }
    // An existing record edited into an invalid one is refused as well.
    let (_d, mut s, actors) = device();
    let rec = s.record_request(&draft("Siti Aminah", &nik(1)), false).unwrap();
    let mut hub = MemHub::new();
    sync(&mut hub, &mut s, &actors);
    s.edit_request(&rec.id, |r| {
        r.applicant.nik = "12345".into();
        Ok(())
    })
    .unwrap();
    assert_eq!(refused_code(&mut hub, &mut s, &actors).as_deref(), Some("nik_panjang"));
    assert_eq!(document::read::<Request>(&hub.docs[&rec.id]).unwrap().applicant.nik, nik(1));
}

#[test]
fn a_new_document_must_carry_its_own_record_id() {
    let (_d, mut s, actors) = device();
    let rec = s.record_request(&draft("Siti Aminah", &nik(1)), false).unwrap();
    let device_id = s.identity().unwrap().device_id;
    let req = s.prepare_sync(1 << 20).unwrap();
    let mut hub = MemHub::new();
    // The same record sent under another document id (two documents for one record id).
    let other_id = "0199aaaa-0000-7000-8000-000000000001";
    let resp = send_one(&mut hub, &actors, &device_id, other_id, req.docs[0].message.clone());
    assert_eq!(resp.refused.first().map(|r| r.code.as_str()), Some("id_tidak_cocok"), "{resp:?}");
    assert!(hub.docs.is_empty());
    // Under its own id it is taken.
    let resp = send_one(&mut hub, &actors, &device_id, &rec.id, req.docs[0].message.clone());
    assert!(resp.refused.is_empty(), "{resp:?}");
    assert_eq!(hub.docs.len(), 1);
}

#[test]
fn a_fresh_document_under_an_existing_id_is_refused() {
    let (_d, mut s, actors) = device();
    let rec = s.record_request(&draft("Siti Aminah", &nik(1)), false).unwrap();
    let mut hub = MemHub::new();
    sync(&mut hub, &mut s, &actors);
    let before = hub.docs.get_mut(&rec.id).unwrap().save();
    // A modified phone of the same officer builds a fresh document holding the same record
    // with its own values, under an actor that sorts first (so the honest values would win
    // every conflict and the fixed fields would look unchanged).
    let mut forged: Request = document::read(&hub.docs[&rec.id]).unwrap();
    forged.notes = "catatan asing".into();
    forged.applicant.address.street = "Jl. Lain No. 1".into();
    let low = ActorId::from([0u8; 16]);
    let mut fresh = document::create(&forged, &low).unwrap();
    let message = crate::sync::peer::exact_message(&mut fresh, &[]).unwrap();
    let device_id = s.identity().unwrap().device_id;
    let resp = send_one(&mut hub, &[actors[0].clone(), low], &device_id, &rec.id, message);
    assert_eq!(resp.refused.first().map(|r| r.code.as_str()), Some("riwayat_asing"), "{resp:?}");
    assert_eq!(hub.docs.get_mut(&rec.id).unwrap().save(), before, "the hub's copy is untouched");
}
