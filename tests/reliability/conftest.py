"""Fixtures of the reliability suite, and the figures it prints at the end of the run.

Run it alone with `pytest -m reliability`; `RELIABILITY_SCALE=5` multiplies the iteration
counts for a longer local run; `RELIABILITY_REPORT=figures.json` also writes the figures.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.provider.conftest import CountingServer
from tests.reliability.support import FIGURES, write_report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    lines = FIGURES.lines()
    if not lines:
        return
    terminalreporter.section("reliability figures")
    for line in lines:
        terminalreporter.write_line(line)
    write_report()


@pytest.fixture
def counting_server() -> Iterator[CountingServer]:
    """A server that answers 503 to everything and records every request it gets."""
    server = CountingServer()
    yield server
    server.close()
