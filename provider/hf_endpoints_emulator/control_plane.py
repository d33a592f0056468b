"""The `/v2` routes of the Inference Endpoints API: same paths, verbs, JSON and status codes.

Create answers 200 (the current spec; an older one said 202) and delete answers 200 with `{}`.

Logs: `GET .../{name}/logs?from=&to=&tail=` answers `text/plain`, one line per log line, as the
service's OpenAPI document of 2023 describes it (`from`/`to` are int64 timestamps there, without
a unit: Unix seconds here, `from` inclusive and `to` exclusive, as docs/service-api.md records).
`replica` (a Go client of the service sends it) keeps the lines of one replica, named as the
lines name it (`6pajyw3k-z7ghx`). `GET .../{name}/logs/sse` (a route of the service that the
same client calls) sends the lines (the last `tail` ones when given) as server-sent events, one
`data:` line each, then each new line as it is written, until the client leaves or the endpoint
is deleted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Security
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from . import hardware
from .auth import check_namespace
from .config import User
from .context import Emulator, emulator
from .logs import select
from .schemas import EndpointBody, EndpointDoc, EndpointListDoc, EndpointPatch, ErrorDoc
from .serving.sse import EventStreamResponse

#: How often a log stream looks for new lines.
LOG_POLL_SECONDS = 0.05

bearer = HTTPBearer(auto_error=False, description="A Hugging Face user access token.")

EmulatorDep = Annotated[Emulator, Depends(emulator)]


async def caller(
    request: Request,
    emu: EmulatorDep,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> User:
    """The authenticated user, or 401."""
    return emu.accounts.authenticate(request.headers)


Caller = Annotated[User, Depends(caller)]


async def namespace_caller(namespace: str, user: Caller) -> User:
    """The authenticated user, allowed to act in `namespace` (else 403)."""
    check_namespace(user, namespace)
    return user


NamespaceCaller = Annotated[User, Depends(namespace_caller)]


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {
        400: "Invalid request",
        401: "A valid user or organization token, sent as a Bearer, is required",
        403: "The token may not use this namespace",
        404: "Endpoint not found",
        409: "An endpoint with the same name already exists",
    }
    return {code: {"model": ErrorDoc, "description": descriptions[code]} for code in codes}


_ONE: dict[int | str, dict[str, Any]] = {200: {"model": EndpointDoc, "description": "The endpoint"}}

router = APIRouter(prefix="/v2", tags=["endpoints"])


@router.get(
    "/endpoint/{namespace}",
    summary="List endpoints",
    response_model=None,
    responses={
        200: {"model": EndpointListDoc, "description": "One page"},
        **_errors(400, 401, 403),
    },
)
async def list_endpoints(
    namespace: str,
    user: NamespaceCaller,
    emu: EmulatorDep,
    limit: Annotated[int | None, Query(description="Page size, 1 to 100 (default 20).")] = None,
    cursor: Annotated[str | None, Query(description="nextCursor or prevCursor of a page.")] = None,
    tags: Annotated[str | None, Query(description="Comma-separated; all must match.")] = None,
    search: Annotated[str | None, Query(description="Substring of the name.")] = None,
) -> JSONResponse:
    page = emu.service.list(namespace, limit=limit, cursor=cursor, tags=tags, search=search)
    return JSONResponse(
        {
            "items": [emu.service.render(record) for record in page.records],
            "nextCursor": page.next_cursor,
            "prevCursor": page.prev_cursor,
        }
    )


@router.post(
    "/endpoint/{namespace}",
    summary="Create an endpoint",
    response_model=None,
    responses={**_ONE, **_errors(400, 401, 403, 409)},
)
async def create_endpoint(
    namespace: str, body: EndpointBody, user: NamespaceCaller, emu: EmulatorDep
) -> JSONResponse:
    record = emu.service.create(user, namespace, body)
    return JSONResponse(emu.service.render(record))


@router.get(
    "/endpoint/{namespace}/{name}",
    summary="Get an endpoint",
    response_model=None,
    responses={**_ONE, **_errors(401, 403, 404)},
)
async def get_endpoint(
    namespace: str, name: str, user: NamespaceCaller, emu: EmulatorDep
) -> JSONResponse:
    return JSONResponse(emu.service.render(emu.service.get(namespace, name)))


@router.put(
    "/endpoint/{namespace}/{name}",
    summary="Update an endpoint (partial)",
    response_model=None,
    responses={**_ONE, **_errors(400, 401, 403, 404)},
)
async def update_endpoint(
    namespace: str, name: str, body: EndpointPatch, user: NamespaceCaller, emu: EmulatorDep
) -> JSONResponse:
    record = emu.service.update(user, namespace, name, body)
    return JSONResponse(emu.service.render(record))


@router.delete(
    "/endpoint/{namespace}/{name}",
    summary="Delete an endpoint",
    response_model=None,
    responses={200: {"description": "Deleted (empty object)"}, **_errors(401, 403, 404)},
)
async def delete_endpoint(
    namespace: str, name: str, user: NamespaceCaller, emu: EmulatorDep
) -> JSONResponse:
    emu.service.delete(namespace, name)
    return JSONResponse({})


@router.post(
    "/endpoint/{namespace}/{name}/pause",
    summary="Pause an endpoint",
    response_model=None,
    responses={**_ONE, **_errors(401, 403, 404)},
)
async def pause_endpoint(
    namespace: str, name: str, user: NamespaceCaller, emu: EmulatorDep
) -> JSONResponse:
    return JSONResponse(emu.service.render(emu.service.pause(namespace, name)))


@router.post(
    "/endpoint/{namespace}/{name}/resume",
    summary="Resume an endpoint",
    response_model=None,
    responses={**_ONE, **_errors(400, 401, 403, 404)},
)
async def resume_endpoint(
    namespace: str, name: str, user: NamespaceCaller, emu: EmulatorDep
) -> JSONResponse:
    return JSONResponse(emu.service.render(emu.service.resume(namespace, name)))


@router.post(
    "/endpoint/{namespace}/{name}/scale-to-zero",
    summary="Scale an endpoint to zero",
    response_model=None,
    responses={**_ONE, **_errors(401, 403, 404)},
)
async def scale_endpoint_to_zero(
    namespace: str, name: str, user: NamespaceCaller, emu: EmulatorDep
) -> JSONResponse:
    return JSONResponse(emu.service.render(emu.service.scale_to_zero(namespace, name)))


@router.get(
    "/provider/{namespace}",
    summary="Hardware available to the namespace, with its quota",
    response_model=None,
    responses={200: {"description": '{"vendors": [...]}'}, **_errors(401, 403)},
)
async def list_hardware(namespace: str, user: NamespaceCaller, emu: EmulatorDep) -> JSONResponse:
    return JSONResponse(hardware.provider_document(emu.service.used_accelerators(namespace)))


_Tail = Query(ge=0, description="At most this many lines, the last ones.")
_Replica = Query(description="Only this replica's lines (`deployment-replica`, as lines show it).")


@router.get(
    "/endpoint/{namespace}/{name}/logs",
    summary="Endpoint replicas logs",
    response_class=PlainTextResponse,
    responses={200: {"description": "One log line per text line"}, **_errors(401, 403, 404)},
)
async def endpoint_logs(
    namespace: str,
    name: str,
    user: NamespaceCaller,
    emu: EmulatorDep,
    since: Annotated[
        int | None, Query(alias="from", ge=0, description="Unix seconds, inclusive.")
    ] = None,
    until: Annotated[
        int | None, Query(alias="to", ge=0, description="Unix seconds, exclusive.")
    ] = None,
    tail: Annotated[int | None, _Tail] = None,
    replica: Annotated[str | None, _Replica] = None,
) -> PlainTextResponse:
    lines = emu.service.logs(emu.service.get(namespace, name))
    chosen = select(lines, since=since, until=until, tail=tail, replica=replica)
    return PlainTextResponse("".join(line.render() + "\n" for line in chosen))


@router.get(
    "/endpoint/{namespace}/{name}/logs/sse",
    summary="Endpoint replicas logs, followed",
    response_class=Response,
    responses={
        200: {
            "description": "Server-sent events, one `data:` line per log line",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        **_errors(401, 403, 404),
    },
)
async def endpoint_logs_stream(
    namespace: str,
    name: str,
    user: NamespaceCaller,
    emu: EmulatorDep,
    tail: Annotated[int | None, _Tail] = None,
    replica: Annotated[str | None, _Replica] = None,
) -> EventStreamResponse:
    record = emu.service.get(namespace, name)
    return EventStreamResponse(
        _follow(emu, record.namespace, record.name, record.id, tail, replica)
    )


async def _follow(
    emu: Emulator,
    namespace: str,
    name: str,
    endpoint_id: str,
    tail: int | None,
    replica: str | None = None,
) -> AsyncIterator[bytes]:
    """The lines so far (the last `tail`), then each new one, until the endpoint is gone;
    only `replica`'s when given."""
    seen: set[tuple[float, str, str]] = set()
    first = True
    while True:
        record = emu.store.get(namespace, name)
        if record is None or record.id != endpoint_id:
            return
        lines = select(emu.service.logs(record), replica=replica)
        fresh = [line for line in lines if (line.at, line.replica, line.text) not in seen]
        seen.update((line.at, line.replica, line.text) for line in fresh)
        if first:
            fresh = select(fresh, tail=tail)
            first = False
        for line in fresh:
            yield b"data: " + line.render().encode() + b"\n\n"
        await asyncio.sleep(LOG_POLL_SECONDS)
