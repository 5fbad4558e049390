//! Helpers shared by the integration tests: a server over temp dirs and a tiny HTTP/1.1 client
//! over raw TCP, so that tests send exactly the bytes they mean (hostile paths included).

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use backups_server::{RunningServer, ServerConfig};
use backups_testkit::TempDirs;
pub use backups_testkit::pseudo_random;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A server started in-process on 127.0.0.1:0 over fresh temporary directories.
pub struct TestServer {
    pub server: RunningServer,
    pub dirs: TempDirs,
    pub addr: SocketAddr,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut ServerConfig)) -> TestServer {
        let dirs = TempDirs::new().expect("temporary dirs");
        write_tree(dirs.data());
        let (server, dirs) = dirs.start(tweak).await.expect("server starts").into_parts();
        let addr = server.local_addr();
        TestServer { server, dirs, addr }
    }

    pub async fn get(&self, path: &str) -> Reply {
        request(self.addr, "GET", path, &[], b"").await
    }

    pub async fn post(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        request(self.addr, "POST", path, headers, body).await
    }

    /// Creates a backup and returns it as JSON.
    pub async fn create(&self) -> serde_json::Value {
        let reply = self.post("/backups/create", &[], b"").await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()
    }

    /// The listed backup ids, newest first.
    pub async fn ids(&self) -> Vec<String> {
        listed(self.addr).await
    }
}

/// A small tree: nested dirs, an empty dir, an empty file, a multi-MiB file.
pub fn write_tree(root: &Path) {
    std::fs::create_dir_all(root.join("sub/deeper")).expect("mkdir");
    std::fs::create_dir_all(root.join("empty-dir")).expect("mkdir");
    std::fs::write(root.join("a.txt"), "alpha\n").expect("write");
    std::fs::write(root.join("empty.bin"), b"").expect("write");
    std::fs::write(root.join("sub/b.txt"), "beta\n".repeat(1000)).expect("write");
    std::fs::write(root.join("sub/deeper/c.json"), r#"{"c":true}"#).expect("write");
    std::fs::write(root.join("big.bin"), pseudo_random(3 * 1024 * 1024 + 17, 7)).expect("write");
}

/// Every file under `root` as (relative path, content), sorted.
pub fn tree_contents(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let entry = entry.expect("entry");
            let path = entry.path();
            let rel = path.strip_prefix(root).expect("prefix").to_path_buf();
            let kind = entry.file_type().expect("type");
            if kind.is_dir() {
                out.push((rel, b"<dir>".to_vec()));
                stack.push(path);
            } else {
                out.push((rel, std::fs::read(&path).expect("read")));
            }
        }
    }
    out.sort();
    out
}

/// Total size of the files under `root`.
pub fn disk_usage(root: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let entry = entry.expect("entry");
            let meta = entry.metadata().expect("meta");
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                total += meta.len();
            }
        }
    }
    total
}

/// A parsed response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {}", self.text()))
    }

    #[track_caller]
    pub fn assert_text_error(&self, status: u16) {
        assert_eq!(self.status, status, "body: {}", self.text());
        assert_eq!(
            self.header("content-type"),
            Some("text/plain; charset=utf-8"),
            "{self:?}"
        );
        assert!(!self.body.is_empty());
    }
}

/// Sends one request with `Connection: close` and reads the whole response.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        raw.push_str(&format!("{name}: {value}\r\n"));
    }
    if method != "GET" && method != "HEAD" {
        raw.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    raw.push_str("\r\n");
    let mut bytes = raw.into_bytes();
    bytes.extend_from_slice(body);
    send_raw(addr, &bytes, method == "HEAD").await
}

/// Sends raw bytes and parses the response (chunked bodies are decoded).
pub async fn send_raw(addr: SocketAddr, request: &[u8], head: bool) -> Reply {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("send");
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut response))
        .await
        .expect("response in time")
        .expect("read");
    parse_response(&response, head)
}

/// Parses a whole response; `head` says it answers a HEAD request, so has no body.
pub fn parse_response(response: &[u8], head: bool) -> Reply {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Response::new(&mut headers);
    let split = match parsed.parse(response) {
        Ok(httparse::Status::Complete(split)) => split,
        other => panic!(
            "no whole head ({other:?}) in {:?}",
            String::from_utf8_lossy(response)
        ),
    };
    let status = parsed.code.expect("status");
    let headers: Vec<(String, String)> = parsed
        .headers
        .iter()
        .map(|h| {
            let value = String::from_utf8_lossy(h.value).into_owned();
            (h.name.to_owned(), value)
        })
        .collect();
    let raw_body = &response[split..];
    let chunked = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let body = if head {
        Vec::new()
    } else if chunked {
        dechunk(raw_body)
    } else {
        raw_body.to_vec()
    };
    Reply {
        status,
        headers,
        body,
    }
}

/// The data of a chunked body, up to its last chunk or as far as it goes.
pub fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Ok(httparse::Status::Complete((start, size))) = httparse::parse_chunk_size(raw) {
        let size = usize::try_from(size).expect("chunk size");
        if size == 0 {
            break;
        }
        raw = &raw[start..];
        out.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
    out
}

/// The ids `GET /backups` lists at `addr`, newest first.
pub async fn listed(addr: SocketAddr) -> Vec<String> {
    let reply = request(addr, "GET", "/backups", &[], b"").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["iterable"]
        .as_array()
        .expect("iterable")
        .iter()
        .map(|b| b["id"].as_str().expect("id").to_owned())
        .collect()
}

/// A streamed answer (NDJSON progress) read event by event while the operation runs.
pub struct EventStream {
    stream: TcpStream,
    seen: Vec<u8>,
    /// Events already handed out.
    taken: usize,
}

impl EventStream {
    /// Sends `POST path` asking for NDJSON, with `body`.
    pub async fn open(addr: SocketAddr, path: &str, body: &[u8]) -> EventStream {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nAccept: application/x-ndjson\r\n\
             Connection: close\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.expect("send");
        stream.write_all(body).await.expect("send body");
        EventStream {
            stream,
            seen: Vec::new(),
            taken: 0,
        }
    }

    /// The complete event lines received so far.
    fn events(&self) -> Vec<serde_json::Value> {
        let text = String::from_utf8_lossy(&self.seen);
        let mut lines: Vec<&str> = text.split('\n').collect();
        // The last piece is not a whole line yet.
        lines.pop();
        lines
            .into_iter()
            .filter(|line| line.starts_with('{'))
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// The next event, or `None` when the stream ended.
    pub async fn next(&mut self) -> Option<serde_json::Value> {
        let mut buf = [0u8; 4096];
        loop {
            if let Some(event) = self.events().into_iter().nth(self.taken) {
                self.taken += 1;
                return Some(event);
            }
            let n = tokio::time::timeout(Duration::from_secs(60), self.stream.read(&mut buf))
                .await
                .expect("progress in time")
                .ok()?;
            if n == 0 {
                return None;
            }
            self.seen.extend_from_slice(&buf[..n]);
        }
    }

    /// Every event left, up to the end of the stream.
    pub async fn rest(mut self) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        while let Some(event) = self.next().await {
            out.push(event);
        }
        out
    }
}

/// The object files in a store, by name.
pub fn objects(store: &Path) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for fanout in std::fs::read_dir(store.join("objects")).expect("objects") {
        let fanout = fanout.expect("entry").path();
        if fanout.is_dir() {
            for object in std::fs::read_dir(&fanout).expect("fanout") {
                out.insert(
                    object
                        .expect("entry")
                        .file_name()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    out
}

/// The names in the directory holding `data` other than `data` itself and `keep`: what a
/// restore left beside the data directory.
pub fn beside(data: &Path, keep: &[&str]) -> Vec<String> {
    let parent = data.parent().expect("parent");
    let name = data
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let mut out: Vec<String> = std::fs::read_dir(parent)
        .expect("read parent")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|entry| *entry != name && !keep.contains(&entry.as_str()))
        .collect();
    out.sort();
    out
}

/// The object files holding `path` in backup `id`, in order: its chunks (format 2), or its one
/// whole-file object (format 1).
pub fn file_objects(store: &Path, id: &str, path: &str) -> Vec<PathBuf> {
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(store.join("backups").join(format!("{id}.json"))).expect("manifest"),
    )
    .expect("manifest JSON");
    let entry = manifest["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|entry| entry["kind"] == "file" && entry["path"] == path)
        .unwrap_or_else(|| panic!("{path} in backup {id}"));
    let hashes: Vec<String> = match entry.get("chunks") {
        Some(chunks) => chunks
            .as_array()
            .expect("chunks")
            .iter()
            .map(|chunk| chunk["blake3"].as_str().expect("hash").to_owned())
            .collect(),
        None => vec![entry["blake3"].as_str().expect("blake3").to_owned()],
    };
    hashes
        .iter()
        .map(|hash| store.join("objects").join(&hash[..2]).join(hash))
        .collect()
}
