//! Unit tests of the PostgreSQL back end: the statement text checks, and (with
//! `JEMPUT_TEST_POSTGRES_URL`) the settings every pooled connection starts with.

use super::{names_table, park_on, same_args, OwnedArg, PgBackend};
use crate::storage::sql::Arg;
use crate::testing::{BackendKind, TestDb};

#[test]
fn every_connection_plans_a_statement_once_and_keeps_the_options_it_was_given() {
    let Some(store) = TestDb::fresh(BackendKind::Postgres) else { return };
    // The operator's own options in the URL stay, beside the hub's.
    let sep = if store.location.contains('?') { '&' } else { '?' };
    let url = format!("{}{sep}options=-c%20statement_timeout%3D4321", store.location);
    let backend = PgBackend::connect(&url).unwrap();
    let c = backend.checkout().unwrap();
    let show = |name: &str| -> String { park_on(c.query_one(&format!("SHOW {name}"), &[])).unwrap().get(0) };
    assert_eq!(show("plan_cache_mode"), "force_generic_plan");
    assert_eq!(show("statement_timeout"), "4321ms");
    // A prepared lookup run with arrays of every length is planned once, generically.
    let lookup = "SELECT doc_id FROM erased_docs WHERE doc_id = ANY($1)";
    let st = park_on(c.prepare(lookup)).unwrap();
    for n in 1..=12usize {
        let ids: Vec<String> = (0..n).map(|i| format!("d{i}")).collect();
        park_on(c.query(&st, &[&ids])).unwrap();
    }
    let (generic, custom): (i64, i64) = {
        let r = park_on(c.query_one("SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1", &[&lookup]))
            .unwrap();
        (r.get(0), r.get(1))
    };
    // (Without the setting the first five runs would each be planned for their values.)
    assert_eq!((generic, custom), (12, 0), "every run on the one generic plan");
}

#[test]
fn a_table_is_named_only_as_a_whole_word() {
    assert!(names_table("INSERT INTO docs (doc_id) VALUES ($1)", "docs"));
    assert!(names_table("UPDATE device_known k SET heads = u.h", "device_known"));
    assert!(!names_table("SELECT doc_id FROM erased_docs WHERE doc_id = ANY($1)", "docs"));
    assert!(!names_table("UPDATE devices SET last_seen = $2", "device_known"));
    assert!(!names_table("INSERT INTO device_known (device_id) VALUES ($1)", "devices"));
    assert!(names_table("WITH c AS (INSERT INTO change_log (doc_id) SELECT 1) INSERT INTO docs SELECT 1", "change_log"));
}

#[test]
fn rows_read_ahead_answer_only_the_same_arguments() {
    // A read named ahead is found again by its statement and arguments: the same kind and value.
    let ids = ["d1", "d2"];
    let kept: Vec<OwnedArg> = [Arg::Text("hp-1"), Arg::Texts(&ids)].iter().map(OwnedArg::of).collect();
    let is = |given: &[Arg<'_>]| same_args(&kept, given);
    assert!(is(&[Arg::Text("hp-1"), Arg::Texts(&["d1", "d2"])]));
    assert!(!is(&[Arg::Text("hp-2"), Arg::Texts(&ids)]), "another device");
    assert!(!is(&[Arg::Text("hp-1"), Arg::Texts(&["d1"])]), "fewer documents");
    assert!(!is(&[Arg::Text("hp-1"), Arg::Texts(&["d2", "d1"])]), "another order");
    assert!(!is(&[Arg::Bytes(b"hp-1"), Arg::Texts(&ids)]), "bytes are not text");
    assert!(!OwnedArg::of(&Arg::Int(1)).is(&Arg::Bool(true)), "a number is not a boolean");
    assert!(OwnedArg::of(&Arg::Null).is(&Arg::Null));
    assert!(OwnedArg::of(&Arg::OptTexts(&[Some("a"), None])).is(&Arg::OptTexts(&[Some("a"), None])));
    assert!(!OwnedArg::of(&Arg::OptTexts(&[Some("a"), None])).is(&Arg::OptTexts(&[Some("a"), Some("")])));
    assert!(OwnedArg::of(&Arg::Blobs(&[b"x"])).is(&Arg::Blobs(&[b"x"])));
    assert!(!OwnedArg::of(&Arg::Ints(&[1, 2])).is(&Arg::Ints(&[1, 3])));
}
