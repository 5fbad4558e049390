//! Records fresh cases from a live server: what `cargo xtask record` runs.
//!
//! `cargo run -p backups-conformance --example record -- --base-url URL [--redact] [--out DIR]
//! [--prefix NAME]`

use std::path::PathBuf;

use backups_conformance::record::{RecordOptions, default_out_dir, record};

fn main() {
    let mut options = RecordOptions {
        base_url: String::new(),
        out_dir: default_out_dir().to_owned(),
        redact: false,
        prefix: "recorded_".into(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--base-url" => options.base_url = args.next().unwrap_or_default(),
            "--redact" => options.redact = true,
            "--out" => options.out_dir = PathBuf::from(args.next().unwrap_or_default()),
            "--prefix" => options.prefix = args.next().unwrap_or_default(),
            other => {
                eprintln!("unknown argument {other:?}");
                eprintln!("usage: record --base-url URL [--redact] [--out DIR] [--prefix NAME]");
                std::process::exit(2);
            }
        }
    }
    if options.base_url.is_empty() {
        eprintln!("usage: record --base-url URL [--redact] [--out DIR] [--prefix NAME]");
        std::process::exit(2);
    }
    match record(&options) {
        Ok(files) => {
            for file in files {
                println!("wrote {}", file.display());
            }
            println!(
                "next: review the files, then accept their snapshots \
                 (INSTA_UPDATE=always cargo test -p backups-conformance --test replay)"
            );
        }
        Err(err) => {
            eprintln!("recording failed: {err}");
            std::process::exit(1);
        }
    }
}
