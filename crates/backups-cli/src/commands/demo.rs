//! `demo`: the whole API against a temporary in-process reference server.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use backups_hyper::BackupsClient;
use backups_models::Filter;

use backups_server::temp::{TempDirs, pseudo_random};

use crate::commands::restore::{self, Consent, Safety};
use crate::commands::{create, delete, list, show, status};
use crate::connect;
use crate::ongoing::Running;
use crate::progress::{Channel, ProgressMode};
use crate::stop::Stop;

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

/// The sample file the demo changes, to show a restore bring it back.
const CHANGED: &str = "notes/readme.md";

/// Changes a file of the backed-up data, restores backup `id` and shows the file is back.
async fn restore_a_changed_file(
    client: &BackupsClient,
    id: &str,
    path: &Path,
    mode: ProgressMode,
    json: bool,
    out: &mut impl Write,
) -> Result<(), Stop> {
    let read = |what: &str| {
        std::fs::read_to_string(path)
            .map_err(|err| Stop::Local(format!("cannot read {} {what}: {err}", path.display())))
    };
    let backed_up = read("before the change")?;
    step(out, &format!("Changing {CHANGED} in the data directory"));
    std::fs::write(path, "# Overwritten by mistake\n")
        .map_err(|err| Stop::Local(format!("cannot change {}: {err}", path.display())))?;
    writeln!(out, "    before: {:?}", backed_up).ok();
    writeln!(out, "    now:    {:?}", read("after the change")?).ok();

    // The demo's data is its own temporary copy: nothing of the user's is replaced.
    step(out, &format!("pieces-backups restore {id} --stream --yes"));
    let stream = Some((mode, Channel::Http));
    restore::restore(
        client,
        id,
        Consent::Given,
        Safety::Backup,
        stream,
        json,
        out,
    )
    .await?;
    let restored = read("after the restore")?;
    writeln!(out, "    after restore: {restored:?}").ok();
    if restored != backed_up {
        return Err(Stop::Local(format!(
            "the restore did not bring {CHANGED} back: the reference server has a bug; please \
             report it with this output"
        )));
    }
    writeln!(out, "    {CHANGED} is back as it was backed up.").ok();
    Ok(())
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
        create::create_streamed(&client, Channel::Http, mode, out).await?;

        step(out, "pieces-backups list");
        list::list(&client, &Filter::default(), json, out).await?;

        let listing = client.list().await?;
        let id = listing
            .iter()
            .next()
            .map(|backup| backup.id.clone())
            .unwrap_or_default();
        step(out, &format!("pieces-backups show {id}"));
        show::show(&client, &id, json, out).await?;

        restore_a_changed_file(
            &client,
            &id,
            &server.dirs().data().join(CHANGED),
            mode,
            json,
            out,
        )
        .await?;

        step(out, &format!("pieces-backups status {id} --restore"));
        status::status(&client, &id, Running::Restoration, json, out).await?;

        step(out, &format!("pieces-backups delete {id}"));
        delete::delete(&client, &id, json, out).await?;

        step(out, "pieces-backups list");
        list::list(&client, &Filter::default(), json, out).await?;
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
