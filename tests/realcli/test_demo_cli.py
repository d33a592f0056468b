"""`make demo` with the real Pulumi CLI in the tools folder: Pulumi's own output, same story."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.realcli


def test_the_demo_runs_through_the_built_cli(pulumi_bin: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    env["PATH"] = f"{pulumi_bin}{os.pathsep}{env.get('PATH', '')}"  # as `make demo` sets it
    options = ["--backend", "synthetic", "--phase-seconds", "0.3", "--max-new-tokens", "6"]
    result = subprocess.run(
        [sys.executable, "-m", "pulumi_hf_endpoints.cli", "demo", *options],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert f"using the Pulumi CLI at {pulumi_bin / 'pulumi'}" in out
    assert "Previewing update (demo)" in out and "Updating (demo)" in out  # Pulumi's own lines
    assert "[diff: ~maxReplica,minReplica]" in out
    assert "endpoints left in the emulator: 0" in out
    assert "Demo complete" in out and "hf_emu_" not in out + result.stderr
