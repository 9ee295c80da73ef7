"""The labelled corpus (``tests/inventory/corpus``): recall, naming, precision and ratings per language."""

from __future__ import annotations

import pytest

from tests.inventory.recall import LanguageScore, measure

LANGUAGES = ("c", "csharp", "go", "java", "javascript", "python")


@pytest.fixture(scope="module")
def scores() -> dict[str, LanguageScore]:
    return measure()


def test_the_corpus_has_every_language_and_enough_marked_lines(scores: dict[str, LanguageScore]) -> None:
    assert set(scores) == set(LANGUAGES)
    assert all(scores[lang].marked >= 20 for lang in LANGUAGES)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_finds_95_percent_of_marked_lines_with_90_percent_named_exactly(
        scores: dict[str, LanguageScore], lang: str) -> None:
    s = scores[lang]
    assert s.recall >= 0.95, s.misses
    assert s.naming >= 0.90, s.misses


@pytest.mark.parametrize("lang", LANGUAGES)
def test_comments_strings_and_lookalikes_are_not_findings(scores: dict[str, LanguageScore], lang: str) -> None:
    assert scores[lang].precision >= 0.95, scores[lang].misses


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_quantum_vulnerable_asset_is_rated_below_high(scores: dict[str, LanguageScore], lang: str) -> None:
    assert scores[lang].under_rated == 0, scores[lang].misses
