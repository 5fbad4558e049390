//! `backup-assets [FILE] [--asset]`: asking Pieces OS to back up assets (`POST /backup`) or one
//! asset (`POST /backup/asset`), with the body read from a JSON file or stdin.

use std::io::{Read, Write};
use std::path::Path;

use backups_hyper::BackupsClient;
use backups_models::{Asset, Assets};
use serde_json::Value;

use crate::exit::Exit;
use crate::output;
use crate::stop::Stop;

/// The largest body file read: the SDK's own limit on a response body, far above any real one.
const MAX_FILE: u64 = 64 * 1024 * 1024;

/// What is sent.
#[derive(Debug)]
enum Body {
    /// `POST /backup` with these assets, or none.
    Assets(Option<Assets>),
    /// `POST /backup/asset` with this asset, or none.
    Asset(Option<Asset>),
}

/// `backup-assets [FILE] [--asset]`: the file (`-` for stdin) holds an `Assets` object (it has
/// `iterable`) or one `Asset`; without a file, nothing is sent (`--asset`: to `/backup/asset`).
pub(crate) async fn backup_assets(
    client: &BackupsClient,
    file: Option<&Path>,
    one: bool,
    json: bool,
    out: &mut impl Write,
) -> Result<(), Stop> {
    let body = match file {
        None if one => Body::Asset(None),
        None => Body::Assets(None),
        Some(path) => read_body(path, one)?,
    };
    let summary = match &body {
        Body::Assets(assets) => {
            client.backup_assets(assets.as_ref()).await?;
            let ids: Option<Vec<&str>> = assets
                .as_ref()
                .map(|assets| assets.iter().map(Asset::id).collect());
            let text = match &ids {
                None => "Asked Pieces OS to back up its assets".to_owned(),
                Some(ids) => format!(
                    "Asked Pieces OS to back up {} asset{}",
                    ids.len(),
                    if ids.len() == 1 { "" } else { "s" }
                ),
            };
            (
                text,
                serde_json::json!({"operation": "backup_assets", "assets": ids}),
            )
        }
        Body::Asset(asset) => {
            client.backup_asset(asset.as_ref()).await?;
            let id = asset.as_ref().map(Asset::id);
            let text = match id {
                None => "Asked Pieces OS to back up an asset (no asset given)".to_owned(),
                Some(id) => format!("Asked Pieces OS to back up asset {id}"),
            };
            (
                text,
                serde_json::json!({"operation": "backup_asset", "asset": id}),
            )
        }
    };
    if json {
        writeln!(out, "{}", output::json_line(&summary.1)).ok();
    } else {
        writeln!(out, "{}", summary.0).ok();
    }
    Ok(())
}

/// Reads and checks the body before anything is sent: a file that is not an `Assets` or an
/// `Asset` is a usage error naming what is wrong where.
fn read_body(path: &Path, one: bool) -> Result<Body, Stop> {
    let name = path.display();
    let usage = |message: String| Stop::Failed {
        exit: Exit::Usage,
        message,
    };
    let mut bytes = Vec::new();
    let read = if path == Path::new("-") {
        std::io::stdin().take(MAX_FILE + 1).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(MAX_FILE + 1).read_to_end(&mut bytes))
    };
    read.map_err(|err| usage(format!("cannot read {name}: {err}")))?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(usage(format!("{name} is larger than {MAX_FILE} bytes")));
    }
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|err| usage(format!("{name} is not JSON: {err}")))?;
    // An `Assets` has `iterable`; an `Asset` has no such field.
    let is_assets = !one && value.get("iterable").is_some();
    if is_assets {
        Assets::from_value(value)
            .map(|assets| Body::Assets(Some(assets)))
            .map_err(|err| usage(format!("{name} is not an Assets: {err}")))
    } else {
        Asset::from_value(value)
            .map(|asset| Body::Asset(Some(asset)))
            .map_err(|err| usage(format!("{name} is not an Asset: {err}")))
    }
}
