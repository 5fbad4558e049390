//! `completions` and `man`: the shell completion scripts and the manual pages, generated from
//! the same clap definition that parses the command line, so they never drift from it.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;

use super::Cli;
use crate::stop::Stop;

const NAME: &str = "pieces-backups";

/// The command line as clap sees it, built (every subcommand named `pieces-backups-NAME`).
fn command() -> clap::Command {
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    command
}

/// The subcommands that have a page: those `--help` lists.
fn visible(command: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    command.get_subcommands().filter(|sub| !sub.is_hide_set())
}

/// The page of `command`, or of one subcommand, naming this program and its version as its
/// source.
fn page_of(command: clap::Command) -> clap_mangen::Man {
    clap_mangen::Man::new(command).source(format!("{NAME} {}", env!("CARGO_PKG_VERSION")))
}

/// `completions SHELL`: the script on `out`.
pub(crate) fn completions(shell: clap_complete::Shell, out: &mut impl Write) -> Result<(), Stop> {
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, NAME, out);
    Ok(())
}

/// `man [COMMAND] [--out-dir DIR]`: the page of the command or of one subcommand on `out`, or
/// every page written into `out_dir`.
pub(crate) fn man(
    subcommand: Option<&str>,
    out_dir: Option<&Path>,
    out: &mut impl Write,
) -> Result<(), Stop> {
    let command = command();
    if let Some(dir) = out_dir {
        let pages = std::iter::once(&command).chain(visible(&command));
        for page in pages {
            let path = page_of(page.clone()).generate_to(dir).map_err(|err| {
                Stop::Local(format!(
                    "cannot write the manual pages into {}: {err} (create the directory, or \
                         pick one you can write to)",
                    dir.display()
                ))
            })?;
            writeln!(out, "Wrote {}", path.display()).ok();
        }
        return Ok(());
    }
    let page = match subcommand {
        None => command,
        Some(name) => match visible(&command).find(|sub| sub.get_name() == name) {
            Some(sub) => sub.clone(),
            None => {
                let names: Vec<&str> = visible(&command).map(clap::Command::get_name).collect();
                return Err(Stop::Failed {
                    exit: crate::exit::Exit::Usage,
                    message: format!(
                        "no command {name:?} to show the page of; pick one of: {}",
                        names.join(", ")
                    ),
                });
            }
        },
    };
    let mut roff = Vec::new();
    page_of(page)
        .render(&mut roff)
        .map_err(|err| Stop::Local(format!("cannot render the manual page: {err}")))?;
    out.write_all(&roff)
        .map_err(|err| Stop::Local(format!("cannot write the manual page: {err}")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{command, page_of, visible};

    #[test]
    fn every_subcommand_has_a_page_with_its_title() {
        let command = command();
        for sub in visible(&command) {
            let mut page = Vec::new();
            page_of(sub.clone()).render(&mut page).unwrap();
            let page = String::from_utf8(page).unwrap();
            let title = format!(".TH pieces-backups-{} 1", sub.get_name());
            assert!(page.lines().any(|l| l.starts_with(&title)), "{page}");
            assert!(page.contains("SYNOPSIS"), "{page}");
        }
    }
}
