//! `demo`: the whole API against a temporary in-process reference server.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use backups_server::{Server, ServerConfig};

use crate::commands::{self, ProgressMode, Stop};
use crate::connect;

/// Sample files for the "local database": a few small ones and one of a few MiB, so that
/// progress has something to show.
fn write_sample_data(dir: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    let notes = [
        (
            "snippets/hello.rs",
            "fn main() {\n    println!(\"hello\");\n}\n".to_owned(),
        ),
        (
            "snippets/query.sql",
            "SELECT id, created FROM backups ORDER BY created DESC;\n".to_owned(),
        ),
        (
            "notes/readme.md",
            "# Saved materials\n\nEverything here is backed up.\n".to_owned(),
        ),
    ];
    for (name, text) in notes {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap_or(dir))?;
        std::fs::write(&path, &text)?;
        total += text.len() as u64;
    }
    let mut blob = Vec::with_capacity(4 << 20);
    let mut state = 0x2545_f491_u32;
    while blob.len() < 4 << 20 {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        blob.extend_from_slice(&state.to_le_bytes());
    }
    std::fs::create_dir_all(dir.join("db"))?;
    std::fs::write(dir.join("db/pieces.db"), &blob)?;
    total += blob.len() as u64;
    Ok(total)
}

fn step(out: &mut impl Write, text: &str) {
    writeln!(out, "\n==> {text}").ok();
}

/// Runs the demo, writing what happens to `out`.
pub(crate) async fn run(json: bool, out: &mut impl Write) -> Result<(), Stop> {
    let io_error = |what: &str, err: std::io::Error| Stop::Local(format!("{what}: {err}"));
    let root =
        tempfile::tempdir().map_err(|err| io_error("cannot make a temporary directory", err))?;
    let data = root.path().join("data");
    let store = root.path().join("store");
    std::fs::create_dir_all(&data)
        .map_err(|err| io_error("cannot make the data directory", err))?;
    let bytes =
        write_sample_data(&data).map_err(|err| io_error("cannot write sample data", err))?;

    let mut config =
        ServerConfig::new(&data, &store).with_listen(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
    config.port_file = Some(root.path().join(".port.txt"));
    // Slow enough for the progress bar to be seen, quick enough for a demo.
    config.progress_delay = Duration::from_millis(60);
    let server = Server::start(config)
        .await
        .map_err(|err| Stop::Local(format!("cannot start the reference server: {err}")))?;
    let url = server.base_url();
    step(out, &format!("Started the reference server at {url}"));
    writeln!(
        out,
        "    data:  {} ({bytes} bytes of sample files)",
        data.display()
    )
    .ok();
    writeln!(out, "    store: {}", store.display()).ok();

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

    let stopped = server.shutdown().await;
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
