"""The async client module is generated from the sync one (scripts/generate_async.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "generate_async.py"


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_async", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_async_module_is_what_the_generator_writes(generator: ModuleType) -> None:
    assert generator.generate() == generator.ASYNC.read_text(), (
        "_async.py is stale: run `python scripts/generate_async.py`"
    )


def test_the_async_module_says_it_is_generated(generator: ModuleType) -> None:
    head = generator.ASYNC.read_text().splitlines()[0]
    assert head.startswith("# Generated from _sync.py by scripts/generate_async.py")


def test_a_new_method_that_does_io_becomes_a_coroutine(generator: ModuleType) -> None:
    sync = generator.SYNC.read_text()
    anchor = "    def info(self) -> dict[str, Any]:\n"
    assert anchor in sync
    method = (
        "    def ready(self) -> Stream[str] | None:\n"
        '        """Whether the endpoint serves; with ``with`` and ``for``."""\n'
        "        if not self.health():\n"
        "            return None\n"
        '        response = self._stream("u", b"")\n'
        "        return Stream(response, lambda: iter_events(response, self._settings))\n"
        "\n"
    )
    out = generator.Translator(sync.replace(anchor, method + anchor)).translate()
    assert "    async def ready(self) -> AsyncStream[str] | None:\n" in out
    assert "with ``async with`` and ``async for``" in out
    assert "        if not await self.health():\n" in out
    assert '        response = await self._stream("u", b"")\n' in out
    assert "return AsyncStream(response, lambda: aiter_events(response, self._settings))" in out


def test_an_awaited_call_in_a_lambda_stops_the_generator(generator: ModuleType) -> None:
    sync = generator.SYNC.read_text()
    old = "return Stream(response, lambda: iter_events(response, settings, chat=True))"
    assert old in sync
    bad = sync.replace(old, "return Stream(response, lambda: self.info())")
    with pytest.raises(generator.GenerateError, match="inside a lambda"):
        generator.Translator(bad).translate()


def test_a_rule_that_matches_nothing_stops_the_generator(generator: ModuleType) -> None:
    sync = generator.SYNC.read_text()
    assert "    def __del__(self) -> None:\n" in sync
    renamed = sync.replace("    def __del__(self) -> None:\n", "    def _gone(self) -> None:\n")
    with pytest.raises(generator.GenerateError, match=r"SYNC_ONLY Stream\.__del__"):
        generator.Translator(renamed).translate()
