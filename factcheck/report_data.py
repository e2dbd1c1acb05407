"""A case under review -> JSON for other tools; every case -> the Markdown index of the reports folder."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from factcheck import markdown as md
from factcheck.models import ClaimState, RatingScale, ReviewState
from factcheck.ratings import Ratings
from factcheck.review import clip
from factcheck.store import REPORT_FILE
from factcheck.tally import STATUS_LABELS, Status, checked_at, in_document_order, status_of, tally

JSON_FORMAT = "factcheck-report/1"


def render_json(state: ReviewState, scale: RatingScale) -> str:
    """The whole case with folded verdicts, as described in docs/report-json.md."""
    return json.dumps(report_data(state, scale), indent=2, ensure_ascii=False) + "\n"


def report_data(state: ReviewState, scale: RatingScale) -> dict[str, Any]:
    claims = in_document_order(state.claims)
    counts = tally(state, scale)
    ratings = Ratings(scale)
    case = state.case
    return {
        "format": JSON_FORMAT,
        "checked": checked_at(state).isoformat().replace("+00:00", "Z"),
        "draft": counts.is_draft,
        "reviewers": sorted(state.reviewers),
        "summary": {
            "claims": counts.total,
            **{status.value: counts.count(status) for status in Status},
            "ratings": counts.ratings,
        },
        "scale": scale.model_dump(mode="json"),
        "document": case.document.model_dump(mode="json"),
        "drafting": case.drafting.model_dump(mode="json"),
        "claims": [_claim_data(claim, ratings) for claim in claims],
        "rejected_drafts": [draft.model_dump(mode="json") for draft in case.rejected],
        "warnings": list(state.warnings),
    }


def _claim_data(claim: ClaimState, ratings: Ratings) -> dict[str, Any]:
    rating = ratings.get(claim.rating) if claim.rating is not None and not claim.rejected else None
    folded = claim.model_dump(mode="json")
    folded["verdicts"] = dict(sorted(folded["verdicts"].items()))
    return {
        "id": claim.claim.id,
        "anchor": md.anchor(claim.claim.id),
        "paragraph_number": claim.claim.paragraph + 1,
        "status": status_of(claim).value,
        "rating": rating.key if rating else None,
        "rating_label": rating.label if rating else None,
        "rating_value": rating.value if rating else None,
        **folded,
    }


# --------------------------------------------------------------------------------------------------- index


@dataclass(frozen=True)
class IndexEntry:
    """One case of the index: its folded state and scale, or why it could not be read."""

    slug: str
    state: ReviewState | None = None
    scale: RatingScale | None = None
    error: str | None = None


def render_index(entries: list[IndexEntry]) -> str:
    """Every case with its progress and verdict counts, sorted by slug."""
    out = ["# Fact-check reports", ""]
    if not entries:
        return "\n".join([*out, "No cases yet.", ""])
    out += [
        f"{len(entries)} case{'s' if len(entries) != 1 else ''}.",
        "",
        "| Case | Document | Progress | Verdicts | Status |",
        "|---|---|---|---|---|",
    ]
    out += [_index_row(entry) for entry in sorted(entries, key=lambda e: e.slug)]
    return "\n".join(out) + "\n"


def _index_row(entry: IndexEntry) -> str:
    ref = f"[{md.cell(entry.slug)}]({quote(entry.slug, safe='')}/{REPORT_FILE})"
    if entry.state is None or entry.scale is None:
        return f"| {md.cell(entry.slug)} | cannot be read: {md.cell(entry.error or 'unknown error')} | | | Unreadable |"
    scale = entry.scale
    counts = tally(entry.state, scale)
    progress = f"`{md.bar(counts.decided, counts.total, 10)}` {counts.decided} of {counts.total} decided"
    ratings = Ratings(scale)
    verdicts = [f"{md.cell(ratings.label(key))} {n}" for key, n in counts.ratings.items()]
    verdicts += [
        f"{STATUS_LABELS[s]} {counts.count(s)}"
        for s in (Status.disputed, Status.pending, Status.rejected)
        if counts.count(s)
    ]
    status = "Draft" if counts.is_draft else ("Ready" if counts.total else "No claims")
    title = md.cell(clip(entry.state.case.document.title, 100))
    return f"| {ref} | {title} | {progress} | {', '.join(verdicts) or '–'} | {status} |"
