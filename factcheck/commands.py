"""What a reviewer types (commands at the main prompt, answers to the fields a form asks for) and what is said back.

The words every front uses for review events and reasons for rejecting live here; the terminal shows them as they
are, the Markdown report escapes the text that fills them.

Every parser takes the stripped line and returns a value or raises a UserError whose message is the one-line hint
shown back; an empty answer to a required field raises :class:`Cancel`, which drops the form.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field
from typing import Literal

from factcheck.errors import UserError
from factcheck.models import (
    ClaimKind,
    ClaimState,
    EditEvent,
    Nature,
    Rating,
    RatingScale,
    RejectEvent,
    ReviewEvent,
    SourceEvent,
    VerdictEvent,
)
from factcheck.ratings import Ratings
from factcheck.review import check_text, check_url, clip

CommandName = Literal[
    "verdict", "note", "source", "edit", "reject", "restore", "add", "skip", "back", "jump", "list", "help", "quit"
]
RejectReason = Literal["not_checkable", "duplicate", "misquoted", "other"]
Level = Literal["ok", "info", "warn", "error"]
View = Literal["claim", "help", "list", "none"]

COMMANDS: tuple[tuple[CommandName, tuple[str, ...], str], ...] = (
    ("verdict", ("v", "verdict"), "give a verdict (or type a rating key, such as false)"),
    ("note", ("n", "note"), "add a note"),
    ("source", ("s", "source"), "add a source: URL, title, optional excerpt"),
    ("edit", ("e", "edit"), "edit the claim's wording"),
    ("reject", ("r", "reject"), "reject the claim: not checkable, duplicate, misquoted, other"),
    ("restore", ("u", "restore"), "restore a rejected claim"),
    ("add", ("a", "add"), "add a claim the model missed, by pasting its quote"),
    ("skip", ("k", "skip", "next", ">"), "go to the next claim"),
    ("back", ("b", "back", "<"), "go to the previous claim"),
    ("jump", ("g", "go", "goto"), "go to a claim by number or id (the number alone works too)"),
    ("list", ("l", "list"), "list the claims in the queue"),
    ("help", ("?", "h", "help"), "this help, with the rating scale"),
    ("quit", ("q", "quit", "exit"), "quit; everything you confirmed is already saved"),
)
_BY_ALIAS: dict[str, CommandName] = {alias: name for name, aliases, _ in COMMANDS for alias in aliases}
REJECT_REASONS: dict[RejectReason, tuple[str, str]] = {
    "not_checkable": ("not checkable", "not checkable"),
    "duplicate": ("a duplicate", "a duplicate of another claim"),
    "misquoted": ("misquoted", "misquoted: the words do not say this"),
    "other": ("other reasons", "other (say why)"),
}
"""Each reason for rejecting a claim: how it is named wherever a rejection is shown, and how the form explains it."""
KINDS = list(ClaimKind)
NO_SOURCE_WORDS = ("none", "no", "-")


@dataclass(frozen=True)
class Ask:
    """What the session waits for: a label for the prompt, a hint, choices to list, and text to start from.

    ``free_text`` marks a field (a note, an excerpt, a wording, a quote) where the lines of a paste belong together:
    the console joins them into one answer instead of setting them aside.
    """

    label: str
    hint: str = ""
    choices: tuple[tuple[str, str, str], ...] = ()
    prefill: str = ""
    free_text: bool = False


@dataclass
class Reply:
    """What one line of input did: messages to show, which view to show next, events recorded, whether to quit."""

    messages: list[tuple[Level, str]] = field(default_factory=list)
    view: View = "none"
    recorded: list[ReviewEvent] = field(default_factory=list)
    done: bool = False


# The fields forms ask for whatever the claim; fields that depend on it are made where they are asked.
TITLE = Ask("Title", "optional: of the page or document · Enter uses the URL")
EXCERPT = Ask("Excerpt", "optional: the passage that matters · Enter for none", free_text=True)
VERDICT_NOTE = Ask("Note", "optional: why this rating · Enter for none", free_text=True)
WHY_NO_SOURCE = Ask("Why no source", "required: what you checked, and why nothing can be cited", free_text=True)
REASON = Ask(
    "Reason",
    "a number or a name · Enter cancels",
    tuple((str(i), key, explained) for i, (key, (_, explained)) in enumerate(REJECT_REASONS.items(), start=1)),
)
DETAILS = Ask("Details", "optional, e.g. which claim it repeats · Enter for none", free_text=True)
WORDING = Ask("Claim", "the claim so it stands alone · Enter uses the quote")
NATURE = Ask("Nature", "fact or opinion · Enter for fact")
KIND = Ask(
    "Kind",
    "a number or a name · Enter for other",
    tuple((str(i), k.value, k.value.replace("_", " ")) for i, k in enumerate(KINDS, start=1)),
)
CHECKWORTHINESS = Ask("Check-worthiness", "1 (low) to 5 (high) · Enter for 3")


class Cancel(Exception):
    """An empty answer to a required field."""


@dataclass(frozen=True)
class Command:
    name: CommandName
    arg: str = ""


def parse_command(line: str, scale: RatingScale, claim_ids: Container[str] = ()) -> Command:
    """A line typed at the main prompt; a rating key alone is a verdict, a number or claim id alone a jump."""
    text = line.strip()
    if not text:
        raise UserError("type a command", hint="? lists them")
    head, _, rest = text.partition(" ")
    name = _BY_ALIAS.get(head.lower())
    if name is not None:
        return Command(name, rest.strip())
    if scale.rating(text) is not None:
        return Command("verdict", text)
    bare = text.removeprefix("#")
    if bare.isdigit() or text in claim_ids:
        return Command("jump", bare)
    raise UserError(f"{clip(text, 30)!r} is not a command", hint="? lists them; a rating key such as 'false' rates")


def required(text: str) -> str:
    if not text.strip():
        raise Cancel
    return text.strip()


def optional(text: str) -> str | None:
    return text.strip() or None


def required_note(text: str) -> str:
    """A note that must be there, within the length limit."""
    return check_text(required(text)) or ""


def optional_note(text: str) -> str | None:
    return check_text(text)


def optional_excerpt(text: str) -> str | None:
    return check_text(text, "excerpt")


def url_or_none(text: str) -> str | None:
    """A source URL, or None when the reviewer states there is none."""
    text = required(text)
    return None if text.lower() in NO_SOURCE_WORDS else check_url(text)


def reject_reason(text: str) -> RejectReason:
    wanted = required(text).lower().replace(" ", "_").replace("-", "_")
    for number, key in enumerate(REJECT_REASONS, start=1):
        if wanted in (str(number), key) or (len(wanted) >= 3 and key.startswith(wanted)):
            return key
    raise UserError(f"{clip(text, 30)!r} is not a reason", hint="type 1 to 4, or a name such as duplicate")


def nature(text: str) -> Nature:
    wanted = text.strip().lower()
    if wanted in ("", "f", "fact"):
        return Nature.fact
    if wanted in ("o", "opinion"):
        return Nature.opinion
    raise UserError(f"{clip(text, 30)!r} is neither fact nor opinion", hint="type f or o")


def kind(text: str) -> ClaimKind:
    wanted = text.strip().lower().replace(" ", "_")
    if not wanted:
        return ClaimKind.other
    if wanted.isdigit() and 1 <= int(wanted) <= len(KINDS):
        return KINDS[int(wanted) - 1]
    matches = [k for k in KINDS if k.value.startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    raise UserError(f"{clip(text, 30)!r} is not a kind", hint=f"type 1 to {len(KINDS)} or a name")


def checkworthiness(text: str) -> int:
    wanted = text.strip() or "3"
    if wanted in ("1", "2", "3", "4", "5"):
        return int(wanted)
    raise UserError(f"{clip(text, 30)!r} is not 1 to 5")


def rating(scale: RatingScale, text: str) -> Rating:
    """A rating by its number on the scale, its key or its label."""
    wanted = text.strip().lower()
    for number, found in enumerate(scale.ratings, start=1):
        if wanted in (str(number), found.key, found.label.lower(), found.key.replace("-", " ")):
            return found
    raise UserError(f"{clip(text, 30)!r} is not a rating", hint=f"type 1 to {len(scale.ratings)} or a key")


def rating_choices(scale: RatingScale) -> tuple[tuple[str, str, str], ...]:
    return tuple((str(i), r.key, f"{r.label}: {r.definition}") for i, r in enumerate(scale.ratings, start=1))


# The words for each kind of review event: (told to the reviewer who just recorded it, told in a claim's history).
# A {field} is text from a reviewer, the document or a rating scale: each renderer escapes it as its medium needs.
EVENT_WORDS: dict[str, tuple[str, str]] = {
    "verdict": ("verdict recorded: {rating}", "rated it {rating}"),
    "verdict, no source": ("verdict recorded: {rating} without a source", "rated it {rating}"),
    "changed verdict": (
        "verdict recorded: {rating} (was {previous})",
        "changed the verdict from {previous} to {rating}",
    ),
    "changed verdict, no source": (
        "verdict recorded: {rating} without a source (was {previous})",
        "changed the verdict from {previous} to {rating}",
    ),
    "source": ("source added: {title}", "cited {title}"),
    "note": ("note added", "added a note"),
    "edit": ("wording changed", "edited the statement; it was “{previous}”"),
    "reject": ("rejected: {reason}", "rejected it as {reason}"),
    "reject, with detail": ("rejected: {reason}", "rejected it as {reason}: {detail}"),
    "restore": ("restored; it can have a verdict again", "restored it"),
    "add_claim": ("claim added to the case", "added this claim"),
}
TOLD_CLIP = 60
"""The longest text a confirmation quotes (a source's title, say)."""


def event_words(event: ReviewEvent, ratings: Ratings) -> tuple[tuple[str, str], dict[str, str]]:
    """The event's pair of templates from EVENT_WORDS, and the text that fills their fields."""
    if isinstance(event, VerdictEvent):
        said = {"rating": ratings.label(event.rating)}
        if event.previous is not None and event.previous != event.rating:
            said["previous"] = ratings.label(event.previous)
        kind = ("changed verdict" if "previous" in said else "verdict") + (", no source" if event.no_source else "")
        return EVENT_WORDS[kind], said
    if isinstance(event, SourceEvent):
        return EVENT_WORDS["source"], {"title": event.source.title or event.source.url}
    if isinstance(event, EditEvent):
        return EVENT_WORDS["edit"], {"previous": event.previous}
    if isinstance(event, RejectEvent):
        said = {"reason": REJECT_REASONS[event.reason][0]}
        if event.detail:
            return EVENT_WORDS["reject, with detail"], said | {"detail": event.detail}
        return EVENT_WORDS["reject"], said
    return EVENT_WORDS[event.action], {}


def describe(event: ReviewEvent, ratings: Ratings) -> str:
    """What a recorded event did, in a few words, for the reviewer who just recorded it."""
    (told, _), said = event_words(event, ratings)
    return told.format_map({name: clip(text, TOLD_CLIP) for name, text in said.items()})


def history_line(event: ReviewEvent, ratings: Ratings) -> str:
    """What an event did, as the terminal tells it in a claim's history."""
    (_, history), said = event_words(event, ratings)
    return history.format_map(said)


def rejected_why(event: RejectEvent) -> str:
    """The reason for a rejection, and its detail when there is one."""
    return REJECT_REASONS[event.reason][0] + (f": {event.detail}" if event.detail else "")


def set_aside(before: ClaimState, event: ReviewEvent, ratings: Ratings) -> tuple[Level, str] | None:
    """What an edit or a rejection did to the verdicts ``before`` it: they stay in the history, but no longer count."""
    if isinstance(event, EditEvent) and event.statement != before.statement:
        gone = list(before.verdicts.values())
    elif isinstance(event, RejectEvent):
        gone = [v for v in before.verdicts.values() if v.reviewer == event.reviewer]
    else:
        return None
    if not gone:
        return None
    shown = ", ".join(f"{v.reviewer}'s {ratings.label(v.rating)}" for v in gone)
    if isinstance(event, RejectEvent):
        return "info", f"your earlier verdict is set aside by your rejection ({shown})"
    count = f"{len(gone)} earlier verdict{'s' * (len(gone) != 1)}"
    return "warn", f"wording changed; {count} set aside ({shown}): the claim waits for a verdict on the new wording"


def dispute(claim: ClaimState, event: VerdictEvent | RejectEvent, ratings: Ratings) -> str | None:
    """The other reviewers' standing decisions that differ from the verdict or rejection just recorded, if any."""
    mine = event.rating if isinstance(event, VerdictEvent) else None
    differ = [f"{v.reviewer} rated it {ratings.label(v.rating)}" for v in claim.verdicts.values() if v.rating != mine]
    rejection = claim.rejection
    if isinstance(event, VerdictEvent) and rejection is not None:
        differ.append(f"{rejection.reviewer} rejected it ({REJECT_REASONS[rejection.reason][0]})")
    return "disputed: " + "; ".join(differ) if differ else None


def given_on_other_wording(claim: ClaimState, event: VerdictEvent) -> str | None:
    """Why a verdict just recorded does not count, when the claim's wording changed while it was being given."""
    if event.statement is None or event.statement == claim.statement:
        return None
    edit = next((e for e in reversed(claim.history) if isinstance(e, EditEvent)), None)
    who = f"{edit.reviewer} changed the wording" if edit else "the wording changed"
    return f"{who} while the verdict was being given, so it is set aside: rate the new wording"
