//! `demo`: the whole API against a temporary in-process reference server.

use std::io::Write;
use std::time::Duration;

use backups_server::temp::{TempDirs, pseudo_random};

use crate::commands::{self, Stop};
use crate::connect;
use crate::progress::ProgressMode;

/// Sample files for the "local database": a few small ones and one of a few MiB, so that
/// progress has something to show.
fn write_sample_data(dirs: &TempDirs) -> std::io::Result<u64> {
    let files = [
        (
            "snippets/hello.rs",
            b"fn main() {\n    println!(\"hello\");\n}\n".to_vec(),
        ),
        (
            "snippets/query.sql",
            b"SELECT id, created FROM backups ORDER BY created DESC;\n".to_vec(),
        ),
        (
            "notes/readme.md",
            b"# Saved materials\n\nEverything here is backed up.\n".to_vec(),
        ),
        ("db/pieces.db", pseudo_random(4 << 20, 0x2545_f491)),
    ];
    let mut total = 0;
    for (name, contents) in files {
        dirs.write_file(name, &contents)?;
        total += contents.len() as u64;
    }
    Ok(total)
}

fn step(out: &mut impl Write, text: &str) {
    writeln!(out, "\n==> {text}").ok();
}

/// Runs the demo, writing what happens to `out`.
pub(crate) async fn run(json: bool, out: &mut impl Write) -> Result<(), Stop> {
    let io_error = |what: &str, err: std::io::Error| Stop::Local(format!("{what}: {err}"));
    let dirs = TempDirs::new().map_err(|err| io_error("cannot make a temporary directory", err))?;
    let bytes =
        write_sample_data(&dirs).map_err(|err| io_error("cannot write sample data", err))?;

    // Slow enough for the progress bar to be seen, quick enough for a demo.
    let server = dirs
        .start(|config| config.progress_delay = Duration::from_millis(60))
        .await
        .map_err(|err| Stop::Local(format!("cannot start the reference server: {err}")))?;
    let url = server.base_url();
    step(out, &format!("Started the reference server at {url}"));
    writeln!(
        out,
        "    data:  {} ({bytes} bytes of sample files)",
        server.dirs().data().display()
    )
    .ok();
    writeln!(out, "    store: {}", server.dirs().store().display()).ok();

    let result = async {
        let client = connect::client_for(&url, None)?;
        step(out, "pieces-backups create --stream");
        let mode = if json {
            ProgressMode::Json
        } else {
            ProgressMode::for_stdout(false)
        };
        commands::create_streamed(&client, mode, out).await?;

        step(out, "pieces-backups list");
        commands::list(&client, json, out).await?;

        let listing = client.list().await?;
        let id = listing
            .iter()
            .next()
            .map(|backup| backup.id.clone())
            .unwrap_or_default();
        step(out, &format!("pieces-backups delete {id}"));
        commands::delete(&client, &id, json, out).await?;

        step(out, "pieces-backups list");
        commands::list(&client, json, out).await?;
        Ok::<(), Stop>(())
    }
    .await;

    // Dropping the directories the shutdown hands back removes them.
    let stopped = server.shutdown().await.map(drop);
    if let (Ok(()), Err(err)) = (&result, stopped) {
        return Err(Stop::Local(format!(
            "the reference server did not stop cleanly: {err}"
        )));
    }
    if result.is_ok() {
        step(
            out,
            "Done: the server is stopped and its temporary files removed.",
        );
    }
    result
}
