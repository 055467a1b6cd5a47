//! What a transaction reads ahead and the writes it sends later (on PostgreSQL, pipelined with
//! the next statement it waits for, ADR 0005) behave as if each statement had run when it was
//! asked: a read made ahead is not served once the transaction has written what it read, a
//! write sent later is in place before the next read, and one that fails fails its
//! transaction, leaving nothing of it. On both back ends (SQLite runs every statement when
//! asked, so the two must agree).

use jemput_hub::on_both_backends;
use jemput_hub::storage::{Ahead, DocPlace, ExchangeRow, SealedDocIn, StorageError};
use jemput_hub::testing::TestDb;

fn doc<'a>(id: &'a str, sealed: &'a [u8]) -> SealedDocIn<'a> {
    let place = DocPlace { kind: "request", rw: 1, rt: 1, status: Some("diajukan"), receipt: None };
    SealedDocIn { doc_id: id, place, sealed, full_message: b"pesan", heads: &[7; 32] }
}

on_both_backends! {
    async fn a_read_made_ahead_is_not_served_once_the_transaction_wrote_what_it_read(kind) {
        let t = TestDb::fresh(kind).unwrap();
        t.db.with(|tx, _| {
            tx.set_meta("uji-a", b"satu")?;
            tx.set_meta("uji-b", b"dua")?;
            tx.store_sealed_docs(&[doc("d1", b"lama"), doc("d2", b"lain")])?;
            Ok::<_, StorageError>(())
        })
        .unwrap();
        let seen = t
            .db
            .with(|tx, _| {
                let ids = ["d1", "d2"];
                tx.read_ahead(&[Ahead::Meta("uji-a"), Ahead::Meta("uji-b"), Ahead::Meta("tidak-ada"), Ahead::SealedDocs(&ids, true)])?;
                let before = (tx.meta("uji-a")?, tx.meta("tidak-ada")?, tx.sealed_docs(&ids, true)?);
                // Written in this transaction: the next reads see the writes, not what was read
                // ahead; what was not written is still answered as read.
                tx.set_meta("uji-a", b"tiga")?;
                tx.store_sealed_docs(&[doc("d1", b"baru")])?;
                let after = (tx.meta("uji-a")?, tx.meta("uji-b")?, tx.sealed_docs(&ids, true)?);
                Ok::<_, StorageError>((before, after))
            })
            .unwrap();
        let pair = |id: &str, b: &[u8]| (id.to_string(), b.to_vec());
        assert_eq!(seen.0, (Some(b"satu".to_vec()), None, vec![pair("d1", b"lama"), pair("d2", b"lain")]));
        assert_eq!(seen.1, (Some(b"tiga".to_vec()), Some(b"dua".to_vec()), vec![pair("d1", b"baru"), pair("d2", b"lain")]));
        // And the write sent later was committed with the transaction.
        let stored = t.db.with(|tx, _| tx.sealed_docs(&["d1"], false)).unwrap();
        assert_eq!(stored, vec![pair("d1", b"baru")]);
    }
}

on_both_backends! {
    async fn a_write_sent_later_that_fails_fails_its_transaction_and_leaves_nothing(kind) {
        let t = TestDb::fresh(kind).unwrap();
        // Several times over, so a connection left in a bad state would be met again.
        for _ in 0..20 {
            let r = t.db.with(|tx, _| {
                tx.set_meta("uji-x", b"jangan disimpan")?;
                tx.audit(1, "staf:uji", "uji", None)?;
                // No such device: the row breaks a foreign key (on PostgreSQL when the write
                // goes out, with the commit).
                let row = ExchangeRow { key: "k".into(), upload: Vec::new(), answer: None, at: 1 };
                tx.put_exchange("perangkat-tidak-ada", &row)?;
                Ok::<_, StorageError>(())
            });
            assert!(r.is_err(), "the transaction fails");
        }
        let (meta, audit) =
            t.db.with(|tx, _| Ok::<_, StorageError>((tx.meta("uji-x")?, tx.audit_tail(10)?.into_iter().filter(|e| e.action == "uji").count())))
                .unwrap();
        assert_eq!((meta, audit), (None, 0), "nothing of the failed transactions was kept");
    }
}
