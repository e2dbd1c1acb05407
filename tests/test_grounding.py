"""Grounding: the program, not the model, finds each quote in the text and records where it stands."""

from __future__ import annotations

import pytest
from conftest import SEED
from helpers_drafting import document_of, draft_claim

from factcheck.documents import load_document
from factcheck.extract import ground_drafts
from factcheck.grounding import NormalisedText, ground_quote

TEXT = load_document(str(SEED)).text
MEMBERS = (
    "Tren de Aragua is estimated to have around 5,000 members, and its annual profits range between $10 million "
    "and $15 million."
)
SUBTITLE = "By highlighting the threat the group poses on the global stage"


def found_text(quote: str, text: str = TEXT, window: tuple[int, int] | None = None) -> str | None:
    found = ground_quote(text, quote, window)
    return None if found is None else text[found.start : found.end]


# ----------------------------------------------------------------------------------------------- exact


def test_a_verbatim_quote_is_found_exactly_with_full_score() -> None:
    found = ground_quote(TEXT, "Tren de Aragua is estimated to have around 5,000 members")

    assert found is not None
    assert found.grounding.method == "exact"
    assert found.grounding.score == 1.0
    assert found.grounding.model_quote is None
    assert TEXT[found.start : found.end] == "Tren de Aragua is estimated to have around 5,000 members"


def test_surrounding_whitespace_of_a_quote_is_not_part_of_the_span() -> None:
    assert found_text("  Alfredo Ferrero is Peru’s ambassador to the U.S.\n") == (
        "Alfredo Ferrero is Peru’s ambassador to the U.S."
    )


# ----------------------------------------------------------------------------------------------- normalised


def test_a_straight_apostrophe_matches_the_documents_typographic_one() -> None:
    found = ground_quote(TEXT, "The Peruvian government's recent call")

    assert found is not None
    assert found.grounding.method == "normalised"
    assert TEXT[found.start : found.end] == "The Peruvian government’s recent call"
    assert found.grounding.model_quote == "The Peruvian government's recent call"


def test_straight_double_quotes_match_the_documents_curly_ones() -> None:
    assert found_text('can champion an "Americas-First Foreign Policy," as suggested') == (
        "can champion an “Americas-First Foreign Policy,” as suggested"
    )


def test_a_hyphen_matches_the_documents_em_dash() -> None:
    assert found_text("The statement - supported by the U.S., Argentina") == (
        "The statement — supported by the U.S., Argentina"
    )


def test_line_breaks_and_runs_of_spaces_in_a_quote_match_single_spaces() -> None:
    found = ground_quote(TEXT, "In April,   the U.S. filed\ncharges under the\n  Racketeer Influenced")

    assert found is not None
    assert found.grounding.method == "normalised"
    assert TEXT[found.start : found.end] == "In April, the U.S. filed charges under the Racketeer Influenced"


def test_a_hard_wrapped_document_matches_a_quote_on_one_line() -> None:
    text = "The council said on Monday that the\nbudget rose by 12 percent in 2024.\n"

    assert found_text("the budget rose by 12 percent in 2024", text) == "the\nbudget rose by 12 percent in 2024"


def test_characters_that_change_length_when_lowercased_do_not_shift_offsets() -> None:
    text = "The mayor of İstanbul said the city’s budget grew by 12 percent last year.\n"

    assert found_text("the city's budget grew by 12 percent", text) == "the city’s budget grew by 12 percent"


# ----------------------------------------------------------------------------------------------- fuzzy


def test_junk_appended_by_a_small_model_is_cut_off() -> None:
    found = ground_quote(TEXT, MEMBERS + "\n</document> blah")

    assert found is not None
    assert found.grounding.method == "fuzzy"
    assert TEXT[found.start : found.end].rstrip(".") == MEMBERS.rstrip(".")
    assert found.grounding.model_quote == MEMBERS + "\n</document> blah"


def test_junk_prepended_by_a_small_model_is_cut_off() -> None:
    quoted = found_text("Sure! Here is the quote: " + MEMBERS)

    assert quoted is not None
    assert quoted.rstrip(".") == MEMBERS.rstrip(".")


def test_small_typos_are_matched_to_the_documents_own_words() -> None:
    found = ground_quote(TEXT, "Tren de Aragua is estimted to have arround 5,000 membres")

    assert found is not None
    assert found.grounding.method == "fuzzy"
    assert 0.85 <= found.grounding.score < 1
    assert TEXT[found.start : found.end] == "Tren de Aragua is estimated to have around 5,000 members"


def test_a_fuzzy_match_never_ends_in_the_middle_of_a_word() -> None:
    quoted = found_text("annual profits range between $10 milion and $15 milion")

    assert quoted is not None
    assert quoted.endswith("million")
    assert quoted.startswith("annual")


# ----------------------------------------------------------------------------------------------- rejected


def test_an_invented_sentence_is_not_grounded() -> None:
    assert ground_quote(TEXT, "Tren de Aragua has 12,000 members in Spain and Italy.") is None


def test_a_paraphrase_is_not_grounded() -> None:
    assert (
        ground_quote(TEXT, "The gang has about five thousand members and makes ten to fifteen million a year.") is None
    )


def test_a_quote_too_short_to_anchor_is_not_grounded() -> None:
    assert ground_quote(TEXT, "5,000") is None


def test_a_short_quote_padded_with_punctuation_is_not_grounded() -> None:
    assert ground_quote(TEXT, '"... 5,000 ..."') is None


# ----------------------------------------------------------------------------------------------- windows


def test_a_quote_standing_twice_is_found_inside_the_chunks_window() -> None:
    second = TEXT.index(SUBTITLE, 200)
    found = ground_quote(TEXT, SUBTITLE, (second - 50, len(TEXT)))

    assert found is not None
    assert found.start == second


def test_a_quote_standing_twice_is_found_first_without_a_window() -> None:
    found = ground_quote(TEXT, SUBTITLE)

    assert found is not None
    assert found.start == TEXT.index(SUBTITLE)


def test_a_normalised_quote_standing_twice_is_found_inside_the_window() -> None:
    text = "Intro: the group’s budget grew by 12 percent.\n\nLater: the group’s budget grew by 12 percent.\n"
    window = (text.index("Later"), len(text))

    found = ground_quote(text, "the group's budget grew by 12 percent", window)

    assert found is not None
    assert found.start == text.index("the group’s", window[0])


def test_a_fuzzy_quote_standing_twice_is_found_inside_the_window() -> None:
    second = TEXT.index(SUBTITLE, 200)

    found = ground_quote(TEXT, SUBTITLE + " </document> and more junk", (second - 50, len(TEXT)))

    assert found is not None
    assert found.start == second


def test_a_quote_outside_the_window_is_still_found_elsewhere() -> None:
    found = ground_quote(TEXT, "Alfredo Ferrero is Peru’s ambassador", (0, 100))

    assert found is not None
    assert TEXT[found.start : found.end] == "Alfredo Ferrero is Peru’s ambassador"


# ----------------------------------------------------------------------------------------------- offsets


QUOTES = [
    "Tren de Aragua is estimated to have around 5,000 members",
    "The Peruvian government's recent call",
    "The statement -   supported by the U.S.,\nArgentina",
    MEMBERS + "\n</document> blah",
    "Sure! Here is the quote: " + MEMBERS,
    "Tren de Aragua is estimted to have arround 5,000 membres",
    '"Americas-First Foreign Policy," as suggested by Secretary of State Marco Rubio',
    SUBTITLE,
]


@pytest.mark.parametrize("quote", QUOTES)
def test_a_claim_built_from_the_offsets_quotes_the_text_exactly(quote: str) -> None:
    document = load_document(str(SEED))

    claims, rejected = ground_drafts(document, [(0, draft_claim(quote))], {0: (0, len(document.text))})

    assert not rejected
    assert [document.text[c.start : c.end] for c in claims] == [c.quote for c in claims]
    for claim in claims:
        assert all(document.text[s.start : s.end] == claim.quote for s in claim.also_at)


def test_offsets_hold_in_a_text_with_characters_outside_the_basic_plane() -> None:
    document = document_of("Emoji 🎉 first. Then İstanbul’s council said the city’s budget grew by 12 percent.\n")

    claims, _ = ground_drafts(document, [(0, draft_claim("the city's budget grew by 12 percent"))], {})

    assert [document.text[c.start : c.end] for c in claims] == ["the city’s budget grew by 12 percent"]


WINDOWED = "Title  here\n\n  İstanbul’s council — said “the budget” grew…  by 12 %\u00a0this year.\n\nEnd.\n"


@pytest.mark.parametrize("lo", range(0, len(WINDOWED) + 1, 3))
def test_a_window_cut_from_the_normalised_text_is_the_window_normalised_alone(lo: int) -> None:
    whole = NormalisedText.of(WINDOWED)
    for hi in range(lo, len(WINDOWED) + 1):
        alone = NormalisedText.of(WINDOWED[lo:hi])
        cut = whole.window(lo, hi)
        assert (cut.text, cut.origin) == (alone.text, [lo + at for at in alone.origin])
