"""Measure how well a topics file covers real Hugging Face daily papers (API JSON days).

Usage:
    python scripts/topic_coverage.py PATH... [--topics FILE] [--since DATE] [--before DATE]
        [--sample N --seed S [--topic SLUG] [--abstracts]] [--compare OLD_TOPICS]
        [--fail-under PCT]

PATH is a day file (``YYYY-MM-DD*.json``, the ``/api/daily_papers?date=`` answer) or a folder
searched recursively for them. Days are parsed with paperboy's own parser
(:mod:`pipeline.parse.hf_api`, strict like a live answer), so a malformed file is reported and
skipped. Prints per-topic counts, the share of distinct papers selected by at least one topic
(``--ignore`` a catch-all topic so it does not count), coverage per day of at least
``--min-day`` papers, and the titles no topic selects. ``--sample N --seed S`` draws N selected
papers per topic, reproducibly, to judge precision by hand (docs/topics.md). ``--compare FILE``
lists, per topic, the papers this topics file adds or drops against an older one, so a rule
change can be judged on exactly what it moves.

``like`` topics are scored like the store will: corpus statistics from every loaded paper, and
examples resolved among them by arXiv id or exact title. Not used by the tests.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.errors import ParseError
from pipeline.identity import fold_title
from pipeline.ingest.parse.hf_api import load_entries, parse_entries
from pipeline.records import ParsedPaper
from pipeline.similarity import (
    Likeness,
    build_likeness,
    corpus_stats,
    missing_examples,
    paper_text,
)
from pipeline.topics import Topic, TopicScore, like_examples, load_topics, score_topic

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Day:
    """One listing date and its papers."""

    listing_date: date
    papers: tuple[ParsedPaper, ...]


def day_files(paths: Iterable[Path]) -> list[Path]:
    """The JSON day files named or found (recursively) under ``paths``, in path order."""
    found: list[Path] = []
    for path in paths:
        found += sorted(path.rglob("*.json")) if path.is_dir() else [path]
    return found


def load_day(path: Path) -> Day | None:
    """Parse one day file; None (and a note on stderr) if it is not a valid API answer."""
    try:
        listing_date = date.fromisoformat(path.name[:10])
    except ValueError:
        print(f"skipped {path}: the name does not start with YYYY-MM-DD", file=sys.stderr)
        return None
    text = path.read_text(encoding="utf-8")
    try:
        items = load_entries(text, origin=str(path), listing_date=listing_date, lenient=False)
        return Day(listing_date, parse_entries(items, origin=str(path)))
    except ParseError as exc:
        print(f"skipped {exc}", file=sys.stderr)
        return None


def paper_key(paper: ParsedPaper) -> str:
    """Identity across days: the arXiv id, else the folded title."""
    return paper.arxiv_id or f"title:{fold_title(paper.title)}"


def distinct_papers(days: Sequence[Day]) -> list[ParsedPaper]:
    """Every paper once (the first listing wins), in day order."""
    seen: dict[str, ParsedPaper] = {}
    for day in days:
        for paper in day.papers:
            seen.setdefault(paper_key(paper), paper)
    return list(seen.values())


def make_likeness(topics: Sequence[Topic], papers: Sequence[ParsedPaper]) -> Likeness:
    """Like-topic inputs from the loaded papers, as the store would build them."""
    stats = corpus_stats(paper_text(p.title, p.abstract) for p in papers)
    texts: dict[str, str] = {}
    for paper in papers:
        text = paper_text(paper.title, paper.abstract)
        texts[paper.title] = text
        if paper.arxiv_id:
            texts[paper.arxiv_id] = text
    examples = like_examples(topics)
    for slug, refs in missing_examples(examples, texts).items():
        print(f"{slug}: examples not in these days: {refs}", file=sys.stderr)
    return build_likeness(examples, stats=stats, texts=texts)


def assign(
    topics: Sequence[Topic], papers: Sequence[ParsedPaper], likeness: Likeness
) -> dict[str, tuple[str, ...]]:
    """Topic slugs per paper key."""
    return {
        paper_key(p): tuple(
            t.slug
            for t in topics
            if score_topic(
                t, title=p.title, abstract=p.abstract, keywords=p.keywords, likeness=likeness
            ).selected
        )
        for p in papers
    }


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "  n/a"


def report(
    topics: Sequence[Topic],
    days: Sequence[Day],
    slugs: dict[str, tuple[str, ...]],
    *,
    ignore: set[str],
    min_day: int,
) -> float:
    """Print counts, coverage, per-day coverage and uncovered titles; return the coverage."""
    papers = distinct_papers(days)
    covered = {key for key, found in slugs.items() if set(found) - ignore}
    print(f"{len(days)} day(s), {len(papers)} distinct paper(s), {len(topics)} topic(s)\n")
    print("per topic (distinct papers selected):")
    for topic in topics:
        count = sum(topic.slug in found for found in slugs.values())
        print(f"  {topic.slug:<24} {count:5d}  {_pct(count, len(papers))}")
    coverage = len(covered) / len(papers) if papers else 0.0
    print(f"\ncoverage: {len(covered)} of {len(papers)} = {_pct(len(covered), len(papers))}")
    big = [day for day in days if len(day.papers) >= min_day]
    print(f"\nper day ({len(big)} day(s) of >= {min_day} papers):")
    worst = 1.0
    for day in big:
        hit = sum(paper_key(p) in covered for p in day.papers)
        worst = min(worst, hit / len(day.papers))
        print(f"  {day.listing_date}  {hit:3d}/{len(day.papers):<3d} {_pct(hit, len(day.papers))}")
    if big:
        print(f"  worst day: {100 * worst:.1f}%")
    uncovered = [p for p in papers if paper_key(p) not in covered]
    print(f"\nuncovered ({len(uncovered)}):")
    for paper in uncovered:
        print(f"  {paper.arxiv_id or '-':<11} {paper.title}")
    return coverage


def _selected(
    topic: Topic, papers: Sequence[ParsedPaper], likeness: Likeness
) -> list[tuple[ParsedPaper, TopicScore]]:
    scored = (
        (
            p,
            score_topic(
                topic, title=p.title, abstract=p.abstract, keywords=p.keywords, likeness=likeness
            ),
        )
        for p in sorted(papers, key=paper_key)  # a fixed order, so a seed draws the same papers
    )
    return [(paper, result) for paper, result in scored if result.selected]


def sample(
    topics: Sequence[Topic],
    papers: Sequence[ParsedPaper],
    likeness: Likeness,
    *,
    size: int,
    seed: int,
    abstracts: bool,
) -> None:
    """Print ``size`` randomly drawn selected papers per topic (reproducible by ``seed``)."""
    for topic in topics:
        picked = _selected(topic, papers, likeness)
        drawn = random.Random(f"{seed}:{topic.slug}").sample(picked, min(size, len(picked)))
        print(f"\n## {topic.slug} ({len(picked)} selected; {len(drawn)} drawn, seed {seed})")
        for n, (paper, result) in enumerate(drawn, 1):
            why = "; ".join(f"{m.rule.split(' | ')[0]} in {m.field}" for m in result.matches)
            print(f"{n:2d}. {paper.arxiv_id} {paper.title}  [{why}]")
            if abstracts:
                print(f"    KW: {'; '.join(paper.keywords)}\n    AB: {paper.abstract}\n")


def compare(
    old: dict[str, tuple[str, ...]],
    new: dict[str, tuple[str, ...]],
    papers: Sequence[ParsedPaper],
) -> None:
    """Print, per topic, the papers ``new`` selects that ``old`` did not (+) and the reverse (-)."""
    titles = {paper_key(p): p.title for p in papers}
    slugs = sorted({s for found in [*old.values(), *new.values()] for s in found})
    for slug in slugs:
        gained = [k for k in titles if slug in new.get(k, ()) and slug not in old.get(k, ())]
        lost = [k for k in titles if slug in old.get(k, ()) and slug not in new.get(k, ())]
        if gained or lost:
            print(f"\n## {slug}: +{len(gained)} -{len(lost)}")
            for sign, keys in (("+", gained), ("-", lost)):
                for key in keys:
                    print(f"  {sign} {key:<11} {titles[key]}")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, load days and topics, print the report; 1 if under --fail-under."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, help="day files or folders of them")
    parser.add_argument("--topics", type=Path, default=REPO / "config" / "topics.toml")
    parser.add_argument("--since", type=date.fromisoformat, help="first listing date to use")
    parser.add_argument("--before", type=date.fromisoformat, help="use days before this date")
    parser.add_argument("--ignore", action="append", default=[], help="catch-all topic slug")
    parser.add_argument("--min-day", type=int, default=10, help="per-day figures from N papers")
    parser.add_argument("--sample", type=int, default=0, help="draw N selected papers per topic")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--topic", action="append", default=[], help="sample only these slugs")
    parser.add_argument("--abstracts", action="store_true", help="print abstracts in samples")
    parser.add_argument("--compare", type=Path, help="list what changes against this topics file")
    parser.add_argument("--fail-under", type=float, default=0.0, help="coverage %% required")
    args = parser.parse_args(argv)
    topics = load_topics(args.topics)
    days = [d for d in map(load_day, day_files(args.paths)) if d is not None]
    days = [
        d
        for d in days
        if (args.since is None or d.listing_date >= args.since)
        and (args.before is None or d.listing_date < args.before)
    ]
    papers = distinct_papers(days)
    likeness = make_likeness(topics, papers)
    if args.sample:
        chosen = [t for t in topics if not args.topic or t.slug in args.topic]
        sample(chosen, papers, likeness, size=args.sample, seed=args.seed, abstracts=args.abstracts)
        return 0
    if args.compare:
        older = load_topics(args.compare)
        before = assign(older, papers, make_likeness(older, papers))
        compare(before, assign(topics, papers, likeness), papers)
        return 0
    coverage = report(
        topics,
        days,
        assign(topics, papers, likeness),
        ignore=set(args.ignore),
        min_day=args.min_day,
    )
    return 1 if 100 * coverage < args.fail_under else 0


if __name__ == "__main__":
    sys.exit(main())
