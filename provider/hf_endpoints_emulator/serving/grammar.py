"""TGI `grammar` parameters → llama.cpp GBNF grammars.

JSON schemas go through llama-cpp-python's own schema converter; regular expressions are
translated here from Python's regex parse tree (the subset that a grammar can express:
literals, classes, groups, alternation, repetition; anchors are implicit because the whole
output must match). Anything else raises `GrammarError` with the reason, which the routes
turn into TGI's 422 `grammar is not valid: ...`.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Mapping
from typing import Any


class GrammarError(ValueError):
    """The grammar cannot be used; the message follows `grammar is not valid: `."""


def to_gbnf(grammar: Mapping[str, Any]) -> str:
    """GBNF text (root rule `root`) for a TGI grammar object `{"type", "value"}`."""
    kind = grammar.get("type")
    value = grammar.get("value")
    if kind in ("json", "json_object"):
        return _json_schema(value)
    if kind == "json_schema":
        if not isinstance(value, Mapping) or "schema" not in value:
            raise GrammarError("json_schema grammar needs a `schema` object")
        return _json_schema(value["schema"])
    if kind == "regex":
        if not isinstance(value, str):
            raise GrammarError("regex grammar needs a string value")
        return regex_to_gbnf(value)
    raise GrammarError(f"unknown grammar type {kind!r}")


def _json_schema(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise GrammarError(f"invalid JSON: {exc}") from exc
    if not isinstance(value, Mapping):
        raise GrammarError("the JSON schema must be an object")
    if "properties" not in value:
        raise GrammarError("Grammar must have a 'properties' field")
    try:
        from llama_cpp.llama_grammar import json_schema_to_gbnf
    except ImportError as exc:  # pragma: no cover - the llama backend needs it anyway
        raise GrammarError("JSON schema grammars need llama-cpp-python") from exc
    try:
        return str(json_schema_to_gbnf(json.dumps(value)))
    except Exception as exc:  # the converter raises plain exceptions on bad schemas
        raise GrammarError(f"unsupported JSON schema: {exc}") from exc


# -- regular expressions ------------------------------------------------------------------
_parser: Any = importlib.import_module("re._parser" if sys.version_info >= (3, 11) else "sre_parse")

_CATEGORIES = {
    "CATEGORY_DIGIT": "0-9",
    "CATEGORY_WORD": "a-zA-Z0-9_",
    "CATEGORY_SPACE": " \\t\\n\\r\\f\\v",
}
_NOT_CATEGORIES = {
    "CATEGORY_NOT_DIGIT": "CATEGORY_DIGIT",
    "CATEGORY_NOT_WORD": "CATEGORY_WORD",
    "CATEGORY_NOT_SPACE": "CATEGORY_SPACE",
}


def _char(code: int) -> str:
    """A character escaped for GBNF (literal or class), unambiguous in both."""
    ch = chr(code)
    if ch.isalnum() and code < 128:
        return ch
    return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"


def regex_to_gbnf(pattern: str) -> str:
    """GBNF whose language is the full matches of `pattern`."""
    try:
        parsed = _parser.parse(pattern)
    except Exception as exc:  # re.error
        raise GrammarError(f"invalid regex: {exc}") from exc
    return f"root ::= {_sequence(list(parsed))}\n"


def _sequence(items: list[tuple[Any, Any]]) -> str:
    parts = [_item(op, av) for op, av in items]
    parts = [p for p in parts if p]
    return " ".join(parts) if parts else '""'


def _class_items(items: list[tuple[Any, Any]]) -> tuple[bool, str]:
    negate = False
    body = []
    for op, av in items:
        name = str(op)
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL":
            body.append(_char(av))
        elif name == "RANGE":
            body.append(f"{_char(av[0])}-{_char(av[1])}")
        elif name == "CATEGORY" and str(av) in _CATEGORIES:
            body.append(_CATEGORIES[str(av)])
        else:
            raise GrammarError(f"regex class item {name} {av} is not supported")
    return negate, "".join(body)


def _item(op: Any, av: Any) -> str:
    name = str(op)
    if name == "LITERAL":
        return f'"{_char(av)}"'
    if name == "NOT_LITERAL":
        return f"[^{_char(av)}]"
    if name == "ANY":
        return "[^\\n]"
    if name == "AT":
        return ""  # ^ $ \A \Z: the grammar always matches the whole output
    if name == "IN":
        negate, body = _class_items(list(av))
        return f"[{'^' if negate else ''}{body}]"
    if name == "CATEGORY":
        key = str(av)
        if key in _CATEGORIES:
            return f"[{_CATEGORIES[key]}]"
        if key in _NOT_CATEGORIES:
            return f"[^{_CATEGORIES[_NOT_CATEGORIES[key]]}]"
        raise GrammarError(f"regex category {key} is not supported")
    if name == "SUBPATTERN":
        return f"({_sequence(list(av[-1]))})"
    if name == "BRANCH":
        return "(" + " | ".join(_sequence(list(alt)) for alt in av[1]) + ")"
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, high, sub = av
        inner = f"({_sequence(list(sub))})"
        if high == _parser.MAXREPEAT:
            return {0: f"{inner}*", 1: f"{inner}+"}.get(low, f"{inner}{{{low},}}")
        if (low, high) == (0, 1):
            return f"{inner}?"
        return f"{inner}{{{low}}}" if low == high else f"{inner}{{{low},{high}}}"
    raise GrammarError(f"regex construct {name} is not supported by grammars")
