//! Automerge decoding of what devices send, isolated from the hub. Each incoming document
//! message is applied and checked (`hub_side::receive_from_device`) in a worker process: a
//! child `jemput-hub decode-worker` with an address-space limit (RLIMIT_AS), fed jobs as plain
//! bytes over its standard input. A panic, or an allocation beyond the limit (Automerge has
//! needed 500 MB to load a crafted 670 KB document), ends that worker only: the document is
//! refused with a clear code, the hub goes on, and a new worker starts for the next job.
//! Tests and the demo may run the same code in-process.
//!
//! Every job shares the hub's catalog and profile ([`Reference`], decoded once per stored
//! version): a worker is sent them once, and again only when they change.

use std::io::{BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};

use automerge::{ActorId, AutoCommit, ChangeHash};
use jemput_core::permissions::{DeviceWriter, Scope};
use jemput_core::sync::hub_side::{self, Placement};
use jemput_core::sync::peer;
use serde::{Deserialize, Serialize};

/// Largest job or outcome frame on a worker's pipes.
const MAX_FRAME: usize = 64 * 1024 * 1024;

/// First byte of a frame to a worker: the reference for the jobs that follow (no answer).
const FRAME_REFERENCE: u8 = 0;
/// First byte of a frame to a worker: a job (answered with its outcome).
const FRAME_JOB: u8 = 1;

/// One incoming document message to apply and check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// The hub's current document (`save()` bytes), if it has one.
    #[serde(with = "serde_bytes")]
    pub current: Option<Vec<u8>>,
    /// Heads the hub knows the device has.
    pub known: Vec<[u8; 32]>,
    /// The writing device.
    pub device_id: String,
    /// Its officer.
    pub officer_id: String,
    /// Its scope.
    pub scope: Scope,
    /// Actor ids bound to the device.
    pub actors: Vec<Vec<u8>>,
    /// The hub's own actor id.
    pub hub_actor: Vec<u8>,
    /// The device's message.
    #[serde(with = "serde_bytes")]
    pub message: Vec<u8>,
    /// The document's id.
    pub doc_id: String,
    /// Receipt prefixes allocated to the device.
    pub prefixes: Vec<String>,
    /// The hub's clock (Unix milliseconds, whole minutes, so that a check prepared outside
    /// the write transaction is reused inside it).
    pub now_ms: i64,
    /// The hub's catalog and profile, which records are validated against. Not part of the
    /// job's frame: a worker is sent it on its own, when it has not got it yet.
    #[serde(skip)]
    pub reference: Reference,
}

/// The hub's catalog and kelurahan profile as the checks need them, shared by every job (a
/// clone is two reference counts; comparing the same ones is comparing two pointers).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reference {
    /// The service catalog (`None`: the one that ships with the core).
    pub catalog: Option<Arc<jemput_core::Catalog>>,
    /// The kelurahan profile.
    pub kelurahan: Option<Arc<jemput_core::Kelurahan>>,
}

/// A [`Reference`] on its way to a worker (the same bytes as [`ReferenceIn`]).
#[derive(Serialize)]
struct ReferenceOut<'a> {
    catalog: Option<&'a jemput_core::Catalog>,
    kelurahan: Option<&'a jemput_core::Kelurahan>,
}

/// A [`Reference`] as a worker reads it.
#[derive(Deserialize)]
struct ReferenceIn {
    catalog: Option<jemput_core::Catalog>,
    kelurahan: Option<jemput_core::Kelurahan>,
}

/// What became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// The document to store (`save()` bytes) when it changed.
    #[serde(with = "serde_bytes")]
    pub updated: Option<Vec<u8>>,
    /// When it changed, the message carrying all its changes (for devices that have none).
    #[serde(with = "serde_bytes")]
    pub full_message: Option<Vec<u8>>,
    /// Where it belongs and how the office lists it.
    pub placed: Option<Placement>,
    /// The answer for the device.
    #[serde(with = "serde_bytes")]
    pub reply: Option<Vec<u8>>,
    /// The heads the device said it has.
    pub device_heads: Vec<[u8; 32]>,
    /// The hub's heads afterwards (none when it has no such document).
    pub hub_heads: Option<Vec<[u8; 32]>>,
    /// Why it was refused: (code, message).
    pub refusal: Option<(String, String)>,
}

fn refused(code: &str, message: &str) -> Outcome {
    Outcome {
        updated: None,
        full_message: None,
        placed: None,
        reply: None,
        device_heads: Vec::new(),
        hub_heads: None,
        refusal: Some((code.into(), message.into())),
    }
}

fn raw(heads: Vec<ChangeHash>) -> Vec<[u8; 32]> {
    heads.into_iter().map(|h| h.0).collect()
}

/// Runs a job in this process.
pub fn run_job(job: &Job) -> Outcome {
    let mut current = match &job.current {
        Some(b) => match AutoCommit::load(b) {
            Ok(d) => Some(d),
            Err(_) => return refused("internal", "Data di hub tidak dapat dibaca"),
        },
        None => None,
    };
    let known: Vec<ChangeHash> = job.known.iter().map(|h| ChangeHash(*h)).collect();
    let actors: Vec<ActorId> = job.actors.iter().map(|a| ActorId::from(a.as_slice())).collect();
    let hub_actor = ActorId::from(job.hub_actor.as_slice());
    let prefixes: Vec<&str> = job.prefixes.iter().map(String::as_str).collect();
    let writer = DeviceWriter { device_id: &job.device_id, officer_id: &job.officer_id, scope: job.scope, prefixes: &prefixes };
    let ctx = hub_side::HubContext {
        now_ms: job.now_ms,
        catalog: job.reference.catalog.as_deref(),
        kelurahan: job.reference.kelurahan.as_deref(),
    };
    let inc = hub_side::receive_from_device(current.as_ref(), &known, &writer, &actors, &hub_actor, &job.doc_id, &ctx, &job.message);
    if let Some(r) = inc.refusal {
        return Outcome { device_heads: raw(inc.device_heads), refusal: Some((r.code, r.message)), ..refused("", "") };
    }
    // Stored without deflating its columns (a record's columns are a few hundred bytes, where
    // deflate saves little, and starting a compressor per column was 30 % of a check under
    // callgrind): the bytes the check's size limit already made, with the full message the
    // check already made.
    let (updated, full_message, hub_heads) = match inc.updated {
        Some(mut d) => {
            let saved = inc.saved.unwrap_or_else(|| d.save_nocompress());
            let full = inc.full_message.or_else(|| peer::exact_message(&mut d, &[]));
            (Some(saved), full, Some(raw(d.get_heads())))
        }
        None => (None, None, current.as_mut().map(|d| raw(d.get_heads()))),
    };
    Outcome { updated, full_message, placed: inc.placed, reply: inc.reply, device_heads: raw(inc.device_heads), hub_heads, refusal: None }
}

/// Where jobs run.
#[derive(Clone, Default)]
pub enum Isolation {
    /// In the hub's own process (tests, the demo).
    #[default]
    InProcess,
    /// In worker processes.
    Workers(Arc<WorkerPool>),
}

impl Isolation {
    /// Workers started from `exe` (the `jemput-hub` binary), each limited to `memory_mb` MiB of
    /// address space.
    pub fn workers(exe: PathBuf, memory_mb: u64) -> Isolation {
        let most = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).max(2);
        Isolation::Workers(Arc::new(WorkerPool {
            exe,
            memory_bytes: memory_mb * 1024 * 1024,
            idle: Mutex::new(Vec::new()),
            most,
            running: Mutex::new(0),
            freed: Condvar::new(),
        }))
    }

    /// Runs a job; a worker that dies or fails yields a refusal for that document.
    pub fn run(&self, job: &Job) -> Outcome {
        match self {
            Isolation::InProcess => run_job(job),
            Isolation::Workers(pool) => pool.run(job).unwrap_or_else(|| {
                tracing::warn!("pemroses dokumen berhenti (batas memori atau galat); dokumen ditolak");
                refused("dokumen_tidak_dapat_diproses", "Data ini tidak dapat diproses hub; simpan di HP dan hubungi kelurahan")
            }),
        }
    }
}

/// A pool of worker processes, each used by one job at a time, at most one per core: the
/// checks are pure computation, so more workers than cores would only add processes (each
/// started, and its memory kept) while 200 exchanges arriving together wait just the same.
pub struct WorkerPool {
    exe: PathBuf,
    memory_bytes: u64,
    idle: Mutex<Vec<Worker>>,
    /// Most jobs running at once (and so most workers).
    most: usize,
    /// Jobs running now.
    running: Mutex<usize>,
    /// Signalled when a job ends.
    freed: Condvar,
}

/// A job's place among the pool's running ones, given back when dropped (a worker dying
/// included).
struct Slot<'p>(&'p WorkerPool);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        *self.0.running.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
        self.0.freed.notify_one();
    }
}

struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// The reference it was last sent (held, so the same pointers always mean the same one).
    reference: Option<Reference>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write_frame(w: &mut impl Write, bytes: &[u8]) -> std::io::Result<()> {
    w.write_all(&(bytes.len() as u32).to_le_bytes())?;
    w.write_all(bytes)?;
    w.flush()
}

fn read_frame(r: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len)?;
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(std::io::Error::other("frame too large"));
    }
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf)?;
    Ok(buf)
}

impl WorkerPool {
    fn spawn(&self) -> Option<Worker> {
        let mut cmd = Command::new(&self.exe);
        cmd.arg("decode-worker").env("RUST_LOG", "error").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            let limit = self.memory_bytes as libc::rlim_t;
            // SAFETY: only async-signal-safe calls between fork and exec (setrlimit).
            unsafe {
                cmd.pre_exec(move || {
                    let r = libc::rlimit { rlim_cur: limit, rlim_max: limit };
                    if libc::setrlimit(libc::RLIMIT_AS, &r) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let mut child = cmd.spawn().map_err(|e| tracing::error!(error = %e, "pemroses dokumen tidak dapat dijalankan")).ok()?;
        let stdin = child.stdin.take()?;
        let stdout = BufReader::new(child.stdout.take()?);
        Some(Worker { child, stdin, stdout, reference: None })
    }

    /// Waits until fewer than `most` jobs run, and takes a place among them.
    fn slot(&self) -> Slot<'_> {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        while *running >= self.most {
            running = self.freed.wait(running).unwrap_or_else(|e| e.into_inner());
        }
        *running += 1;
        Slot(self)
    }

    /// Runs a job in a worker; `None` when the worker died or answered nonsense (it is then
    /// discarded).
    pub fn run(&self, job: &Job) -> Option<Outcome> {
        let _slot = self.slot();
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut w = match idle {
            Some(w) => w,
            None => self.spawn()?,
        };
        if w.reference.as_ref() != Some(&job.reference) {
            let mut frame = vec![FRAME_REFERENCE];
            let r = &job.reference;
            frame.extend(postcard::to_allocvec(&ReferenceOut { catalog: r.catalog.as_deref(), kelurahan: r.kelurahan.as_deref() }).ok()?);
            write_frame(&mut w.stdin, &frame).ok()?;
            w.reference = Some(job.reference.clone());
        }
        let mut frame = vec![FRAME_JOB];
        frame.extend(postcard::to_allocvec(job).ok()?);
        write_frame(&mut w.stdin, &frame).ok()?;
        let answer = read_frame(&mut w.stdout).ok()?;
        let out: Outcome = postcard::from_bytes(&answer).ok()?;
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).push(w);
        Some(out)
    }
}

/// The worker's main loop (`jemput-hub decode-worker`): the reference and jobs in on standard
/// input, an outcome per job out on standard output, until the input ends.
pub fn worker_main() -> std::io::Result<()> {
    let mut input = std::io::stdin().lock();
    let mut output = std::io::stdout().lock();
    let mut reference = Reference::default();
    loop {
        let frame = match read_frame(&mut input) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        };
        let out = match frame.split_first() {
            Some((&FRAME_REFERENCE, body)) => {
                // Without it no job could be checked as the hub asks: end, and let the hub
                // refuse the job and start a fresh worker.
                let r: ReferenceIn = postcard::from_bytes(body).map_err(|_| std::io::Error::other("reference"))?;
                reference = Reference { catalog: r.catalog.map(Arc::new), kelurahan: r.kelurahan.map(Arc::new) };
                continue;
            }
            Some((&FRAME_JOB, body)) => match postcard::from_bytes::<Job>(body) {
                Ok(job) => {
                    let job = Job { reference: reference.clone(), ..job };
                    std::panic::catch_unwind(|| run_job(&job))
                        .unwrap_or_else(|_| refused("dokumen_tidak_dapat_diproses", "Data ini tidak dapat diproses hub"))
                }
                Err(_) => refused("internal", "Pekerjaan tidak dapat dibaca"),
            },
            _ => refused("internal", "Pekerjaan tidak dapat dibaca"),
        };
        let bytes = postcard::to_allocvec(&out).map_err(|_| std::io::Error::other("encode"))?;
        write_frame(&mut output, &bytes)?;
    }
}
