"""Option (c) of P3, a model: Pulumi's dynamic-provider host without its 4-worker cap.

A native provider (a `pulumi-resource-*` plugin, e.g. in Go) serves every RPC the engine sends
concurrently, and the engine's `--parallel` (4 × the CPU count by default, 16 on 4 cores) lets
16 Creates wait at once.
Running the unchanged `pulumi.dynamic` host with a wide thread pool gives that concurrency to
the same provider code, which is what this module does:

    python -m bench.native_host      # instead of: python -u -m pulumi.dynamic
"""

from __future__ import annotations

import concurrent.futures
import runpy
import sys
from typing import Any

WORKERS = 64

_Base = concurrent.futures.ThreadPoolExecutor


class _WidePool(_Base):
    def __init__(self, max_workers: int | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(WORKERS, *args, **kwargs)


def main() -> None:
    concurrent.futures.ThreadPoolExecutor = _WidePool  # type: ignore[misc]
    sys.argv = ["pulumi.dynamic"]
    runpy.run_module("pulumi.dynamic", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
