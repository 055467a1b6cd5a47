//! Fuzzing on stable Rust for what parses network and file input (issue 10): property tests
//! driven by proptest's runner over a kept corpus of real inputs (sync bodies, bundles,
//! Automerge messages made by the real core) plus mutations of them and random bytes. The
//! number of cases is `JEMPUT_FUZZ_CASES` (a bounded default inside `cargo test`; set it high
//! for a long campaign). Corpus: `tests/fuzz/corpus/<target>/`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// How many cases a target runs: `JEMPUT_FUZZ_CASES`, or `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("JEMPUT_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The corpus folder of `target`.
pub fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz").join("corpus").join(target)
}

/// Every input kept for `target` (sorted by file name).
pub fn corpus(target: &str) -> Vec<Vec<u8>> {
    let mut files: Vec<_> =
        std::fs::read_dir(corpus_dir(target)).map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect()).unwrap_or_default();
    files.sort();
    files.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

/// Writes `input` into `target`'s corpus under a name made from its hash.
pub fn keep(target: &str, input: &[u8]) -> std::io::Result<PathBuf> {
    let dir = corpus_dir(target);
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{}.bin", &blake3::hash(input).to_hex()[..16]));
    std::fs::write(&path, input)?;
    Ok(path)
}

/// One edit of an input.
#[derive(Debug, Clone)]
pub enum Edit {
    /// Overwrite the byte at (position modulo length).
    Set(usize, u8),
    /// Flip a bit.
    Flip(usize, u8),
    /// Insert bytes.
    Insert(usize, Vec<u8>),
    /// Remove a range.
    Remove(usize, usize),
    /// Cut the input.
    Truncate(usize),
    /// Duplicate a range in place.
    Repeat(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Edit::Set(p, b)),
        4 => (any::<usize>(), 0u8..8).prop_map(|(p, b)| Edit::Flip(p, b)),
        2 => (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..16)).prop_map(|(p, v)| Edit::Insert(p, v)),
        2 => (any::<usize>(), 1usize..32).prop_map(|(p, n)| Edit::Remove(p, n)),
        1 => any::<usize>().prop_map(Edit::Truncate),
        1 => (any::<usize>(), 1usize..64).prop_map(|(p, n)| Edit::Repeat(p, n)),
    ]
}

/// Applies `edits` to `input`.
pub fn mutate(mut input: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = input.len();
        match e {
            Edit::Set(p, b) if len > 0 => input[p % len] = *b,
            Edit::Flip(p, bit) if len > 0 => input[p % len] ^= 1 << bit,
            Edit::Insert(p, v) => {
                let at = p % (len + 1);
                input.splice(at..at, v.iter().copied());
            }
            Edit::Remove(p, n) if len > 0 => {
                let at = p % len;
                input.drain(at..(at + n).min(len));
            }
            Edit::Truncate(p) => input.truncate(p % (len + 1)),
            Edit::Repeat(p, n) if len > 0 => {
                let at = p % len;
                let part: Vec<u8> = input[at..(at + n).min(len)].to_vec();
                input.splice(at..at, part);
            }
            _ => {}
        }
    }
    input
}

/// Inputs for a target: a corpus entry with up to 8 edits (most cases), or random bytes.
pub fn inputs(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    assert!(!seeds.is_empty(), "the corpus is empty");
    let n = seeds.len();
    prop_oneof![
        8 => (0..n, proptest::collection::vec(edit(), 0..8)).prop_map(move |(i, e)| mutate(seeds[i].clone(), &e)),
        1 => proptest::collection::vec(any::<u8>(), 0..512),
    ]
}

/// Runs `check` on `cases` inputs from `strategy`; prints how many ran. A failing (shrunk)
/// input is kept, as its debug form, in `tests/fuzz/findings/<target>/` and the test fails
/// with it.
pub fn run<S: Strategy>(target: &str, cases: u32, strategy: S, check: impl Fn(S::Value))
where
    S::Value: std::fmt::Debug,
{
    let ran = AtomicU64::new(0);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let started = std::time::Instant::now();
    // The runner catches a panic and reports it as a failure with the input that caused it.
    let result = runner.run(&strategy, |input| {
        ran.fetch_add(1, Ordering::Relaxed);
        check(input);
        Ok(())
    });
    eprintln!("fuzz {target}: {} executions in {:.1?}", ran.load(Ordering::Relaxed), started.elapsed());
    if let Err(e) = result {
        if let proptest::test_runner::TestError::Fail(_, input) = &e {
            let _ = keep(&format!("../findings/{target}"), format!("{input:?}").as_bytes());
        }
        panic!("fuzz {target}: {e}");
    }
}
