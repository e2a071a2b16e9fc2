#!/usr/bin/env python3
"""How fast the Python Verifier checks tokens on one core: tokens never seen
(signature and claims) and tokens seen before (the cache, and the status
list bit), against a tokend started here on a scratch database.
    TOKEND_BIN=target/release/tokend <venv>/bin/python bench/python-verify.py
Needs the tokend-client package (clients/python) in the interpreter."""

import base64
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

from tokend_client import Verifier

TOKENS = 2000


def main() -> None:
    binary = os.environ.get("TOKEND_BIN", "target/release/tokend")
    scratch = tempfile.mkdtemp()
    env = {**os.environ, "TOKEND_DATABASE_URL": f"sqlite://{scratch}/bench.db", "RUST_LOG": "warn"}
    created = subprocess.run([binary, "client", "create", "--id", "bench", "--scopes", "read", "--audience", "api",
                              "--json"], env=env, check=True, capture_output=True, text=True)
    secret = json.loads(created.stdout)["client_secret"]
    server = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0"], env=env, stdout=subprocess.PIPE, text=True)
    try:
        base = "http://" + server.stdout.readline().split()[-1]
        basic = base64.b64encode(f"bench:{secret}".encode()).decode()

        def token() -> str:
            request = urllib.request.Request(f"{base}/oauth/v2/token", data=b"grant_type=client_credentials",
                                             headers={"Authorization": f"Basic {basic}"})
            with urllib.request.urlopen(request) as answer:
                return json.load(answer)["access_token"]

        tokens = [token() for _ in range(TOKENS)]
        verifier = Verifier.discover(base, "api")
        verifier.verify(token())  # the keys and the status list in hand
        started = time.perf_counter()
        for each in tokens:
            verifier.verify(each)
        first = TOKENS / (time.perf_counter() - started)
        started = time.perf_counter()
        for _ in range(10):
            for each in tokens:
                verifier.verify(each)
        again = 10 * TOKENS / (time.perf_counter() - started)
        print(f"python {sys.version.split()[0]}: first sight {first:,.0f}/s, seen before {again:,.0f}/s "
              f"(one thread; {verifier.status_list_counts['fetched']} status list fetch)")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
