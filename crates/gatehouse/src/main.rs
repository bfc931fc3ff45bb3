#![forbid(unsafe_code)]

use std::io::{IsTerminal, Write};

use std::process::ExitCode;

use clap::CommandFactory;
use gatehouse::config::{
    self, Cli, ExportArgs, ImportArgs, LogFormat, Resolved, ServeArgs, StoreArgs,
};
use gatehouse::statefile;
use tokio::net::TcpListener;

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

fn fail(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("gatehouse: {e}");
    ExitCode::FAILURE
}

#[tokio::main]
async fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let (log_format, what) = match config::resolve_from(&matches) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match log_format {
        LogFormat::Json => logs.json().with_current_span(false).init(),
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
    }
    match what {
        Resolved::Serve(args) => serve(*args).await,
        Resolved::Export(a) => export(a).await,
        Resolved::Import(a) => import(a).await,
        Resolved::CheckConfig(path) => match config::check_file(&path) {
            Ok(()) => {
                println!("{}: ok", path.display());
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
    }
}

async fn serve(args: ServeArgs) -> ExitCode {
    let store = match gatehouse::server::open_store(&args).await {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let app = match gatehouse::server::App::new(&args, store.clone()) {
        Ok(app) => app,
        Err(e) => return fail(e),
    };
    let listener = match TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => return fail(format!("cannot listen on {}: {e}", args.listen)),
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "gatehouse listening on http://{addr}");
    let _ = stdout.flush();
    let served = gatehouse::server::serve(listener, app, shutdown_signal()).await;
    // Requests have drained (or the grace period is over): close the store cleanly.
    store.close().await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("server error: {e}")),
    }
}

/// The store named by `--store` / `GATEHOUSE_STORE` (or the default), opened.
async fn open_store(args: &StoreArgs) -> Result<gatehouse::store::SharedStore, String> {
    gatehouse::store::open_async(&args.resolve()?).await
}

async fn export(a: ExportArgs) -> ExitCode {
    let store = match open_store(&a.store).await {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let file = match statefile::export(store.as_ref(), a.account.as_deref()).await {
        Ok(f) => f,
        Err(e) => return fail(e),
    };
    let text = match serde_json::to_string_pretty(&file) {
        Ok(t) => t + "\n",
        Err(e) => return fail(e),
    };
    let written = match &a.output {
        Some(path) => std::fs::write(path, text),
        None => std::io::stdout().write_all(text.as_bytes()),
    };
    match written {
        Ok(()) => {
            eprintln!("gatehouse: exported {} APIs", file.apis.len());
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("cannot write the export: {e}")),
    }
}

async fn import(a: ImportArgs) -> ExitCode {
    let text = match std::fs::read_to_string(&a.file) {
        Ok(t) => t,
        Err(e) => return fail(format!("cannot read {}: {e}", a.file.display())),
    };
    let file = match statefile::parse(&text) {
        Ok(f) => f,
        Err(e) => return fail(format!("{}: {e}; nothing was imported", a.file.display())),
    };
    let store = match open_store(&a.store).await {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    match statefile::import(store.as_ref(), file, a.replace).await {
        Ok(n) => {
            eprintln!("gatehouse: imported {n} APIs from {}", a.file.display());
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}
