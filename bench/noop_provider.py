"""The reference of P1 and of the blob size: a dynamic provider that does nothing.

It receives the same property bags as `InferenceEndpointProvider` (the benchmark swaps only the
`__provider` blob), answers Check with the inputs unchanged and Diff with "no changes", so the
difference in time is what our check/diff (and loading our module) cost. It lives in an
importable module so dill pickles it by reference, as ours is, and the host imports it from the
repository root (on the host's PYTHONPATH).
"""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ResourceProvider


class NoopProvider(ResourceProvider):
    """Check echoes, Diff finds nothing, Create returns the inputs."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, [])

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        return DiffResult(changes=False, replaces=[], stables=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult("noop", dict(props))
