"""Parse: saved text pages through paperboy's parser vs a minimal correct parser, interleaved.

Run from the repository root:
    python bench/bench_parse.py [--quick] [--pages 40] [--papers 60] [--rounds 15]

The corpus is the three real saved pages in examples/pages/ plus ``--pages`` pages of
``--papers`` papers shaped like them: the real header and date line, real titles, and abstracts
made from the real ones (1,000-1,900 characters, their sentences reshuffled per page so no two
pages are equal; links and punctuation as written).

The baseline, :func:`minimal_parse`, is the simplest code that yields the same Page for these
pages: split the whole text at blank lines, take the first block that is a date as the listing
date, clean each following block and pair them title / abstract. It uses the product's own text
hygiene (``clean_text``, ``extract_links``, ``content_hash``), which define what the records
hold, so the ratio measures the parser around them (header walk, block handling, checks and
errors paperboy adds). Its output is asserted equal to paperboy's outside the timer.
MB/s is the corpus's UTF-8 size over the median seconds of a round (see :func:`measure`).
"""

from __future__ import annotations

import argparse
import itertools
import random
import re
import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from figures import Figure, at_most, interleaved, median, table  # noqa: E402

from pipeline.identity import clean_text, extract_links  # noqa: E402
from pipeline.ingest.parse.common import content_hash, infer_year  # noqa: E402
from pipeline.ingest.parse.text_page import parse_text_page  # noqa: E402
from pipeline.records import Page, ParsedPaper  # noqa: E402

TODAY = date(2026, 11, 23)
SAMPLES = ROOT / "examples" / "pages"
HEADER = (
    "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\n"
    "byAK and the research community\n\n"
)
GOAL_MB_S = 50.0
GOAL_RATIO = 1.2

_BLANK = re.compile(r"\n[ \t]*\n")
_DATE = re.compile(r"([A-Za-z]{3})[a-z]*\.? (\d{1,2})(?:, (\d{4}))?")
_MONTHS = {m: n for n, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_SENTENCE = re.compile(r"(?<=[.!?]) (?=[A-Z])")


def _date_block(blocks: list[str]) -> tuple[int, re.Match[str]]:
    for index, block in enumerate(blocks):
        match = _DATE.fullmatch(block.strip())
        if match and match.group(1).lower() in _MONTHS:
            return index, match
    raise ValueError("no date line")


def minimal_parse(text: str, *, origin: str, source: str, today: date) -> Page:
    """A minimal correct parser for the corpus's pages (see the module docstring)."""
    blocks = _BLANK.split(text)
    index, match = _date_block(blocks)
    month, day = _MONTHS[match.group(1).lower()], int(match.group(2))
    year = match.group(3)
    listing = date(int(year), month, day) if year else infer_year(month, day, today=today)
    papers: list[ParsedPaper] = []
    title = None
    for block in blocks[index + 1 :]:
        block = clean_text(block)
        if not block:
            continue
        if title is None:
            title = block
        else:
            paper = ParsedPaper(title, block, len(papers) + 1, links=extract_links(block))
            papers.append(paper)
            title = None
    found = tuple(papers)
    return Page(source, origin, listing, found, content_hash(found))


def corpus(pages: int, papers: int) -> list[str]:
    """The real saved pages plus ``pages`` generated pages shaped like them (seeded)."""
    real = [path.read_text(encoding="utf-8") for path in sorted(SAMPLES.glob("*.txt"))]
    entries = [
        (paper.title, paper.abstract)
        for index, body in enumerate(real)
        for paper in parse_text_page(body, origin=f"real{index}", source="s", today=TODAY).papers
    ]
    rng = random.Random(14)
    generated = []
    for number in range(pages):
        day = TODAY - timedelta(days=number + 1)
        blocks = []
        for title, abstract in rng.sample(entries, min(papers, len(entries))):
            sentences = _SENTENCE.split(abstract)
            rng.shuffle(sentences)
            blocks.append(f"{title}\n\n{' '.join(sentences)}\n\n")
        generated.append(f"{HEADER}{day:%b} {day.day}\n\n{''.join(blocks)}")
    return real + generated


def measure(pages: list[str], rounds: int) -> tuple[float, float, int]:
    """(paperboy's median seconds, the minimal parser's, corpus bytes) for the whole corpus.

    Interleaved page by page, not corpus by corpus: a page is parsed by one parser, then by the
    other, then again in the other order, so a burst of load on this shared machine hits both
    sides alike. One round parses every page twice with each; its time is halved.
    """
    named = [(f"page-{index}.txt", page) for index, page in enumerate(pages)]
    ours = [parse_text_page(page, origin=name, source="b", today=TODAY) for name, page in named]
    base = [minimal_parse(page, origin=name, source="b", today=TODAY) for name, page in named]
    if ours != base:
        raise AssertionError("the minimal parser and paperboy disagree on the corpus")

    def page_by_page(parse: Callable[..., Page]) -> Callable[[], None]:
        turns = itertools.count()

        def parse_next() -> None:  # call k parses page k // 2: twice, in both orders
            name, page = named[next(turns) // 2 % len(named)]
            parse(page, origin=name, source="b", today=TODAY)

        return parse_next

    runs = {"paperboy": page_by_page(parse_text_page), "minimal": page_by_page(minimal_parse)}
    times = interleaved(runs, rounds * 2 * len(named))
    per_round = 2 * len(named)

    def round_seconds(values: list[float]) -> float:
        return median(
            [sum(values[i : i + per_round]) / 2 for i in range(0, len(values), per_round)]
        )

    size = sum(len(page.encode("utf-8")) for page in pages)
    return round_seconds(times["paperboy"]), round_seconds(times["minimal"]), size


def figures(quick: bool, postgres: str | None) -> list[Figure]:
    """Parse figures for bench/run_all.py (``postgres`` is not used: parsing is pure)."""
    del postgres
    del quick  # the full corpus takes seconds; a smaller one is too noisy for its 1.2x goal
    pages = corpus(pages=40, papers=60)
    return parse_figures(pages, rounds=15)


def parse_figures(pages: list[str], rounds: int) -> list[Figure]:
    ours, base, size = measure(pages, rounds)
    ours_mb_s, base_mb_s = size / 1e6 / ours, size / 1e6 / base
    what = f"{len(pages)} pages, {size / 1e6:.1f} MB"
    return [
        Figure(
            "parse text pages, MB/s",
            f"{ours_mb_s:.1f} MB/s",
            f"{base_mb_s:.1f} MB/s (minimal parser)",
            None,
            f">= {GOAL_MB_S:g} MB/s",
            ours_mb_s >= GOAL_MB_S,
        ),
        at_most(
            "parse vs minimal parser",
            f"{ours * 1e3:.1f} ms ({what})",
            f"{base * 1e3:.1f} ms",
            ratio=ours / base,
            limit=GOAL_RATIO,
        ),
    ]


def main() -> None:
    """Print the parse figures as a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 generated pages, 5 rounds")
    parser.add_argument("--pages", type=int, default=None, help="generated pages (default 40)")
    parser.add_argument("--papers", type=int, default=60, help="papers per generated page")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 15)")
    args = parser.parse_args()
    pages = args.pages if args.pages is not None else (10 if args.quick else 40)
    rounds = args.rounds if args.rounds is not None else (5 if args.quick else 15)
    print(table(parse_figures(corpus(pages, args.papers), rounds)))


if __name__ == "__main__":
    main()
