"""Run the benchmarks against the emulator and print one table.

    python -m bench [--quick] [--only P1,P3] [--out bench/results]

Each benchmark writes `<out>/<id>.json` (figures, raw samples, parameters, commit, machine) so
runs can be compared across commits. Figures are medians of repeated, interleaved runs; the
reference is measured in the same run, and the ratio is the figure that counts on a noisy
machine. `--quick` is the smoke-test size (a minute or so; no llama model).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import traceback
from pathlib import Path

from bench.common import REPO_ROOT, BenchResult, Figure, fmt, write_result

# id -> module; in the order they run.
BENCHMARKS: dict[str, str] = {
    "P1": "bench.p1_preview",
    "P2": "bench.p2_readiness",
    "P3": "bench.p3_concurrency",
    "P4": "bench.p4_streaming",
    "P5": "bench.p5_startup",
    "P7": "bench.p7_real_cli",
    "P8": "bench.p8_native",
    "SERVING": "bench.p6_serving",
}
ALIASES = {"P6": "SERVING", "S": "SERVING"}


def _selected(only: str | None) -> list[str]:
    if not only:
        return list(BENCHMARKS)
    chosen = []
    for item in only.split(","):
        key = item.strip().upper()
        key = ALIASES.get(key, key)
        if key not in BENCHMARKS:
            raise SystemExit(f"unknown benchmark {item!r}; choose from {', '.join(BENCHMARKS)}")
        if key not in chosen:
            chosen.append(key)
    return chosen


def _row(figure: Figure) -> list[str]:
    name = figure.name
    if figure.reference_label and figure.reference is not None:
        name += f" [ref: {figure.reference_label}]"
    ratio = "—" if figure.ratio is None else f"{figure.ratio:.2f}×"
    met = {True: "yes", False: "NO", None: "—"}[figure.met]
    return [
        name,
        fmt(figure.ours, figure.unit),
        fmt(figure.reference, figure.unit),
        ratio,
        figure.goal_text or "—",
        met,
    ]


def table(results: list[BenchResult]) -> str:
    header = ["figure", "ours", "reference", "ratio", "goal", "met?"]
    rows: list[list[str]] = []
    for result in results:
        if result.error:
            rows.append([f"{result.id} ERROR: {result.error.splitlines()[-1][:70]}", *"—" * 5])
        for figure in result.figures:
            rows.append(_row(figure))
        if not result.figures and not result.error:
            note = result.notes[0] if result.notes else "no figures"
            rows.append([f"{result.id}: {note}", *"—" * 5])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    widths[0] = min(widths[0], 96)

    def line(cells: list[str]) -> str:
        first = cells[0] if len(cells[0]) <= widths[0] else cells[0][: widths[0] - 1] + "…"
        parts = [first.ljust(widths[0])]
        parts += [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return " | ".join(parts)

    out = [line(header), "-+-".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke-test size, no llama model")
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(BENCHMARKS)}")
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO_ROOT / "bench" / "results",
        help="directory for the JSON files (default: bench/results)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    results: list[BenchResult] = []
    failed = False
    for key in _selected(args.only):
        module = importlib.import_module(BENCHMARKS[key])
        print(f"[bench] {key}: {module.TITLE} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            result: BenchResult = module.run(args.quick)
        except Exception:
            failed = True
            result = BenchResult(key, module.TITLE, args.quick, error=traceback.format_exc())
            print(result.error, file=sys.stderr)
        result.seconds = time.perf_counter() - started
        path = write_result(result, args.out)
        print(f"[bench] {key}: {result.seconds:.0f} s -> {path}", file=sys.stderr, flush=True)
        results.append(result)
    mode = "quick" if args.quick else "full"
    print(f"\npulumi-hf-endpoints benchmarks ({mode}; medians; ratio = ours / reference)\n")
    print(table(results))
    notes = [(r.id, n) for r in results for n in r.notes]
    if notes:
        print()
        for key, note in notes:
            print(f"{key}: {note}")
    print(f"\nJSON: {args.out}/<id>.json")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
