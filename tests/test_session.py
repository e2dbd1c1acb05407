"""The review session as a state machine, driven line by line without a terminal."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_case
from review_helpers import by_worth, save_case, source, verdict

from factcheck import store
from factcheck.commands import Reply
from factcheck.models import AddClaimEvent, EditEvent, NoteEvent, RejectEvent, SourceEvent, VerdictEvent
from factcheck.session import Session

MEMBERS, RICO, PRISON, OPINION = by_worth()
URL = "https://www.justice.gov/opa/pr/tren-de-aragua"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return save_case(tmp_path)


def feed(session: Session, *lines: str) -> Reply:
    """Feed each line in turn; the last reply, with the messages of every reply."""
    messages = []
    reply = Reply()
    for line in lines:
        reply = session.feed(line)
        messages += reply.messages
    reply.messages = messages
    return reply


def logged(folder: Path) -> list[str]:
    return [e.action for e in store.read_events(folder)[0]]


def texts(reply: Reply) -> str:
    return "\n".join(text for _, text in reply.messages)


def on(session: Session) -> str:
    assert session.current is not None
    return session.current.claim.id


# --------------------------------------------------------------------------------------------------- verdicts


def test_a_session_starts_on_the_most_checkworthy_claim(folder: Path) -> None:
    assert on(Session(folder, "ana")) == MEMBERS


def test_a_verdict_with_a_source_is_in_the_log_when_feed_returns(folder: Path) -> None:
    session = Session(folder, "ana")
    feed(session, "v", "6", URL, "DOJ press release", "", "Charges name 27 people, not 5,000")
    events = store.read_events(folder)[0]
    assert [e.action for e in events] == ["source", "verdict"]
    assert isinstance(events[1], VerdictEvent)
    assert (events[1].rating, events[1].note, events[1].reviewer) == (
        "false",
        "Charges name 27 people, not 5,000",
        "ana",
    )


def test_a_rating_key_typed_at_the_prompt_starts_a_verdict_with_that_rating(folder: Path) -> None:
    session = Session(folder, "ana")
    reply = session.feed("mostly-false")
    assert session.asking is not None and session.asking.label == "Source URL"
    assert reply.recorded == []


def test_a_verdict_moves_on_to_the_next_claim_waiting_for_the_reviewer(folder: Path) -> None:
    session = Session(folder, "ana")
    reply = feed(session, "false", URL, "DOJ", "", "")
    assert reply.view == "claim"
    assert on(session) == RICO


def test_none_as_the_source_asks_why_and_records_a_verdict_without_a_source(folder: Path) -> None:
    session = Session(folder, "ana")
    feed(session, "unproven", "none", "No register lists the members")
    (event,) = store.read_events(folder)[0]
    assert isinstance(event, VerdictEvent)
    assert event.no_source and event.note == "No register lists the members"


def test_a_rating_that_needs_no_evidence_asks_only_for_a_note(folder: Path) -> None:
    session = Session(folder, "ana")
    feed(session, f"g {OPINION}", "opinion")
    assert session.asking is not None and session.asking.label == "Note"
    feed(session, "")
    assert logged(folder) == ["verdict"]


def test_another_reviewers_source_on_the_claim_does_not_spare_asking_for_a_source(tmp_path: Path) -> None:
    folder = save_case(tmp_path, events=[source(MEMBERS, reviewer="bob")])
    session = Session(folder, "ana")
    feed(session, "true")
    assert session.asking is not None and session.asking.label == "Source URL"


def test_a_reviewer_who_already_cited_a_source_keeps_it_with_enter(tmp_path: Path) -> None:
    folder = save_case(tmp_path, events=[source(MEMBERS, reviewer="ana")])
    session = Session(folder, "ana")
    feed(session, "true")
    assert session.asking is not None and session.asking.label == "Source URL"
    assert "Enter keeps yours" in session.asking.hint
    feed(session, "", "")
    assert logged(folder) == ["source", "verdict"]


def test_a_reviewer_who_already_cited_a_source_may_cite_another(tmp_path: Path) -> None:
    folder = save_case(tmp_path, events=[source(MEMBERS, reviewer="ana")])
    session = Session(folder, "ana")
    feed(session, "true", URL, "DOJ", "", "")
    assert logged(folder) == ["source", "source", "verdict"]


def test_a_bad_url_is_asked_again_with_a_one_line_hint(folder: Path) -> None:
    session = Session(folder, "ana")
    reply = feed(session, "false", "www.example.org")
    assert session.asking is not None and session.asking.label == "Source URL"
    assert reply.messages == [
        ("error", "'www.example.org' is not a web address (give a full http:// or https:// URL with a host)")
    ]


def test_a_number_off_the_scale_is_asked_again(folder: Path) -> None:
    session = Session(folder, "ana")
    reply = feed(session, "v", "12")
    assert session.asking is not None and session.asking.label == "Rating"
    assert "'12' is not a rating" in texts(reply)


def test_an_empty_answer_to_the_first_field_cancels_and_records_nothing(folder: Path) -> None:
    session = Session(folder, "ana")
    reply = feed(session, "v", "")
    assert session.asking is None
    assert "cancelled; nothing recorded" in texts(reply)
    assert logged(folder) == []


def test_enter_on_the_title_uses_the_url_and_the_verdict_goes_on(folder: Path) -> None:
    session = Session(folder, "ana")
    feed(session, "false", URL, "")
    assert session.asking is not None and session.asking.label == "Excerpt"
    feed(session, "", "")
    source_event = store.read_events(folder)[0][0]
    assert isinstance(source_event, SourceEvent) and source_event.source.title == URL


def test_an_empty_answer_to_a_later_required_field_asks_again(folder: Path) -> None:
    session = Session(folder, "ana")
    reply = feed(session, "v", "6", "")
    assert session.asking is not None and session.asking.label == "Source URL"
    assert ("error", "source url is required here (Ctrl-C cancels the whole form)") in reply.messages


def test_cancel_drops_the_form_being_filled_in(folder: Path) -> None:
    session = Session(folder, "ana")
    feed(session, "false", URL)
    reply = session.cancel()
    assert session.asking is None
    assert reply.messages == [("info", "cancelled; nothing recorded")]
    assert logged(folder) == []


def test_a_second_reviewers_different_verdict_is_reported_as_a_dispute(tmp_path: Path) -> None:
    folder = save_case(tmp_path, events=[source(MEMBERS), verdict(MEMBERS, "true", "ana")])
    session = Session(folder, "bob")
    reply = feed(session, "false", "none", "No register lists the members")
    assert ("warn", "disputed: ana rated it True") in reply.messages
    state = session.state.get(MEMBERS)
    assert state is not None and state.disputed


def test_another_reviewers_verdict_shows_up_in_a_running_session(folder: Path) -> None:
    ana, bob = Session(folder, "ana"), Session(folder, "bob")
    feed(bob, "true", URL, "DOJ", "", "")
    feed(ana, "l")
    members = ana.state.get(MEMBERS)
    assert members is not None and "bob" in members.verdicts


def test_a_source_another_reviewer_added_meanwhile_is_no_source_of_the_next_verdict(folder: Path) -> None:
    session = Session(folder, "bob")
    store.append_event(folder, source(MEMBERS, reviewer="ana"))
    feed(session, "true")
    assert session.asking is not None and session.asking.label == "Source URL"


def test_rejecting_a_claim_another_reviewer_rated_is_reported_as_a_dispute(tmp_path: Path) -> None:
    folder = save_case(tmp_path, events=[source(MEMBERS), verdict(MEMBERS, "true", "ana")])
    session = Session(folder, "bob")
    reply = feed(session, "r", "1", "")
    assert ("warn", "disputed: ana rated it True") in reply.messages
    state = session.state.get(MEMBERS)
    assert state is not None and state.disputed and state.rejected is None


def test_rejecting_a_claim_one_rated_oneself_sets_that_verdict_aside_and_says_so(tmp_path: Path) -> None:
    folder = save_case(tmp_path, events=[source(MEMBERS), verdict(MEMBERS, "true", "ana")])
    session = Session(folder, "ana")
    reply = feed(session, f"g {MEMBERS}", "r", "1", "")
    assert ("info", "your earlier verdict is set aside by your rejection (ana's True)") in reply.messages
    state = session.state.get(MEMBERS)
    assert state is not None and not state.disputed and state.rejected is not None


def test_a_reviewer_whose_verdict_a_rejection_disputes_can_reject_the_claim_too(tmp_path: Path) -> None:
    reject = RejectEvent(event_id="r1", at=verdict(MEMBERS, "x", minute=1).at, reviewer="bob", claim_id=MEMBERS,
                         reason="not_checkable")  # fmt: skip
    folder = save_case(tmp_path, events=[source(MEMBERS), verdict(MEMBERS, "true", "ana"), reject])
    session = Session(folder, "ana")
    feed(session, f"g {MEMBERS}", "r", "1", "")
    assert [e.reviewer for e in store.read_events(folder)[0] if isinstance(e, RejectEvent)] == ["bob", "ana"]
    state = session.state.get(MEMBERS)
    assert state is not None and not state.disputed and state.rejected is not None


# --------------------------------------------------------------------------------------------------- two at once

NEW_WORDING = "Tren de Aragua has around 5,000 members in Venezuela"


def test_a_verdict_finished_after_another_reviewer_changed_the_wording_does_not_count_for_the_new_one(
    folder: Path,
) -> None:
    ana, bob = Session(folder, "ana"), Session(folder, "bob")
    feed(ana, "false", URL, "DOJ", "")  # ana's form waits for her note, on the wording she was shown
    feed(bob, "e", NEW_WORDING)  # bob's edit lands meanwhile
    reply = feed(ana, "27 charged, not 5,000")
    (given,) = [e for e in store.read_events(folder)[0] if isinstance(e, VerdictEvent)]
    assert given.statement is not None and given.statement != NEW_WORDING
    members = ana.state.get(MEMBERS)
    assert members is not None and members.statement == NEW_WORDING
    assert "ana" not in members.verdicts and members.reworded
    told = "bob changed the wording while the verdict was being given, so it is set aside: rate the new wording"
    assert ("warn", told) in reply.messages
    assert on(ana) == MEMBERS


def test_a_wording_another_reviewer_changed_is_shown_before_the_reviewer_decides_on_it(folder: Path) -> None:
    ana, bob = Session(folder, "ana"), Session(folder, "bob")
    feed(bob, "e", NEW_WORDING)
    reply = ana.feed("false")
    assert ("warn", "bob changed the wording of this claim just now: read it again before deciding") in reply.messages
    assert reply.view == "claim"
    feed(ana, URL, "DOJ", "", "27 charged, not 5,000")
    members = ana.state.get(MEMBERS)
    assert members is not None and members.verdicts["ana"].rating == "false"


def test_a_reviewers_own_edit_is_not_announced_back_to_them(folder: Path) -> None:
    session = Session(folder, "ana")
    reply = feed(session, "e", NEW_WORDING, "l")
    assert "just now" not in texts(reply)


def test_a_verdict_against_another_reviewers_rejection_names_the_reason_as_the_report_does(tmp_path: Path) -> None:
    reject = RejectEvent(event_id="r1", at=verdict(MEMBERS, "x", minute=1).at, reviewer="bob", claim_id=MEMBERS,
                         reason="duplicate")  # fmt: skip
    folder = save_case(tmp_path, events=[source(MEMBERS), verdict(MEMBERS, "true", "ana"), reject])
    reply = feed(Session(folder, "ana"), f"g {MEMBERS}", "false", "", "")
    assert ("warn", "disputed: bob rejected it (a duplicate)") in reply.messages


# --------------------------------------------------------------------------------------------------- other actions


def test_a_note_over_the_limit_is_refused_stating_the_limit_and_asked_again(folder: Path) -> None:
    session = Session(folder, "ana")
    reply = feed(session, "n", "x" * 4001)
    assert reply.messages == [("error", "the note is 4,001 characters; the limit is 4,000")]
    assert session.asking is not None and session.asking.label == "Note"


def test_a_note_is_recorded(folder: Path) -> None:
    session = Session(folder, "ana")
    reply = feed(session, "n", "Asked the DOJ press office")
    (event,) = store.read_events(folder)[0]
    assert isinstance(event, NoteEvent) and event.text == "Asked the DOJ press office"
    assert f"#1 {MEMBERS}: note added" in texts(reply)


def test_a_source_is_recorded_with_title_and_excerpt(folder: Path) -> None:
    session = Session(folder, "ana")
    feed(session, "s", URL, "DOJ press release", "27 defendants")
    (event,) = store.read_events(folder)[0]
    assert isinstance(event, SourceEvent)
    assert (event.source.url, event.source.title, event.source.excerpt) == (URL, "DOJ press release", "27 defendants")


def test_the_same_source_twice_on_a_claim_by_one_reviewer_is_refused(tmp_path: Path) -> None:
    folder = save_case(tmp_path, events=[source(MEMBERS, URL)])
    session = Session(folder, "ana")
    reply = feed(session, f"s {URL}")
    assert "you already cited that source on this claim" in texts(reply)
    assert session.asking is None


def test_a_source_another_reviewer_cited_can_be_cited_again_to_rest_a_verdict_on_it(tmp_path: Path) -> None:
    folder = save_case(tmp_path, events=[source(MEMBERS, URL, reviewer="bob")])
    session = Session(folder, "ana")
    feed(session, f"s {URL}", "", "", "true", "", "")
    assert logged(folder) == ["source", "source", "verdict"]


def test_an_edit_records_the_new_wording_and_the_previous_one(folder: Path) -> None:
    session = Session(folder, "ana")
    drafted = session.current.statement if session.current else ""
    feed(session, "e", "Tren de Aragua has about 5,000 members, by its own estimate")
    (event,) = store.read_events(folder)[0]
    assert isinstance(event, EditEvent)
    assert (event.statement, event.previous) == ("Tren de Aragua has about 5,000 members, by its own estimate", drafted)


def test_an_edit_of_the_wording_sets_aside_the_verdicts_given_on_the_old_one_and_says_so(tmp_path: Path) -> None:
    folder = save_case(tmp_path, events=[source(MEMBERS), verdict(MEMBERS, "true", "ana")])
    session = Session(folder, "bob")
    reply = feed(session, f"g {MEMBERS}", "e", "Tren de Aragua has around 50,000 members")
    assert any("wording changed; 1 earlier verdict set aside (ana's True)" in text for _, text in reply.messages)
    state = session.state.get(MEMBERS)
    assert state is not None and state.rating is None and not state.reviewed


def test_a_pasted_multi_line_wording_becomes_one_line(folder: Path) -> None:
    session = Session(folder, "ana")
    feed(session, "e", "Tren de Aragua has\naround 5,000 members")
    (event,) = store.read_events(folder)[0]
    assert isinstance(event, EditEvent) and event.statement == "Tren de Aragua has around 5,000 members"


def test_an_edit_that_changes_nothing_records_nothing(folder: Path) -> None:
    session = Session(folder, "ana")
    assert session.current is not None
    reply = feed(session, "e", session.current.statement)
    assert "unchanged" in texts(reply)
    assert logged(folder) == []


def test_the_edit_field_starts_from_the_current_wording(folder: Path) -> None:
    session = Session(folder, "ana")
    feed(session, "e")
    assert session.asking is not None and session.current is not None
    assert session.asking.prefill == session.current.statement


def test_a_rejection_records_the_reason_and_moves_on(folder: Path) -> None:
    session = Session(folder, "ana")
    feed(session, "r", "2", f"same as {RICO}")
    (event,) = store.read_events(folder)[0]
    assert isinstance(event, RejectEvent)
    assert (event.reason, event.detail, event.claim_id) == ("duplicate", f"same as {RICO}", MEMBERS)
    assert on(session) == RICO


def test_a_rejection_for_other_reasons_needs_a_reason(folder: Path) -> None:
    session = Session(folder, "ana")
    reply = feed(session, "r", "other", "")
    assert "why is required here" in texts(reply)
    assert session.asking is not None and session.asking.label == "Why"
    assert logged(folder) == []


def test_a_rejected_claim_takes_no_verdict_until_restored(tmp_path: Path) -> None:
    reject = RejectEvent(event_id="r1", at=verdict(MEMBERS, "x").at, reviewer="bob", claim_id=MEMBERS, reason="other")
    folder = save_case(tmp_path, events=[reject])
    session = Session(folder, "ana")
    feed(session, f"g {MEMBERS}")
    assert "is rejected" in texts(feed(session, "opinion"))
    feed(session, "u", "opinion", "")
    assert logged(folder) == ["reject", "restore", "verdict"]


def test_restoring_a_claim_that_is_not_rejected_is_refused(folder: Path) -> None:
    assert texts(feed(Session(folder, "ana"), "u")) == "this claim is not rejected"


def test_a_claim_added_from_a_pasted_quote_comes_next_in_the_queue(folder: Path) -> None:
    session = Session(folder, "ana")
    reply = feed(session, "a", "Tren de Aragua has sown chaos", "", "o", "char", "2")
    (event,) = store.read_events(folder)[0]
    assert isinstance(event, AddClaimEvent)
    assert (event.claim.quote, event.claim.nature, event.claim.kind) == (
        "Tren de Aragua has sown chaos",
        "opinion",
        "characterisation",
    )
    assert session.queue.index(event.claim_id) == 1
    assert on(session) == event.claim_id
    assert "found in paragraph" in texts(reply)
    assert f"#2 {event.claim_id}: claim added to the case" in texts(reply)


def test_a_claim_added_from_a_quote_typed_with_a_straight_apostrophe_is_grounded_as_normalised(folder: Path) -> None:
    session = Session(folder, "ana")
    feed(session, "a", "Alfredo Ferrero is Peru's ambassador to the U.S.", "", "", "", "")
    (event,) = store.read_events(folder)[0]
    assert isinstance(event, AddClaimEvent)
    assert event.claim.quote == "Alfredo Ferrero is Peru’s ambassador to the U.S."
    assert event.claim.grounding.method == "normalised"


def test_a_claim_added_over_part_of_an_existing_claim_is_recorded_with_a_warning(folder: Path) -> None:
    session = Session(folder, "ana")
    reply = feed(session, "a", "Tren de Aragua is estimated to have around 5,000", "", "", "", "")
    assert any(level == "warn" and text.startswith(f"overlaps #1 {MEMBERS}") for level, text in reply.messages)
    assert logged(folder) == ["add_claim"]


def test_a_pasted_quote_not_in_the_document_is_refused_and_asked_again(folder: Path) -> None:
    session = Session(folder, "ana")
    reply = feed(session, "a", "Tren de Aragua has a million members")
    assert "that quote is not in the document" in texts(reply)
    assert session.asking is not None and session.asking.label == "Quote"
    assert logged(folder) == []


def test_a_pasted_quote_that_is_already_a_claim_says_where_it_is(folder: Path) -> None:
    session = Session(folder, "ana")
    reply = feed(session, "a Tren de Aragua is estimated to have around 5,000 members")
    assert f"already claim {MEMBERS} (g 1 goes there)" in texts(reply)


# --------------------------------------------------------------------------------------------------- moving


def test_skip_and_back_move_through_the_queue_and_stop_at_its_ends(folder: Path) -> None:
    session = Session(folder, "ana")
    assert "first claim" in texts(feed(session, "b"))
    feed(session, "k", "k", "k")
    assert on(session) == OPINION
    assert "last claim" in texts(feed(session, "k"))
    feed(session, "b")
    assert on(session) == PRISON


@pytest.mark.parametrize("command", ["3", "#3", "g 3", "goto 3", f"g {PRISON}", PRISON])
def test_jump_goes_to_a_claim_by_number_or_id(folder: Path, command: str) -> None:
    session = Session(folder, "ana")
    feed(session, command)
    assert on(session) == PRISON


def test_jump_to_a_number_outside_the_queue_says_what_there_is(folder: Path) -> None:
    assert texts(feed(Session(folder, "ana"), "g 9")) == "no claim #9 (the queue has #1 to #4)"


def test_nonsense_gets_a_one_line_hint(folder: Path) -> None:
    reply = feed(Session(folder, "ana"), "what now")
    assert reply.messages == [
        ("error", "'what now' is not a command (? lists them; a rating key such as 'false' rates)")
    ]


@pytest.mark.parametrize(("line", "view"), [("?", "help"), ("help", "help"), ("l", "list")])
def test_help_and_list_ask_for_their_views(folder: Path, line: str, view: str) -> None:
    assert Session(folder, "ana").feed(line).view == view


def test_quit_ends_the_session(folder: Path) -> None:
    assert Session(folder, "ana").feed("q").done


# --------------------------------------------------------------------------------------------------- resuming


def test_a_new_session_resumes_at_the_first_claim_without_the_reviewers_verdict(tmp_path: Path) -> None:
    folder = save_case(tmp_path, events=[source(MEMBERS), verdict(MEMBERS, "true"), verdict(RICO, "true", minute=1)])
    assert on(Session(folder, "ana")) == PRISON
    assert on(Session(folder, "bob")) == MEMBERS


def test_a_new_session_resumes_on_the_claim_the_reviewer_was_working_on(tmp_path: Path) -> None:
    note = NoteEvent(event_id="n1", at=verdict(PRISON, "x").at, reviewer="ana", claim_id=PRISON, text="halfway")
    folder = save_case(tmp_path, events=[note])
    assert on(Session(folder, "ana")) == PRISON


def test_only_disputed_goes_through_the_claims_reviewers_disagree_on(tmp_path: Path) -> None:
    events = [source(RICO), verdict(RICO, "true", "ana"), verdict(RICO, "false", "bob")]
    session = Session(save_case(tmp_path, events=events), "ana", "disputed")
    assert session.queue == [RICO]


def test_a_torn_line_written_by_another_process_is_reported_once(folder: Path) -> None:
    session = Session(folder, "ana")
    with (folder / store.LOG_FILE).open("ab") as log:
        log.write(b'{"event_id": "to')
    first, second = session.feed("l"), session.feed("l")
    assert [level for level, _ in first.messages] == ["warn"]
    assert "incomplete last line" in first.messages[0][1]
    assert second.messages == []


def test_a_case_without_claims_can_still_have_one_added(tmp_path: Path) -> None:
    folder = save_case(tmp_path, case=make_case([]))
    session = Session(folder, "ana")
    assert session.current is None
    assert "there is no claim here" in texts(feed(session, "v"))
    feed(session, "a Tren de Aragua has sown chaos", "", "", "", "")
    assert session.current is not None and session.queue == [session.current.claim.id]
