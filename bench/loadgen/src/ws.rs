//! WebSocket load (issue 29's figures), against gatehouse or the `wsfloor` alike:
//!
//! - `hold`: open N idle connections, print one JSON line, keep them until standard input
//!   closes (the harness reads the server's memory meanwhile).
//! - `connect`: C loops of connect (upgrade to 101), close, again; connects per second.
//! - `round-trip`: C connections, each sending a message and waiting for the frame that
//!   answers it; round trips per second, p50/p99.
//! - `fan-out`: N connections receiving; P keep-alive HTTP connections POSTing to
//!   `/@connections/{id}` (SigV4, signing name `execute-api`) over every id in turn; posts
//!   per second, and the frames that arrived. The ids are read from a file of `CONNECT {id}`
//!   lines the server writes (gatehouse's access log, the floor's `--ids-file`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{client_async, WebSocketStream};

use crate::client::{call, Conn, SigCache, Signer};

type Ws = WebSocketStream<TcpStream>;

pub struct WsArgs {
    pub op: String,
    /// The path connections open (`/_aws/execute-api/{apiId}/{stage}` or `/`).
    pub path: String,
    pub connections: usize,
    pub duration: f64,
    /// What round-trip sends.
    pub message: String,
    /// fan-out: the file the server writes `CONNECT {id}` lines to.
    pub ids_file: Option<String>,
    /// fan-out: HTTP connections posting.
    pub posters: usize,
    /// round-trip: the shortest answer that is not an error frame.
    pub min_answer: usize,
}

/// The tally each op prints: counts, failures (with the first one's words), latencies.
struct Tally {
    hist: Histogram<u64>,
    ok: u64,
    errors: u64,
    first_error: Option<String>,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            hist: Histogram::new(3).expect("histogram"),
            ok: 0,
            errors: 0,
            first_error: None,
        }
    }

    fn record(&mut self, started: Instant) {
        self.ok += 1;
        self.hist
            .record((started.elapsed().as_micros() as u64).max(1))
            .ok();
    }

    fn fail(&mut self, why: impl FnOnce() -> String) {
        self.errors += 1;
        if self.first_error.is_none() {
            let why = why();
            self.first_error = Some(why.chars().take(200).collect());
        }
    }

    fn merge(&mut self, other: Tally) {
        self.hist.add(&other.hist).ok();
        self.ok += other.ok;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    fn json(&self, op: &str, connections: usize, seconds: f64) -> serde_json::Value {
        serde_json::json!({
            "op": op,
            "connections": connections,
            "requests": self.ok,
            "errors": self.errors,
            "seconds": seconds,
            "rps": self.ok as f64 / seconds,
            "p50_ms": self.hist.value_at_quantile(0.5) as f64 / 1000.0,
            "p99_ms": self.hist.value_at_quantile(0.99) as f64 / 1000.0,
            "first_error": self.first_error,
        })
    }
}

pub async fn run(host: &str, signer: Arc<Signer>, a: WsArgs) {
    let url = format!("ws://{host}{}", a.path);
    match a.op.as_str() {
        "hold" => hold(&url, a.connections).await,
        "connect" => connect_loops(&url, &a).await,
        "round-trip" => round_trip(&url, &a).await,
        "fan-out" => fan_out(host, &url, signer, &a).await,
        other => panic!("unknown WebSocket op {other}"),
    }
}

async fn open(url: &str) -> Result<Ws, String> {
    let host = url
        .strip_prefix("ws://")
        .and_then(|rest| rest.split('/').next())
        .ok_or("bad url")?;
    let stream = TcpStream::connect(host)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    stream.set_nodelay(true).ok();
    let (ws, _) = client_async(url, stream)
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    Ok(ws)
}

/// Opens `n` connections, 64 handshakes at a time; the ones that failed are counted.
async fn open_many(url: &str, n: usize) -> (Vec<Ws>, Tally) {
    let mut open_ws = Vec::with_capacity(n);
    let mut tally = Tally::new();
    let mut pending = futures_util::stream::iter((0..n).map(|_| async {
        let t = Instant::now();
        (open(url).await, t)
    }))
    .buffer_unordered(64);
    while let Some((r, t)) = pending.next().await {
        match r {
            Ok(ws) => {
                tally.record(t);
                open_ws.push(ws);
            }
            Err(e) => tally.fail(|| e),
        }
    }
    (open_ws, tally)
}

async fn hold(url: &str, n: usize) {
    let started = Instant::now();
    let (held, tally) = open_many(url, n).await;
    let mut line = tally.json("hold", n, started.elapsed().as_secs_f64());
    line["held"] = held.len().into();
    println!("{line}");
    // Keep them until the harness has read the server's memory and closes our input.
    let mut sink = Vec::new();
    let _ = tokio::io::stdin().read_to_end(&mut sink).await;
    drop(held);
}

async fn connect_loops(url: &str, a: &WsArgs) {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..a.connections {
        let (url, stop) = (url.to_string(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::new();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                match open(&url).await {
                    Ok(mut ws) => {
                        tally.record(t);
                        let _ = ws.close(None).await;
                        while let Some(Ok(_)) = ws.next().await {}
                    }
                    Err(e) => tally.fail(|| e),
                }
            }
            tally
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(a.duration)).await;
    stop.store(true, Ordering::Relaxed);
    print_merged("connect", a.connections, started, tasks).await;
}

async fn round_trip(url: &str, a: &WsArgs) {
    let (conns, opened) = open_many(url, a.connections).await;
    if opened.errors > 0 {
        println!("{}", opened.json("round-trip", a.connections, 1.0));
        return;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for mut ws in conns {
        let (stop, message, min) = (stop.clone(), a.message.clone(), a.min_answer);
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::new();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                if ws.send(Message::text(message.clone())).await.is_err() {
                    tally.fail(|| "send failed".into());
                    break;
                }
                match ws.next().await {
                    Some(Ok(Message::Text(answer))) if answer.len() >= min => tally.record(t),
                    Some(Ok(other)) => tally.fail(|| format!("answer: {other}")),
                    other => {
                        tally.fail(|| format!("connection ended: {other:?}"));
                        break;
                    }
                }
            }
            tally
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(a.duration)).await;
    stop.store(true, Ordering::Relaxed);
    print_merged("round-trip", a.connections, started, tasks).await;
}

async fn print_merged(
    op: &str,
    connections: usize,
    started: Instant,
    tasks: Vec<tokio::task::JoinHandle<Tally>>,
) {
    let mut all = Tally::new();
    for t in tasks {
        if let Ok(t) = t.await {
            all.merge(t);
        }
    }
    println!(
        "{}",
        all.json(op, connections, started.elapsed().as_secs_f64())
    );
}

/// The connection ids in the server's `CONNECT {id}` lines.
fn written_ids(file: &str) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.strip_prefix("CONNECT "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(String::from)
        .collect()
}

/// The ids of the `n` connections written after the first `skip`, waited for up to 30 s.
async fn connection_ids(file: &str, skip: usize, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ids = written_ids(file);
        if ids.len() >= skip + n || Instant::now() > deadline {
            return ids.into_iter().skip(skip).take(n).collect();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn fan_out(host: &str, url: &str, signer: Arc<Signer>, a: &WsArgs) {
    let file = a.ids_file.as_deref().expect("--ids-file");
    let skip = written_ids(file).len();
    let (conns, opened) = open_many(url, a.connections).await;
    let ids = Arc::new(connection_ids(file, skip, conns.len()).await);
    if opened.errors > 0 || ids.len() < conns.len() {
        println!("{}", opened.json("fan-out", a.connections, 1.0));
        return;
    }
    // Every connection counts the frames it receives.
    let frames = Arc::new(AtomicU64::new(0));
    for ws in conns {
        let frames = frames.clone();
        tokio::spawn(async move {
            let (_, mut read) = ws.split();
            while let Some(Ok(m)) = read.next().await {
                if m.is_text() {
                    frames.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let body = Arc::new(vec![b'x'; 128]);
    let mut tasks = Vec::new();
    for p in 0..a.posters {
        let (host, signer, stop, ids, body) = (
            host.to_string(),
            signer.clone(),
            stop.clone(),
            ids.clone(),
            body.clone(),
        );
        let posters = a.posters;
        tasks.push(tokio::spawn(async move {
            // This poster's share of the ids, so each signs only its own paths.
            let mine: Vec<String> = ids.iter().skip(p).step_by(posters).cloned().collect();
            let mut s = Conn::open(&host).await;
            let mut cache = SigCache::new();
            let mut tally = Tally::new();
            for id in mine.iter().cycle() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let t = Instant::now();
                let path = format!("/@connections/{id}");
                let (status, resp) = call(&mut s, &mut cache, &signer, "POST", &path, &body).await;
                if status == 200 {
                    tally.record(t);
                } else {
                    tally.fail(|| format!("{status} {}", String::from_utf8_lossy(&resp)));
                }
            }
            tally
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(a.duration)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Tally::new();
    for t in tasks {
        if let Ok(t) = t.await {
            all.merge(t);
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    // The frames still on their way.
    let deadline = Instant::now() + Duration::from_secs(5);
    while frames.load(Ordering::Relaxed) < all.ok && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut line = all.json("fan-out", a.connections, seconds);
    line["frames"] = frames.load(Ordering::Relaxed).into();
    line["posters"] = a.posters.into();
    println!("{line}");
}
