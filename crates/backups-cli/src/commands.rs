//! The subcommands that talk to Pieces OS: list, create, delete.

use std::io::{IsTerminal, Write};

use backups_hyper::BackupsClient;
use backups_models::BackupStreamedProgress;
use backups_proto::operations::ListBackups;
use backups_proto::{BackupId, Error};
use indicatif::{ProgressBar, ProgressStyle};

use crate::output;

/// What ended a command early.
#[derive(Debug)]
pub(crate) enum Stop {
    /// The SDK reported an error.
    Api(Error),
    /// The user pressed Ctrl-C.
    Interrupted,
    /// Something on this machine failed (the demo's temporary files or server).
    Local(String),
}

impl From<Error> for Stop {
    fn from(err: Error) -> Self {
        Self::Api(err)
    }
}

/// `list`: a table, or the listing exactly as the server sent it.
pub(crate) async fn list(
    client: &BackupsClient,
    json: bool,
    out: &mut impl Write,
) -> Result<(), Stop> {
    let (backups, raw) = client.execute_raw(&ListBackups).await?;
    if json {
        out.write_all(&raw).and_then(|()| writeln!(out)).ok();
    } else {
        write!(out, "{}", output::table(&backups)).ok();
    }
    Ok(())
}

/// `create` without `--stream`.
pub(crate) async fn create(
    client: &BackupsClient,
    json: bool,
    out: &mut impl Write,
) -> Result<(), Stop> {
    let backup = client.create().await?;
    if json {
        writeln!(out, "{}", output::json_line(&backup)).ok();
    } else {
        writeln!(out, "Created backup {}", output::summary(&backup)).ok();
    }
    Ok(())
}

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProgressMode {
    /// A bar that follows the events (stdout is a terminal).
    Bar,
    /// One plain line per event.
    Lines,
    /// One JSON object per event.
    Json,
}

impl ProgressMode {
    pub(crate) fn for_stdout(json: bool) -> Self {
        if json {
            Self::Json
        } else if std::io::stdout().is_terminal() {
            Self::Bar
        } else {
            Self::Lines
        }
    }
}

/// `create --stream`: follows the progress until the backup is done, failed, or Ctrl-C.
pub(crate) async fn create_streamed(
    client: &BackupsClient,
    mode: ProgressMode,
    out: &mut impl Write,
) -> Result<(), Stop> {
    let bar = (mode == ProgressMode::Bar).then(|| {
        let bar = ProgressBar::new(100);
        let style = ProgressStyle::with_template("{spinner} [{bar:40}] {pos:>3}% {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    });
    let follow = async {
        let stream = client.create_streamed().await?;
        let backup = stream
            .finish(|event| show(event, mode, bar.as_ref(), &mut *out))
            .await?;
        Ok(backup)
    };
    let result = tokio::select! {
        result = follow => result,
        _ = tokio::signal::ctrl_c() => Err(Stop::Interrupted),
    };
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let backup = result?;
    if mode != ProgressMode::Json {
        writeln!(out, "Created backup {}", output::summary(&backup)).ok();
    }
    Ok(())
}

/// Shows one progress event: on the bar when there is one, else as a line of text or JSON.
fn show(
    event: &BackupStreamedProgress,
    mode: ProgressMode,
    bar: Option<&ProgressBar>,
    out: &mut impl Write,
) {
    match bar {
        Some(bar) => {
            if let Some(percentage) = &event.percentage {
                bar.set_position(percentage.as_f64().clamp(0.0, 100.0) as u64);
            }
            if let Some(status) = &event.status {
                bar.set_message(status.to_string());
            }
        }
        None if mode == ProgressMode::Json => {
            writeln!(out, "{}", output::json_line(event)).ok();
        }
        None => {
            writeln!(out, "{}", output::event_line(event)).ok();
        }
    }
    out.flush().ok();
}

/// `delete ID`.
pub(crate) async fn delete(
    client: &BackupsClient,
    id: &str,
    json: bool,
    out: &mut impl Write,
) -> Result<(), Stop> {
    let id = BackupId::new(id)?;
    client.delete(&id).await?;
    if json {
        writeln!(
            out,
            "{}",
            output::json_line(&serde_json::json!({ "deleted": id.as_str() }))
        )
        .ok();
    } else {
        writeln!(out, "Deleted backup {id}").ok();
    }
    Ok(())
}
