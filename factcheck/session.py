"""The interactive review session as a state machine, with no terminal I/O.

The console feeds it one line at a time and shows what it answers. A command either acts at once (move, restore)
or opens a short form that asks for what it needs one field at a time; when the last field is answered, the events
are appended to the case's review log before ``feed`` returns, so nothing confirmed can be lost by what happens
next. An empty answer to the first field asked cancels the form and records nothing; later on, an empty answer
takes an optional field's default, and a required field is asked again (``cancel`` still drops the form), so a
stray Enter never throws away what was typed.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from factcheck import commands as parse
from factcheck import store
from factcheck.commands import Ask, Level, Reply
from factcheck.errors import CaseError, FactcheckError, UserError
from factcheck.missed_claims import add_claim_event, claim_at, ground_pasted_quote, overlapping_claims
from factcheck.models import (
    AddClaimEvent,
    ClaimState,
    EditEvent,
    NoteEvent,
    RejectEvent,
    RestoreEvent,
    ReviewEvent,
    Source,
    SourceEvent,
    VerdictEvent,
)
from factcheck.ratings import Ratings, load_scale
from factcheck.review import (
    Only,
    Progress,
    build_verdict,
    can_rate,
    can_reject,
    check_reviewer,
    check_url,
    clip,
    fold,
    in_filter,
    make_source,
    new_event_id,
    progress,
    queue_order,
    utc_now,
)

T = TypeVar("T")
E = TypeVar("E", bound=BaseModel)


Form = Generator[Ask, str, list[ReviewEvent]]


class Session:
    """One reviewer going through one case's queue of claims."""

    def __init__(self, folder: Path, reviewer: str, only: Only = "all", *, now: Callable[[], datetime] = utc_now):
        self.folder = folder
        self.reviewer = check_reviewer(reviewer)
        self.only: Only = only
        self._now = now
        self.case = store.load_case(folder)
        self.scale = load_scale(self.case.scale)
        self.ratings = Ratings(self.scale)
        self._mark = _log_mark(folder)
        events, warnings = store.read_events(folder)
        self.state = fold(self.case, events, warnings)
        self._warned = set(self.state.warnings)
        self.queue = queue_order(self.state, only)
        self.position = self._resume_at(events)
        self._form: Form | None = None
        self._asking: Ask | None = None
        self._answered = 0
        self._reply = Reply()

    # ------------------------------------------------------------------------------------------- what is shown

    @property
    def current(self) -> ClaimState | None:
        return self.state.get(self.queue[self.position]) if self.queue else None

    @property
    def asking(self) -> Ask | None:
        """The field a form waits for, or None at the main prompt."""
        return self._asking

    def number(self, claim_id: str) -> int | None:
        """The claim's 1-based place in the queue."""
        return self.queue.index(claim_id) + 1 if claim_id in self.queue else None

    def progress(self) -> Progress:
        return progress(self.state, self.scale)

    def needs_attention(self, claim: ClaimState) -> bool:
        """Whether the claim still waits for this reviewer in this queue."""
        if self.only == "all":
            return self.reviewer not in claim.verdicts and claim.rejection is None
        return in_filter(claim, self.only)

    # ------------------------------------------------------------------------------------------- input

    def feed(self, line: str) -> Reply:
        """Act on one line of input: a command at the main prompt, or the answer to the field asked."""
        self._reply = Reply()
        try:
            if self._form is None:
                self._refresh()
                self._command(line)
            else:
                self._step(line)
        except FactcheckError as exc:
            self._say("error", str(exc))
        if self._form is None:
            self._refresh()
        return self._reply

    def cancel(self) -> Reply:
        """Drop the form being filled in; nothing of it is recorded."""
        self._reply = Reply()
        if self._form is not None:
            self._form.close()
            self._form = self._asking = None
            self._say("info", "cancelled; nothing recorded")
        return self._reply

    def _command(self, line: str) -> None:
        command = parse.parse_command(line, self.scale, {c.claim.id for c in self.state.claims})
        arg = command.arg
        if command.name in ("help", "list"):
            self._reply.view = "help" if command.name == "help" else "list"
        elif command.name == "quit":
            self._reply.done = True
        elif command.name == "skip":
            self._move(+1)
        elif command.name == "back":
            self._move(-1)
        elif command.name == "jump" and arg:
            self._go(arg)
        elif command.name == "jump":
            self._open(self._jump_form())
        elif command.name == "add":
            self._open(self._add_form(arg))
        elif command.name == "restore":
            self._restore(self._claim())
        else:
            forms = {
                "verdict": self._verdict_form,
                "note": self._note_form,
                "source": self._source_form,
                "edit": self._edit_form,
                "reject": self._reject_form,
            }
            self._open(forms[command.name](self._claim(), arg))

    def _open(self, form: Form) -> None:
        self._form = form
        self._answered = 0
        self._step(None)

    def _step(self, answer: str | None) -> None:
        form = self._form
        assert form is not None
        try:
            self._asking = next(form) if answer is None else form.send(answer)
            return
        except StopIteration as finished:
            events: list[ReviewEvent] = finished.value
        except parse.Cancel:
            self._say("info", "cancelled; nothing recorded")
            events = []
        except BaseException:
            self._form = self._asking = None
            raise
        self._form = self._asking = None
        if events:
            self._record(events)

    def _ask(self, ask: Ask, read: Callable[[str], T]) -> Generator[Ask, str, T]:
        while True:
            answer = yield ask
            try:
                value = read(answer.strip())
            except FactcheckError as exc:
                self._say("error", str(exc))
                continue
            except parse.Cancel:
                if not self._answered:
                    raise
                self._say("error", f"{ask.label.lower()} is required here (Ctrl-C cancels the whole form)")
                continue
            self._answered += 1
            return value

    def _cancels(self) -> str:
        """What Enter does on a required field: cancel the form only when nothing has been answered yet."""
        return "Enter cancels" if not self._answered else "required"

    def _say(self, level: Level, text: str) -> None:
        self._reply.messages.append((level, text))

    # ------------------------------------------------------------------------------------------- forms

    def _verdict_form(self, claim: ClaimState, preset: str) -> Form:
        if not can_rate(claim, self.reviewer):
            raise UserError("this claim is rejected", hint="u restores it; then it can have a verdict")
        if preset:
            rating = parse.rating(self.scale, preset)
        else:
            ask = Ask("Rating", "a number or a key · Enter cancels", parse.rating_choices(self.scale))
            rating = yield from self._ask(ask, lambda text: parse.rating(self.scale, parse.required(text)))
            self._say("info", f"rating: {rating.label}")
        source: Source | None = None
        why: str | None = None
        if rating.needs_evidence:
            source, why = yield from self._evidence(claim)
        note = why or (yield from self._ask(parse.VERDICT_NOTE, parse.optional_note))
        return build_verdict(
            self.state, self.scale, claim_id=claim.claim.id, rating=rating.key, reviewer=self.reviewer,
            note=note, source=source, no_source=why is not None, at=self._now(),
        )  # fmt: skip

    def _evidence(self, claim: ClaimState) -> Generator[Ask, str, tuple[Source | None, str | None]]:
        """A new source, or why none can be cited; (None, None) when the verdict rests on a source of this
        reviewer's own already on the claim. Another reviewer's source never counts unseen: cite it to rest on it."""
        own = claim.sources_by(self.reviewer)
        if own:
            hint = f"Enter keeps yours ({clip(own[-1].title, 40)}); or another URL, or 'none'"
            url = yield from self._ask(Ask("Source URL", hint), lambda text: parse.url_or_none(text) if text else "")
            if url == "" or any(s.url == url for s in own):
                return None, None
        else:
            hint = f"the page you checked it against, or 'none' if nothing citable exists · {self._cancels()}"
            url = yield from self._ask(Ask("Source URL", hint), parse.url_or_none)
        if url is None:
            why = yield from self._ask(parse.WHY_NO_SOURCE, parse.required_note)
            return None, why
        source = yield from self._source_details(url)
        return source, None

    def _source_details(self, url: str) -> Generator[Ask, str, Source]:
        title = yield from self._ask(parse.TITLE, parse.optional)
        excerpt = yield from self._ask(parse.EXCERPT, parse.optional_excerpt)
        return make_source(url, title, excerpt)

    def _source_form(self, claim: ClaimState, preset: str) -> Form:
        def new_url(text: str) -> str:
            url = check_url(parse.required(text))
            if any(s.url == url for s in claim.sources_by(self.reviewer)):
                raise UserError("you already cited that source on this claim")
            return url

        if preset:
            url = new_url(preset)
        else:
            url = yield from self._ask(Ask("Source URL", "http:// or https:// · Enter cancels"), new_url)
        source = yield from self._source_details(url)
        return [self._event(SourceEvent, claim, source=source)]

    def _note_form(self, claim: ClaimState, preset: str) -> Form:
        if preset:
            text = parse.required_note(preset)
        else:
            text = yield from self._ask(Ask("Note", "Enter cancels", free_text=True), parse.required_note)
        return [self._event(NoteEvent, claim, text=text)]

    def _edit_form(self, claim: ClaimState, preset: str) -> Form:
        if preset:
            text = preset
        else:
            hint = "change the text so the claim stands on its own · Enter as it is changes nothing"
            ask = Ask("New wording", hint, prefill=claim.statement, free_text=True)
            text = yield from self._ask(ask, parse.required)
        text = " ".join(line.strip() for line in text.splitlines() if line.strip())  # a wording is one line
        if text == claim.statement:
            self._say("info", "the wording is unchanged; nothing recorded")
            return []
        return [self._event(EditEvent, claim, statement=text, previous=claim.statement)]

    def _reject_form(self, claim: ClaimState, preset: str) -> Form:
        if not can_reject(claim, self.reviewer):
            raise UserError("this claim is already rejected", hint="u restores it")
        if preset:
            reason = parse.reject_reason(preset)
        else:
            reason = yield from self._ask(parse.REASON, parse.reject_reason)
        detail: str | None
        if reason == "other":
            hint = f"required for 'other' · {self._cancels()}"
            detail = yield from self._ask(Ask("Why", hint, free_text=True), parse.required_note)
        else:
            detail = yield from self._ask(parse.DETAILS, parse.optional_note)
        return [self._event(RejectEvent, claim, reason=reason, detail=detail)]

    def _add_form(self, preset: str) -> Form:
        def grounded(text: str) -> tuple[int, int, str, str]:
            start, end, words = ground_pasted_quote(self.case, parse.required(text))
            taken = claim_at(self.state, start, end)
            if taken is not None:
                number = self.number(taken.claim.id)
                where = f"g {number} goes there" if number else "it is outside this queue"
                raise UserError(f"those words are already claim {taken.claim.id}", hint=where)
            return start, end, words, text

        if preset:
            start, end, words, pasted = grounded(preset)
        else:
            hint = "paste the exact words from the document · Enter cancels"
            start, end, words, pasted = yield from self._ask(Ask("Quote", hint, free_text=True), grounded)
        paragraph = self.case.document.paragraph_index(start) + 1
        self._say("info", f"found in paragraph {paragraph}: {clip(words, 120)!r}")
        overlaps = [self._ref(c.claim.id) for c in overlapping_claims(self.state, start, end)]
        if overlaps:
            self._say("warn", f"overlaps {', '.join(overlaps)}: check it is not the same claim")
        statement = yield from self._ask(parse.WORDING, parse.optional)
        nature = yield from self._ask(parse.NATURE, parse.nature)
        kind = yield from self._ask(parse.KIND, parse.kind)
        worth = yield from self._ask(parse.CHECKWORTHINESS, parse.checkworthiness)
        event = add_claim_event(
            self.state, start=start, end=end, pasted=pasted, statement=statement or words, kind=kind,
            nature=nature, checkworthiness=worth, reviewer=self.reviewer, at=self._now(),
        )  # fmt: skip
        return [event]

    def _jump_form(self) -> Form:
        ref = yield from self._ask(Ask("Go to", "a claim number or id · Enter cancels"), parse.required)
        self._go(ref)
        return []

    # ------------------------------------------------------------------------------------------- actions

    def _claim(self) -> ClaimState:
        claim = self.current
        if claim is None:
            raise UserError("there is no claim here", hint="a adds one")
        return claim

    def _ref(self, claim_id: str) -> str:
        number = self.number(claim_id)
        return f"#{number} {claim_id}" if number else claim_id

    def _event(self, kind: type[E], claim: ClaimState, **fields: Any) -> E:
        return kind(event_id=new_event_id(), at=self._now(), reviewer=self.reviewer, claim_id=claim.claim.id, **fields)

    def _restore(self, claim: ClaimState) -> None:
        if claim.rejection is None:
            raise UserError("this claim is not rejected")
        self._record([self._event(RestoreEvent, claim)])

    def _record(self, events: Sequence[ReviewEvent]) -> None:
        try:
            store.append_events(self.folder, events)
        except OSError as exc:
            raise CaseError(
                f"{self.folder / store.LOG_FILE}: cannot be written ({exc.strerror}); nothing recorded"
            ) from None
        before = self.state.get(events[-1].claim_id)
        self._reply.recorded.extend(events)
        self._reply.view = "claim"
        self._refresh(say_rewording=False)
        last = events[-1]
        if isinstance(last, AddClaimEvent):
            if last.claim_id in self.queue:
                self.queue.remove(last.claim_id)
            self.queue.insert(self.position + 1 if self.queue else 0, last.claim_id)
            self.position = self.queue.index(last.claim_id)
        for event in events:
            self._say("ok", f"{self._ref(event.claim_id)}: {parse.describe(event, self.ratings)}")
        set_aside = parse.set_aside(before, last, self.ratings) if before is not None else None
        if set_aside:
            self._say(*set_aside)
        after = self.state.get(last.claim_id)
        overtaken = parse.given_on_other_wording(after, last) if after and isinstance(last, VerdictEvent) else None
        if overtaken:
            self._say("warn", overtaken)  # and stay on the claim, for a verdict on its new wording
        elif isinstance(last, VerdictEvent | RejectEvent):
            self._after_decision(last)

    def _after_decision(self, event: VerdictEvent | RejectEvent) -> None:
        """Warn of a dispute, then go on to the next claim that waits for this reviewer."""
        claim = self.state.get(event.claim_id)
        dispute = parse.dispute(claim, event, self.ratings) if claim is not None else None
        if dispute:
            self._say("warn", dispute)
        ahead = self.queue[self.position + 1 :] + self.queue[: self.position]
        waiting = next((cid for cid in ahead if (c := self.state.get(cid)) and self.needs_attention(c)), None)
        if waiting is None:
            self._say("info", "nothing else in the queue waits for you; q quits, k/b/g move around")
        else:
            self.position = self.queue.index(waiting)

    def _move(self, step: int) -> None:
        if not self.queue:
            raise UserError("the queue is empty", hint="a adds a claim")
        target = self.position + step
        if not 0 <= target < len(self.queue):
            edge = "last" if step > 0 else "first"
            raise UserError(f"this is the {edge} claim in the queue", hint="g NUMBER goes to any claim")
        self.position = target
        self._reply.view = "claim"

    def _go(self, ref: str) -> None:
        ref = ref.strip().removeprefix("#")
        if ref.isdigit():
            if not 1 <= int(ref) <= len(self.queue):
                raise UserError(f"no claim #{ref}", hint=f"the queue has #1 to #{len(self.queue)}")
            self.position = int(ref) - 1
        else:
            if self.state.get(ref) is None:
                raise UserError(f"no claim {ref!r} in this case", hint="l lists the claims")
            if ref not in self.queue:
                self.queue.append(ref)
                self._say("info", f"{ref} was not in this queue; it is now #{len(self.queue)}")
            self.position = self.queue.index(ref)
        self._reply.view = "claim"

    def _refresh(self, *, say_rewording: bool = True) -> None:
        """Fold the log again if another process wrote to it, so other reviewers' actions show up.

        When another reviewer changed the wording of the claim on screen, the claim is shown again and the reviewer
        told, so that nothing is decided on words they have not seen.
        """
        mark = _log_mark(self.folder)
        if mark == self._mark:
            return
        shown = self.current
        events, warnings = store.read_events(self.folder)
        self.state = fold(self.case, events, warnings)
        self._mark = mark
        for warning in self.state.warnings:
            if warning not in self._warned:
                self._warned.add(warning)
                self._say("warn", warning)
        known = set(self.queue)
        for claim_id in queue_order(self.state, self.only):
            if claim_id not in known:
                self.queue.append(claim_id)
        now = self.state.get(shown.claim.id) if shown is not None else None
        if say_rewording and shown is not None and now is not None and now.statement != shown.statement:
            edit = next((e for e in reversed(now.history) if isinstance(e, EditEvent)), None)
            who = edit.reviewer if edit is not None else "another reviewer"
            self._say("warn", f"{who} changed the wording of this claim just now: read it again before deciding")
            self._reply.view = "claim"

    def _resume_at(self, events: Sequence[ReviewEvent]) -> int:
        """The claim this reviewer was working on, if unfinished; else the first one waiting for them."""
        if not self.queue:
            return 0
        mine = next((e for e in reversed(events) if e.reviewer == self.reviewer), None)
        if mine is not None and not isinstance(mine, VerdictEvent | RejectEvent) and mine.claim_id in self.queue:
            claim = self.state.get(mine.claim_id)
            if claim is not None and self.needs_attention(claim):
                return self.queue.index(mine.claim_id)
        waiting = (i for i, cid in enumerate(self.queue) if (c := self.state.get(cid)) and self.needs_attention(c))
        return next(waiting, 0)


def _log_mark(folder: Path) -> tuple[int, int] | None:
    try:
        stat = (folder / store.LOG_FILE).stat()
    except FileNotFoundError:
        return None
    return stat.st_size, stat.st_mtime_ns
