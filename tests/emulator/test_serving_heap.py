"""Once a model is loaded, the emulator's process leaves its heap out of later garbage
collections (a full one stalled first tokens for about 50 ms), unless the host process
already manages its own heap, as this test suite does."""

from __future__ import annotations

import gc
import subprocess
import sys

from hf_endpoints_emulator.serving.runner import _freeze_heap


def test_a_host_that_froze_its_heap_keeps_it_as_it_is() -> None:
    frozen = gc.get_freeze_count()
    assert frozen > 0  # tests/conftest.py froze it
    _freeze_heap()
    assert gc.get_freeze_count() == frozen


def test_the_emulator_s_own_process_freezes_its_heap_once() -> None:
    script = (
        "import gc\n"
        "from hf_endpoints_emulator.serving.runner import _freeze_heap\n"
        "assert gc.get_freeze_count() == 0\n"
        "_freeze_heap()\n"
        "frozen = gc.get_freeze_count()\n"
        "_freeze_heap()\n"
        "print(frozen > 0, gc.get_freeze_count() == frozen)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True"]
