//! Erasure across every replica and retention expiry (ADR 0013), on the real hub engine over
//! SQLite and PostgreSQL with real device stores: a request recorded on phone A and synced,
//! phone B (the RW officer) holding a copy and going offline; the record erased at the hub (on
//! a resident's request, or when its retention period ends under a test clock); A syncs and
//! loses it; B comes back with an edit to it, is refused and loses it too. Then every row of
//! the hub's database and of both phones is opened with the keys that remain and searched,
//! with every file's raw bytes, for the resident's name, NIK and birth date in any form; the
//! letter register entry remains and the office index shows it without personal data. Backups
//! made before and after the erasure are opened too, with the data key and every record key the
//! register of backup keys and its mirror still hold: the erased resident is in neither, and a
//! restore of the older one keeps only her letter register entry.

use std::path::Path;

use automerge::AutoCommit;
use jemput_core::complaint::Complaint;
use jemput_core::crypto::{Cipher, MasterKey};
use jemput_core::document;
use jemput_core::kelurahan::Retention;
use jemput_core::permissions::Scope;
use jemput_core::request::{Actor, Request, Role, Sex, Status};
use jemput_core::store::{RequestFilter, Store, StoreKey};
use jemput_core::sync::bundle::Bundle;
use jemput_core::sync::hub_side::Placement;
use jemput_core::sync::protocol::{self, SyncRequest, SyncResponse};
use jemput_core::sync::{peer, SyncReport};
use jemput_core::test_support::{draft, test_catalog, test_kelurahan};
use jemput_core::time_util::DAY_MS;
use jemput_hub::backup;
use jemput_hub::engine::{Engine, Isolation};
use jemput_hub::error::ServiceError;
use jemput_hub::service;
use jemput_hub::storage::backup as files;
use jemput_hub::storage::backup_keys::BackupKeys;
use jemput_hub::storage::{DocFilter, HubDb, OfficeQuery};
use jemput_hub::testing::{BackendKind, TestDb};
use jemput_hub::web::index::{self, ListRow};
use jemput_tests::on_both_backends;

/// The resident whose data is erased.
const NAME: &str = "Sulastri Wulandari";
const NIK: &str = "3576024405900021";
/// Her birth date in every form it is written (records, the dashboard, letters, the NIK).
const BIRTH_FORMS: &[&str] = &["1990-05-04", "04-05-1990", "04/05/1990", "4 Mei 1990", "04 Mei 1990", "4/5/1990"];

/// A second resident, never erased: the scans must find him, or they are not looking.
const OTHER_NAME: &str = "Bambang Triyono";
const OTHER_NIK: &str = "3576020612850007";

/// The fixed time phones and staff act at (before any retention period runs out).
const T0: i64 = 1_763_000_000_000;

fn needles() -> Vec<String> {
    let mut n = vec![NAME.to_string(), NIK.to_string(), "Sulastri".into(), "Wulandari".into()];
    n.extend(BIRTH_FORMS.iter().map(|s| s.to_string()));
    n
}

struct Hub {
    t: TestDb,
    db: HubDb,
    engine: Engine,
}

struct Phone {
    dir: tempfile::TempDir,
    key: [u8; 32],
    store: Store,
    token: String,
}

impl Phone {
    fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("hp.db")
    }
}

fn hub(kind: BackendKind) -> Hub {
    let t = TestDb::fresh(kind).expect("back end available");
    let db = t.db.clone();
    service::setup::init(&db, &test_kelurahan(), &test_catalog()).unwrap();
    Hub { engine: Engine::new(db.clone(), Isolation::InProcess), db, t }
}

/// A phone enrolled for an officer of `scope`, with its clock at `now`.
fn phone(hub: &Hub, name: &str, scope: Scope, now: i64) -> Phone {
    let dir = tempfile::tempdir().unwrap();
    let key = StoreKey::generate();
    let mut s = Store::open(dir.path().join("hp.db"), &key).unwrap();
    s.set_clock(move || now);
    let (actor, device_id) = (s.actor_hex(), s.identity().unwrap().device_id);
    let name = name.to_string();
    let e = hub
        .db
        .with(move |tx, _| {
            let officer = service::add_officer(tx, &name, scope)?;
            let code = service::create_enrol_code(tx, &officer.id, 1)?;
            service::enrol(tx, &code, "HP uji", &actor, &device_id)
        })
        .unwrap();
    s.set_enrolment(&e.officer_id, &e.receipt_prefix).unwrap();
    Phone { dir, key: *key.as_bytes(), store: s, token: e.token }
}

async fn sync(hub: &Hub, p: &mut Phone) -> (SyncRequest, SyncReport) {
    let mut last = None;
    // Until nothing more waits (the first sync brings the catalog and profile too).
    for _ in 0..5 {
        let req = p.store.prepare_sync(1 << 20).unwrap();
        let answer = hub
            .engine
            .exchange(p.token.clone(), Some(protocol::new_exchange_key()), 0, protocol::encode(&req), Default::default())
            .await
            .unwrap();
        let resp = SyncResponse::decode(&answer).unwrap();
        let report = p.store.apply_sync(&req, &resp).unwrap();
        let more = resp.more;
        last = Some((req, report));
        if !more {
            break;
        }
    }
    last.unwrap()
}

/// Staff set a request's status at `at` (what the staff API does).
fn staff_sets(hub: &Hub, id: &str, status: Status, reason: Option<&str>, at: i64) {
    let (id, reason) = (id.to_string(), reason.map(str::to_string));
    hub.db
        .with(move |tx, cipher| {
            let mut doc = service::load_doc(tx, cipher, &id, true)?.unwrap();
            let mut r: Request = document::read(&doc).unwrap();
            r.mark_received();
            r.change_status(status, Actor { role: Role::Staf, id: "staf-1".into() }, reason.clone(), at).unwrap();
            if status == Status::Selesai {
                r.office.letter_number = Some("470/021/418.57.3/2026".into());
            }
            doc.set_actor(service::hub_actor(tx)?);
            document::update(&mut doc, &r).unwrap();
            service::put_doc_from(tx, cipher, &id, &mut doc, &Placement::of_request(&r))?;
            Ok::<_, ServiceError>(())
        })
        .unwrap();
}

/// The two residents' requests recorded on phone A (RT 3 / RW 5); returns (erased id, other id).
fn record_both(a: &mut Phone) -> (String, String) {
    let mut d = draft(NAME, NIK);
    d.notes = format!("Ibu {NAME} lahir 4 Mei 1990, minta diantar");
    let erased = a.store.record_request(&d, true).unwrap().id;
    let mut o = draft(OTHER_NAME, OTHER_NIK);
    o.applicant.sex = Sex::LakiLaki;
    o.applicant.birth_date = "1985-12-06".into();
    let other = a.store.record_request(&o, true).unwrap().id;
    (erased, other)
}

// ---- Opening everything with the keys that remain ----

/// Whether `plain` (opened with a remaining key) shows any needle: raw, or read as an
/// Automerge document at every point of its history, as a sync message, as a sync body, or as
/// a bundle.
fn reveals(plain: &[u8], needles: &[String]) -> Option<String> {
    if let Some(n) = raw_hit(plain, needles) {
        return Some(format!("in clear: {n}"));
    }
    if let Ok(doc) = AutoCommit::load(plain) {
        if let Some(n) = doc_reveals(doc, needles) {
            return Some(format!("in an Automerge document: {n}"));
        }
    }
    if let Some(n) = message_reveals(plain, needles) {
        return Some(format!("in a sync message: {n}"));
    }
    let bodies: Vec<Vec<protocol::DocMessage>> = [
        SyncRequest::decode(plain).ok().map(|r| r.docs),
        SyncResponse::decode(plain).ok().map(|r| r.docs),
        SyncResponse::decode(&protocol::compress(plain, protocol::FORMAT_PLAIN)).ok().map(|r| r.docs),
        SyncRequest::decode(&protocol::compress(plain, protocol::FORMAT_PLAIN)).ok().map(|r| r.docs),
        Bundle::decode(plain).ok().map(|b| b.docs),
    ]
    .into_iter()
    .flatten()
    .collect();
    for docs in bodies {
        for d in docs {
            if let Some(n) = message_reveals(&d.message, needles) {
                return Some(format!("in a sync body: {n}"));
            }
        }
    }
    None
}

fn raw_hit(bytes: &[u8], needles: &[String]) -> Option<String> {
    let lower = bytes.to_ascii_lowercase();
    needles.iter().find(|n| lower.windows(n.len()).any(|w| w == n.to_ascii_lowercase().as_bytes())).cloned()
}

fn message_reveals(bytes: &[u8], needles: &[String]) -> Option<String> {
    let msg = peer::decode_message(bytes).ok()?;
    let mut doc = AutoCommit::new();
    let mut state = automerge::sync::State::new();
    peer::receive(&mut doc, &mut state, msg).ok()?;
    doc_reveals(doc, needles)
}

/// Every state the document was ever in, read as a request or complaint.
fn doc_reveals(mut doc: AutoCommit, needles: &[String]) -> Option<String> {
    let hashes: Vec<automerge::ChangeHash> = doc.get_changes(&[]).iter().map(|c| c.hash()).collect();
    let mut states = vec![doc.clone()];
    for h in hashes {
        if let Ok(at) = doc.fork_at(&[h]) {
            states.push(at);
        }
    }
    for d in states {
        let json = match (document::read::<Request>(&d), document::read::<Complaint>(&d)) {
            (Ok(r), _) => serde_json::to_string(&r).unwrap(),
            (_, Ok(c)) => serde_json::to_string(&c).unwrap(),
            _ => continue,
        };
        if let Some(n) = raw_hit(json.as_bytes(), needles) {
            return Some(n);
        }
    }
    None
}

/// One row of a table: its text values and its byte values.
struct TableRow {
    table: String,
    texts: Vec<String>,
    ints: Vec<i64>,
    bytes: Vec<Vec<u8>>,
}

fn sqlite_rows(path: &Path) -> Vec<TableRow> {
    let c = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let tables: Vec<String> = {
        let mut st = c.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").unwrap();
        st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    let mut out = Vec::new();
    for t in tables {
        let mut st = c.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let n = st.column_count();
        let mut rows = st.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            let mut row = TableRow { table: t.clone(), texts: vec![], ints: vec![], bytes: vec![] };
            for i in 0..n {
                match r.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Text(s) => row.texts.push(String::from_utf8_lossy(s).into_owned()),
                    rusqlite::types::ValueRef::Blob(b) => row.bytes.push(b.to_vec()),
                    rusqlite::types::ValueRef::Integer(v) => row.ints.push(v),
                    _ => {}
                }
            }
            out.push(row);
        }
    }
    out
}

fn postgres_rows(url: &str) -> Vec<TableRow> {
    let url = url.to_string();
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let tables: Vec<String> = c
            .query("SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'", &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut out = Vec::new();
        for t in tables {
            for r in c.query(&format!("SELECT * FROM \"{t}\""), &[]).unwrap() {
                let mut row = TableRow { table: t.clone(), texts: vec![], ints: vec![], bytes: vec![] };
                for (i, col) in r.columns().iter().enumerate() {
                    match col.type_().name() {
                        "text" | "varchar" => row.texts.extend(r.get::<_, Option<String>>(i)),
                        "bytea" => row.bytes.extend(r.get::<_, Option<Vec<u8>>>(i)),
                        "int8" => row.ints.extend(r.get::<_, Option<i64>>(i)),
                        "int4" => row.ints.extend(r.get::<_, Option<i32>>(i).map(i64::from)),
                        _ => {}
                    }
                }
                out.push(row);
            }
        }
        out
    })
    .join()
    .unwrap()
}

/// Every context a hub or phone value may be sealed under, from the row's own texts and
/// numbers (ids, exchange keys, fingerprints, sequence numbers).
fn contexts(row: &TableRow) -> Vec<Vec<u8>> {
    let mut c: Vec<String> = vec!["hub:key_check".into(), "meta:key_check".into(), "meta:hub_link".into()];
    for t in &row.texts {
        c.extend([
            format!("hubdoc:{t}"),
            format!("hubfull:{t}"),
            format!("web:baris:{t}"),
            format!("relay:{t}"),
            format!("doc:{t}:snapshot"),
            format!("cadangan:daftar:{t}"),
        ]);
        for u in &row.texts {
            c.push(format!("hub:exchange:{t}:{u}"));
        }
        for i in &row.ints {
            c.push(format!("doc:{t}:chunk:{i}"));
        }
    }
    for i in &row.ints {
        c.push(format!("index:{i}:name"));
    }
    c.into_iter().map(String::into_bytes).collect()
}

/// Opens every sealed value of `rows` it can with `cipher` and looks at the plaintext and the
/// texts in the clear; returns (what revealed a needle, how many values were opened).
fn scan_rows(
    rows: &[TableRow],
    cipher: &Cipher,
    needles: &[String],
    chunk_doc: impl Fn(&TableRow) -> Option<String>,
) -> (Vec<String>, usize) {
    let mut found = Vec::new();
    let mut opened = 0;
    for row in rows {
        for t in &row.texts {
            if let Some(n) = raw_hit(t.as_bytes(), needles) {
                found.push(format!("{}: {n} in a text column", row.table));
            }
        }
        let mut ctx = contexts(row);
        if let Some(doc_id) = chunk_doc(row) {
            for i in &row.ints {
                ctx.push(format!("doc:{doc_id}:chunk:{i}").into_bytes());
            }
        }
        for b in &row.bytes {
            if let Some(n) = reveals(b, needles) {
                found.push(format!("{}: {n} (unsealed bytes)", row.table));
            }
            for c in &ctx {
                if let Ok(plain) = cipher.open(c, b) {
                    opened += 1;
                    if let Some(n) = reveals(&plain, needles) {
                        found.push(format!("{} ({}): {n}", row.table, String::from_utf8_lossy(c)));
                    }
                }
            }
        }
    }
    (found, opened)
}

/// Every file in `dir` (database, WAL, shared memory, journals).
fn files_in(dir: &Path) -> Vec<(String, Vec<u8>)> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

/// Pieces (32 bytes each) of sealed values that held the erased record before: none may be
/// left anywhere in the files (a stale page in the database or its WAL, openable with the key
/// that remains).
fn pieces(blobs: &[Vec<u8>]) -> Vec<Vec<u8>> {
    blobs.iter().flat_map(|b| b.chunks_exact(32).step_by(3).map(<[u8]>::to_vec).collect::<Vec<_>>()).collect()
}

fn assert_files_clean(files: &[(String, Vec<u8>)], needles: &[String], stale: &[Vec<u8>]) {
    for (path, bytes) in files {
        if let Some(n) = raw_hit(bytes, needles) {
            panic!("{n:?} in the clear in {path}");
        }
        for p in stale {
            assert!(!bytes.windows(32).any(|w| w == p.as_slice()), "a piece of the erased record's sealed data is left in {path}");
        }
    }
}

/// The sealed values the phone holds for document `doc_id` (its snapshot and chunks).
fn phone_blobs(p: &Phone, doc_id: &str) -> Vec<Vec<u8>> {
    let c = rusqlite::Connection::open_with_flags(p.path(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut out: Vec<Vec<u8>> =
        c.query_row("SELECT snapshot FROM docs WHERE doc_id = ?1", [doc_id], |r| r.get(0)).map(|b| vec![b]).unwrap();
    let mut st = c.prepare("SELECT c.data FROM doc_chunks c JOIN docs d ON d.id = c.doc WHERE d.doc_id = ?1").unwrap();
    out.extend(st.query_map([doc_id], |r| r.get::<_, Vec<u8>>(0)).unwrap().map(Result::unwrap));
    out
}

/// Every request of the office index.
fn requests() -> OfficeQuery {
    OfficeQuery { doc: DocFilter { kind: "request".into(), ..Default::default() }, ..Default::default() }
}

/// The sealed bundles a phone carries for relay.
fn relay_blobs(p: &Phone) -> Vec<Vec<u8>> {
    let c = rusqlite::Connection::open_with_flags(p.path(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut st = c.prepare("SELECT sealed FROM relay_bundles").unwrap();
    let out: Vec<Vec<u8>> = st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    assert!(!out.is_empty());
    out
}

/// The sealed values the hub holds for document `doc_id` (document, full message, list row).
fn hub_blobs(hub: &Hub, doc_id: &str) -> Vec<Vec<u8>> {
    let id = doc_id.to_string();
    hub.db
        .with(move |tx, cipher| {
            index::catch_up(tx, cipher)?;
            let mut out = vec![tx.sealed_doc(&id, false)?.unwrap()];
            out.extend(tx.sealed_full(&id)?.map(|f| f.message));
            let row: Vec<Vec<u8>> = tx.office_rows(&requests(), 0, 100)?.into_iter().filter(|(d, _)| *d == id).map(|(_, r)| r).collect();
            assert_eq!(row.len(), 1, "the record's sealed list row");
            out.extend(row);
            Ok::<_, ServiceError>(out)
        })
        .unwrap()
}

fn phone_rows(p: &Phone) -> Vec<TableRow> {
    sqlite_rows(&p.path())
}

fn hub_rows(hub: &Hub, kind: BackendKind) -> Vec<TableRow> {
    match kind {
        BackendKind::Sqlite => sqlite_rows(Path::new(&hub.t.location)),
        BackendKind::Postgres => postgres_rows(&hub.t.location),
    }
}

/// The phone's chunk rows carry their document's row id, not its id: the chunk context needs
/// the id.
fn phone_chunk_doc(p: &Phone) -> impl Fn(&TableRow) -> Option<String> {
    let c = rusqlite::Connection::open_with_flags(p.path(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut st = c.prepare("SELECT id, doc_id FROM docs").unwrap();
    let ids: Vec<(i64, String)> = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
    move |row: &TableRow| {
        if row.table != "doc_chunks" {
            return None;
        }
        ids.iter().find(|(rowid, _)| row.ints.first() == Some(rowid)).map(|(_, id)| id.clone())
    }
}

/// A backup of the hub while it serves (`jemput-hub backup`), into the hub's folder.
fn backup_now(hub: &Hub, name: &str) -> std::path::PathBuf {
    let file = hub.t.dir.path().join(name);
    let r = backup::backup(&hub.t.location, &hub.t.key, &hub.t.backup_keys(), &file, "sistem:uji").unwrap();
    assert!(r.records >= 1 && r.mirror.exists());
    file
}

/// Every record key the register of backup keys and its mirrors in `dir` still hold, as the
/// ciphers that open what a backup sealed under them.
fn remaining_record_ciphers(dir: &Path) -> Vec<Cipher> {
    let mut out = Vec::new();
    for (path, _) in files_in(dir).into_iter().filter(|(p, _)| p.contains("kunci-cadangan")) {
        let c = rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let mut st = c.prepare("SELECT key FROM record_keys").unwrap();
        let keys: Vec<Vec<u8>> = st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
        out.extend(keys.iter().map(|k| Cipher::new(&MasterKey::from_slice(k).unwrap(), "hub cadangan rekaman")));
    }
    assert!(out.len() >= 2, "the register and its mirror hold the other records' keys");
    out
}

/// The backups hold no form of the erased resident that the data key or any record key left
/// in the register (or its mirror) opens, nor any piece of her old sealed values; the other
/// resident's record does open (so the scan looks).
fn assert_backups_clean(hub: &Hub, backups: &[std::path::PathBuf], stale: &[Vec<u8>]) {
    let needles = needles();
    let mut ciphers = vec![Cipher::new(&hub.t.key, "hub")];
    ciphers.extend(remaining_record_ciphers(hub.t.dir.path()));
    let scratch = tempfile::tempdir().unwrap();
    for (i, file) in backups.iter().enumerate() {
        let plain = scratch.path().join(format!("isi-{i}.db"));
        files::open_file(&files::backup_cipher(&hub.t.key), file, &plain).unwrap();
        let rows = sqlite_rows(&plain);
        let mut other_opened = false;
        for c in &ciphers {
            let (found, _) = scan_rows(&rows, c, &needles, |_| None);
            assert!(found.is_empty(), "backup {} still opens the erased resident: {found:?}", file.display());
            let (other, _) = scan_rows(&rows, c, &[OTHER_NAME.to_string(), OTHER_NIK.to_string()], |_| None);
            other_opened |= !other.is_empty();
        }
        assert!(other_opened, "the scan of {} opens the other resident's record", file.display());
        assert_files_clean(&files_in(scratch.path()), &needles, stale);
        std::fs::remove_file(&plain).unwrap();
    }
}

/// The backup key the hub's register holds for record `id`.
fn backup_key(hub: &Hub, id: &str) -> MasterKey {
    BackupKeys::open_existing(&hub.t.backup_keys()).unwrap().key(id).unwrap().expect("the record has its backup key")
}

/// No file beside the hub (with `registers_only`, the register of backup keys and its mirrors
/// only) holds `key`.
fn assert_key_gone(hub: &Hub, key: &MasterKey, registers_only: bool) {
    for (path, bytes) in files_in(hub.t.dir.path()).into_iter().filter(|(p, _)| !registers_only || p.contains("kunci-cadangan")) {
        assert!(!bytes.windows(32).any(|w| w == key.as_bytes()), "the erased record's backup key is left in {path}");
    }
}

/// `backup` restored into a new SQLite file `name` beside the hub (whatever the hub's back
/// end), which carried at least one erasure.
fn restore_beside(hub: &Hub, backup: &Path, name: &str) -> HubDb {
    let restored = hub.t.dir.path().join(name).to_string_lossy().into_owned();
    let report = backup::restore(&restored, &hub.t.key, &hub.t.backup_keys(), backup, false, None, "sistem:uji").unwrap();
    assert!(report.erasures_carried >= 1);
    HubDb::open(&restored, &hub.t.key).unwrap()
}

/// The request `id` as `db` holds it, with its erasure if it was erased.
fn request_and_erasure(db: &HubDb, id: &str) -> (Request, Option<jemput_hub::storage::ErasedDoc>) {
    let id = id.to_string();
    db.with(move |tx, cipher| {
        let r: Request = document::read(&service::load_doc(tx, cipher, &id, false)?.unwrap()).unwrap();
        Ok::<_, ServiceError>((r, tx.erased(&id)?))
    })
    .unwrap()
}

/// Everything after the erasure: no trace of the resident anywhere the remaining keys reach,
/// the other resident still there (so the scans do look), the register entry kept and shown
/// without personal data.
fn assert_erased_everywhere(kind: BackendKind, hub: &Hub, phones: &[&Phone], erased: &str, stale: &[Vec<u8>]) {
    let needles = needles();
    let hub_cipher = Cipher::new(&hub.t.key, "hub");
    let rows = hub_rows(hub, kind);
    let (found, opened) = scan_rows(&rows, &hub_cipher, &needles, |_| None);
    assert!(found.is_empty(), "the hub still holds the erased resident: {found:?}");
    assert!(opened > 5, "the hub scan opened sealed values ({opened})");
    let (found_other, _) = scan_rows(&rows, &hub_cipher, &[OTHER_NAME.to_string(), OTHER_NIK.to_string()], |_| None);
    assert!(!found_other.is_empty(), "the scan finds the resident who was not erased");
    if kind == BackendKind::Sqlite {
        let files = files_in(hub.t.dir.path());
        assert!(files.iter().any(|(p, b)| p.ends_with("hub.db") && !b.is_empty()));
        assert_files_clean(&files, &needles, stale);
    }
    for p in phones {
        let cipher = Cipher::new(&StoreKey::new(p.key), "toko-perangkat");
        let rows = phone_rows(p);
        let (found, opened) = scan_rows(&rows, &cipher, &needles, phone_chunk_doc(p));
        assert!(found.is_empty(), "a phone still holds the erased resident: {found:?}");
        assert!(opened > 0, "the phone scan opened sealed values");
        let (found_other, _) = scan_rows(&rows, &cipher, &[OTHER_NAME.to_string()], phone_chunk_doc(p));
        assert!(!found_other.is_empty(), "the phone scan finds the resident who was not erased");
        assert_files_clean(&files_in(p.dir.path()), &needles, stale);
        assert!(p.store.request(erased).is_err(), "the phone no longer has the record");
    }
    // The letter register entry remains: the hub's record keeps its receipt code, service,
    // status and RT/RW; the office index lists it, without name or NIK, and a search by the
    // NIK finds nothing.
    let id = erased.to_string();
    let (register, row, by_nik) = hub
        .db
        .with(move |tx, cipher| {
            index::catch_up(tx, cipher)?;
            let doc = service::load_doc(tx, cipher, &id, false)?.expect("the register entry remains");
            let r: Request = document::read(&doc).unwrap();
            let rows = tx.office_rows(&requests(), 0, 100)?;
            let row = rows.iter().find(|(d, _)| *d == id).map(|(d, s)| ListRow::open(cipher, d, s).unwrap());
            let by_nik = tx.office_count(&OfficeQuery { tags: vec![index::nik_tag(cipher, NIK)], ..requests() })?;
            Ok::<_, ServiceError>((r, row, by_nik))
        })
        .unwrap();
    assert!(!register.receipt.is_empty() && register.service_code == "sktm");
    assert_eq!((register.applicant.address.rw, register.applicant.address.rt), (5, 3));
    assert!(register.applicant.name.is_empty() && register.applicant.nik.is_empty() && register.applicant.birth_date.is_empty());
    let row = row.expect("the office index lists the register entry");
    assert_eq!(row.receipt, register.receipt);
    assert!(row.name.is_empty() && row.nik.is_empty(), "the list row holds no personal data");
    assert_eq!(by_nik, 0, "the NIK's blind tag is gone");
}

/// Phone B (the RW officer) edits its copy while offline; it comes back after the erasure.
async fn b_comes_back_and_loses_it(hub: &Hub, b: &mut Phone, erased: &str) {
    let (req, report) = sync(hub, b).await;
    assert!(req.docs.iter().any(|d| d.doc_id == erased), "B brought its edit of the erased record");
    let refusal = report.refused.iter().find(|r| r.doc_id == erased).expect("B's edit is refused");
    assert_eq!(refusal.code, protocol::ERASED_CODE);
    assert!(b.store.request(erased).is_err(), "B's copy is gone");
    // B's next sync brings nothing back, and the hub did not take B's edit.
    let (req, report) = sync(hub, b).await;
    assert!(req.docs.is_empty() && report.refused.is_empty(), "{report:?}");
    assert_eq!(b.store.list_requests(&RequestFilter::default(), 0, 10).unwrap().len(), 1, "B keeps the other resident's request");
}

on_both_backends! {
    async fn staff_erasure_reaches_every_phone_and_leaves_no_trace(kind) {
        let hub = hub(kind);
        let mut a = phone(&hub, "Pak RT 3", Scope { rw: 5, rt: Some(3) }, T0);
        let mut b = phone(&hub, "Pak RW 5", Scope { rw: 5, rt: None }, T0);
        let (erased, other) = record_both(&mut a);
        // B also carries A's no-signal bundle (both records) to relay for A.
        let bundle = a.store.export_bundle().unwrap();
        assert_eq!(b.store.keep_bundle_for_relay(&bundle).unwrap(), 2);
        sync(&hub, &mut a).await;
        sync(&hub, &mut b).await;
        assert_eq!(b.store.request(&erased).unwrap().applicant.name, NAME, "B holds a copy");
        staff_sets(&hub, &erased, Status::Diproses, None, T0 + 60_000);
        sync(&hub, &mut a).await;
        // B goes offline and edits its copy there.
        b.store.set_request_notes(&erased, "Sudah ditelepon, Ibu Sulastri Wulandari datang Senin").unwrap();
        let mut stale = hub_blobs(&hub, &erased);
        stale.extend(phone_blobs(&a, &erased));
        stale.extend(phone_blobs(&b, &erased));
        stale.extend(relay_blobs(&b));
        // A backup while the record is whole: its personal data in there, sealed under its own
        // key; the key and its copy in the mirror beside the backup.
        let before = backup_now(&hub, "sebelum.cadangan");
        let record_key = backup_key(&hub, &erased);
        // Staff erase on the resident's request (what the staff API and the CLI run).
        let e = hub
            .db
            .with(|tx, cipher| index::erase_record(tx, cipher, &erased, "permintaan warga 3 Des 2026", "staf:uji", T0 + 120_000))
            .unwrap();
        hub.db.scrub().unwrap();
        assert_eq!((e.kind.as_str(), e.erased_by.as_str()), ("request", "staf:uji"));
        // The erasure itself destroyed the record's backup key, in the register and its mirror.
        assert_key_gone(&hub, &record_key, true);
        // A second erasure is refused, and audited once.
        let again = hub.db.with(|tx, cipher| index::erase_record(tx, cipher, &erased, "lagi", "staf:uji", T0));
        assert!(matches!(again, Err(ServiceError::Rejected("sudah_dihapus", _))));
        // A syncs: told, its copy goes.
        let (_, report) = sync(&hub, &mut a).await;
        assert!(report.refused.iter().any(|r| r.doc_id == erased && r.code == protocol::ERASED_CODE), "{report:?}");
        assert!(a.store.request(&erased).is_err());
        assert_eq!(a.store.request(&other).unwrap().applicant.name, OTHER_NAME, "A keeps the other resident");
        let (_, report) = sync(&hub, &mut a).await;
        assert!(report.refused.is_empty(), "told once: {report:?}");
        b_comes_back_and_loses_it(&hub, &mut b, &erased).await;
        // The bundle B carries keeps A's other record only.
        let relayed = b.store.relay_bundles().unwrap();
        assert_eq!(relayed.len(), 1);
        let docs: Vec<String> = Bundle::decode(&relayed[0].1).unwrap().docs.into_iter().map(|d| d.doc_id).collect();
        assert_eq!(docs, vec![other.clone()]);
        // A backup after it all.
        let after = backup_now(&hub, "sesudah.cadangan");
        // Every file and row, hub and phones, with the keys that remain; the record's backup key
        // is gone from the register and its mirror, and neither backup opens the resident.
        drop(a.store.prepare_sync(0).unwrap());
        assert_erased_everywhere(kind, &hub, &[&a, &b], &erased, &pieces(&stale));
        assert_key_gone(&hub, &record_key, false);
        assert_backups_clean(&hub, &[before.clone(), after], &pieces(&stale));
        // Restoring the older backup brings back the other resident whole and only the register
        // entry of the erased one, marked erased with the staff's reason.
        let back = restore_beside(&hub, &before, "pulih.db");
        let (register, erasure) = request_and_erasure(&back, &erased);
        let (whole, _) = request_and_erasure(&back, &other);
        assert!(register.applicant.name.is_empty() && register.applicant.nik.is_empty() && !register.receipt.is_empty());
        assert_eq!(whole.applicant.name, OTHER_NAME);
        assert_eq!(erasure.map(|e| e.reason).as_deref(), Some("permintaan warga 3 Des 2026"));
        drop(back);
        let audit = hub.db.with(|tx, _| Ok::<_, ServiceError>(tx.audit_tail(500)?)).unwrap();
        assert_eq!(audit.iter().filter(|e| e.action == "hapus_data" && e.doc_id.as_deref() == Some(erased.as_str())).count(), 1);
        assert!(audit.iter().any(|e| e.action == "ditolak:data_dihapus"), "B's refused edit is audited");
    }
}

on_both_backends! {
    async fn retention_expiry_erases_with_a_test_clock_and_phones_follow_the_synced_policy(kind) {
        let hub = hub(kind);
        // The phones keep finished requests 60 days, the hub 90 (set by the kelurahan, synced
        // to the phones with the profile).
        let policy = Retention { request_days_on_phone: 60, complaint_days_on_phone: 30, request_days_on_hub: 90, complaint_days_on_hub: 90 };
        let bad = Retention { request_days_on_hub: 10, ..policy };
        assert!(matches!(
            hub.db.with(|tx, cipher| service::erasure::set_retention(tx, cipher, &bad, "staf:uji")),
            Err(ServiceError::Invalid(..))
        ));
        assert!(hub.db.with(|tx, cipher| service::erasure::set_retention(tx, cipher, &policy, "staf:uji")).unwrap());
        let mut a = phone(&hub, "Pak RT 3", Scope { rw: 5, rt: Some(3) }, T0);
        let mut b = phone(&hub, "Pak RW 5", Scope { rw: 5, rt: None }, T0);
        let (erased, _other) = record_both(&mut a);
        sync(&hub, &mut a).await;
        sync(&hub, &mut b).await;
        assert_eq!(a.store.retention().unwrap(), policy, "the policy reached the phone");
        // Rejected by the office at T0: finished.
        let closed = T0 + 60_000;
        staff_sets(&hub, &erased, Status::Ditolak, Some("Berkas tidak lengkap"), closed);
        sync(&hub, &mut a).await;
        b.store.set_request_notes(&erased, "Ibu Sulastri Wulandari akan mengajukan lagi").unwrap();
        // Phones follow the synced policy: kept at 59 days…
        a.store.set_clock(move || closed + 59 * DAY_MS);
        assert_eq!(a.store.purge_by_policy().unwrap().requests, 0);
        assert!(a.store.request(&erased).is_ok());
        // …and the hub keeps it until its own period ends.
        assert_eq!(index::run_retention(&hub.db, closed + 89 * DAY_MS).unwrap(), 0);
        let mut stale = hub_blobs(&hub, &erased);
        stale.extend(phone_blobs(&a, &erased));
        stale.extend(phone_blobs(&b, &erased));
        // A backup while the record is whole, its personal data sealed under its own key.
        let before = backup_now(&hub, "sebelum-retensi.cadangan");
        let record_key = backup_key(&hub, &erased);
        assert_eq!(index::run_retention(&hub.db, closed + 91 * DAY_MS).unwrap(), 1, "the retention run erases it");
        // The retention run destroyed the record's backup key, in the register and its mirror.
        assert_key_gone(&hub, &record_key, true);
        assert_eq!(index::run_retention(&hub.db, closed + 92 * DAY_MS).unwrap(), 0, "once");
        let (_, report) = sync(&hub, &mut a).await;
        assert!(report.refused.iter().any(|r| r.doc_id == erased && r.code == protocol::ERASED_CODE), "{report:?}");
        assert!(a.store.request(&erased).is_err());
        b_comes_back_and_loses_it(&hub, &mut b, &erased).await;
        let after = backup_now(&hub, "sesudah-retensi.cadangan");
        assert_erased_everywhere(kind, &hub, &[&a, &b], &erased, &pieces(&stale));
        assert_key_gone(&hub, &record_key, false);
        assert_backups_clean(&hub, &[before.clone(), after], &pieces(&stale));
        // The older backup restored: the expired record comes back as its register entry only,
        // marked erased by the retention run.
        let back = restore_beside(&hub, &before, "pulih-retensi.db");
        let (register, erasure) = request_and_erasure(&back, &erased);
        assert!(register.applicant.name.is_empty() && register.applicant.nik.is_empty() && !register.receipt.is_empty());
        assert_eq!(register.status(), Status::Ditolak, "the letter register keeps the decision");
        assert_eq!(erasure.map(|e| e.erased_by).as_deref(), Some(service::erasure::RETENTION_ACTOR));
        drop(back);
        let audit = hub.db.with(|tx, _| Ok::<_, ServiceError>(tx.audit_tail(500)?)).unwrap();
        assert!(audit.iter().any(|e| e.actor == service::erasure::RETENTION_ACTOR && e.action == "hapus_data"));
    }
}

on_both_backends! {
    async fn a_closed_complaint_expires_at_the_hub_and_leaves_every_phone(kind) {
        use jemput_core::complaint::{ComplaintCategory, ComplaintDraft, ComplaintStatus, Place, Reporter};
        let hub = hub(kind);
        let mut a = phone(&hub, "Pak RT 3", Scope { rw: 5, rt: Some(3) }, T0);
        let mut b = phone(&hub, "Pak RW 5", Scope { rw: 5, rt: None }, T0);
        let id = a
            .store
            .record_complaint(&ComplaintDraft {
                category: ComplaintCategory::Pengaduan,
                topic: "Lampu jalan".into(),
                text: "Lampu di depan rumah Pak Sukarjo Wiryo padam seminggu".into(),
                place: Place { rt: 3, rw: 5, description: "Gang Kenanga".into() },
                reporter: Some(Reporter { name: "Sukarjo Wiryo".into(), phone: Some("085733334444".into()) }),
            })
            .unwrap()
            .id;
        sync(&hub, &mut a).await;
        sync(&hub, &mut b).await;
        assert!(b.store.complaint(&id).is_ok(), "B holds a copy");
        // The office closes it with its answer.
        let closed = T0 + 60_000;
        let cid = id.clone();
        hub.db
            .with(move |tx, cipher| {
                let mut doc = service::load_doc(tx, cipher, &cid, true)?.unwrap();
                let mut c: Complaint = document::read(&doc).unwrap();
                c.respond(ComplaintStatus::Selesai, Actor { role: Role::Staf, id: "staf-1".into() }, Some("Sudah diganti, Pak Sukarjo".into()), closed)
                    .unwrap();
                doc.set_actor(service::hub_actor(tx)?);
                document::update(&mut doc, &c).unwrap();
                service::put_doc_from(tx, cipher, &cid, &mut doc, &Placement::of_complaint(&c))?;
                Ok::<_, ServiceError>(())
            })
            .unwrap();
        sync(&hub, &mut a).await;
        // The default policy keeps a closed complaint's personal data a year at the hub.
        assert_eq!(index::run_retention(&hub.db, closed + 364 * DAY_MS).unwrap(), 0);
        assert_eq!(index::run_retention(&hub.db, closed + 366 * DAY_MS).unwrap(), 1);
        for p in [&mut a, &mut b] {
            let (_, report) = sync(&hub, p).await;
            assert!(report.refused.iter().any(|r| r.doc_id == id && r.code == protocol::ERASED_CODE), "{report:?}");
            assert!(p.store.complaint(&id).is_err(), "the phone's copy is gone");
        }
        let cid = id.clone();
        let kept: Complaint = hub
            .db
            .with(move |tx, cipher| Ok::<_, ServiceError>(document::read(&service::load_doc(tx, cipher, &cid, false)?.unwrap()).unwrap()))
            .unwrap();
        assert_eq!((kept.status(), kept.reporter.clone(), kept.text.as_str(), kept.place.rw), (ComplaintStatus::Selesai, None, "", 5));
        let needles: Vec<String> = ["Sukarjo", "85733334444", "Gang Kenanga", "padam seminggu"].iter().map(|s| s.to_string()).collect();
        let (found, opened) = scan_rows(&hub_rows(&hub, kind), &Cipher::new(&hub.t.key, "hub"), &needles, |_| None);
        assert!(found.is_empty() && opened > 0, "{found:?}");
        if kind == BackendKind::Sqlite {
            assert_files_clean(&files_in(hub.t.dir.path()), &needles, &[]);
        }
        for p in [&a, &b] {
            let (found, _) = scan_rows(&phone_rows(p), &Cipher::new(&StoreKey::new(p.key), "toko-perangkat"), &needles, phone_chunk_doc(p));
            assert!(found.is_empty(), "{found:?}");
            assert_files_clean(&files_in(p.dir.path()), &needles, &[]);
        }
    }
}
