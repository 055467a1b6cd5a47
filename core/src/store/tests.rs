//! Tests of the store: recording, listing, search, duplicates, encryption at rest, the wrong
//! key, durability across a killed process, and retention.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use super::*;
use crate::complaint::{ComplaintCategory, ComplaintStatus, Place, Reporter};
use crate::domain::name_search;
use crate::request::Address;

const T0: i64 = 1_763_000_000_000; // November 2025

pub(crate) use crate::test_support::{draft, nik, test_catalog, test_kelurahan};

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
    key: StoreKey,
    clock: Arc<AtomicI64>,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jemput.db");
        Fixture { _dir: dir, path, key: StoreKey::generate(), clock: Arc::new(AtomicI64::new(T0)) }
    }

    fn open(&self) -> Store {
        let mut s = Store::open(&self.path, &self.key).unwrap();
        let c = self.clock.clone();
        s.set_clock(move || c.load(Ordering::SeqCst));
        s
    }

    fn set_up(&self) -> Store {
        let mut s = self.open();
        s.set_kelurahan(&test_kelurahan()).unwrap();
        s.set_catalog(&test_catalog()).unwrap();
        s
    }

    fn advance_days(&self, days: i64) {
        self.clock.fetch_add(days * DAY_MS, Ordering::SeqCst);
    }
}

/// The office's decisions arrive by sync; until then tests apply them directly as staff.
fn office_sets(store: &mut Store, id: &str, status: Status, reason: Option<&str>) {
    let staff = Actor { role: Role::Staf, id: "staf-1".into() };
    let hub = Actor { role: Role::Sistem, id: "hub".into() };
    let now = store.now();
    store
        .edit_request(id, |r| {
            if r.status() == Status::Dicatat {
                r.change_status(Status::Terkirim, hub, None, now).map_err(Error::Forbidden)?;
            }
            r.change_status(status, staff, reason.map(str::to_string), now).map_err(Error::Forbidden)
        })
        .unwrap();
}

/// An aspiration recorded on the phone and closed (`selesai`) by the office with `answer`, as a
/// sync would bring it; returns it as recorded.
fn answered_aspiration(s: &mut Store, answer: &str) -> Recorded {
    let c = s
        .record_complaint(&ComplaintDraft {
            category: ComplaintCategory::Aspirasi,
            topic: "Posyandu".into(),
            text: "Mohon jadwal posyandu ditambah hari Sabtu".into(),
            place: Place { rt: 1, rw: 5, description: "Balai RW".into() },
            reporter: None,
        })
        .unwrap();
    let now = s.now();
    let mut d = s.load_doc(&c.id).unwrap().unwrap();
    let mut comp: Complaint = document::read(&d.doc).unwrap();
    let staff = Actor { role: Role::Staf, id: "staf-1".into() };
    comp.respond(ComplaintStatus::Selesai, staff, Some(answer.into()), now).unwrap();
    document::update(&mut d.doc, &comp).unwrap();
    docs::save(&s.conn, &s.cipher, &mut d, now, false).unwrap();
    index::put_complaint(&s.conn, d.rowid, &d.doc_id, &comp, now).unwrap();
    c
}

#[test]
fn records_a_request_and_reads_it_back() {
    let f = Fixture::new();
    let mut s = f.set_up();
    s.set_enrolment("petugas-rt3", "K7QM").unwrap();
    let rec = s.record_request(&draft("Siti Aminah", &nik(1)), false).unwrap();
    assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
    assert!(rec.receipt.starts_with("K7QM"));
    let r = s.request(&rec.id).unwrap();
    assert_eq!(r.applicant.name, "Siti Aminah");
    assert_eq!(r.status(), Status::Dicatat);
    assert_eq!(r.officer_id, "petugas-rt3");
    assert_eq!(r.catalog_version, 7);
    assert_eq!(r.checklist.get("kk"), Some(&true));
    assert_eq!(r.applicant.phone.as_deref(), crate::validation::phone::normalize_phone("081234567890").as_deref());
    assert_eq!(s.request_by_receipt(&rec.receipt.to_lowercase()).unwrap().id, rec.id);
    // Receipts are unique per device.
    let rec2 = s.record_request(&draft("Budi Santoso", &nik(2)), false).unwrap();
    assert_ne!(rec.receipt, rec2.receipt);
}

#[test]
fn invalid_input_is_refused_with_codes_and_nothing_is_saved() {
    let f = Fixture::new();
    let mut s = f.set_up();
    let mut d = draft("Siti Aminah", "12345");
    d.applicant.address.rt = 9;
    d.fields.clear();
    let Err(Error::Invalid(issues)) = s.record_request(&d, true) else { panic!("must be refused") };
    let codes: Vec<_> = issues.iter().map(|i| (i.field.as_str(), i.severity)).collect();
    assert!(codes.contains(&("applicant.nik", crate::Severity::Error)), "{issues:?}");
    assert!(issues.iter().any(|i| i.field == "fields.keperluan"), "{issues:?}");
    assert!(issues.iter().any(|i| i.field.starts_with("applicant.address")), "{issues:?}");
    assert!(issues.iter().all(|i| !i.message.contains("12345")), "messages carry no personal data");
    assert_eq!(s.count_requests(&RequestFilter::default()).unwrap(), 0);
}

#[test]
fn warnings_need_confirmation() {
    let f = Fixture::new();
    let mut s = f.set_up();
    let mut d = draft("Siti Aminah", &nik(1));
    d.documents_seen = vec!["ktp".into()];
    let Err(Error::NeedsConfirmation(w)) = s.record_request(&d, false) else { panic!("a missing document must be confirmed") };
    assert!(w.iter().any(|i| i.field == "documents_seen"), "{w:?}");
    assert_eq!(s.count_requests(&RequestFilter::default()).unwrap(), 0);
    let rec = s.record_request(&d, true).unwrap();
    assert_eq!(rec.warnings, w);
    assert_eq!(s.request(&rec.id).unwrap().checklist.get("kk"), Some(&false));
}

#[test]
fn duplicate_open_request_warns_until_it_is_closed() {
    let f = Fixture::new();
    let mut s = f.set_up();
    let first = s.record_request(&draft("Siti Aminah", &nik(1)), false).unwrap();
    let Err(Error::NeedsConfirmation(w)) = s.record_request(&draft("Siti Aminah", &nik(1)), false) else { panic!("duplicate must warn") };
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].code, "kemungkinan_ganda");
    assert!(w[0].message.contains(&first.receipt));
    // Another service for the same person, or another person, is not a duplicate.
    let mut other = draft("Siti Aminah", &nik(1));
    other.service_code = "domisili".into();
    other.fields.clear();
    assert!(s.check_request(&other).unwrap().is_empty());
    assert!(s.check_request(&draft("Budi", &nik(3))).unwrap().is_empty());
    // Once the first is rejected, a new request is no longer a duplicate.
    office_sets(&mut s, &first.id, Status::Ditolak, Some("Berkas tidak sesuai"));
    assert!(s.check_request(&draft("Siti Aminah", &nik(1))).unwrap().is_empty());
}

#[test]
fn the_duplicate_check_reads_the_nik_index_not_every_request_of_the_service() {
    let f = Fixture::new();
    let s = f.set_up();
    let plan: Vec<String> = s
        .conn
        .prepare(&format!("EXPLAIN QUERY PLAN {}", index::OPEN_DUPLICATES))
        .unwrap()
        .query_map(rusqlite::params![1i64, "sktm"], |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert!(plan.iter().any(|step| step.contains("requests_by_nik (nik_tag=? AND service_code=?)")), "{plan:?}");
    assert!(!plan.iter().any(|step| step.contains("requests_by_service")), "{plan:?}");
}

#[test]
fn lists_pages_and_searches_without_decoding_documents() {
    let f = Fixture::new();
    let mut s = f.set_up();
    let names = ["Siti Aminah", "Siti Rahayu", "Budi Santoso", "Ahmad Fauzi", "Dewi Lestari"];
    for (i, n) in names.iter().enumerate() {
        let mut d = draft(n, &nik(i as u32 + 1));
        if i % 2 == 1 {
            d.applicant.address = Address { street: "Jl. Mawar 2".into(), rt: 1, rw: 6 };
        }
        f.advance_days(0);
        f.clock.fetch_add(1000, Ordering::SeqCst);
        s.record_request(&d, false).unwrap();
    }
    // Prove listing does not touch documents: make every document unreadable.
    s.conn.execute("UPDATE docs SET snapshot = x'00' WHERE kind = 'request'", []).unwrap();
    let all = s.list_requests(&RequestFilter::default(), 0, 50).unwrap();
    assert_eq!(
        all.iter().map(|r| r.applicant_name.as_str()).collect::<Vec<_>>(),
        ["Dewi Lestari", "Ahmad Fauzi", "Budi Santoso", "Siti Rahayu", "Siti Aminah"]
    );
    let page = s.list_requests(&RequestFilter::default(), 2, 2).unwrap();
    assert_eq!(page.iter().map(|r| r.applicant_name.as_str()).collect::<Vec<_>>(), ["Budi Santoso", "Siti Rahayu"]);
    let search = |q: &str| {
        let f = RequestFilter { name: Some(q.into()), ..Default::default() };
        let mut v: Vec<String> = s.list_requests(&f, 0, 50).unwrap().into_iter().map(|r| r.applicant_name).collect();
        v.sort();
        v
    };
    assert_eq!(search("siti"), ["Siti Aminah", "Siti Rahayu"]);
    assert_eq!(search("SI ra"), ["Siti Rahayu"]);
    assert_eq!(search("ami"), ["Siti Aminah"]);
    assert_eq!(search("fauzi ahmad"), ["Ahmad Fauzi"]);
    // A name search lists newest first, like the plain list, in pages; the page is read from
    // the name index's own order, never by sorting every match (the plan has no sort).
    let siti = |offset| {
        let f = RequestFilter { name: Some("siti".into()), ..Default::default() };
        s.list_requests(&f, offset, 1).unwrap().into_iter().map(|r| r.applicant_name).collect::<Vec<_>>()
    };
    assert_eq!((siti(0), siti(1), siti(2)), (vec!["Siti Rahayu".to_string()], vec!["Siti Aminah".to_string()], vec![]));
    for q in ["siti", "si ra", "fauzi ahmad"] {
        let query = index::request_where(&s.cipher, &RequestFilter { name: Some(q.into()), rw: Some(6), ..Default::default() });
        let sql = format!("EXPLAIN QUERY PLAN SELECT r.doc {} ORDER BY {} LIMIT 50", query.from_where, query.newest_first);
        let plan: Vec<String> = s
            .conn
            .prepare(&sql)
            .unwrap()
            .query_map(rusqlite::params_from_iter(query.args), |r| r.get(3))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert!(!plan.iter().any(|l| l.contains("TEMP B-TREE")), "{q}: {plan:?}");
        assert!(plan[0].starts_with("SEARCH t USING PRIMARY KEY (token=?)"), "{q}: the name index leads: {plan:?}");
    }
    assert!(search("sitiaminah").is_empty());
    assert!(search("x").is_empty());
    let rw6 = RequestFilter { rw: Some(6), rt: Some(1), ..Default::default() };
    assert_eq!(s.count_requests(&rw6).unwrap(), 2);
    let by_status = RequestFilter { status: Some(Status::Dicatat), service_code: Some("sktm".into()), ..Default::default() };
    assert_eq!(s.count_requests(&by_status).unwrap(), 5);
    let by_receipt = RequestFilter { receipt: Some(all[0].receipt.clone()), ..Default::default() };
    assert_eq!(s.list_requests(&by_receipt, 0, 10).unwrap()[0].id, all[0].id);
    // Reading the full record does decode, and notices the damage.
    assert!(matches!(s.request(&all[0].id), Err(Error::Corrupt)));
}

#[test]
fn a_search_of_two_words_starts_from_their_pair_and_a_store_from_before_gets_pairs_once() {
    let f = Fixture::new();
    let mut s = f.set_up();
    let names = ["Siti Aminah", "Siti Situmorang", "Aminah Siti Rahayu", "Budi Siti", "Ni Ketut Ayu", "Siti", "Sitompul Amir"];
    for (i, n) in names.iter().enumerate() {
        f.clock.fetch_add(1000, Ordering::SeqCst);
        s.record_request(&draft(n, &nik(i as u32 + 1)), false).unwrap();
    }
    let expected: Vec<(&str, Vec<&str>)> = vec![
        ("siti ami", vec!["Aminah Siti Rahayu", "Siti Aminah"]),
        ("ami siti", vec!["Aminah Siti Rahayu", "Siti Aminah"]),
        ("siti situ", vec!["Siti Situmorang"]),
        ("sit siti", vec!["Aminah Siti Rahayu", "Budi Siti", "Siti", "Siti Aminah", "Siti Situmorang"]),
        ("ket ayu ni", vec!["Ni Ketut Ayu"]),
        ("siti ra ami", vec!["Aminah Siti Rahayu"]),
        ("siti budi", vec!["Budi Siti"]),
        ("siti siti", vec!["Aminah Siti Rahayu", "Budi Siti", "Siti", "Siti Aminah", "Siti Situmorang"]),
        ("siti xyz", vec![]),
        // Three letters of each word: the pair alone decides.
        ("sit ami", vec!["Aminah Siti Rahayu", "Siti Aminah", "Sitompul Amir"]),
        ("amir siti", vec![]),
    ];
    let check = |s: &Store| {
        for (q, want) in &expected {
            let f = RequestFilter { name: Some((*q).into()), ..Default::default() };
            let mut got: Vec<String> = s.list_requests(&f, 0, 50).unwrap().into_iter().map(|r| r.applicant_name).collect();
            got.sort();
            assert_eq!(&got, want, "{q}");
            assert_eq!(s.count_requests(&f).unwrap(), want.len() as u64, "{q}");
        }
    };
    check(&s);
    // The pair leads the plan: the search reads the pair's rows, not the first word's.
    let pair = s.cipher.tag("nama-pasangan", "ami sit");
    let query = index::request_where(&s.cipher, &RequestFilter { name: Some("siti ami".into()), ..Default::default() });
    assert_eq!(query.args.first(), Some(&rusqlite::types::Value::Integer(pair)));
    // "ami" is one half of the pair, so only "siti" is looked up beside it.
    assert_eq!(query.args.len(), 2, "{:?}", query.args);
    let pair_rows: i64 = s.conn.query_row("SELECT count(*) FROM name_tokens WHERE token = ?1", [pair], |r| r.get(0)).unwrap();
    assert_eq!(pair_rows, 3);
    // A store indexed before word pairs (no pair tags, no mark): opening it adds them, once.
    let tags: Vec<i64> = names.iter().flat_map(|n| name_search::pair_keys(n)).map(|k| s.cipher.tag("nama-pasangan", &k)).collect();
    for t in &tags {
        s.conn.execute("DELETE FROM name_tokens WHERE token = ?1", [t]).unwrap();
    }
    s.conn.execute("DELETE FROM meta WHERE key = 'name_pairs'", []).unwrap();
    let f2 = RequestFilter { name: Some("siti ami".into()), ..Default::default() };
    assert!(s.list_requests(&f2, 0, 50).unwrap().is_empty(), "without its pair tags the search finds nothing: the pairs are used");
    drop(s);
    let s = f.open();
    check(&s);
}

#[test]
fn officer_steps_are_checked_and_edits_persist_through_chunks_and_compaction() {
    let f = Fixture::new();
    let mut s = f.set_up();
    let rec = s.record_request(&draft("Siti Aminah", &nik(1)), false).unwrap();
    // Office steps are not the officer's.
    assert!(matches!(s.set_request_status(&rec.id, Status::Diproses, None), Err(Error::Forbidden(_))));
    // Handing over before the letter is ready is refused.
    assert!(matches!(s.set_request_status(&rec.id, Status::Diserahkan, None), Err(Error::Forbidden(_))));
    for i in 0..20 {
        s.set_request_notes(&rec.id, &format!("catatan ke-{i}")).unwrap();
    }
    s.set_document_seen(&rec.id, "kk", false).unwrap();
    office_sets(&mut s, &rec.id, Status::PerluKelengkapan, Some("Fotokopi KK belum ada"));
    let r = s.set_request_status(&rec.id, Status::Dilengkapi, None).unwrap();
    assert_eq!(r.status(), Status::Dilengkapi);
    let chunks: i64 = s.conn.query_row("SELECT count(*) FROM doc_chunks", [], |r| r.get(0)).unwrap();
    assert!(chunks < 8, "compaction keeps chunks bounded, found {chunks}");
    drop(s);
    let s = f.open();
    let r = s.request(&rec.id).unwrap();
    assert_eq!(r.notes, "catatan ke-19");
    assert_eq!(r.checklist.get("kk"), Some(&false));
    assert_eq!(r.status(), Status::Dilengkapi);
    assert_eq!(r.history.len(), 4);
    let listed = s.list_requests(&RequestFilter::default(), 0, 1).unwrap();
    assert_eq!(listed[0].status, Status::Dilengkapi);
}

#[test]
fn wrong_key_is_refused_and_the_database_is_untouched() {
    let f = Fixture::new();
    let mut s = f.set_up();
    let rec = s.record_request(&draft("Siti Aminah", &nik(1)), false).unwrap();
    drop(s);
    let before = std::fs::read(&f.path).unwrap();
    for _ in 0..2 {
        let err = Store::open(&f.path, &StoreKey::generate()).unwrap_err();
        assert!(matches!(err, Error::WrongKey), "{err:?}");
        assert_eq!(err.code(), "kunci_salah");
    }
    assert_eq!(std::fs::read(&f.path).unwrap(), before, "the file is byte-for-byte unchanged");
    let s = f.open();
    assert_eq!(s.request(&rec.id).unwrap().applicant.name, "Siti Aminah");
}

/// Every file in `dir` (database, WAL, shared memory, journals, temp files).
fn files_in(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
        .collect()
}

fn assert_absent(files: &[(PathBuf, Vec<u8>)], needles: &[String]) {
    assert!(files.iter().any(|(p, _)| p.to_string_lossy().ends_with("-wal")), "the WAL is among the files searched");
    for (path, bytes) in files {
        let lower: Vec<u8> = bytes.to_ascii_lowercase();
        for n in needles {
            let n = n.to_ascii_lowercase();
            assert!(!lower.windows(n.len()).any(|w| w == n.as_bytes()), "{n:?} found in plaintext in {}", path.display());
        }
    }
}

#[test]
fn personal_data_never_reaches_disk_in_plaintext() {
    let f = Fixture::new();
    let mut s = f.set_up();
    let people = [("Sulastri Wulandari", nik(11)), ("Bambang Triyono", nik(12)), ("Kartini Purbasari", nik(13))];
    let mut needles = Vec::new();
    for (name, n) in &people {
        let mut d = draft(name, n);
        d.applicant.kk = "3576021203180007".into();
        d.fields.insert("keperluan".into(), "Berobat jantung di RSUD Wahidin".into());
        s.record_request(&d, true).unwrap();
        needles.extend([name.to_string(), n.clone()]);
        needles.extend(name.split(' ').map(str::to_string));
    }
    needles.extend([
        "3576021203180007".to_string(),
        "1990-05-04".to_string(),
        "81234567890".to_string(),
        "Balongsari".to_string(),
        "RSUD Wahidin".to_string(),
    ]);
    s.record_complaint(&ComplaintDraft {
        category: ComplaintCategory::Pengaduan,
        topic: "Lampu jalan".into(),
        text: "Lampu jalan di depan rumah Pak Sukarjo padam seminggu".into(),
        place: Place { rt: 3, rw: 5, description: "Gang Kenanga".into() },
        reporter: Some(Reporter { name: "Sukarjo Wiryo".into(), phone: Some("085733334444".into()) }),
    })
    .unwrap();
    needles.extend(["Sukarjo".to_string(), "85733334444".to_string(), "Gang Kenanga".to_string()]);
    // Edits go to incremental chunks; search while the store is open (WAL not checkpointed)…
    for i in 0..3 {
        let id = s.list_requests(&RequestFilter::default(), i, 1).unwrap()[0].id.clone();
        s.set_request_notes(&id, "Ibu Sulastri Wulandari minta diantar").unwrap();
    }
    assert_absent(&files_in(f.path.parent().unwrap()), &needles);
    // …and after closing.
    drop(s);
    let files = files_in(f.path.parent().unwrap());
    for (path, bytes) in &files {
        for n in &needles {
            let n = n.to_ascii_lowercase();
            assert!(!bytes.to_ascii_lowercase().windows(n.len()).any(|w| w == n.as_bytes()), "{n:?} in {}", path.display());
        }
    }
    // The search really looks: the receipt code (not personal) is stored in the clear.
    let s = f.open();
    let receipt = s.list_requests(&RequestFilter::default(), 0, 1).unwrap()[0].receipt.clone();
    drop(s);
    let all: Vec<u8> = files_in(f.path.parent().unwrap()).into_iter().flat_map(|(_, b)| b).collect();
    assert!(all.windows(receipt.len()).any(|w| w == receipt.as_bytes()));
}

#[test]
fn retention_drops_whole_documents_of_closed_records_only() {
    let f = Fixture::new();
    let mut s = f.set_up();
    let handed = s.record_request(&draft("Siti Aminah", &nik(1)), false).unwrap();
    let rejected = s.record_request(&draft("Budi Santoso", &nik(2)), false).unwrap();
    let open = s.record_request(&draft("Dewi Lestari", &nik(3)), false).unwrap();
    for st in [Status::Diverifikasi, Status::Diproses, Status::Selesai] {
        office_sets(&mut s, &handed.id, st, None);
    }
    s.set_request_status(&handed.id, Status::Diserahkan, None).unwrap();
    office_sets(&mut s, &rejected.id, Status::Ditolak, Some("Bukan warga kelurahan ini"));
    let c = answered_aspiration(&mut s, "Jadwal Sabtu mulai bulan depan");
    f.advance_days(29);
    assert_eq!(s.purge_expired(30).unwrap(), PurgeReport::default());
    f.advance_days(2);
    assert_eq!(s.purge_expired(30).unwrap(), PurgeReport { requests: 2, complaints: 1 });
    assert!(matches!(s.request(&handed.id), Err(Error::NotFound)));
    assert!(matches!(s.request(&rejected.id), Err(Error::NotFound)));
    assert!(matches!(s.complaint(&c.id), Err(Error::NotFound)));
    assert_eq!(s.request(&open.id).unwrap().applicant.name, "Dewi Lestari");
    let leftovers: i64 = s
        .conn
        .query_row("SELECT (SELECT count(*) FROM docs WHERE kind IN ('request','complaint')) + (SELECT count(*) FROM doc_chunks) + (SELECT count(*) FROM name_tokens WHERE doc NOT IN (SELECT id FROM docs))", [], |r| r.get(0))
        .unwrap();
    assert_eq!(leftovers, 1, "only the open request's document remains, no orphan chunks or tokens");
}

#[test]
fn deletes_one_residents_record_on_request() {
    let f = Fixture::new();
    let mut s = f.set_up();
    let a = s.record_request(&draft("Siti Aminah", &nik(1)), false).unwrap();
    let b = s.record_request(&draft("Budi Santoso", &nik(2)), false).unwrap();
    s.delete_record(&a.id).unwrap();
    assert!(matches!(s.request(&a.id), Err(Error::NotFound)));
    assert!(matches!(s.delete_record(&a.id), Err(Error::NotFound)));
    assert_eq!(s.list_requests(&RequestFilter { name: Some("siti".into()), ..Default::default() }, 0, 10).unwrap().len(), 0);
    assert_eq!(s.request(&b.id).unwrap().applicant.name, "Budi Santoso");
}

#[test]
fn complaints_are_recorded_listed_and_validated() {
    let f = Fixture::new();
    let mut s = f.set_up();
    let d = ComplaintDraft {
        category: ComplaintCategory::Pengaduan,
        topic: "Sampah".into(),
        text: "Sampah di gang belum diangkut sejak minggu lalu".into(),
        place: Place { rt: 2, rw: 5, description: "Gang Melati".into() },
        reporter: None,
    };
    let rec = s.record_complaint(&d).unwrap();
    let c = s.complaint(&rec.id).unwrap();
    assert_eq!(c.status(), ComplaintStatus::Dicatat);
    assert!(c.reporter.is_none());
    let list = s.list_complaints(true, 0, 10).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].receipt, rec.receipt);
    let mut bad = d.clone();
    bad.text = "".into();
    bad.place.rw = 99;
    assert!(matches!(s.record_complaint(&bad), Err(Error::Invalid(_))));
}

#[test]
fn catalog_defaults_until_one_is_stored() {
    let f = Fixture::new();
    let mut s = f.open();
    assert_eq!(s.catalog().unwrap(), Catalog::default_catalog());
    assert!(s.kelurahan().unwrap().is_none());
    s.set_catalog(&test_catalog()).unwrap();
    let mut c = test_catalog();
    c.version = 8;
    c.services[0].processing_days = 3;
    s.set_catalog(&c).unwrap();
    drop(s);
    assert_eq!(f.open().catalog().unwrap(), c);
}

/// Runs in a child process: records a request, prints its id, and dies without closing.
#[test]
fn durability_child() {
    let Ok(path) = std::env::var("JEMPUT_DURABILITY_DB") else { return };
    let key = StoreKey::from_slice(&hex::decode(std::env::var("JEMPUT_DURABILITY_KEY").unwrap()).unwrap()).unwrap();
    let mut s = Store::open(&path, &key).unwrap();
    s.set_kelurahan(&test_kelurahan()).unwrap();
    s.set_catalog(&test_catalog()).unwrap();
    let rec = s.record_request(&draft("Siti Aminah", &nik(1)), false).unwrap();
    println!("RECORDED {}", rec.id);
    use std::io::Write;
    std::io::stdout().flush().unwrap();
    std::process::abort();
}

#[test]
fn a_saved_request_survives_the_app_being_killed() {
    let f = Fixture::new();
    let key_hex = hex::encode(f.key.as_bytes());
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "store::tests::durability_child", "--nocapture", "--test-threads=1"])
        .env("JEMPUT_DURABILITY_DB", &f.path)
        .env("JEMPUT_DURABILITY_KEY", key_hex)
        .output()
        .unwrap();
    assert!(!out.status.success(), "the child must die by abort");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let id = stdout.lines().find_map(|l| l.split_once("RECORDED ").map(|(_, id)| id)).unwrap_or_else(|| panic!("child output: {stdout}"));
    let s = f.open();
    assert_eq!(s.request(id.trim()).unwrap().applicant.name, "Siti Aminah");
}

#[test]
fn every_text_the_officer_types_has_its_limit_on_the_phone() {
    let f = Fixture::new();
    let mut s = f.set_up();
    s.set_enrolment("petugas-rt3", "K7QM").unwrap();
    let code = |e: Error| match e {
        Error::Invalid(i) => i[0].code.clone(),
        other => format!("{other:?}"),
    };
    let mut d = draft("Siti Aminah", &nik(1));
    d.applicant.birth_place = "Mojokerto ".repeat(20);
    assert_eq!(code(s.record_request(&d, true).unwrap_err()), "terlalu_panjang");
    let mut d = draft("Siti Aminah", &nik(1));
    d.applicant.address.street = "Jl. Balongsari ".repeat(20);
    assert_eq!(code(s.record_request(&d, true).unwrap_err()), "terlalu_panjang");
    let rec = s.record_request(&draft("Siti Aminah", &nik(1)), true).unwrap();
    assert_eq!(code(s.set_request_notes(&rec.id, &"n".repeat(2001)).unwrap_err()), "terlalu_panjang");
    s.set_request_notes(&rec.id, &"n".repeat(2000)).unwrap();
    office_sets(&mut s, &rec.id, Status::PerluKelengkapan, Some("Fotokopi KK"));
    assert_eq!(code(s.set_request_status(&rec.id, Status::Dilengkapi, Some("r".repeat(501))).unwrap_err()), "terlalu_panjang");
    s.set_request_status(&rec.id, Status::Dilengkapi, Some("Sudah dibawa".into())).unwrap();
    let mut c = ComplaintDraft {
        category: ComplaintCategory::Pengaduan,
        topic: "Jalan rusak".into(),
        text: "Jalan di depan musala berlubang besar".into(),
        place: Place { rt: 3, rw: 5, description: "d".repeat(201) },
        reporter: None,
    };
    assert_eq!(code(s.record_complaint(&c).unwrap_err()), "terlalu_panjang");
    c.place.description = "Depan musala".into();
    s.record_complaint(&c).unwrap();
}

/// A store with 30 requests (some edited into chunks), a complaint, a hub link and a
/// colleague's bundle waiting to be relayed; returns it with its request ids.
fn store_with_everything(f: &Fixture) -> (Store, Vec<String>) {
    let mut s = f.set_up();
    let mut ids = Vec::new();
    for i in 0..30u32 {
        f.clock.fetch_add(1000, Ordering::SeqCst);
        let name = ["Siti Aminah", "Budi Santoso", "Dewi Lestari"][i as usize % 3];
        let rec = s.record_request(&draft(name, &nik(i + 1)), true).unwrap();
        if i % 4 == 0 {
            for n in 0..3 {
                s.set_request_notes(&rec.id, &format!("catatan ke-{n}")).unwrap();
            }
        }
        ids.push(rec.id);
    }
    let d = ComplaintDraft {
        category: ComplaintCategory::Pengaduan,
        topic: "Sampah".into(),
        text: "Sampah di gang belum diangkut".into(),
        place: Place { rt: 1, rw: 5, description: "Gang Melati".into() },
        reporter: Some(Reporter { name: "Pak Warga".into(), phone: None }),
    };
    s.record_complaint(&d).unwrap();
    // The hub link as the sync layer keeps it (sealed in `meta`; the store's tests do not
    // name the layer above them).
    let link = cipher_seal(&s, b"meta:hub_link", br#"{"hub_url":"https://hub.uji","token":"rahasia-perangkat"}"#);
    s.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('hub_link', ?1)", params![link]).unwrap();
    let colleague = Fixture::new();
    let mut c = colleague.set_up();
    c.record_request(&draft("Ahmad Fauzi", &nik(99)), true).unwrap();
    s.keep_bundle_for_relay(&c.export_bundle().unwrap()).unwrap();
    s.remember_exchange("kunci00000000001", b"unggahan Siti Aminah yang terpotong").unwrap();
    (s, ids)
}

fn cipher_seal(s: &Store, context: &[u8], plain: &[u8]) -> Vec<u8> {
    s.cipher.seal(context, plain)
}

/// Everything a store shows: every request, the lists, a search, the duplicate check, the
/// complaints, the hub link, the relayed bundles and the sync exchange in flight.
fn everything(s: &Store, ids: &[String]) -> String {
    let requests: Vec<Request> = ids.iter().map(|id| s.request(id).unwrap()).collect();
    let list = s.list_requests(&RequestFilter::default(), 0, 100).unwrap();
    let search = s.list_requests(&RequestFilter { name: Some("siti ami".into()), ..Default::default() }, 0, 100).unwrap();
    let dup = s.check_request(&draft("Siti Aminah", &nik(1))).unwrap();
    let complaints = s.list_complaints(false, 0, 10).unwrap();
    let complaint = s.complaint(&complaints[0].id).unwrap();
    let link = String::from_utf8(s.cipher.open(b"meta:hub_link", &s.meta("hub_link").unwrap().unwrap()).unwrap()).unwrap();
    assert_eq!(search.len(), 10, "the name search finds Siti's ten");
    assert!(dup.iter().any(|i| i.code.contains("duplikat") || i.code.contains("ganda")), "the NIK's duplicate check: {dup:?}");
    // JSON, not Debug: the maps in a request are `HashMap`s, printed in a random order.
    let requests = serde_json::to_string(&requests).unwrap();
    let in_flight = s.exchange_in_flight().unwrap().map(|e| (e.key, String::from_utf8(e.body).unwrap()));
    assert!(in_flight.is_some());
    format!("{requests}\n{list:?}\n{search:?}\n{dup:?}\n{complaint:?}\n{link:?}\n{:?}\n{in_flight:?}", s.relay_bundles().unwrap())
}

#[test]
fn rotating_the_key_reseals_everything_and_the_old_key_stops_working() {
    let f = Fixture::new();
    let (mut s, ids) = store_with_everything(&f);
    let before = everything(&s, &ids);
    let new = StoreKey::generate();
    s.rotate_key(&new).unwrap();
    assert_eq!(everything(&s, &ids), before, "the open store carries on under the new key");
    drop(s);
    assert!(matches!(Store::open(&f.path, &f.key), Err(Error::WrongKey)), "the old key opens nothing");
    let s = Store::open(&f.path, &new).unwrap();
    assert_eq!(everything(&s, &ids), before, "nothing lost");
    // No sealed value is left under the old key, and the write-ahead log holds none of it.
    let old = Cipher::new(&f.key, "toko-perangkat");
    let snapshots: Vec<(String, Vec<u8>)> = s
        .conn
        .prepare("SELECT doc_id, snapshot FROM docs")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(snapshots.len(), 33, "30 requests, a complaint, the catalog and the profile");
    for (id, snap) in &snapshots {
        assert!(old.open(&docs::snapshot_context(id), snap).is_err());
    }
    let chunks: i64 = s.conn.query_row("SELECT count(*) FROM doc_chunks", [], |r| r.get(0)).unwrap();
    assert!(chunks > 0, "chunks were re-sealed too (they open, as every request read back)");
    let names: Vec<(i64, Vec<u8>)> = s
        .conn
        .prepare("SELECT doc, name_sealed FROM requests")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(names.iter().all(|(rowid, n)| old.open(format!("index:{rowid}:name").as_bytes(), n).is_err()));
    let wal = f.path.with_file_name("jemput.db-wal");
    assert_eq!(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0), 0, "the log was checkpointed and truncated");
    assert_absent(&files_in(f.path.parent().unwrap()), &["Siti Aminah".into(), nik(1), "rahasia-perangkat".into()]);
}

#[test]
fn a_key_rotation_cut_short_leaves_the_store_whole_under_the_old_key() {
    let f = Fixture::new();
    let (mut s, ids) = store_with_everything(&f);
    let before = everything(&s, &ids);
    // The files as a power cut half-way through the rotation would leave them.
    let cut = tempfile::tempdir().unwrap();
    let cut_db = cut.path().join("jemput.db");
    let new = StoreKey::generate();
    let mut copied = false;
    s.rotate_key_with(&new, &mut || {
        std::fs::copy(&f.path, &cut_db).unwrap();
        let wal = f.path.with_file_name("jemput.db-wal");
        if wal.exists() {
            std::fs::copy(&wal, cut.path().join("jemput.db-wal")).unwrap();
        }
        copied = true;
    })
    .unwrap();
    assert!(copied, "the rotation was caught half-way");
    assert!(matches!(Store::open(&cut_db, &new), Err(Error::WrongKey)), "the new key opens nothing of a rotation cut short");
    let mut old = Store::open(&cut_db, &f.key).unwrap();
    assert_eq!(everything(&old, &ids), before, "everything is there under the old key");
    // The app runs the rotation again, to the end.
    old.rotate_key(&new).unwrap();
    drop(old);
    assert_eq!(everything(&Store::open(&cut_db, &new).unwrap(), &ids), before);
}

#[test]
fn retention_follows_the_synced_policy_for_each_record_kind() {
    let f = Fixture::new();
    let mut s = f.set_up();
    assert_eq!(s.retention().unwrap(), crate::kelurahan::Retention::default(), "the defaults before a policy arrives");
    let mut k = s.kelurahan().unwrap().unwrap();
    k.retention = crate::kelurahan::Retention { request_days_on_phone: 10, complaint_days_on_phone: 40, ..Default::default() };
    s.set_kelurahan(&k).unwrap();
    let rejected = s.record_request(&draft("Budi Santoso", &nik(2)), false).unwrap();
    office_sets(&mut s, &rejected.id, Status::Ditolak, Some("Bukan warga kelurahan ini"));
    answered_aspiration(&mut s, "Sudah dijadwalkan");
    f.advance_days(9);
    assert_eq!(s.purge_by_policy().unwrap(), PurgeReport::default());
    f.advance_days(2);
    assert_eq!(s.purge_by_policy().unwrap(), PurgeReport { requests: 1, complaints: 0 }, "requests after 10 days");
    assert!(matches!(s.request(&rejected.id), Err(Error::NotFound)));
    f.advance_days(28);
    assert_eq!(s.purge_by_policy().unwrap(), PurgeReport::default());
    f.advance_days(2);
    assert_eq!(s.purge_by_policy().unwrap(), PurgeReport { requests: 0, complaints: 1 }, "complaints after 40 days");
}

#[test]
fn the_exchange_in_flight_is_kept_sealed_across_a_killed_process_until_forgotten() {
    let f = Fixture::new();
    let mut s = f.set_up();
    assert_eq!(s.exchange_in_flight().unwrap(), None);
    let body = format!("unggahan: Siti Aminah {}", nik(7)).into_bytes();
    s.remember_exchange("kunci00000000001", &body).unwrap();
    // Sealed like the rest of the store: neither the body nor the key is on disk in plaintext.
    assert_absent(&files_in(f.path.parent().unwrap()), &["Siti Aminah".into(), nik(7), "kunci00000000001".into()]);
    // The process dies without closing anything; the next one finds the exchange.
    std::mem::forget(s);
    let mut s = f.open();
    let kept = s.exchange_in_flight().unwrap().expect("kept");
    assert_eq!((kept.key.as_str(), &kept.body), ("kunci00000000001", &body));
    assert!(!format!("{kept:?}").contains("Siti"), "its Debug shows no personal data: {kept:?}");
    // A newer one replaces it; forgetting leaves none.
    s.remember_exchange("kunci00000000002", b"lain").unwrap();
    assert_eq!(s.exchange_in_flight().unwrap().map(|e| e.key), Some("kunci00000000002".into()));
    s.forget_exchange().unwrap();
    assert_eq!(s.exchange_in_flight().unwrap(), None);
    // A damaged value is an error, not an exchange.
    s.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('exchange_in_flight', x'00')", []).unwrap();
    assert!(matches!(s.exchange_in_flight(), Err(Error::Corrupt)));
}
