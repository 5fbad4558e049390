//! A Pieces OS stopped in the middle of a restore, as `pieces-backups restore` runs in discovery
//! mode with `HOME` in a temporary directory:
//! - killed (`kill -9`) and started again on another port with its port file updated: the CLI
//!   finds it again, learns that it forgot the restore, and says so truthfully (exit status 10)
//!   within 60 s; the data directory is the old tree or the backup, never a mix;
//! - stopped with SIGTERM: it cancels the restore (the old tree is back) and the CLI says so.
//!
//! The server runs as the `backups-server` binary, a child process that can be killed. `cargo
//! test --workspace` builds it next to `pieces-backups`; a run of this crate alone may not, and
//! then the test says it is skipped (in CI, where the binary must be there, it fails instead).
//! The client-only build (`--no-default-features`) marks them ignored.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use backups_testkit::TempDirs;

use common::tree;

/// The `backups-server` binary next to this crate's, if it was built.
fn server_binary() -> Option<PathBuf> {
    let cli = Path::new(env!("CARGO_BIN_EXE_pieces-backups"));
    let server = cli.with_file_name(format!("backups-server{}", std::env::consts::EXE_SUFFIX));
    server.exists().then_some(server)
}

/// Where discovery reads the port on this platform, under `home`: the SDK's own answer, which
/// the CLI's discovery uses.
fn port_file(home: &Path) -> PathBuf {
    backups_hyper::discovery::Discovery::port_file_under(home)
}

struct Server(Child);

impl Server {
    /// `kill -9`, and waits for it to be gone.
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }

    /// SIGTERM: asks it to stop as a service manager does.
    #[cfg(unix)]
    fn terminate(&self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()
            .expect("kill");
        assert!(sent.success());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts the server on a free port, writing it to `port_file`, and waits for the file.
fn serve(binary: &Path, dirs: &TempDirs, port_file: &Path) -> (Server, u16) {
    let _ = std::fs::remove_file(port_file);
    let child = Command::new(binary)
        .arg("--data")
        .arg(dirs.data())
        .arg("--store")
        .arg(dirs.store())
        .arg("--port-file")
        .arg(port_file)
        .args(["--listen", "127.0.0.1:0", "--progress-delay-ms", "60"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn backups-server");
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Some(port) = std::fs::read_to_string(port_file)
            .ok()
            .and_then(|text| text.trim().parse::<u16>().ok())
        {
            return (server, port);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the server wrote no port file");
}

fn cli(home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pieces-backups"));
    command
        .env_remove("PIECES_OS_URL")
        .env("HOME", home)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    command
}

/// A server over sample data in discovery's port file under a temporary HOME, a backup of that
/// data, and the data changed since.
struct Scene {
    dirs: TempDirs,
    home: PathBuf,
    port_file: PathBuf,
    server: Server,
    port: u16,
    id: String,
    backup_tree: common::Tree,
    old_tree: common::Tree,
}

impl Scene {
    fn new(binary: &Path) -> Self {
        let dirs = TempDirs::new().expect("temporary directories");
        let home = dirs.root().join("home");
        let data = dirs.data().to_owned();
        std::fs::create_dir_all(data.join("db")).expect("mkdir");
        for i in 0..60u8 {
            std::fs::write(data.join(format!("db/part{i:02}.bin")), vec![i; 32 * 1024])
                .expect("write");
        }
        let port_file = port_file(&home);
        std::fs::create_dir_all(port_file.parent().expect("parent")).expect("mkdir");

        let (server, port) = serve(binary, &dirs, &port_file);
        let made = cli(&home)
            .args([
                "--host",
                &format!("http://127.0.0.1:{port}"),
                "create",
                "--json",
            ])
            .output()
            .expect("create");
        assert!(made.status.success(), "{made:?}");
        let made: serde_json::Value = serde_json::from_slice(&made.stdout).expect("JSON");
        let id = made["id"].as_str().expect("an id").to_owned();
        let backup_tree = tree(&data);
        std::fs::write(data.join("db/part00.bin"), b"changed since the backup").expect("write");
        std::fs::write(data.join("new.txt"), b"not in the backup").expect("write");
        let old_tree = tree(&data);
        Self {
            dirs,
            home,
            port_file,
            server,
            port,
            id,
            backup_tree,
            old_tree,
        }
    }

    /// `restore ID --stream` in discovery mode (no --host, the port file under HOME), once
    /// its progress shows it running.
    fn restore_in_progress(&self) -> Child {
        let mut restore = cli(&self.home)
            .args([
                "restore",
                &self.id,
                "--stream",
                "--yes",
                "--no-safety-backup",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("restore");
        let (lines, seen) = mpsc::channel();
        let stdout = restore.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match seen.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) if line.contains("IN-PROGRESS") => return restore,
                Ok(_) => {}
                Err(err) => {
                    let _ = restore.kill();
                    let _ = restore.wait();
                    panic!("no progress before the fault: {err}");
                }
            }
        }
    }

    /// Asserts that the data directory is the tree from before the restore or the backup's.
    fn assert_old_tree_or_backup(&self) {
        let after = tree(self.dirs.data());
        assert!(
            after == self.old_tree || after == self.backup_tree,
            "the data directory is a mix: {:?}",
            after.keys().collect::<Vec<_>>()
        );
    }
}

/// Waits for `child` to end, at most `limit` after `since`; its status and stderr.
fn ended_within(child: &mut Child, since: Instant, limit: Duration) -> (Option<i32>, String) {
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if since.elapsed() >= limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the CLI did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
        .expect("stderr");
    (status.code(), stderr)
}

macro_rules! server_binary_or_skip {
    () => {
        match server_binary() {
            Some(binary) => binary,
            // In CI a missing binary is a failure, never a silent pass: `cargo test --workspace`
            // builds it, and the client-only build marks these tests ignored instead.
            None if std::env::var_os("CI").is_some() => panic!(
                "the backups-server binary is not built next to pieces-backups; \
                 `cargo test --workspace` builds it"
            ),
            None => {
                eprintln!(
                    "SKIPPED: the backups-server binary is not built next to pieces-backups \
                     (run `cargo test --workspace`)"
                );
                return;
            }
        }
    };
}

#[test]
#[cfg_attr(
    not(feature = "demo"),
    ignore = "the client-only build does not build the backups-server binary"
)]
fn a_pieces_os_killed_and_restarted_elsewhere_mid_restore_is_reported_truthfully() {
    let binary = server_binary_or_skip!();
    let mut scene = Scene::new(&binary);
    let mut restore = scene.restore_in_progress();
    // kill -9: no shutdown, no rollback by the dying server.
    scene.server.kill();
    let killed = Instant::now();
    let (_second, second_port) = serve(&binary, &scene.dirs, &scene.port_file);
    assert_ne!(
        second_port, scene.port,
        "the restarted server listens elsewhere"
    );
    let id = &scene.id;

    let (status, stderr) = ended_within(&mut restore, killed, Duration::from_secs(60));
    eprintln!("the CLI ended {:?} after the kill", killed.elapsed());
    assert_eq!(status, Some(10), "stderr: {stderr}");
    assert!(stderr.contains("restarted"), "{stderr}");
    assert!(stderr.contains(id.as_str()), "{stderr}");
    assert!(
        stderr.contains(&format!("pieces-backups status {id} --restore")),
        "{stderr}"
    );
    scene.assert_old_tree_or_backup();
}

#[cfg(unix)]
#[test]
#[cfg_attr(
    not(feature = "demo"),
    ignore = "the client-only build does not build the backups-server binary"
)]
fn a_pieces_os_stopped_with_sigterm_mid_restore_is_reported_with_the_old_data_back() {
    let binary = server_binary_or_skip!();
    let scene = Scene::new(&binary);
    let mut restore = scene.restore_in_progress();
    let stopped = Instant::now();
    scene.server.terminate();
    let (status, stderr) = ended_within(&mut restore, stopped, Duration::from_secs(90));
    eprintln!("the CLI ended {:?} after SIGTERM", stopped.elapsed());
    // The server cancels what runs as it stops, and says so in the stream's last event.
    assert_eq!(status, Some(6), "stderr: {stderr}");
    assert!(stderr.contains("cancelled on Pieces OS"), "{stderr}");
    assert!(
        stderr.contains(&format!("pieces-backups status {} --restore", scene.id)),
        "{stderr}"
    );
    // The server cancelled the restore as it stopped: the old tree is back.
    assert_eq!(tree(scene.dirs.data()), scene.old_tree);
}
