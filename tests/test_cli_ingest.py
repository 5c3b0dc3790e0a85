from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from freezegun import freeze_time

from pipeline.cli import cli
from tests.conftest import SAMPLES, text_page


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Invoke the CLI on a config in tmp_path, at 2026-11-23 08:00 UTC."""
    config = tmp_path / "paperboy.toml"
    config.write_text('[store]\ndatabase_url = "sqlite:///data/paperboy.db"\n', encoding="utf-8")
    for name in ("PAPERBOY_CONFIG", "PAPERBOY_DATABASE_URL", "PAPERBOY_OUTPUT_DIR"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()

    def invoke(*args: str) -> object:
        return runner.invoke(cli, ["--config", str(config), *args], catch_exceptions=False)

    with freeze_time("2026-11-23 08:00:00"):
        yield invoke


def test_ingest_prints_per_page_counts(run) -> None:  # type: ignore[no-untyped-def]
    result = run(
        "ingest",
        str(SAMPLES / "page-c.txt"),
        str(SAMPLES / "page-a.txt"),
        str(SAMPLES / "page-b.txt"),
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"{SAMPLES / 'page-c.txt'}: 2026-03-11: 78 paper(s) (78 new that day, 0 recurring); "
        "78 added to the store, 0 already stored",
        f"{SAMPLES / 'page-a.txt'}: 2026-03-14: 60 paper(s) (50 new that day, 10 recurring); "
        "50 added to the store, 10 already stored",
        f"{SAMPLES / 'page-b.txt'}: 2026-09-03: 47 paper(s) (29 new that day, 18 recurring); "
        "29 added to the store, 18 already stored",
        "3 page(s) read, 3 changed, 157 paper(s) added, 0 error(s)",
    ]


def test_rerun_says_nothing_changed(run) -> None:  # type: ignore[no-untyped-def]
    """Issue 15.10: a no-op rerun said "157 new paper(s)"."""
    run("ingest", str(SAMPLES))
    again = run("ingest", str(SAMPLES))
    assert again.exit_code == 0
    assert again.stdout == "3 page(s) read, nothing changed, 0 error(s)\n"
    assert again.stderr == ""


def test_ingest_json_and_rerun_is_idempotent(run) -> None:  # type: ignore[no-untyped-def]
    first = run("ingest", "--json", str(SAMPLES))
    second = run("ingest", "--json", str(SAMPLES))
    assert first.exit_code == second.exit_code == 0
    payload = json.loads(first.stdout)
    assert payload["errors"] == []
    assert [(p["date"], p["papers"], p["new"], p["recurring"]) for p in payload["pages"]] == [
        ("2026-03-11", 78, 78, 0),
        ("2026-03-14", 60, 50, 10),
        ("2026-09-03", 47, 29, 18),
    ]
    assert [(p["added"], p["already_stored"], p["unchanged"]) for p in payload["pages"]] == [
        (78, 0, False),
        (50, 10, False),
        (29, 18, False),
    ]
    assert [(p["added"], p["unchanged"]) for p in json.loads(second.stdout)["pages"]] == [
        (0, True),
        (0, True),
        (0, True),
    ]
    assert payload["pages"][0]["source"] == str(SAMPLES / "page-c.txt")
    listed = run("papers", "--json")
    assert len(listed.stdout.splitlines()) == 157


def test_ingest_date_option_sets_the_year(run) -> None:  # type: ignore[no-untyped-def]
    result = run("ingest", "--date", "2024-03-14", "--json", str(SAMPLES / "page-a.txt"))
    assert json.loads(result.stdout)["pages"][0]["date"] == "2024-03-14"
    bad = run("ingest", "--date", "14/03/2024", str(SAMPLES / "page-a.txt"))
    assert bad.exit_code == 2
    assert "'14/03/2024' is not a date like 2026-03-14" in bad.stderr


def test_bad_files_are_reported_and_the_rest_ingested(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "1-empty.txt").write_bytes(b"")
    (folder / "2-binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (folder / "3-latin1.txt").write_bytes("Mar 14\n\nCaf\xe9\n\nx\n".encode("latin-1"))
    (folder / "4-truncated.txt").write_text(
        text_page("Mar 12", [("Good", "Abstract")]) + "Cut off\n", encoding="utf-8"
    )
    (folder / "5-headerless.txt").write_text("Just a title\n\nAnd text\n", encoding="utf-8")
    with (folder / "6-huge.txt").open("wb") as handle:
        handle.truncate(21_000_000)  # sparse: 21 MB on paper, nothing on disk
    (folder / "7-good.txt").write_text(
        text_page("Mar 13", [("Fine paper", "Fine abstract")]), encoding="utf-8"
    )
    result = run("ingest", str(folder))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: {folder / '1-empty.txt'}: empty file",
        f"Error: {folder / '2-binary.txt'}: binary file (NUL byte at offset 8), not a text page",
        f"Error: {folder / '3-latin1.txt'}: not UTF-8 text (byte 0xe9 on line 3, at offset "
        "11; Latin-1 or Windows-1252?): save the file as UTF-8",
        f"Error: {folder / '4-truncated.txt'}: truncated: paper 2 ('Cut off') has a title but "
        "no abstract",
        f"Error: {folder / '5-headerless.txt'}: no listing date line (like 'Mar 14') in the "
        "first 15 lines: not a daily papers text page?",
        f"Error: {folder / '6-huge.txt'}: file is 21.0 MB, over the 20 MB limit",
    ]
    assert result.stdout.splitlines() == [
        f"{folder / '7-good.txt'}: 2026-03-13: 1 paper(s) (1 new that day, 0 recurring); "
        "1 added to the store, 0 already stored",
        "1 page(s) read, 1 changed, 1 paper(s) added, 6 error(s)",
    ]
    payload = json.loads(run("ingest", "--json", str(folder)).stdout)
    assert len(payload["errors"]) == 6
    assert payload["errors"][0] == {"source": str(folder / "1-empty.txt"), "error": "empty file"}
    # the truncated page stored nothing, not even its good first paper
    assert run("papers", "--search", "good").stdout == ""


def test_papers_filters(run) -> None:  # type: ignore[no-untyped-def]
    run("ingest", str(SAMPLES))
    new = run("papers", "--new-on", "2026-09-03")
    assert len(new.stdout.splitlines()) == 29
    recurring = run("papers", "--recurring-on", "2026-03-14")
    assert len(recurring.stdout.splitlines()) == 10
    assert "2026-03-11  x3  A Survey on Mixture of Experts" in recurring.stdout.splitlines()
    found = run("papers", "--search", "MIXTURE OF EXPERTS", "--json")
    titles = sorted(json.loads(line)["title"] for line in found.stdout.splitlines())
    assert run("papers", "--search", "mixture_of").stdout == ""  # '_' is no wildcard
    assert len(run("papers", "--search", "22.2x").stdout.splitlines()) == 1
    # a plain substring search: Branch-Train-Merge's "Mixture-of-Experts" is not matched
    assert titles == [
        "A Survey on Mixture of Experts",
        "Contrastive Learning and Mixture of Experts Enables Precise Vector Embeddings",
    ]


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "nope.toml"), "papers"])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {tmp_path / 'nope.toml'}: config file not found\n"


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("path", _commands(cli), ids=lambda p: " ".join(p) or "paperboy")
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0
    assert "Usage: " in result.output
    command: click.Command = cli
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    assert command.help and len(command.help.strip()) > 20


def test_encodings_and_causes_are_named_right(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Issue 15.11: a UTF-16 page was called binary, truncated JSON "no listing date"."""
    folder = tmp_path / "pages"
    folder.mkdir()
    page = text_page("Mar 13", [("Sixteen bits", "An abstract in UTF-16.")])
    (folder / "1-utf16-bom.txt").write_text(page, encoding="utf-16")  # with a byte-order mark
    (folder / "2-utf16-no-bom.txt").write_bytes(page.encode("utf-16-le"))
    (folder / "3-truncated.json").write_text('[{"paper": {"id": "2508.0', encoding="utf-8")
    result = run("ingest", str(folder))
    assert result.stderr.splitlines() == [
        f"Error: {folder / '2-utf16-no-bom.txt'}: UTF-16 text without a byte-order mark: save "
        "the file as UTF-8",
        f"Error: {folder / '3-truncated.json'}: truncated JSON: the text ends after 25 characters",
    ]
    assert "2026-03-13: 1 paper(s)" in result.stdout  # the UTF-16 page with its BOM is read


def test_source_name_is_checked_before_the_store(run) -> None:  # type: ignore[no-untyped-def]
    """Issue 15.3's sibling: digest.source is VARCHAR(200); PostgreSQL refused a longer name
    while SQLite stored it. Both stores now see the same clear error first."""
    result = run("ingest", "--source", "x" * 300, str(SAMPLES / "page-a.txt"))
    assert result.exit_code == 1
    assert "is not a source name" in result.stderr
