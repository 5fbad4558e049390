//! `cargo xtask record`: records fresh HAR cases from a live server (see docs/conformance.md).

use std::path::PathBuf;
use std::process::ExitCode;

use backups_conformance::record::{RecordOptions, default_out_dir, record};

/// The options of `cargo xtask record`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The server's base URL, such as `http://127.0.0.1:39300`.
    #[arg(long, value_name = "URL")]
    base_url: String,
    /// Replace the host and device names with placeholders of the same length.
    #[arg(long)]
    redact: bool,
    /// The directory the HAR files go to [default: conformance/exchanges].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// The start of each file name.
    #[arg(long, value_name = "NAME", default_value = "recorded_")]
    prefix: String,
}

/// Records one case per operation and says what to do with them.
pub(crate) fn run(args: &Args) -> ExitCode {
    let options = RecordOptions {
        base_url: args.base_url.clone(),
        // Relative to the workspace root, as when this task ran the record example from there.
        out_dir: args.out.as_ref().map_or_else(
            || default_out_dir().to_owned(),
            |out| crate::workspace::root().join(out),
        ),
        redact: args.redact,
        prefix: args.prefix.clone(),
    };
    match record(&options) {
        Ok(files) => {
            for file in files {
                println!("wrote {}", file.display());
            }
            println!(
                "next: review the files, then accept their snapshots \
                 (INSTA_UPDATE=always cargo test -p backups-conformance --test replay)"
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("recording failed: {err}");
            ExitCode::FAILURE
        }
    }
}
