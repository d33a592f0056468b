"""What to tell a user whose create or update the service refused over its hardware: the
instance is deprecated (and which to pick instead), it is not offered there (and what is), or
the namespace's quota of it is used up (and how much).

The service's refusals name the combination at best (`Instance compute 'Cpu' - 'c6i' -
'medium' in 'aws' - 'us-east-1' not found`, huggingface_hub issue #2277), so the answer is read
from the namespace's hardware list, fetched once the refusal is in: no request is added to a
create or update that succeeds, and none to a preview.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .client.api import EndpointsApi
    from .client.models import Hardware
    from .spec import EndpointSpec

#: Where the service's pricing page sends a namespace that needs more of an instance type.
QUOTA_REQUEST_URL = "https://endpoints.huggingface.co/contact"


def _label(row: Hardware) -> str:
    price = "" if row.price_per_hour is None else f", ${row.price_per_hour:g}/h"
    return f"{row.instance_type} {row.instance_size}{price}"


def replacement(asked: Hardware, rows: Sequence[Hardware]) -> Hardware | None:
    """The instance to pick instead of `asked`: of the same accelerator, in the same place,
    orderable, the same size when there is one, and the nearest in price."""
    candidates = [
        r
        for r in rows
        if (r.vendor, r.region, r.accelerator) == (asked.vendor, asked.region, asked.accelerator)
        and r.instance_type != asked.instance_type
        and r.orderable
    ]
    same_size = [r for r in candidates if r.instance_size == asked.instance_size]
    pool = same_size or candidates
    if not pool:
        return None
    price = asked.price_per_hour or 0.0
    return min(
        pool,
        key=lambda r: (abs((r.price_per_hour or 0.0) - price), -(r.gpu_memory_gb or 0.0)),
    )


def explain(rows: Sequence[Hardware], spec: EndpointSpec) -> str:
    """Why the service may have refused `spec`'s hardware, read from the hardware list; ""
    when the list shows nothing wrong with it."""
    where = f"{spec.vendor} {spec.region}"
    here = [r for r in rows if (r.vendor, r.region) == (spec.vendor, spec.region)]
    if not here:
        places = sorted({f"{r.vendor} {r.region}" for r in rows})
        return f"{where} is not offered to this namespace; it may use: {', '.join(places)}"
    asked = next(
        (
            r
            for r in here
            if (r.accelerator, r.instance_type, r.instance_size)
            == (spec.accelerator, spec.instance_type, spec.instance_size)
        ),
        None,
    )
    if asked is None:
        offered = sorted(
            {_label(r) for r in here if r.accelerator == spec.accelerator and r.orderable}
        )
        kind = f"{spec.accelerator} instance"
        return f"{where} offers no {kind} {spec.instance_type} {spec.instance_size}; " + (
            f"its {kind}s: {'; '.join(offered)}" if offered else f"it has no {kind}s"
        )
    if asked.status == "deprecated":
        instead = replacement(asked, rows)
        pick = f"; pick {_label(instead)} instead" if instead is not None else ""
        return (
            f"instance {asked.instance_type} {asked.instance_size} in {where} is deprecated: "
            f"the service takes no new deployments on it{pick}"
        )
    replicas = max(spec.min_replica or 0, 1)
    needed = asked.num_accelerators * replicas
    free = asked.free_accelerators
    if free is not None and needed > free:
        return (
            f"the namespace's quota of {asked.instance_type} in {where} is "
            f"{asked.max_accelerators} accelerators, {asked.used_accelerators or 0} in use "
            f"(this endpoint's own included); it starts with {needed} ({replicas} replica(s) of "
            f"{asked.num_accelerators}): lower minReplica, or ask for more quota at "
            f"{QUOTA_REQUEST_URL}"
        )
    return ""


def refusal_hint(api: EndpointsApi, namespace: str, spec: EndpointSpec) -> str:
    """`explain` against the namespace's hardware list; "" when it cannot be read."""
    from .client.errors import EndpointsApiError

    try:
        rows = api.list_hardware(namespace).hardware()
    except EndpointsApiError:
        return ""
    return explain(rows, spec)
