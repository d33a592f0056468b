"""`python -m bench --quick` on the cheap benchmarks: it runs, prints the table, writes JSON with
computed ratios. Timings are never asserted (goals met or not is what the benchmark reports).
The real-CLI benchmark (P7) runs when `make pulumi-cli` has built the CLI and skips with the
reason otherwise (fails instead when HF_ENDPOINTS_REQUIRE_PULUMI_CLI is set, as in CI)."""

from __future__ import annotations

import json
import math
import os
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


def _real_cli_or_skip() -> None:
    from bench.p7_real_cli import cli_unavailable
    from tests.realcli.cli import REQUIRE_ENV

    missing = cli_unavailable()
    if missing and os.environ.get(REQUIRE_ENV):
        pytest.fail(f"{REQUIRE_ENV} is set and the Pulumi CLI is missing: {missing}")
    if missing:
        pytest.skip(f"real-CLI benchmark skipped: {missing}")


@pytest.mark.realcli
def test_real_cli_quick_run_measures_every_command(tmp_path: Path) -> None:
    _real_cli_or_skip()
    out = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "P7", "--out", str(tmp_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    data = json.loads((tmp_path / "p7.json").read_text())
    figures = {f["name"]: f for f in _check_result(data, "P7")}
    previews = [f for name, f in figures.items() if "`pulumi preview`" in name]
    assert {f["reference_label"] for f in previews} == {"2 no-ops", "1 no-op"}
    for command in ("up", "destroy"):
        figure = figures[f"P7 `pulumi {command}` of 2 endpoints"]
        assert figure["reference_label"] == "1 endpoint"
        assert figure["goal"] == 1.5 and math.isfinite(figure["ratio"])
    assert all(f["ours"] > 0 for f in figures.values() if f["unit"] == "s")
    seconds = data["samples"]["seconds"]
    assert set(seconds) == {"endpoint-1", "endpoint-n", "noop-1", "noop-n"}
    for by_command in seconds.values():
        assert set(by_command) == {"up", "preview", "destroy"}
        assert all(len(values) == 1 for values in by_command.values())
    # Both of the 2 endpoints were on the service after the up (checked by the benchmark).
    assert sum(sum(g) for g in data["samples"]["creates_begun_together"]["endpoint-n up"]) == 2
    assert any(n.startswith("2 endpoints, up: median") and "min" in n for n in data["notes"])
    assert "P7 `pulumi up` of 2 endpoints" in out.stdout


def test_real_cli_benchmark_skips_with_the_reason_when_the_cli_is_missing(tmp_path: Path) -> None:
    env = {**os.environ, "HF_ENDPOINTS_PULUMI_TOOLS": str(tmp_path / "no-tools")}
    out = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "P7", "--out", str(tmp_path)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "P7: skipped: the Pulumi CLI is not built" in out.stdout
    assert "make pulumi-cli" in out.stdout
    data = json.loads((tmp_path / "p7.json").read_text())
    assert data["figures"] == [] and data["error"] is None


def test_creation_rounds_groups_times_by_gap() -> None:
    from bench.p7_real_cli import creation_rounds

    eight = [f"2026-01-01T00:00:00.{i:03d}Z" for i in range(8)]
    later = [f"2026-01-01T00:00:03.{i:03d}Z" for i in range(8)]
    assert creation_rounds(eight + later, gap=2.0) == [8, 8]
    assert creation_rounds(eight + later, gap=5.0) == [16]
    assert creation_rounds(["2026-01-01T00:00:00Z"], gap=1.0) == [1]
    assert creation_rounds([], gap=1.0) == []


@pytest.mark.realcli
def test_native_quick_run_compares_the_providers_and_times_the_start(tmp_path: Path) -> None:
    _real_cli_or_skip()
    out = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "P8", "--out", str(tmp_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    data = json.loads((tmp_path / "p8.json").read_text())
    figures = {f["name"]: f for f in _check_result(data, "P8")}
    start = figures["P8 plugin start, GetSchema answered"]
    assert start["goal"] == 1.0 and start["goal_on"] == "ours" and start["ours"] > 0
    for what in ("plan of creates", "unchanged stack"):
        preview = figures[f"P8 `pulumi preview` of 2 native endpoints, {what}"]
        assert preview["reference_label"] == "2 dynamic endpoints"
        assert preview["goal"] == 1.2 and math.isfinite(preview["ratio"])
    seconds = data["samples"]["preview_seconds"]
    assert {kind: sorted(by) for kind, by in seconds.items()} == {
        "dynamic": ["create", "unchanged"],
        "native": ["create", "unchanged"],
    }
    assert len(data["samples"]["start_seconds"]["native"]) == 3
