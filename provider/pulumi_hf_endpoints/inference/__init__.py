"""Generation helpers: call a deployed text-generation endpoint from Python.

```python
from pulumi_hf_endpoints.inference import EndpointClient

with EndpointClient(url) as client:          # token: HF_TOKEN or the saved login
    client.text_generation("I am", max_new_tokens=20)
    for r in client.text_generation("Tell me", stream=True, details=True, max_new_tokens=50):
        if r.token.special:
            continue
        print(r.token.text, end="")
```

What they add over a bare HTTP client or ``huggingface_hub.InferenceClient``: parameters
checked before sending with TGI's own rules; retries while a scaled-to-zero endpoint wakes up
(503) or is overloaded (429); no read timeout cutting a live stream; leaving a stream early
closes its connection, so the endpoint stops generating; errors reported inside a ``200``
stream raise the same typed errors as HTTP errors; and a per-event cost close to a bare
``json.loads``. :class:`AsyncEndpointClient` is the same API for ``async`` code.
"""

from __future__ import annotations

from ._async import AsyncEndpointClient, AsyncStream
from ._errors import (
    EndpointPausedError,
    ForbiddenError,
    GenerationError,
    IncompleteGenerationError,
    InferenceConnectionError,
    InferenceError,
    InferenceHTTPError,
    InferenceTimeoutError,
    OverloadedError,
    ServiceUnavailableError,
    TextGenerationError,
    UnauthorizedError,
    ValidationError,
)
from ._params import ChatCompletionParameters, TextGenerationParameters
from ._sync import EndpointClient, Stream
from ._types import (
    BestOfSequence,
    ChatCompletionChoice,
    ChatCompletionDelta,
    ChatCompletionOutput,
    ChatCompletionStreamChoice,
    ChatCompletionStreamOutput,
    ChatCompletionUsage,
    ChatMessage,
    PrefillToken,
    StreamDetails,
    TextGenerationDetails,
    TextGenerationOutput,
    TextGenerationStreamOutput,
    Token,
)

__all__ = [
    "AsyncEndpointClient",
    "AsyncStream",
    "BestOfSequence",
    "ChatCompletionChoice",
    "ChatCompletionDelta",
    "ChatCompletionOutput",
    "ChatCompletionParameters",
    "ChatCompletionStreamChoice",
    "ChatCompletionStreamOutput",
    "ChatCompletionUsage",
    "ChatMessage",
    "EndpointClient",
    "EndpointPausedError",
    "ForbiddenError",
    "GenerationError",
    "IncompleteGenerationError",
    "InferenceConnectionError",
    "InferenceError",
    "InferenceHTTPError",
    "InferenceTimeoutError",
    "OverloadedError",
    "PrefillToken",
    "ServiceUnavailableError",
    "Stream",
    "StreamDetails",
    "TextGenerationDetails",
    "TextGenerationError",
    "TextGenerationOutput",
    "TextGenerationParameters",
    "TextGenerationStreamOutput",
    "Token",
    "UnauthorizedError",
    "ValidationError",
]
