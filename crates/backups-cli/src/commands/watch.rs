//! `watch`: every creation and restoration in progress, live, from Pieces OS's progress
//! WebSocket, until Ctrl-C.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::time::{Duration, Instant};

use backups_hyper::BackupsClient;
use backups_models::{BackupStreamedProgress, BackupsStreamedProgress};
use backups_proto::{Error, ErrorKind, TimeoutKind};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::exit::Exit;
use crate::interrupt::until_ctrl_c;
use crate::ongoing::Running;
use crate::output;
use crate::stop::Stop;

/// How snapshots are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WatchMode {
    /// One bar per operation in progress (stdout is a terminal).
    Bars,
    /// Each snapshot as one line of JSON.
    Json,
}

/// `watch`: shows the snapshots until Ctrl-C, which ends it successfully (watching until then is
/// the command's job, and nothing is cancelled); an error or a channel that Pieces OS closed
/// ends it with that failure.
pub(crate) async fn watch(
    client: &BackupsClient,
    mode: WatchMode,
    out: &mut impl Write,
) -> Result<(), Stop> {
    let mut board = (mode == WatchMode::Bars).then(Board::new);
    // Ctrl-C's handler is installed before the first snapshot shows (`until_ctrl_c` polls it
    // first), so a Ctrl-C right after it stops the watch cleanly.
    let ended = until_ctrl_c(show_snapshots(client, board.as_mut(), out)).await;
    if let Some(board) = board {
        board.clear();
    }
    ended.unwrap_or(Ok(()))
}

/// How long to wait before reopening a progress channel that dropped.
const REOPEN_WAIT: Duration = Duration::from_secs(1);

/// Shows every snapshot as it comes; returns only on a failure. A channel that stays silent for
/// the idle timeout after it gave a snapshot is reopened, since silence there only means that
/// nothing changed. A channel that drops (a reset, a socket gone without a close frame) is
/// reopened too, for as long as Pieces OS may go unanswered ([`Polling::unanswered`]), since
/// the operations it shows go on without it.
///
/// [`Polling::unanswered`]: backups_proto::Polling::unanswered
async fn show_snapshots(
    client: &BackupsClient,
    mut board: Option<&mut Board>,
    out: &mut impl Write,
) -> Result<(), Stop> {
    let patience = client.polling().unanswered;
    let mut dropped: Option<Instant> = None;
    loop {
        let mut snapshots = match client.watch_progress().await {
            Ok(snapshots) => snapshots,
            Err(err)
                if dropped.is_some_and(|since| since.elapsed() < patience) && is_lost(&err) =>
            {
                tokio::time::sleep(REOPEN_WAIT).await;
                continue;
            }
            Err(err) => return Err(err.into()),
        };
        let mut any = false;
        loop {
            match snapshots.next_snapshot().await {
                Some(Ok(snapshot)) => {
                    any = true;
                    if dropped.take().is_some() {
                        eprintln!("pieces-backups: the progress channel is back");
                    }
                    match board.as_deref_mut() {
                        Some(board) => board.show(&snapshot),
                        None => {
                            let written = writeln!(out, "{}", output::json_line(&snapshot))
                                .and_then(|()| out.flush());
                            // The reader went away (`watch --json | head -1`): nobody is left
                            // to watch for.
                            if written.is_err() {
                                return Ok(());
                            }
                        }
                    }
                }
                Some(Err(err)) if any && err.kind() == ErrorKind::Timeout(TimeoutKind::Idle) => {
                    break;
                }
                Some(Err(err)) if any && is_lost(&err) => {
                    eprintln!(
                        "pieces-backups: the progress channel dropped ({err}); reconnecting \
                         (what runs on Pieces OS goes on)"
                    );
                    dropped.get_or_insert_with(Instant::now);
                    tokio::time::sleep(REOPEN_WAIT).await;
                    break;
                }
                Some(Err(err)) => return Err(err.into()),
                None => {
                    return Err(Stop::Failed {
                        exit: Exit::ServerError,
                        message: "Pieces OS closed the progress channel, which it keeps open \
                                  while it runs; check that it is still running, then run \
                                  `pieces-backups watch` again"
                            .into(),
                    });
                }
            }
        }
    }
}

/// Whether `err` is the channel's connection lost (or not made again yet), rather than
/// something Pieces OS said.
fn is_lost(err: &Error) -> bool {
    matches!(
        err.kind(),
        ErrorKind::Transport(_) | ErrorKind::Truncated | ErrorKind::Timeout(_)
    )
}

/// Which of a backup's operations a bar follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Creation,
    Restoration,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Self::Creation => "backup",
            Self::Restoration => "restore",
        }
    }
}

/// The bars on a terminal: a header line, then one bar per operation in progress.
struct Board {
    multi: MultiProgress,
    header: ProgressBar,
    /// By kind and backup id (or the operation's place in the snapshot, when it names none).
    rows: BTreeMap<(Kind, String), Row>,
    /// The operations whose final status was shown and that the channel still lists: the server
    /// need not send a snapshot when one leaves.
    ended: BTreeSet<(Kind, String)>,
}

/// One operation's bar and its last event.
struct Row {
    bar: ProgressBar,
    last: BackupStreamedProgress,
}

impl Board {
    fn new() -> Self {
        let multi = MultiProgress::new();
        let header = multi.add(ProgressBar::new_spinner());
        header.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        header.set_message("connecting to the progress channel…");
        header.enable_steady_tick(Duration::from_millis(120));
        Self {
            multi,
            header,
            rows: BTreeMap::new(),
            ended: BTreeSet::new(),
        }
    }

    /// Adds a bar for each operation that appeared, moves the others, and ends those that
    /// reached their final status or left.
    fn show(&mut self, snapshot: &BackupsStreamedProgress) {
        let mut seen = BTreeSet::new();
        let kinds = [
            (Kind::Creation, &snapshot.backups),
            (Kind::Restoration, &snapshot.restorations),
        ];
        for (kind, events) in kinds {
            for (place, event) in events.iter().flatten().enumerate() {
                let id = event
                    .backup
                    .as_ref()
                    .map_or_else(|| format!("#{}", place + 1), |backup| backup.id.clone());
                let key = (kind, id);
                seen.insert(key.clone());
                if event.is_terminal() && self.ended.contains(&key) {
                    continue;
                }
                // Not final: a new restoration of a backup restored before, say.
                self.ended.remove(&key);
                let multi = &self.multi;
                let row = self
                    .rows
                    .entry(key.clone())
                    .or_insert_with(|| Row::new(multi, kind, &key.1));
                row.update(event);
                if event.is_terminal() {
                    if let Some(row) = self.rows.remove(&key) {
                        self.end(&key, row);
                    }
                    self.ended.insert(key);
                }
            }
        }
        self.ended.retain(|key| seen.contains(key));
        let left: Vec<_> = self
            .rows
            .keys()
            .filter(|key| !seen.contains(*key))
            .cloned()
            .collect();
        for key in left {
            if let Some(row) = self.rows.remove(&key) {
                self.end(&key, row);
            }
        }
        let watching = "watching every backup and restore (Ctrl-C to stop)";
        self.header.set_message(match self.rows.len() {
            0 => format!("none in progress; {watching}"),
            n => format!("{n} in progress; {watching}"),
        });
    }

    /// Replaces the bar of an operation that ended or left with a line saying how it ended.
    fn end(&self, (kind, id): &(Kind, String), row: Row) {
        row.bar.finish_and_clear();
        self.multi.remove(&row.bar);
        let standing = output::standing(row.last.status.as_ref(), row.last.percentage.as_ref());
        let line = if row.last.is_terminal() {
            format!("{} {id}: {standing}", kind.label())
        } else {
            let running = match kind {
                Kind::Creation => Running::Creation,
                Kind::Restoration => Running::Restoration,
            };
            format!(
                "{} {id}: left the progress channel at {standing}; see how it ended with {}",
                kind.label(),
                running.status_command(id)
            )
        };
        // Printed above the bars, where it stays.
        self.multi.println(line).ok();
    }

    fn clear(self) {
        for row in self.rows.values() {
            row.bar.finish_and_clear();
        }
        self.header.finish_and_clear();
        self.multi.clear().ok();
    }
}

impl Row {
    fn new(multi: &MultiProgress, kind: Kind, id: &str) -> Self {
        let bar = multi.add(ProgressBar::new(100));
        let style = ProgressStyle::with_template("  {prefix} [{bar:30}] {pos:>3}% {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(format!("{} {id}", kind.label()));
        Self {
            bar,
            last: BackupStreamedProgress::default(),
        }
    }

    fn update(&mut self, event: &BackupStreamedProgress) {
        if let Some(percentage) = &event.percentage {
            self.bar
                .set_position(percentage.as_f64().clamp(0.0, 100.0) as u64);
        }
        if let Some(status) = &event.status {
            self.bar.set_message(status.to_string());
        }
        self.last = event.clone();
    }
}
