"""Reading a model file: YAML 1.2 (or JSON) with every error at its file:line and path."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from leadscore.errors import ErrorCode, Issue, LeadscoreError
from leadscore.model.conditions import COMBINATORS, OPERATORS
from leadscore.model.schema import Model


def load_model(source: str | Path | Mapping[str, Any]) -> Model:
    """Read and check a model file (YAML or JSON) or a mapping.

    Every problem is reported at once, each with its ``file:line`` and YAML path.

    Parameters
    ----------
    source
        A path to a ``.yaml``/``.yml``/``.json`` file, or an already parsed mapping.

    Raises
    ------
    LeadscoreError
        With code ``invalid_model`` and one issue per problem.

    Examples
    --------
    >>> m = load_model({"name": "demo", "fit": {"rules": [{"id": "x", "points": 1}]}})
    >>> m.name
    'demo'
    """
    if isinstance(source, Mapping):
        return _validate(_plain(source), source, "model")
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LeadscoreError(
            ErrorCode.UNREADABLE_FILE,
            f"Cannot read the model file {path}: {exc}.",
            hint="Check the path; `leadscore init` writes a starter model.",
        ) from None
    return parse_model(text, str(path))


def parse_model(text: str, filename: str = "model.yaml") -> Model:
    """Parse model text (YAML 1.2 or JSON) named ``filename`` in messages."""
    tree = _parse_yaml(text, filename)
    if not isinstance(tree, Mapping):
        raise LeadscoreError(
            ErrorCode.INVALID_MODEL,
            f"{filename} is not a model: expected a mapping with keys such as name, fit, "
            "engagement, stages.",
            hint="`leadscore init` writes a starter model to start from.",
        )
    return _validate(_plain(tree), tree, filename)


def _parse_yaml(text: str, filename: str) -> Any:
    yaml = YAML(typ="rt")  # YAML 1.2: `no` stays a string, `010` is ten; keeps line numbers
    try:
        return yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "not valid YAML"
        raise LeadscoreError(
            ErrorCode.INVALID_MODEL,
            f"{filename}{line}: {problem}.",
            hint="Fix the YAML syntax at that place (JSON is accepted as well).",
        ) from None
    except json.JSONDecodeError as exc:  # pragma: no cover - ruamel parses JSON itself
        raise LeadscoreError(ErrorCode.INVALID_MODEL, f"{filename}: {exc}") from None


def _plain(node: Any) -> Any:
    """ruamel's round-trip nodes as plain dicts, lists and scalars for pydantic."""
    if isinstance(node, Mapping):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def _validate(data: Any, tree: Any, filename: str) -> Model:
    issues = list(_duplicate_ids(data, tree, filename))
    model: Model | None = None
    try:
        model = Model.model_validate(data)
    except ValidationError as exc:
        issues = [*(_issue(err, tree, filename) for err in exc.errors()), *issues]
    if issues:
        count = f"{len(issues)} problem{'s' if len(issues) > 1 else ''}"
        raise LeadscoreError(
            ErrorCode.INVALID_MODEL,
            f"{filename} is not a valid model ({count}):",
            issues=issues,
            hint="See docs/model.md for every key; `leadscore schema` gives the JSON Schema.",
        )
    assert model is not None
    return model


def _rule_lists(data: Any) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    if not isinstance(data, Mapping):
        return
    fit, engagement = data.get("fit"), data.get("engagement")
    if isinstance(fit, Mapping):
        yield ("fit", "rules"), fit.get("rules")
    if isinstance(engagement, Mapping):
        yield ("engagement", "rules"), engagement.get("rules")
        yield ("engagement", "inactivity"), engagement.get("inactivity")
    interests = data.get("interests")
    if isinstance(interests, list):
        for i, interest in enumerate(interests):
            if isinstance(interest, Mapping):
                yield ("interests", i, "rules"), interest.get("rules")
    yield ("disqualify",), data.get("disqualify")


def _duplicate_ids(data: Any, tree: Any, filename: str) -> Iterator[Issue]:
    """Rule ids name lines of an explanation: they must be unique in the whole model."""
    first: dict[str, tuple[str | int, ...]] = {}
    for prefix, rules in _rule_lists(data):
        if not isinstance(rules, list):
            continue
        for index, rule in enumerate(rules):
            rule_id = rule.get("id") if isinstance(rule, Mapping) else None
            if not isinstance(rule_id, str):
                continue
            loc = (*prefix, index, "id")
            if rule_id in first:
                where = _where(first[rule_id], tree, filename)
                yield Issue(
                    _where(loc, tree, filename),
                    f"duplicate rule id {rule_id!r} (first used at {where}); give each "
                    "rule its own id",
                )
            else:
                first[rule_id] = loc


def _issue(err: ErrorDetails, tree: Any, filename: str) -> Issue:
    loc = _data_path(err["loc"], tree)
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        known = OPERATORS if _in_test(loc) else _known_keys()
        word = "test" if _in_test(loc) else "key"
        guess = difflib.get_close_matches(key, known, n=1)
        hint = f" (did you mean {guess[0]!r}?)" if guess else ""
        return Issue(_where(loc[:-1], tree, filename, at=loc), f"unknown {word} {key!r}{hint}")
    if kind == "missing":
        return Issue(_where(loc[:-1], tree, filename), f"missing required key {loc[-1]!r}")
    message = err["msg"].removeprefix("Value error, ")
    if kind.endswith("_type") and "input" in err:
        message = f"{message}, got {err['input']!r}"
    return Issue(_where(loc, tree, filename), message)


def _in_test(loc: tuple[str | int, ...]) -> bool:
    """Is the last key an operator position: ``... when ... field: {HERE: ...}``?"""
    if len(loc) < 3 or ("when" not in loc and "not" not in loc):
        return False
    parent = loc[-2]
    return isinstance(parent, str) and parent not in (*COMBINATORS, "when")


def _data_path(loc: tuple[str | int, ...], tree: Any) -> tuple[str | int, ...]:
    """pydantic's loc without its union tags: only steps that exist in the data."""
    path: list[str | int] = []
    node = tree
    for step in loc:
        if isinstance(node, Mapping) and step in node:  # noqa: SIM114 (apart, mypy keeps the key types)
            path.append(step)
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            path.append(step)
            node = node[step]
        elif isinstance(node, Mapping) and isinstance(step, str) and step not in _TAGS:
            path.append(step)  # a missing key: keep it for the message
            node = None
    return tuple(path)


_TAGS = {"tests", "scalar", "str", "list[str]", "int", "float", "bool"}


def format_path(loc: tuple[str | int, ...]) -> str:
    """``('fit', 'rules', 2, 'when')`` as ``fit.rules[2].when``."""
    text = ""
    for step in loc:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text or "(top level)"


def _where(
    loc: tuple[str | int, ...], tree: Any, filename: str, at: tuple[str | int, ...] = ()
) -> str:
    line = _line(at or loc, tree)
    return f"{filename}:{line} {format_path(loc)}" if line else f"{filename} {format_path(loc)}"


def _line(loc: tuple[str | int, ...], tree: Any) -> int | None:
    """The 1-based line of the deepest node of ``loc`` found in the round-trip tree."""
    line: int | None = None
    node = tree
    for step in loc:
        if (isinstance(node, CommentedMap) and step in node) or (
            isinstance(node, CommentedSeq) and isinstance(step, int) and step < len(node)
        ):
            line = node.lc.data[step][0] + 1
            node = node[step]
        else:
            break
    if line is None and isinstance(tree, CommentedMap):
        line = tree.lc.line + 1
    return line


def _known_keys() -> list[str]:
    """Every key of the model file, for "did you mean" suggestions."""
    from leadscore.model import schema

    models = [obj for obj in vars(schema).values() if isinstance(obj, type)]
    return sorted(
        {
            info.alias or name
            for cls in models
            if issubclass(cls, BaseModel)
            for name, info in cls.model_fields.items()
        }
    )
