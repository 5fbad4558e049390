//! Every recorded case through the SDK's client over the replay transport, its outcome compared
//! with its `_expect` and its insta snapshot; then the replay transport's own checks, proved to
//! fail when they should.

use std::panic::{AssertUnwindSafe, catch_unwind};

use backups_conformance::{
    Case, CaseResult, Outcome, OutcomeResult, ReplayTransport, SocketStep, SuiteReport, block_on,
    run_replay,
};
use backups_proto::{Client, Endpoint, Error, Operation, RequestBody, transport_fn};

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
    // Each channel: a success, an abnormal close (before the final event, or the connection
    // dropped) and a refused handshake; and every way a channel can go wrong that issue 13 lists.
    for op in Operation::websockets() {
        for family in [
            "success",
            "abnormal-close",
            "error-status",
            "malformed",
            "streaming",
        ] {
            assert!(
                cases
                    .iter()
                    .any(|c| c.operation() == op && c.family == family),
                "no {family} case for {op}"
            );
        }
        let of_op = |suffix: &str| {
            cases
                .iter()
                .any(|c| c.operation() == op && c.name.ends_with(suffix))
        };
        for suffix in [
            "_binary_message",
            "_malformed_json",
            "_wrong_type",
            "_unknown_values",
            "_split_frame",
            "_stall",
            "_status_511",
        ] {
            assert!(of_op(suffix), "no {op}{suffix} case");
        }
        let script = |c: &Case| c.exchanges[0].socket.clone().unwrap_or_default();
        // A server that starts at once (it sends before the client's first message) and, for
        // a channel with an input, one that waits for it.
        assert!(
            cases.iter().any(|c| c.operation() == op
                && matches!(script(c).steps.first(), Some(SocketStep::Receive(..)))
                && c.exchanges[0].expect.error.is_none()),
            "no {op} case whose server starts at once"
        );
        if op.spec().request != RequestBody::None {
            assert!(
                cases.iter().any(|c| c.operation() == op
                    && matches!(script(c).steps.first(), Some(SocketStep::Send(_)))
                    && c.exchanges[0].expect.error.is_none()),
                "no {op} case whose server waits for the client's first message"
            );
        }
        assert!(
            cases.iter().any(|c| c.operation() == op
                && script(c)
                    .steps
                    .iter()
                    .any(|step| matches!(step, SocketStep::Receive(_, split) if split.len() > 1))),
            "no {op} case splits a frame"
        );
    }
    assert!(
        cases
            .iter()
            .any(|c| c.operation() == Operation::RestoreOverWebSocket
                && c.exchanges[0].expect.error.as_deref() == Some("NotFound")),
        "no refused restore socket of an unknown id"
    );
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
        &backups_proto::operations::CreateStreamed::default(),
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

/// A socket transport that replaces the client's first message.
struct FirstMessage(ReplayTransport, Option<String>);

impl backups_proto::SocketTransport for FirstMessage {
    type Socket = backups_conformance::ReplaySocket;

    async fn connect(
        &self,
        request: http::Request<bytes::Bytes>,
        _first: Option<String>,
    ) -> Result<backups_proto::Handshake<Self::Socket>, Error> {
        self.0.connect(request, self.1.clone()).await
    }
}

#[test]
fn a_wrong_or_missing_first_message_is_a_mismatch() {
    let check = |name: &str, first: Option<&str>, expected: &str| {
        let case = case(name);
        let replay = ReplayTransport::new(&case);
        let client = Client::new(
            FirstMessage(replay.clone(), first.map(str::to_owned)),
            Endpoint::default(),
        );
        let outcome = block_on(Outcome::of_channel_call(&client, &case.exchanges[0].call));
        assert_eq!(
            outcome.error().map(|e| e.kind.as_str()),
            Some("Transport"),
            "{outcome}"
        );
        let report = replay.finish().unwrap_err().to_string();
        assert!(report.contains(expected), "{report}");
    };
    check(
        "create_over_websocket_with_seed",
        Some("{}"),
        "message differs as JSON",
    );
    check(
        "restore_over_websocket_waits_for_input",
        None,
        "expected the client to send JSON text {}, it sent nothing",
    );
    check(
        "watch_progress_success",
        Some("{}"),
        "the recording has the client send nothing",
    );
    // The right first message passes.
    let case = case("create_over_websocket_with_seed");
    let run = run_replay(&case);
    assert!(run.passed(), "{:?}", run.problems);
}

#[test]
fn a_channel_case_must_fit_its_channel() {
    let load = |name: &str, edit: &dyn Fn(&mut serde_json::Value)| {
        let path = format!("{}/{name}.har", backups_conformance::BUILTIN_DIR);
        let mut har: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        edit(&mut har["log"]["entries"][0]);
        let har = serde_json::from_value(har).unwrap();
        Case::from_har(name.into(), &har)
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    // A create socket that does not send its input first.
    let text = load("create_over_websocket_waits_for_input", &|entry| {
        entry["_webSocketMessages"]
            .as_array_mut()
            .unwrap()
            .remove(0);
    });
    assert!(text.contains("sends its input"), "{text}");
    // The progress socket sends nothing.
    let text = load("watch_progress_success", &|entry| {
        entry["_webSocketMessages"].as_array_mut().unwrap().insert(
            0,
            serde_json::json!({"type": "send", "time": 0, "opcode": 1, "data": "{}"}),
        );
    });
    assert!(text.contains("sends no message"), "{text}");
    // Nothing after the server's close, and no ping frames.
    let text = load("watch_progress_success", &|entry| {
        entry["_webSocketMessages"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({"type": "receive", "time": 0, "opcode": 1, "data": "{}"}));
    });
    assert!(
        text.contains("nothing follows the server's close"),
        "{text}"
    );
    let text = load("watch_progress_stall", &|entry| {
        entry["_webSocketMessages"][0]["opcode"] = 9.into();
    });
    assert!(text.contains("opcode 9"), "{text}");
    // A refused handshake has no messages; an HTTP call has none at all.
    let text = load("watch_progress_status_511", &|entry| {
        entry["_webSocketMessages"] =
            serde_json::json!([{"type": "receive", "opcode": 1, "data": "{}"}]);
    });
    assert!(text.contains("upgrades nothing"), "{text}");
    let text = load("list_success", &|entry| {
        entry["_webSocketMessages"] = serde_json::json!([]);
    });
    assert!(text.contains("is an HTTP call"), "{text}");
}
