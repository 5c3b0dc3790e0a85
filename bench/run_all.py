"""All benchmarks in one table: each figure next to a baseline measured in the same run.

Usage: PYTHONPATH=. python bench/run_all.py [--quick] [--postgres URL] [--only NAME,...]

Each part is a bench module with ``figures(quick, postgres)`` (see bench/figures.py); every
figure is timed interleaved with its baseline, round by round, so a machine that slows down
mid-run slows both sides. The parts:

- ``parse``: text pages, MB/s, vs a minimal correct parser (bench/bench_parse.py);
- ``ingest``: real pages stored one transaction per page vs raw DB-API executemany of the same
  rows into a scratch store made by the product's own migrations; one day's ingest with 1M
  papers stored vs 10k (bench/bench_ingest.py);
- ``feeds``: ``paperboy feeds`` vs feedgen rendering the same items, and a run with nothing new,
  on stores of real papers (bench/bench_feeds.py);
- ``emails``: delivery to a local aiosmtpd sink vs a plain smtplib loop sending the same
  messages, and rendering every subscriber's email vs jinja2 alone on the same templates
  (bench/bench_emails.py).

``--quick`` runs smaller sizes (a smoke run of a few minutes). PostgreSQL is used only when
``--postgres URL`` is given: the parts then create and use their own databases on that server
and never touch anything else. Peak memory is the process's ru_maxrss.
"""

from __future__ import annotations

import argparse
import importlib
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from figures import Figure, table

PARTS = {
    "parse": "bench_parse",
    "ingest": "bench_ingest",
    "feeds": "bench_feeds",
    "emails": "bench_emails",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument(
        "--postgres",
        default=None,
        metavar="URL",
        help="also measure on this PostgreSQL server (e.g. postgresql+psycopg://postgres@"
        "127.0.0.1:5432/postgres); each part creates its own database there",
    )
    parser.add_argument("--only", default=",".join(PARTS), help=f"parts, from {','.join(PARTS)}")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in PARTS]
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    rows: list[Figure] = []
    for name in chosen:
        started = time.perf_counter()
        print(f"== {name}", file=sys.stderr, flush=True)
        module = importlib.import_module(PARTS[name])
        rows.extend(module.figures(args.quick, args.postgres))
        print(f"== {name}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows.append(Figure("peak memory (whole run, ru_maxrss)", f"{peak:.0f} MiB", "", None, "", None))
    print()
    print(table(rows))
    missed = [row.name for row in rows if row.met is False]
    if missed:
        print(f"\n{len(missed)} goal(s) not met: {'; '.join(missed)}")


if __name__ == "__main__":
    main()
