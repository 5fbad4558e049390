"""Drives the official Python SDK (pieces-os-client 5.0.1) against a running backups-server,
and reads the progress WebSocket with a third-party client (the `websockets` package), since no
official SDK implements the backup sockets.

Usage: check_sdk.py normal PORT DATA_DIR
       check_sdk.py websocket PORT
       check_sdk.py fault PORT STATUS
Exits non-zero with a message on the first mismatch.
"""

import json
import os
import sys
import threading

from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as ws_connect

from pieces_os_client.api.backup_api import BackupApi
from pieces_os_client.api.backups_api import BackupsApi
from pieces_os_client.api_client import ApiClient
from pieces_os_client.configuration import Configuration
from pieces_os_client.exceptions import ApiException
from pieces_os_client.models.seeded_backup import SeededBackup

# Beside this file: Assets and Asset bodies built with the SDK's own models.
from asset_fixtures import asset, assets, full_asset


def client(port):
    # pieces_os_client/__init__.py imports nothing in 5.0.1, so the classes come from modules.
    return ApiClient(Configuration(host=f"http://127.0.0.1:{port}"))


def ids(api):
    return [backup.id for backup in api.backups_snapshot().iterable]


def tree(root):
    """Every directory and file under root, with file contents: what a restore must give back."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        out[rel] = "<dir>"
        for name in filenames:
            with open(os.path.join(dirpath, name), "rb") as f:
                out[os.path.join(rel, name)] = f.read()
    return out


def expect_status(call, status, text=None):
    try:
        call()
    except ApiException as error:
        assert error.status == status, (error.status, status, error.body)
        assert error.body, error
        if text is not None:
            assert text in error.body, error.body
    else:
        raise AssertionError(f"expected status {status}")


def check_one_backup(api_client, backup_id, data):
    """BackupApi: read one backup, restore it, the statuses, cancel with nothing running."""
    api = BackupApi(api_client)
    backed_up = tree(data)

    read = api.backup_specific_backup_snapshot(backup_id)
    assert read.id == backup_id, read
    assert read.bytes > 0 and read.created.value is not None, read

    # The data changes; a restore brings back exactly what was backed up.
    with open(os.path.join(data, "db.sqlite"), "w") as f:
        f.write("changed")
    with open(os.path.join(data, "added.txt"), "w") as f:
        f.write("added")
    os.remove(os.path.join(data, "nested", "settings.json"))
    assert tree(data) != backed_up
    restored = api.backup_restore_specific_backup(backup_id, backup2=read)
    assert restored.id == backup_id, restored
    assert tree(data) == backed_up, tree(data)

    # The streamed restore gives this SDK the final event alone; no body this time.
    os.remove(os.path.join(data, "db.sqlite"))
    progress = api.backup_restore_specific_backup_streamed(backup_id)
    assert progress.status == "COMPLETED", progress
    assert progress.backup is not None and progress.backup.id == backup_id, progress
    assert tree(data) == backed_up

    created = api.backup_specific_creation_status(backup_id)
    assert created.value == "COMPLETED", created
    assert created.percentage == 100, created
    assert created.backup.id == backup_id, created
    restoring = api.backup_specific_restoration_status(backup_id)
    assert restoring.value == "COMPLETED", restoring
    assert restoring.backup.id == backup_id, restoring

    unknown = "0000000000001-0000"
    expect_status(lambda: api.backup_specific_backup_snapshot(unknown), 404)
    expect_status(lambda: api.backup_restore_specific_backup(unknown), 404)
    expect_status(lambda: api.backup_specific_creation_status(unknown), 404)
    expect_status(lambda: api.backup_specific_restoration_status(unknown), 404)
    expect_status(
        lambda: api.backup_specific_creation_cancel(backup_id),
        500,
        "no backup is being created with that id",
    )
    expect_status(
        lambda: api.backup_specific_restoration_cancel(backup_id),
        500,
        "no restore of that backup is in progress",
    )
    expect_status(
        lambda: api.backup_specific_restoration_cancel(backup_id, backup2=read),
        500,
        "no restore of that backup is in progress",
    )
    assert tree(data) == backed_up


def check_assets(api_client):
    """BackupApi's backup and backup_asset: 204 (None) with no body and with bodies built from
    the SDK's models; the reference server checks them and makes no backup."""
    api = BackupApi(api_client)
    before = ids(BackupsApi(api_client))
    assert api.backup() is None
    assert api.backup(assets=assets()) is None
    assert api.backup(assets=assets().model_copy(update={"iterable": []})) is None
    assert api.backup_asset() is None
    assert api.backup_asset(asset=asset()) is None
    assert api.backup_asset(asset=full_asset()) is None
    # The _with_http_info forms show the status itself.
    assert api.backup_with_http_info(assets=assets()).status_code == 204
    assert api.backup_asset_with_http_info(asset=asset("x")).status_code == 204
    # The bodies do arrive, and are checked: an asset the SDK's model_copy left without its id
    # (model_copy does not validate) is refused with the reason.
    no_id = asset().model_copy(update={"id": None})
    expect_status(lambda: api.backup_asset(asset=no_id), 400, "id: expected")
    no_iterable = assets().model_copy(update={"iterable": None})
    expect_status(lambda: api.backup(assets=no_iterable), 400, "iterable")
    assert ids(BackupsApi(api_client)) == before, "backing up assets made a backup"


def check_normal(port, data):
    with client(port) as api_client:
        api = BackupsApi(api_client)

        snapshot = api.backups_snapshot()
        assert snapshot.iterable == [], snapshot

        created = api.backups_create_new_backup(seeded_backup=SeededBackup())
        assert created.id, created
        assert created.bytes > 0, created
        assert created.device_name, created
        assert created.platform in ("LINUX", "MACOS", "WINDOWS"), created.platform
        assert created.timestamp, created
        assert created.version, created
        assert created.created.value is not None, created
        assert created.created.readable, created

        # Without a seeded backup the SDK sends an empty body.
        bare = api.backups_create_new_backup()
        assert bare.id and bare.id != created.id, bare

        progress = api.backups_create_new_backup_streamed(seeded_backup=SeededBackup())
        assert progress.status == "COMPLETED", progress
        assert progress.percentage == 100, progress
        assert progress.backup is not None and progress.backup.id, progress
        streamed_id = progress.backup.id

        snapshot = api.backups_snapshot()
        listed = [backup.id for backup in snapshot.iterable]
        assert listed == [streamed_id, bare.id, created.id], listed
        assert snapshot.indices == {streamed_id: 0, bare.id: 1, created.id: 2}, snapshot.indices

        # Delete with the optional Backup body, then without one.
        result = api.backups_delete_specific_backup(created.id, backup2=created)
        assert result is None, result
        api.backups_delete_specific_backup(bare.id)
        assert ids(api) == [streamed_id], ids(api)

        try:
            api.backups_delete_specific_backup(created.id)
        except ApiException as error:
            assert error.status == 404, error
            assert "no such backup" in (error.body or ""), error.body
        else:
            raise AssertionError("deleting a deleted backup succeeded")

        # The SDK does not encode dots; `..` must not reach any file.
        try:
            api.backups_delete_specific_backup("..")
        except ApiException as error:
            assert error.status == 404, error
        else:
            raise AssertionError("deleting '..' succeeded")
        assert ids(api) == [streamed_id], ids(api)

        check_one_backup(api_client, streamed_id, data)
        assert ids(api) == [streamed_id], ids(api)

        check_assets(api_client)


def entry(snapshot, backup_id):
    """The status of backup_id among the creations of a snapshot, or None when absent."""
    for progress in snapshot["backups"]:
        if progress.get("backup", {}).get("id") == backup_id:
            return progress["status"]
    return None


def check_websocket(port):
    """The progress channel seen by the websockets package while the SDK creates over HTTP."""
    url = f"ws://127.0.0.1:{port}/backups/streamed/progress"
    with client(port) as api_client, ws_connect(url, open_timeout=10) as ws:
        api = BackupsApi(api_client)
        first = json.loads(ws.recv(timeout=10))
        assert first == {"backups": [], "restorations": []}, first

        made = {}
        create = threading.Thread(
            target=lambda: made.setdefault("backup", api.backups_create_new_backup())
        )
        create.start()
        seen = []
        backup_id = None
        while True:
            snapshot = json.loads(ws.recv(timeout=30))
            if backup_id is None:
                assert len(snapshot["backups"]) == 1, snapshot
                backup_id = snapshot["backups"][0]["backup"]["id"]
            status = entry(snapshot, backup_id)
            seen.append(status)
            if status == "COMPLETED":
                break
        create.join()
        assert made["backup"].id == backup_id, (made, backup_id)
        phases = [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] != s]
        assert phases == ["INITIALIZED", "IN-PROGRESS", "COMPLETED"], seen

        # The next change (another create) no longer lists it.
        second = api.backups_create_new_backup()
        snapshot = json.loads(ws.recv(timeout=30))
        assert entry(snapshot, backup_id) is None, snapshot
        assert entry(snapshot, second.id) == "INITIALIZED", snapshot
        api.backups_delete_specific_backup(backup_id)
        api.backups_delete_specific_backup(second.id)


def check_fault(port, status):
    with client(port) as api_client:
        api = BackupsApi(api_client)
        one = BackupApi(api_client)
        some = "0000000000000-0000"
        calls = [
            lambda: one.backup_specific_backup_snapshot(some),
            lambda: one.backup_restore_specific_backup(some),
            lambda: one.backup_restore_specific_backup_streamed(some),
            lambda: one.backup_specific_creation_status(some),
            lambda: one.backup_specific_creation_cancel(some),
            lambda: one.backup_specific_restoration_status(some),
            lambda: one.backup_specific_restoration_cancel(some),
            lambda: api.backups_snapshot(),
            lambda: api.backups_create_new_backup(seeded_backup=SeededBackup()),
            lambda: api.backups_create_new_backup_streamed(seeded_backup=SeededBackup()),
            lambda: api.backups_delete_specific_backup("0000000000000-0000"),
            lambda: one.backup(),
            lambda: one.backup(assets=assets()),
            lambda: one.backup_asset(),
            lambda: one.backup_asset(asset=full_asset()),
        ]
        for call in calls:
            try:
                call()
            except ApiException as error:
                assert error.status == status, (error.status, status)
                assert error.body, error
            else:
                raise AssertionError(f"expected status {status}")
    # The handshake of a socket is refused with the fault too.
    try:
        ws_connect(f"ws://127.0.0.1:{port}/backups/streamed/progress", open_timeout=10)
    except InvalidStatus as error:
        assert error.response.status_code == status, (error.response.status_code, status)
    else:
        raise AssertionError(f"expected the handshake refused with {status}")


def main(argv):
    mode, port = argv[1], int(argv[2])
    if mode == "normal":
        check_normal(port, argv[3])
    elif mode == "websocket":
        check_websocket(port)
    elif mode == "fault":
        check_fault(port, int(argv[3]))
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(f"python SDK check ({mode}) passed against port {port}")


if __name__ == "__main__":
    main(sys.argv)
