"""`python -m dashboard.export_probe URL ROWS`: download the busiest chat's transcript as CSV from
a running server, the way a person does, and print as JSON how much that raised the server's
resident memory. The benchmark runs it (see bench.export_memory).

The server is `streamlit run serve.py` on URL with the row cap set to ROWS (the transcript's export
takes as many rows as the cap allows). A bench admin signs in and opens the transcript in headless
Chromium; the probe then follows the page's 'Download CSV' link with the browser's cookie and
Accept-Encoding, reading the answer as it comes and counting its rows. Memory is the server's peak
resident size during the download (the kernel's high-water mark, reset just before) minus its size
just before.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import sys
import threading
import time
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path

READ_BYTES = 2**20


def _rss_bytes(pid: int) -> int:
    import psutil

    root = psutil.Process(pid)
    return sum(p.memory_info().rss for p in (root, *root.children(recursive=True)))


@contextlib.contextmanager
def peak_rss_rise(pid: int) -> Iterator[dict]:
    """Yields a dict that holds, after the block, `rise_bytes`: the process's peak resident size
    during the block minus its size before. The kernel keeps the peak (VmHWM) once it is reset
    through clear_refs; where that is not allowed, RSS is sampled every 20 ms instead."""
    found: dict = {}
    status = Path(f"/proc/{pid}/status")
    baseline = _rss_bytes(pid)
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        kernel_peak = True
    except OSError:
        kernel_peak = False
    sampled = [baseline]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            sampled.append(_rss_bytes(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield found
    finally:
        done.set()
        sampler.join()
    peak = max(sampled)
    if kernel_peak:
        line = next(x for x in status.read_text().splitlines() if x.startswith("VmHWM:"))
        peak = max(peak, int(line.split()[1]) * 1024)
    found["rise_bytes"] = max(peak - baseline, 0)
    found["method"] = "VmHWM" if kernel_peak else "sampled every 20 ms"


def _decoded(response) -> Iterator[bytes]:
    gzip = response.headers.get("Content-Encoding") == "gzip"
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzip else None
    while block := response.read(READ_BYTES):
        yield inflate.decompress(block) if inflate else block
    if inflate:
        yield inflate.flush()


class _Counted(io.RawIOBase):
    """The decoded body as a file, counting its bytes."""

    def __init__(self, blocks: Iterator[bytes]):
        self.blocks, self.pending, self.n_bytes = blocks, b"", 0

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        while not self.pending:
            self.pending = next(self.blocks, None)
            if self.pending is None:
                self.pending = b""
                return 0
            self.n_bytes += len(self.pending)
        size = min(len(target), len(self.pending))
        target[:size], self.pending = self.pending[:size], self.pending[size:]
        return size


def download(link: str, cookie_header: str) -> dict:
    """Rows, the name the server gives the file, and its size, read as the answer streams."""
    request = urllib.request.Request(link, headers={"Cookie": cookie_header, "Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=600) as response:
        disposition = response.headers.get("Content-Disposition", "")
        body = _Counted(_decoded(response))
        text = io.TextIOWrapper(io.BufferedReader(body, READ_BYTES), encoding="utf-8-sig", newline="")
        records = (r for r in csv.reader(text) if not (r and r[0].startswith("# ")))
        next(records)  # the header
        n_rows = sum(1 for _ in records)
    return {"rows": n_rows, "file_mb": round(body.n_bytes / 2**20, 1), "disposition": disposition}


def _transcript_link(base: str, chat_id: int, account: dict[str, str]) -> tuple[str, str]:
    """(the transcript's CSV link, the signed-in browser's Cookie header)."""
    from playwright.sync_api import sync_playwright

    from dashboard import app_server, bench

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=app_server.CHROMIUM, args=app_server.CHROMIUM_FLAGS, headless=True
        )
        try:
            tab = browser.new_page()
            bench.sign_in(tab, base, account)
            tab.wait_for_function("() => document.cookie.includes('lillo_dash_session=')", timeout=30_000)
            tab.goto(f"{base}/conversations?chat={chat_id}", timeout=60_000)
            anchor = tab.locator(".st-key-csv-chat_transcript a").first
            anchor.wait_for(timeout=bench.PAGE_RENDER_TIMEOUT_MS)
            link = base + anchor.get_attribute("href")
            cookies = "; ".join(f"{c['name']}={c['value']}" for c in tab.context.cookies(base))
        finally:
            browser.close()
    return link, cookies


def main(url: str, rows: int) -> dict:
    from dashboard import app_server, bench, db

    if not Path(app_server.CHROMIUM).exists():
        raise SystemExit(f"{app_server.CHROMIUM} is missing: the probe signs in with Debian's chromium")
    engine = db.admin_engine(url)
    chat_id = bench.busiest_chat(engine)["chat_id"]
    engine.dispose()
    env = {"DATABASE_URL": url, "DASHBOARD_EXPORT_ROW_CAP": str(rows)}
    with bench.bench_admin() as admin, app_server.running_app(env) as (base, process):
        link, cookies = _transcript_link(base, chat_id, admin)
        time.sleep(2)  # let the server settle after the page render
        with peak_rss_rise(process.pid) as memory:
            started = time.perf_counter()
            found = download(link, cookies)
            elapsed = time.perf_counter() - started
    return {
        "rows": found["rows"],
        "file_mb": found["file_mb"],
        "seconds": round(elapsed, 1),
        "rss_increase_mb": round(memory["rise_bytes"] / 2**20, 1),
        "chat_id": chat_id,
        "measured": f"server peak RSS ({memory['method']}) over the download",
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]))))
