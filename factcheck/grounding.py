"""Find a quote the model proposed in the document's text, and record where it really stands.

The model is never trusted with facts about the source: its quote is looked for exactly, then after normalising
whitespace, typographic quotes and dashes, then by a bounded fuzzy match (the longest stretch of the quote found
verbatim, for quotes with junk appended or prepended; then a character alignment for small slips). What is
recorded is always the document's own text at the offsets found.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

from factcheck.models import Grounding

MIN_QUOTE_CHARS = 12
MIN_FUZZY_SCORE = 0.85
MIN_STRETCH_SHARE = 0.6
FUZZY_WINDOW_LIMIT = 30_000

_TRANSLATE = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
        "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u2026": "...",
    }
)  # fmt: skip
_EDGE_JUNK = " \t\n\"'`«»“”‘’.,;:…"


@dataclass(frozen=True)
class Found:
    start: int
    end: int
    grounding: Grounding


@dataclass(frozen=True)
class NormalisedText:
    """Text with typography folded and whitespace collapsed, and the original offset of every character."""

    text: str
    origin: list[int]

    @classmethod
    def of(cls, raw: str) -> NormalisedText:
        chars: list[str] = []
        origin: list[int] = []
        in_space = False
        for index, ch in enumerate(raw):
            folded = ch.translate(_TRANSLATE)
            if folded.isspace():
                if in_space or not chars:
                    continue
                in_space = True
                folded = " "
            else:
                in_space = False
            for piece in folded.lower():  # lowered first: "İ".lower() is two characters, each needs an origin
                chars.append(piece)
                origin.append(index)
        return cls("".join(chars), origin)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original ``[start, end)`` for normalised ``[start, end)``."""
        return self.origin[start], self.origin[end - 1] + 1

    def window(self, lo: int, hi: int) -> NormalisedText:
        """What :meth:`of` gives for the original ``[lo, hi)``, cut from this one instead of normalised again; its
        origins stay offsets into the whole original."""
        start, end = bisect_left(self.origin, lo), bisect_left(self.origin, hi)
        if start < end and self.text[start] == " ":  # a window never starts with the space a run of them became
            start += 1
        return NormalisedText(self.text[start:end], self.origin[start:end])


@lru_cache(maxsize=1)
def _normalised_document(text: str) -> NormalisedText:
    # For callers grounding one quote at a time in one document (a reviewer's pastes); drafting passes its own.
    return NormalisedText.of(text)


def normalise(quote: str) -> str:
    return NormalisedText.of(quote).text.strip()


def ground_quote(
    text: str,
    quote: str,
    window: tuple[int, int] | None = None,
    *,
    normalised: Callable[[], NormalisedText] | None = None,
    fuzzy: bool = True,
) -> Found | None:
    """Where ``quote`` stands in ``text`` (inside ``window`` first, if given), or None if it cannot be found.
    With ``fuzzy=False`` only an exact or normalised match is looked for.

    ``normalised`` gives ``NormalisedText.of(text)``, for a caller grounding many quotes in one text: it is called
    only when a quote is not found verbatim, and may build the text once and keep it.
    """
    cleaned = quote.strip()
    if len(cleaned) < MIN_QUOTE_CHARS:
        return None
    lo, hi = window or (0, len(text))
    for start, end in ((lo, hi), (0, len(text))):
        found = _exact(text, cleaned, start, end)
        if found:
            return found
    full = normalised() if normalised is not None else _normalised_document(text)
    needle = normalise(cleaned).strip(_EDGE_JUNK)
    if len(needle) < MIN_QUOTE_CHARS:
        return None
    for start, end in ((lo, hi), (0, len(text))):
        found = _normalised(text, full, needle, start, end, quote)
        if found:
            return found
    return _fuzzy(text, full, needle, quote, lo, hi) if fuzzy else None


def _exact(text: str, quote: str, lo: int, hi: int) -> Found | None:
    at = text.find(quote, lo, hi)
    if at == -1:
        return None
    return Found(at, at + len(quote), Grounding(method="exact", score=1.0))


def _normalised(text: str, full: NormalisedText, needle: str, lo: int, hi: int, quote: str) -> Found | None:
    at = _find_in_range(full, needle, lo, hi)
    if at == -1:
        return None
    start, end = full.span(*_with_edge_punctuation(full, at, at + len(needle), normalise(quote)))
    grounding = Grounding(method="normalised", score=1.0, model_quote=_if_different(quote, text, start, end))
    return Found(start, end, grounding)


def _with_edge_punctuation(full: NormalisedText, at: int, end: int, quote: str) -> tuple[int, int]:
    """Widen a match of the stripped needle over the punctuation the quote has at its edges, where the text has it
    too: a quote ending "to the U.S." keeps its final period. Never ends inside one character of the text."""
    lead = quote[: len(quote) - len(quote.lstrip(_EDGE_JUNK))].rstrip()
    trail = quote[len(quote.rstrip(_EDGE_JUNK)) :].lstrip()
    after = 0
    while after < len(trail) and end + after < len(full.text) and full.text[end + after] == trail[after]:
        after += 1
    while after and (trail[after - 1] == " " or _inside_a_character(full, end + after)):
        after -= 1
    before = 0
    while before < len(lead) and at - before > 0 and full.text[at - before - 1] == lead[-before - 1]:
        before += 1
    while before and (lead[-before] == " " or _inside_a_character(full, at - before)):
        before -= 1
    return at - before, end + after


def _inside_a_character(full: NormalisedText, boundary: int) -> bool:
    """Whether normalised offset ``boundary`` falls between two pieces of one original character ("…" is three)."""
    return 0 < boundary < len(full.text) and full.origin[boundary] == full.origin[boundary - 1]


def _find_in_range(full: NormalisedText, needle: str, lo: int, hi: int) -> int:
    at = full.text.find(needle)
    while at != -1:
        if lo <= full.origin[at] < hi:
            return at
        at = full.text.find(needle, at + 1)
    return -1


def _fuzzy(text: str, full: NormalisedText, needle: str, quote: str, lo: int, hi: int) -> Found | None:
    found: Found | None = None
    stretch = _longest_verbatim_stretch(full, needle, lo, hi)
    if stretch is not None:
        at, length = stretch
        start, end = _word_edges(text, *_trim(text, *full.span(at, at + length)))
        score = round(length / len(needle), 3)
        found = Found(start, end, Grounding(method="fuzzy", score=score, model_quote=quote))
    # A stretch that leaves much of the quote out is often a typo cutting it short: an alignment may do better.
    if (found is None or found.grounding.score < MIN_FUZZY_SCORE) and hi - lo <= FUZZY_WINDOW_LIMIT:
        found = _aligned(text, full.window(lo, hi), needle, quote) or found
    return found


def _find_preferring(full: NormalisedText, piece: str, lo: int, hi: int) -> int:
    at = _find_in_range(full, piece, lo, hi)
    return at if at != -1 else full.text.find(piece)


def _longest_verbatim_stretch(full: NormalisedText, needle: str, lo: int, hi: int) -> tuple[int, int] | None:
    """The longest prefix or suffix of ``needle``, cut at word boundaries, that stands in ``haystack``.

    A model that appends or prepends words to a real sentence is caught here; at least MIN_STRETCH_SHARE of the
    quote must be found verbatim.
    """
    words = [m.start() for m in re.finditer(r"\S+", needle)]
    ends = [m.end() for m in re.finditer(r"\S+", needle)]
    minimum = max(MIN_QUOTE_CHARS, int(len(needle) * MIN_STRETCH_SHARE))
    best: tuple[int, int] | None = None
    for end in reversed(ends):
        if end < minimum:
            break
        at = _find_preferring(full, needle[:end].rstrip(_EDGE_JUNK), lo, hi)
        if at != -1:
            best = (at, len(needle[:end].rstrip(_EDGE_JUNK)))
            break
    for start in words:
        piece = needle[start:].lstrip(_EDGE_JUNK)
        if len(piece) < minimum or (best and len(piece) <= best[1]):
            break
        at = _find_preferring(full, piece, lo, hi)
        if at != -1:
            best = (at, len(piece))
            break
    return best


def _aligned(text: str, window: NormalisedText, needle: str, quote: str) -> Found | None:
    """Align the quote against the window character by character; accept a close, compact match."""
    matcher = SequenceMatcher(None, window.text, needle, autojunk=False)
    blocks = [b for b in matcher.get_matching_blocks() if b.size >= 3]
    if not blocks:
        return None
    anchor = max(blocks, key=lambda b: b.size)
    near = [b for b in blocks if abs((b.a - b.b) - (anchor.a - anchor.b)) <= 20]
    matched = sum(b.size for b in near)
    first, last = min(near, key=lambda b: b.a), max(near, key=lambda b: b.a + b.size)
    width = last.a + last.size - first.a
    score = 2 * matched / (len(needle) + width)
    if score < MIN_FUZZY_SCORE or not 0.8 * len(needle) <= width <= 1.25 * len(needle):
        return None
    start, end = window.span(first.a, last.a + last.size)
    start, end = _word_edges(text, *_trim(text, start, end))
    return Found(start, end, Grounding(method="fuzzy", score=round(score, 3), model_quote=quote))


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _word_edges(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a span that starts or ends inside a word to the whole word: a quote never shows half a word."""
    while 0 < start < end and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while start < end < len(text) and text[end - 1].isalnum() and text[end].isalnum():
        end += 1
    return start, end


def _if_different(quote: str, text: str, start: int, end: int) -> str | None:
    return None if text[start:end] == quote else quote


def occurrences(text: str, quote: str) -> list[int]:
    """Every offset where ``quote`` stands verbatim in ``text``."""
    found, at = [], text.find(quote)
    while at != -1:
        found.append(at)
        at = text.find(quote, at + 1)
    return found


_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")


def missing_figures(quote: str, found: str) -> list[str]:
    """Numbers the model's quote states that the text found for it does not."""
    present = {m.group().replace(",", "") for m in _FIGURE.finditer(found)}
    return [m.group() for m in _FIGURE.finditer(quote) if m.group().replace(",", "") not in present]
