//! What [`AnyOperation`](super::AnyOperation) needs besides the table: the checks of an
//! operation's parts, and the decoding of its body.

use serde::de::DeserializeOwned;

use crate::{BackupId, Error, Operation, RequestBody};

/// Refuses an id where the path names no backup, and a body where the operation takes none.
pub(super) fn check_parts(
    operation: Operation,
    id: Option<&BackupId>,
    body: Option<&[u8]>,
) -> Result<(), Error> {
    if operation.is_websocket() {
        return Err(not_http(operation));
    }
    if let (false, Some(id)) = (operation.takes_id(), id) {
        return Err(invalid(format!(
            "{operation} takes no backup id, got {id:?}"
        )));
    }
    if operation.spec().request == RequestBody::None && body.is_some() {
        return Err(invalid(format!("{operation} takes no request body")));
    }
    Ok(())
}

/// The id an operation whose path names a backup cannot be built without.
pub(super) fn needs_id(operation: Operation, id: Option<BackupId>) -> Result<BackupId, Error> {
    id.ok_or_else(|| invalid(format!("{operation} needs a backup id")))
}

fn invalid(reason: String) -> Error {
    Error::InvalidRequest { reason }
}

/// Why a WebSocket channel is no `AnyOperation`: it is opened through the client's socket methods.
pub(super) fn not_http(operation: Operation) -> Error {
    Error::InvalidRequest {
        reason: format!(
            "{operation} is a WebSocket channel, not an HTTP call: open it with \
             Client::watch_progress, create_over_websocket or restore_over_websocket"
        ),
    }
}

/// Decodes an operation's optional JSON body as the model `T`, insisting on a JSON object.
pub(super) fn body_of<T: DeserializeOwned>(
    operation: Operation,
    body: Option<&[u8]>,
) -> Result<Option<T>, Error> {
    let Some(body) = body else {
        return Ok(None);
    };
    let model = core::any::type_name::<T>()
        .rsplit("::")
        .next()
        .unwrap_or("model");
    let invalid = |why: String| Error::InvalidRequest {
        reason: format!("the {operation} body is not a valid {model}: {why}"),
    };
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|err| invalid(err.to_string()))?;
    if !value.is_object() {
        return Err(invalid("expected a JSON object".into()));
    }
    serde_json::from_value(value)
        .map(Some)
        .map_err(|err| invalid(err.to_string()))
}
