//! Live mode: the cases a server can reproduce, run against `backups-server` over TCP through
//! the hyper transport, so that the recordings and reality cannot drift apart. Then the whole
//! recorded suite through the hyper transport over real HTTP (`check_transport`).

use backups_conformance::{
    Case, CaseResult, LiveSetup, Outcome, SuiteReport, check_http_transport,
};
use backups_hyper::{BackupsClient, HyperTransport};
use std::time::Duration;

use backups_proto::{BackupId, Operation};
use backups_server::Fault;
use backups_testkit::TempDirs;

async fn run_live(case: &Case, setup: &LiveSetup) -> Result<Vec<String>, String> {
    let dirs = TempDirs::new().map_err(|e| e.to_string())?;
    dirs.write_file("notes.txt", "conformance")
        .map_err(|e| e.to_string())?;
    let simulate = match setup {
        LiveSetup::Fault(name) => Some(name.parse::<Fault>().map_err(|e| e.to_string())?),
        _ => None,
    };
    let server = dirs
        .start(|config| {
            config.simulate = simulate;
            if *setup == LiveSetup::WhileRunning {
                // Slow enough that the case's calls are made while the work runs.
                config.progress_delay = Duration::from_millis(400);
            }
        })
        .await
        .map_err(|e| e.to_string())?;
    let client = BackupsClient::builder()
        .base_url(server.base_url())
        .build()
        .map_err(|e| e.to_string())?
        .into_inner();
    let mut problems = Vec::new();
    // The running create or restore of a `while-running` case, and the id its first event names.
    let mut running = None;
    if *setup == LiveSetup::WhileRunning {
        let target = case.operation();
        let streamed = Operation::http()
            .find(|op| {
                op.is_streamed()
                    && (op.spec().status == Some(target) || op.spec().cancel == Some(target))
            })
            .ok_or_else(|| format!("no streamed operation has {target} as its status or cancel"))?;
        let stream = if streamed.takes_id() {
            let created = client.create().await;
            let id = created.map_err(|e| format!("setup create: {e}"))?.id;
            let id = BackupId::new(id).map_err(|e| e.to_string())?;
            client.restore_streamed(&id).await
        } else {
            client.create_streamed().await
        };
        let mut stream = stream.map_err(|e| format!("setup {streamed}: {e}"))?;
        let first = stream.next_event().await;
        let first = first
            .ok_or("setup: the stream ended before its first event")?
            .map_err(|e| format!("setup {streamed}: {e}"))?;
        let id = first
            .backup
            .map(|backup| backup.id)
            .ok_or("setup: the first event names no backup")?;
        running = Some((stream, id));
    }
    // Follow-up exchanges are the server's own business here: only the calls are made.
    for (index, exchange) in case.calls() {
        let mut call = exchange.call.clone();
        let first = matches!(setup, LiveSetup::CreateFirst | LiveSetup::RestoreFirst);
        if first && call.operation.takes_id() {
            let created = client.create().await;
            let id = created.map_err(|e| format!("setup create: {e}"))?.id;
            if *setup == LiveSetup::RestoreFirst {
                let backup = BackupId::new(id.clone()).map_err(|e| e.to_string())?;
                client
                    .restore(&backup)
                    .await
                    .map_err(|e| format!("setup restore: {e}"))?;
            }
            call.id = Some(id);
        }
        if let (Some((_, id)), true) = (&running, call.operation.takes_id()) {
            call.id = Some(id.clone());
        }
        let outcome = Outcome::of_call(&client, &call).await;
        // A live server's ids, times and number of progress steps are its own: compare the
        // kind of outcome, its status and, for a stream, how it ends.
        let mut expect = exchange.expect.clone();
        expect.events = None;
        expect.path = None;
        if let Err(problem) = outcome.check(&expect) {
            problems.push(format!("exchange {index}: {problem}"));
        }
        if let (Some(events), None) = (&outcome.events, outcome.error()) {
            let statuses: Vec<&str> = events.iter().filter_map(|e| e["status"].as_str()).collect();
            if statuses.first() != Some(&"INITIALIZED") || statuses.last() != Some(&"COMPLETED") {
                problems.push(format!("exchange {index}: progress went {statuses:?}"));
            }
            if events.len() < 2 {
                problems.push(format!(
                    "exchange {index}: {} event(s): the NDJSON stream was not streamed",
                    events.len()
                ));
            }
        }
    }
    if let Some((stream, _)) = running {
        // A cancel that succeeded must show in the stream it stopped.
        let streamed = stream.operation();
        let canceled = case.calls().any(|(_, e)| {
            e.expect.error.is_none() && Some(e.call.operation) == streamed.spec().cancel
        });
        let mut last = None;
        let _ = stream.finish(|event| last = event.status.clone()).await;
        let last = last.map(|status| status.to_string());
        if canceled && last.as_deref() != Some("CANCELED") {
            problems.push(format!(
                "the canceled {streamed} ended with {last:?}, not CANCELED"
            ));
        }
    }
    server.shutdown().await.map_err(|e| e.to_string())?;
    Ok(problems)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_server_reproduces_the_recorded_cases() {
    let cases = Case::builtin().unwrap();
    let mut report = SuiteReport::default();
    for case in &cases {
        let Some(setup) = &case.live else { continue };
        let (passed, detail) = match run_live(case, setup).await {
            Ok(problems) => (problems.is_empty(), problems.join("\n")),
            Err(err) => (false, format!("could not run: {err}")),
        };
        report.results.push(CaseResult {
            suite: "live".into(),
            case: case.name.clone(),
            operation: case.operation().name().into(),
            family: case.family.clone(),
            passed,
            detail,
        });
    }
    report.write_results("live").expect("results file");
    println!("{}", report.table());
    // Every operation's success, the NDJSON streams, each fault, the unknown ids, the statuses
    // and cancels of finished and running work.
    assert!(
        report.results.len() >= 45,
        "only {} live cases",
        report.results.len()
    );
    for op in Operation::http() {
        assert!(
            cases.iter().any(|case| case.live.is_some()
                && case.operation() == op
                && case.calls().all(|(_, e)| e.expect.error.is_none())),
            "no live case of {op} succeeds"
        );
    }
    report.assert_passed();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hyper_transport_passes_every_recorded_case() {
    // The channels wait for backups-hyper's SocketTransport (branch wip-wshyper).
    let report = check_http_transport(HyperTransport::default()).await;
    let mut renamed = report.clone();
    for result in &mut renamed.results {
        result.suite = "transport-hyper".into();
    }
    renamed
        .write_results("transport-hyper")
        .expect("results file");
    println!("{}", report.table());
    report.assert_passed();
}
