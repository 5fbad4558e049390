"""Drives the official Python SDK (pieces-os-client 5.0.1) against a running backups-server.

Usage: check_sdk.py normal PORT
       check_sdk.py fault PORT STATUS
Exits non-zero with a message on the first mismatch.
"""

import sys

from pieces_os_client.api.backups_api import BackupsApi
from pieces_os_client.api_client import ApiClient
from pieces_os_client.configuration import Configuration
from pieces_os_client.exceptions import ApiException
from pieces_os_client.models.seeded_backup import SeededBackup


def client(port):
    # pieces_os_client/__init__.py imports nothing in 5.0.1, so the classes come from modules.
    return ApiClient(Configuration(host=f"http://127.0.0.1:{port}"))


def ids(api):
    return [backup.id for backup in api.backups_snapshot().iterable]


def check_normal(port):
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


def check_fault(port, status):
    with client(port) as api_client:
        api = BackupsApi(api_client)
        calls = [
            lambda: api.backups_snapshot(),
            lambda: api.backups_create_new_backup(seeded_backup=SeededBackup()),
            lambda: api.backups_create_new_backup_streamed(seeded_backup=SeededBackup()),
            lambda: api.backups_delete_specific_backup("0000000000000-0000"),
        ]
        for call in calls:
            try:
                call()
            except ApiException as error:
                assert error.status == status, (error.status, status)
                assert error.body, error
            else:
                raise AssertionError(f"expected status {status}")


def main(argv):
    mode, port = argv[1], int(argv[2])
    if mode == "normal":
        check_normal(port)
    elif mode == "fault":
        check_fault(port, int(argv[3]))
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(f"python SDK check ({mode}) passed against port {port}")


if __name__ == "__main__":
    main(sys.argv)
