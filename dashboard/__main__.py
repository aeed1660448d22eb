"""Command line: `python -m dashboard up|demo|install|refresh|check|hash-password|bench`.

Every command exits non-zero with one readable line when the database cannot be used.
"""

from __future__ import annotations

import argparse
import sys
import time

import sqlalchemy as sa

from dashboard import db, embedded
from dashboard.config import ConfigError, load_settings, redact_url


class CliError(Exception):
    pass


def parse_scale(text: str) -> int:
    """'200000', '200k', '10m' -> number of messages."""
    cleaned = text.strip().lower().replace("_", "").replace(",", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(cleaned[-1:], 1)
    digits = cleaned[:-1] if factor > 1 else cleaned
    try:
        value = int(float(digits) * factor)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a scale like 200000, 200k or 10m") from None
    if value < 1_000:
        raise argparse.ArgumentTypeError("the scale must be at least 1,000 messages")
    return value


def _target_url(settings) -> str:
    """The database this command works on: DATABASE_URL, or the embedded one (started here)."""
    if settings.embedded:
        return embedded.prepare_demo_database(settings.data_dir, scale=settings.demo_scale)
    return settings.database_url


def _require_connection(url: str) -> None:
    engine = db.admin_engine(url)
    try:
        health = db.check_connection(engine)
    finally:
        engine.dispose()
    if not health.ok:
        raise CliError(health.message)


def cmd_up(args, settings) -> None:
    """Start the embedded database and load the demo on first use (what `make run` does first)."""
    if not settings.embedded:
        _require_connection(settings.database_url)
        print(f"Using DATABASE_URL {redact_url(settings.database_url)}; nothing to start.")
        return
    from dashboard.auth import DEMO_CREDENTIALS_FILE, ensure_demo_accounts

    started = time.perf_counter()
    url = embedded.prepare_demo_database(settings.data_dir, scale=settings.demo_scale)
    print(f"Embedded database ready in {time.perf_counter() - started:.1f} s: {redact_url(url)}")
    accounts = ensure_demo_accounts(settings.data_dir)
    print(f"Demo accounts (kept in {settings.data_dir / DEMO_CREDENTIALS_FILE}):")
    for role, account in accounts.items():
        print(f"  {role:<6}  username {account['username']!r}  password {account['password']!r}")


def cmd_demo(args, settings) -> None:
    """(Re)load the deterministic demo data into the embedded database."""
    if not settings.embedded:
        raise CliError(
            "DATABASE_URL is set: the demo loads only into the embedded database, never into Lillo's. "
            "Unset DATABASE_URL to use it."
        )
    from dashboard import demo
    from dashboard.install import apply_lillo_schema

    data_dir = args.data_dir or settings.data_dir
    server = embedded.start_server(data_dir / "pg")
    url = embedded.ensure_database(server, embedded.DEMO_DATABASE)
    engine = db.admin_engine(url)
    try:
        started = time.perf_counter()
        apply_lillo_schema(engine)
        summary = demo.load_demo(engine, scale=args.scale, seed=args.seed, progress=print)
        print(f"Loaded {summary} in {time.perf_counter() - started:.1f} s into {redact_url(url)}")
    finally:
        engine.dispose()


def cmd_install(args, settings) -> None:
    """Install the dashboard's own objects (schema lillo_dash) into the target database."""
    from dashboard.install import install_dashboard_objects

    url = _target_url(settings)
    _require_connection(url)
    engine = db.admin_engine(url)
    try:
        applied = install_dashboard_objects(engine)
        print(f"Installed {len(applied)} file(s) into {redact_url(url)}: {', '.join(applied)}")
        from dashboard import rollups

        print(f"Built the rollups: {rollups.refresh(engine)}")
    finally:
        engine.dispose()


def cmd_refresh(args, settings) -> None:
    """Bring the rollups up to date (`--full` rebuilds them, e.g. after rows were deleted)."""
    from dashboard import rollups

    url = _target_url(settings)
    _require_connection(url)
    engine = db.admin_engine(url)
    try:
        with engine.connect() as conn:
            installed = conn.execute(sa.text("select to_regclass('lillo_dash.refresh_state')")).scalar()
        if installed is None:
            raise CliError("The rollups are not installed: run `python -m dashboard install` first.")
        print(rollups.refresh(engine, full=args.full))
    finally:
        engine.dispose()


def cmd_check(args, settings) -> None:
    """Connect, and report which of Lillo's tables exist."""
    import sqlalchemy as sa

    from dashboard.live_schema import ESSENTIAL_TABLES, introspect

    url = _target_url(settings)
    _require_connection(url)
    engine = db.admin_engine(url)
    try:
        with engine.connect() as conn:
            schema = introspect(conn)
            version = conn.execute(sa.text("show server_version")).scalar_one()
    finally:
        engine.dispose()
    print(f"Connected to PostgreSQL {version} at {redact_url(url)}")
    missing = schema.missing_lillo_tables
    if any(table in missing for table in ESSENTIAL_TABLES):
        raise CliError(
            f"The database has no Lillo tables (missing: {', '.join(missing)}). "
            "Check that DATABASE_URL points at Lillo's database."
        )
    if missing:
        print(f"Missing tables (their widgets show a notice): {', '.join(missing)}")
    else:
        print("All eight Lillo tables are present.")


def cmd_hash_password(args, settings) -> None:
    """Read a password (twice, not echoed) and print its argon2 hash for .streamlit/secrets.toml."""
    import getpass

    from dashboard.auth import hash_password

    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise CliError("the two passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    if len(password) < 12:
        raise CliError("use a password of at least 12 characters")
    print(hash_password(password))


def cmd_bench(args, settings) -> None:
    """Measure views, pages and server memory on a scale data set kept in data/bench-<scale>."""
    from dashboard import bench

    try:
        checks = bench.run(
            args.scale,
            data_dir=settings.data_dir,
            json_path=args.json,
            skip_server=args.skip_server,
            load_sessions=args.load_sessions,
            load_seconds=args.load_seconds,
        )
    except bench.BenchError as error:
        raise CliError(str(error)) from error
    failed = [check.budget for check in checks if check.ok is False]
    if failed and args.check:
        raise CliError(f"{len(failed)} budget(s) failed: {'; '.join(failed)}")


def build_parser() -> argparse.ArgumentParser:
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="python -m dashboard", description="Lillo Dashboard tools")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help=cmd_up.__doc__).set_defaults(run=cmd_up)
    demo = commands.add_parser("demo", help=cmd_demo.__doc__)
    demo.add_argument("--scale", type=parse_scale, default=200_000, help="messages, e.g. 200k or 10m")
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--data-dir", type=Path, default=None, help="where the embedded server keeps its data")
    demo.set_defaults(run=cmd_demo)
    commands.add_parser("install", help=cmd_install.__doc__).set_defaults(run=cmd_install)
    commands.add_parser("check", help=cmd_check.__doc__).set_defaults(run=cmd_check)
    commands.add_parser("hash-password", help=cmd_hash_password.__doc__).set_defaults(run=cmd_hash_password)
    refresh = commands.add_parser("refresh", help=cmd_refresh.__doc__)
    refresh.add_argument("--full", action="store_true", help="rebuild the rollups from scratch")
    refresh.set_defaults(run=cmd_refresh)
    bench = commands.add_parser("bench", help=cmd_bench.__doc__)
    bench.add_argument("--scale", type=parse_scale, default=10_000_000, help="messages: 10m, 1m or 200k")
    bench.add_argument("--json", type=Path, default=None, help="default bench/results/bench-<scale>.json")
    bench.add_argument("--skip-server", action="store_true", help="skip the served-app runs: memory, load")
    bench.add_argument("--load-sessions", type=int, default=None, help="load run sessions (30; 0 skips)")
    bench.add_argument("--load-seconds", type=float, default=None, help="length of the load run (120 s)")
    bench.add_argument("--check", action="store_true", help="exit 1 when a budget fails")
    bench.set_defaults(run=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args, load_settings())
    except (CliError, ConfigError, db.DatabaseUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
