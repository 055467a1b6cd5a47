//! The hub checks incoming documents before its write transaction, outside the lock, and the
//! transaction reuses such a check only when its job (the hub's copy, what the device is known
//! to have, the message, the device) is still exactly the same; anything else is checked again.

use jemput_core::permissions::Scope;
use jemput_core::sync::client::RetryPolicy;
use jemput_hub::engine::worker::{run_job, Isolation};
use jemput_hub::engine::{check_incoming, prepare_checks};
use jemput_hub::service;
use jemput_tests::harness::{draft, Phone, TestHub};
use jemput_tests::on_both_backends;

on_both_backends! {
async fn a_precheck_is_reused_only_for_the_same_job(kind) {
    let hub = TestHub::start_on(kind).await.expect("back end available");
    let phone = Phone::enrol(&hub, "Bu Sri", Scope { rw: 1, rt: Some(2) }).await;
    phone.client(&hub.url(), RetryPolicy::default()).sync(&phone.store, |_| {}).await.unwrap();
    let token = phone.token.clone();
    let device = hub.db.with(move |tx, _| service::device_by_token(tx, &token)).unwrap().unwrap();
    let iso = Isolation::default();

    // A stale check (made when the hub's copy was different) is not reused.
    phone.store.lock().unwrap().record_request(&draft(1, 1, 2), true).unwrap();
    let req = phone.store.lock().unwrap().prepare_sync(256 * 1024).unwrap();
    let (d, docs) = (device.clone(), req.docs.clone());
    let jobs = hub.db.with(move |tx, cipher| prepare_checks(tx, cipher, &d, &docs, req.cursor)).unwrap();
    assert_eq!(jobs.len(), 1);
    let mut fake = run_job(&jobs[0]);
    assert!(fake.refusal.is_none(), "{:?}", fake.refusal);
    fake.refusal = Some(("dari_uji".into(), "hasil pemeriksaan lama".into()));
    let mut stale = jobs[0].clone();
    stale.current = Some(vec![1, 2, 3]);
    let (d, docs, pre, i) = (device.clone(), req.docs.clone(), vec![(stale, fake.clone())], iso.clone());
    let applied = hub.db.with(move |tx, cipher| check_incoming(tx, cipher, &i, &d, &docs, req.cursor, true, &pre)?.stored(tx, cipher, "uji")).unwrap();
    assert!(applied[0].refusal.is_none() && applied[0].stored, "checked again, accepted, stored");

    // The same job: the check made outside the transaction is used as it is.
    phone.store.lock().unwrap().record_request(&draft(2, 1, 2), true).unwrap();
    let req2 = phone.store.lock().unwrap().prepare_sync(256 * 1024).unwrap();
    let new_doc: Vec<_> = req2.docs.iter().filter(|m| m.doc_id != req.docs[0].doc_id).cloned().collect();
    assert_eq!(new_doc.len(), 1);
    let (d, docs) = (device.clone(), new_doc.clone());
    let jobs = hub.db.with(move |tx, cipher| prepare_checks(tx, cipher, &d, &docs, req2.cursor)).unwrap();
    let (d, docs, pre, i) = (device.clone(), new_doc.clone(), vec![(jobs[0].clone(), fake.clone())], iso.clone());
    let applied = hub.db.with(move |tx, cipher| check_incoming(tx, cipher, &i, &d, &docs, req2.cursor, true, &pre)?.stored(tx, cipher, "uji")).unwrap();
    assert_eq!(applied[0].refusal.as_ref().map(|r| r.code.as_str()), Some("dari_uji"));
    assert!(!applied[0].stored);

    // A check made before the catalog changed is not reused: the job carries the catalog.
    phone.store.lock().unwrap().record_request(&draft(3, 1, 2), true).unwrap();
    let req3 = phone.store.lock().unwrap().prepare_sync(256 * 1024).unwrap();
    let sent: Vec<_> = [&req.docs[0].doc_id, &new_doc[0].doc_id].into_iter().cloned().collect();
    let newest: Vec<_> = req3.docs.iter().filter(|m| !sent.contains(&m.doc_id)).cloned().collect();
    assert_eq!(newest.len(), 1);
    let (d, docs) = (device.clone(), newest.clone());
    let jobs = hub.db.with(move |tx, cipher| prepare_checks(tx, cipher, &d, &docs, req3.cursor)).unwrap();
    let mut catalog = hub.db.with(|tx, cipher| service::docs::catalog(tx, cipher)).unwrap().expect("the hub has a catalog").as_ref().clone();
    catalog.version += 1;
    service::setup::update_catalog(&hub.db, &catalog).unwrap();
    let (d, docs, pre, i) = (device.clone(), newest, vec![(jobs[0].clone(), fake)], iso);
    let applied = hub.db.with(move |tx, cipher| check_incoming(tx, cipher, &i, &d, &docs, req3.cursor, true, &pre)?.stored(tx, cipher, "uji")).unwrap();
    assert!(applied[0].refusal.is_none() && applied[0].stored, "checked again under the new catalog, accepted, stored");
}
}
