//! gatehouse benchmark load generator.
//!
//! `loadgen seed ...` creates APIs and stages through the API; `loadgen run ...` drives one
//! operation (or a 90/10 read/write mix) over N keep-alive connections for a bounded time
//! and prints one JSON line: requests, errors, requests per second, p50/p99 latency.
//! Requests are SigV4-signed (service `apigateway`); a signature is reused for up to a minute per
//! distinct request, so the client spends little CPU while the server verifies
//! every request. `loadgen ws ...` drives WebSocket load (ws.rs).

mod client;
mod ws;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use hdrhistogram::Histogram;

use client::{call, Conn, SigCache, Signer};

#[derive(Parser)]
struct Cli {
    /// Base URL, e.g. http://127.0.0.1:4599 (loopback only).
    #[arg(long)]
    target: String,
    /// Access key id to sign with.
    #[arg(long, default_value = "AKIABENCH0000000001")]
    access_key: String,
    /// Secret to sign with.
    #[arg(long, default_value = "bench-secret")]
    secret: String,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Create APIS APIs with STAGES stages each; prints the first API id.
    Seed {
        #[arg(long, default_value_t = 1)]
        apis: usize,
        #[arg(long, default_value_t = 1)]
        stages: usize,
        #[arg(long, default_value_t = 16)]
        connections: usize,
    },
    /// One signed GET; prints the response body (the harness gives it to the floor server).
    Get {
        #[arg(long)]
        path: String,
    },
    /// Drive load.
    Run {
        /// get-stage | get-stages | get-apis | create-stage | update-stage | mixed |
        /// raw-get (an unsigned GET of the path given as --stage)
        #[arg(long)]
        op: String,
        #[arg(long)]
        api_id: String,
        #[arg(long, default_value = "stage0")]
        stage: String,
        #[arg(long, default_value_t = 16)]
        connections: usize,
        /// Seconds of load.
        #[arg(long, default_value_t = 5.0)]
        duration: f64,
        /// maxResults for get-apis / get-stages.
        #[arg(long, default_value_t = 100)]
        page: usize,
        /// A file of API ids (one per line, as `seed` prints): get-stage and update-stage
        /// pick a random API and one of its stages stage0..stage{stages-1}; create-stage
        /// spreads new stages over the APIs, 10 per API.
        #[arg(long)]
        api_ids_file: Option<String>,
        /// Stages per API in --api-ids-file.
        #[arg(long, default_value_t = 10)]
        stages: usize,
    },
    /// WebSocket load: hold | connect | round-trip | fan-out (see ws.rs).
    Ws {
        #[arg(long)]
        op: String,
        /// The path connections open.
        #[arg(long, default_value = "/")]
        path: String,
        #[arg(long, default_value_t = 64)]
        connections: usize,
        #[arg(long, default_value_t = 5.0)]
        duration: f64,
        /// What round-trip sends.
        #[arg(long, default_value = r#"{"action":"echo"}"#)]
        message: String,
        /// fan-out: the file of `CONNECT {id}` lines the server writes.
        #[arg(long)]
        ids_file: Option<String>,
        /// fan-out: HTTP connections posting to `@connections`.
        #[arg(long, default_value_t = 64)]
        posters: usize,
        /// round-trip: the shortest answer that counts (shorter ones are error frames).
        #[arg(long, default_value_t = 1)]
        min_answer: usize,
    },
}

fn json_field(body: &[u8], field: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    v.get(field)?.as_str().map(String::from)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let cli = Cli::parse();
    let host = cli
        .target
        .strip_prefix("http://")
        .expect("http:// target")
        .trim_end_matches('/')
        .to_string();
    assert!(
        host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]"),
        "loadgen only targets loopback addresses"
    );
    let signer = Arc::new(Signer {
        key: cli.access_key,
        secret: cli.secret,
        host: host.clone(),
        service: "apigateway",
    });
    match cli.cmd {
        Cmd::Ws {
            op,
            path,
            connections,
            duration,
            message,
            ids_file,
            posters,
            min_answer,
        } => {
            let signer = Arc::new(Signer {
                key: signer.key.clone(),
                secret: signer.secret.clone(),
                host: host.clone(),
                service: "execute-api",
            });
            let args = ws::WsArgs {
                op,
                path,
                connections,
                duration,
                message,
                ids_file,
                posters,
                min_answer,
            };
            ws::run(&host, signer, args).await
        }
        Cmd::Seed {
            apis,
            stages,
            connections,
        } => seed(&host, signer, apis, stages, connections).await,
        Cmd::Get { path } => {
            let mut s = Conn::open(&host).await;
            let (status, body) =
                call(&mut s, &mut SigCache::new(), &signer, "GET", &path, b"").await;
            assert_eq!(
                status,
                200,
                "GET {path}: {}",
                String::from_utf8_lossy(&body)
            );
            print!("{}", String::from_utf8_lossy(&body));
        }
        Cmd::Run {
            op,
            api_id,
            stage,
            connections,
            duration,
            page,
            api_ids_file,
            stages,
        } => {
            let ids: Vec<String> = match api_ids_file {
                Some(f) => std::fs::read_to_string(f)
                    .expect("api ids file")
                    .lines()
                    .filter(|l| !l.is_empty())
                    .map(String::from)
                    .collect(),
                None => vec![api_id],
            };
            run(
                &host,
                signer,
                &op,
                Arc::new(ids),
                &stage,
                stages,
                connections,
                duration,
                page,
            )
            .await
        }
    }
}

async fn seed(host: &str, signer: Arc<Signer>, apis: usize, stages: usize, connections: usize) {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let ids = Arc::new(Mutex::new(Vec::<(usize, String)>::new()));
    let mut tasks = Vec::new();
    for _ in 0..connections.min(apis.max(1)) {
        let (host, signer, next, ids) =
            (host.to_string(), signer.clone(), next.clone(), ids.clone());
        tasks.push(tokio::spawn(async move {
            let mut s = Conn::open(&host).await;
            let mut cache = SigCache::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= apis {
                    return;
                }
                let body = format!(r#"{{"name":"bench-{i}","protocolType":"HTTP"}}"#);
                let (status, resp) = call(
                    &mut s,
                    &mut cache,
                    &signer,
                    "POST",
                    "/v2/apis",
                    body.as_bytes(),
                )
                .await;
                assert!(
                    status == 200 || status == 201,
                    "create api: {status} {resp:?}"
                );
                let id = json_field(&resp, "apiId")
                    .or_else(|| json_field(&resp, "ApiId"))
                    .expect("apiId");
                for j in 0..stages {
                    let body = format!(r#"{{"stageName":"stage{j}"}}"#);
                    let (status, resp) = call(
                        &mut s,
                        &mut cache,
                        &signer,
                        "POST",
                        &format!("/v2/apis/{id}/stages"),
                        body.as_bytes(),
                    )
                    .await;
                    assert!(
                        status == 200 || status == 201,
                        "create stage: {status} {resp:?}"
                    );
                }
                ids.lock().unwrap().push((i, id));
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut ids = ids.lock().unwrap().clone();
    ids.sort();
    for (_, id) in ids {
        println!("{id}");
    }
}

#[allow(clippy::too_many_arguments)]
async fn run(
    host: &str,
    signer: Arc<Signer>,
    op: &str,
    ids: Arc<Vec<String>>,
    stage: &str,
    stages: usize,
    connections: usize,
    duration: f64,
    page: usize,
) {
    let stop = Arc::new(AtomicBool::new(false));
    let results = Arc::new(Mutex::new((Histogram::<u64>::new(3).unwrap(), 0u64, 0u64)));
    // The first failed answer, so a run that fails says why.
    let first_error = Arc::new(Mutex::new(None::<String>));
    let mut tasks = Vec::new();
    let started = Instant::now();
    for c in 0..connections {
        let (host, signer, stop, results, first_error) = (
            host.to_string(),
            signer.clone(),
            stop.clone(),
            results.clone(),
            first_error.clone(),
        );
        let (op, ids, stage) = (op.to_string(), ids.clone(), stage.to_string());
        let spread = ids.len() > 1;
        tasks.push(tokio::spawn(async move {
            let mut s = Conn::open(&host).await;
            let mut cache = SigCache::new();
            let mut hist = Histogram::<u64>::new(3).unwrap();
            let (mut n, mut errors) = (0u64, 0u64);
            let mut rng_state = c as u64 * 7919 + 1;
            let mut apis_token: Option<String> = None;
            while !stop.load(Ordering::Relaxed) {
                rng_state = rng_state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let write = op == "mixed" && (rng_state >> 33).is_multiple_of(10);
                let r = (rng_state >> 17) as usize;
                let (api_id, stage) = if spread {
                    (
                        ids[r % ids.len()].as_str(),
                        format!("stage{}", (r / ids.len()) % stages),
                    )
                } else {
                    (ids[0].as_str(), stage.clone())
                };
                let t = Instant::now();
                let (status, body) = match (op.as_str(), write) {
                    ("get-stage", _) | ("mixed", false) => {
                        call(
                            &mut s,
                            &mut cache,
                            &signer,
                            "GET",
                            &format!("/v2/apis/{api_id}/stages/{stage}"),
                            b"",
                        )
                        .await
                    }
                    ("raw-get", _) => {
                        // An unsigned GET of the path given as --stage (invoke URLs).
                        let headers = format!("host: {host}\r\n");
                        s.send("GET", &stage, headers.as_bytes(), b"").await
                    }
                    ("get-stages", _) => {
                        call(
                            &mut s,
                            &mut cache,
                            &signer,
                            "GET",
                            &format!("/v2/apis/{api_id}/stages?maxResults={page}"),
                            b"",
                        )
                        .await
                    }
                    ("get-apis", _) => {
                        let path = match &apis_token {
                            Some(tok) => format!("/v2/apis?maxResults={page}&nextToken={tok}"),
                            None => format!("/v2/apis?maxResults={page}"),
                        };
                        let r = call(&mut s, &mut cache, &signer, "GET", &path, b"").await;
                        apis_token = json_field(&r.1, "nextToken");
                        r
                    }
                    ("create-stage", _) => {
                        let name = format!("c{c}n{n}");
                        let body = format!(r#"{{"stageName":"{name}"}}"#);
                        // Spread over the APIs so none passes AWS's quota of 10 stages.
                        let api_id = if spread {
                            ids[(c + (n as usize / 10) * connections) % ids.len()].as_str()
                        } else {
                            api_id
                        };
                        call(
                            &mut s,
                            &mut cache,
                            &signer,
                            "POST",
                            &format!("/v2/apis/{api_id}/stages"),
                            body.as_bytes(),
                        )
                        .await
                    }
                    ("update-stage", _) | ("mixed", true) => {
                        let body = format!(r#"{{"description":"update {n}"}}"#);
                        call(
                            &mut s,
                            &mut cache,
                            &signer,
                            "PATCH",
                            &format!("/v2/apis/{api_id}/stages/{stage}"),
                            body.as_bytes(),
                        )
                        .await
                    }
                    (other, _) => panic!("unknown op {other}"),
                };
                let us = t.elapsed().as_micros() as u64;
                hist.record(us.max(1)).ok();
                n += 1;
                if !(200..300).contains(&status) {
                    errors += 1;
                    let mut first = first_error.lock().unwrap();
                    if first.is_none() {
                        let text = String::from_utf8_lossy(&body);
                        *first = Some(format!("{status} {}", &text[..text.len().min(200)]));
                    }
                }
            }
            let mut r = results.lock().unwrap();
            r.0.add(&hist).ok();
            r.1 += n;
            r.2 += errors;
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(duration)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let r = results.lock().unwrap();
    println!(
        "{}",
        serde_json::json!({
            "op": op,
            "connections": connections,
            "requests": r.1,
            "errors": r.2,
            "seconds": elapsed,
            "rps": r.1 as f64 / elapsed,
            "p50_ms": r.0.value_at_quantile(0.5) as f64 / 1000.0,
            "p99_ms": r.0.value_at_quantile(0.99) as f64 / 1000.0,
            "first_error": *first_error.lock().unwrap(),
        })
    );
}
