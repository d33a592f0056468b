"""A dynamic provider for the harness's own tests; its behaviour is steered by input props.

Props it understands (all optional):
- `fail_on`: a method name ("check", "diff", "create", "read", "update", "delete") that raises.
- `sleep`: seconds `create` sleeps (for concurrency tests).
- `replace_keys`: keys whose change makes `diff` ask for replacement; `dbr`: delete first.
- `diff_unknown`: `diff` returns `DiffResult()` (DIFF_UNKNOWN) to exercise the engine fallback.
- `gone`: `read` reports the resource as deleted; `read_inputs`: `read` also returns inputs.
- `stderr`: a line `create` prints to stderr.
- `marks`: a directory where Check and Diff hold an exclusive marker while they run (they fail
  if another holds it: the engine runs them one at a time), and where each Delete leaves a file
  and, with `gather: N`, waits until N deletes are under way (they fail if N never are).
Outputs echo the inputs, plus `types` (the Python type of each input seen by the method),
`config_token` (what `configure` saw) and `op` (the method that produced them).
Keep it importable: dill pickles it by reference, and the host imports this module.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown

PROVIDER_KEY = "__provider"
_WAIT = 20.0
OUTPUT_ONLY = frozenset({"types", "config_token", "op", "check_types"})


def _type_name(value: Any) -> str:
    return f"{type(value).__module__}.{type(value).__qualname__}"


def _user_props(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k != PROVIDER_KEY and k not in OUTPUT_ONLY}


def _maybe_fail(method: str, props: dict[str, Any]) -> None:
    if props.get("fail_on") == method:
        raise ValueError(f"echo provider told to fail in {method}")


@contextmanager
def _exclusive(props: dict[str, Any], method: str) -> Any:
    """Fail if another Check/Diff runs at the same time (see `marks`)."""
    marks = props.get("marks")
    if not isinstance(marks, str):
        yield
        return
    busy = Path(marks) / "busy"
    try:
        fd = os.open(busy, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        raise RuntimeError(f"{method} overlapped another Check/Diff") from None
    try:
        time.sleep(0.05)  # long enough for an unserialised caller to collide
        yield
    finally:
        os.close(fd)
        busy.unlink()


def _gather(props: dict[str, Any]) -> None:
    """Leave a file for this delete; with `gather`, wait until that many deletes are running."""
    marks = props.get("marks")
    if not isinstance(marks, str):
        return
    folder = Path(marks) / "deletes"
    folder.mkdir(exist_ok=True)
    (folder / uuid.uuid4().hex).touch()
    wanted = int(props.get("gather", 0))
    deadline = time.monotonic() + _WAIT
    while len(list(folder.iterdir())) < wanted:
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"only {len(list(folder.iterdir()))} of {wanted} deletes ran at once"
            )
        time.sleep(0.01)


class EchoProvider(ResourceProvider):
    """Echoes inputs back as outputs; see the module docstring for the knobs."""

    config_token: str | None = None

    def configure(self, req: ConfigureRequest) -> None:
        try:
            self.config_token = req.config.get("token")
        except ValueError:
            self.config_token = None

    def _outs(self, op: str, props: dict[str, Any]) -> dict[str, Any]:
        user = _user_props(props)
        types = {k: _type_name(v) for k, v in user.items()}
        return {**user, "types": types, "config_token": self.config_token, "op": op}

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        _maybe_fail("check", news)
        with _exclusive(news, "Check"):
            pass
        inputs = dict(news)
        inputs["check_types"] = {k: _type_name(v) for k, v in _user_props(news).items()}
        failures = [
            CheckFailure(k, "must not be negative")
            for k, v in _user_props(news).items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and v < 0
        ]
        return CheckResult(inputs, failures)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        _maybe_fail("diff", news)
        with _exclusive(news, "Diff"):
            pass
        if news.get("diff_unknown"):
            return DiffResult()
        old, new = _user_props(olds), _user_props(news)
        changed = sorted(
            k
            for k in old.keys() | new.keys()
            if isinstance(new.get(k), Unknown) or old.get(k) != new.get(k)
        )
        replaces = [k for k in changed if k in news.get("replace_keys", [])]
        return DiffResult(
            changes=bool(changed),
            replaces=replaces,
            delete_before_replace=bool(news.get("dbr")),
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        _maybe_fail("create", props)
        if props.get("stderr"):
            print(props["stderr"], file=sys.stderr, flush=True)
        time.sleep(float(props.get("sleep", 0)))
        return CreateResult(
            f"{props.get('name', 'echo')}-{uuid.uuid4().hex[:8]}", self._outs("create", props)
        )

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        _maybe_fail("read", props)
        if props.get("gone"):
            return ReadResult("", {})
        inputs = _user_props(props) if props.get("read_inputs") else None
        return ReadResult(id_, self._outs("read", props), inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        _maybe_fail("update", news)
        return UpdateResult(self._outs("update", news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        _maybe_fail("delete", props)
        _gather(props)


class Echo(Resource, module="harness", name="Echo"):
    """A dynamic resource backed by `EchoProvider`, for program-capture tests."""

    def __init__(self, name: str, props: dict[str, Any], opts: Any = None) -> None:
        super().__init__(EchoProvider(), name, {"types": None, "op": None, **props}, opts)
