"""``paperboy topics`` and ``paperboy feeds`` through the CLI, plus the shipped resources."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.resources import resource_path
from pipeline.topics import load_topics, topics_file
from tests.conftest import SAMPLES

TOPICS = """
[[topics]]
slug = "lc"
title = "Long context"
include = ["long context", "KV cache"]
exclude = ["protein"]
threshold = 2
"""


@pytest.fixture
def cli_env(tmp_path: Path):
    (tmp_path / "topics.toml").write_text(TOPICS)
    (tmp_path / "pb.toml").write_text(
        'topics_file = "topics.toml"\n[output]\nsite_url = "https://example.org/pb/"\n'
    )
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, ["--config", str(tmp_path / "pb.toml"), *args])

    assert run("ingest", str(SAMPLES / "page-a.txt"), str(SAMPLES / "page-c.txt")).exit_code == 0
    return run


def test_topics_list(cli_env, tmp_path):
    result = cli_env("topics", "list")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"topics file: {tmp_path / 'topics.toml'}",
        "lc  'Long context'  threshold 2, 2 include / 1 exclude rule(s)",
    ]


def test_topics_explain_shows_rules_and_scores(cli_env):
    result = cli_env("topics", "explain", "Long-context Protein Language Model")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "title:longcontextproteinlanguagemodel  Long-context Protein Language Model",
        "lc: score 3 / threshold 2 -> not selected (excluded by 'protein')",
        "  +3  'long context' in title",
    ]


def test_topics_explain_unknown_paper(cli_env):
    result = cli_env("topics", "explain", "No Such Paper")
    assert result.exit_code == 1
    assert result.output.startswith("Error: no paper matches 'No Such Paper': give a key")


def test_topics_preview_lists_selected_papers(cli_env):
    result = cli_env("topics", "preview", "lc", "--limit", "3")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 3 and all(line.startswith("2026-03-14") for line in lines)
    assert "3 of " in result.stderr and "selected by lc" in result.stderr
    assert "Protein" not in result.stdout


def test_topics_preview_unknown_slug(cli_env):
    result = cli_env("topics", "preview", "nope")
    assert result.exit_code == 1
    assert result.stderr.rstrip("\n").endswith("unknown topic 'nope' (known: lc)")


def test_feeds_command_writes_then_leaves_files(cli_env, tmp_path):
    first = cli_env("feeds")
    assert first.exit_code == 0, first.output
    folder = tmp_path / "out" / "feeds"
    assert first.stdout == f"2 feed(s) in {folder}: 5 file(s) written, 0 unchanged\n"
    again = cli_env("feeds")
    assert again.stdout == f"2 feed(s) in {folder}: 0 file(s) written, 5 unchanged\n"
    assert sorted(p.name for p in folder.iterdir()) == [
        "all.atom",
        "all.xml",
        "index.opml",
        "lc.atom",
        "lc.xml",
    ]


def test_feeds_command_without_site_url(tmp_path):
    (tmp_path / "pb.toml").write_text('[output]\nsite_url = "papers.example.org"\n')
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "pb.toml"), "feeds"])
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"Error: {tmp_path / 'pb.toml'}: output.site_url: 'papers.example.org' is not an "
        "absolute http(s) URL"
    )


@pytest.mark.parametrize("name", ["topics", "feeds"])
def test_commands_have_help(name):
    command = cli.commands[name]
    assert command.help
    for sub in getattr(command, "commands", {}).values():
        assert sub.help, sub.name


def test_shipped_topics_file_is_found_and_valid():
    path = topics_file(None)
    assert path == resource_path("config/topics.toml")
    assert len(load_topics(path)) == 27
