//! `Asset` and `Assets`: JSON → model → JSON is exact (unknown fields, timestamps in any form),
//! and the requests of `backup_asset` and `backup_assets` carry the body as it was read.

use backups_conformance::strategies::{asset_json, assets_json};
use backups_models::{Asset, Assets};
use backups_proto::Endpoint;
use backups_proto::operations::{ApiOperation, BackupAsset, BackupAssets};
use proptest::prelude::*;
use serde_json::Value;

use super::{base_url, check, check_common};

#[test]
fn asset_bodies_are_kept_whole() {
    check(
        "asset json->model->json is exact",
        "models",
        asset_json(),
        |json| {
            let asset = Asset::from_value(json.clone())
                .map_err(|err| TestCaseError::fail(format!("{err}: {json}")))?;
            prop_assert_eq!(serde_json::to_value(&asset).unwrap(), json);
            Ok(())
        },
    );
    check(
        "assets json->model->json is exact",
        "models",
        assets_json(),
        |json| {
            let assets = Assets::from_value(json.clone())
                .map_err(|err| TestCaseError::fail(format!("{err}: {json}")))?;
            prop_assert_eq!(serde_json::to_value(&assets).unwrap(), json);
            Ok(())
        },
    );
}

#[test]
fn asset_requests_satisfy_the_wire_contract() {
    check(
        "backup_assets request",
        "backup_assets",
        (base_url(), proptest::option::of(assets_json())),
        |(base, json)| {
            let endpoint = Endpoint::new(base.parse().unwrap());
            let assets = json.clone().map(|v| Assets::from_value(v).unwrap());
            let request = BackupAssets { assets }.request(&endpoint).unwrap();
            prop_assert_eq!(request.uri().to_string(), format!("{base}/backup"));
            check_common(&request, "text/plain", json)
        },
    );
    check(
        "backup_asset request",
        "backup_asset",
        (base_url(), proptest::option::of(asset_json())),
        |(base, json): (String, Option<Value>)| {
            let endpoint = Endpoint::new(base.parse().unwrap());
            let asset = json.clone().map(|v| Asset::from_value(v).unwrap());
            let request = BackupAsset { asset }.request(&endpoint).unwrap();
            prop_assert_eq!(request.uri().to_string(), format!("{base}/backup/asset"));
            check_common(&request, "text/plain", json)
        },
    );
}
