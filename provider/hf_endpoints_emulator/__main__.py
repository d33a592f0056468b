"""`python -m hf_endpoints_emulator [options]`: the emulator, as `pulumi-hf-endpoints emulator`."""

from __future__ import annotations

import argparse
import sys

from .cli import configure, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="hf-endpoints-emulator",
        description="Run the local Inference Endpoints emulator.",
    )
    configure(parser, "emulator")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
