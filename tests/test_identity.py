from __future__ import annotations

import pytest

from pipeline.identity import (
    KEY_MAX,
    clean_text,
    extract_links,
    first_sentence,
    fold_title,
    normalize_arxiv_id,
    title_key,
)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Multi-Head Attention", "multi head attention"),
        ("Multi-Head Attention", "MultiHead Attention"),
        ("LLM's Cognition", "LLMs cognition"),
        ("SWIFT:A Scalable lightWeight", "SWIFT: A Scalable Lightweight"),
        ("Attention   Sinks\n  Revisited", "attention sinks revisited"),
        ("ＦＵＬＬＷＩＤＴＨ Title", "fullwidth title"),  # NFKC
        ("Straße der Modelle", "STRASSE DER MODELLE"),  # casefold, not lower
        ("Are LLMs good?", "Are LLMs good"),
    ],
)
def test_fold_title_equal_for_case_and_punctuation_variants(left: str, right: str) -> None:
    assert fold_title(left) == fold_title(right)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Scaling Laws for Language Models", "Scaling Laws for Vision Models"),
        ("GPT-3 Family", "GPT-4 Family"),
        ("中文 大模型", "中文 小模型"),
    ],
)
def test_fold_title_keeps_different_titles_apart(left: str, right: str) -> None:
    assert fold_title(left) != fold_title(right)


def test_title_key_rejects_titles_without_letters() -> None:
    with pytest.raises(ValueError, match="no letters or digits"):
        title_key("?!  --")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2309.17453", "2309.17453"),
        ("2503.02130", "2503.02130"),  # never through a float (would be 2503.0213)
        ("arXiv:2309.17453v2", "2309.17453"),
        ("oai:arXiv.org:2203.01250v3", "2203.01250"),
        ("https://arxiv.org/abs/2309.17453v1", "2309.17453"),
        ("https://arxiv.org/pdf/2309.17453.pdf", "2309.17453"),
        ("https://huggingface.co/papers/2608.19880#community", "2608.19880"),
        ("0706.0001", "0706.0001"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("math.GT/0309136", "math/0309136"),
        ("q-alg/9701001", "q-alg/9701001"),
        ("a" * 70 + "/1234567", None),  # issue 15.3: would not fit arxiv_id VARCHAR(64)
        ("2313.12345", None),  # month 13
        ("1501.1234", None),  # 4 digits after 1412
        ("1412.12345", None),  # 5 digits before 1501
        ("not an id", None),
    ],
)
def test_normalize_arxiv_id(raw: str, expected: str | None) -> None:
    assert normalize_arxiv_id(raw) == expected


def test_extract_links_strips_sentence_punctuation_and_dedupes() -> None:
    text = (
        "Code and datasets are provided at https://github.com/mit-han-lab/streaming-llm. "
        "See (https://example.org/a_(b)) and https://github.com/mit-han-lab/streaming-llm, "
        "not http://localhost."
    )
    assert extract_links(text) == (
        "https://github.com/mit-han-lab/streaming-llm",
        "https://example.org/a_(b)",
    )


def test_clean_text_removes_controls_and_folds_whitespace() -> None:
    assert clean_text("a\x00b\x0b c\u0085\n\t d\x7f") == "ab c d"


@pytest.mark.parametrize(
    ("text", "first", "rest"),
    [
        ("We study X (e.g. Y). Then Z.", "We study X (e.g. Y).", "Then Z."),
        ("LLMs, i.e. big models, help. A 3.5x speedup.", "LLMs, i.e. big models, help.",
         "A 3.5x speedup."),
        ("As in Fig. 3 and Smith et al. (2020), it works. More.",
         "As in Fig. 3 and Smith et al. (2020), it works.", "More."),
        ("Work by J. Doe shows it. Next.", "Work by J. Doe shows it.", "Next."),
        ("Does it scale? Yes.", "Does it scale?", "Yes."),
        ("One sentence without end", "One sentence without end", ""),
        ("Wrapped\n  over lines. Second\n line.", "Wrapped over lines.", "Second line."),
        ("", "", ""),
    ],
)  # fmt: skip
def test_first_sentence_splits_after_the_first_sentence(text, first, rest) -> None:
    assert first_sentence(text) == (first, rest)


def test_title_keys_that_fit_are_unchanged_and_long_ones_are_cut_with_a_hash() -> None:
    """Issue 15.3: paper.key is VARCHAR(600); PostgreSQL refused longer keys, SQLite took them."""
    assert title_key("a" * 594) == "title:" + "a" * 594  # 600 characters: as before
    long_a = title_key("a" * 2000 + " one")
    long_b = title_key("a" * 2000 + " two")
    assert len(long_a) == len(long_b) == KEY_MAX == 600
    assert long_a != long_b
    assert long_a.startswith("title:aaaa") and long_a[-17] == "#"
    assert title_key("A" * 2000 + " ONE!") == long_a  # folding first, then the bound


def test_key_bound_is_the_store_column_length() -> None:
    from pipeline.store.tables import Paper, PaperAlias

    for column in (Paper.__table__.c.key, PaperAlias.__table__.c.alias):  # type: ignore[attr-defined]
        assert column.type.length == KEY_MAX
