#![forbid(unsafe_code)]
//! The `gatehouse` binary: parse the command line, set up logging, run the subcommand.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::CommandFactory;
use gatehouse::settings::cli::{self, Cli, ExportArgs, ImportArgs, Resolved};
use gatehouse::settings::{file, LogFormat, Settings};
use gatehouse::statefile;
use tokio::net::TcpListener;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

// mimalloc: the data plane allocates many small, short-lived buffers per request, which
// glibc's allocator serves measurably slower (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

fn main() -> ExitCode {
    // With one CPU to run on (an affinity mask, a container's quota) one thread serves
    // everything: a work-stealing scheduler would only add hand-offs between its threads.
    let one_cpu = std::thread::available_parallelism().is_ok_and(|n| n.get() == 1);
    let mut builder = if one_cpu {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("gatehouse: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gatehouse: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What `RUST_LOG` lets through (`warn`, `info,gatehouse_dataplane=debug`, …): by default,
/// `info` and above.
fn log_filter() -> Targets {
    let default = || Targets::new().with_default(tracing::Level::INFO);
    match std::env::var("RUST_LOG") {
        Ok(directives) => directives.parse().unwrap_or_else(|_| {
            eprintln!("gatehouse: RUST_LOG={directives:?} is not understood; logging at info");
            default()
        }),
        Err(_) => default(),
    }
}

async fn run() -> Result<(), String> {
    let matches = Cli::command().get_matches();
    let (log_format, what) = cli::resolve(&matches)?;
    let logs = tracing_subscriber::registry().with(log_filter());
    let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    match log_format {
        LogFormat::Json => logs.with(layer.json().with_current_span(false)).init(),
        LogFormat::Text => logs
            .with(layer.with_ansi(std::io::stderr().is_terminal()))
            .init(),
    }
    match what {
        Resolved::Serve(settings) => serve(*settings).await,
        Resolved::Export(a) => export(a).await,
        Resolved::Import(a) => import(a).await,
        Resolved::Deploy(a) => {
            for line in gatehouse::deploy::deploy(&a).await? {
                println!("{line}");
            }
            Ok(())
        }
        Resolved::CheckConfig(path) => {
            file::check(&path)?;
            println!("{}: ok", path.display());
            Ok(())
        }
    }
}

async fn serve(settings: Settings) -> Result<(), String> {
    let checked = settings.check()?;
    let store = gatehouse::server::open_store(&settings).await?;
    let (listener, app) = gatehouse::server::prepare(&settings, checked, store.clone()).await?;
    let replicas = app.replicas.clone();
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // The template is applied before the ready line: once it is printed, its APIs answer.
    let template = gatehouse::server::stacks::serve_template(&settings, &app, addr).await?;
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "gatehouse listening on http://{addr}");
    let _ = stdout.flush();
    // One signal stops both listeners.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let invoke = match settings.invoke_listen {
        Some(at) => {
            let l = TcpListener::bind(at)
                .await
                .map_err(|e| format!("cannot listen on {at} (--invoke-listen): {e}"))?;
            let bound = l.local_addr().map_err(|e| e.to_string())?;
            let _ = writeln!(stdout, "gatehouse serving invoke URLs on http://{bound}");
            let _ = stdout.flush();
            let mut invoke_app = app.clone();
            invoke_app.listener = gatehouse::server::Listener::InvokeOnly;
            Some(tokio::spawn(gatehouse::server::serve(
                l,
                invoke_app,
                stopped(stop_rx.clone()),
            )))
        }
        None => None,
    };
    for line in gatehouse::server::startup::lines(&settings.store, &store, addr).await {
        let _ = writeln!(stdout, "{line}");
    }
    if let Some(template) = template {
        for line in &template.lines {
            let _ = writeln!(stdout, "{line}");
        }
        if let Some(watching) = template.watch {
            tokio::spawn(watching);
        }
    }
    let _ = stdout.flush();
    let served = gatehouse::server::serve(listener, app, stopped(stop_rx)).await;
    if let Some(task) = invoke {
        let _ = task.await;
    }
    // Requests have drained (or the grace period is over): leave the other replicas and
    // close the store cleanly.
    if let Some(r) = replicas {
        r.leave().await;
    }
    store.close().await;
    served.map_err(|e| format!("server error: {e}"))
}

async fn export(a: ExportArgs) -> Result<(), String> {
    let store = a.store.resolve()?.open().await?;
    let file = statefile::export(store.as_ref(), a.account.as_deref()).await?;
    let text = serde_json::to_string_pretty(&file).map_err(|e| e.to_string())? + "\n";
    match &a.output {
        Some(path) => std::fs::write(path, text),
        None => std::io::stdout().write_all(text.as_bytes()),
    }
    .map_err(|e| format!("cannot write the export: {e}"))?;
    eprintln!("gatehouse: exported {} APIs", file.apis());
    Ok(())
}

async fn import(a: ImportArgs) -> Result<(), String> {
    let text = std::fs::read_to_string(&a.file)
        .map_err(|e| format!("cannot read {}: {e}", a.file.display()))?;
    let file = statefile::parse(&text)
        .map_err(|e| format!("{}: {e}; nothing was imported", a.file.display()))?;
    let store = a.store.resolve()?.open().await?;
    let n = statefile::import(store.as_ref(), file, a.replace).await?;
    eprintln!("gatehouse: imported {n} APIs from {}", a.file.display());
    Ok(())
}
