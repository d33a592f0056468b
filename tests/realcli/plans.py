"""What `pulumi preview` plans, as the CLI shows it: an operation per resource and, for an
update or a replacement, the inputs that differ (the CLI's `[diff: ~maxReplica]` for a provider
that returns no detailed diff: old against new inputs, `__` keys left out)."""

from __future__ import annotations

from typing import Any

from .cli import ENDPOINT_TYPE, CliStack


def changed_inputs(step: dict[str, Any]) -> list[str]:
    old = (step.get("oldState") or {}).get("inputs") or {}
    new = (step.get("newState") or {}).get("inputs") or {}
    keys = {*old, *new}
    return sorted(k for k in keys if not k.startswith("__") and old.get(k) != new.get(k))


Plan = dict[str, tuple[str, list[str]]]


def plan(stack: CliStack, *args: str, type_: str = ENDPOINT_TYPE) -> Plan:
    """{logical name: (op, changed inputs)} of the endpoints `pulumi preview --json` plans to
    touch (it lists no "same" step)."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for step in stack.preview_steps(*args):
        if step["urn"].split("::")[2] == type_:
            by_name.setdefault(step["urn"].split("::")[-1], []).append(step)
    planned: dict[str, tuple[str, list[str]]] = {}
    for name, steps in by_name.items():
        # A replacement is three steps (create-replacement, replace, delete-replaced): the CLI
        # shows it as one "replace" row.
        main = next((s for s in steps if s["op"] == "replace"), steps[0])
        op = main["op"]
        planned[name] = (op, changed_inputs(main) if op in ("update", "replace") else [])
    return planned
