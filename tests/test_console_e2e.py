"""The real ``factcheck review`` command, driven through a pseudo-terminal as a person would use it."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest
from review_helpers import by_worth, save_case, source, verdict

from factcheck import store
from factcheck.models import NoteEvent, VerdictEvent

MEMBERS, RICO, PRISON, OPINION = by_worth()
SLUG = "tren-de-aragua-terrorist-designation"
FACTCHECK = str(Path(sys.executable).parent / "factcheck")
URL = "https://www.justice.gov/opa/pr/tren-de-aragua"


def prompt(number: int) -> str:
    return f"#{number} action (? for help) › "


@pytest.fixture
def spawn(reports: Path) -> Iterator[object]:
    children: list[pexpect.spawn] = []

    def start(*args: str, reviewer: str = "ana") -> pexpect.spawn:
        env = {**os.environ, "FACTCHECK_REPORTS": str(reports), "TERM": "xterm-256color", "COLUMNS": "100"}
        child = pexpect.spawn(
            FACTCHECK, ["review", SLUG, "--reviewer", reviewer, *args], env=env, dimensions=(50, 100),
            encoding="utf-8", timeout=20,
        )  # fmt: skip
        children.append(child)
        return child

    yield start
    for child in children:
        if child.isalive():
            child.kill(signal.SIGKILL)
        child.close(force=True)


def rate_false_with_a_source(child: pexpect.spawn) -> None:
    child.sendline("false")
    child.expect_exact("Source URL › ")
    child.sendline(URL)
    child.expect_exact("Title › ")
    child.sendline("DOJ press release")
    child.expect_exact("Excerpt › ")
    child.sendline("")
    child.expect_exact("Note › ")
    child.sendline("27 charged, no membership count")


def test_a_verdict_typed_in_the_terminal_is_saved_and_quitting_says_where(reports: Path, spawn) -> None:  # type: ignore[no-untyped-def]
    folder = save_case(reports)
    child = spawn()
    child.expect_exact("0/4 reviewed")
    child.expect_exact(prompt(1))
    rate_false_with_a_source(child)
    child.expect_exact("verdict recorded: False")
    child.expect_exact(prompt(2))
    child.sendline("q")
    child.expect_exact("Saved: 2 events recorded this session")
    child.expect_exact(f"Resume with: factcheck review {SLUG} --reviewer ana")
    child.expect(pexpect.EOF)
    events = store.read_events(folder)[0]
    assert [(e.action, e.claim_id) for e in events] == [("source", MEMBERS), ("verdict", MEMBERS)]
    assert "Traceback" not in (child.before or "")


def test_kill_9_in_the_middle_loses_nothing_confirmed_and_review_resumes_there(reports: Path, spawn) -> None:  # type: ignore[no-untyped-def]
    folder = save_case(reports)
    child = spawn()
    child.expect_exact(prompt(1))
    rate_false_with_a_source(child)
    child.expect_exact(prompt(2))
    child.sendline("n")
    child.expect_exact("Note › ")
    child.sendline("Asked the court clerk")
    child.expect_exact("note added")
    child.expect_exact(prompt(2))
    child.sendline("v")
    child.expect_exact("Rating › ")
    child.sendline("2")
    child.expect_exact("Source URL › ")
    child.kill(signal.SIGKILL)
    child.expect(pexpect.EOF)

    events, warnings = store.read_events(folder)
    assert warnings == []
    assert [e.action for e in events] == ["source", "verdict", "note"]
    assert isinstance(events[2], NoteEvent) and events[2].claim_id == RICO

    again = spawn()
    again.expect_exact("1/4 reviewed")
    again.expect_exact("Asked the court clerk")
    again.expect_exact(prompt(2))
    again.sendline("b")
    again.expect_exact(f"#1  {MEMBERS}")
    again.expect_exact("False")
    again.expect_exact("27 charged, no membership count")
    again.expect_exact(prompt(1))
    again.sendline("q")
    again.expect(pexpect.EOF)


def test_nonsense_gets_a_one_line_hint_and_never_a_traceback(reports: Path, spawn) -> None:  # type: ignore[no-untyped-def]
    save_case(reports)
    child = spawn()
    child.expect_exact(prompt(1))
    for line in ("xyzzy", "g 99", "u", "v 42", "s ftp://example.org", "a Tren de Aragua has a million members", ""):
        child.sendline(line)
        child.expect(r"✗ .+\r\n")
        assert "\n" not in child.after.rstrip("\r\n")
        child.expect_exact(prompt(1))
    child.sendline("q")
    child.expect(pexpect.EOF)
    assert "Traceback" not in (child.before or "")


def test_a_torn_last_line_is_shown_as_a_warning_and_the_rest_is_kept(reports: Path, spawn) -> None:  # type: ignore[no-untyped-def]
    folder = save_case(reports, events=[source(MEMBERS), verdict(MEMBERS, "false")])
    with (folder / store.LOG_FILE).open("ab") as log:
        log.write(b'{"event_id": "cut-off", "at": "2026-11-25T1')
    child = spawn()
    child.expect_exact("1/4 reviewed")
    child.expect_exact("skipped an incomplete last line")
    child.expect_exact(prompt(2))
    child.sendline("q")
    child.expect(pexpect.EOF)
    assert (folder / store.LOG_FILE).read_bytes().endswith(b'"at": "2026-11-25T1')


def test_ctrl_c_cancels_a_form_and_ctrl_d_quits(reports: Path, spawn) -> None:  # type: ignore[no-untyped-def]
    folder = save_case(reports)
    child = spawn()
    child.expect_exact(prompt(1))
    child.sendline("n")
    child.expect_exact("Note › ")
    child.sendintr()
    child.expect_exact("cancelled; nothing recorded")
    child.expect_exact(prompt(1))
    child.sendeof()
    child.expect_exact("Saved: 0 events recorded this session")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert store.read_events(folder)[0] == []


def test_ctrl_c_at_the_action_prompt_says_how_to_resume_and_exits_130(reports: Path, spawn) -> None:  # type: ignore[no-untyped-def]
    folder = save_case(reports)
    child = spawn()
    child.expect_exact(prompt(1))
    child.sendintr()
    child.expect_exact("Saved: 0 events recorded this session")
    child.expect_exact(f"Resume with: factcheck review {SLUG} --reviewer ana")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert store.read_events(folder)[0] == []


def test_lines_pasted_into_a_note_are_kept_in_it_and_never_run_as_commands(reports: Path, spawn) -> None:  # type: ignore[no-untyped-def]
    folder = save_case(reports)
    child = spawn()
    child.expect_exact(prompt(1))
    child.sendline("n")
    child.expect_exact("Note › ")
    child.send("First line of the note\nfalse\nq")
    child.expect_exact("note added")
    child.expect_exact(prompt(1))
    child.sendline("q")
    child.expect(pexpect.EOF)
    (event,) = store.read_events(folder)[0]
    assert isinstance(event, NoteEvent) and event.text == "First line of the note\nfalse\nq"


def test_lines_pasted_into_a_field_of_one_answer_are_ignored_with_a_warning(reports: Path, spawn) -> None:  # type: ignore[no-untyped-def]
    folder = save_case(reports)
    child = spawn()
    child.expect_exact(prompt(1))
    child.sendline("v")
    child.expect_exact("Rating › ")
    child.send("6\nu\nq\n")
    child.expect_exact("ignored 2 pasted lines")
    child.expect_exact("Source URL › ")
    child.sendintr()
    child.expect_exact(prompt(1))
    child.sendline("q")
    child.expect(pexpect.EOF)
    assert store.read_events(folder)[0] == []


def test_help_shows_the_rating_scale_with_its_definitions(reports: Path, spawn) -> None:  # type: ignore[no-untyped-def]
    save_case(reports)
    child = spawn()
    child.expect_exact(prompt(1))
    child.sendline("?")
    child.expect_exact("Newsroom scale")
    child.expect_exact("Technically accurate in parts")
    child.expect_exact(prompt(1))
    child.sendline("q")
    child.expect(pexpect.EOF)


def test_two_reviewers_at_once_both_keep_every_action_and_see_the_dispute(reports: Path, spawn) -> None:  # type: ignore[no-untyped-def]
    folder = save_case(reports)
    ana, bob = spawn(reviewer="ana"), spawn(reviewer="bob")
    ana.expect_exact(prompt(1))
    bob.expect_exact(prompt(1))
    rate_false_with_a_source(ana)
    ana.expect_exact(prompt(2))
    bob.sendline("true")
    bob.expect_exact("Source URL › ")  # ana's source is hers: bob's verdict needs his own, or a reason for none
    bob.sendline("none")
    bob.expect_exact("Why no source › ")
    bob.sendline("The DOJ figure is 5,000")
    bob.expect_exact("disputed: ana rated it False")
    bob.expect_exact(prompt(2))
    for child in (ana, bob):
        child.sendline("q")
        child.expect(pexpect.EOF)
    verdicts = [e for e in store.read_events(folder)[0] if isinstance(e, VerdictEvent)]
    assert sorted((v.reviewer, v.rating) for v in verdicts) == [("ana", "false"), ("bob", "true")]


def test_only_disputed_with_nothing_disputed_says_so_and_exits(reports: Path, spawn) -> None:  # type: ignore[no-untyped-def]
    save_case(reports)
    child = spawn("--only", "disputed")
    child.expect_exact("No claims to review with --only disputed")
    child.expect(pexpect.EOF)
