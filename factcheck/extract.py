"""Document -> grounded claims: chunking on paragraph boundaries, one extraction request a chunk, grounding of
every quote by the program, and de-duplication within and across chunks."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import cache, lru_cache, partial

from factcheck.errors import FactcheckError
from factcheck.grounding import (
    MIN_QUOTE_CHARS,
    Found,
    NormalisedText,
    ground_quote,
    missing_figures,
    normalise,
    occurrences,
)
from factcheck.llm import Completion, LLMClient, ask_each
from factcheck.models import Claim, Document, DraftClaim, DraftClaims, RejectedDraft, Span, Usage
from factcheck.prompts import Prompt

__all__ = ["Chunk", "ExtractionResult", "chunk_document", "extract_claims", "ground_drafts", "ground_quote"]

CHARS_PER_TOKEN = 4
DEFAULT_CHUNK_TOKENS = 2000
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”’)]*\s+")


@dataclass(frozen=True)
class Chunk:
    index: int
    start: int
    end: int
    paragraphs: tuple[int, int]  # first and last paragraph index, inclusive

    def text(self, document: Document) -> str:
        return document.text[self.start : self.end]


@dataclass
class ExtractionResult:
    claims: list[Claim]
    rejected: list[RejectedDraft]
    usage: Usage
    failures: list[str] = field(default_factory=list)
    chunks: int = 0


def chunk_document(document: Document, budget_tokens: int = DEFAULT_CHUNK_TOKENS, overlap: int = 1) -> list[Chunk]:
    """Group paragraphs into chunks under ``budget_tokens``; each chunk repeats the last ``overlap`` paragraphs
    of the one before (when they are small), so a claim that leans on the previous paragraph is still seen."""
    budget = budget_tokens * CHARS_PER_TOKEN
    pieces = _pieces_under_budget(document, budget)
    chunks: list[Chunk] = []
    first = 0
    while first < len(pieces):
        last = first
        while last + 1 < len(pieces) and pieces[last + 1][1] - pieces[first][0] <= budget:
            last += 1
        chunks.append(Chunk(len(chunks), pieces[first][0], pieces[last][1], (pieces[first][2], pieces[last][2])))
        if last + 1 >= len(pieces):
            break
        back = last + 1 - overlap
        small = all(pieces[i][1] - pieces[i][0] <= budget // 4 for i in range(max(back, 0), last + 1))
        first = back if overlap and back > first and small else last + 1
    return chunks


def _pieces_under_budget(document: Document, budget: int) -> list[tuple[int, int, int]]:
    """Paragraphs as (start, end, paragraph index); a paragraph over budget is cut at sentence ends."""
    pieces: list[tuple[int, int, int]] = []
    for index, span in enumerate(document.paragraphs):
        if span.end - span.start <= budget:
            pieces.append((span.start, span.end, index))
            continue
        start = span.start
        while span.end - start > budget:
            cut = _last_sentence_end(document.text, start, start + budget) or start + budget
            pieces.append((start, cut, index))
            start = cut
        pieces.append((start, span.end, index))
    return pieces


def _last_sentence_end(text: str, start: int, limit: int) -> int | None:
    ends = [m.end() for m in _SENTENCE_END.finditer(text, start, limit)]
    return ends[-1] if ends and ends[-1] > start else None


# ----------------------------------------------------------------------------------------------- extraction


def extract_claims(
    document: Document,
    client: LLMClient,
    prompt: Prompt,
    *,
    chunk_tokens: int = DEFAULT_CHUNK_TOKENS,
    pool: ThreadPoolExecutor | None = None,
    on_chunk: Callable[[Chunk], None] | None = None,
) -> ExtractionResult:
    """Ask for the claims of every chunk (in parallel, bounded by the client) and ground and merge them."""
    chunks = chunk_document(document, chunk_tokens)

    def ask(chunk: Chunk) -> Completion[DraftClaims]:
        return client.structured(prompt.render(**_chunk_values(document, chunk, len(chunks))), DraftClaims)

    usage = Usage()
    drafts: list[tuple[int, DraftClaim]] = []
    failures: list[str] = []
    for chunk, answer in zip(chunks, ask_each(ask, chunks, pool=pool, on_each=on_chunk), strict=True):
        if isinstance(answer, FactcheckError):
            failures.append(f"chunk {chunk.index + 1}/{len(chunks)}: {answer}")
            continue
        usage = usage + answer.usage
        drafts.extend((chunk.index, draft) for draft in answer.value.claims)
    windows = {c.index: (c.start, c.end) for c in chunks}
    claims, rejected = ground_drafts(document, drafts, windows)
    drafted_by = {"model": client.settings.model, "prompt_sha256": prompt.sha256}
    claims = [claim.model_copy(update=drafted_by) for claim in claims]
    return ExtractionResult(claims, rejected, usage, failures, len(chunks))


def _chunk_values(document: Document, chunk: Chunk, total: int) -> dict[str, str]:
    text = chunk.text(document)
    # The fence is named by the chunk's own hash: a document cannot contain the line that closes it.
    fence = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return {
        "title": document.title,
        "chunk": str(chunk.index + 1),
        "chunks": str(total),
        "fence": fence,
        "document": text,
    }


# ----------------------------------------------------------------------------------------------- grounding


def ground_drafts(
    document: Document, drafts: Iterable[tuple[int, DraftClaim]], windows: dict[int, tuple[int, int]]
) -> tuple[list[Claim], list[RejectedDraft]]:
    """Ground each draft's quote in the text; keep what is found as claims (merged), set aside what is not."""
    claims: list[Claim] = []
    rejected: list[RejectedDraft] = []
    # Normalised once for all the drafts of the document, and only if one of them is not quoted verbatim.
    normalised = cache(partial(NormalisedText.of, document.text))
    for chunk_index, draft in drafts:
        found = ground_quote(document.text, draft.quote, windows.get(chunk_index), normalised=normalised)
        reason = _rejection_reason(draft.quote, document.text, found)
        if found is None or reason:
            rejected.append(RejectedDraft(draft=draft, reason=reason, chunk=chunk_index))
            continue
        claims.append(_claim_from(document, draft, found))
    return merge_duplicates(document, claims), rejected


def _rejection_reason(quote: str, text: str, found: Found | None) -> str:
    """Why a draft cannot become a claim, or '' if it can."""
    if found is None:
        if len(quote.strip()) < MIN_QUOTE_CHARS:
            return "quote too short to anchor in the text"
        return "quote not found in the document (not verbatim, and no close match)"
    if found.grounding.method == "fuzzy":
        missing = missing_figures(quote, text[found.start : found.end])
        if missing:
            # A close match that drops or changes a figure would put words in the source's mouth.
            return f"quote has figures the matching text lacks ({', '.join(missing)})"
    return ""


def _claim_from(document: Document, draft: DraftClaim, found: Found) -> Claim:
    quote = document.text[found.start : found.end]
    return Claim(
        id=claim_id(document, found.start, found.end),
        statement=draft.statement.strip(),
        quote=quote,
        start=found.start,
        end=found.end,
        paragraph=document.paragraph_index(found.start),
        also_at=[Span(start=at, end=at + len(quote)) for at in occurrences(document.text, quote) if at != found.start],
        kind=draft.kind,
        nature=draft.nature,
        checkworthiness=draft.checkworthiness,
        entities=list(dict.fromkeys(e.strip() for e in draft.entities if e.strip())),
        time_reference=draft.time_reference,
        grounding=found.grounding,
    )


def claim_id(document: Document, start: int, end: int) -> str:
    """Stable for the same words at the same place of the same document."""
    digest = hashlib.sha256(f"{document.sha256}:{start}:{end}".encode()).hexdigest()
    return "c" + digest[:7]


def merge_duplicates(document: Document, claims: list[Claim]) -> list[Claim]:
    """One claim per statement of the same words: the same quote (wherever it stands) with a like statement,
    or a draft from an overlapping chunk, is merged into the first; ids are made unique."""
    merged: list[Claim] = []
    for claim in sorted(claims, key=lambda c: (c.start, c.end)):
        twin = next((kept for kept in merged if _same_claim(kept, claim)), None)
        if twin is None:
            merged.append(claim)
            continue
        merged[merged.index(twin)] = _combine(twin, claim)
    return _unique_ids(merged)


@lru_cache(maxsize=4096)
def _normalised(text: str) -> str:
    # Merging compares every pair of claims; normalising a text once, not once a pair, keeps it off the profile.
    return normalise(text)


def _same_claim(a: Claim, b: Claim) -> bool:
    same_words = _normalised(a.quote) == _normalised(b.quote)
    overlapping = a.start < b.end and b.start < a.end
    if not (same_words or overlapping):
        return False
    if same_words and (a.start != b.start or a.end != b.end):
        return True  # the same sentence repeated elsewhere (a subtitle quoted again in the body)
    covered = min(a.end, b.end) - max(a.start, b.start)
    mostly_same_place = covered >= 0.8 * min(a.end - a.start, b.end - b.start)
    similar = SequenceMatcher(None, _normalised(a.statement), _normalised(b.statement)).ratio() >= 0.8
    return mostly_same_place and similar


def _combine(kept: Claim, other: Claim) -> Claim:
    spans = {(s.start, s.end) for s in kept.also_at} | {(s.start, s.end) for s in other.also_at}
    if (other.start, other.end) != (kept.start, kept.end):
        spans.add((other.start, other.end))
    spans.discard((kept.start, kept.end))
    return kept.model_copy(
        update={
            "checkworthiness": max(kept.checkworthiness, other.checkworthiness),
            "entities": list(dict.fromkeys([*kept.entities, *other.entities])),
            "also_at": [Span(start=s, end=e) for s, e in sorted(spans)],
        }
    )


def _unique_ids(claims: list[Claim]) -> list[Claim]:
    seen: dict[str, int] = {}
    unique = []
    for claim in claims:
        count = seen.get(claim.id, 0)
        seen[claim.id] = count + 1
        unique.append(claim if count == 0 else claim.model_copy(update={"id": f"{claim.id}-{count + 1}"}))
    return unique
