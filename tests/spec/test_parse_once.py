"""Each property bag an operation receives is parsed into a spec once: check parses the
program's inputs once, diff the old and the new bag once each, create its inputs once."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_hf_endpoints.core import EndpointCore
from pulumi_hf_endpoints.spec import model

INPUTS = {
    "repository": "gpt2",
    "framework": "pytorch",
    "accelerator": "cpu",
    "vendor": "aws",
    "region": "us-east-1",
    "instanceType": "intel-spr",
    "instanceSize": "x1",
    "customImage": {"url": "registry.example/a:1", "env": {"A": "1"}},
    "__owner": "0123456789abcdef",
    "__logicalName": "chat",
}


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    seen: list[Any] = []
    original = model.EndpointSpec.model_validate.__func__  # type: ignore[attr-defined]

    def counted(cls: type[model.EndpointSpec], obj: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(obj)
        return original(cls, obj, *args, **kwargs)

    monkeypatch.setattr(model.EndpointSpec, "model_validate", classmethod(counted))
    return seen


def test_check_diff_and_create_parse_each_bag_once(parses: list[Any]) -> None:
    core = EndpointCore()
    checked = core.check_inputs({}, INPUTS)
    assert not checked.failures and len(parses) == 1
    parses.clear()
    changed = {**checked.inputs, "instanceSize": "x2"}
    plan = core.plan(checked.inputs, changed)
    assert plan.changed == ["instanceSize"] and len(parses) == 2
    parses.clear()
    desired = core._desired(checked.inputs)
    assert desired.instance_size == "x1" and len(parses) == 1
