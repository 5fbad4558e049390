//! Every recorded case through the SDK's client over the replay transport, its outcome compared
//! with its `_expect` and its insta snapshot; then the replay transport's own checks, proved to
//! fail when they should.

use std::panic::{AssertUnwindSafe, catch_unwind};

use backups_conformance::{
    Case, CaseResult, Outcome, OutcomeResult, ReplayTransport, SuiteReport, block_on, run_replay,
};
use backups_proto::{Client, Endpoint, Error, Operation, transport_fn};

fn client(replay: &ReplayTransport) -> Client<ReplayTransport> {
    Client::new(replay.clone(), Endpoint::default())
}

fn case(name: &str) -> Case {
    Case::load(format!("{}/{name}.har", backups_conformance::BUILTIN_DIR).as_ref())
        .unwrap_or_else(|err| panic!("{err}"))
}

#[test]
fn every_case_matches_its_expectation_and_snapshot() {
    let cases = Case::builtin().unwrap_or_else(|err| panic!("{err}"));
    assert!(cases.len() >= 50, "only {} cases", cases.len());
    let mut report = SuiteReport::default();
    for case in &cases {
        let run = run_replay(case);
        let mut result = run.result("replay");
        // A snapshot mismatch panics inside insta; catch it so that every case is reported.
        let snapshot = catch_unwind(AssertUnwindSafe(|| {
            insta::with_settings!({
                snapshot_path => "../snapshots",
                prepend_module_to_snapshot => false,
                description => format!("{} ({}): {}", case.name, case.family, case.comment),
                omit_expression => true,
            }, {
                insta::assert_json_snapshot!(case.name.as_str(), run.outcomes);
            });
        }));
        if snapshot.is_err() {
            result.passed = false;
            result
                .detail
                .push_str("\nthe outcome differs from its snapshot (see above)");
        }
        report.results.push(result);
    }
    report.write_results("replay").expect("results file");
    println!("{}", report.table());
    report.assert_passed();
}

#[test]
fn every_operation_and_family_is_covered() {
    let cases = Case::builtin().unwrap();
    for op in Operation::http() {
        for family in ["success", "error-status", "undocumented-status"] {
            assert!(
                cases
                    .iter()
                    .any(|c| c.operation() == op && c.family == family),
                "no {family} case for {op}"
            );
        }
        for &status in op.spec().documented_errors {
            assert!(
                cases
                    .iter()
                    .any(|c| c.operation() == op
                        && c.exchanges[0].response.status.as_u16() == status),
                "no {status} case for {op}"
            );
        }
    }
    let sources_missing: Vec<_> = cases
        .iter()
        .filter(|c| c.source.is_empty())
        .map(|c| &c.name)
        .collect();
    assert!(
        sources_missing.is_empty(),
        "cases without _source: {sources_missing:?}"
    );
}

#[test]
fn the_large_listing_has_thousands_of_backups() {
    let run = run_replay(&case("list_large"));
    assert!(run.passed(), "{:?}", run.problems);
    let OutcomeResult::Ok(value) = &run.outcomes[0].result else {
        panic!("{:?}", run.outcomes)
    };
    assert_eq!(value["iterable"]["count"], 5000);
}

#[test]
fn a_wrong_header_is_a_mismatch_with_a_readable_diff() {
    let replay = ReplayTransport::new(&case("list_success"));
    let mut endpoint = Endpoint::default();
    endpoint.set_user_agent("ignored by default").unwrap();
    let client = Client::new(replay.clone(), endpoint);
    // The right request passes, User-Agent notwithstanding (it is relaxed)...
    block_on(client.list()).unwrap();
    replay.finish().unwrap();

    // ...and a wrong Accept does not.
    let replay = ReplayTransport::new(&case("list_success"));
    let wrong = transport_fn({
        let replay = replay.clone();
        move |mut request: http::Request<bytes::Bytes>| {
            request
                .headers_mut()
                .insert("accept", "text/html".parse().unwrap());
            let replay = replay.clone();
            async move { backups_proto::Transport::send(&replay, request).await }
        }
    });
    let err = block_on(Client::new(wrong, Endpoint::default()).list()).unwrap_err();
    let Error::Transport { source, .. } = &err else {
        panic!("{err:?}")
    };
    let text = source.to_string();
    assert!(
        text.contains(r#"header accept: expected "application/json", got ["text/html"]"#),
        "{text}"
    );
    let report = replay.finish().unwrap_err();
    assert_eq!(report.mismatches.len(), 1);
}

#[test]
fn a_forbidden_header_or_wrong_path_or_body_is_a_mismatch() {
    let replay = ReplayTransport::new(&case("create_with_seed"));
    let tamper = transport_fn({
        let replay = replay.clone();
        move |mut request: http::Request<bytes::Bytes>| {
            *request.body_mut() =
                bytes::Bytes::from_static(br#"{"schema":{"migration":1,"semantic":"UNKNOWN"}}"#);
            let length = request.body().len();
            request
                .headers_mut()
                .insert("content-length", length.into());
            let replay = replay.clone();
            async move { backups_proto::Transport::send(&replay, request).await }
        }
    });
    let client = Client::new(tamper, Endpoint::default());
    let seed: backups_models::SeededBackup =
        serde_json::from_str(r#"{"schema":{"migration":0,"semantic":"MAJOR_0_MINOR_0_PATCH_1"}}"#)
            .unwrap();
    block_on(client.create_with(seed)).unwrap_err();
    let report = replay.finish().unwrap_err().to_string();
    assert!(report.contains("body differs as JSON"), "{report}");
    assert!(report.contains("-    \"migration\": 0,"), "{report}");
    assert!(report.contains("+    \"migration\": 1,"), "{report}");

    // A list request carrying a Content-Type (which a GET without a body must not).
    let replay = ReplayTransport::new(&case("list_empty"));
    let tamper = transport_fn({
        let replay = replay.clone();
        move |mut request: http::Request<bytes::Bytes>| {
            request
                .headers_mut()
                .insert("content-type", "application/json".parse().unwrap());
            let replay = replay.clone();
            async move { backups_proto::Transport::send(&replay, request).await }
        }
    });
    block_on(Client::new(tamper, Endpoint::default()).list()).unwrap_err();
    let report = replay.finish().unwrap_err().to_string();
    assert!(
        report.contains("header content-type: must be absent"),
        "{report}"
    );

    // A delete whose id went out unencoded.
    let replay = ReplayTransport::new(&case("delete_dot_dot_id"));
    let tamper = transport_fn({
        let replay = replay.clone();
        move |mut request: http::Request<bytes::Bytes>| {
            *request.uri_mut() = "http://localhost:1000/backups/../delete".parse().unwrap();
            let replay = replay.clone();
            async move { backups_proto::Transport::send(&replay, request).await }
        }
    });
    let id = backups_proto::BackupId::new("..").unwrap();
    block_on(Client::new(tamper, Endpoint::default()).delete(&id)).unwrap_err();
    let report = replay.finish().unwrap_err().to_string();
    assert!(
        report.contains("path: expected /backups/%2E%2E/delete, got /backups/../delete"),
        "{report}"
    );
}

#[test]
fn a_request_past_the_recording_is_a_mismatch() {
    let replay = ReplayTransport::new(&case("list_empty"));
    let client = client(&replay);
    block_on(client.list()).unwrap();
    let err = block_on(client.list()).unwrap_err();
    assert!(
        format!("{:?}", err).contains("every recorded exchange has been used"),
        "{err:?}"
    );
    assert_eq!(replay.finish().unwrap_err().mismatches.len(), 1);
}

#[test]
#[should_panic(expected = "recorded exchange never requested: list GET /backups")]
fn an_unused_exchange_panics_on_drop() {
    let replay = ReplayTransport::new(&case("list_empty"));
    let _client = client(&replay);
    // Neither a call nor finish(): dropping the last clone must fail the test.
}

#[test]
fn an_unused_exchange_fails_finish() {
    let replay = ReplayTransport::new(&case("list_empty"));
    let report = replay.finish().unwrap_err();
    assert_eq!(report.unused, vec!["list GET /backups".to_owned()]);
}

#[test]
fn chunks_arrive_as_recorded() {
    // The NDJSON case splits inside a multi-byte character: the body's frames must be exactly
    // the recorded chunks, so the decoder really sees the split.
    let case = case("create_streamed_ndjson_split");
    let chunks = &case.exchanges[0].response.chunks;
    assert_eq!(chunks.len(), 5);
    assert!(chunks.iter().any(|c| std::str::from_utf8(c).is_err()));
    let replay = ReplayTransport::new(&case);
    let request = backups_proto::operations::ApiOperation::request(
        &backups_proto::operations::CreateBackupStreamed::default(),
        &Endpoint::default(),
    )
    .unwrap();
    let response = block_on(backups_proto::Transport::send(&replay, request)).unwrap();
    let mut body = response.into_body();
    let mut frames = Vec::new();
    while let Some(frame) = block_on(std::future::poll_fn(|cx| {
        http_body::Body::poll_frame(std::pin::Pin::new(&mut body), cx)
    })) {
        frames.push(frame.unwrap().into_data().unwrap());
    }
    assert_eq!(&frames, chunks);
    replay.finish().unwrap();
}

#[test]
fn outcomes_check_their_expectation() {
    // A case whose _expect is wrong must fail: the suite is not a rubber stamp.
    let mut case = case("list_status_511");
    case.exchanges[0].expect.error = Some("Internal".into());
    let run = run_replay(&case);
    assert!(!run.passed());
    assert!(run.problems[0].contains("expected error Internal, got Unauthenticated"));
    let result: CaseResult = run.result("replay");
    assert!(!result.passed);
    let _: &Outcome = &run.outcomes[0];
}

#[test]
fn a_follow_up_is_served_and_checked_but_not_called() {
    // The streamed restore ends early naming its backup: one call makes three exchanges.
    let case = case("restore_streamed_followed_by_status");
    assert_eq!(case.exchanges.len(), 3);
    let run = run_replay(&case);
    assert!(run.passed(), "{:?}", run.problems);
    assert_eq!(
        run.outcomes.len(),
        1,
        "the follow-ups make no call of their own"
    );
    assert_eq!(run.outcomes[0].events.as_ref().map(Vec::len), Some(3));

    // Without its follow-ups the recording ends before the client does...
    let mut cut = case.clone();
    cut.exchanges.truncate(1);
    let run = run_replay(&cut);
    assert!(!run.passed());
    let problems = run.problems.join("\n");
    assert!(
        problems.contains("every recorded exchange has been used"),
        "{problems}"
    );

    // ...and a follow-up that asks for another path is a mismatch.
    let mut wrong = case.clone();
    wrong.exchanges[2].request.path_and_query = "/backup/other/restoration/status".into();
    let run = run_replay(&wrong);
    let problems = run.problems.join("\n");
    assert!(
        problems.contains("path: expected /backup/other/restoration/status"),
        "{problems}"
    );
}
