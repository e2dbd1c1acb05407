"""Prompts are data: one Markdown file a prompt under ``prompts/``, with a version line; its hash travels with
every output it helped produce.

A prompt file looks like::

    version: 3
    description: one line for humans

    ## system
    ...text...

    ## user
    ...text with $placeholders...

Placeholders use ``string.Template`` syntax, so braces in a document never break rendering, and a value is never
rendered twice (text of a document cannot smuggle in a placeholder).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template

from factcheck.errors import UserError
from factcheck.models import PromptRef

_SECTION = re.compile(r"^## (system|user)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    sha256: str
    system: str
    user: Template

    @property
    def ref(self) -> PromptRef:
        return PromptRef(name=self.name, version=self.version, sha256=self.sha256)

    def render(self, **values: str) -> list[dict[str, str]]:
        """Chat messages for this prompt with ``values`` filled in; a missing value is an error, not a blank."""
        try:
            user = self.user.substitute(values)
        except KeyError as exc:
            raise UserError(f"prompt {self.name} needs a value for ${exc.args[0]}") from None
        return [{"role": "system", "content": self.system}, {"role": "user", "content": user}]


def prompts_dir() -> Path:
    """``FACTCHECK_PROMPTS``, else the prompts shipped inside the package, else the project's ``prompts/``."""
    override = os.environ.get("FACTCHECK_PROMPTS")
    if override:
        return Path(override)
    packaged = Path(__file__).parent / "prompts"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "prompts"


def load_prompt(name: str, directory: Path | None = None) -> Prompt:
    return _load(name, str(directory or prompts_dir()))


@cache
def _load(name: str, directory: str) -> Prompt:
    path = Path(directory) / f"{name}.md"
    try:
        raw = path.read_bytes()
    except OSError:
        raise UserError(f"prompt file {path} is missing", hint="set FACTCHECK_PROMPTS to a folder of prompts") from None
    return parse_prompt(name, raw.decode("utf-8"), sha256=hashlib.sha256(raw).hexdigest())


def parse_prompt(name: str, text: str, *, sha256: str) -> Prompt:
    header, *rest = _SECTION.split(text)
    version = re.search(r"^version:\s*(\S+)\s*$", header, re.MULTILINE)
    if not version:
        raise UserError(f"prompt {name} has no 'version:' line")
    sections = dict(zip(rest[::2], (body.strip() for body in rest[1::2]), strict=True))
    if set(sections) != {"system", "user"}:
        raise UserError(f"prompt {name} needs exactly one '## system' and one '## user' section")
    return Prompt(
        name=name,
        version=version.group(1),
        sha256=sha256,
        system=sections["system"],
        user=Template(sections["user"]),
    )
