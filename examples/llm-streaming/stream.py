"""Stream an answer from the stack's endpoint, token by token, as the blog post "Deploy LLMs with
Hugging Face Inference Endpoints" (https://huggingface.co/blog/inference-endpoints-llm) does.

    python stream.py                      # URL from `pulumi stack output url`
    python stream.py https://...cloud     # or given explicitly
    python stream.py --prompt "..." --max-new-tokens 64

The token comes from HF_TOKEN or your saved Hugging Face login. The loop below is the blog's,
with its `text_generation` client swapped for `EndpointClient` (which retries while a
scaled-to-zero endpoint wakes up and closes the stream when the loop breaks).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from typing import Any

from pulumi_hf_endpoints.inference import EndpointClient

PROMPT = "What can you do in Nuremberg, Germany? Give me 3 Tips"


def stack_output(name: str) -> str:
    """A stack output of the current directory's stack, through the Pulumi CLI."""
    result = subprocess.run(
        ["pulumi", "stack", "output", name], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", help="endpoint URL (default: the stack's `url` output)")
    parser.add_argument("--prompt", default=PROMPT)
    parser.add_argument("--max-new-tokens", type=int, default=512)
    args = parser.parse_args(argv)
    endpoint_url = args.url or stack_output("url")

    # generation parameter (the blog's gen_kwargs)
    gen_kwargs: dict[str, Any] = dict(
        max_new_tokens=args.max_new_tokens,
        top_k=30,
        top_p=0.9,
        temperature=0.2,
        repetition_penalty=1.02,
        stop_sequences=["\nUser:", "<|endoftext|>", "</s>"],
    )

    with EndpointClient(endpoint_url) as client:
        stream = client.text_generation(args.prompt, stream=True, details=True, **gen_kwargs)
        # yield each generated token
        for r in stream:
            # skip special tokens
            if r.token.special:
                continue
            # stop if we encounter a stop sequence
            if r.token.text in gen_kwargs["stop_sequences"]:
                break
            # yield the generated token
            print(r.token.text, end="", flush=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
