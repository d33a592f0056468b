"""TGI's error bodies and status codes, as TGI's router answers them."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, PlainTextResponse, Response


class ServingError(Exception):
    """An `InferError`: JSON `{"error", "error_type"}` (or an in-band SSE event)."""

    status_code = 500
    error_type = "unknown"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"error": self.message, "error_type": self.error_type}

    def response(self, headers: dict[str, str] | None = None) -> Response:
        return JSONResponse(self.body(), status_code=self.status_code, headers=headers)


class ValidationError(ServingError):
    status_code = 422
    error_type = "validation"

    def __init__(self, message: str) -> None:
        super().__init__(f"Input validation error: {message}")


class Overloaded(ServingError):
    status_code = 429
    error_type = "overloaded"

    def __init__(self) -> None:
        super().__init__("Model is overloaded")


class GenerationError(ServingError):
    status_code = 424
    error_type = "generation"

    def __init__(self, message: str) -> None:
        super().__init__(f"Request failed during generation: {message}")


class IncompleteGenerationError(ServingError):
    status_code = 500
    error_type = "incomplete_generation"

    def __init__(self) -> None:
        super().__init__("Incomplete generation")


class TemplateError(ServingError):
    status_code = 422
    error_type = "template_error"

    def __init__(self, message: str) -> None:
        super().__init__(f"Template error: {message}")


class OpenAIRequestError(ServingError):
    """The completions route's own 422s, whose `error_type` is a phrase."""

    status_code = 422

    def __init__(self, message: str, error_type: str) -> None:
        super().__init__(message)
        self.error_type = error_type


class BackendError(ServingError):
    """The emulator cannot serve this endpoint (no backend for its task, model missing)."""

    status_code = 503
    error_type = "backend_unavailable"


class UnsupportedTask(ServingError):
    status_code = 400
    error_type = "unsupported_task"


class ExtractorError(Exception):
    """Rejected before the handler runs (axum's `Json` extractor): a plain-text body."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message

    def response(self) -> Response:
        return PlainTextResponse(self.message, status_code=self.status_code)


def deserialize_error(message: str) -> ExtractorError:
    return ExtractorError(
        422, f"Failed to deserialize the JSON body into the target type: {message}"
    )


class IncompleteStreamError(ServingError):
    status_code = 500
    error_type = "incomplete_generation_stream"

    def __init__(self) -> None:
        super().__init__("Incomplete generation stream")


class ToolError(ServingError):
    status_code = 422
    error_type = "tool_error"

    def __init__(self, message: str) -> None:
        super().__init__(f"Tool error: {message}")
