//! [`Exchange`]: one entry of a case's HAR file, checked and turned into the call that makes it,
//! its expected request, its replayed response, its WebSocket messages and its expected outcome;
//! a follow-up (`_followUp`) is checked against the call before it.

use backups_proto::RequestBody;

use crate::case::call::{Call, infer_call};
use crate::case::expect::Expect;
use crate::case::request::{ExpectedRequest, expected_request};
use crate::case::response::{RecordedResponse, recorded_response};
use crate::case::socket::{ExpectedMessage, SocketScript, SocketStep, socket_script};
use crate::har::Entry;

/// One HTTP exchange: the request that must be sent, the response replayed, and, when a call of
/// its own makes it, that call and its expected outcome.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The SDK call to make; for a follow-up, the operation whose request this is (inferred from
    /// method and path), made by the previous call.
    pub call: Call,
    /// The request it must produce.
    pub request: ExpectedRequest,
    /// The response to answer with.
    pub response: RecordedResponse,
    /// The outcome the client must return; for a follow-up, the outcome of the call that made
    /// it (it has no `_expect` of its own).
    pub expect: Expect,
    /// Whether the previous call makes this exchange (`_followUp`) instead of a call of its own:
    /// runners make no call for it, the replay serves and checks it in order all the same.
    pub follow_up: bool,
    /// For a WebSocket channel, what happens after the handshake (`_webSocketMessages`,
    /// `_stall`); `None` for an HTTP call.
    pub socket: Option<SocketScript>,
    /// Whether the client refuses the call before any IO (`_refused`): runners make the call and
    /// expect `InvalidRequest`; the replay serves nothing for it.
    pub refused: bool,
}

/// The exchange of `entry`; `caller` is the last earlier exchange that made a call of its own.
pub(crate) fn exchange(entry: &Entry, caller: Option<&Exchange>) -> Result<Exchange, String> {
    if entry.refused == Some(true) {
        return refused(entry);
    }
    let request = expected_request(entry)?;
    let response = recorded_response(entry)?;
    let script = socket_script(entry)?;
    if entry.follow_up == Some(true) {
        let Some(caller) = caller else {
            return Err("_followUp: the first entry is made by a call of its own".into());
        };
        if entry.operation.is_some() || entry.expect.is_some() {
            return Err(
                "_followUp: the previous call makes this exchange, so it has no _operation or \
                 _expect of its own"
                    .into(),
            );
        }
        let call = infer_call(&request, None)?;
        let by = caller.call.operation();
        // What one call makes: a poll of the status of what it started, or the same request
        // again.
        if by.spec().status != Some(call.operation()) && call.operation() != by {
            return Err(format!(
                "_followUp: a {by} call does not make a {} request",
                call.operation()
            ));
        }
        if script.is_some() {
            return Err("_followUp: a WebSocket exchange is a call of its own".into());
        }
        return Ok(Exchange {
            call,
            request,
            response,
            expect: caller.expect.clone(),
            follow_up: true,
            socket: None,
            refused: false,
        });
    }
    let call = match &entry.operation {
        Some(field) => Call::from_field(field)?,
        None => infer_call(&request, script.as_ref())?,
    };
    let socket = channel_script(&call, &response, script)?;
    let expect = match &entry.expect {
        Some(field) => Expect::from_field(field)?,
        None => return Err("_expect is missing: say what the client must return".into()),
    };
    Ok(Exchange {
        call,
        request,
        response,
        expect,
        follow_up: false,
        socket,
        refused: false,
    })
}

/// An exchange the client never makes (`_refused`): its `_operation` must not build, its
/// `_expect` is `InvalidRequest`, and its response has status 0 (none came).
fn refused(entry: &Entry) -> Result<Exchange, String> {
    let Some(field) = &entry.operation else {
        return Err("_refused: say the call in _operation".into());
    };
    if entry.follow_up.is_some() || entry.web_socket_messages.is_some() {
        return Err("_refused: a refused call makes no exchange, follow-up or socket".into());
    }
    if entry.response.status != 0 {
        return Err("_refused: no response comes; write status 0".into());
    }
    let call = Call::from_field_unchecked(field)?;
    if call.operation().is_websocket() || call.to_operation().is_ok() {
        return Err(format!(
            "_refused: the {} call builds, so the client would send it",
            call.operation()
        ));
    }
    let expect = match &entry.expect {
        Some(field) => Expect::from_field(field)?,
        None => return Err("_expect is missing: say what the client must return".into()),
    };
    if expect.error.as_deref() != Some("InvalidRequest") || expect.status.is_some() {
        return Err("_refused: the client's refusal is an InvalidRequest with no status".into());
    }
    Ok(Exchange {
        call,
        request: expected_request(entry)?,
        // Never served.
        response: RecordedResponse {
            status: http::StatusCode::NO_CONTENT,
            headers: Vec::new(),
            chunks: Vec::new(),
            abort: false,
        },
        expect,
        follow_up: false,
        socket: None,
        refused: true,
    })
}

/// Checks that an exchange is a channel exactly when its call is one, and that its messages fit
/// the channel: after a `101`, a channel with an input has the client send it first (at least
/// `{}`), the progress channel has it send nothing; a refused handshake has no messages.
fn channel_script(
    call: &Call,
    response: &RecordedResponse,
    script: Option<SocketScript>,
) -> Result<Option<SocketScript>, String> {
    let op = call.operation();
    if !op.is_websocket() {
        return match script {
            Some(_) => Err(format!(
                "{op} is an HTTP call: it has no _webSocketMessages"
            )),
            None => Ok(None),
        };
    }
    let script = script.unwrap_or_default();
    if response.status != http::StatusCode::SWITCHING_PROTOCOLS {
        if !script.steps.is_empty() || script.stall {
            return Err(format!(
                "a handshake answered {} upgrades nothing: no _webSocketMessages",
                response.status
            ));
        }
        return Ok(Some(script));
    }
    let sends = script
        .steps
        .iter()
        .filter(|step| matches!(step, SocketStep::Send(_)))
        .count();
    let takes_input = op.spec().request != RequestBody::None;
    match (takes_input, script.first_sent(), sends) {
        (true, Some(ExpectedMessage::Json(value)), 1) => {
            let expected = call.body.clone().unwrap_or_else(|| serde_json::json!({}));
            if *value != expected {
                return Err(format!(
                    "the client sends its input first: {expected}, the recording has {value}"
                ));
            }
        }
        (true, _, _) => {
            return Err(format!(
                "{op} sends its input (at least {{}}) as one JSON text message: list it as a \"send\""
            ));
        }
        (false, None, _) => {}
        (false, Some(_), _) => return Err(format!("{op} sends no message")),
    }
    Ok(Some(script))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::case::{Case, CaseError};

    /// A case of one refused `backup_asset` call with this body, response status and outcome.
    fn refused(body: Value, status: u16, expect: Value) -> Result<Case, CaseError> {
        let har = json!({"log": {
            "version": "1.2",
            "creator": {"name": "t", "version": "1"},
            "entries": [{
                "request": {"method": "POST", "url": "http://h/backup/asset"},
                "response": {"status": status, "content": {}},
                "_operation": {"name": "backup_asset", "asset": body},
                "_expect": expect,
                "_refused": true,
            }],
        }});
        Case::from_har("t".into(), &serde_json::from_value(har).unwrap())
    }

    #[test]
    fn a_refused_call_must_not_build_and_is_never_served() {
        let invalid = json!({"outcome": "error", "error": "InvalidRequest"});
        let case = refused(json!({"id": 7}), 0, invalid.clone()).unwrap();
        assert!(case.exchanges[0].refused);
        assert_eq!(case.calls().count(), 1, "the runners still make the call");
        assert!(case.served().is_empty(), "the replay serves nothing");

        let err = |body, status, expect| refused(body, status, expect).unwrap_err().to_string();
        let asset = json!({
            "id": "a1", "creator": "u1", "mechanism": "MANUAL",
            "created": {"value": "2026-11-26T21:00:00Z"},
            "updated": {"value": "2026-11-26T21:00:00Z"},
            "formats": {"iterable": []}, "original": {"id": "f1"},
            "preview": {"base": {"id": "f1"}}
        });
        let text = err(asset, 0, invalid.clone());
        assert!(text.contains("the backup_asset call builds"), "{text}");
        let text = err(json!([]), 204, invalid);
        assert!(text.contains("write status 0"), "{text}");
        let text = err(json!([]), 0, json!({"outcome": "ok"}));
        assert!(text.contains("InvalidRequest"), "{text}");
    }
}
