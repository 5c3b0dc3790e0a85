"""Every section of docs/reliability.md and docs/hf-formats.md that the repository cites exists.

Citations look like ``docs/reliability.md §0.4, §5.1``, ``docs/reliability.md X8, §3.5`` or
``docs/hf-formats.md §2.8``; the older names of the same references (``RELIABILITY.md 0.4``,
``RELIABILITY 6.3``, ``HF_FORMATS.md 2.8``, ``shared/HF_FORMATS.md section 5.2``) are read too,
with the same numbers. A section exists when the document has it as a heading (``### 1.5``) or
a bold label (``**0.2**``, ``**2.2.5**``, ``**F10**``, ``**A.1**``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = {
    "reliability": REPO / "docs" / "reliability.md",
    "hf-formats": REPO / "docs" / "hf-formats.md",
}
WHERE = ["pipeline", "tests", "bench", "scripts", "docs", "examples", "README.md", "pyproject.toml"]
NAMES = re.compile(
    r"(?P<name>docs/reliability\.md|docs/hf-formats\.md|(?:shared/)?RELIABILITY(?:\.md)?(?!_)"
    r"|(?:shared/)?HF_FORMATS(?:\.md)?)"
)
# what follows a name, up to the end of the parenthesis, sentence part or paragraph
TAIL_END = re.compile(r"\)|\n\s*\n|`|\"\"\"|:\s")
SECTION = re.compile(r"(?<![\w.])§?(?:section )?(\d+(?:\.\d+)*)(?![\w])")
LABEL = re.compile(r"(?<![\w.])([FESHDXT]\d{1,2}|A\.\d+)(?![\w])")
ANCHORS = re.compile(
    r"^#+ (?:Appendix )?(\d+(?:\.\d+)*|[A-Z](?:\.\d+)?)[.:]? "  # ## 1. / ### 1.5 / ## Appendix A:
    r"|\*\*(\d+(?:\.\d+)+|[A-Z]\.\d+|[FESHDXT]\d{1,2})[*\s]",  # **0.2 ...**, **2.2.5**, **F10**
    re.MULTILINE,
)


def anchors(doc: Path) -> set[str]:
    return {a or b for a, b in ANCHORS.findall(doc.read_text(encoding="utf-8"))}


def citations() -> list[tuple[str, str, str]]:
    """(document key, cited section or check id, file:line) for every citation in the repo."""
    found = []
    for place in WHERE:
        root = REPO / place
        files = [root] if root.is_file() else sorted(root.rglob("*"))
        for path in files:
            if path.suffix not in (".py", ".md", ".toml", ".txt", ".mako", ".html") or any(
                part.startswith(".") or part == "__pycache__" for part in path.parts
            ):
                continue
            text = path.read_text(encoding="utf-8")
            for match in NAMES.finditer(text):
                doc = "hf-formats" if "hf" in match["name"].lower() else "reliability"
                rest = text[match.end() : match.end() + 80].lstrip("`")
                end = TAIL_END.search(rest)
                tail = rest[: end.start()] if end else rest
                where = f"{path.relative_to(REPO)}:{text.count(chr(10), 0, match.start()) + 1}"
                for ref in [*SECTION.findall(tail), *LABEL.findall(tail)]:
                    found.append((doc, ref, where))
    return found


def test_citations_are_found() -> None:
    cited = citations()
    assert len(cited) > 40  # the reader of citations still works
    assert ("reliability", "2.2.5") in {(doc, ref) for doc, ref, _ in cited}
    assert {ref for doc, ref, _ in cited if doc == "hf-formats"} >= {"0.2", "2.8", "4.1", "5.2"}


@pytest.mark.parametrize("doc", sorted(DOCS))
def test_every_cited_section_exists(doc: str) -> None:
    have = anchors(DOCS[doc])
    missing = sorted(
        {f"{ref} ({where})" for key, ref, where in citations() if key == doc and ref not in have}
    )
    assert not missing, f"docs/{doc}.md lacks cited sections: " + ", ".join(missing)


def test_documents_keep_the_section_numbers() -> None:
    reliability = anchors(DOCS["reliability"])
    assert {f"0.{n}" for n in range(1, 13)} <= reliability  # README/coverage: the 12 findings
    assert {f"{s}.{n}" for s, count in [(1, 8), (2, 7), (3, 6), (4, 5), (5, 6), (6, 8), (7, 4)]
            for n in range(1, count + 1)} <= reliability  # fmt: skip
    checks = {"F": 11, "E": 13, "S": 7, "H": 12, "D": 6, "X": 9, "T": 4}
    assert {f"{k}{n}" for k, count in checks.items() for n in range(1, count + 1)} <= reliability
    hf = anchors(DOCS["hf-formats"])
    assert {f"0.{n}" for n in range(1, 7)} | {f"2.{n}" for n in range(1, 9)} <= hf
    assert {"4.1", "4.2", "4.3", "5.1", "5.2", "5.3"} <= hf
