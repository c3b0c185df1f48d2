"""The pgpkg command line. Each command is one call into pgpkg's Python API (and so into SQL)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from pgpkg import embedded, errors


def _print(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str))


def _cmd_install(args: argparse.Namespace) -> Any:
    from pgpkg.install import install

    return install(args.dsn)


def _cmd_uninstall(args: argparse.Namespace) -> Any:
    from pgpkg.install import uninstall

    return uninstall(args.dsn)


def _cmd_status(args: argparse.Namespace) -> Any:
    from pgpkg.install import status

    return status(args.dsn)


def _cmd_db(args: argparse.Namespace) -> Any:
    if args.action == "start":
        return {"url": embedded.start(), "data_dir": str(embedded.data_dir())}
    if args.action == "stop":
        return {"stopped": embedded.stop()}
    return embedded.url()


def _cmd_ingest(args: argparse.Namespace) -> Any:
    from pgpkg.ingest import ingest, print_progress

    summary = ingest(args.file, args.dsn, fmt=args.format, batch_size=args.batch_size, progress=print_progress)
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    return summary.as_dict()


def _cmd_demo(args: argparse.Namespace) -> Any:
    from pgpkg.demo import run

    return run(args.dsn, events=args.events)


def _cmd_bench(args: argparse.Namespace) -> Any:
    from pgpkg import bench

    if args.rollups:
        return bench.run_rollups(args.dsn, events=args.events, day_events=args.day_events)
    if args.reads:
        return bench.run_reads(args.dsn, events=args.events)
    return bench.run(args.dsn, events=args.events, batch_size=args.batch_size)


def _cmd_refresh(args: argparse.Namespace) -> Any:
    from pgpkg.maintenance import refresh

    return refresh(args.dsn, args.max_buckets)


def _cmd_aggregate(args: argparse.Namespace) -> Any:
    from pgpkg.maintenance import aggregate

    return aggregate(args.dsn, args.day)


def _cmd_backfill(args: argparse.Namespace) -> Any:
    from pgpkg.maintenance import backfill, print_progress

    result = backfill(args.from_day, args.to_day, args.dsn, progress=print_progress)
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    return result


def _cmd_cleanup(args: argparse.Namespace) -> Any:
    from pgpkg.maintenance import cleanup

    return cleanup(args.dsn)


def _cmd_jobs(args: argparse.Namespace) -> Any:
    from pgpkg import maintenance

    if args.action == "schedule":
        return maintenance.schedule_jobs(args.dsn)
    if args.action == "unschedule":
        return maintenance.unschedule_jobs(args.dsn)
    if args.action == "status":
        return maintenance.job_status(args.dsn)
    return maintenance.run_jobs(args.dsn, args.names or None)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pgpkg",
        description="Postgres-native event analytics. Database: --dsn, else DATABASE_URL, "
        "else the embedded default cluster (pgpkg db start).",
    )
    parser.add_argument("--dsn", help="libpq connection string or URL of the database")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("install", help="apply migrations and (re)apply functions, views and grants").set_defaults(
        run=_cmd_install
    )
    commands.add_parser("uninstall", help="roll back every migration (drops the analytics schema)").set_defaults(
        run=_cmd_uninstall
    )
    commands.add_parser("status", help="migrations, partitions with rows and sizes, jobs, pg_cron").set_defaults(
        run=_cmd_status
    )

    db_parser = commands.add_parser("db", help="the embedded default cluster")
    db_parser.add_argument("action", choices=["start", "stop", "url"])
    db_parser.set_defaults(run=_cmd_db)

    ingest_parser = commands.add_parser("ingest", help="stream NDJSON, a JSON array or CSV into analytics.events")
    ingest_parser.add_argument("file")
    ingest_parser.add_argument("--format", choices=["ndjson", "json", "csv"], help="default: by file extension")
    ingest_parser.add_argument("--batch-size", type=int, default=5000)
    ingest_parser.set_defaults(run=_cmd_ingest)

    refresh_parser = commands.add_parser("refresh", help="roll up every marked bucket, then refresh the views")
    refresh_parser.add_argument("--max-buckets", type=int, help="buckets per refresh_rollups() call")
    refresh_parser.set_defaults(run=_cmd_refresh)

    aggregate_parser = commands.add_parser("aggregate", help="finalise one day's daily tables (default: yesterday)")
    aggregate_parser.add_argument("--day", type=date.fromisoformat, help="YYYY-MM-DD")
    aggregate_parser.set_defaults(run=_cmd_aggregate)

    backfill_parser = commands.add_parser("backfill", help="rebuild every rollup of a range of days from raw events")
    backfill_parser.add_argument("from_day", type=date.fromisoformat, help="YYYY-MM-DD")
    backfill_parser.add_argument("to_day", type=date.fromisoformat, help="YYYY-MM-DD")
    backfill_parser.set_defaults(run=_cmd_backfill)

    commands.add_parser("cleanup", help="apply the retention settings (drops expired partitions)").set_defaults(
        run=_cmd_cleanup
    )

    jobs_parser = commands.add_parser("jobs", help="pg_cron jobs: schedule, unschedule, status, run [NAME...]")
    jobs_parser.add_argument("action", choices=["schedule", "unschedule", "status", "run"])
    jobs_parser.add_argument("names", nargs="*", help="with run: the jobs to run (default: all, in order)")
    jobs_parser.set_defaults(run=_cmd_jobs)

    demo_parser = commands.add_parser("demo", help="install, send sample events over RPC, print what landed")
    demo_parser.add_argument("--events", type=int, default=2000)
    demo_parser.set_defaults(run=_cmd_demo)

    bench_parser = commands.add_parser(
        "bench", help="measure ingest rates against COPY, rollups or read latency, in a scratch database"
    )
    bench_parser.add_argument("--events", type=int, default=200_000)
    bench_parser.add_argument("--batch-size", type=int, default=1000)
    bench_parser.add_argument(
        "--rollups",
        action="store_true",
        help="instead: refresh_rollups() after 10k new events with --events stored, daily "
        "aggregation of a --day-events day, cleanup() against DELETE",
    )
    bench_parser.add_argument("--day-events", type=int, default=1_000_000, help="with --rollups")
    bench_parser.add_argument(
        "--reads",
        action="store_true",
        help="instead: the latency of every read function over --events events (30 days, one project), "
        "called as a reader over RPC",
    )
    bench_parser.set_defaults(run=_cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        _print(args.run(args))
    except errors.PgpkgError as error:
        print(f"pgpkg: error{f' {error.sqlstate}' if error.sqlstate else ''}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
