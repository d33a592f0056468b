"""`python -m bench --quick` on the cheap benchmarks: it runs, prints the table, writes JSON with
computed ratios. Timings are never asserted (goals met or not is what the benchmark reports)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.__main__ import _selected, table
from bench.common import BenchResult, Figure

REPO_ROOT = Path(__file__).resolve().parents[2]
FIGURE_KEYS = {
    "name",
    "unit",
    "ours",
    "reference",
    "ratio",
    "goal",
    "goal_kind",
    "goal_on",
    "goal_text",
    "met",
    "ours_label",
    "reference_label",
    "note",
}


def _check_result(data: dict[str, Any], benchmark: str) -> list[dict[str, Any]]:
    assert data["schema"] == 1
    assert data["benchmark"] == benchmark
    assert data["quick"] is True
    assert data["error"] is None
    assert {"commit", "python", "cpus", "versions"} <= set(data["environment"])
    figures: list[dict[str, Any]] = data["figures"]
    assert figures
    for figure in figures:
        assert set(figure) == FIGURE_KEYS
        assert isinstance(figure["ours"], int | float)
        if figure["reference"] and figure["reference"] > 0 and figure["ours"] >= 0:
            assert figure["ratio"] == pytest.approx(figure["ours"] / figure["reference"])
        if figure["goal"] is not None:
            assert figure["met"] in (True, False)
    return figures


def test_quick_run_writes_figures_with_ratios(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "P1,P5", "--out", str(tmp_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "figure" in out.stdout and "| reference |" in out.stdout and "met?" in out.stdout

    p1 = _check_result(json.loads((tmp_path / "p1.json").read_text()), "P1")
    by_name = {f["name"]: f for f in p1}
    requests = next(f for name, f in by_name.items() if "HTTP requests" in name)
    assert requests["ours"] >= 0 and requests["goal"] == 0
    timed = [f for f in p1 if f["unit"] == "s" and f["goal"] is not None]
    assert len(timed) == 2  # fresh host and warm host, each against the no-op provider
    for figure in timed:
        assert figure["reference_label"] == "no-op provider"
        assert figure["ratio"] is not None and math.isfinite(figure["ratio"])

    p5 = _check_result(json.loads((tmp_path / "p5.json").read_text()), "P5")
    blob = next(f for f in p5 if f["unit"] == "B")
    assert blob["ours"] > 0 and blob["ratio"] is not None
    imports = [f for f in p5 if f["reference_label"] == "import pulumi"]
    assert len(imports) >= 3 and all(f["ratio"] is not None for f in imports)


def test_figure_computes_ratio_and_goal() -> None:
    faster = Figure("x", "s", 1.0, 4.0, goal=1.5, goal_kind="max")
    assert faster.ratio == 0.25 and faster.met is True and faster.goal_text == "≤ 1.5×"
    count = Figure("n", "req", 3.0, 0.0, goal=0, goal_kind="max", goal_on="ours")
    assert count.ratio is None and count.met is False
    throughput = Figure("t", "tok/s", 90.0, 100.0, goal=0.8, goal_kind="min")
    assert throughput.met is True
    assert Figure("i", "s", 2.0).met is None
    assert Figure("d", "s", -1e-5, 3e-4).ratio is None  # a difference below zero: no ratio


def test_table_has_one_row_per_figure_and_reports_errors() -> None:
    ok = BenchResult("P9", "t", True, figures=[Figure("P9 thing", "s", 0.002, 0.001)])
    broken = BenchResult("P8", "t", True, error="Traceback...\nRuntimeError: boom")
    text = table([ok, broken]).splitlines()
    assert text[0].split("|")[0].strip() == "figure"
    assert any("P9 thing" in line and "2.00×" in line for line in text)
    assert any("P8 ERROR" in line and "boom" in line for line in text)


def test_only_accepts_ids_in_any_case() -> None:
    assert _selected("p1,P3") == ["P1", "P3"]
    assert _selected("serving") == ["SERVING"]
    with pytest.raises(SystemExit):
        _selected("P42")
