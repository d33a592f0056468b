"""`create_app(config)`: the emulator as one FastAPI application.

Routes: the control plane (`/v2/...`), whoami and the catalog (`/api/...`), each endpoint's URL
(`/endpoints/{id}/...`) and the emulator's own `/emulator/...`. Every error is
`{"error": "..."}` with the service's status code; nothing answers 500 by design.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from . import admin, control_plane, hub_routes, proxy
from .activity import ActivityTracker
from .auth import Accounts
from .config import EmulatorConfig, emulator_version, generate_token
from .context import Emulator
from .errors import ApiError, describe_parameter_errors, describe_validation_errors
from .faults import FaultBook, FaultMiddleware
from .service import EndpointService
from .serving_protocol import ServingLayer
from .store import Store

TOKEN_KEY = "default_token"
ROUTERS = (control_plane.router, hub_routes.router, admin.router, proxy.router)

ServingFactory = Callable[[EmulatorConfig], ServingLayer]


def resolve_token(config: EmulatorConfig, store: Store) -> EmulatorConfig:
    """Fill in the default user's token: the given one, else the one generated for this state
    file earlier (so a restart keeps the token users configured), else a new one."""
    if config.token is not None:
        return config
    token = store.meta(TOKEN_KEY)
    if token is None:
        token = generate_token()
        store.set_meta(TOKEN_KEY, token)
    return dataclasses.replace(config, token=token)


def _default_serving(config: EmulatorConfig) -> ServingLayer:
    from .serving import create_serving_layer

    return create_serving_layer(config)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    async def api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return _error(exc.status, exc.message, exc.headers)

    async def validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = list(exc.errors())
        in_body = bool(errors) and tuple(errors[0].get("loc", ()))[:1] == ("body",)
        message = (
            describe_validation_errors(errors) if in_body else describe_parameter_errors(errors)
        )
        return _error(400, message)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return _error(exc.status_code, str(exc.detail), headers)

    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        return _error(500, f"Internal error: {type(exc).__name__}")

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette's 405 names one route's only)."""
    methods: set[str] = set()
    for router in ROUTERS:
        for route in router.routes:
            if isinstance(route, APIRoute) and route.matches(request.scope)[0] != Match.NONE:
                methods |= route.methods or set()
    return sorted(methods)


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """The OpenAPI document without FastAPI's 422 answers: validation errors are 400 here."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    operation.get("responses", {}).pop("422", None)
            for name in ("HTTPValidationError", "ValidationError"):
                schema.get("components", {}).get("schemas", {}).pop(name, None)
            app.openapi_schema = schema
        return app.openapi_schema

    return build


def create_app(config: EmulatorConfig, serving_factory: ServingFactory | None = None) -> FastAPI:
    """Build the emulator for `config`; `serving_factory` replaces the TGI serving layer."""
    store = Store(config.state_path)
    config = resolve_token(config, store)
    faults = FaultBook()
    activity = ActivityTracker(store)
    emu = Emulator(
        config=config,
        store=store,
        accounts=Accounts(config.users()),
        faults=faults,
        activity=activity,
        service=EndpointService(config, store, faults, activity),
        serving=(serving_factory or _default_serving)(config),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await emu.serving.startup()
        try:
            yield
        finally:
            await emu.serving.shutdown()
            store.close()

    app = FastAPI(
        title="Hugging Face Inference Endpoints API (local emulator)",
        description=(
            "The Hugging Face Inference Endpoints control plane, emulated by pulumi-hf-endpoints."
            ' Errors are `{"error": "..."}`.'
        ),
        version=emulator_version(),
        lifespan=lifespan,
    )
    app.state.emulator = emu
    for router in ROUTERS:
        app.include_router(router)
    _install_error_handlers(app)
    app.add_middleware(FaultMiddleware, book=faults)
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    return app
