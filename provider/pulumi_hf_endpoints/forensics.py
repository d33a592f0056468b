"""What the endpoint logged, put into the error of a deployment that failed or timed out.

The service's reason for a failure is one line ("Endpoint failed to start"); the cause (CUDA out
of memory, a missing file, an image that does not pull) is in the container's log, and a failed
create deletes the endpoint, log and all. So the provider reads the last lines while the
endpoint still exists, and the error carries them after the service's own message.

Reading them must never make things worse: no lines, or an endpoint already gone, adds nothing;
a service that cannot answer adds one short line; the original error always stays first. The
lines are redacted: the endpoint's secret values (the container may print its environment),
the token, ``hf_...`` tokens and bearer credentials.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .client.errors import EndpointsApiError, NotFoundError
from .client.messages import one_line, redact

if TYPE_CHECKING:
    from . import spec
    from .client import EndpointsApi

log = logging.getLogger("pulumi_hf_endpoints.provider")

#: Lines put into an error: enough for a stack trace's end, short enough to read.
MAX_LINES = 30
#: Characters kept of one line (a line may hold a whole JSON document).
MAX_LINE_CHARS = 400
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def heading(namespace: str, name: str) -> str:
    return f"Last log lines of {namespace}/{name}:"


def secret_values(*sources: spec.EndpointSpec | Mapping[str, Any] | object) -> list[str]:
    """The values a log or an error must not show, from specs or from raw property bags (read
    without validating them: an error must never show one, whatever state its inputs are in):
    `secrets` and the registry password. Anything else among `sources` is skipped."""
    values: list[str] = []
    for item in sources:
        to_properties = getattr(item, "to_properties", None)
        bag = to_properties() if callable(to_properties) else item
        if not isinstance(bag, Mapping):
            continue
        secrets = bag.get("secrets")
        if isinstance(secrets, Mapping):
            values += [v for v in secrets.values() if isinstance(v, str) and v]
        image = bag.get("customImage")
        credentials = image.get("credentials") if isinstance(image, Mapping) else None
        password = credentials.get("password") if isinstance(credentials, Mapping) else None
        if isinstance(password, str) and password:
            values.append(password)
    # Longest first: a secret that contains another is redacted whole.
    return sorted(set(values), key=len, reverse=True)


def _clean(line: str, secrets: Iterable[str]) -> str:
    """One line as it may appear in an error: redacted, without terminal colours or control
    characters, cut to MAX_LINE_CHARS."""
    line = redact(_CONTROL.sub(" ", _ANSI.sub("", line.replace("\t", "    "))).rstrip(), secrets)
    # Cut after redacting: a cut must not leave the head of a secret that was not replaced.
    return line if len(line) <= MAX_LINE_CHARS else line[: MAX_LINE_CHARS - 3] + "..."


def log_excerpt(
    api: EndpointsApi,
    namespace: str,
    name: str,
    *,
    secrets: Iterable[str] = (),
    lines: int = MAX_LINES,
) -> str:
    """A block to append to an error message: a newline, the heading and the endpoint's last
    `lines` log lines, each after "| "; or one short line when the logs could not be read; or
    ""."""
    hidden = list(secrets)
    try:
        found = api.get_logs(namespace, name, tail=lines, max_retries=1)
    except NotFoundError:
        return ""  # the endpoint is gone, or the service keeps no logs for it
    except EndpointsApiError as exc:
        log.debug("logs of %s/%s: %s", namespace, name, exc)
        return f"\n(its logs could not be read: {one_line(redact(str(exc), hidden), 160)})"
    except Exception as exc:  # a bug here must never hide the failure being reported
        log.debug("logs of %s/%s: %s", namespace, name, type(exc).__name__)
        return f"\n(its logs could not be read: {type(exc).__name__})"
    shown = [_clean(line, hidden) for line in found[-lines:] if line.strip()] if lines else []
    if not shown:
        return ""
    # Quoted, not indented: a traceback's reader (Pulumi's dynamic host reports the whole
    # traceback) takes the lines after the last indented one for the exception's text.
    return "\n" + heading(namespace, name) + "".join(f"\n| {line}" for line in shown)
