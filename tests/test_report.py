"""The Markdown report, its JSON twin, the index of every case, and the ``report`` command.

The golden snapshot ``tests/snapshots/sample_report.md`` is the report of the sample case under the fixed review in
``sample_review.py``. After a deliberate change to the report, refresh it and read the diff before keeping it:

    FACTCHECK_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/test_report.py -k snapshot
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
from conftest import make_case
from markdown_it import MarkdownIt
from markdown_it.token import Token
from review_helpers import at, run_cli, save_case, verdict
from sample_review import claim_ids, newsroom, report_case, reviewed_state, sample_events

from factcheck.commands import history_line
from factcheck.documents import document_from_bytes
from factcheck.models import (
    AddClaimEvent,
    Case,
    Claim,
    ClaimKind,
    DraftClaim,
    EditEvent,
    Grounding,
    Nature,
    NoteEvent,
    PromptRef,
    Question,
    RecordingSource,
    RejectedDraft,
    RejectEvent,
    ReviewEvent,
    Source,
    SourceEvent,
    VerdictEvent,
)
from factcheck.ratings import Ratings
from factcheck.report import render_json, render_markdown, write_all_reports, write_markdown_report
from factcheck.review import fold

SNAPSHOT = Path(__file__).parent / "snapshots" / "sample_report.md"


def test_sample_report_matches_the_golden_snapshot() -> None:
    rendered = render_markdown(reviewed_state(), newsroom())
    if os.environ.get("FACTCHECK_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(rendered, encoding="utf-8")
    assert rendered == SNAPSHOT.read_text(encoding="utf-8")


def test_the_same_case_renders_byte_for_byte_the_same_whatever_the_order_of_its_claims() -> None:
    state = reviewed_state()
    shuffled = state.model_copy(update={"claims": list(reversed(state.claims)), "reviewers": ["bob", "alice"]})
    first = render_markdown(state, newsroom())
    assert render_markdown(reviewed_state(), newsroom()) == first
    assert render_markdown(shuffled, newsroom()) == first


def test_pending_claims_put_a_draft_banner_at_the_top() -> None:
    report = render_markdown(fold(make_case(), []), newsroom())
    assert report.splitlines()[2] == "> **DRAFT, not for publication:** 4 claims are pending review."
    assert "**4 claims are pending review.**" in report


def test_a_disputed_claim_alone_makes_the_report_a_draft() -> None:
    case = make_case()
    events = [verdict(c.id, "true", "alice", i) for i, c in enumerate(case.claims)]
    events.append(verdict(case.claims[0].id, "false", "bob", 9))
    report = render_markdown(fold(case, events), newsroom())
    assert "> **DRAFT, not for publication:** 1 claim is disputed." in report
    assert "No claim is pending review." in report


def test_a_fully_reviewed_case_is_not_a_draft() -> None:
    case = make_case()
    report = render_markdown(
        fold(case, [verdict(c.id, "true", "alice", i) for i, c in enumerate(case.claims)]), newsroom()
    )
    assert "DRAFT" not in report
    assert "`████████████████████` 4 of 4 decided" in report


def test_a_disputed_claim_shows_every_reviewers_view() -> None:
    _, rico, _, _ = claim_ids(report_case())
    report = render_markdown(reviewed_state(), newsroom())
    section = _section(report, rico)
    assert "**Verdict: disputed.**" in section
    assert "- alice: **True** (2026-11-25 10:21 UTC)" in section
    assert "- bob: **Half true** (2026-11-25 10:30 UTC)" in section
    assert "Not all 27 defendants are members." in section
    assert f"| [{rico}](#claim-{rico}) | In April 2025" in report
    assert "| Disputed: True / Half true |" in report


def test_an_agreed_verdict_shows_its_label_and_the_scales_definition() -> None:
    members, _, _, _ = claim_ids(report_case())
    section = _section(render_markdown(reviewed_state(), newsroom()), members)
    assert "**Verdict: Mostly true.** Accurate but needs clarification or additional information." in section


def test_an_edited_statement_shows_the_current_wording_and_the_original() -> None:
    case = report_case()
    _, rico, _, _ = claim_ids(case)
    section = _section(render_markdown(reviewed_state(), newsroom()), rico)
    assert "- **Statement:** In April 2025, the U.S. filed RICO charges" in section
    assert f"- **Originally drafted as:** {case.claims[1].statement}" in section


def test_history_says_who_changed_what_when_and_the_previous_value() -> None:
    members, rico, _, _ = claim_ids(report_case())
    report = render_markdown(reviewed_state(), newsroom())
    assert "- 2026-11-25 10:12 UTC, bob: changed the verdict from True to Mostly true" in _section(report, members)
    assert "- 2026-11-25 10:20 UTC, alice: edited the statement; it was “In April, the U.S." in _section(report, rico)


def test_history_is_told_in_the_review_terminals_words_with_the_text_in_them_escaped() -> None:
    members, _, _, _ = claim_ids(report_case())
    title = Source(url="https://example.org/a", title="DOJ *press* release")
    cited = SourceEvent(event_id="s1", at=at(1), reviewer="ana", claim_id=members, source=title)
    report = render_markdown(fold(report_case(), [cited]), newsroom())
    assert history_line(cited, Ratings(newsroom())) == "cited DOJ *press* release"
    assert "- 2026-11-25 10:01 UTC, ana: cited DOJ \\*press\\* release" in _section(report, members)


def test_the_quote_stands_in_its_context_with_paragraph_and_offsets() -> None:
    case = report_case()
    members, _, _, _ = claim_ids(case)
    claim = case.claims[0]
    section = _section(render_markdown(reviewed_state(), newsroom()), members)
    assert f"**Quote** (paragraph {claim.paragraph + 1}, characters {claim.start}–{claim.end}):" in section
    assert (
        "> Thriving on fear and financial gain, **Tren de Aragua is estimated to have around 5,000 members**, and"
        in section
    )


def test_sources_are_links_and_notes_are_shown() -> None:
    members, _, prison, _ = claim_ids(report_case())
    report = render_markdown(reviewed_state(), newsroom())
    assert (
        "- [InSight Crime: Tren de Aragua](https://insightcrime.org/venezuela-organized-crime-news/tren-de-aragua/)"
        in (_section(report, members))
    )
    assert "- bob, 2026-11-25 10:40 UTC: Sources date its start 2005\\-2014." in _section(report, prison)


def test_rejected_claims_and_ungrounded_drafts_go_to_the_appendix() -> None:
    _, _, _, opinion = claim_ids(report_case())
    report = render_markdown(reviewed_state(), newsroom())
    appendix = report.split("## Appendix A")[1]
    assert f"### Claim {opinion}" not in report
    assert f"- **{opinion}**, “Cutting off access" in appendix
    assert "rejected by alice on 2026-11-25 as not checkable: A prediction about policy effects." in appendix
    assert "- Chunk 1: “Tren de Aragua has 50,000 members”" in appendix
    assert "Reason: the quote is not in the document" in appendix


def test_the_header_says_how_the_drafts_were_made() -> None:
    report = render_markdown(reviewed_state(), newsroom())
    header = report.split("## Summary")[0]
    for line in [
        "- **Document:** seeds/tren\\-de\\-aragua\\-terrorist\\-designation.txt",
        "- **Checked:** 2026-11-25",
        "- **Reviewers:** alice, bob",
        "- **Model:** test\\-model",
        "- **Server:** http://127.0.0.1:9/v1",
        "- **Mode:** replay: answered from saved exchanges",
        "- **Structured output:** json\\_schema",
        f"- **Prompts:** extract v1 (sha256 `{'0' * 64}`)",
        "- **Token usage:** 2 requests, 1,000 prompt tokens, 500 completion tokens",
    ]:
        assert line in header


def test_an_authored_recording_is_stated_as_a_fixture_not_model_output() -> None:
    case = make_case()
    fixture = RecordingSource(kind="authored", date="2026-11-20", note="written for the tests")
    case = case.model_copy(update={"drafting": case.drafting.model_copy(update={"recordings": [fixture]})})
    report = render_markdown(fold(case, []), newsroom())
    assert "> **Fixture:** the drafts in this case come from a hand-authored fixture, not from model output." in report
    assert "  - authored by hand as a fixture \\(2026\\-11\\-20\\), not model output" in report


def test_a_claim_names_the_model_that_drafted_it() -> None:
    case = make_case()
    case = case.model_copy(update={"claims": [c.model_copy(update={"model": "gpt-4.1-mini"}) for c in case.claims]})
    section = _section(render_markdown(fold(case, []), newsroom()), case.claims[0].id)
    assert "- **Drafted by:** the model gpt\\-4.1\\-mini; the quote was found word for word" in section


def test_a_claim_without_a_model_of_its_own_names_the_drafting_model() -> None:
    case = make_case()
    section = _section(render_markdown(fold(case, []), newsroom()), case.claims[0].id)
    assert "- **Drafted by:** the model test\\-model; the quote was found word for word" in section


def test_a_claim_from_an_authored_fixture_is_not_said_to_be_drafted_by_a_model() -> None:
    case = _from_authored_fixture(make_case())
    section = _section(render_markdown(fold(case, []), newsroom()), case.claims[0].id)
    assert "- **Drafted by:** a hand-authored fixture (not model output); the quote was found word for word" in section


def test_a_claim_replayed_from_mixed_recordings_names_both_possible_drafters() -> None:
    case = _from_authored_fixture(make_case())
    recorded = RecordingSource(kind="recorded", server="http://llm.example/v1", model="gpt-4.1-mini", date="2026-11-20")
    drafting = case.drafting.model_copy(update={"recordings": [*case.drafting.recordings, recorded]})
    case = case.model_copy(update={"drafting": drafting})
    section = _section(render_markdown(fold(case, []), newsroom()), case.claims[0].id)
    assert (
        "- **Drafted by:** the model authored\\-fixture or a hand-authored fixture (the recordings mix both);"
        in section
    )


def test_a_claim_a_reviewer_added_names_the_reviewer_even_in_a_fixture_case() -> None:
    case = _from_authored_fixture(make_case())
    quote = "This gang engages in drug trafficking, extortion and hired killings."
    added = _reviewer_claim(case, quote)
    event = AddClaimEvent(event_id="a1", at=at(5), reviewer="carol", claim_id=added.id, claim=added)
    section = _section(render_markdown(fold(case, [event]), newsroom()), added.id)
    assert "- **Drafted by:** a reviewer, carol; the quote was placed by a reviewer" in section


def test_token_usage_from_an_authored_fixture_is_said_to_be_estimated() -> None:
    report = render_markdown(fold(_from_authored_fixture(make_case()), []), newsroom())
    assert (
        "- **Token usage:** 2 requests, 1,000 prompt tokens, 500 completion tokens "
        "(estimated by the fixture, not measured)\n" in report
    )


def test_token_usage_from_a_recorded_server_is_not_called_an_estimate() -> None:
    case = make_case()
    recorded = RecordingSource(kind="recorded", server="http://llm.example/v1", model="m", date="2026-11-20")
    case = case.model_copy(update={"drafting": case.drafting.model_copy(update={"recordings": [recorded]})})
    report = render_markdown(fold(case, []), newsroom())
    assert "- **Token usage:** 2 requests, 1,000 prompt tokens, 500 completion tokens\n" in report


def test_the_checked_date_is_the_latest_review_event_else_when_drafting_finished() -> None:
    case = make_case()
    assert "- **Checked:** 2026-11-25 (drafted; not reviewed yet)" in render_markdown(fold(case, []), newsroom())
    late = verdict(case.claims[0].id, "true", "alice", 60 * 24 * 40)
    assert "- **Checked:** 2027-01-04\n" in render_markdown(fold(case, [late]), newsroom())


def test_credentials_in_the_server_address_are_not_shown() -> None:
    case = make_case()
    drafting = case.drafting.model_copy(update={"base_url": "https://user:s3cret@llm.example/v1?key=s3cret"})
    report = render_markdown(fold(case.model_copy(update={"drafting": drafting}), []), newsroom())
    assert "s3cret" not in report
    assert "- **Server:** https://llm.example/v1" in report


def test_write_markdown_report_writes_report_md_for_an_unreviewed_case(reports: Path) -> None:
    folder = save_case(reports, make_case(), [])
    path = write_markdown_report(folder)
    assert path == folder / "report.md"
    assert "DRAFT" in path.read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------------- escaping

HOSTILE = [
    "<script>alert(1)</script>",
    "![x](http://evil/img.png)",
    "[click](javascript:alert(1))",
    "# heading",
    "| table | row |",
    "`code` and ```fence```",
    "<!-- comment -->",
    "<img src=x onerror=alert(1)>",
    "- list item",
    "> quoted",
    "***bold*** ~~strike~~ $$x$$",
    "<https://evil.example/autolink>",
    "&lt;script&gt; &#60;b&#62;",
]
INJECTED = "\n".join(HOSTILE) + "\n# heading after a newline\n1. numbered\n===\n\u2028- item after a line separator"


def _case_with_text(lines: list[str], injected: str) -> tuple[Case, list[ReviewEvent]]:
    """A reviewed case whose every piece of untrusted text is ``injected`` or one of ``lines``."""
    document = document_from_bytes("\n".join(lines).encode(), source="hostile.txt", media_type="text/plain")
    document = document.model_copy(update={"title": injected, "source": "javascript:alert(1)"})
    claims = []
    for number, quote in enumerate(lines):
        start = document.text.index(quote)
        claims.append(
            Claim(
                id=f"h{number:02d}",
                statement=injected,
                quote=quote,
                start=start,
                end=start + len(quote),
                paragraph=document.paragraph_index(start),
                kind=ClaimKind.other,
                nature=Nature.fact,
                checkworthiness=3,
                entities=lines,
                time_reference=injected,
                grounding=Grounding(method="fuzzy", score=0.9, model_quote=injected),
                questions=[
                    Question(question=injected, establishes=injected, primary_sources=lines, search_query=injected)
                ],
                questions_error=injected if number == 0 else None,
            )
        )
    base = make_case()
    drafting = base.drafting.model_copy(
        update={
            "model": injected,
            "base_url": "javascript:alert(1)",
            "structured_output": lines,
            "prompts": [PromptRef(name=injected, version=injected, sha256=injected)],
            "recordings": [RecordingSource(kind="recorded", server=injected, model=injected, date=injected)],
            "failures": lines,
        }
    )
    rejected = [
        RejectedDraft(
            draft=DraftClaim(
                quote=injected, statement=injected, kind=ClaimKind.other, nature=Nature.fact, checkworthiness=1
            ),
            reason=injected,
            chunk=0,
        )
    ]
    case = Case(document=document, claims=claims, rejected=rejected, drafting=drafting)
    events: list[ReviewEvent] = []
    for number, claim in enumerate(claims):
        base_event = {"at": at(number), "reviewer": lines[number], "claim_id": claim.id}
        events += [
            SourceEvent(event_id=f"s{number}", **base_event, source=Source(url="javascript:alert(1)", title=injected)),
            SourceEvent(
                event_id=f"d{number}",
                **base_event,
                source=Source(url="data:text/html,<script>x</script>", title=injected, excerpt=injected),
            ),
            SourceEvent(
                event_id=f"u{number}",
                **base_event,
                source=Source(url="https://ok.example/a b(c)<d>[e]`f`", title=injected),
            ),
            NoteEvent(event_id=f"n{number}", **base_event, text=injected),
            EditEvent(event_id=f"e{number}", **base_event, statement=injected + " edited", previous=injected),
            VerdictEvent(
                event_id=f"v{number}", **base_event, rating="<b>x</b>" if number % 2 else "true", note=injected
            ),
        ]
        if number == len(claims) - 1:
            events.append(RejectEvent(event_id="r", **base_event, reason="other", detail=injected))
    return case, events


def _render_with_text(lines: list[str], injected: str) -> str:
    case, events = _case_with_text(lines, injected)
    return render_markdown(fold(case, events, warnings=[injected]), newsroom())


def test_hostile_text_renders_with_exactly_the_structure_of_plain_text() -> None:
    hostile = _render_with_text(HOSTILE, INJECTED)
    plain = _render_with_text([f"plain line {n}" for n in range(len(HOSTILE))], "plain text")
    assert _structure(hostile) == _structure(plain)


def test_hostile_text_cannot_inject_markdown_structure_html_images_or_links() -> None:
    report = _render_with_text(HOSTILE, INJECTED)
    anchors = {f"#claim-h{n:02d}" for n in range(len(HOSTILE))}
    safe = "https://ok.example/a%20b%28c%29%3Cd%3E%5Be%5D%60f%60"
    _assert_only_own_structure(report, allowed_links=anchors | {safe})
    assert "<" not in report
    assert "(javascript:alert\\(1\\)) (not linked: only http and https addresses are)" in report


def test_hostile_text_reads_exactly_as_written_once_rendered() -> None:
    html = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(_render_with_text(HOSTILE, INJECTED))
    for line in HOSTILE:
        shown = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
        assert shown in html, line


def _structure(report: str) -> list[tuple[str, ...]]:
    """The Markdown structure of a report: every block, and every inline element other than plain text."""
    shape: list[tuple[str, ...]] = []
    for token in MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(report):
        shape.append((token.type, token.tag, str(token.level)))
        shape += [
            (child.type, child.tag) for child in token.children or [] if child.type not in ("text", "text_special")
        ]
    return shape


def _assert_only_own_structure(report: str, allowed_links: set[str]) -> None:
    """Parse the report as CommonMark with GFM tables; only the renderer's own structure may appear."""
    own_headings = re.compile(
        r"(Fact-check: .*|How the claims were drafted|Summary|Claims|Claim [a-z0-9-]+|Appendix [ABC]: .*)"
    )
    tokens = MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(report)
    links = []
    for number, token in enumerate(tokens):
        assert token.type not in ("html_block", "fence", "code_block", "hr"), token
        if token.type == "heading_open":
            assert own_headings.fullmatch(tokens[number + 1].content), tokens[number + 1].content
        if token.type == "inline":
            links += _inline_links(token.children or [])
    assert set(links) <= allowed_links, set(links) - allowed_links
    for line in report.splitlines():
        assert not re.match(r"\s*(#|\||-|\d+\.|>)", line) or re.match(
            r"(#{1,3} |\| |\|---|- |  - |   - |\d+\. |> )", line
        ), line
        assert not re.fullmatch(r"\s*(=+|-+)\s*", line), line
        if line.startswith("|") and not line.startswith("|---"):
            assert len(re.findall(r"(?<!\\)\|", line)) in (4, 6), line  # the table's own cell borders only
    assert not re.search(r"(?<!\\)\]\((?!#claim-|https://ok\.example/)", report)


def _inline_links(children: list[Token]) -> list[str]:
    links = []
    for child in children:
        assert child.type not in ("html_inline", "image", "s_open"), child
        if child.type == "code_inline":
            assert re.fullmatch(r"[█░]+|[0-9a-f]{64}", child.content), child.content
        if child.type == "link_open":
            links.append(str(child.attrs["href"]))
    return links


# --------------------------------------------------------------------------------------------------- JSON


def test_json_report_carries_its_format_and_the_folded_verdicts() -> None:
    data = json.loads(render_json(reviewed_state(), newsroom()))
    members, rico, prison, opinion = claim_ids(report_case())
    assert data["format"] == "factcheck-report/1"
    assert data["draft"] is True
    assert data["summary"] == {
        "claims": 4,
        "agreed": 1,
        "disputed": 1,
        "pending": 1,
        "rejected": 1,
        "ratings": {"mostly-true": 1},
    }
    by_id = {claim["id"]: claim for claim in data["claims"]}
    assert by_id[members]["status"] == "agreed"
    assert by_id[members]["rating"] == "mostly-true"
    assert by_id[members]["rating_value"] == 5
    assert by_id[members]["anchor"] == f"claim-{members}"
    assert sorted(by_id[rico]["verdicts"]) == ["alice", "bob"]
    assert by_id[rico]["status"] == "disputed"
    assert by_id[rico]["rating"] is None
    assert by_id[prison]["status"] == "pending"
    assert by_id[opinion]["rejected"]["reason"] == "not_checkable"
    assert data["document"]["sha256"] == report_case().document.sha256
    assert data["rejected_drafts"][0]["reason"] == "the quote is not in the document"


def test_json_claims_carry_the_one_based_paragraph_number_the_markdown_shows() -> None:
    state = reviewed_state()
    data = json.loads(render_json(state, newsroom()))
    report = render_markdown(state, newsroom())
    for claim in data["claims"]:
        assert claim["paragraph_number"] == claim["claim"]["paragraph"] + 1
        if claim["status"] != "rejected":
            assert f"**Quote** (paragraph {claim['paragraph_number']}," in _section(report, claim["id"])


# --------------------------------------------------------------------------------------------------- index


def test_the_index_lists_every_case_sorted_by_slug_with_progress_and_verdicts(reports: Path) -> None:
    reviewed = report_case()
    save_case(reports, reviewed, sample_events(reviewed))
    other = make_case()
    other = other.model_copy(update={"document": other.document.model_copy(update={"slug": "a-first-case"})})
    save_case(reports, other, [verdict(c.id, "false", "alice", i) for i, c in enumerate(other.claims)])
    index = write_all_reports(reports).index.read_text(encoding="utf-8")
    rows = [line for line in index.splitlines() if line.startswith("| [")]
    assert rows[0].startswith("| [a\\-first\\-case](a-first-case/report.md) |")
    assert "`██████████` 4 of 4 decided | False 4 | Ready |" in rows[0]
    assert rows[1].startswith(
        f"| [{reviewed.document.slug.replace('-', chr(92) + '-')}]({reviewed.document.slug}/report.md)"
    )
    assert "`█████░░░░░` 2 of 4 decided | Mostly true 1, Disputed 1, Pending review 1, Rejected 1 | Draft |" in rows[1]
    assert (reports / "a-first-case" / "report.md").is_file()


def test_the_index_lists_a_case_it_cannot_read(reports: Path) -> None:
    (reports / "broken").mkdir()
    (reports / "broken" / "case.json").write_text("{not json", encoding="utf-8")
    index = write_all_reports(reports).index.read_text(encoding="utf-8")
    assert "| broken | cannot be read: " in index
    assert "| Unreadable |" in index


def test_write_all_reports_writes_the_readable_cases_and_names_the_unreadable_ones(reports: Path) -> None:
    good = save_case(reports, make_case(), [])
    _broken_case(reports)
    written = write_all_reports(reports)
    assert written.reports == [good / "report.md"]
    assert (good / "report.md").is_file()
    assert [(folder.name, "invalid JSON at line 2" in str(error)) for folder, error in written.failed] == [
        ("broken", True)
    ]


# --------------------------------------------------------------------------------------------------- speed


def test_rendering_ten_thousand_claims_is_fast() -> None:
    case = make_case()
    template = case.claims[0]
    claims = [template.model_copy(update={"id": f"c{n:05d}", "start": template.start + n % 7}) for n in range(10_000)]
    case = case.model_copy(update={"claims": claims})
    events: list[ReviewEvent] = []
    for n, claim in enumerate(claims):
        events.append(verdict(claim.id, "true", "alice", n % 600))
        if n % 3 == 0:
            events.append(verdict(claim.id, "false" if n % 2 else "true", "bob", n % 600))
        if n % 5 == 0:
            events.append(
                NoteEvent(event_id=f"n{n}", at=at(n % 600), reviewer="bob", claim_id=claim.id, text="A note.")
            )
    state = fold(case, events)
    started = time.perf_counter()
    report = render_markdown(state, newsroom())
    elapsed = time.perf_counter() - started
    print(f"\nrendered a report of 10,000 claims ({len(report):,} characters) in {elapsed:.3f} s")
    assert report.count("\n### Claim ") == 10_000


# --------------------------------------------------------------------------------------------------- command


def test_report_command_writes_report_md_into_the_case_folder(
    reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    case = report_case()
    folder = save_case(reports, case, sample_events(case))
    code, out, err = run_cli(monkeypatch, capsys, "report", case.document.slug)
    assert (code, err) == (0, "")
    assert out.strip() == str(folder / "report.md")
    assert (folder / "report.md").read_text(encoding="utf-8") == SNAPSHOT.read_text(encoding="utf-8")


def test_report_command_prints_json_to_stdout_with_dash(
    reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    case = report_case()
    save_case(reports, case, sample_events(case))
    code, out, _ = run_cli(monkeypatch, capsys, "report", case.document.slug, "--format", "json", "-o", "-")
    assert code == 0
    assert json.loads(out)["format"] == "factcheck-report/1"


def test_report_command_all_writes_the_index(
    reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    save_case(reports, make_case(), [])
    code, out, _ = run_cli(monkeypatch, capsys, "report", "--all")
    assert code == 0
    assert out.splitlines()[-1] == str(reports / "index.md")
    assert "| Draft |" in (reports / "index.md").read_text(encoding="utf-8")


def test_report_command_all_lists_each_report_it_wrote_before_the_index(
    reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = save_case(reports, make_case(), [])
    code, out, err = run_cli(monkeypatch, capsys, "report", "--all")
    assert (code, err) == (0, "")
    assert out.splitlines() == [str(folder / "report.md"), str(reports / "index.md")]


def test_report_command_all_names_each_unreadable_case_file_and_line_and_exits_1(
    reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = save_case(reports, make_case(), [])
    _broken_case(reports)
    code, out, err = run_cli(monkeypatch, capsys, "report", "--all")
    assert code == 1
    assert out.splitlines() == [str(folder / "report.md"), str(reports / "index.md")]
    assert err.startswith(f"factcheck: error: {reports / 'broken' / 'case.json'}: invalid JSON at line 2, column ")
    assert err.count("\n") == 1
    assert "| broken | cannot be read: " in (reports / "index.md").read_text(encoding="utf-8")


def test_report_command_for_an_unknown_case_fails_with_one_line(
    reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(monkeypatch, capsys, "report", "no-such-case")
    assert code == 1
    assert out == ""
    assert err.startswith("factcheck: error: no case found for 'no-such-case'")
    assert err.count("\n") == 1


# --------------------------------------------------------------------------------------------------- helpers


def _from_authored_fixture(case: Case) -> Case:
    """``case`` as a replay of a hand-authored fixture, the way the bundled demo recordings draft it."""
    fixture = RecordingSource(
        kind="authored", model="authored-fixture", date="2026-11-20", note="Token usage figures are estimates."
    )
    drafting = case.drafting.model_copy(update={"model": "authored-fixture", "recordings": [fixture]})
    claims = [c.model_copy(update={"model": "authored-fixture"}) for c in case.claims]
    return case.model_copy(update={"drafting": drafting, "claims": claims})


def _reviewer_claim(case: Case, quote: str) -> Claim:
    start = case.document.text.index(quote)
    return case.claims[0].model_copy(
        update={
            "id": "r1",
            "statement": quote,
            "quote": quote,
            "start": start,
            "end": start + len(quote),
            "paragraph": case.document.paragraph_index(start),
            "grounding": Grounding(method="reviewer", score=1.0),
            "origin": "reviewer",
            "model": None,
        }
    )


def _broken_case(reports: Path) -> None:
    (reports / "broken").mkdir()
    (reports / "broken" / "case.json").write_text('{\n  "schema_version": 1,,\n}', encoding="utf-8")


def _section(report: str, claim_id: str) -> str:
    """The section of one claim: from its heading to the next heading of the same or a higher level."""
    start = report.index(f"\n### Claim {claim_id}\n")
    end = re.search(r"\n#{1,3} ", report[start + 1 :])
    return report[start : start + 1 + end.start()] if end else report[start:]
