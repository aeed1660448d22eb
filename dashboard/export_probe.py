"""`python -m dashboard.export_probe URL ROWS`: export the newest ROWS messages of the busiest chat
to CSV through the app's own export path, in a fresh process, and print as JSON how much that
raised the process's peak resident memory. The benchmark runs it (see bench.export_memory)."""

from __future__ import annotations

import csv
import io
import json
import os
import resource
import sys
import time


def main(url: str, rows: int) -> dict:
    os.environ["DATABASE_URL"] = url
    os.environ.pop("DATABASE_READ_URL", None)
    import psutil
    import sqlalchemy as sa

    from dashboard import db, export, runtime, transcript

    runtime.live_schema()  # the connection pool and schema, as a running server has them
    engine = db.admin_engine(url)
    with engine.connect() as conn:
        chat_id = conn.execute(
            sa.text("select chat_id from chat_messages group by chat_id order by count(*) desc limit 1")
        ).scalar()
    engine.dispose()
    baseline = psutil.Process().memory_info().rss
    started = time.perf_counter()
    params = {"chat_id": chat_id, "agent_ids": [], "tz": "UTC", "limit": rows} | transcript.NEWEST
    data = export.export_view("chat_transcript", params, {"chat": str(chat_id)}, row_cap=rows)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
    lines = data.decode("utf-8-sig").split("\n")
    body = "\n".join(line for line in lines if not line.startswith("# "))
    n_rows = sum(1 for _ in csv.reader(io.StringIO(body))) - 1  # the header
    return {
        "rows": n_rows,
        "file_mb": round(len(data) / 2**20, 1),
        "seconds": round(elapsed, 1),
        "rss_increase_mb": round(max(peak - baseline, 0) / 2**20, 1),
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]))))
