//! Discovery's order and choices, sans IO: a scripted probe answers from a table and records
//! what it was asked, so each step's questions and the winner are checked without a socket.

use std::collections::HashMap;
use std::future::{Future, ready};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use backups_proto::Locate;
use backups_proto::discovery::{Discovery, Place, Probe, Step, Verdict};

/// Answers from tables; a port it does not know is not listening.
#[derive(Debug, Default)]
struct Script {
    files: HashMap<PathBuf, Verdict>,
    ports: HashMap<u16, Verdict>,
    /// Answers this many verdicts at most per call, to play a faulty probe.
    short: Option<usize>,
    asked: Mutex<Vec<String>>,
}

impl Script {
    fn asked(&self) -> Vec<String> {
        self.asked.lock().expect("asked").clone()
    }
}

impl Probe for Script {
    fn read_port_file(&self, path: &Path) -> impl Future<Output = Verdict> + Send {
        self.asked
            .lock()
            .expect("asked")
            .push(format!("file {}", path.display()));
        ready(self.files.get(path).cloned().unwrap_or(Verdict::Missing))
    }

    fn probe_all(
        &self,
        host: &str,
        ports: &[u16],
        connect: Duration,
        health: Duration,
    ) -> impl Future<Output = Vec<Verdict>> + Send {
        self.asked.lock().expect("asked").push(format!(
            "{host} {ports:?} {}/{} ms",
            connect.as_millis(),
            health.as_millis()
        ));
        let answer = |port: &u16| {
            self.ports
                .get(port)
                .cloned()
                .unwrap_or(Verdict::NotListening)
        };
        let verdicts: Vec<Verdict> = ports.iter().map(answer).collect();
        let keep = self.short.unwrap_or(verdicts.len());
        ready(verdicts.into_iter().take(keep).collect())
    }
}

/// Runs a future that is ready at once, as the scripted probe's are.
fn now<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the scripted probe never waits"),
    }
}

fn discovery(script: Script) -> Discovery<Script> {
    Discovery::with_probe(script)
        .port_files(["/a/.port.txt", "/b/.port.txt"])
        .probe_ports([39300, 39301, 39302])
        .legacy_ports([1000, 5323])
}

#[test]
fn a_healthy_port_file_is_taken_before_any_scan() {
    let mut script = Script::default();
    script
        .files
        .insert("/b/.port.txt".into(), Verdict::HoldsPort(39333));
    script.ports.insert(39333, Verdict::Healthy);
    script.ports.insert(39300, Verdict::Healthy);
    let discovery = discovery(script);

    let located = now(discovery.locate()).expect("found");
    assert_eq!((located.port, located.step), (39333, Step::PortFile));
    assert_eq!(
        discovery.probe().asked(),
        [
            "file /a/.port.txt",
            "file /b/.port.txt",
            "127.0.0.1 [39333] 50/100 ms"
        ]
    );
}

#[test]
fn a_stale_port_file_then_the_range_at_once_then_the_legacy_ports() {
    let mut script = Script::default();
    script
        .files
        .insert("/a/.port.txt".into(), Verdict::HoldsPort(39301));
    script
        .ports
        .insert(39301, Verdict::Unhealthy("starting".into()));
    script.ports.insert(5323, Verdict::Healthy);
    let discovery = discovery(script)
        .connect_timeout(Duration::from_millis(20))
        .health_timeout(Duration::from_millis(30));

    let located = now(discovery.locate()).expect("found");
    assert_eq!((located.port, located.step), (5323, Step::Legacy));
    assert_eq!(located.base_url.to_string(), "http://127.0.0.1:5323");
    assert_eq!(
        discovery.probe().asked(),
        [
            "file /a/.port.txt",
            "127.0.0.1 [39301] 20/30 ms",
            "file /b/.port.txt",
            "127.0.0.1 [39300, 39301, 39302] 20/30 ms",
            "127.0.0.1 [1000, 5323] 20/30 ms",
        ]
    );
    // Every place, in order, the successful one last.
    let places: Vec<&Place> = located.findings.iter().map(|f| &f.place).collect();
    assert_eq!(places.len(), 8);
    assert_eq!(places[1], &Place::Port(39301));
    assert_eq!(places[7], &Place::Port(5323));
}

#[test]
fn the_first_healthy_port_of_the_list_wins_and_every_verdict_is_kept() {
    let mut script = Script::default();
    script.ports.insert(39302, Verdict::Healthy);
    script.ports.insert(39301, Verdict::Healthy);
    let discovery = discovery(script).probe_ports([39302, 39300, 39301]);

    let located = now(discovery.locate()).expect("found");
    assert_eq!(located.port, 39302);
    let scanned: Vec<_> = located
        .findings
        .iter()
        .filter(|f| f.step == Step::Probe)
        .map(|f| (f.place.clone(), f.verdict.clone()))
        .collect();
    assert_eq!(
        scanned,
        [
            (Place::Port(39302), Verdict::Healthy),
            (Place::Port(39300), Verdict::NotListening),
            (Place::Port(39301), Verdict::Healthy),
        ]
    );
}

#[test]
fn a_probe_that_answers_too_few_verdicts_takes_no_port_unchecked() {
    let mut script = Script::default();
    script.ports.insert(39300, Verdict::NotListening);
    script.short = Some(1);
    let not_found = now(discovery(script).locate()).expect_err("nothing healthy");
    let unrun = not_found
        .findings
        .iter()
        .filter(|f| f.verdict == Verdict::ConnectFailed("probe did not run".into()))
        .count();
    // 39301, 39302 of the scan and 5323 of the legacy ports had no verdict.
    assert_eq!(unrun, 3);
    assert_eq!(not_found.findings.len(), 2 + 3 + 2);
}

#[test]
fn an_ipv6_host_is_bracketed_in_the_base_url_and_found_again_by_locate() {
    let mut script = Script::default();
    script.ports.insert(39300, Verdict::Healthy);
    let discovery = discovery(script).host("::1");

    fn is_send<T: Send>(_: &T) {}
    let again = Locate::locate(&discovery);
    is_send(&again);
    assert_eq!(
        now(again).map(|url| url.to_string()),
        Some("http://[::1]:39300".to_owned())
    );
}
