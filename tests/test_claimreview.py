"""schema.org ClaimReview: one per claim with an agreed verdict, signed by a configured publisher."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import make_case
from review_helpers import at, run_cli, save_case, verdict
from sample_review import claim_ids, newsroom, report_case, reviewed_state, sample_events

from factcheck.claimreview import PUBLISHER_ENV, Publisher, build_claimreviews, load_publisher, render_claimreview
from factcheck.errors import UserError
from factcheck.models import EditEvent
from factcheck.review import fold

PUBLISHER = Publisher(
    name="Example Fact Check", url="https://factcheck.example", report_url="https://factcheck.example/checks/{slug}"
)


@pytest.fixture(autouse=True)
def _no_publisher_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in PUBLISHER_ENV.values():
        monkeypatch.delenv(variable, raising=False)


def test_claimreview_has_the_required_fields_with_the_right_types() -> None:
    case = report_case()
    members, _, _, _ = claim_ids(case)
    reviews = json.loads(render_claimreview(reviewed_state(), newsroom(), PUBLISHER))
    assert isinstance(reviews, list)
    assert len(reviews) == 1
    assert reviews[0] == {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": f"https://factcheck.example/checks/{case.document.slug}#claim-{members}",
        "claimReviewed": "Tren de Aragua is estimated to have around 5,000 members",
        "datePublished": "2026-11-25",
        "author": {"@type": "Organization", "name": "Example Fact Check", "url": "https://factcheck.example"},
        "reviewRating": {
            "@type": "Rating",
            "ratingValue": 5,
            "bestRating": 6,
            "worstRating": 1,
            "alternateName": "Mostly true",
        },
        "itemReviewed": {"@type": "Claim", "appearance": {"@type": "CreativeWork", "headline": case.document.title}},
    }
    rating = reviews[0]["reviewRating"]
    assert all(type(rating[key]) is int for key in ("ratingValue", "bestRating", "worstRating"))


def test_the_publication_date_is_when_the_verdict_became_agreed() -> None:
    case = make_case()
    claim_id = case.claims[0].id
    events = [verdict(claim_id, "true", "alice", 1 * 24 * 60), verdict(claim_id, "true", "bob", 9 * 24 * 60)]
    reviews = json.loads(render_claimreview(fold(case, events), newsroom(), PUBLISHER))
    assert reviews[0]["datePublished"] == "2026-12-04"


def test_a_rating_off_the_numeric_scale_is_published_by_its_name_only() -> None:
    case = make_case()
    state = fold(case, [verdict(case.claims[0].id, "unproven", "alice")])
    reviews = json.loads(render_claimreview(state, newsroom(), PUBLISHER))
    assert reviews[0]["reviewRating"] == {"@type": "Rating", "alternateName": "Unproven"}


def test_a_document_read_from_a_url_appears_by_its_url() -> None:
    case = make_case()
    url = "https://news.example/2025/tren-de-aragua"
    case = case.model_copy(update={"document": case.document.model_copy(update={"source": url})})
    reviews = json.loads(
        render_claimreview(fold(case, [verdict(case.claims[0].id, "true", "alice")]), newsroom(), PUBLISHER)
    )
    assert reviews[0]["itemReviewed"]["appearance"] == {"@type": "CreativeWork", "url": url}


def test_pending_disputed_and_rejected_claims_are_left_out_and_named() -> None:
    members, rico, prison, opinion = claim_ids(report_case())
    reviews = build_claimreviews(reviewed_state(), newsroom(), PUBLISHER)
    assert [r["url"].rsplit("#", 1)[1] for r in reviews.reviews] == [f"claim-{members}"]
    assert reviews.left_out == [(prison, "pending review"), (rico, "disputed")]
    assert reviews.left_out_message() == f"left out of ClaimReview: {prison} (pending review), {rico} (disputed)"
    assert opinion not in (reviews.left_out_message() or "")


def test_a_claim_rated_as_opinion_is_not_published_and_its_reason_is_given() -> None:
    case = make_case()
    fact, opinion = case.claims[0].id, case.claims[3].id
    state = fold(case, [verdict(fact, "true", "alice"), verdict(opinion, "opinion", "alice")])
    reviews = build_claimreviews(state, newsroom(), PUBLISHER)
    assert [r["claimReviewed"] for r in reviews.reviews] == [case.claims[0].statement]
    assert (opinion, "rated Not checkable / opinion: no fact-check to publish") in reviews.left_out


def test_only_the_opinion_rating_of_the_newsroom_scale_is_kept_out_of_claimreview() -> None:
    assert [r.key for r in newsroom().ratings if not r.publish] == ["opinion"]


def test_refuses_when_every_agreed_verdict_is_an_opinion() -> None:
    case = make_case()
    state = fold(case, [verdict(c.id, "opinion", "alice", i) for i, c in enumerate(case.claims)])
    with pytest.raises(UserError, match=r"no claim of .* has an agreed verdict to publish as ClaimReview"):
        build_claimreviews(state, newsroom(), PUBLISHER)


def test_the_summary_counts_what_is_published_and_calls_an_unfinished_review_a_draft() -> None:
    reviews = build_claimreviews(reviewed_state(), newsroom(), PUBLISHER)
    assert reviews.summary() == (
        "publishing 1 of 4 claims; 1 pending, 1 disputed, 1 rejected — the Markdown report is a draft"
    )


def test_the_summary_of_a_finished_review_counts_opinions_and_does_not_say_draft() -> None:
    case = make_case()
    events = [verdict(c.id, "true", "alice", i) for i, c in enumerate(case.claims[:3])]
    events.append(verdict(case.claims[3].id, "opinion", "alice", 9))
    reviews = build_claimreviews(fold(case, events), newsroom(), PUBLISHER)
    assert reviews.summary() == "publishing 3 of 4 claims; 1 rated Not checkable / opinion"


def test_the_summary_is_silent_when_every_claim_is_published() -> None:
    case = make_case()
    events = [verdict(c.id, "true", "alice", i) for i, c in enumerate(case.claims)]
    assert build_claimreviews(fold(case, events), newsroom(), PUBLISHER).summary() is None


def test_refuses_when_no_claim_has_an_agreed_verdict() -> None:
    case = make_case()
    with pytest.raises(UserError, match=r"no claim of .* has an agreed verdict to publish as ClaimReview"):
        render_claimreview(fold(case, []), newsroom(), PUBLISHER)


def test_refuses_without_a_publisher(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="ClaimReview needs the publisher's name, url, report_url"):
        load_publisher(tmp_path)


def test_refuses_a_publisher_missing_one_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTCHECK_PUBLISHER_NAME", "Example Fact Check")
    monkeypatch.setenv("FACTCHECK_PUBLISHER_URL", "https://factcheck.example")
    with pytest.raises(UserError, match="ClaimReview needs the publisher's report_url"):
        load_publisher(tmp_path)


def test_refuses_a_publisher_address_that_is_not_http(tmp_path: Path) -> None:
    (tmp_path / "publisher.json").write_text(
        json.dumps({"name": "X", "url": "javascript:alert(1)", "report_url": "https://x.example/{slug}"})
    )
    with pytest.raises(UserError, match="publisher url 'javascript:alert\\(1\\)' is not a plain http\\(s\\) address"):
        load_publisher(tmp_path)


def test_publisher_from_factcheck_toml_in_the_reports_folder(tmp_path: Path) -> None:
    (tmp_path / "factcheck.toml").write_text(
        '[publisher]\nname = "Example Fact Check"\nurl = "https://factcheck.example"\n'
        'report_url = "https://factcheck.example/checks/{slug}"\n'
    )
    assert load_publisher(tmp_path) == PUBLISHER


def test_the_environment_overrides_the_folders_file_and_an_explicit_file_overrides_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "publisher.json").write_text(json.dumps(PUBLISHER.model_dump()))
    monkeypatch.setenv("FACTCHECK_PUBLISHER_NAME", "From the environment")
    from_environment = load_publisher(tmp_path)
    assert (from_environment.name, from_environment.url) == ("From the environment", PUBLISHER.url)
    explicit = tmp_path / "other.toml"
    explicit.write_text(
        'name = "From the file"\nurl = "https://other.example"\nreport_url = "https://other.example/r"\n'
    )
    assert load_publisher(tmp_path, explicit).name == "From the file"


def test_claimreview_json_can_be_pasted_into_a_script_tag() -> None:
    case = make_case()
    hostile = "</script><script>alert(1)</script> & more"
    edit = EditEvent(
        event_id="e", at=at(0), reviewer="alice", claim_id=case.claims[0].id, statement=hostile, previous="x"
    )
    state = fold(case, [edit, verdict(case.claims[0].id, "true", "alice")])
    text = render_claimreview(state, newsroom(), PUBLISHER)
    assert "<" not in text
    assert "&" not in text
    assert json.loads(text)[0]["claimReviewed"] == hostile


# --------------------------------------------------------------------------------------------------- command


def test_claimreview_command_refuses_without_a_publisher_in_one_line(
    reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    case = report_case()
    folder = save_case(reports, case, sample_events(case))
    code, out, err = run_cli(monkeypatch, capsys, "report", case.document.slug, "--format", "claimreview")
    assert code == 1
    assert out == ""
    assert err.startswith("factcheck: error: ClaimReview needs the publisher's name, url, report_url (")
    assert err.count("\n") == 1
    assert not (folder / "claimreview.json").exists()


def test_claimreview_command_refuses_a_case_without_agreed_verdicts(
    reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _publisher_in_environment(monkeypatch)
    case = make_case()
    save_case(reports, case, [])
    code, _, err = run_cli(monkeypatch, capsys, "report", case.document.slug, "-f", "claimreview")
    assert code == 1
    assert err.startswith(f"factcheck: error: no claim of {case.document.slug} has an agreed verdict")
    assert err.count("\n") == 1


def test_claimreview_command_says_on_stderr_which_claims_were_left_out(
    reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _publisher_in_environment(monkeypatch)
    case = report_case()
    folder = save_case(reports, case, sample_events(case))
    _, rico, prison, _ = claim_ids(case)
    code, out, err = run_cli(monkeypatch, capsys, "report", case.document.slug, "--format", "claimreview")
    assert code == 0
    left_out = f"{prison} (pending review), {rico} (disputed)"
    assert err.splitlines()[1:] == [f"factcheck: left out of ClaimReview: {left_out}"]
    assert out.strip() == str(folder / "claimreview.json")
    assert len(json.loads((folder / "claimreview.json").read_text(encoding="utf-8"))) == 1


def test_claimreview_command_says_first_in_one_line_what_it_publishes_from_a_draft(
    reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _publisher_in_environment(monkeypatch)
    case = report_case()
    save_case(reports, case, sample_events(case))
    code, _, err = run_cli(monkeypatch, capsys, "report", case.document.slug, "-f", "claimreview", "-o", "-")
    assert code == 0
    assert err.splitlines()[0] == (
        "factcheck: publishing 1 of 4 claims; 1 pending, 1 disputed, 1 rejected — the Markdown report is a draft"
    )


def test_claimreview_command_reads_the_publisher_file_given(
    reports: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    case = report_case()
    save_case(reports, case, sample_events(case))
    publisher = tmp_path / "publisher.json"
    publisher.write_text(json.dumps(PUBLISHER.model_dump()))
    code, out, _ = run_cli(
        monkeypatch, capsys, "report", case.document.slug, "-f", "claimreview", "--publisher", str(publisher), "-o", "-"
    )
    assert code == 0
    assert json.loads(out)[0]["author"]["name"] == "Example Fact Check"


# --------------------------------------------------------------------------------------------------- helpers


def _publisher_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTCHECK_PUBLISHER_NAME", PUBLISHER.name)
    monkeypatch.setenv("FACTCHECK_PUBLISHER_URL", PUBLISHER.url)
    monkeypatch.setenv("FACTCHECK_REPORT_URL", PUBLISHER.report_url)
