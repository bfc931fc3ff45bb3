//! The SQLite store through the real binary: restarts and `kill -9` lose no acknowledged write.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

use tokio::process::Child;

use crate::common::*;

/// Starts the gatehouse binary with a SQLite store at `db`.
async fn spawn(db: &Path) -> (Child, String) {
    let store = format!("sqlite:{}", db.display());
    spawn_gatehouse(&["--max-stages-per-api", "100000", "--store", &store]).await
}

#[tokio::test]
async fn graceful_restart_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let (child, endpoint) = spawn(&db).await;
    let c = client_as(&endpoint, "AKIDEXAMPLE", "us-east-1");
    let id = http_api(&c).await;
    c.create_stage()
        .api_id(&id)
        .stage_name("prod")
        .stage_variables("k", "v")
        .send()
        .await
        .unwrap();
    let before = c
        .get_stage()
        .api_id(&id)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    let pid = child.id().expect("pid").to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    let mut child = child;
    let exit = child.wait().await.expect("wait");
    assert!(exit.success(), "clean exit on SIGTERM: {exit:?}");

    let (_child, endpoint) = spawn(&db).await;
    let c = client_as(&endpoint, "AKIDEXAMPLE", "us-east-1");
    let after = c
        .get_stage()
        .api_id(&id)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    assert_eq!(after.created_date(), before.created_date());
    assert_eq!(after.stage_variables(), before.stage_variables());
}

#[tokio::test]
async fn kill_9_during_writes_loses_no_acknowledged_stage() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let (mut child, endpoint) = spawn(&db).await;
    let c = client_as(&endpoint, "AKIDEXAMPLE", "us-east-1");
    let id = http_api(&c).await;
    let acked: Arc<Mutex<HashSet<String>>> = Arc::default();
    let enough = Arc::new(tokio::sync::Notify::new());
    let mut writers = Vec::new();
    for w in 0..8 {
        let (c, id, acked, enough) = (c.clone(), id.clone(), acked.clone(), enough.clone());
        writers.push(tokio::spawn(async move {
            for i in 0..10_000 {
                let name = format!("w{w}_{i}");
                match c.create_stage().api_id(&id).stage_name(&name).send().await {
                    Ok(_) => {
                        let mut set = acked.lock().unwrap();
                        set.insert(name);
                        if set.len() == 200 {
                            enough.notify_one();
                        }
                    }
                    Err(_) => return,
                }
            }
        }));
    }
    // Kill once a good number of writes were acknowledged, while writers are still going.
    tokio::time::timeout(std::time::Duration::from_secs(60), enough.notified())
        .await
        .expect("200 writes acknowledged in time");
    child.start_kill().expect("SIGKILL");
    child.wait().await.expect("wait");
    for w in writers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();

    let (_child, endpoint) = spawn(&db).await;
    let c = client_as(&endpoint, "AKIDEXAMPLE", "us-east-1");
    let mut stored = HashSet::new();
    let mut token = None;
    loop {
        let out = c
            .get_stages()
            .api_id(&id)
            .max_results("500")
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        stored.extend(
            out.items()
                .iter()
                .filter_map(|s| s.stage_name().map(String::from)),
        );
        token = out.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    let lost: Vec<_> = acked.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "lost {} acknowledged stages: {lost:?}",
        lost.len()
    );
    assert!(acked.len() >= 200);
}

#[tokio::test]
async fn json_logs_carry_one_line_per_request_without_secrets() {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args([
            "--log-format",
            "json",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--store",
            "memory",
        ])
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut out = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let line = out.next_line().await.unwrap().unwrap();
    let endpoint = line.rsplit(' ').next().unwrap().to_string();
    let c = client_as(&endpoint, "AKIASECRETLESS", "eu-west-1");
    c.get_apis().send().await.unwrap();
    let mut err = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let log = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            let l = err.next_line().await.unwrap().unwrap();
            if l.contains("GetApis") {
                return l;
            }
        }
    })
    .await
    .expect("a request log line");
    let v: serde_json::Value = serde_json::from_str(&log).expect("one JSON object per line");
    let f = &v["fields"];
    assert_eq!(f["operation"], "GetApis");
    assert_eq!(f["region"], "eu-west-1");
    assert_eq!(f["status"], 200);
    assert!(f["request_id"].is_string() && f["latency_us"].is_u64());
    assert!(
        !log.contains("Signature") && !log.contains("secret"),
        "{log}"
    );
}
