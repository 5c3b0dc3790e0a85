"""CLI start-up time (issue 11): `paperboy --help`, `config` and a no-op `check` vs bare click.

Usage: python bench/bench_cli.py [--rounds N] [--before DIR]

Every figure is a fresh process, timed from spawn to exit, and measured interleaved with the
baseline `python -c "import click"`: each round runs the baseline and every figure once, in an
order rotated per round, so load on the (2-core, shared) machine hits both alike. A figure's
ratio is the median of its per-round ratios (figure run / baseline run of the same round), with
the 25th-75th percentile as spread; the goal of the issue is `paperboy --help` <= 4x baseline.

The checkout this file lives in is measured (PYTHONPATH points at it), through
`python -m pipeline` and through the installed console script (`<python's bin>/paperboy`,
called directly, not through a pyenv shim) when it exists. `check` and `config` run on a SQLite
store made at head beforehand (one sample page ingested), so their start-up migrates nothing.
`--before DIR` adds `--help` and `check` figures for another checkout (e.g. an older commit
unpacked with `git archive`), measured in the same rounds.

Also printed: what `python -X importtime` shows for `--help` (the largest imports) and whether
the no-op `check` imports alembic (and how long those imports take).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "pages" / "page-a.txt"
GOAL = 4.0  # paperboy --help may cost at most 4x `python -c "import click"`


def spawn_seconds(argv: Sequence[str], env: dict[str, str]) -> float:
    """Wall time of one process from spawn to exit (it must succeed)."""
    start = time.perf_counter()
    done = subprocess.run(
        argv, env=env, cwd=env["BENCH_CWD"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.decode(errors='replace')}")
    return elapsed


def quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def environment(pythonpath: Path, store: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOY_")}
    env["PYTHONPATH"] = str(pythonpath)
    env["PAPERBOY_DATABASE_URL"] = f"sqlite:///{store / 'paperboy.db'}"
    env["PAPERBOY_OUTPUT_DIR"] = str(store / "out")
    store.mkdir(parents=True, exist_ok=True)
    env["BENCH_CWD"] = str(store)  # not the checkout: `python -m` puts the cwd first on sys.path
    return env


def make_store(env: dict[str, str]) -> None:
    """A SQLite store at head with one page: later `check` runs are no-op start-ups."""
    py = sys.executable
    for argv in ([py, "-m", "pipeline", "init"], [py, "-m", "pipeline", "ingest", str(SAMPLE)]):
        subprocess.run(argv, env=env, cwd=env["BENCH_CWD"], check=True, capture_output=True)


def importtime(argv: Sequence[str], env: dict[str, str]) -> list[tuple[int, int, str]]:
    """(self µs, cumulative µs, indented name) per import of ``python -X importtime argv``."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *argv],
        env=env,
        cwd=env["BENCH_CWD"],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative, name = line.removeprefix("import time:").split("|", 2)
        rows.append((int(self_us), int(cumulative), name.rstrip()))
    return rows


def top_level(rows: list[tuple[int, int, str]]) -> list[tuple[int, str]]:
    """Imports made directly by the program (not nested), by cumulative µs, largest first."""
    outer = [(cum, name.strip()) for _s, cum, name in rows if not name.startswith("  ")]
    return sorted(outer, reverse=True)


def package_us(rows: list[tuple[int, int, str]], package: str) -> tuple[int, int]:
    """(modules of ``package`` imported, µs spent importing it): the cumulative time of its
    outermost imports, so modules first loaded because of it (e.g. the PostgreSQL dialect
    through alembic.ddl) count too."""

    def depth(name: str) -> int:
        return len(name) - len(name.lstrip(" "))

    def belongs(name: str) -> bool:
        return name.strip().split(".")[0] == package

    count = total = 0
    for i, (_self_us, cumulative, name) in enumerate(rows):
        if not belongs(name):
            continue
        count += 1
        # -X importtime prints a module after the ones it imported: the parent comes later
        parent = next((n for _s, _c, n in rows[i + 1 :] if depth(n) < depth(name)), None)
        if parent is None or not belongs(parent):
            total += cumulative
    return count, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="interleaved rounds (default 30)")
    parser.add_argument("--before", type=Path, help="another checkout to measure alongside")
    args = parser.parse_args()

    py = sys.executable
    script = Path(py).parent / "paperboy"
    with tempfile.TemporaryDirectory(prefix="paperboy-bench-cli-") as tmp:
        env = environment(ROOT, Path(tmp) / "now")
        make_store(env)
        figures: dict[str, tuple[list[str], dict[str, str]]] = {
            "python -m pipeline --help": ([py, "-m", "pipeline", "--help"], env),
        }
        if script.exists():
            figures["paperboy --help (console script)"] = ([str(script), "--help"], env)
        figures["paperboy config"] = ([py, "-m", "pipeline", "config"], env)
        figures["paperboy check (store at head)"] = ([py, "-m", "pipeline", "check"], env)
        if args.before:
            before_env = environment(args.before.resolve(), Path(tmp) / "before")
            make_store(before_env)
            figures["before: python -m pipeline --help"] = (
                [py, "-m", "pipeline", "--help"],
                before_env,
            )
            figures["before: paperboy check (store at head)"] = (
                [py, "-m", "pipeline", "check"],
                before_env,
            )
        figures["floor of a store command: python -c 'import sqlmodel'"] = (
            [py, "-c", "import sqlmodel"],
            env,
        )
        baseline = [py, "-c", "import click"]

        for argv, fig_env in figures.values():  # warm the page cache and .pyc files
            spawn_seconds(argv, fig_env)
        spawn_seconds(baseline, env)

        runs: dict[str, list[float]] = {name: [] for name in figures}
        base_runs: dict[str, list[float]] = {name: [] for name in figures}
        names = list(figures)
        for round_no in range(args.rounds):
            shift = round_no % len(names)
            for name in names[shift:] + names[:shift]:
                argv, fig_env = figures[name]
                if round_no % 2:  # alternate which of the pair goes first
                    runs[name].append(spawn_seconds(argv, fig_env))
                    base_runs[name].append(spawn_seconds(baseline, env))
                else:
                    base_runs[name].append(spawn_seconds(baseline, env))
                    runs[name].append(spawn_seconds(argv, fig_env))

        print(f"{args.rounds} interleaved rounds, {os.cpu_count()} cores, load {os.getloadavg()}")
        print(f"baseline: {' '.join(baseline)}\n")
        header = ("figure", "paperboy ms", "baseline ms", "ratio (p25-p75)", "goal", "met")
        table = [header]
        for name in names:
            ratios = [a / b for a, b in zip(runs[name], base_runs[name], strict=True)]
            ratio = statistics.median(ratios)
            is_help = "--help" in name
            goal = f"<= {GOAL:g}x" if is_help else "-"
            met = ("yes" if ratio <= GOAL else "no") if is_help else "-"
            table.append(
                (
                    name,
                    f"{statistics.median(runs[name]) * 1000:.0f}",
                    f"{statistics.median(base_runs[name]) * 1000:.0f}",
                    f"{ratio:.2f}x ({quantile(ratios, 0.25):.2f}-{quantile(ratios, 0.75):.2f})",
                    goal,
                    met,
                )
            )
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        for row in table:
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))

        help_rows = importtime(["-m", "pipeline", "--help"], env)
        print("\nlargest imports of `python -m pipeline --help` (-X importtime, cumulative):")
        for cumulative, name in top_level(help_rows)[:8]:
            print(f"  {cumulative / 1000:7.1f} ms  {name}")
        click_rows = importtime(["-c", "import click"], env)
        extra = sorted(
            {name.strip() for *_, name in help_rows} - {name.strip() for *_, name in click_rows}
        )
        print(f"modules --help loads beyond `import click`: {', '.join(extra)}")

        for label, fig_env in [("now", env)] + ([("before", before_env)] if args.before else []):
            check_rows = importtime(["-m", "pipeline", "check"], fig_env)
            count, import_us = package_us(check_rows, "alembic")
            print(
                f"no-op `paperboy check` ({label}): {count} alembic modules imported, "
                f"{import_us / 1000:.1f} ms importing them (cumulative, -X importtime)"
            )
    if shutil.which("paperboy") and shutil.which("paperboy") != str(script):
        print(f"(`paperboy` on PATH is {shutil.which('paperboy')}; measured {script} directly)")


if __name__ == "__main__":
    main()
