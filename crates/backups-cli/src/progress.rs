//! Following a streamed create or restore: a bar, lines or NDJSON as the events come, and Ctrl-C
//! that asks Pieces OS to cancel the operation before the command exits.

use std::cell::{OnceCell, RefCell};
use std::io::{IsTerminal, Write};
use std::pin::pin;
use std::time::Duration;

use backups_hyper::BackupsClient;
use backups_models::{Backup, BackupStreamedProgress, ProgressStatus};
use backups_proto::{BackupId, FollowNote};
use indicatif::{ProgressBar, ProgressStyle};

use crate::interrupt::{self, until_ctrl_c};
use crate::ongoing::{Ongoing, Running};
use crate::output;
use crate::stop::Stop;

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

/// Where the events come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    /// The streamed HTTP endpoint (the default).
    Http,
    /// The operation's WebSocket (`--websocket`).
    WebSocket,
}

impl Channel {
    /// The channel a `--websocket` flag names.
    pub(crate) fn websocket_if(websocket: bool) -> Self {
        if websocket {
            Self::WebSocket
        } else {
            Self::Http
        }
    }
}

/// The streamed operation to follow.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Streamed<'a> {
    Create,
    Restore(&'a BackupId),
}

impl Streamed<'_> {
    fn running(self) -> Running {
        match self {
            Self::Create => Running::Creation,
            Self::Restore(_) => Running::Restoration,
        }
    }
}

/// Starts the operation over `channel` and shows its events until it ends; on Ctrl-C, cancels
/// it on the server (by the id the first event named, through the HTTP cancel endpoint whatever
/// the channel: a dropped socket cancels nothing) and ends with [`Stop::Interrupted`] saying how
/// that went.
pub(crate) async fn follow(
    client: &BackupsClient,
    streamed: Streamed<'_>,
    channel: Channel,
    mode: ProgressMode,
    out: &mut impl Write,
) -> Result<Backup, Stop> {
    let bar = (mode == ProgressMode::Bar).then(new_bar);
    let named = OnceCell::new();
    let last_status = RefCell::new(None);
    let mut trend = Trend::default();
    let run = async {
        let on_event = |event: &BackupStreamedProgress| {
            if let Some(backup) = &event.backup {
                // Only the first id counts; a later `set` is refused, which is the point.
                let _ = named.set(backup.id.clone());
            }
            if let Some(status) = &event.status {
                *last_status.borrow_mut() = Some(status.clone());
            }
            if let Some(note) = trend.note(event) {
                tell(&note, mode, bar.as_ref());
            }
            show(event, mode, bar.as_ref(), &mut *out);
        };
        // Where the stream breaks, the bar would otherwise stand still while the status is
        // polled: say why it goes on.
        let noun = streamed.running().noun();
        let on_note = |note: FollowNote<'_>| {
            if let FollowNote::Broke(err) = note {
                let note = format!(
                    "the progress stream broke ({err}); following the {noun} by its status"
                );
                tell(&note, mode, bar.as_ref());
            }
        };
        // The two channels give different stream types; `follow` reads either alike.
        match channel {
            Channel::Http => {
                let stream = match streamed {
                    Streamed::Create => client.create_streamed().await?,
                    Streamed::Restore(id) => client.restore_streamed(id).await?,
                };
                client.follow_noting(stream, on_event, on_note).await
            }
            Channel::WebSocket => {
                let stream = match streamed {
                    Streamed::Create => client.create_over_websocket().await?,
                    Streamed::Restore(id) => client.restore_over_websocket(id).await?,
                };
                client.follow_noting(stream, on_event, on_note).await
            }
        }
    };
    // Kept alive past Ctrl-C, for `interrupt::cancel` to watch the stream end.
    let mut run = pin!(run);
    let interrupted = until_ctrl_c(run.as_mut()).await;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let running = streamed.running();
    // A restoration is named by the backup restored, so the id given on the command line does
    // when no event named one.
    let id = match (named.get(), streamed) {
        (Some(id), _) => Some(id.clone()),
        (None, Streamed::Restore(id)) => Some(id.as_str().to_owned()),
        (None, Streamed::Create) => None,
    };
    if let Some(result) = interrupted {
        let ongoing = Ongoing {
            running,
            id,
            safety: None,
        };
        return result.map_err(|err| Stop::during(err, ongoing));
    }

    let id = match id {
        Some(id) => id,
        None => {
            return Err(Stop::Interrupted(
                "cannot cancel the creation: no progress event named its backup, so Pieces OS \
                 may still be making it (see `pieces-backups list`)"
                    .into(),
            ));
        }
    };
    // The server's final event tells whether the cancel took effect.
    let cancelled = |_: &_| *last_status.borrow() == Some(ProgressStatus::Canceled);
    Err(interrupt::cancel(client, running, &id, run, cancelled).await)
}

fn new_bar() -> ProgressBar {
    let bar = ProgressBar::new(100);
    let style = ProgressStyle::with_template("{spinner} [{bar:40}] {pos:>3}% {msg} {elapsed}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// The last progress shown, to tell the user when it goes back: a bar that jumps back without a
/// word looks like a hang or a bug.
#[derive(Debug, Default)]
struct Trend {
    last: Option<f64>,
}

impl Trend {
    /// Notes `event`; what to tell about it when it resets or goes back.
    fn note(&mut self, event: &BackupStreamedProgress) -> Option<String> {
        let now = event.percentage.as_ref().map(|p| p.as_f64());
        let before = self.last;
        if now.is_some() {
            self.last = now;
        }
        let was = before.map_or(String::new(), |before| format!(" (it was at {before}%)"));
        if event.status == Some(ProgressStatus::Reset) {
            let at = now.map_or(String::new(), |now| format!(" to {now}%"));
            return Some(format!("Pieces OS reset the progress{at}{was}"));
        }
        match (before, now) {
            (Some(before), Some(now)) if now < before => {
                Some(format!("the progress went back from {before}% to {now}%"))
            }
            _ => None,
        }
    }
}

/// Tells the user something about the progress itself: above the bar, or on stderr so that
/// stdout keeps one line per event. NDJSON readers see it in the events.
fn tell(note: &str, mode: ProgressMode, bar: Option<&ProgressBar>) {
    match bar {
        Some(bar) if !bar.is_finished() => bar.println(note),
        Some(_) => {}
        None if mode == ProgressMode::Json => {}
        None => eprintln!("pieces-backups: {note}"),
    }
}

/// Shows one progress event: on the bar when there is one, else as a line of text or JSON.
fn show(
    event: &BackupStreamedProgress,
    mode: ProgressMode,
    bar: Option<&ProgressBar>,
    out: &mut impl Write,
) {
    match bar {
        // A bar cleared for the cancel messages stays cleared.
        Some(bar) if bar.is_finished() => {}
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
