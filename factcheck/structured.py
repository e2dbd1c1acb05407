"""How to ask a server for JSON that validates as a Pydantic model, in each structured-output mode, and how to
read its reply: what is usable, what is worth asking again (and with which words), and what is a failure."""

from __future__ import annotations

import copy
import functools
import json
import re
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from factcheck.errors import UnexpectedModelBehavior
from factcheck.models import Usage

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletion

T = TypeVar("T", bound=BaseModel)
MODES = ("json_schema", "json_object", "prompt")


class Reask(Exception):
    """A reply to ask again about: ``message`` is said to the model, ``reason`` to the user if it never mends."""

    def __init__(self, message: str, reply: str | None, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reply = reply
        self.reason = reason


def schema_of(output: type[BaseModel]) -> dict[str, Any]:
    return copy.deepcopy(_schema(output))


@functools.cache
def _schema(output: type[BaseModel]) -> dict[str, Any]:
    # Generating a schema costs more than a request's own work; a copy of the one made per model costs nothing.
    return output.model_json_schema()


def with_format(messages: list[dict[str, str]], output: type[BaseModel], mode: str) -> dict[str, Any]:
    schema = schema_of(output)
    if mode == "json_schema":
        response_format = {"type": "json_schema", "json_schema": {"name": output.__name__, "schema": schema}}
        return {"messages": messages, "response_format": response_format}
    instruction = (
        "Answer with a single JSON object, and nothing else, that validates against this JSON schema:\n"
        + json.dumps(schema, ensure_ascii=False)
    )
    with_schema = [{"role": "system", "content": messages[0]["content"] + "\n\n" + instruction}, *messages[1:]]
    if mode == "json_object":
        return {"messages": with_schema, "response_format": {"type": "json_object", "schema": schema}}
    return {"messages": with_schema}


def parse_reply(completion: ChatCompletion, output: type[T], max_tokens: int) -> T:
    if not completion.choices:
        raise Reask("Your reply had no content. Answer with the JSON object.", None, "a reply with no choices")
    choice = completion.choices[0]
    message = choice.message
    if getattr(message, "refusal", None):
        raise UnexpectedModelBehavior(
            f"the model refused: {str(message.refusal)[:200]}", attempts=1, hint="the document may need another model"
        )
    if choice.finish_reason == "content_filter":
        raise UnexpectedModelBehavior(
            "the server's content filter stopped the reply", attempts=1, hint="the document may need another model"
        )
    content = message.content or ""
    if choice.finish_reason == "length":
        raise Reask(
            f"Your reply was cut off at the limit of {max_tokens} tokens before the JSON was complete. "
            "Answer again, more briefly: shorter statements, no repetition.",
            None,
            f"reply cut at max_tokens ({max_tokens})",
        )
    try:
        return output.model_validate_json(json_text(content))
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False)
        raise Reask(
            "Your reply did not validate against the schema. Errors: "
            + json.dumps(errors, default=str, ensure_ascii=False)[:2000]
            + ". Answer again with only the corrected JSON object.",
            content,
            short_validation_reason(output, errors),
        ) from None


def short_validation_reason(output: type[BaseModel], errors: list[Any]) -> str:
    first = errors[0] if errors else {}
    where = ".".join(str(part) for part in first.get("loc", ())) or "reply"
    return f"not a valid {output.__name__} ({len(errors)} errors; first at {where}: {first.get('msg', '')})"


def json_text(content: str) -> str:
    """The JSON object inside a reply: code fences and prose around it are dropped."""
    fenced = re.search(r"```(?:json)?\s*(.*?)```", content, re.DOTALL)
    text = fenced.group(1) if fenced else content
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if start != -1 and end > start else text


def reask_messages(problem: Reask) -> list[dict[str, str]]:
    reply = problem.reply
    turns = []
    if reply:
        turns.append({"role": "assistant", "content": reply[:6000]})
    turns.append({"role": "user", "content": problem.message})
    return turns


def usage_of(completion: ChatCompletion) -> Usage:
    usage = completion.usage
    return Usage(
        requests=1,
        prompt_tokens=usage.prompt_tokens if usage else 0,
        completion_tokens=usage.completion_tokens if usage else 0,
    )
