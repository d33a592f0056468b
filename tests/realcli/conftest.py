"""Fixtures of the real-CLI suite: the built `pulumi`, stacks on throw-away backends, and an
emulator whose endpoints are all accounted for when a test ends."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hf_endpoints_emulator.testing import EmulatorHandle

from .cli import REQUIRE_ENV, CliStack, tools_bin

_UNAVAILABLE: list[str] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    ours = [item for item in items if here in Path(str(item.fspath)).parents]
    if not ours:
        return
    found = tools_bin()
    if isinstance(found, Path):
        return
    if os.environ.get(REQUIRE_ENV):
        raise pytest.UsageError(f"{REQUIRE_ENV} is set and the Pulumi CLI is missing: {found}")
    _UNAVAILABLE.append(found)
    for item in ours:
        item.add_marker(pytest.mark.skip(reason=f"real-CLI tests skipped: {found}"))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _UNAVAILABLE:
        terminalreporter.write_line(f"real-CLI tests skipped: {_UNAVAILABLE[0]}")


@pytest.fixture(scope="session")
def pulumi_bin() -> Path:
    found = tools_bin()
    assert isinstance(found, Path), found
    return found


def endpoints(emulator: EmulatorHandle) -> list[dict[str, Any]]:
    """What the service holds, from its own list route."""
    response = httpx.get(
        f"{emulator.api_url}/endpoint/{emulator.user}", headers=emulator.headers, timeout=30
    )
    response.raise_for_status()
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def endpoint_names(emulator: EmulatorHandle) -> list[str]:
    return sorted(item["name"] for item in endpoints(emulator))


@pytest.fixture
def make_stack(pulumi_bin: Path, tmp_path: Path) -> Iterator[Callable[..., CliStack]]:
    """`make_stack(project_dir, emulator=...)`: a stack of that project, initialised, with the
    emulator's URL and token in its config. Every command's processes are stopped at the end."""
    made: list[CliStack] = []

    def make(
        project: Path,
        *,
        emulator: EmulatorHandle | None = None,
        stack: str = "test",
        config: dict[str, str] | None = None,
        env: dict[str, str] | None = None,
        backend: Path | None = None,
    ) -> CliStack:
        work = tmp_path / f"stack{len(made)}"
        work.mkdir()
        cli = CliStack(pulumi_bin, project, work, stack=stack, env_extra=env or {}, backend=backend)
        made.append(cli)
        cli.init(config or {})
        if emulator is not None:
            cli.use_emulator(emulator.api_url, emulator.token)
        return cli

    try:
        yield make
    finally:
        for cli in made:
            cli.close()
