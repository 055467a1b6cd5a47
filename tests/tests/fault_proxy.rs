//! The fault-injecting proxy itself: it forwards, counts, shapes and breaks connections.

use std::time::{Duration, Instant};

use jemput_tests::fault_proxy::{FaultProxy, FaultRates, LinkShape};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// An upstream that answers every HTTP request with a fixed 3,000-byte body.
async fn upstream() -> std::net::SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut c, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut got = Vec::new();
                loop {
                    let n = c.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    got.extend_from_slice(&buf[..n]);
                    if got.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
                let body = vec![b'x'; 3000];
                let _ =
                    c.write_all(format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len()).as_bytes()).await;
                let _ = c.write_all(&body).await;
            });
        }
    });
    addr
}

async fn get(addr: std::net::SocketAddr) -> std::io::Result<Vec<u8>> {
    let mut c = TcpStream::connect(addr).await?;
    c.write_all(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhalo!").await?;
    let mut out = Vec::new();
    c.read_to_end(&mut out).await?;
    Ok(out)
}

#[tokio::test]
async fn passes_counts_and_breaks_as_told() {
    let up = upstream().await;
    let p = FaultProxy::start(up, 7, FaultRates::NONE, LinkShape::OPEN).await.unwrap();
    let r = get(p.addr()).await.unwrap();
    assert!(r.ends_with(&[b'x'; 3000]));
    let (to_hub, to_device) = p.bytes();
    assert_eq!(to_hub, 52, "request line, headers and body");
    assert_eq!(to_device, r.len() as u64);
    p.set_rates(FaultRates { drop: 1.0, ..FaultRates::NONE });
    assert!(get(p.addr()).await.map(|r| r.is_empty()).unwrap_or(true));
    p.set_rates(FaultRates { cut_response: 1.0, ..FaultRates::NONE });
    for _ in 0..5 {
        let r = get(p.addr()).await.unwrap_or_default();
        assert!(r.len() < 3000 + 60, "cut responses are short");
    }
    assert_eq!(p.connections(), (7, 6));
}

#[tokio::test]
async fn shapes_a_slow_link() {
    let up = upstream().await;
    let shape = LinkShape { bytes_per_sec: 10_000, one_way_delay: Duration::from_millis(100), loss: 0.0 };
    let p = FaultProxy::start(up, 7, FaultRates::NONE, shape).await.unwrap();
    let t = Instant::now();
    get(p.addr()).await.unwrap();
    let e = t.elapsed();
    // ~3,060 bytes at 10 kB/s ≈ 0.3 s, plus 2 × 100 ms latency.
    assert!(e >= Duration::from_millis(450), "{e:?}");
    assert!(e < Duration::from_secs(3), "{e:?}");
}
