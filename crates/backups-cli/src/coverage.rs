//! Which command makes each API operation, or why none does. The test below fails when an
//! operation is added to `backups_proto::Operation` without a line here.

use backups_proto::Operation;

/// How the command line covers one operation.
enum Coverage {
    /// A command line (after `pieces-backups`) that makes the operation.
    Command(&'static [&'static str]),
    /// Why no command makes it.
    #[allow(dead_code)]
    Omitted(&'static str),
}

/// One line per operation, by `Operation::name`.
const COVERAGE: &[(&str, Coverage)] = &[
    ("list", Coverage::Command(&["list"])),
    ("create", Coverage::Command(&["create"])),
    (
        "create_streamed",
        Coverage::Command(&["create", "--stream"]),
    ),
    ("delete", Coverage::Command(&["delete", "1764190800000"])),
    ("get", Coverage::Command(&["show", "1764190800000"])),
    (
        "restore",
        Coverage::Command(&["restore", "1764190800000", "--yes"]),
    ),
    (
        "restore_streamed",
        Coverage::Command(&["restore", "1764190800000", "--stream", "--yes"]),
    ),
    (
        "creation_status",
        Coverage::Command(&["status", "1764190800000"]),
    ),
    (
        "cancel_creation",
        Coverage::Command(&["cancel", "1764190800000"]),
    ),
    (
        "restoration_status",
        Coverage::Command(&["status", "1764190800000", "--restore"]),
    ),
    (
        "cancel_restoration",
        Coverage::Command(&["cancel", "1764190800000", "--restore"]),
    ),
    ("watch_progress", Coverage::Command(&["watch"])),
    (
        "create_websocket",
        Coverage::Command(&["create", "--stream", "--websocket"]),
    ),
    (
        "restore_websocket",
        Coverage::Command(&[
            "restore",
            "1764190800000",
            "--stream",
            "--websocket",
            "--yes",
        ]),
    ),
];

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::args::{Cli, Command};

    #[test]
    fn every_operation_has_a_command_or_a_reason() {
        for operation in Operation::ALL {
            let line = COVERAGE.iter().find(|(name, _)| *name == operation.name());
            let Some((_, coverage)) = line else {
                panic!("{operation}: add a command, or a reason for none, to coverage.rs");
            };
            match coverage {
                Coverage::Command(args) => {
                    let argv = std::iter::once(&"pieces-backups").chain(args.iter());
                    match Cli::try_parse_from(argv) {
                        Ok(cli) => assert!(
                            matches!(cli.command, Command::Api(_)),
                            "{operation}: `pieces-backups {}` is not an API command",
                            args.join(" ")
                        ),
                        Err(err) => panic!(
                            "{operation}: `pieces-backups {}` does not parse: {err}",
                            args.join(" ")
                        ),
                    }
                }
                Coverage::Omitted(reason) => assert!(!reason.is_empty(), "{operation}"),
            }
        }
        assert_eq!(
            COVERAGE.len(),
            Operation::ALL.len(),
            "a line names no operation"
        );
    }
}
