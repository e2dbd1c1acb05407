"""The review library: rating scales, the state folded from the log, and the rules every recorded action obeys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import make_case
from review_helpers import at, by_worth, save_case, source, verdict

from factcheck import store
from factcheck.errors import UserError
from factcheck.extract import claim_id
from factcheck.grounding import ground_quote
from factcheck.missed_claims import add_claim_event, ground_pasted_quote, overlapping_claims
from factcheck.models import (
    AddClaimEvent,
    ClaimKind,
    EditEvent,
    Nature,
    NoteEvent,
    RejectEvent,
    RestoreEvent,
    Source,
    VerdictEvent,
)
from factcheck.ratings import load_scale
from factcheck.review import (
    build_verdict,
    can_rate,
    can_reject,
    check_url,
    clip,
    default_reviewer,
    fold,
    load_state,
    make_source,
    progress,
    queue_order,
    record_verdict,
)
from factcheck.tally import Status, status_of

MEMBERS, RICO, PRISON, OPINION = by_worth()


# --------------------------------------------------------------------------------------------------- scales


@pytest.mark.parametrize("name", ["newsroom", "averitec"])
def test_load_scale_finds_the_scales_shipped_by_name(name: str) -> None:
    assert load_scale(name).name == name


def test_load_scale_reads_a_scale_from_a_json_file(tmp_path: Path) -> None:
    path = tmp_path / "yesno.json"
    ratings = [{"key": "yes", "label": "Yes", "definition": "So.", "value": 2}]
    path.write_text(json.dumps({"name": "yesno", "title": "Yes/no", "best": 2, "worst": 1, "ratings": ratings}))
    assert load_scale(str(path)).rating("YES") is not None


def test_load_scale_refuses_an_unknown_name_and_names_the_known_ones() -> None:
    with pytest.raises(UserError, match="no rating scale 'nope'") as caught:
        load_scale("nope")
    assert "newsroom" in str(caught.value)


def test_load_scale_refuses_a_scale_with_a_key_used_twice(tmp_path: Path) -> None:
    path = tmp_path / "twice.json"
    rating = {"key": "yes", "label": "Yes", "definition": "So.", "value": 1}
    path.write_text(json.dumps({"name": "t", "title": "T", "best": 1, "worst": 1, "ratings": [rating, rating]}))
    with pytest.raises(UserError, match="used twice: yes"):
        load_scale(str(path))


def test_load_scale_refuses_a_file_that_is_not_a_scale(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(UserError, match="not a valid rating scale"):
        load_scale(str(path))


# --------------------------------------------------------------------------------------------------- fold


def test_fold_keeps_each_reviewers_latest_verdict() -> None:
    state = fold(make_case(), [verdict(MEMBERS, "true", minute=0), verdict(MEMBERS, "false", minute=1)])
    members = state.get(MEMBERS)
    assert members is not None
    assert members.verdicts["ana"].rating == "false"
    assert members.rating == "false"


def test_fold_makes_different_latest_verdicts_of_two_reviewers_a_dispute() -> None:
    state = fold(make_case(), [verdict(MEMBERS, "true", "ana"), verdict(MEMBERS, "false", "bob", 1)])
    members = state.get(MEMBERS)
    assert members is not None
    assert members.disputed
    assert members.rating is None
    assert {v.rating for v in members.verdicts.values()} == {"true", "false"}


def test_fold_ends_a_dispute_when_a_reviewer_comes_round() -> None:
    events = [verdict(MEMBERS, "true", "ana"), verdict(MEMBERS, "false", "bob", 1), verdict(MEMBERS, "false", "ana", 2)]
    members = fold(make_case(), events).get(MEMBERS)
    assert members is not None
    assert not members.disputed
    assert members.rating == "false"


def test_fold_applies_edits_in_order_and_keeps_the_drafted_statement() -> None:
    case = make_case()
    drafted = next(c.statement for c in case.claims if c.id == RICO)
    edits = [
        EditEvent(event_id="e1", at=at(0), reviewer="ana", claim_id=RICO, statement="first", previous=drafted),
        EditEvent(event_id="e2", at=at(1), reviewer="bob", claim_id=RICO, statement="second", previous="first"),
    ]
    rico = fold(case, edits).get(RICO)
    assert rico is not None
    assert (rico.statement, rico.claim.statement) == ("second", drafted)


def _edit(claim_id: str, reviewer: str = "bob", minute: int = 5, statement: str = "new wording") -> EditEvent:
    return EditEvent(
        event_id=f"e-{reviewer}-{minute}", at=at(minute), reviewer=reviewer, claim_id=claim_id,
        statement=statement, previous="",
    )  # fmt: skip


def _reject(claim_id: str, reviewer: str = "bob", minute: int = 5) -> RejectEvent:
    return RejectEvent(
        event_id=f"r-{reviewer}-{minute}", at=at(minute), reviewer=reviewer, claim_id=claim_id, reason="not_checkable"
    )


def test_fold_sets_aside_the_verdicts_given_before_an_edit_of_the_wording() -> None:
    events = [verdict(MEMBERS, "true", "ana"), _edit(MEMBERS, "bob")]
    members = fold(make_case(), events).get(MEMBERS)
    assert members is not None
    assert (members.verdicts, members.rating, members.reviewed) == ({}, None, False)
    assert [(s.verdict.reviewer, s.verdict.rating, s.cause, s.by) for s in members.set_aside] == [
        ("ana", "true", "edit", "bob")
    ]
    assert [e.action for e in members.history] == ["verdict", "edit"]
    assert members.reworded and status_of(members) is Status.pending


def test_fold_counts_a_verdict_given_after_an_edit_for_the_new_wording() -> None:
    events = [verdict(MEMBERS, "true", "ana"), _edit(MEMBERS, "bob"), verdict(MEMBERS, "false", "ana", minute=9)]
    members = fold(make_case(), events).get(MEMBERS)
    assert members is not None
    assert (members.rating, members.reworded) == ("false", False)


def test_fold_keeps_the_verdicts_when_an_edit_leaves_the_wording_as_it_was() -> None:
    drafted = next(c.statement for c in make_case().claims if c.id == MEMBERS)
    events = [verdict(MEMBERS, "true", "ana"), _edit(MEMBERS, "bob", statement=drafted)]
    members = fold(make_case(), events).get(MEMBERS)
    assert members is not None and members.rating == "true"


def test_fold_sets_aside_a_verdict_given_on_a_wording_an_edit_replaced_before_the_verdict_landed() -> None:
    drafted = next(c.statement for c in make_case().claims if c.id == MEMBERS)
    events = [_edit(MEMBERS, "bob", minute=5), verdict(MEMBERS, "false", "ana", minute=6, statement=drafted)]
    members = fold(make_case(), events).get(MEMBERS)
    assert members is not None
    assert (members.verdicts, members.rating, members.reviewed) == ({}, None, False)
    assert [(s.verdict.reviewer, s.verdict.rating, s.cause, s.by) for s in members.set_aside] == [
        ("ana", "false", "edit", "bob")
    ]
    assert members.reworded and status_of(members) is Status.pending


def test_fold_counts_a_verdict_that_names_the_wording_the_claim_has() -> None:
    events = [_edit(MEMBERS, "bob", minute=5), verdict(MEMBERS, "false", "ana", minute=6, statement="new wording")]
    members = fold(make_case(), events).get(MEMBERS)
    assert members is not None and members.rating == "false"


def test_fold_counts_a_verdict_from_a_log_written_before_verdicts_named_their_wording() -> None:
    events = [_edit(MEMBERS, "bob", minute=5), verdict(MEMBERS, "false", "ana", minute=6)]
    members = fold(make_case(), events).get(MEMBERS)
    assert members is not None and members.rating == "false"


def test_progress_counts_claims_back_to_pending_after_an_edit() -> None:
    events = [verdict(MEMBERS, "true", "ana"), _edit(MEMBERS, "bob")]
    counts = progress(fold(make_case(), events), load_scale("newsroom"))
    assert (counts.reviewed, counts.reworded, counts.ratings) == (0, 1, {})


def test_fold_makes_a_rejection_while_another_reviewers_verdict_stands_a_dispute() -> None:
    events = [verdict(MEMBERS, "true", "ana"), _reject(MEMBERS, "bob")]
    state = fold(make_case(), events)
    members = state.get(MEMBERS)
    assert members is not None
    assert (members.disputed, members.rating, members.rejected) == (True, None, None)
    assert members.rejection is not None and members.rejection.reviewer == "bob"
    assert status_of(members) is Status.disputed
    counts = progress(state, load_scale("newsroom"))
    assert (counts.disputed, counts.rejected, counts.ratings) == (1, 0, {})


def test_fold_sets_aside_the_rejecting_reviewers_own_earlier_verdict() -> None:
    events = [verdict(MEMBERS, "true", "ana"), _reject(MEMBERS, "ana")]
    members = fold(make_case(), events).get(MEMBERS)
    assert members is not None
    assert (members.verdicts, members.disputed) == ({}, False)
    assert members.rejected is not None and members.rejected.reviewer == "ana"
    assert [(s.verdict.rating, s.cause) for s in members.set_aside] == [("true", "reject")]


def test_fold_ends_a_disputed_rejection_when_it_is_restored() -> None:
    events = [verdict(MEMBERS, "true", "ana"), _reject(MEMBERS, "bob"), RestoreEvent(
        event_id="u1", at=at(9), reviewer="bob", claim_id=MEMBERS
    )]  # fmt: skip
    members = fold(make_case(), events).get(MEMBERS)
    assert members is not None
    assert (members.disputed, members.rating) == (False, "true")


def test_fold_reject_then_restore_leaves_the_claim_waiting_for_review() -> None:
    events = [
        RejectEvent(event_id="r1", at=at(0), reviewer="ana", claim_id=OPINION, reason="not_checkable"),
        RestoreEvent(event_id="r2", at=at(1), reviewer="bob", claim_id=OPINION),
    ]
    opinion = fold(make_case(), events).get(OPINION)
    assert opinion is not None
    assert opinion.rejected is None
    assert not opinion.reviewed
    assert [e.action for e in opinion.history] == ["reject", "restore"]


def test_fold_counts_an_event_seen_twice_once() -> None:
    note = NoteEvent(event_id="n1", at=at(0), reviewer="ana", claim_id=PRISON, text="checked")
    state = fold(make_case(), [note, note])
    prison = state.get(PRISON)
    assert prison is not None
    assert len(prison.notes) == 1
    assert state.events == 1


def test_fold_skips_an_event_about_an_unknown_claim_with_a_warning() -> None:
    state = fold(make_case(), [verdict("c-missing", "true")])
    assert state.events == 1
    assert "'c-missing', not in the case" in state.warnings[0]


def test_fold_keeps_one_copy_of_a_source_cited_twice() -> None:
    state = fold(make_case(), [source(MEMBERS, reviewer="ana"), source(MEMBERS, reviewer="bob", minute=1)])
    members = state.get(MEMBERS)
    assert members is not None
    assert len(members.sources) == 1
    assert len(members.history) == 2


def test_fold_lists_reviewers_in_the_order_they_first_acted() -> None:
    events = [verdict(MEMBERS, "true", "zoe"), verdict(RICO, "true", "ana", 1), verdict(PRISON, "true", "zoe", 2)]
    assert fold(make_case(), events).reviewers == ["zoe", "ana"]


def test_fold_adds_a_reviewers_claim_in_document_order() -> None:
    case = make_case()
    state = fold(case, [])
    start, end, _ = ground_pasted_quote(case, "Tren de Aragua has sown chaos")
    event = add_claim_event(
        state, start=start, end=end, pasted="Tren de Aragua has sown chaos", statement="TdA has sown chaos",
        kind=ClaimKind.characterisation, nature=Nature.opinion, checkworthiness=2, reviewer="ana", at=at(0),
    )  # fmt: skip
    folded = fold(case, [event])
    starts = [c.claim.start for c in folded.claims]
    assert starts == sorted(starts)
    added = folded.get(event.claim_id)
    assert added is not None
    assert added.claim.origin == "reviewer"


def test_fold_skips_an_added_claim_whose_quote_is_not_the_documents_text_with_a_warning() -> None:
    case = make_case()
    forged = case.claims[0].model_copy(update={"id": "rforged", "quote": "words never written"})
    event = AddClaimEvent(event_id="a1", at=at(0), reviewer="ana", claim_id="rforged", claim=forged)
    state = fold(case, [event])
    assert state.get("rforged") is None
    assert "is not the document's text" in state.warnings[0]


def test_load_state_skips_a_torn_last_line_with_a_warning_and_keeps_the_rest(tmp_path: Path) -> None:
    folder = save_case(tmp_path, events=[verdict(MEMBERS, "false")])
    with (folder / store.LOG_FILE).open("ab") as log:
        log.write(b'{"event_id": "torn", "at": "2026-11-25T10:0')
    state = load_state(folder)
    members = state.get(MEMBERS)
    assert members is not None and members.rating == "false"
    assert len(state.warnings) == 1
    assert "incomplete last line" in state.warnings[0]


def test_a_write_after_a_torn_line_stands_on_its_own_line_and_the_torn_line_stays(tmp_path: Path) -> None:
    folder = save_case(tmp_path, events=[verdict(MEMBERS, "false")])
    with (folder / store.LOG_FILE).open("ab") as log:
        log.write(b'{"event_id": "torn"')
    store.append_event(folder, verdict(RICO, "true", minute=1))
    lines = (folder / store.LOG_FILE).read_bytes().splitlines()
    assert lines[1] == b'{"event_id": "torn"'
    state = load_state(folder)
    assert [c.rating for c in (state.get(MEMBERS), state.get(RICO)) if c] == ["false", "true"]
    assert "unreadable line" in state.warnings[0]


# --------------------------------------------------------------------------------------------------- progress


def test_queue_puts_the_most_checkworthy_first_then_follows_the_document() -> None:
    assert queue_order(fold(make_case(), [])) == [MEMBERS, RICO, PRISON, OPINION]


def test_queue_of_equally_checkworthy_claims_follows_the_document() -> None:
    case = make_case()
    case = case.model_copy(update={"claims": [c.model_copy(update={"checkworthiness": 3}) for c in case.claims]})
    in_document = [c.id for c in sorted(case.claims, key=lambda c: c.start)]
    assert queue_order(fold(case, [])) == in_document


def test_queue_of_unreviewed_claims_leaves_out_rated_and_rejected_ones() -> None:
    events = [
        verdict(MEMBERS, "true"),
        RejectEvent(event_id="r1", at=at(1), reviewer="ana", claim_id=OPINION, reason="not_checkable"),
    ]
    assert queue_order(fold(make_case(), events), "unreviewed") == [RICO, PRISON]


def test_queue_of_disputed_claims_holds_only_claims_reviewers_disagree_on() -> None:
    events = [verdict(MEMBERS, "true", "ana"), verdict(MEMBERS, "false", "bob"), verdict(RICO, "true", "ana")]
    assert queue_order(fold(make_case(), events), "disputed") == [MEMBERS]


def test_progress_counts_reviewed_disputed_rejected_and_agreed_ratings_in_scale_order() -> None:
    events = [
        verdict(MEMBERS, "true", "ana"),
        verdict(MEMBERS, "false", "bob"),
        verdict(RICO, "false", "ana"),
        verdict(PRISON, "true", "ana"),
        RejectEvent(event_id="r1", at=at(1), reviewer="ana", claim_id=OPINION, reason="duplicate"),
    ]
    counts = progress(fold(make_case(), events), load_scale("newsroom"))
    assert (counts.total, counts.reviewed, counts.disputed, counts.rejected) == (4, 4, 1, 1)
    assert list(counts.ratings.items()) == [("true", 1), ("false", 1)]


# --------------------------------------------------------------------------------------------------- rules


@pytest.mark.parametrize("url", ["https://example.org/x?y=1", "http://localhost:8000/a", "HTTPS://EXAMPLE.ORG"])
def test_check_url_accepts_http_and_https_addresses_with_a_host(url: str) -> None:
    assert check_url(f"  {url} ") == url


@pytest.mark.parametrize(
    "url", ["example.org", "ftp://example.org/a", "https://", "http:///path", "https://a b.org", ""]
)
def test_check_url_refuses_anything_else_in_one_line(url: str) -> None:
    with pytest.raises(UserError, match="is not a web address") as caught:
        check_url(url)
    assert "\n" not in str(caught.value)


def _verdict(rating: str, claim_id: str = MEMBERS, events: list[VerdictEvent] | None = None, **extra: object) -> list:
    state = fold(make_case(), events or [])
    return build_verdict(state, load_scale("newsroom"), claim_id=claim_id, rating=rating, reviewer="ana", **extra)  # type: ignore[arg-type]


def test_a_verdict_that_needs_evidence_is_refused_without_a_source() -> None:
    with pytest.raises(UserError, match="'false' verdict needs a source"):
        _verdict("false")


def test_a_verdict_with_a_source_records_the_source_first() -> None:
    events = _verdict("false", source=Source(url="https://example.org", title="E"))
    assert [e.action for e in events] == ["source", "verdict"]


def test_a_verdict_without_a_source_needs_a_note_saying_why() -> None:
    with pytest.raises(UserError, match="needs a note"):
        _verdict("false", no_source=True)
    (event,) = _verdict("false", no_source=True, note="Nothing on record anywhere.")
    assert isinstance(event, VerdictEvent) and event.no_source


def test_a_rating_that_needs_no_evidence_needs_no_source() -> None:
    (event,) = _verdict("opinion", claim_id=OPINION)
    assert isinstance(event, VerdictEvent) and event.rating == "opinion"


def test_another_reviewers_source_is_no_evidence_for_a_verdict() -> None:
    state = fold(make_case(), [source(MEMBERS, reviewer="bob")])
    with pytest.raises(UserError, match=f"'true' verdict needs a source ana cited on claim {MEMBERS}"):
        build_verdict(state, load_scale("newsroom"), claim_id=MEMBERS, rating="true", reviewer="ana")


def test_a_source_the_reviewer_cited_on_the_claim_before_counts_as_evidence() -> None:
    state = fold(make_case(), [source(MEMBERS, reviewer="ana")])
    (event,) = build_verdict(state, load_scale("newsroom"), claim_id=MEMBERS, rating="true", reviewer="ana")
    assert event.action == "verdict"


def test_a_note_longer_than_the_limit_is_refused_in_one_line_stating_the_limit() -> None:
    with pytest.raises(UserError, match="the note is 4,001 characters; the limit is 4,000") as caught:
        _verdict("false", no_source=True, note="x" * 4001)
    assert "\n" not in str(caught.value)


def test_an_excerpt_longer_than_the_limit_is_refused_stating_the_limit() -> None:
    with pytest.raises(UserError, match="the excerpt is 4,001 characters; the limit is 4,000"):
        make_source("https://example.org", "E", "x" * 4001)


def test_the_reviewer_who_rejected_a_claim_others_rated_cannot_also_rate_it() -> None:
    events = [source(MEMBERS, reviewer="ana"), verdict(MEMBERS, "true", "ana"), _reject(MEMBERS, "bob", minute=1)]
    state = fold(make_case(), events)
    with pytest.raises(UserError, match="is rejected"):
        build_verdict(state, load_scale("newsroom"), claim_id=MEMBERS, rating="opinion", reviewer="bob")


def test_a_verdict_names_the_wording_it_was_given_on() -> None:
    state = fold(make_case(), [_edit(OPINION, "bob", statement="Cutting off those resources weakens the gang")])
    (event,) = build_verdict(state, load_scale("newsroom"), claim_id=OPINION, rating="opinion", reviewer="ana")
    assert isinstance(event, VerdictEvent) and event.statement == "Cutting off those resources weakens the gang"


def test_a_rejected_claim_can_be_rated_only_by_another_reviewer_while_their_verdict_disputes_it() -> None:
    rejected = fold(make_case(), [_reject(MEMBERS, "bob")]).get(MEMBERS)
    disputed = fold(make_case(), [verdict(MEMBERS, "true", "ana"), _reject(MEMBERS, "bob")]).get(MEMBERS)
    assert rejected is not None and disputed is not None
    assert (can_rate(rejected, "ana"), can_rate(rejected, "bob")) == (False, False)
    assert (can_rate(disputed, "ana"), can_rate(disputed, "bob")) == (True, False)


def test_a_rejected_claim_can_be_rejected_again_only_by_a_reviewer_whose_verdict_disputes_it() -> None:
    open_ = fold(make_case(), []).get(MEMBERS)
    disputed = fold(make_case(), [verdict(MEMBERS, "true", "ana"), _reject(MEMBERS, "bob")]).get(MEMBERS)
    assert open_ is not None and disputed is not None
    assert can_reject(open_, "ana")
    assert [can_reject(disputed, name) for name in ("ana", "bob", "cy")] == [True, False, False]


def test_clip_shortens_text_at_a_word_boundary_on_one_line() -> None:
    assert clip("Tren de Aragua\nhas sown chaos", 40) == "Tren de Aragua has sown chaos"
    assert clip("Tren de Aragua has sown chaos, undermined", 31) == "Tren de Aragua has sown chaos…"


def test_a_verdict_records_the_reviewers_previous_rating() -> None:
    (event,) = _verdict("opinion", events=[verdict(MEMBERS, "unproven", no_source=True, note="n")])
    assert isinstance(event, VerdictEvent) and event.previous == "unproven"


def test_a_verdict_with_a_rating_off_the_scale_is_refused_with_the_keys() -> None:
    with pytest.raises(UserError, match="'sorta' is not a rating of the newsroom scale") as caught:
        _verdict("sorta")
    assert "mostly-true" in str(caught.value)


def test_a_verdict_on_a_rejected_claim_is_refused() -> None:
    state = fold(make_case(), [RejectEvent(event_id="r", at=at(0), reviewer="bob", claim_id=MEMBERS, reason="other")])
    with pytest.raises(UserError, match="is rejected"):
        build_verdict(state, load_scale("newsroom"), claim_id=MEMBERS, rating="opinion", reviewer="ana")


def test_a_verdict_on_an_unknown_claim_is_refused_with_the_known_ids() -> None:
    with pytest.raises(UserError, match="no claim 'c000000'") as caught:
        _verdict("opinion", claim_id="c000000")
    assert MEMBERS in str(caught.value)


def test_record_verdict_appends_to_the_log_of_the_case(tmp_path: Path) -> None:
    folder = save_case(tmp_path)
    record_verdict(folder, claim_id=MEMBERS, rating="false", reviewer="ana", source_url="https://example.org/x")
    events, warnings = store.read_events(folder)
    assert [e.action for e in events] == ["source", "verdict"]
    assert events[0].source.title == "https://example.org/x"  # type: ignore[union-attr]
    assert warnings == []


def test_default_reviewer_is_factcheck_reviewer_else_the_login_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTCHECK_REVIEWER", "ana")
    assert default_reviewer() == "ana"
    monkeypatch.delenv("FACTCHECK_REVIEWER")
    monkeypatch.setenv("LOGNAME", "login-name")
    assert default_reviewer() == "login-name"


# --------------------------------------------------------------------------------------------------- added claims


def test_a_pasted_quote_is_found_exactly() -> None:
    case = make_case()
    start, end, words = ground_pasted_quote(case, "Tren de Aragua has sown chaos")
    assert case.document.text[start:end] == words == "Tren de Aragua has sown chaos"


def test_a_pasted_quote_with_straight_quotes_and_extra_spaces_is_found_after_normalising() -> None:
    case = make_case()
    start, end, words = ground_pasted_quote(case, "The Peruvian  government's recent call")
    assert words == "The Peruvian government’s recent call"
    assert case.document.text[start:end] == words


def test_a_pasted_quote_not_in_the_document_is_refused_in_one_line() -> None:
    with pytest.raises(UserError, match="not in the document") as caught:
        ground_pasted_quote(make_case(), "Tren de Aragua has 50,000 members in Spain")
    assert "\n" not in str(caught.value)


def test_a_quote_grounded_without_fuzzy_matching_is_found_only_exactly_or_after_normalising() -> None:
    text = make_case().document.text
    approximate = "Tren de Aragua has sown chaos, undermined local governance and hope"
    found = ground_quote(text, approximate)
    assert found is not None and found.grounding.method == "fuzzy"
    assert ground_quote(text, approximate, fuzzy=False) is None
    normalised = ground_quote(text, "The Peruvian  government's recent call", fuzzy=False)
    assert normalised is not None and normalised.grounding.method == "normalised"


def test_a_reviewers_claim_has_the_id_a_draft_of_the_same_words_would_have_marked_r() -> None:
    case = make_case()
    start, end, words = ground_pasted_quote(case, "Tren de Aragua has sown chaos")
    event = add_claim_event(
        fold(case, []), start=start, end=end, pasted=words, statement="", kind=ClaimKind.other,
        nature=Nature.fact, checkworthiness=3, reviewer="ana",
    )  # fmt: skip
    assert event.claim.id == "r" + claim_id(case.document, start, end)[1:]


def test_a_pasted_quote_found_only_approximately_is_refused_with_the_closest_words() -> None:
    with pytest.raises(UserError, match="word for word") as caught:
        ground_pasted_quote(make_case(), "Tren de Aragua has sown chaos, undermined local governance and hope")
    assert "closest: 'Tren de Aragua has sown chaos, undermined local governance" in str(caught.value)


def test_a_pasted_quote_found_after_normalising_keeps_the_final_period_the_text_has() -> None:
    case = make_case()
    start, end, words = ground_pasted_quote(case, "Alfredo Ferrero is Peru's ambassador to the U.S.")
    assert words == "Alfredo Ferrero is Peru’s ambassador to the U.S."
    assert case.document.text[start:end] == words


def test_an_added_claim_typed_differently_from_the_text_records_a_normalised_match() -> None:
    case = make_case()
    typed = "Alfredo Ferrero is Peru's ambassador to the U.S."
    start, end, _ = ground_pasted_quote(case, typed)
    event = add_claim_event(
        fold(case, []), start=start, end=end, pasted=typed, statement="", kind=ClaimKind.other,
        nature=Nature.fact, checkworthiness=3, reviewer="ana",
    )  # fmt: skip
    assert (event.claim.grounding.method, event.claim.grounding.model_quote) == ("normalised", typed)


def test_overlapping_claims_are_those_sharing_words_with_the_span_but_not_standing_exactly_on_it() -> None:
    case = make_case()
    members = next(c for c in case.claims if c.id == MEMBERS)
    state = fold(case, [])
    assert [c.claim.id for c in overlapping_claims(state, members.start + 5, members.end + 10)] == [MEMBERS]
    assert overlapping_claims(state, members.start, members.end) == []


def test_an_added_claim_over_the_words_of_an_existing_claim_is_refused() -> None:
    case = make_case()
    existing = next(c for c in case.claims if c.id == MEMBERS)
    with pytest.raises(UserError, match=f"already claim {MEMBERS}"):
        add_claim_event(
            fold(case, []), start=existing.start, end=existing.end, pasted=existing.quote, statement="",
            kind=ClaimKind.other, nature=Nature.fact, checkworthiness=3, reviewer="ana",
        )  # fmt: skip
