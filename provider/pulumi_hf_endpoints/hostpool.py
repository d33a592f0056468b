"""Let endpoint waits run side by side in Pulumi's Python provider host.

The host (`python -m pulumi.dynamic`) serves every RPC of every dynamic resource from one
`ThreadPoolExecutor(max_workers=4)`. Create and update wait minutes for an endpoint to come
up, so with more than four endpoints a `pulumi up` takes ceil(n / 4) provisioning times, and
checks of other resources queue behind the waits. No option of Pulumi's raises the limit, so
the provider raises it from `configure()`, which the host calls inside the first RPC that needs
the provider, on a worker of that very pool.

By then the other workers may be busy and more calls queued: `pulumi destroy` sends all its
Deletes at once to a fresh host (the engine's own limit is `--parallel`, 4 × the CPU count by
default). Raising the limit alone would not start those: an executor adds a thread only when
work is submitted. So a thread is started for each queued call too.

This touches CPython details of `concurrent.futures.thread` (a worker's first argument is a
weak reference to its executor; `_max_workers`, `_work_queue`, `_adjust_thread_count`), so it is
guarded: when the pool cannot be found, nothing changes and the host keeps its four workers.
"""

from __future__ import annotations

import logging
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger("pulumi_hf_endpoints.hostpool")

DEFAULT_HOST_WORKERS = 32
HOST_WORKERS_ENV = "PULUMI_HF_ENDPOINTS_HOST_WORKERS"


def current_pool() -> ThreadPoolExecutor | None:
    """The thread pool whose worker runs this code, if it is one."""
    current = threading.current_thread()
    args = getattr(current, "_args", ())
    ref = args[0] if args else None
    pool = ref() if isinstance(ref, weakref.ReferenceType) else None
    if isinstance(pool, ThreadPoolExecutor) and current in getattr(pool, "_threads", ()):
        return pool
    return None


def widen_current_pool(max_workers: int) -> tuple[int, int] | None:
    """Raise the worker limit of the thread pool running this thread to at least `max_workers`
    and start a worker for each call already queued.

    Returns (before, after), or None when this thread belongs to no ThreadPoolExecutor.
    """
    pool = current_pool()
    if pool is None:
        return None
    try:
        with pool._shutdown_lock:  # as submit() holds it
            before = int(pool._max_workers)
            if max_workers > before:
                pool._max_workers = max_workers
            for _ in range(pool._work_queue.qsize()):
                pool._adjust_thread_count()
            after = int(pool._max_workers)
    except (AttributeError, TypeError):
        return None
    log.debug("provider host pool: %d -> %d workers", before, after)
    return before, after
