"""Submitting a batch so that no interruption loses it or pays for it twice.

A submission takes four steps, and the process may be killed after any of them:

1. Upload the JSONL file, named ``factcheck-<marker>.jsonl``. Nothing is recorded yet, so a run killed here leaves
   that file orphaned on the server: nothing reads it, it costs only storage until it is deleted or expires, and the
   marker in its name tells it apart. ``factcheck batch collect`` drafts the same requests and uploads them again.
2. Record the submission -- the marker, the uploaded file's id, the custom_ids (``state.open``) and the documents
   sharing the file -- in each document's ``batch.json``, atomically one file at a time. No batch exists until every
   document has it (step 3 waits for all of step 2), so a resumed run drops a record not every document got, and
   submits those requests again; the file is orphaned as in step 1.
3. Create the batch, with the marker in its ``metadata``. A run killed after this (or whose reply was lost) leaves
   the batch running and paid for; the resumed run lists batches, newest first, finds the one carrying the marker
   and the input file, and adopts it. Only if there is none does it create the batch, from the file already uploaded.
4. Record the batch's id in each ``batch.json``. A document that missed it adopts it from one that has it.

The same lookup guards a create retried after a transport error, since its first try may have made the batch.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from factcheck.batchfile import ENDPOINT, BatchState, Members, Submission, custom_id, request_line, save_state

if TYPE_CHECKING:
    import openai
    from openai.types import Batch

    from factcheck.llm import LLMClient

MARKER_KEY = "factcheck_submission"
LOOKBACK = timedelta(days=1)  # a batch listed as older than its record by more than any clock skew is not it
PAGE_SIZE = 100  # the most batches the API lists a page

Wanted = list[tuple[Path, BatchState, dict[str, Any]]]  # documents and the requests each wants submitted


def submit(api: LLMClient, group: Wanted, on_event: Callable[[str], None]) -> str:
    """Upload the group's requests, record the submission in every document's state, create the batch and record
    its id; the batch's id."""
    marker = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}"
    lines: list[bytes] = []
    opened: list[dict[str, str]] = []
    for _, state, requests in group:
        opened.append({custom_id(state.slug, key): key for key in requests})
        lines.extend(request_line(custom_id(state.slug, key), body) for key, body in requests.items())
    jsonl = b"".join(lines)
    uploaded = api.call_api(lambda sdk: sdk.files.create(file=(f"factcheck-{marker}.jsonl", jsonl), purpose="batch"))
    submission = Submission(
        marker=marker, input_file_id=uploaded.id, documents=[state.slug for _, state, _ in group],
        recorded_at=datetime.now(UTC),
    )  # fmt: skip
    members: Members = []
    for (folder, state, _), open_requests in zip(group, opened, strict=True):
        state.open, state.submission = open_requests, submission
        save_state(folder, state)
        members.append((folder, state))
    batch_id = create_batch(api, submission)
    adopt(members, batch_id)
    on_event(f"submitted {batch_id}: {len(lines)} requests for {len(group)} document(s)")
    return batch_id


def resume_submissions(api: LLMClient, members: Members, on_event: Callable[[str], None]) -> None:
    """Settle every submission an interrupted run left unconfirmed: adopt the batch it made, create the batch if it
    never was, or drop a record not every document got (its requests are then drafted and submitted again)."""
    for submission, waiting in unconfirmed(members):
        batch_id = locate(api, members, submission)
        if batch_id is not None:
            adopt(waiting, batch_id)
            on_event(f"adopted {batch_id}: submitted before an interruption, for {len(waiting)} document(s)")
        elif set(submission.documents) <= {state.slug for _, state in waiting}:
            batch_id = create_batch(api, submission)
            adopt(waiting, batch_id)
            on_event(f"submitted {batch_id} from {submission.input_file_id}, uploaded before an interruption")
        else:
            for folder, state in waiting:
                state.open, state.submission = {}, None
                save_state(folder, state)
            on_event(
                f"dropped a submission interrupted before its batch was created; its file "
                f"{submission.input_file_id} is left unused"
            )


def unconfirmed(members: Members) -> list[tuple[Submission, Members]]:
    """The submissions recorded without a batch id, each with the documents waiting on it."""
    found: dict[str, tuple[Submission, Members]] = {}
    for folder, state in members:
        if not state.done and state.batch_id is None and state.submission is not None:
            found.setdefault(state.submission.marker, (state.submission, []))[1].append((folder, state))
    return list(found.values())


def locate(api: LLMClient, members: Members, submission: Submission) -> str | None:
    """The batch a submission made, if it made one: as another document recorded it, else as the API lists it."""
    for _, state in members:
        if state.batch_id is not None and state.submission is not None and state.submission.marker == submission.marker:
            return state.batch_id
    found = api.call_api(lambda sdk: find_batch(sdk, submission))
    return found.id if found is not None else None


def find_batch(sdk: openai.OpenAI, submission: Submission) -> Batch | None:
    """The batch carrying the submission's marker and input file, paging back through the batches listed newest
    first until they are older than the submission's record could allow."""
    oldest = (submission.recorded_at - LOOKBACK).timestamp()
    for batch in sdk.batches.list(limit=PAGE_SIZE):  # the SDK's page iterator follows ``after`` and ``has_more``
        if batch.created_at < oldest:
            return None
        marker = (batch.metadata or {}).get(MARKER_KEY)
        if marker == submission.marker and batch.input_file_id == submission.input_file_id:
            return batch
    return None


def create_batch(api: LLMClient, submission: Submission) -> str:
    """Create the submission's batch; a try after the first looks for the batch an earlier try may have made."""
    metadata = {"created_by": "factcheck", "documents": str(len(submission.documents)), MARKER_KEY: submission.marker}
    tries = 0

    def create(sdk: openai.OpenAI) -> Batch:
        nonlocal tries
        tries += 1
        if tries > 1 and (made := find_batch(sdk, submission)) is not None:
            return made
        return sdk.batches.create(
            input_file_id=submission.input_file_id, endpoint=ENDPOINT, completion_window="24h", metadata=metadata
        )

    return api.call_api(create).id


def adopt(members: Members, batch_id: str) -> None:
    """Record the batch in each document's state: its open requests are now in it, submitted once more."""
    for folder, state in members:
        state.batch_id = batch_id
        state.batches.append(batch_id)
        for key in state.open.values():
            state.submissions[key] = state.submissions.get(key, 0) + 1
        save_state(folder, state)
