//! Live mode: the cases a server can reproduce, run against `backups-server` over TCP through
//! the hyper transport, so that the recordings and reality cannot drift apart. Then the whole
//! recorded suite through the hyper transport over real HTTP (`check_transport`).

use backups_conformance::{Case, CaseResult, LiveSetup, Outcome, SuiteReport, check_transport};
use backups_hyper::{BackupsClient, HyperTransport, Timeouts};
use std::time::Duration;

use backups_proto::models::BackupsStreamedProgress;
use backups_proto::{BackupId, Client, Operation, ResponseBody, Snapshots};
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
        if call.operation.spec().response == ResponseBody::Snapshots
            && exchange.expect.error.is_none()
        {
            // The progress socket never closes by itself: watch a create through it instead.
            problems.extend(
                watch_a_create(&client)
                    .await
                    .err()
                    .map(|problem| format!("exchange {index}: {problem}")),
            );
            continue;
        }
        let outcome = Outcome::of_any_call(&client, &call).await;
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

/// Reads the progress socket while a create runs over HTTP: an empty snapshot at once, then the
/// create from INITIALIZED to COMPLETED.
async fn watch_a_create(client: &Client<HyperTransport>) -> Result<(), String> {
    let limit = Duration::from_secs(10);
    let mut snapshots = client
        .watch_progress()
        .await
        .map_err(|e| format!("watch_progress: {e}"))?;
    let next = async |snapshots: &mut Snapshots<_>| match tokio::time::timeout(
        limit,
        snapshots.next_snapshot(),
    )
    .await
    {
        Ok(Some(Ok(snapshot))) => Ok(snapshot),
        Ok(Some(Err(err))) => Err(format!("watch_progress: {err}")),
        Ok(None) => Err("the progress socket closed".to_owned()),
        Err(_) => Err(format!("no snapshot for {limit:?}")),
    };
    let running = |s: &BackupsStreamedProgress| {
        s.backups.iter().flatten().count() + s.restorations.iter().flatten().count()
    };
    let first = next(&mut snapshots).await?;
    if running(&first) != 0 {
        return Err(format!("the first snapshot is not empty: {first:?}"));
    }
    let creator = client.clone();
    let create = tokio::spawn(async move { creator.create().await });
    let mut statuses = Vec::new();
    loop {
        let snapshot = next(&mut snapshots)
            .await
            .map_err(|e| format!("{e}, after the create went {statuses:?} in the snapshots"))?;
        statuses.extend(
            snapshot
                .backups
                .iter()
                .flatten()
                .filter_map(|p| p.status.as_ref().map(|s| s.to_string())),
        );
        // The final status is in one snapshot (lifecycle.md); the reference server sends none
        // when the finished create leaves, so that snapshot ends the watch.
        if statuses.last().map(String::as_str) == Some("COMPLETED") {
            break;
        }
    }
    create
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("create: {e}"))?;
    if statuses.first().map(String::as_str) != Some("INITIALIZED")
        || statuses.last().map(String::as_str) != Some("COMPLETED")
    {
        return Err(format!("the create went {statuses:?} in the snapshots"));
    }
    Ok(())
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
    for op in Operation::ALL {
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
    // A short idle timeout: the stall cases wait for it.
    let timeouts = Timeouts::default().with_idle(Duration::from_secs(1));
    let report = check_transport(HyperTransport::new(timeouts)).await;
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
