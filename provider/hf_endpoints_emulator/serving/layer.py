"""`TgiServingLayer`: dispatches an endpoint's requests to the TGI route handlers."""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from ..serving_protocol import ServedEndpoint
from . import chat, routes, trace
from .backends.base import Backend, BackendUnavailable
from .backends.synthetic import SyntheticBackend
from .context import RequestContext, limits_for
from .errors import BackendError, ExtractorError, ServingError, UnsupportedTask
from .metrics import EndpointMetrics
from .options import TEXT_GENERATION_TASKS, ServingOptions
from .params import parse_json
from .runner import ModelRunner, arriving

Handler = Callable[[RequestContext, Any], Awaitable[Response]]

#: POST routes taking a JSON body.
_POST_ROUTES: dict[str, Handler] = {
    "/": routes.compat_generate,
    "/generate": routes.generate_route,
    "/generate_stream": routes.generate_stream_route,
    "/tokenize": routes.tokenize_route,
    "/v1/chat/completions": chat.chat_completions,
    "/v1/completions": chat.completions,
    "/chat_tokenize": chat.chat_tokenize,
}
_GET_ROUTES = ("/info", "/metrics", "/v1/models", "/health", "/ping", "/")
#: POST routes that generate: a request to them is on its way to the model (`expect`).
_GENERATING = frozenset(
    {"/", "/generate", "/generate_stream", "/v1/chat/completions", "/v1/completions"}
)
PAYLOAD_LIMIT = 2_000_000  # TGI --payload-limit default


class TgiServingLayer:
    """One instance per emulator app; backends are shared process-wide per model file."""

    def __init__(self, options: ServingOptions) -> None:
        self.options = options
        self._runners: dict[str, ModelRunner] = {}
        self._metrics: dict[str, EndpointMetrics] = {}
        self._lock = threading.Lock()

    async def startup(self) -> None:
        """Nothing heavy: models load on the first request that needs them."""

    async def shutdown(self) -> None:
        for runner in self._runners.values():
            runner.close()

    # -- lookup ------------------------------------------------------------------------
    def model_path(self, repository: str) -> str | None:
        """The GGUF serving `repository` (None: the default model), from `--model` maps."""
        return self.options.models.get(repository)

    def runner_for(self, endpoint: ServedEndpoint) -> ModelRunner:
        """The model runner serving `endpoint` (created on first use, shared by path)."""
        if self.options.backend == "synthetic":
            key = "synthetic"
        else:
            try:
                from .backends.llama import default_model_path
            except ImportError as exc:  # numpy comes with llama-cpp-python
                raise BackendUnavailable(
                    f"the llama backend cannot load ({exc}): pip install "
                    "'pulumi-hf-endpoints[emulator]', or use --backend synthetic"
                ) from exc
            key = self.model_path(endpoint.repository) or default_model_path()
        with self._lock:
            runner = self._runners.get(key)
            if runner is None:
                runner = self._runners[key] = ModelRunner(
                    self._backend(key),
                    self.options.max_concurrent_generations,
                    token_delay=self.options.token_delay if key == "synthetic" else 0.0,
                )
            return runner

    def _backend(self, key: str) -> Backend:
        if key == "synthetic":
            return SyntheticBackend()
        from .backends.llama import get_llama_backend

        return get_llama_backend(
            key,
            n_ctx=self.options.max_total_tokens,
            n_threads=self.options.n_threads,
            slots=self.options.max_concurrent_generations,
            weights=self.options.weights,
        )

    def metrics_for(self, endpoint: ServedEndpoint) -> EndpointMetrics:
        with self._lock:
            return self._metrics.setdefault(endpoint.key, EndpointMetrics())

    def runners(self) -> list[ModelRunner]:
        """Every runner created so far (the tests read their counters)."""
        with self._lock:
            return list(self._runners.values())

    # -- dispatch ----------------------------------------------------------------------
    async def handle(self, request: Request, path: str, endpoint: ServedEndpoint) -> Response:
        started = time.monotonic()
        if trace.enabled():
            name = request.headers.get(trace.HEADER)
            trace.current.set(name)
            if name is not None:
                trace.event("request", id=name, path=path)
        path = "/" + path.strip("/") if path else "/"
        method = request.method.upper()
        if method in ("GET", "HEAD") and path in ("/health", "/ping", "/"):
            return Response(status_code=200)
        if method not in ("GET", "HEAD") and path in _GET_ROUTES and path != "/":
            return PlainTextResponse("", status_code=405)
        handler = _POST_ROUTES.get(path) if method == "POST" else None
        if handler is None and not (method in ("GET", "HEAD") and path in _GET_ROUTES):
            status = 405 if path in _POST_ROUTES else 404
            return PlainTextResponse("", status_code=status)
        task = endpoint.task or "text-generation"
        if task not in TEXT_GENERATION_TASKS:
            return UnsupportedTask(
                f"The emulator has no backend for task '{task}' (endpoint {endpoint.key}, "
                f"repository {endpoint.repository}): it serves only "
                f"{', '.join(sorted(TEXT_GENERATION_TASKS))} endpoints."
            ).response()
        try:
            runner = self.runner_for(endpoint)
        except BackendUnavailable as exc:
            return BackendError(str(exc)).response()
        ctx = RequestContext(
            endpoint=endpoint,
            options=self.options,
            limits=limits_for(endpoint, self.options, runner.backend.context_length),
            runner=runner,
            metrics=self.metrics_for(endpoint),
            request=request,
            started=started,
        )
        if path in _GENERATING and handler is not None:
            arriving.set(runner.backend.expect())
        try:
            if handler is None:
                return self._get(ctx, path)
            body = await request.body()
            if len(body) > PAYLOAD_LIMIT:
                raise ExtractorError(413, "Failed to buffer the request body: length limit")
            value = parse_json(body, request.headers.get("content-type"))
            return await handler(ctx, value)
        except ExtractorError as exc:
            return exc.response()
        except ServingError as exc:
            return exc.response(ctx.base_headers())
        except BackendUnavailable as exc:
            return BackendError(str(exc)).response()

    def _get(self, ctx: RequestContext, path: str) -> Response:
        if path == "/info":
            return JSONResponse(routes.info_body(ctx))
        if path == "/metrics":
            return routes.metrics_response(ctx)
        if path == "/v1/models":
            return JSONResponse(routes.models_body(ctx))
        return Response(status_code=200)
