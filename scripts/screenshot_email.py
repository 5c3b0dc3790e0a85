"""Render a sample digest and screenshot its HTML part with headless Chromium.

Usage: python scripts/screenshot_email.py [OUTDIR [MESSAGE.eml]]   (needs the Debian package
`chromium`)

Writes OUTDIR/digest.html (and .txt) plus digest-desktop.png (light, 1280 px), digest-phone.png
(light, 390 px) and digest-dark.png (prefers-color-scheme: dark, 1280 px), of a sample edition or
of a message the .eml transport wrote (``out/outbox/<day>/*.eml``). SCREENSHOT_HEIGHT sets the
height (default 1800). Not used by the tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from email import message_from_bytes, policy
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.mail.render import make_envs, render_bodies, settings_from
from pipeline.records import Edition, StoredPaper
from pipeline.resources import resource_path
from pipeline.topics import load_topics, topics_file

ABSTRACT = (
    "Large language models are limited by a fixed context window. We show that keeping the "
    "key/value states of a few initial tokens, the attention sinks, lets a model trained on 4K "
    "tokens stream millions of tokens without fine-tuning, with stable perplexity and a 22x "
    "speedup over the sliding-window recomputation baseline."
)

SUMMARY = "Keeping the key/value states of a few initial tokens lets a model stream endless text."


def sample_edition() -> Edition:
    """A fixed, realistic edition: three new papers, two recurring."""

    def paper(n: int, title: str, topics: tuple[str, ...], seen: int = 1) -> StoredPaper:
        first = date(2026, 11, 23) if seen == 1 else date(2026, 11, 2)
        repo = f"https://github.com/example/project-{n}" if n % 2 else None
        return StoredPaper(
            key=f"arxiv:2311.{n:05d}",
            title=title,
            abstract=ABSTRACT,
            arxiv_id=f"2311.{n:05d}",
            links=(repo,) if repo else (),
            first_seen=first,
            last_seen=date(2026, 11, 23),
            times_seen=seen,
            topics=topics,
            upvotes=200 // n,
            comments=n % 3,
            ai_summary=SUMMARY if n < 3 else None,
            github_repo=repo,
            github_stars=40 * n if repo else None,
            project_page=f"https://project-{n}.example.org/" if n == 1 else None,
        )

    return Edition(
        day=date(2026, 11, 23),
        new=(
            paper(1, "Efficient Streaming Language Models with Attention Sinks", ("long-context",)),
            paper(
                2,
                "Retrieval Meets Long Context Large Language Models",
                ("long-context", "retrieval-rag"),
            ),
            paper(4, "Mixtral of Experts: sparse routing at scale", ("mixture-of-experts",)),
        ),
        recurring=(
            paper(3, "LongLoRA: Efficient Fine-tuning of Long-Context LLMs", ("long-context",), 4),
            paper(
                6,
                "RAG vs Fine-tuning: Pipelines, Tradeoffs, and a Case Study",
                ("retrieval-rag",),
                2,
            ),
        ),
    )


def sample_bodies() -> tuple[str, str]:
    """HTML and text of the sample edition's digest."""
    chosen = ("long-context", "retrieval-rag", "mixture-of-experts")
    settings = settings_from(
        title="paperboy",
        sender="paperboy <digest@example.org>",
        site_url="https://digest.example.org",
        unsubscribe_address="",
    )
    titles = {t.slug: t.title for t in load_topics(topics_file(None))}
    bodies = render_bodies(
        sample_edition(),
        chosen=chosen,
        titles=titles,
        envs=make_envs(resource_path("templates")),
        settings=settings,
    )
    return bodies.html, bodies.text


def eml_bodies(path: Path) -> tuple[str, str]:
    """HTML and text parts of a message written by the .eml transport (out/outbox/...)."""
    msg = message_from_bytes(path.read_bytes(), policy=policy.default)
    html, text = msg.get_body(("html",)), msg.get_body(("plain",))
    if html is None or text is None:
        sys.exit(f"{path}: no text and HTML parts")
    return html.get_content(), text.get_content()  # type: ignore[attr-defined]


def main() -> None:
    """Render (or read an .eml) and screenshot."""
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    html, text = eml_bodies(Path(sys.argv[2])) if len(sys.argv) > 2 else sample_bodies()
    html_path = out / "digest.html"
    html_path.write_text(html, encoding="utf-8")
    (out / "digest.txt").write_text(text, encoding="utf-8")
    if browser is None:
        sys.exit("chromium not found: apt-get install -y chromium")
    height = os.environ.get("SCREENSHOT_HEIGHT", "1800")
    shots = {
        "desktop": (f"1280,{height}", []),
        "phone": (f"390,{height}", []),
        "dark": (
            f"1280,{height}",
            ["--force-dark-mode", "--blink-settings=preferredColorScheme=0"],
        ),
    }
    for name, (size, extra) in shots.items():
        with tempfile.TemporaryDirectory() as profile:
            subprocess.run(
                [
                    browser,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--no-first-run",
                    f"--user-data-dir={profile}",
                    "--hide-scrollbars",
                    f"--screenshot={(out / f'digest-{name}.png').resolve()}",
                    f"--window-size={size}",
                    *extra,
                    html_path.resolve().as_uri(),
                ],
                check=True,
                capture_output=True,
                timeout=120,
            )
        print(out / f"digest-{name}.png")


if __name__ == "__main__":
    main()
