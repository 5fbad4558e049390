//! The `backups-server` command: serve the Backups API, verify a store, restore a backup.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use backups_server::{Fault, Server, ServerConfig, restore_backup, verify_store};
use clap::{Args, Parser, Subcommand};

/// A local implementation of the Pieces OS Backups API.
///
/// Without a subcommand it serves: `backups-server --data DIR --store DIR`.
///
/// On Ctrl-C or SIGTERM it cancels every create and restore in progress (a canceled restore
/// leaves the data directory as it was), finishes the requests in flight, and exits 0 within
/// 5 s.
#[derive(Debug, Parser)]
#[command(
    name = "backups-server",
    version,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the Backups API (the default).
    Serve(ServeArgs),
    /// Check every backup in a store against its checksums.
    Verify {
        /// The store directory.
        #[arg(long, value_name = "DIR")]
        store: PathBuf,
    },
    /// Write a backup back out as a directory tree.
    Restore {
        /// The id of the backup.
        id: String,
        /// The store directory.
        #[arg(long, value_name = "DIR")]
        store: PathBuf,
        /// Where to write it: a new or empty directory.
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
    },
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on [default: first free port of 127.0.0.1:39300..=39333; port 0 takes
    /// any free port].
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// The directory to back up (the stand-in for the Pieces OS database).
    #[arg(long, value_name = "DIR", required = true)]
    data: Option<PathBuf>,
    /// Where backups are kept (the stand-in for the cloud); created if missing.
    #[arg(long, value_name = "DIR", required = true)]
    store: Option<PathBuf>,
    /// Where to write the chosen port [default: <store>/.port.txt].
    #[arg(long, value_name = "PATH")]
    port_file: Option<PathBuf>,
    /// Answer every backups call with this failure, as Pieces OS does.
    #[arg(long, value_name = "FAULT", value_parser = ["unauthenticated", "outdated", "internal-error"])]
    simulate: Option<String>,
    /// Pause this long after each progress step of a create or restore (each file and each MiB).
    #[arg(long, value_name = "N", default_value_t = 0)]
    progress_delay_ms: u64,
    /// A silent phase in every create and restore: when its progress reaches 50 %, the work
    /// stops this many seconds (a decimal number) with no event on its stream or socket, while
    /// its status keeps answering IN-PROGRESS. For testing clients' idle timeouts.
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    silent_phase_secs: Option<Duration>,
    /// Break every progress stream after N events, as a lost connection would: a streamed
    /// create or restore's HTTP response is cut mid-body, an operation WebSocket dropped
    /// without a close frame. The work goes on to its end; its status says how it ended.
    #[arg(long, value_name = "N")]
    drop_streams_after: Option<u32>,
    /// Largest request body accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 1024 * 1024)]
    max_body_bytes: usize,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => serve(cli.serve),
        Some(Command::Serve(args)) => serve(args),
        Some(Command::Verify { store }) => verify(&store),
        Some(Command::Restore { id, store, to }) => restore(&id, &store, &to),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("backups-server: {message}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: ServeArgs) -> Result<ExitCode, String> {
    let (Some(data), Some(store)) = (args.data, args.store) else {
        return Err("--data DIR and --store DIR are required".into());
    };
    let mut config = ServerConfig::new(data, store);
    config.listen = args.listen;
    config.port_file = args.port_file;
    config.simulate = args
        .simulate
        .map(|name| name.parse::<Fault>())
        .transpose()
        .map_err(|err| err.to_string())?;
    config.progress_delay = Duration::from_millis(args.progress_delay_ms);
    config.silent_phase = args.silent_phase_secs.unwrap_or_default();
    config.drop_streams_after = args.drop_streams_after;
    config.max_body_bytes = args.max_body_bytes;

    let runtime = tokio::runtime::Runtime::new().map_err(|err| format!("starting: {err}"))?;
    let served = runtime.block_on(async {
        let server = Server::start(config.clone())
            .await
            .map_err(|err| err.to_string())?;
        let fault = config
            .simulate
            .map(|fault| format!(", simulating {fault}"))
            .unwrap_or_default();
        eprintln!(
            "backups-server listening on {} (data {}, store {}, port file {}{fault})",
            server.base_url(),
            config.data_dir.display(),
            config.store_dir.display(),
            server.port_file().display(),
        );
        stop_signal().await;
        eprintln!("backups-server: shutting down");
        server.shutdown().await.map_err(|err| err.to_string())?;
        Ok(ExitCode::SUCCESS)
    });
    // Dropping a runtime waits for every blocking task: an operation that did not stop within
    // the shutdown's bound would hold the exit for as long as it runs. It is left to the exit
    // instead, which the store survives as it survives a crash.
    runtime.shutdown_timeout(EXIT_GRACE);
    served
}

/// How long the exit waits, after the shutdown, for work threads still running.
const EXIT_GRACE: Duration = Duration::from_millis(500);

/// A duration in seconds, such as `90` or `1.5`.
fn parse_secs(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("{text:?} is not a number of seconds from 0 up"))
}

/// Resolves on Ctrl-C, or on SIGTERM where there is one.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn verify(store: &std::path::Path) -> Result<ExitCode, String> {
    let report = verify_store(store).map_err(|err| err.to_string())?;
    for problem in &report.problems {
        println!("{problem}");
    }
    println!(
        "{} backups, {} objects, {} bytes checked: {}",
        report.backups,
        report.objects,
        report.bytes,
        if report.is_ok() {
            "ok".to_owned()
        } else {
            format!("{} problems", report.problems.len())
        }
    );
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn restore(id: &str, store: &std::path::Path, to: &std::path::Path) -> Result<ExitCode, String> {
    let summary = restore_backup(store, id, to).map_err(|err| err.to_string())?;
    println!(
        "restored backup {id} to {}: {} files, {} directories, {} links, {} bytes",
        to.display(),
        summary.files,
        summary.dirs,
        summary.symlinks,
        summary.bytes
    );
    Ok(ExitCode::SUCCESS)
}
