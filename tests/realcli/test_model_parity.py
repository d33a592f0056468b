"""The engine model (`demo/_engine`, through `LocalStack`) sends the provider what the real
engine sends: the same calls, in the same order per resource, with the same arguments."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hf_endpoints_emulator.testing import EmulatorHandle
from pulumi_hf_endpoints.demo.local_stack import SECRET_SIG

from .cli import CliStack
from .parity import Operation, calls, methods, model_stack, recording_env, run_model, run_real
from .programs import PROJECT, endpoint, program

pytestmark = pytest.mark.realcli

POLL = {"PULUMI_HF_ENDPOINTS_POLL_INTERVAL": "0.05"}

LIFECYCLE = [
    Operation("preview", program(endpoint("chat"), endpoint("named", 'name="parity-named"'))),
    Operation("up"),
    Operation("up"),
    Operation(
        "up",
        program(
            endpoint("chat", "max_replica=2"),
            endpoint("named", 'name="parity-named"', "max_replica=2"),
        ),
    ),
    Operation("refresh"),
    Operation(
        "up",
        program(
            endpoint("chat", "max_replica=2").replace("us-east-1", "eu-west-1"),
            endpoint("named", 'name="parity-named"', "max_replica=2").replace(
                "us-east-1", "eu-west-1"
            ),
        ),
    ),
    Operation("destroy"),
]


def both(
    make_stack: Callable[..., CliStack],
    make_emulator: Callable[..., EmulatorHandle],
    tmp_path: Path,
    operations: list[Operation],
    logical: tuple[str, ...],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The scenario through the real CLI and through the model, each against an emulator of its
    own (what one leaves behind, such as a retained endpoint, must not meet the other)."""
    real_log, model_log = tmp_path / "real.jsonl", tmp_path / "model.jsonl"
    real = make_stack(PROJECT, emulator=make_emulator(), env={**POLL, **recording_env(real_log)})
    run_real(real, operations)
    (tmp_path / "model").mkdir()
    model = model_stack(PROJECT, tmp_path / "model", make_emulator(), model_log, env=POLL)
    run_model(model, operations)
    return calls(real_log, logical), calls(model_log, logical)


def differences(real: list[dict[str, Any]], model: list[dict[str, Any]]) -> list[str]:
    """Where the model's calls differ from the engine's, one line each."""
    found = []
    if methods(model) != methods(real):
        found.append(f"calls: engine {methods(real)} != model {methods(model)}")
        return found
    for index, (ours, theirs) in enumerate(zip(model, real, strict=True)):
        if ours["configure"] != theirs["configure"]:
            found.append(f"process {index} Configure: {theirs['configure']} != {ours['configure']}")
        for name, made in theirs["resources"].items():
            for (method, engine_args), (_, model_args) in zip(
                made, ours["resources"][name], strict=True
            ):
                for key in sorted({*engine_args, *model_args}):
                    if engine_args.get(key) != model_args.get(key):
                        found.append(
                            f"process {index} {name} {method}.{key}: engine "
                            f"{engine_args.get(key)!r} != model {model_args.get(key)!r}"
                        )
    return found


def test_lifecycle(
    make_stack: Callable[..., CliStack],
    make_emulator: Callable[..., EmulatorHandle],
    tmp_path: Path,
) -> None:
    real, model = both(make_stack, make_emulator, tmp_path, LIFECYCLE, ("chat",))
    assert len(real) == len(LIFECYCLE)  # one provider process per command
    assert differences(real, model) == []


SCENARIOS: dict[str, tuple[list[Operation], tuple[str, ...]]] = {
    "forced replacement": (
        [
            Operation("up", program(endpoint("chat"), endpoint("named", 'name="parity-named"'))),
            Operation("up", replace=("chat", "named")),
            Operation("destroy"),
        ],
        ("chat",),
    ),
    "ignore_changes": (
        [
            Operation(
                "up", program(endpoint("chat", 'name="ign"', opts='ignore_changes=["maxReplica"]'))
            ),
            Operation(
                "up",
                program(
                    endpoint(
                        "chat",
                        'name="ign"',
                        "max_replica=3",
                        'tags=["a"]',
                        opts='ignore_changes=["maxReplica"]',
                    )
                ),
            ),
            Operation("destroy"),
        ],
        (),
    ),
    "get": (
        [
            Operation("up", program(endpoint("source", 'name="got"'))),
            Operation(
                "preview",
                program(
                    endpoint("source", 'name="got"'),
                    'found = InferenceEndpoint.get("found", source.id)',
                    'pulumi.export("found", found.max_replica)',
                ),
            ),
            Operation("up"),
            Operation(
                "up",
                program('InferenceEndpoint.get("missing", "emulator-user/not-there")'),
                fails=True,
            ),
            Operation("destroy"),
        ],
        (),
    ),
    "renames": (
        [
            Operation("up", program(endpoint("old-auto"), endpoint("old-named", 'name="ren"'))),
            Operation(
                "up",
                program(
                    endpoint("new-auto"),
                    endpoint(
                        "new-named", 'name="ren"', opts='aliases=[pulumi.Alias(name="old-named")]'
                    ),
                ),
            ),
            Operation("destroy"),
        ],
        ("old-auto", "new-auto"),
    ),
    "protect": (
        [
            Operation("up", program(endpoint("guarded", 'name="prot"', opts="protect=True"))),
            Operation("destroy", fails=True),
            Operation("up", program(endpoint("guarded", 'name="prot"'))),
            Operation("destroy"),
        ],
        (),
    ),
    "retained replacement": (
        [
            Operation("up", program(endpoint("chat", 'name="kept"', opts="retain_on_delete=True"))),
            Operation(
                "up",
                program(
                    endpoint("chat", 'name="kept"', opts="retain_on_delete=True").replace(
                        "us-east-1", "eu-west-1"
                    )
                ),
                fails=True,
            ),
            Operation("up", fails=True),  # pending replacement: replaced again, no Delete
            Operation(
                "up",
                program(
                    endpoint("chat", 'name="moved"', opts="retain_on_delete=True").replace(
                        "us-east-1", "eu-west-1"
                    )
                ),
            ),
            Operation("refresh"),
            Operation("destroy"),
        ],
        (),
    ),
    "ignore_changes paths": (
        [
            Operation(
                "up",
                program(
                    endpoint(
                        "chat",
                        'name="paths"',
                        'env={"A": "1", "B": "2"}',
                        opts='ignore_changes=["max_replica", \'env["A"]\']',
                    )
                ),
            ),
            Operation(
                "up",
                program(
                    endpoint(
                        "chat",
                        'name="paths"',
                        "max_replica=3",
                        'env={"A": "9", "B": "3"}',
                        opts='ignore_changes=["max_replica", \'env["A"]\']',
                    )
                ),
            ),
            Operation("destroy"),
        ],
        (),
    ),
    "resource options": (
        [
            Operation(
                "up",
                program(
                    endpoint("kept", 'name="opt-kept"', opts="retain_on_delete=True"),
                    endpoint("a", 'name="opt-a"'),
                    endpoint("b", 'name="opt-b"', opts="deleted_with=a"),
                ),
            ),
            Operation("destroy"),
        ],
        (),
    ),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_scenario(
    make_stack: Callable[..., CliStack],
    make_emulator: Callable[..., EmulatorHandle],
    tmp_path: Path,
    scenario: str,
) -> None:
    operations, logical = SCENARIOS[scenario]
    real, model = both(make_stack, make_emulator, tmp_path, operations, logical)
    assert differences(real, model) == []


SECRET = "sk-parity-secret-value"


def test_a_stack_output_built_from_a_secret_is_sealed_both_ways(
    make_stack: Callable[..., CliStack],
    make_emulator: Callable[..., EmulatorHandle],
    tmp_path: Path,
) -> None:
    text = program(
        endpoint("chat", 'name="sealed"', f'secrets={{"API_KEY": "{SECRET}"}}'),
        'pulumi.export("secrets", chat.secrets)',
        'pulumi.export("name", chat.name)',
    )
    real = make_stack(PROJECT, emulator=make_emulator(), env=POLL)
    real.write_program(text)
    real.up()
    exported = real.export()
    (stack_resource,) = [
        r for r in exported["deployment"]["resources"] if r["type"] == "pulumi:pulumi:Stack"
    ]
    assert SECRET_SIG in stack_resource["outputs"]["secrets"]
    assert stack_resource["outputs"]["name"] == "sealed"
    assert SECRET not in json.dumps(exported)

    (tmp_path / "model").mkdir()
    model = model_stack(
        PROJECT, tmp_path / "model", make_emulator(), tmp_path / "m.jsonl", env=POLL
    )
    (model.project_dir / "__main__.py").write_text(text)
    model.up()
    saved = json.loads(model.state_path.read_text())
    assert SECRET_SIG in saved["outputs"]["secrets"]
    assert saved["outputs"]["name"] == "sealed"
    assert SECRET not in model.state_path.read_text()
    assert model.outputs["secrets"] == {"API_KEY": SECRET}  # the program itself sees it
