"""Rating scales are data: JSON files in ``factcheck/scales/`` (or any path), each rating with its key, label,
definition, ClaimReview value, and whether a verdict on it needs a source or may be published."""

from __future__ import annotations

from collections import Counter
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from factcheck.errors import UserError
from factcheck.models import Rating, RatingScale


def scale_names() -> list[str]:
    """Names of the rating scales shipped with factcheck."""
    folder = resources.files("factcheck") / "scales"
    return sorted(p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json"))


def load_scale(name_or_path: str) -> RatingScale:
    """A rating scale by name (``factcheck/scales/<name>.json``) or from the path of a JSON file."""
    ref = name_or_path.strip()
    names = scale_names()
    if ref in names:
        raw = (resources.files("factcheck") / "scales" / f"{ref}.json").read_text(encoding="utf-8")
        return _parse_scale(raw, f"rating scale {ref!r}")
    path = Path(ref).expanduser()
    if not path.is_file():
        raise UserError(f"no rating scale {ref!r}", hint=f"use {' or '.join(names)}, or the path of a JSON file")
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot be read: {exc}") from None
    return _parse_scale(raw, str(path))


def _parse_scale(raw: str, where: str) -> RatingScale:
    try:
        scale = RatingScale.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        at = ".".join(str(part) for part in first["loc"]) or "top level"
        raise UserError(f"{where}: not a valid rating scale ({first['msg']} at {at})") from None
    keys = [r.key for r in scale.ratings]
    if not keys:
        raise UserError(f"{where}: the scale has no ratings")
    for key in keys:
        if key != key.lower() or not key or key.isdigit() or any(ch.isspace() for ch in key):
            raise UserError(f"{where}: rating key {key!r} must be one lowercase word, not a number")
    duplicates = sorted(k for k, n in Counter(keys).items() if n > 1)
    if duplicates:
        raise UserError(f"{where}: rating keys used twice: {', '.join(duplicates)}")
    return scale


class Ratings:
    """A rating scale indexed by key: every front looks a verdict's rating and its label up here, in a dict."""

    def __init__(self, scale: RatingScale) -> None:
        self.scale = scale
        self._by_key = {r.key: r for r in scale.ratings}
        self._order = {r.key: i for i, r in enumerate(scale.ratings)}

    def get(self, key: str) -> Rating | None:
        return self._by_key.get(key) or self.scale.rating(key)

    def label(self, key: str) -> str:
        """The rating's label; a key the scale does not know (the scale changed since) is named as such."""
        rating = self.get(key)
        return rating.label if rating else f"{key} (not on the {self.scale.title})"

    def ordered(self, keys: set[str]) -> list[str]:
        """``keys`` in the scale's order, keys the scale does not know last."""
        return sorted(keys, key=lambda key: (self._order.get(key, len(self._order)), key))
