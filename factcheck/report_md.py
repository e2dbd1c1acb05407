"""A case under review -> the Markdown report a newsroom publishes from.

Deterministic: the same case and log render byte for byte the same (claims in document order, no clock). Every
piece of text from the document, the model or a reviewer passes through :mod:`factcheck.markdown`.
"""

from __future__ import annotations

from factcheck import markdown as md
from factcheck.commands import REJECT_REASONS, event_words
from factcheck.documents import is_web_url
from factcheck.models import (
    AddClaimEvent,
    Case,
    ClaimState,
    Drafting,
    RatingScale,
    ReviewEvent,
    ReviewState,
)
from factcheck.ratings import Ratings
from factcheck.review import clip
from factcheck.tally import (
    STATUS_LABELS,
    Status,
    Tally,
    checked_at,
    in_document_order,
    status_of,
    tally,
)
from factcheck.urls import public_url

_MODES = {
    "live": "live: answered by the server",
    "record": "record: answered live by the server and saved",
    "replay": "replay: answered from saved exchanges",
    "cache": "cache: every answer came from the local response cache",
    "batch": "batch: answered by the server through the OpenAI Batch API",
}
_CONTEXT = 160
_TABLE_CLIP = 140


def render_markdown(state: ReviewState, scale: RatingScale) -> str:
    ratings = Ratings(scale)
    judged = [(claim, status_of(claim)) for claim in in_document_order(state.claims)]
    counts = tally(state, scale)
    out: list[str] = []
    _header(out, state, scale, counts)
    _drafting(out, state.case.drafting)
    _summary(out, counts, ratings)
    _claims_table(out, judged, ratings)
    for claim, status in judged:
        if status is not Status.rejected:
            _claim_section(out, claim, status, state.case, ratings)
    _appendix(out, state, [claim for claim, _ in judged])
    return "\n".join(out) + "\n"


def _header(out: list[str], state: ReviewState, scale: RatingScale, counts: Tally) -> None:
    document = state.case.document
    out += [f"# Fact-check: {md.text(document.title)}", ""]
    if counts.is_draft:
        open_ = [
            _plural(n, "claim is", "claims are") + what
            for n, what in (
                (counts.count(Status.pending), " pending review"),
                (counts.count(Status.disputed), " disputed"),
            )
            if n
        ]
        out += [f"> **DRAFT, not for publication:** {' and '.join(open_)}.", ""]
    if state.case.drafting.failures:
        failed = _plural(len(state.case.drafting.failures), "part", "parts")
        out += [f"> **Incomplete drafting:** {failed} of the drafting failed; claims there may be missing.", ""]
    if _from_authored_fixture(state.case.drafting):
        out += ["> **Fixture:** the drafts in this case come from a hand-authored fixture, not from model output.", ""]
    reviewers = ", ".join(md.text(r) for r in sorted(state.reviewers)) or "none yet"
    reviewed = any(claim.history for claim in state.claims)
    source = md.link(document.source, document.source) if is_web_url(document.source) else md.text(document.source)
    out += [
        f"- **Document:** {source}",
        f"- **SHA-256 of its text:** {_code_if_hex(document.sha256)}",
        f"- **Checked:** {md.day(checked_at(state))}" + ("" if reviewed else " (drafted; not reviewed yet)"),
        f"- **Reviewers:** {reviewers}",
        f"- **Rating scale:** {md.text(scale.title)}",
        "",
    ]


def _drafting(out: list[str], drafting: Drafting) -> None:
    usage = drafting.usage
    prompts = "; ".join(
        f"{md.text(p.name)} v{md.text(p.version)} (sha256 {_code_if_hex(p.sha256)})" for p in drafting.prompts
    )
    structured = ", ".join(md.text(mode) for mode in drafting.structured_output) or "none recorded"
    out += [
        "## How the claims were drafted",
        "",
        f"- **Model:** {md.text(drafting.model)}",
        f"- **Server:** {md.text(public_url(drafting.base_url))}",
        f"- **Mode:** {_MODES[drafting.mode]}",
        f"- **Structured output:** {structured}",
        f"- **Prompts:** {prompts or 'none recorded'}",
        f"- **Token usage:** {usage.requests:,} requests, {usage.prompt_tokens:,} prompt tokens, "
        f"{usage.completion_tokens:,} completion tokens"
        + (" (estimated by the fixture, not measured)" if _from_authored_fixture(drafting) else "")
        + (f"; {drafting.cached_responses:,} answers from the local cache" if drafting.cached_responses else ""),
        f"- **Drafted:** {md.when(drafting.started_at)} to {md.when(drafting.finished_at)}",
    ]
    if drafting.recordings:
        out.append("- **Recordings answered from:**")
        out += [f"  - {md.text(r.describe())}" for r in drafting.recordings]
    if drafting.failures:
        out.append("- **Drafting failed for:**")
        out += [f"  - {md.text(failure)}" for failure in drafting.failures]
    out.append("")


# --------------------------------------------------------------------------------------------------- summary


def _summary(out: list[str], counts: Tally, ratings: Ratings) -> None:
    pending = counts.count(Status.pending)
    out += ["## Summary", ""]
    if not counts.total:
        out += ["No claims were drafted from this document.", ""]
        return
    settled = {Status.agreed: "with an agreed verdict", Status.disputed: "disputed", Status.rejected: "rejected"}
    parts = [f"{counts.count(s)} {what}" for s, what in settled.items() if counts.count(s)]
    out += [
        f"{_plural(counts.total, 'claim', 'claims')}" + (f": {', '.join(parts)}." if parts else "."),
        "",
        f"**{_plural(pending, 'claim is', 'claims are')} pending review.**"
        if pending
        else "No claim is pending review.",
        "",
        f"`{md.bar(counts.decided, counts.total)}` {counts.decided} of {counts.total} decided",
        "",
        "| Verdict | Claims | Share |",
        "|---|---:|---|",
    ]
    rows = [(ratings.label(key), n) for key, n in counts.ratings.items()]
    rows += [(STATUS_LABELS[s], counts.count(s)) for s in (Status.disputed, Status.pending, Status.rejected)]
    out += [f"| {md.cell(label)} | {n} | `{md.bar(n, counts.total)}` |" for label, n in rows if n]
    out.append("")


def _claims_table(out: list[str], judged: list[tuple[ClaimState, Status]], ratings: Ratings) -> None:
    shown = [(claim, status) for claim, status in judged if status is not Status.rejected]
    if not shown:
        return
    out += ["## Claims", "", "| Claim | Statement | Verdict |", "|---|---|---|"]
    for claim, status in shown:
        ref = f"[{md.text(claim.claim.id)}](#{md.anchor(claim.claim.id)})"
        statement = md.cell(clip(claim.statement, _TABLE_CLIP))
        out.append(f"| {ref} | {statement} | {_verdict_cell(claim, status, ratings)} |")
    out.append("")


def _verdict_cell(claim: ClaimState, status: Status, ratings: Ratings) -> str:
    if status is Status.agreed:
        return f"**{md.cell(ratings.label(_agreed_rating(claim)))}**"
    if status is Status.disputed:
        return "Disputed: " + " / ".join(md.cell(ratings.label(r)) for r in ratings.ordered(claim.ratings))
    return STATUS_LABELS[status]


# --------------------------------------------------------------------------------------------------- one claim


def _claim_section(out: list[str], claim: ClaimState, status: Status, case: Case, ratings: Ratings) -> None:
    drafted, document = claim.claim, case.document
    out += [f"### {md.heading_of(drafted.id)}", ""]
    _verdict(out, claim, status, ratings)
    out.append(f"- **Statement:** {md.text(claim.statement)}")
    if claim.statement != drafted.statement:
        out.append(f"- **Originally drafted as:** {md.text(drafted.statement)}")
    out.append(
        f"- **Kind:** {drafted.kind.value.replace('_', ' ')} · **Nature:** {drafted.nature.value} · "
        f"**Check-worthiness:** {drafted.checkworthiness} of 5"
    )
    if drafted.entities:
        out.append(f"- **Entities:** {'; '.join(md.text(e) for e in drafted.entities)}")
    if drafted.time_reference:
        out.append(f"- **Time:** {md.text(drafted.time_reference)}")
    out.append(f"- **Drafted by:** {_drafter(claim, case.drafting)}; {_grounding(claim)}")
    out += [
        "",
        f"**Quote** (paragraph {drafted.paragraph + 1}, characters {drafted.start}–{drafted.end}):",
        "",
        "> " + _in_context(document.text, drafted.start, drafted.end, drafted.quote),
        "",
    ]
    if drafted.also_at:
        places = ", ".join(
            f"paragraph {document.paragraph_index(s.start) + 1} ({s.start}–{s.end})" for s in drafted.also_at
        )
        out += [f"The same words also stand at {places}.", ""]
    _questions(out, claim)
    _reviewers(out, claim, ratings)
    if claim.notes:
        out += ["**Notes:**", ""]
        out += [f"- {md.text(n.reviewer)}, {md.when(n.at)}: {md.text(n.text)}" for n in claim.notes]
        out.append("")
    if claim.sources:
        out += ["**Sources:**", ""]
        out += [f"- {_source(s.url, s.title, s.excerpt)}" for s in claim.sources]
        out.append("")
    if claim.history:
        out += ["**History:**", ""]
        out += [f"- {md.when(e.at)}, {md.text(e.reviewer)}: {_change(e, ratings)}" for e in claim.history]
        out.append("")


def _verdict(out: list[str], claim: ClaimState, status: Status, ratings: Ratings) -> None:
    if status is Status.agreed:
        key = _agreed_rating(claim)
        rating = ratings.get(key)
        definition = f" {md.text(rating.definition)}" if rating else ""
        out += [f"**Verdict: {md.text(ratings.label(key))}.**{definition}", ""]
    elif status is Status.disputed:
        out += ["**Verdict: disputed.** The reviewers disagree; each one's view is below.", ""]
    else:
        out += ["**Verdict: pending review.**", ""]


def _agreed_rating(claim: ClaimState) -> str:
    """The rating every reviewer gave, for a claim whose status is agreed."""
    return next(iter(claim.verdicts.values())).rating


def _drafter(claim: ClaimState, drafting: Drafting) -> str:
    """Who wrote the draft: the reviewer who added it, the fixture the case was replayed from, or the model."""
    if claim.claim.origin == "reviewer":
        added = next((e for e in claim.history if isinstance(e, AddClaimEvent)), None)
        return f"a reviewer, {md.text(added.reviewer)}" if added else "a reviewer"
    model = f"the model {md.text(claim.claim.model or drafting.model)}"
    kinds = {r.kind for r in drafting.recordings}
    if kinds == {"authored"}:
        return "a hand-authored fixture (not model output)"
    # A replay does not record which saved exchange answered which chunk, so a mixed one cannot say which it was.
    return f"{model} or a hand-authored fixture (the recordings mix both)" if "authored" in kinds else model


def _from_authored_fixture(drafting: Drafting) -> bool:
    return any(r.kind == "authored" for r in drafting.recordings)


def _grounding(claim: ClaimState) -> str:
    grounding = claim.claim.grounding
    found = {
        "exact": "the quote was found word for word",
        "normalised": "the quote was found after normalising spaces and punctuation",
        "fuzzy": f"the quote was found by approximate match (score {grounding.score:.2f})",
        "reviewer": "the quote was placed by a reviewer",
    }[grounding.method]
    if grounding.model_quote and grounding.model_quote != claim.claim.quote:
        writer = "the reviewer pasted" if claim.claim.origin == "reviewer" else "the model wrote"
        found += f"; {writer} “{md.text(grounding.model_quote)}”"
    return found


def _in_context(text: str, start: int, end: int, quote: str) -> str:
    """The quote in bold with the words around it from its paragraph, on one line."""
    before = text[max(0, start - _CONTEXT) : start].rsplit("\n", 1)
    after = text[end : end + _CONTEXT].split("\n", 1)
    head = before[-1] if len(before) > 1 or start <= _CONTEXT else "…" + before[-1].split(" ", 1)[-1]
    tail = after[0] if len(after) > 1 or end + _CONTEXT >= len(text) else after[0].rsplit(" ", 1)[0] + "…"
    core = quote.strip()
    return f"{md.text(head)}**{md.text(core)}**{md.text(tail)}" if core else md.text(head + tail)


def _questions(out: list[str], claim: ClaimState) -> None:
    if claim.claim.questions_error:
        out += [f"**Verification questions** could not be drafted: {md.text(claim.claim.questions_error)}", ""]
        return
    if not claim.claim.questions:
        return
    out += ["**Verification questions:**", ""]
    for number, q in enumerate(claim.claim.questions, start=1):
        out.append(f"{number}. {md.text(q.question)} *It would establish:* {md.text(q.establishes)}")
        out.append(f"   - Primary sources: {'; '.join(md.text(s) for s in q.primary_sources)}")
        out.append(f"   - Search: {md.text(q.search_query)}")
    out.append("")


def _reviewers(out: list[str], claim: ClaimState, ratings: Ratings) -> None:
    if not claim.verdicts:
        return
    out += ["**Reviewers' verdicts:**", ""]
    for reviewer in sorted(claim.verdicts):
        verdict = claim.verdicts[reviewer]
        line = f"- {md.text(reviewer)}: **{md.text(ratings.label(verdict.rating))}** ({md.when(verdict.at)})"
        if verdict.no_source:
            line += ", stating that no source could be cited"
        if verdict.note:
            line += f". Note: “{md.text(verdict.note)}”"
        out.append(line)
    out.append("")


def _source(url: str, title: str, excerpt: str | None) -> str:
    shown = md.link(title or url, url)
    return f"{shown}: “{md.text(excerpt)}”" if excerpt else shown


def _change(event: ReviewEvent, ratings: Ratings) -> str:
    """An event as a claim's history tells it, the words shared with the terminal, the text filling them escaped."""
    (_, history), said = event_words(event, ratings)
    return history.format_map({name: md.text(text) for name, text in said.items()})


# --------------------------------------------------------------------------------------------------- appendix


def _appendix(out: list[str], state: ReviewState, claims: list[ClaimState]) -> None:
    out += ["## Appendix A: claims the reviewers rejected", ""]
    rejected = [(c, c.rejected) for c in claims if c.rejected is not None]
    for claim, event in rejected:
        detail = f": {md.text(event.detail)}" if event.detail else ""
        out.append(
            f"- **{md.text(claim.claim.id)}**, “{md.text(claim.statement)}” (quote: “{md.text(claim.claim.quote)}”), "
            f"rejected by {md.text(event.reviewer)} on {md.day(event.at)} as {REJECT_REASONS[event.reason][0]}{detail}"
        )
    out += ([] if rejected else ["None."]) + ["", "## Appendix B: model drafts that failed grounding", ""]
    drafts = sorted(state.case.rejected, key=lambda r: r.chunk)
    if drafts:
        out += [
            "The model proposed these; the program could not place them in the document, so they are not claims.",
            "",
        ]
    for draft in drafts:
        out.append(
            f"- Chunk {draft.chunk + 1}: “{md.text(draft.draft.quote)}” ({md.text(draft.draft.statement)}). "
            f"Reason: {md.text(draft.reason)}"
        )
    out += ([] if drafts else ["None."]) + [""]
    if state.warnings:
        out += ["## Appendix C: review log lines that could not be read", ""]
        out += [f"- {md.text(w)}" for w in state.warnings] + [""]
    while out and not out[-1]:
        out.pop()


# --------------------------------------------------------------------------------------------------- helpers


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _code_if_hex(value: str) -> str:
    return f"`{value}`" if value and all(c in "0123456789abcdefABCDEF" for c in value) else md.text(value)
