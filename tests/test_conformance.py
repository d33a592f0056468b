"""`pulumi-hf-endpoints conformance` run against the emulator: every row agrees, the endpoint is
priced first, paused before it could start, tagged and named as said, and always deleted."""

from __future__ import annotations

import argparse
import io
import re
from typing import Any

import pytest

from hf_endpoints_emulator.testing import EmulatorHandle
from pulumi_hf_endpoints.cli import main
from pulumi_hf_endpoints.client.api import EndpointsApi
from pulumi_hf_endpoints.conformance import checks, command


def argv(emulator: EmulatorHandle, *extra: str) -> list[str]:
    return [
        "conformance",
        "--namespace",
        emulator.user,
        "--token",
        emulator.token,
        "--api-url",
        emulator.api_url,
        *extra,
    ]


def endpoints_of(emulator: EmulatorHandle) -> list[str]:
    with EndpointsApi(emulator.token, api_url=emulator.api_url) as api:
        return [e.name for e in api.list_endpoints(emulator.user)]


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_every_row_agrees_with_the_emulator(
    emulator: EmulatorHandle, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pending lasts longer than the run: the endpoint can only leave it by the pause.
    emulator.faults.set_timings(pending_seconds=600)
    seen: dict[str, Any] = {}
    real = checks.run_checks

    def spy(session: checks.Session, **kwargs: Any) -> list[checks.Row]:
        seen["states"] = [
            t["state"] for t in emulator.faults.transitions(session.namespace, session.name)
        ]
        seen["created"] = session.created
        return real(session, **kwargs)

    monkeypatch.setattr(checks, "run_checks", spy)
    assert main(argv(emulator, "--yes")) == 0
    out = capsys.readouterr().out
    # The price came first, from the namespace's hardware list.
    assert out.index("$0.033 per hour") < out.index("Created and paused")
    # Created, paused at once (it never left pending for anything else), tagged and named.
    assert seen["states"] == ["pending", "paused"]
    created = seen["created"]
    assert re.fullmatch(r"hfe-conformance-[0-9a-f]{6}", created["name"])
    assert created["tags"] == [checks.MARKER_TAG]
    assert created["compute"]["instanceType"] == "intel-spr"
    # Every row is in the table and agrees; nothing is left behind.
    table = out[out.index("check  ") :]
    for check_id in checks.CHECK_IDS:
        line = next(x for x in table.splitlines() if x.startswith(check_id + " "))
        assert line.rstrip().endswith("yes"), line
    assert f"All {len(checks.CHECK_IDS)} rows agree." in out
    assert endpoints_of(emulator) == []


def test_a_row_that_disagrees_is_reported_and_exits_1(
    emulator: EmulatorHandle, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = checks.Behaviour("task-enum", "PUT task text_generation", checks.task_enum, "ok")
    behaviours = tuple(wrong if b.id == "task-enum" else b for b in checks.BEHAVIOURS)
    monkeypatch.setattr(checks, "BEHAVIOURS", behaviours)
    assert main(argv(emulator, "--yes")) == 1
    out = capsys.readouterr().out
    assert "1 of" in out and "rows disagree: task-enum" in out
    line = next(x for x in out.splitlines() if x.startswith("task-enum "))
    assert "refused 400" in line and line.rstrip().endswith("NO")
    assert endpoints_of(emulator) == []


def test_the_endpoint_is_deleted_when_a_check_breaks(
    emulator: EmulatorHandle, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(session: checks.Session, **kwargs: Any) -> list[checks.Row]:
        assert endpoints_of(emulator) == [session.name]
        raise KeyboardInterrupt

    monkeypatch.setattr(checks, "run_checks", broken)
    assert main(argv(emulator, "--yes")) == 130
    assert "Deleted" in capsys.readouterr().out
    assert endpoints_of(emulator) == []


def test_it_asks_before_anything_is_created(
    emulator: EmulatorHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    parser_args = argparse.Namespace(
        namespace=emulator.user,
        yes=False,
        vendor="aws",
        region="us-east-1",
        instance_type="intel-spr",
        instance_size="x1",
        token=emulator.token,
        api_url=emulator.api_url,
    )
    assert command.conformance(parser_args, stdin=Tty("n\n")) == 1
    out = capsys.readouterr().out
    assert "$0.033 per hour" in out and "Proceed? [y/N]" in out and "Nothing was created" in out
    # Without a terminal and without --yes, it refuses to guess.
    assert main(argv(emulator)) == 2
    assert "pass --yes" in capsys.readouterr().err
    assert endpoints_of(emulator) == []


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--instance-type", "nvidia-t4"], "is a gpu instance, not a CPU"),
        (["--instance-size", "x64"], "offers no intel-spr x64"),
        (["--instance-type", "intel-icl"], "cannot be ordered"),
    ],
)
def test_hardware_that_cannot_be_used_is_refused_before_anything_is_created(
    flags: list[str], said: str, emulator: EmulatorHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv(emulator, "--yes", *flags)) == 2
    assert said in capsys.readouterr().err
    assert endpoints_of(emulator) == []
