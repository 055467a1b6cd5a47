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

/// The hub's state, in memory.
struct MemHub {
    actor: ActorId,
    docs: HashMap<String, AutoCommit>,
    log: Vec<(String, u16, u16)>,
    known: HashMap<String, Vec<ChangeHash>>,
}

impl MemHub {
    fn new() -> MemHub {
        MemHub { actor: document::random_actor(), docs: HashMap::new(), log: Vec::new(), known: HashMap::new() }
    }

    /// One exchange for a device with `actors` and scope RW 5 / RT 3.
    fn exchange(&mut self, actors: &[ActorId], officer: &str, device: &str, req: &SyncRequest) -> SyncResponse {
        let writer = DeviceWriter { device_id: device, officer_id: officer, scope: Scope { rw: 5, rt: Some(3) } };
        let mut replies = Vec::new();
        let mut refused = Vec::new();
        for dm in &req.docs {
            let known = self.known.get(&dm.doc_id).cloned().unwrap_or_default();
            let inc = hub_side::receive_from_device(self.docs.get(&dm.doc_id), &known, &writer, actors, &self.actor, &dm.message);
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
    s.set_enrolment("petugas-1", "K7QM").unwrap();
    let actors = vec![crate::sync::protocol::actor_from_hex(&s.actor_hex()).unwrap()];
    (dir, s, actors)
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
