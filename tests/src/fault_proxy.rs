//! A TCP proxy on loopback that injects network faults between a device and the hub: dropped
//! connections, connections cut mid-body in either direction, delays, a shaped slow link
//! (bandwidth, round-trip time, lost segments stalling the stream), and replayed requests
//! (the same request delivered to the hub twice), a link that goes silent after a given number
//! of bytes and connections severed on demand (a phone whose app is killed mid-transfer). Faults
//! are drawn from a seeded generator so a failing seed can be replayed. It counts the bytes that
//! cross it in each direction.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// How a link behaves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkShape {
    /// Bytes per second each way (0 = unlimited).
    pub bytes_per_sec: u64,
    /// Added one-way delay per chunk.
    pub one_way_delay: Duration,
    /// Chance that a 1460-byte segment is "lost" and the stream stalls for a retransmission.
    pub loss: f64,
}

impl LinkShape {
    /// No shaping.
    pub const OPEN: LinkShape = LinkShape { bytes_per_sec: 0, one_way_delay: Duration::ZERO, loss: 0.0 };

    /// A weak EDGE/2G link: 64 kbit/s, 600 ms round trip, 2% loss.
    pub fn edge() -> LinkShape {
        LinkShape { bytes_per_sec: 8_000, one_way_delay: Duration::from_millis(300), loss: 0.02 }
    }
}

/// Chances of each fault per connection (the rest pass through).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultRates {
    /// Close the connection before forwarding anything.
    pub drop: f64,
    /// Cut the device's request part-way through.
    pub cut_request: f64,
    /// Cut the hub's response part-way through (the hub has acted on the request!).
    pub cut_response: f64,
    /// Deliver the request to the hub twice (the device sees the second answer).
    pub replay: f64,
    /// Hold the connection for a while before forwarding (reorders concurrent devices).
    pub delay: f64,
}

impl FaultRates {
    /// No faults.
    pub const NONE: FaultRates = FaultRates { drop: 0.0, cut_request: 0.0, cut_response: 0.0, replay: 0.0, delay: 0.0 };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Pass,
    Drop,
    CutRequest(u64),
    CutResponse(u64),
    Replay,
    Delay(u64),
}

struct Shared {
    upstream: SocketAddr,
    rng: Mutex<u64>,
    rates: Mutex<FaultRates>,
    shape: Mutex<LinkShape>,
    to_upstream: AtomicU64,
    to_client: AtomicU64,
    connections: AtomicU64,
    faults: AtomicU64,
    cut_points: Mutex<std::collections::VecDeque<u64>>,
    cuts: AtomicU64,
    /// Where the link goes silent: (towards the hub?, byte count of that direction).
    stall: Mutex<Option<(bool, u64)>>,
    stalled: std::sync::atomic::AtomicBool,
    /// Bumped by [`FaultProxy::sever`]: connections opened before it end.
    generation: AtomicU64,
}

impl Shared {
    fn next(&self) -> u64 {
        let mut s = self.rng.lock().unwrap();
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        *s
    }

    fn chance(&self) -> f64 {
        (self.next() % 1_000_000) as f64 / 1_000_000.0
    }

    fn draw(&self) -> Fault {
        let r = *self.rates.lock().unwrap();
        let mut x = self.chance();
        for (p, f) in [
            (r.drop, Fault::Drop),
            (r.cut_request, Fault::CutRequest(self.next() % 2_000)),
            (r.cut_response, Fault::CutResponse(self.next() % 4_000)),
            (r.replay, Fault::Replay),
            (r.delay, Fault::Delay(self.next() % 300)),
        ] {
            if x < p {
                return f;
            }
            x -= p;
        }
        Fault::Pass
    }
}

/// The running proxy. Dropping it stops accepting connections.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// Starts a proxy on 127.0.0.1 in front of `upstream`, with faults drawn from `seed`.
    pub async fn start(upstream: SocketAddr, seed: u64, rates: FaultRates, shape: LinkShape) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream,
            rng: Mutex::new(seed.max(1)),
            rates: Mutex::new(rates),
            shape: Mutex::new(shape),
            to_upstream: AtomicU64::new(0),
            to_client: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            faults: AtomicU64::new(0),
            cut_points: Mutex::new(std::collections::VecDeque::new()),
            cuts: AtomicU64::new(0),
            stall: Mutex::new(None),
            stalled: std::sync::atomic::AtomicBool::new(false),
            generation: AtomicU64::new(0),
        });
        let s = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let s = s.clone();
                tokio::spawn(async move {
                    let _ = handle(s, client).await;
                });
            }
        });
        Ok(FaultProxy { addr, shared, task })
    }

    /// The address devices should use.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Cuts the traffic `n` times at random points: `n` positions drawn uniformly in the first
    /// `within` bytes of the traffic counted from now (both directions together, headers
    /// included); whichever connection carries the byte at a position is cut there. A sync
    /// that moves at least `within` bytes (as any retry of an exchange of that size does) is
    /// therefore cut exactly `n` times.
    pub fn cut_at_random(&self, n: usize, within: u64) {
        let start = self.shared.to_upstream.load(Ordering::SeqCst) + self.shared.to_client.load(Ordering::SeqCst);
        let mut points: Vec<u64> = (0..n).map(|_| start + 1 + self.shared.next() % within.max(1)).collect();
        points.sort_unstable();
        *self.shared.cut_points.lock().unwrap() = points.into();
    }

    /// Cuts made by [`FaultProxy::cut_at_random`] so far.
    pub fn cuts(&self) -> u64 {
        self.shared.cuts.load(Ordering::SeqCst)
    }

    /// Lets `n` more bytes through towards the hub (`to_hub`) or towards the device, counted
    /// from now, then forwards nothing more in that direction (the connection stays open, as a
    /// link that goes silent) until [`FaultProxy::sever`].
    pub fn stall_after(&self, to_hub: bool, n: u64) {
        let now = if to_hub { &self.shared.to_upstream } else { &self.shared.to_client }.load(Ordering::SeqCst);
        self.shared.stalled.store(false, Ordering::SeqCst);
        *self.shared.stall.lock().unwrap() = Some((to_hub, now + n));
    }

    /// Whether the traffic has reached the point set by [`FaultProxy::stall_after`].
    pub fn stalled(&self) -> bool {
        self.shared.stalled.load(Ordering::SeqCst)
    }

    /// Closes every connection open now, towards both sides, dropping whatever it holds that
    /// was not forwarded yet, and lifts a stall: later connections pass again.
    pub fn sever(&self) {
        *self.shared.stall.lock().unwrap() = None;
        self.shared.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Changes the fault rates (e.g. heal the network).
    pub fn set_rates(&self, rates: FaultRates) {
        *self.shared.rates.lock().unwrap() = rates;
    }

    /// Bytes forwarded (device → hub, hub → device), counting everything on the wire above TCP:
    /// HTTP headers and bodies.
    pub fn bytes(&self) -> (u64, u64) {
        (self.shared.to_upstream.load(Ordering::SeqCst), self.shared.to_client.load(Ordering::SeqCst))
    }

    /// Connections seen, and connections a fault was injected into.
    pub fn connections(&self) -> (u64, u64) {
        (self.shared.connections.load(Ordering::SeqCst), self.shared.faults.load(Ordering::SeqCst))
    }

    /// Resets the byte and connection counters.
    pub fn reset_counters(&self) {
        for c in [&self.shared.to_upstream, &self.shared.to_client, &self.shared.connections, &self.shared.faults, &self.shared.cuts] {
            c.store(0, Ordering::SeqCst);
        }
    }
}

/// Copies `from` to `to` through the link shape, stopping after `limit` bytes if given.
async fn pipe(
    s: &Shared,
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    limit: Option<u64>,
    upward: bool,
    generation: u64,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; 1460];
    let mut sent = 0u64;
    let mut last = tokio::time::Instant::now() - Duration::from_secs(1);
    loop {
        let n = from.read(&mut buf).await?;
        if s.generation.load(Ordering::SeqCst) != generation {
            return Err(std::io::Error::other("severed"));
        }
        if n == 0 {
            let _ = to.shutdown().await;
            return Ok(());
        }
        let mut n = n as u64;
        if let Some(l) = limit {
            if sent + n >= l {
                n = l - sent;
                to.write_all(&buf[..n as usize]).await?;
                count(s, upward, n);
                return Err(std::io::Error::other("cut"));
            }
        }
        let shape = *s.shape.lock().unwrap();
        // Latency is paid once per burst (a stream already flowing is pipelined).
        if !shape.one_way_delay.is_zero() && last.elapsed() > Duration::from_millis(50) {
            tokio::time::sleep(shape.one_way_delay).await;
        }
        if let Some(micros) = (n * 1_000_000).checked_div(shape.bytes_per_sec) {
            tokio::time::sleep(Duration::from_micros(micros)).await;
        }
        if shape.loss > 0.0 && s.chance() < shape.loss {
            // A lost segment: the stream stalls for a retransmission timeout (about 2 RTT).
            tokio::time::sleep(shape.one_way_delay * 4 + Duration::from_millis(200)).await;
        }
        // A link gone silent (`stall_after`): what fits before the point goes, then nothing
        // until the connection is severed.
        let stall_room = match *s.stall.lock().unwrap() {
            Some((to_hub, at)) if to_hub == upward => {
                let done = if upward { &s.to_upstream } else { &s.to_client }.load(Ordering::SeqCst);
                (done + n > at).then(|| at.saturating_sub(done))
            }
            _ => None,
        };
        if let Some(room) = stall_room {
            to.write_all(&buf[..room as usize]).await?;
            count(s, upward, room);
            s.stalled.store(true, Ordering::SeqCst);
            // Bounded, so a test that fails before severing leaves no task behind for long.
            let until = tokio::time::Instant::now() + Duration::from_secs(60);
            while s.generation.load(Ordering::SeqCst) == generation && tokio::time::Instant::now() < until {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            return Err(std::io::Error::other("severed"));
        }
        // A cut at a position of the whole traffic (`cut_at_random`).
        let cut_here = {
            let mut points = s.cut_points.lock().unwrap();
            let total = s.to_upstream.load(Ordering::SeqCst) + s.to_client.load(Ordering::SeqCst);
            match points.front() {
                Some(&p) if total + n >= p => {
                    points.pop_front();
                    let keep = p.saturating_sub(total).saturating_sub(1);
                    count(s, upward, keep);
                    Some(keep)
                }
                _ => None,
            }
        };
        if let Some(keep) = cut_here {
            s.cuts.fetch_add(1, Ordering::SeqCst);
            to.write_all(&buf[..keep as usize]).await?;
            return Err(std::io::Error::other("cut"));
        }
        to.write_all(&buf[..n as usize]).await?;
        count(s, upward, n);
        sent += n;
        last = tokio::time::Instant::now();
    }
}

fn count(s: &Shared, upward: bool, n: u64) {
    if upward {
        s.to_upstream.fetch_add(n, Ordering::SeqCst);
    } else {
        s.to_client.fetch_add(n, Ordering::SeqCst);
    }
}

/// Reads one HTTP/1.1 request (headers and a Content-Length body) from `c`.
async fn read_request(c: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = c.read(&mut buf).await?;
        if n == 0 {
            return Err(std::io::Error::other("closed"));
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
            let len: usize =
                head.lines().find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0))).unwrap_or(0);
            while data.len() < end + 4 + len {
                let n = c.read(&mut buf).await?;
                if n == 0 {
                    return Err(std::io::Error::other("closed"));
                }
                data.extend_from_slice(&buf[..n]);
            }
            return Ok(data);
        }
    }
}

async fn handle(s: Arc<Shared>, mut client: TcpStream) -> std::io::Result<()> {
    s.connections.fetch_add(1, Ordering::SeqCst);
    let generation = s.generation.load(Ordering::SeqCst);
    let fault = s.draw();
    if fault != Fault::Pass {
        s.faults.fetch_add(1, Ordering::SeqCst);
    }
    match fault {
        Fault::Drop => return Ok(()),
        Fault::Delay(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
        Fault::Replay => {
            // Deliver the first request twice; the device gets the second answer on this
            // connection, which then continues as a plain pipe.
            let req = read_request(&mut client).await?;
            let mut first = TcpStream::connect(s.upstream).await?;
            first.write_all(&req).await?;
            let mut sink = vec![0u8; 4096];
            let _ = tokio::time::timeout(Duration::from_secs(10), first.read(&mut sink)).await;
            drop(first);
            let mut second = TcpStream::connect(s.upstream).await?;
            second.write_all(&req).await?;
            count(&s, true, req.len() as u64);
            let (cr, cw) = client.into_split();
            let (ur, uw) = second.into_split();
            let up = pipe(&s, cr, uw, None, true, generation);
            let down = pipe(&s, ur, cw, None, false, generation);
            let _ = tokio::join!(up, down);
            return Ok(());
        }
        _ => {}
    }
    let upstream = TcpStream::connect(s.upstream).await?;
    let (cr, cw) = client.into_split();
    let (ur, uw) = upstream.into_split();
    let (up_limit, down_limit) = match fault {
        Fault::CutRequest(n) => (Some(n), None),
        Fault::CutResponse(n) => (None, Some(n)),
        _ => (None, None),
    };
    let up = pipe(&s, cr, uw, up_limit, true, generation);
    let down = pipe(&s, ur, cw, down_limit, false, generation);
    // When either direction is cut, the whole connection goes.
    tokio::select! {
        r = up => { r?; }
        r = down => { r?; }
    }
    Ok(())
}
