"""One benchmark figure: paperboy's number next to a baseline measured in the same run.

Every bench module that contributes to ``bench/run_all.py`` exposes
``figures(quick: bool, postgres: str | None) -> list[Figure]``; run_all prints them in one table
(figure, paperboy, baseline, ratio, goal, met). Times are taken interleaved with their baseline
(round by round, alternating), so a machine that slows down mid-run slows both sides.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """A measured figure. ``ratio`` is paperboy's cost over the baseline's (higher is worse)."""

    name: str
    paperboy: str
    baseline: str
    ratio: float | None
    goal: str  # e.g. "<= 2.0x"; empty when the figure has no goal
    met: bool | None  # None when there is no goal

    def row(self) -> tuple[str, ...]:
        ratio = "" if self.ratio is None else f"{self.ratio:.2f}x"
        met = "" if self.met is None else ("yes" if self.met else "NO")
        return (self.name, self.paperboy, self.baseline, ratio, self.goal, met)


def at_most(name: str, ours: str, base: str, ratio: float, limit: float) -> Figure:
    """A figure whose goal is a cost ratio of at most ``limit``."""
    return Figure(name, ours, base, ratio, f"<= {limit:g}x", ratio <= limit)


def interleaved(
    runs: Mapping[str, Callable[[], object]],
    rounds: int,
    *,
    setup: Callable[[], object] | None = None,
) -> dict[str, list[float]]:
    """Seconds per call of each function, measured round by round in alternating order."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for number in range(rounds):
        order = names if number % 2 == 0 else names[::-1]
        for name in order:
            if setup is not None:
                setup()
            start = time.perf_counter()
            runs[name]()
            times[name].append(time.perf_counter() - start)
    return times


def median(values: list[float]) -> float:
    return statistics.median(values)


def table(figures: list[Figure]) -> str:
    """The Markdown table run_all prints."""
    lines = [
        "| figure | paperboy | baseline (same run) | ratio | goal | met |",
        "|---|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(figure.row()) + " |" for figure in figures]
    return "\n".join(lines)
