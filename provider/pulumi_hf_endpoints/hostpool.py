"""Let endpoint waits run side by side in Pulumi's Python provider host.

The host (`python -m pulumi.dynamic`) serves every RPC of every dynamic resource from one
`ThreadPoolExecutor(max_workers=4)`. Create and update wait minutes for an endpoint to come
up, so with more than four endpoints a `pulumi up` takes ceil(n / 4) provisioning times, and
checks of other resources queue behind the waits. No option of Pulumi's raises the limit, so
the provider raises it from `configure()`, which runs on a worker of that very pool.

This touches two CPython details (the pool's `_threads` and `_max_workers`; the latter is read
on every submit), so it is guarded: when the pool cannot be found, nothing changes and the
host keeps its four workers.
"""

from __future__ import annotations

import gc
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger("pulumi_hf_endpoints.hostpool")

DEFAULT_HOST_WORKERS = 32
HOST_WORKERS_ENV = "PULUMI_HF_ENDPOINTS_HOST_WORKERS"


def widen_current_pool(max_workers: int) -> tuple[int, int] | None:
    """Raise the worker limit of the thread pool running this thread to at least `max_workers`.

    Returns (before, after), or None when this thread belongs to no ThreadPoolExecutor.
    """
    current = threading.current_thread()
    for obj in gc.get_objects():
        if isinstance(obj, ThreadPoolExecutor) and current in getattr(obj, "_threads", ()):
            before = int(getattr(obj, "_max_workers", 0))
            if max_workers > before:
                obj._max_workers = max_workers
            after = int(obj._max_workers)
            log.debug("provider host pool: %d -> %d workers", before, after)
            return before, after
    return None
