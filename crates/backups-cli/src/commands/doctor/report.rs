//! The report of `doctor`: what each question answered, the problems with what to do about
//! them, as JSON (the types' serde form) or as text for a person.

use backups_models::BackupsStreamedProgress;
use backups_proto::Error;
use serde::Serialize;

use crate::exit::Exit;
use crate::output;

/// The report, as `--json` prints it.
#[derive(Debug, Serialize)]
pub(super) struct Report {
    /// This tool.
    pub(super) tool: Tool,
    /// Which Pieces OS was examined, and how it was found.
    pub(super) address: Address,
    /// `GET /.well-known/health`; `None` when no Pieces OS was found to ask.
    pub(super) health: Option<Check<String>>,
    /// `GET /.well-known/version`; `None` when not asked.
    pub(super) version: Option<Check<String>>,
    /// The list of backups, which says whether backups work at all.
    pub(super) backups: Option<Check<Backups>>,
    /// The progress channel's first snapshot: the creations and restorations running now.
    pub(super) running: Option<Check<BackupsStreamedProgress>>,
    /// Whether backups work: the list answered.
    pub(super) usable: bool,
    /// Every problem found, the one that keeps backups from working first.
    pub(super) problems: Vec<Problem>,
    /// The exit status.
    pub(super) exit: u8,
}

/// This tool's name and version.
#[derive(Debug, Serialize)]
pub(super) struct Tool {
    pub(super) name: &'static str,
    pub(super) version: &'static str,
}

/// Where the address came from and what discovery found on the way.
#[derive(Debug, Serialize)]
pub(super) struct Address {
    /// `--host`, `PIECES_OS_URL` or `discovery`.
    pub(super) from: &'static str,
    /// The base URL examined; `None` when discovery found none.
    pub(super) url: Option<String>,
    /// The discovery step that found it.
    pub(super) found_by: Option<String>,
    /// Every place discovery looked at, runs of ports with the same result folded.
    pub(super) findings: Vec<Looked>,
}

/// One place (or run of ports) discovery looked at.
#[derive(Debug, Serialize)]
pub(super) struct Looked {
    pub(super) step: String,
    pub(super) place: String,
    pub(super) found: String,
    pub(super) healthy: bool,
}

/// One question's answer, or why there is none.
#[derive(Debug, Serialize)]
pub(super) struct Check<T> {
    pub(super) ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) answer: Option<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) error: Option<Failure>,
}

impl<T> Check<T> {
    /// The question's answer.
    pub(super) fn answered(answer: T) -> Self {
        Self {
            ok: true,
            answer: Some(answer),
            error: None,
        }
    }

    /// Why the question has no answer.
    pub(super) fn failed(error: Failure) -> Self {
        Self {
            ok: false,
            answer: None,
            error: Some(error),
        }
    }
}

/// What the list of backups says when it answers.
#[derive(Debug, Serialize)]
pub(super) struct Backups {
    pub(super) count: usize,
}

/// What went wrong with a question: the SDK's error kind (or `Unhealthy`), the HTTP status if
/// one came, and the message.
#[derive(Debug, Serialize)]
pub(super) struct Failure {
    pub(super) kind: String,
    pub(super) status: Option<u16>,
    pub(super) message: String,
}

impl From<&Error> for Failure {
    fn from(err: &Error) -> Self {
        Self {
            kind: err.kind().name().to_owned(),
            status: err.status().map(|status| status.as_u16()),
            message: err.to_string(),
        }
    }
}

/// A problem and the one thing to do about it.
#[derive(Debug, Serialize)]
pub(super) struct Problem {
    pub(super) what: String,
    pub(super) fix: String,
    /// Whether it keeps backups from working (and so sets the exit status).
    pub(super) blocks_backups: bool,
    #[serde(skip)]
    pub(super) exit: Option<Exit>,
}

impl Report {
    /// A report on `address` with no answer yet: it exits 3 until backups are found usable.
    pub(super) fn new(address: Address) -> Self {
        Self {
            tool: Tool {
                name: "pieces-backups",
                version: env!("CARGO_PKG_VERSION"),
            },
            address,
            health: None,
            version: None,
            backups: None,
            running: None,
            usable: false,
            problems: Vec::new(),
            exit: Exit::CannotConnect as u8,
        }
    }

    /// Records a problem that keeps backups from working, with its exit status; the first one
    /// recorded sets the report's.
    pub(super) fn blocking(&mut self, exit: Exit, what: String, fix: String) {
        if !self.problems.iter().any(|problem| problem.exit.is_some()) {
            self.exit = exit as u8;
        }
        self.problems.push(Problem {
            what,
            fix,
            blocks_backups: true,
            exit: Some(exit),
        });
    }

    /// Records a problem that leaves backups working.
    pub(super) fn warning(&mut self, what: String, fix: String) {
        self.problems.push(Problem {
            what,
            fix,
            blocks_backups: false,
            exit: None,
        });
    }
}

/// The width of the text report's labels.
const LABEL: usize = 16;

impl Report {
    /// The report for a person: one line per question, then the problems and what to do.
    pub(super) fn text(&self) -> String {
        let mut lines: Vec<(&str, String)> = Vec::new();
        lines.push(("pieces-backups", self.tool.version.to_owned()));
        let address = &self.address;
        let found = match (&address.url, &address.found_by) {
            (Some(url), Some(step)) => format!("{url} (found through the {step})"),
            (Some(url), None) => format!("{url} (from {}; discovery not run)", address.from),
            (None, _) => "not found".to_owned(),
        };
        lines.push(("Pieces OS", found));
        for (index, run) in address.findings.iter().enumerate() {
            let label = if index == 0 { "  looked at" } else { "" };
            lines.push((label, format!("{}: {}", run.place, run.found)));
        }
        lines.push(("Health", answer_text(&self.health, String::clone)));
        lines.push(("Version", answer_text(&self.version, String::clone)));
        // The problem below words why backups do not work; each failed check would only repeat
        // the same error.
        let below = "not usable (see the problem below)";
        lines.push((
            "Backups",
            match &self.backups {
                Some(Check { ok: false, .. }) => below.to_owned(),
                other => answer_text(other, |backups| match backups.count {
                    1 => "usable (1 backup)".to_owned(),
                    count => format!("usable ({count} backups)"),
                }),
            },
        ));
        match &self.running {
            Some(Check { ok: false, .. }) if !self.usable => {
                lines.push(("Running now", "unknown (see the problem below)".to_owned()));
            }
            Some(Check {
                answer: Some(snapshot),
                ..
            }) => {
                let running = running_lines(snapshot);
                if running.is_empty() {
                    lines.push(("Running now", "nothing".to_owned()));
                }
                for (index, line) in running.into_iter().enumerate() {
                    lines.push((if index == 0 { "Running now" } else { "" }, line));
                }
            }
            other => lines.push(("Running now", answer_text(other, |_| String::new()))),
        }

        let mut text = String::new();
        for (label, value) in lines {
            text.push_str(format!("{label:<LABEL$}{value}").trim_end_matches(' '));
            text.push('\n');
        }
        text.push('\n');
        if self.problems.is_empty() {
            text.push_str("No problem found: backups are usable.\n");
        } else if self.usable {
            text.push_str("Backups are usable, but:\n");
        }
        for problem in &self.problems {
            let kind = if problem.blocks_backups {
                "Problem"
            } else {
                "Warning"
            };
            text.push_str(&format!(
                "{kind}: {}\n  To do: {}\n",
                problem.what, problem.fix
            ));
        }
        text
    }
}

/// A check's answer as `show` words it, its error, or "not checked".
fn answer_text<T>(check: &Option<Check<T>>, show: impl Fn(&T) -> String) -> String {
    match check {
        None => "not checked".to_owned(),
        Some(Check {
            answer: Some(answer),
            ..
        }) => show(answer),
        Some(Check {
            error: Some(error), ..
        }) => format!("unknown: {}", error.message),
        Some(_) => "unknown".to_owned(),
    }
}

/// One line per creation and restoration in a snapshot: `backup ID: IN-PROGRESS 40%`.
fn running_lines(snapshot: &BackupsStreamedProgress) -> Vec<String> {
    let kinds = [
        ("backup", &snapshot.backups),
        ("restore", &snapshot.restorations),
    ];
    let mut lines = Vec::new();
    for (label, events) in kinds {
        for (place, event) in events.iter().flatten().enumerate() {
            let id = event
                .backup
                .as_ref()
                .map_or_else(|| format!("#{}", place + 1), |backup| backup.id.clone());
            let standing = output::standing(event.status.as_ref(), event.percentage.as_ref());
            lines.push(format!("{label} {id}: {standing}"));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_without_pieces_os_says_what_to_do_and_checks_nothing_else() {
        let mut report = Report::new(Address {
            from: "discovery",
            url: None,
            found_by: None,
            findings: Vec::new(),
        });
        report.blocking(Exit::CannotConnect, "none found".into(), "start it".into());
        report.warning("late".into(), "ignore".into());
        assert_eq!(report.exit, Exit::CannotConnect as u8);
        let text = report.text();
        assert!(text.contains("Pieces OS       not found\n"), "{text}");
        assert!(text.contains("Backups         not checked\n"), "{text}");
        assert!(
            text.contains("Problem: none found\n  To do: start it\n"),
            "{text}"
        );
        assert!(text.contains("Warning: late\n"), "{text}");
        assert!(!text.contains("No problem found"), "{text}");
    }
}
