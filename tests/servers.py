"""`hadac serve` as a user starts it, on a free local port, for the tests that ask it over
HTTP (tests/test_serve.py with httpx, tests/test_page.py with a browser)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

STARTUP = 120.0  # seconds for a server to compile its specs and listen, at most


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running `hadac serve`, its folder, its address and an httpx client on it."""

    def __init__(self, process: subprocess.Popen, folder: Path, port: int):
        self.process, self.folder = process, folder
        self.url = f"http://127.0.0.1:{port}"
        self.client = httpx.Client(base_url=self.url, timeout=60.0)

    def solve(self, study: str, body: object) -> httpx.Response:
        return self.client.post(f"/api/studies/{study}/solve", json=body)


@contextmanager
def serving(folder: Path, targets: list[Path], *flags: str) -> Iterator[Server]:
    """`hadac serve TARGETS... FLAGS...` run in `folder` (where a spec's build goes), once
    it answers; stopped, with its log in `folder/server.log`, on leaving."""
    port = free_port()
    command = [sys.executable, "-m", "hadac", "serve", *map(str, targets)]
    command += ["--port", str(port), *flags]
    with (folder / "server.log").open("w") as log:
        process = subprocess.Popen(command, cwd=folder, stdout=log, stderr=subprocess.STDOUT)
        running = Server(process, folder, port)
        deadline = time.monotonic() + STARTUP
        try:
            while True:
                assert process.poll() is None, (folder / "server.log").read_text()
                try:
                    if running.client.get("/api/studies").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the server did not start listening"
                time.sleep(0.2)
            yield running
        finally:
            running.client.close()
            process.terminate()
            process.wait(timeout=30)


def without_timings(payload: dict) -> dict:
    """An answer without what differs from run to run."""
    return {k: v for k, v in payload.items() if k != "timings"}
