"""Which stack resource owns an endpoint, written on the endpoint itself.

The engine deletes by id, and an id ("namespace/name") outlives the resource that made it: after
a rename, an adoption by another resource or a replacement that reused the name, the old
resource's Delete would remove an endpoint that now serves someone else. So every endpoint the
provider creates or adopts carries one tag, the ownership marker:

    pulumi-owner:<owner>.<nonce>

- `owner` names the resource: a hash of its project, stack and logical name, which the program
  computes (`__owner` in the inputs; the provider process does not know the stack). A create that
  finds its own owner's marker on the endpoint holding its name takes it over: that endpoint is
  what an interrupted `up` or a `pulumi state delete` left behind.
- `nonce` names the resource's hold on the endpoint: drawn at each create or adoption and kept
  in the state (`__ownership` in the outputs). A Delete goes ahead only when the endpoint still
  carries the marker the state recorded (or none at all, as endpoints made before markers
  existed); anything else means another resource, or a later incarnation of this one, holds it.

The marker is kept out of the `tags` property: it is added to what is sent and removed from
what is read back, so users never see it in a plan.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

PREFIX = "pulumi-owner:"
OWNER_KEY = "__owner"
"""In inputs: the owner id the program computed for the resource."""
OWNERSHIP_KEY = "__ownership"
"""In outputs: the marker this resource wrote on its endpoint."""


def owner_id(project: str, stack: str, logical_name: str) -> str:
    """The owner id of a resource: stable across runs, distinct between resources."""
    digest = hashlib.sha256(f"{project}\x00{stack}\x00{logical_name}".encode()).hexdigest()
    return digest[:16]


def new_marker(owner: str) -> str:
    return f"{PREFIX}{owner}.{secrets.token_hex(4)}"


def is_marker(tag: str) -> bool:
    return tag.startswith(PREFIX)


def split(tags: Iterable[str] | None) -> tuple[list[str], str | None]:
    """A live endpoint's tags: the user's, and the ownership marker (None when it has none)."""
    user: list[str] = []
    marker: str | None = None
    for tag in tags or ():
        if is_marker(tag):
            marker = tag
        else:
            user.append(tag)
    return user, marker


def owner_of(marker: str | None) -> str | None:
    if marker is None or not is_marker(marker):
        return None
    return marker[len(PREFIX) :].split(".", 1)[0]


def with_marker(tags: Iterable[str] | None, marker: str) -> list[str]:
    """The tags to send: the user's, then the marker."""
    return [*split(tags)[0], marker]
