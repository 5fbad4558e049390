//! What the CLI's test suites share: a reference server over temporary directories, and the
//! built `pieces-backups` to run against it.

// Each suite uses its own part of this module.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use backups_server::ServerConfig;
use backups_testkit::BlockingServer;
use serde_json::Value;

/// Every file under a directory with its content, by relative path.
pub(crate) type Tree = BTreeMap<PathBuf, Vec<u8>>;

/// A reference server on an ephemeral port over temporary directories, alive while this is.
pub(crate) struct TestServer {
    server: BlockingServer,
    /// Its base URL.
    pub(crate) url: String,
}

impl TestServer {
    pub(crate) fn start(configure: impl FnOnce(&mut ServerConfig)) -> Self {
        let big = vec![7u8; 300_000];
        let files: [(&str, &[u8]); 2] = [("a.txt", b"alpha"), ("sub/b.bin", &big)];
        let server = BlockingServer::start(&files, configure);
        let url = server.base_url();
        Self { server, url }
    }

    /// The directory the server backs up and restores.
    pub(crate) fn data(&self) -> &Path {
        self.server.server().dirs().data()
    }

    /// Makes a backup and returns its id.
    pub(crate) fn create(&self) -> String {
        let created = self.run(&["create", "--json"]);
        assert_exit(&created, 0);
        json_lines(&created)[0]["id"].as_str().unwrap().to_owned()
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        run_at(&self.url, args)
    }

    /// The address it listens on, for a proxy in front of it.
    pub(crate) fn addr(&self) -> std::net::SocketAddr {
        self.server.local_addr()
    }
}

/// Runs `pieces-backups --host URL ARGS…` to its end.
pub(crate) fn run_at(url: &str, args: &[&str]) -> Output {
    cli().arg("--host").arg(url).args(args).output().unwrap()
}

pub(crate) fn cli() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pieces-backups"));
    command.env_remove("PIECES_OS_URL").stdin(Stdio::null());
    // A developer's CLICOLOR_FORCE would colour the pipes that the tests read.
    command.env_remove("CLICOLOR_FORCE").env_remove("CLICOLOR");
    command
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[track_caller]
pub(crate) fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "{}\nstdout: {}\nstderr: {}",
        output.status,
        stdout(output),
        stderr(output)
    );
}

/// Every file under `dir` with its content, by path relative to `dir`.
pub(crate) fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, files);
            } else {
                let relative = path.strip_prefix(root).unwrap().to_owned();
                files.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(dir, dir, &mut files);
    files
}

pub(crate) fn json_lines(output: &Output) -> Vec<Value> {
    stdout(output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?}: {e}")))
        .collect()
}

/// Sends SIGINT (Ctrl-C) to `child`.
#[cfg(unix)]
pub(crate) fn interrupt(child: &std::process::Child) {
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
}
