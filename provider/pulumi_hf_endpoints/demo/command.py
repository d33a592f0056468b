"""The `demo` verb of `pulumi-hf-endpoints`: its arguments, and the check that the emulator can
start here before the story (`story`) runs. Imports nothing heavy: `--help` loads this module."""

from __future__ import annotations

import argparse
import importlib.util
import sys


def missing_requirements(backend: str) -> str | None:
    """Why the emulator cannot start here (the `[emulator]` extra is missing), or None."""
    missing = [m for m in ("fastapi", "uvicorn") if importlib.util.find_spec(m) is None]
    if backend == "llama" and importlib.util.find_spec("llama_cpp") is None:
        missing.append("llama_cpp")
    if missing:
        return (
            f"demo: the emulator needs {', '.join(missing)}: "
            "pip install 'pulumi-hf-endpoints[emulator]'"
            + (" (or run with --backend synthetic)" if missing == ["llama_cpp"] else "")
        )
    return None


def configure(parser: argparse.ArgumentParser, command: str) -> None:
    parser.add_argument(
        "--backend",
        choices=("llama", "synthetic"),
        default="llama",
        help="what serves the endpoint: the real small model, or synthetic tokens "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="leave the emulator and the stack running at the end, and print how to use them",
    )
    parser.add_argument(
        "--phase-seconds",
        type=float,
        default=1.5,
        help="how long each emulated lifecycle phase lasts (default: %(default)s)",
    )
    parser.add_argument(
        "--max-new-tokens",
        type=int,
        default=200,
        help="length limit of the streamed answer (default: %(default)s)",
    )
    parser.add_argument(
        "--no-cli",
        action="store_true",
        help="use Pulumi's provider host even when the pulumi CLI is installed",
    )


def run(args: argparse.Namespace) -> int:
    problem = missing_requirements(args.backend)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    from .story import run_demo

    return run_demo(args)
