"""The Python side of the python_compare bench: the official Python SDK (pieces-os-client 5.0.1)
calling a running backups-server, timed here so that the interpreter's start and imports are
not counted.

Usage: python_peer.py BASE_URL OP COUNT CONCURRENCY
       python_peer.py BASE_URL            (then one "OP COUNT CONCURRENCY" per line on stdin)

OP is `list` (BackupsApi.backups_snapshot) or `create` (BackupsApi.backups_create_new_backup
with an empty SeededBackup). COUNT calls are made on one shared ApiClient, by CONCURRENCY
threads of a concurrent.futures.ThreadPoolExecutor (1: on this thread, one after another).
Each run prints one line of JSON: {"op", "calls", "seconds", "rate"} (calls per second), and
the stdin form answers each line as it comes, so the bench can interleave rounds with its own
without paying for this process's start each time.
"""

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from pieces_os_client.api.backups_api import BackupsApi
from pieces_os_client.api_client import ApiClient
from pieces_os_client.configuration import Configuration
from pieces_os_client.models.seeded_backup import SeededBackup


def one_call(api, op):
    if op == "list":
        # Returned as parsed models, as every SDK user gets them; the length makes sure the
        # listing was read whole.
        return len(api.backups_snapshot().iterable)
    if op == "create":
        return 1 if api.backups_create_new_backup(seeded_backup=SeededBackup()).id else 0
    raise SystemExit(f"unknown operation {op!r}")


def run(api, pools, op, count, concurrency):
    pool = None
    if concurrency > 1:
        # Made once per size and kept, so its threads are started before any timed run.
        pool = pools.get(concurrency)
        if pool is None:
            pool = pools[concurrency] = ThreadPoolExecutor(concurrency)
            for _ in pool.map(lambda _: None, range(concurrency)):
                pass
    start = time.perf_counter()
    if pool is None:
        for _ in range(count):
            one_call(api, op)
    else:
        for _ in pool.map(lambda _: one_call(api, op), range(count)):
            pass
    seconds = time.perf_counter() - start
    return {"op": op, "calls": count, "seconds": seconds, "rate": count / seconds}


def main(argv):
    if len(argv) not in (2, 5):
        raise SystemExit(__doc__)
    base = argv[1].rstrip("/")
    # The SDK's defaults, as its users get them: the urllib3 pool keeps cpu_count() * 5
    # connections, ten on the 2-core development machine: enough for the eight threads.
    config = Configuration(host=base)
    pools = {}
    with ApiClient(config) as api_client:
        api = BackupsApi(api_client)
        if len(argv) == 5:
            op, count, concurrency = argv[2], int(argv[3]), int(argv[4])
            print(json.dumps(run(api, pools, op, count, concurrency)), flush=True)
        else:
            for line in sys.stdin:
                if not line.strip():
                    continue
                op, count, concurrency = line.split()
                print(json.dumps(run(api, pools, op, int(count), int(concurrency))), flush=True)
    for pool in pools.values():
        pool.shutdown()


if __name__ == "__main__":
    main(sys.argv)
