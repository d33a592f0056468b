"""The parts of one running emulator, shared by its routers through `app.state.emulator`."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from .activity import ActivityTracker
from .auth import Accounts
from .config import EmulatorConfig
from .faults import FaultBook
from .service import EndpointService
from .serving_protocol import ServingLayer
from .store import Store


@dataclass
class Emulator:
    config: EmulatorConfig
    store: Store
    accounts: Accounts
    faults: FaultBook
    activity: ActivityTracker
    service: EndpointService
    serving: ServingLayer


async def emulator(request: Request) -> Emulator:
    """FastAPI dependency: the emulator serving this request."""
    state: Emulator = request.app.state.emulator
    return state
