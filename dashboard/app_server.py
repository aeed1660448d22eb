"""`streamlit run serve.py` (the app with its download route, as `make run` serves it) as a child
process on a free loopback port, for the browser tests and the benchmark's server run."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator

from dashboard.config import PROJECT_ROOT

START_TIMEOUT_S = 180
# Debian's chromium, driven by Playwright (its own browser download does not work here).
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class AppServerError(RuntimeError):
    """The server exited or never became healthy; the message ends with its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _log_tail(log) -> str:
    log.seek(0)
    return log.read()[-3000:]


def _wait_healthy(base: str, process: subprocess.Popen, log, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AppServerError(f"streamlit exited early:\n{_log_tail(log)}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AppServerError(f"streamlit did not become healthy in {timeout_s} s:\n{_log_tail(log)}")


@contextlib.contextmanager
def running_app(
    env: dict[str, str], *, timeout_s: float = START_TIMEOUT_S
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Serve the app with this process's environment minus every DATABASE_* variable, plus `env`;
    yield (base URL, process) once it is healthy, and always stop it."""
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")} | env
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", "serve.py", "--server.port", str(port)]
    command += ["--server.headless", "true", "--server.address", "127.0.0.1"]
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=child_env, stdout=log, stderr=subprocess.STDOUT
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(base, process, log, timeout_s)
            yield base, process
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=20)
