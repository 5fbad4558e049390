"""Asset and Assets bodies built with the official Python SDK's own models (pieces-os-client 5.0.1).

Two uses:
- `check_sdk.py` imports `assets()` and `asset()` to send them with `BackupApi.backup` and
  `backup_asset`;
- run as a script, it writes each body as the SDK puts it on the wire (the API client's
  `sanitize_for_serialization`, then `json.dumps`) into a directory: the fixtures of the Rust
  test `assets_round_trip` (crates/backups-models/tests/assets.rs). Regenerate them with

      $CARGO_TARGET_DIR/python-sdk-venv/bin/python \
          crates/backups-server/tests/python/asset_fixtures.py crates/backups-models/tests/fixtures

  `run.sh` writes them to a temporary directory and fails when they differ from the committed ones.

The SDK's models drop fields they do not know, so the fixtures whose names say `unknown` add
fields of a later version to what the SDK serialized: the Rust models must keep those too.
"""

import datetime
import json
import os
import sys

from pieces_os_client.api_client import ApiClient
from pieces_os_client.models.application import Application
from pieces_os_client.models.application_name_enum import ApplicationNameEnum
from pieces_os_client.models.asset import Asset
from pieces_os_client.models.assets import Assets
from pieces_os_client.models.byte_descriptor import ByteDescriptor
from pieces_os_client.models.classification import Classification
from pieces_os_client.models.classification_generic_enum import ClassificationGenericEnum
from pieces_os_client.models.classification_specific_enum import ClassificationSpecificEnum
from pieces_os_client.models.embedded_model_schema import EmbeddedModelSchema
from pieces_os_client.models.embedded_model_schema_semantic_version_enum import (
    EmbeddedModelSchemaSemanticVersionEnum,
)
from pieces_os_client.models.flattened_asset import FlattenedAsset
from pieces_os_client.models.flattened_formats import FlattenedFormats
from pieces_os_client.models.flattened_preview import FlattenedPreview
from pieces_os_client.models.format import Format
from pieces_os_client.models.formats import Formats
from pieces_os_client.models.grouped_timestamp import GroupedTimestamp
from pieces_os_client.models.mechanism_enum import MechanismEnum
from pieces_os_client.models.platform_enum import PlatformEnum
from pieces_os_client.models.preview import Preview
from pieces_os_client.models.privacy_enum import PrivacyEnum
from pieces_os_client.models.referenced_format import ReferencedFormat
from pieces_os_client.models.role import Role
from pieces_os_client.models.score import Score

UTC = datetime.timezone.utc
PLUS_TWO = datetime.timezone(datetime.timedelta(hours=2))
SCHEMA = EmbeddedModelSchema(
    migration=0, semantic=EmbeddedModelSchemaSemanticVersionEnum.MAJOR_0_MINOR_0_PATCH_1
)


def stamp(*args, tz=UTC, readable=None):
    return GroupedTimestamp(value=datetime.datetime(*args, tzinfo=tz), readable=readable)


def asset(asset_id="asset-1", **optional):
    """An Asset with the 8 required fields, and any optional ones given."""
    return Asset(
        id=asset_id,
        creator="user-1",
        created=stamp(2026, 11, 26, 21, 0, 0),
        updated=stamp(2026, 11, 26, 23, 30, 0, 123456, tz=PLUS_TWO),
        mechanism=MechanismEnum.MANUAL,
        formats=Formats(iterable=[]),
        original=ReferencedFormat(id="format-1"),
        preview=Preview(base=ReferencedFormat(id="format-1")),
        **optional,
    )


def full_asset():
    """An Asset with a whole Format and many optional fields."""
    created = stamp(2026, 1, 2, 3, 4, 5, readable="January 2, 2026")
    fmt = Format(
        id="format-1",
        creator="user-1",
        created=created,
        updated=created,
        role=Role.BOTH,
        application=Application(
            id="app-1",
            name=ApplicationNameEnum.VS_CODE,
            version="1.2.3",
            platform=PlatformEnum.LINUX,
            onboarded=True,
            privacy=PrivacyEnum.OPEN,
        ),
        asset=FlattenedAsset(
            id="asset-2",
            creator="user-1",
            created=created,
            updated=created,
            mechanism=MechanismEnum.AUTOMATIC,
            formats=FlattenedFormats(iterable=[ReferencedFormat(id="format-1")]),
            original="format-1",
            preview=FlattenedPreview(base="format-1"),
        ),
        bytes=ByteDescriptor(value=42, readable="42 B"),
        classification=Classification(
            generic=ClassificationGenericEnum.CODE, specific=ClassificationSpecificEnum.RS
        ),
        cloud="/cloud/format-1",
    )
    return Asset(
        id="asset-2",
        name="hello.rs",
        creator="user-1",
        created=created,
        updated=stamp(2026, 1, 2, 5, 4, 5, 500000, tz=PLUS_TWO),
        interacted=stamp(2026, 1, 3, 0, 0, 0),
        mechanism=MechanismEnum.AUTOMATIC,
        formats=Formats(iterable=[fmt], schema=SCHEMA),
        original=ReferencedFormat(id="format-1", reference=None),
        preview=Preview(base=ReferencedFormat(id="format-1"), overlay=ReferencedFormat(id="format-1")),
        favorited=True,
        pseudo=False,
        curated=False,
        discovered=True,
        demo=False,
        score=Score(manual=1, automatic=7, priority=3),
        schema=SCHEMA,
    )


def assets():
    """An Assets of two assets, with indices and a score."""
    return Assets(
        iterable=[asset("asset-1", name="notes.md"), full_asset()],
        indices={"asset-1": 0, "asset-2": 1},
        score=Score(manual=0, automatic=2),
        schema=SCHEMA,
    )


def wire(model):
    """The JSON value the SDK sends for a model: what its API client serializes."""
    return ApiClient().sanitize_for_serialization(model)


def fixtures():
    """Each fixture's file name and its JSON value."""
    with_unknown = wire(assets())
    with_unknown["a_later_field"] = {"nested": [1, 2.5, None, "x"]}
    with_unknown["iterable"][0]["mechanism"] = "A_LATER_MECHANISM"
    with_unknown["iterable"][0]["a_later_asset_field"] = True
    with_unknown["iterable"][1]["formats"]["iterable"][0]["a_later_format_field"] = 1.0e100
    return {
        "asset_required.json": wire(asset()),
        "asset_full.json": wire(full_asset()),
        "assets.json": wire(assets()),
        "assets_empty.json": wire(Assets(iterable=[])),
        "assets_unknown_fields.json": with_unknown,
    }


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, value in fixtures().items():
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            json.dump(value, f, indent=2, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    main()
