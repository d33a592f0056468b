"""`python -m pulumi_hf_endpoints.emulator [options]`: `pulumi-hf-endpoints emulator` itself."""

from __future__ import annotations

import sys

from ..cli import main

if __name__ == "__main__":
    sys.exit(main(["emulator", *sys.argv[1:]]))
