//! [`Call`]: the SDK call an exchange makes (the `_operation` field), checked against its
//! operation's inputs, or worked out from the request of a HAR captured by another tool; and
//! [`ChannelCall`], a WebSocket channel's call as the client's typed value.

use backups_models::{Backup, SeededBackup};
use backups_proto::operations::{
    AnyOperation, CreateOverWebSocket, RestoreOverWebSocket, WatchProgress,
};
use backups_proto::{BackupId, Operation, RequestBody};
use percent_encoding::percent_decode_str;
use serde_json::Value;

use crate::case::request::{ExpectedBody, ExpectedRequest};
use crate::case::socket::{ExpectedMessage, SocketScript};
use crate::har::OperationField;

/// A WebSocket channel call as the client's typed value: [`Call::to_channel`].
#[derive(Debug, Clone, PartialEq)]
// One value per call, built and moved once: boxing the restore's input would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum ChannelCall {
    /// The progress socket.
    Watch(WatchProgress),
    /// The create socket.
    Create(CreateOverWebSocket),
    /// The restore socket.
    Restore(RestoreOverWebSocket),
}

/// An SDK call with its inputs (the `_operation` field), run through [`Client::run`] as the
/// [`AnyOperation`] it builds: any operation gets replay, transport and live checks with no code
/// of its own here.
///
/// [`Client::run`]: backups_proto::Client::run
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The operation.
    pub operation: Operation,
    /// The backup id as the caller gives it (before encoding), for operations whose path names
    /// one.
    pub id: Option<String>,
    /// The JSON request body, if any.
    pub body: Option<Value>,
}

impl Call {
    /// The operation the call makes.
    pub fn operation(&self) -> Operation {
        self.operation
    }

    /// The operation value the call runs: the id checked, the body decoded as the operation's
    /// model.
    pub fn to_operation(&self) -> Result<AnyOperation, backups_proto::Error> {
        let id = self.id.clone().map(BackupId::new).transpose()?;
        let body = self
            .body
            .as_ref()
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|err| backups_proto::Error::InvalidRequest {
                reason: err.to_string(),
            })?;
        AnyOperation::from_parts(self.operation, id, body.as_deref())
    }

    /// The channel value the call opens, for a WebSocket channel: the id checked, the input
    /// decoded as the channel's model. (`backups_proto` has no `AnyOperation` for channels, so
    /// this is the one place that names each.)
    pub fn to_channel(&self) -> Result<ChannelCall, backups_proto::Error> {
        let invalid = |reason: String| backups_proto::Error::InvalidRequest { reason };
        let op = self.operation;
        let id = self.id.clone().map(BackupId::new).transpose()?;
        match (op.takes_id(), &id) {
            (false, Some(id)) => {
                return Err(invalid(format!("{op} takes no backup id, got {id:?}")));
            }
            (true, None) => return Err(invalid(format!("{op} needs a backup id"))),
            _ => {}
        }
        if op.spec().request == RequestBody::None && self.body.is_some() {
            return Err(invalid(format!("{op} takes no input")));
        }
        let body = |value: &Value| {
            if value.is_object() {
                Ok(value.clone())
            } else {
                Err(invalid(format!("the {op} input is not a JSON object")))
            }
        };
        let seed = || -> Result<Option<SeededBackup>, backups_proto::Error> {
            self.body
                .as_ref()
                .map(|v| serde_json::from_value(body(v)?).map_err(|e| invalid(e.to_string())))
                .transpose()
        };
        let backup = || -> Result<Option<Backup>, backups_proto::Error> {
            self.body
                .as_ref()
                .map(|v| serde_json::from_value(body(v)?).map_err(|e| invalid(e.to_string())))
                .transpose()
        };
        Ok(match op {
            Operation::WatchProgress => ChannelCall::Watch(WatchProgress),
            Operation::CreateOverWebSocket => {
                ChannelCall::Create(CreateOverWebSocket { seed: seed()? })
            }
            Operation::RestoreOverWebSocket => ChannelCall::Restore(RestoreOverWebSocket {
                id: id.ok_or_else(|| invalid(format!("{op} needs a backup id")))?,
                backup: backup()?,
            }),
            _ => return Err(invalid(format!("{op} is not a WebSocket channel"))),
        })
    }

    /// A call of `field`, checked against its operation's inputs.
    pub(crate) fn from_field(field: &OperationField) -> Result<Call, String> {
        Self::from_field_unchecked(field)?.checked()
    }

    /// A call of `field` whose body is under the key of the operation's model, not yet built
    /// (a `_refused` call must not build).
    pub(crate) fn from_field_unchecked(field: &OperationField) -> Result<Call, String> {
        let (name, id, body) = match field {
            OperationField::Name(name) => (name, None, None),
            OperationField::Call(call) => {
                let mut bodies = [
                    (RequestBody::Seed, &call.seed),
                    (RequestBody::Backup, &call.backup),
                    (RequestBody::Assets, &call.assets),
                    (RequestBody::Asset, &call.asset),
                ]
                .into_iter()
                .filter_map(|(kind, body)| body.clone().map(|body| (kind, body)));
                let body = bodies.next();
                if bodies.next().is_some() {
                    return Err("_operation has more than one body".into());
                }
                (&call.name, call.id.clone(), body)
            }
        };
        let operation = Operation::from_name(name).ok_or_else(|| {
            let known: Vec<_> = Operation::ALL.iter().map(|op| op.name()).collect();
            format!(
                "unknown operation {name:?}: expected one of {}",
                known.join(", ")
            )
        })?;
        if let Some((kind, _)) = &body {
            if operation.spec().request != *kind {
                return Err(format!(
                    "{operation} takes {:?} as its body, the case gives {kind:?}",
                    operation.spec().request
                ));
            }
        }
        Ok(Call {
            operation,
            id,
            body: body.map(|(_, body)| body),
        })
    }

    /// The call, if it builds an operation: a case that cannot be run fails to load.
    fn checked(self) -> Result<Call, String> {
        if self.operation.is_websocket() {
            self.to_channel().map_err(|err| err.to_string())?;
        } else {
            self.to_operation().map_err(|err| err.to_string())?;
        }
        Ok(self)
    }
}

/// Works out the call from the request, for a HAR captured by another tool: the operation whose
/// method and path template match, with the id decoded from its `{backup}` segment.
pub(crate) fn infer_call(
    request: &ExpectedRequest,
    script: Option<&SocketScript>,
) -> Result<Call, String> {
    let path = request.path_and_query.split('?').next().unwrap_or_default();
    let operation = Operation::ALL
        .into_iter()
        .filter(|op| op.method() == request.method)
        .find_map(|op| match_template(op.path_template(), path).map(|id| (op, id)));
    let Some((operation, segment)) = operation else {
        return Err(format!("no operation is {} {path}", request.method));
    };
    let id = segment
        .map(|segment| {
            percent_decode_str(segment)
                .decode_utf8()
                .map(|id| id.into_owned())
                .map_err(|_| format!("{segment:?} does not decode to UTF-8"))
        })
        .transpose()?;
    let body = match (&request.body, script.and_then(SocketScript::first_sent)) {
        (ExpectedBody::Json(value), _) => Some(value.clone()),
        // A channel's input is its first message; `{}` is no input at all.
        (_, Some(ExpectedMessage::Json(value)))
            if operation.is_websocket() && value.as_object().is_some_and(|o| !o.is_empty()) =>
        {
            Some(value.clone())
        }
        _ => None,
    };
    Call {
        operation,
        id,
        body,
    }
    .checked()
}

/// Whether `path` fits `template`: `Some(None)` for a template without `{backup}`, `Some(segment)`
/// with the (still encoded) segment that stands in its place.
fn match_template<'a>(template: &str, path: &'a str) -> Option<Option<&'a str>> {
    match template.split_once("{backup}") {
        None => (template == path).then_some(None),
        Some((before, after)) => {
            let segment = path.strip_prefix(before)?.strip_suffix(after)?;
            (!segment.is_empty() && !segment.contains('/')).then_some(Some(segment))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn infers_delete_with_decoded_id() {
        let request = ExpectedRequest {
            method: http::Method::POST,
            path_and_query: "/backups/a%2Fb%20c/delete".into(),
            headers: vec![],
            forbid: vec![],
            body: ExpectedBody::Empty,
        };
        assert_eq!(
            infer_call(&request, None).unwrap(),
            Call {
                operation: Operation::Delete,
                id: Some("a/b c".into()),
                body: None,
            }
        );
        let list = ExpectedRequest {
            method: http::Method::GET,
            path_and_query: "/backups".into(),
            ..request.clone()
        };
        assert_eq!(infer_call(&list, None).unwrap().operation, Operation::List);
        let nested = ExpectedRequest {
            path_and_query: "/backups/a/b/delete".into(),
            ..request
        };
        assert!(infer_call(&nested, None).is_err(), "an id is one segment");
    }

    #[test]
    fn a_call_must_fit_its_operation() {
        let field =
            |value: serde_json::Value| -> OperationField { serde_json::from_value(value).unwrap() };
        assert!(Call::from_field(&field(json!("list"))).is_ok());
        assert!(Call::from_field(&field(json!("nope"))).is_err());
        assert!(
            Call::from_field(&field(json!({"name": "delete"}))).is_err(),
            "no id"
        );
        assert!(Call::from_field(&field(json!({"name": "list", "id": "x"}))).is_err());
        assert!(Call::from_field(&field(json!({"name": "create", "backup": {}}))).is_err());
        assert!(Call::from_field(&field(json!({"name": "create", "seed": []}))).is_err());
        let create = Call::from_field(&field(json!({"name": "create", "seed": {}}))).unwrap();
        assert_eq!(create.body, Some(json!({})));
        assert!(
            serde_json::from_value::<OperationField>(json!({"name": "list", "sead": {}})).is_err(),
            "a misspelt input is refused"
        );
    }
}
