"""Resume the stack's batch endpoint, run prompts concurrently, then pause it again.

    python run_batch.py                                  # endpoint: `pulumi stack output endpoint`
    python run_batch.py emulator-user/batch-endpoint --prompts prompts.txt --concurrency 4

Prints one JSON line per prompt ({"prompt", "generated_text"}) in the order of the prompts.
The token comes from HF_TOKEN or your saved login; HF_ENDPOINTS_API_URL points the control-plane
calls at the emulator. This is the guide's `resume().wait()` / `asyncio.gather` / `pause()`
flow with the package's own clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

from pulumi_hf_endpoints.client.api import EndpointsApi
from pulumi_hf_endpoints.inference import AsyncEndpointClient

HERE = Path(__file__).resolve().parent


def stack_output(name: str) -> str:
    """A stack output of the current directory's stack, through the Pulumi CLI."""
    result = subprocess.run(
        ["pulumi", "stack", "output", name], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def pause(endpoint: str) -> None:
    """Pause the endpoint so that it stops billing until the next job."""
    namespace, _, name = endpoint.rpartition("/")
    with EndpointsApi() as api:
        api.pause_endpoint(namespace or api.default_namespace(), name)


async def run_batch(
    endpoint: str, prompts: list[str], *, concurrency: int, max_new_tokens: int
) -> list[str]:
    """Generate for every prompt, at most `concurrency` requests in flight."""
    # Resumes the endpoint if it is paused and waits until its URL serves.
    client = await AsyncEndpointClient.for_endpoint(endpoint, resume=True)
    limit = asyncio.Semaphore(concurrency)

    async def generate(prompt: str) -> str:
        async with limit:
            # POST / answers with the prompt included unless told otherwise (TGI's rule).
            return await client.text_generation(
                prompt, max_new_tokens=max_new_tokens, return_full_text=False
            )

    async with client:
        return list(await asyncio.gather(*(generate(p) for p in prompts)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("endpoint", nargs="?", help="namespace/name (default: stack output)")
    parser.add_argument("--prompts", type=Path, default=HERE / "prompts.txt")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--no-pause", action="store_true", help="leave the endpoint running")
    args = parser.parse_args(argv)
    endpoint = args.endpoint or stack_output("endpoint")
    prompts = [line for line in args.prompts.read_text().splitlines() if line.strip()]

    started = time.monotonic()
    try:
        answers = asyncio.run(
            run_batch(
                endpoint,
                prompts,
                concurrency=args.concurrency,
                max_new_tokens=args.max_new_tokens,
            )
        )
    finally:
        if not args.no_pause:
            pause(endpoint)
    for prompt, answer in zip(prompts, answers, strict=True):
        print(json.dumps({"prompt": prompt, "generated_text": answer}))
    paused = "" if args.no_pause else "; endpoint paused again"
    print(
        f"{len(prompts)} prompts in {time.monotonic() - started:.1f} s{paused}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
