"""The emulator's own routes under `/emulator/` (not part of the real service; not in OpenAPI).

All need the default user's token (the one the emulator prints).

- `GET /emulator/faults`, `POST /emulator/faults` (one rule, see `faults.py`),
  `DELETE /emulator/faults` (all), `DELETE /emulator/faults/{id}`.
- `GET /emulator/timings`, `PUT /emulator/timings` (partial: `pendingSeconds`,
  `initializingSeconds`, `updatingSeconds`, `resumeSeconds`, `wakeSeconds`, `timeScale`);
  applies to lifecycle phases that start afterwards.
- `GET /emulator/state`: every endpoint with its state and data-plane counters
  (`requests`, `disconnects`, `inFlight`), the active faults and how many fired per kind.
- `POST /emulator/tokens/rotate` (`{"user": name}`, a user other than the default one): issues
  a new token for that user (`{"token": ...}`); the old one is refused from then on.
- `GET /emulator/endpoints/{namespace}/{name}/transitions`: every state the endpoint has
  entered since it was created, oldest first, with when (`at`, RFC 3339; `epoch`, seconds).
  Derived from the stored schedules, so a short phase is never missed, as polling can.
- `POST /emulator/endpoints/{namespace}` (a create body): an endpoint as one created before its
  instance type was deprecated: every rule of a create but that one, so a stack written then
  can be replayed (the service keeps such endpoints running).
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from .config import Timings, User, generate_token
from .context import Emulator, emulator
from .errors import ApiError, bad_request
from .faults import FaultSpec
from .schemas import EndpointBody
from .views import endpoint_url, timestamp

EmulatorDep = Annotated[Emulator, Depends(emulator)]

_TIMING_NAMES = {
    "pendingSeconds": "pending_seconds",
    "initializingSeconds": "initializing_seconds",
    "updatingSeconds": "updating_seconds",
    "resumeSeconds": "resume_seconds",
    "wakeSeconds": "wake_seconds",
    "timeScale": "time_scale",
}


async def admin(request: Request, emu: EmulatorDep) -> User:
    """The default user, or 401/403."""
    user = emu.accounts.authenticate(request.headers)
    if user.name != emu.config.user:
        raise ApiError(403, "Forbidden: only the emulator's default user may use /emulator")
    return user


Admin = Annotated[User, Depends(admin)]
router = APIRouter(prefix="/emulator", include_in_schema=False)


class TimingsPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pendingSeconds: float | None = Field(None, ge=0)
    initializingSeconds: float | None = Field(None, ge=0)
    updatingSeconds: float | None = Field(None, ge=0)
    resumeSeconds: float | None = Field(None, ge=0)
    wakeSeconds: float | None = Field(None, ge=0)
    timeScale: float | None = Field(None, ge=0)


def _timings_json(timings: Timings) -> dict[str, float]:
    return {public: float(getattr(timings, private)) for public, private in _TIMING_NAMES.items()}


@router.get("/faults")
async def list_faults(_: Admin, emu: EmulatorDep) -> JSONResponse:
    return JSONResponse({"faults": emu.faults.list()})


@router.post("/faults")
async def add_fault(rule: Annotated[FaultSpec, Body()], _: Admin, emu: EmulatorDep) -> JSONResponse:
    return JSONResponse(emu.faults.add(rule).to_json())


@router.delete("/faults")
async def clear_faults(_: Admin, emu: EmulatorDep) -> JSONResponse:
    emu.faults.clear()
    return JSONResponse({})


@router.delete("/faults/{fault_id}")
async def remove_fault(fault_id: str, _: Admin, emu: EmulatorDep) -> JSONResponse:
    if not emu.faults.remove(fault_id):
        raise ApiError(404, f"Fault '{fault_id}' not found")
    return JSONResponse({})


@router.get("/timings")
async def get_timings(_: Admin, emu: EmulatorDep) -> JSONResponse:
    return JSONResponse(_timings_json(emu.service.timings))


@router.put("/timings")
async def set_timings(patch: TimingsPatch, _: Admin, emu: EmulatorDep) -> JSONResponse:
    changes = {
        _TIMING_NAMES[key]: value for key, value in patch.model_dump(exclude_none=True).items()
    }
    try:
        emu.service.timings = dataclasses.replace(emu.service.timings, **changes)
    except ValueError as error:
        raise bad_request(str(error)) from None
    return JSONResponse(_timings_json(emu.service.timings))


class TokenRotation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: str


@router.post("/tokens/rotate")
async def rotate_token(body: TokenRotation, _: Admin, emu: EmulatorDep) -> JSONResponse:
    if body.user == emu.config.user:
        raise bad_request("The default user's token cannot be rotated: it is the admin token")
    user = emu.accounts.rotate(body.user, generate_token())
    return JSONResponse({"user": user.name, "token": user.token})


@router.get("/endpoints/{namespace}/{name}/transitions")
async def get_transitions(namespace: str, name: str, _: Admin, emu: EmulatorDep) -> JSONResponse:
    record = emu.service.get(namespace, name)
    return JSONResponse(
        {
            "transitions": [
                {"state": state, "at": timestamp(at), "epoch": at}
                for state, at in emu.service.transitions(record)
            ]
        }
    )


@router.post("/endpoints/{namespace}")
async def seed_endpoint(
    namespace: str, body: EndpointBody, user: Admin, emu: EmulatorDep
) -> JSONResponse:
    record = emu.service.create(user, namespace, body, on_deprecated_hardware=True)
    return JSONResponse(emu.service.render(record))


@router.get("/state")
async def get_state(_: Admin, emu: EmulatorDep) -> JSONResponse:
    endpoints: list[dict[str, Any]] = []
    for record in emu.store.list():
        observed = emu.service.observe(record)
        traffic = emu.activity.snapshot(record.id)
        endpoints.append(
            {
                "namespace": record.namespace,
                "name": record.name,
                "id": record.id,
                "url": endpoint_url(emu.config.base_url, record.id),
                "state": observed.state,
                "requests": traffic.requests,
                "disconnects": traffic.disconnects,
                "inFlight": traffic.in_flight,
                "lastActivity": None
                if record.last_activity is None
                else timestamp(record.last_activity),
            }
        )
    return JSONResponse(
        {
            "endpoints": endpoints,
            "faults": emu.faults.list(),
            "faultsFired": dict(emu.faults.fired_total),
            "timings": _timings_json(emu.service.timings),
        }
    )
