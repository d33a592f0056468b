"""`pulumi-hf-endpoints generate` and `pulumi-hf-endpoints chat`: try an endpoint from a shell.

    pulumi-hf-endpoints generate URL "Once upon a time" --stream --max-new-tokens 50
    pulumi-hf-endpoints chat URL --system "You are terse."

`generate` prints the generated text, streamed or not (`--include-prompt` puts the prompt
before it). Errors print one line on stderr (never the token) and exit with status 1; Ctrl-C
stops the generation (the connection closes) and exits with 130; a closed pipe (`| head`) stops
it quietly with 141, the status of a tool that SIGPIPE ended.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from .cli import guarded
from .inference import EndpointClient, InferenceError

_SAMPLING = (
    ("--temperature", float, "sampling temperature (> 0; 0 means greedy in chat)"),
    ("--top-p", float, "nucleus sampling, strictly between 0 and 1"),
    ("--top-k", int, "sample among the k most likely tokens"),
    ("--repetition-penalty", float, "penalise repeated tokens (> 0; 1.0 is off)"),
    ("--seed", int, "random seed, for reproducible sampling"),
)


#: Tokens generated when `--max-new-tokens` is not given: TGI 1.4 to 2.x's own default. TGI 3
#: would otherwise generate until the model's context is full.
DEFAULT_MAX_NEW_TOKENS = 100
#: Exit status after the reader of stdout went away: 128 + SIGPIPE, as for a Unix tool.


def configure(parser: argparse.ArgumentParser, command: str) -> None:
    parser.add_argument("url", help="the endpoint's URL (the stack's `url` output)")
    if command == "generate":
        parser.add_argument("prompt", nargs="?", default="-", help="the prompt; '-' reads stdin")
        parser.add_argument(
            "--stream",
            action="store_true",
            help="print tokens as they arrive (the text printed is the same without it)",
        )
        parser.add_argument(
            "--include-prompt",
            action="store_true",
            help="print the prompt before the generated text",
        )
        parser.add_argument(
            "--max-new-tokens",
            type=int,
            default=DEFAULT_MAX_NEW_TOKENS,
            metavar="N",
            help=f"the most tokens to generate (default: {DEFAULT_MAX_NEW_TOKENS})",
        )
        parser.add_argument("--do-sample", action="store_true", help="sample (default: greedy)")
        parser.add_argument(
            "--stop", action="append", default=None, metavar="TEXT", help="stop sequence (repeat)"
        )
        parser.add_argument("--details", action="store_true", help="also print finish reason")
    else:
        parser.add_argument("--system", default=None, help="a system message to start with")
        parser.add_argument(
            "--max-tokens",
            type=int,
            default=None,
            metavar="N",
            help="the most tokens in each answer (default: the endpoint's limit)",
        )
    for flag, kind, text in _SAMPLING:
        parser.add_argument(flag, type=kind, default=None, help=text)
    parser.add_argument(
        "--token", default=None, help="Hugging Face token (default: HF_TOKEN or the saved login)"
    )
    parser.add_argument(
        "--retry-timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="how long to wait for a scaled-to-zero endpoint to wake up (default 300)",
    )


def _sampling(args: argparse.Namespace) -> dict[str, Any]:
    names = ("temperature", "top_p", "top_k", "repetition_penalty", "seed")
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def run(args: argparse.Namespace) -> int:
    def talk() -> int:
        with EndpointClient(args.url, args.token, retry_timeout=args.retry_timeout) as client:
            if args.command == "generate":
                return _generate(client, args, sys.stdin, sys.stdout)
            return _chat(client, args, sys.stdin, sys.stdout)

    # A stream may be cut mid-line: the error starts on a line of its own.
    return guarded(talk, (InferenceError,), error_prefix="\n")


def _generate(
    client: EndpointClient, args: argparse.Namespace, stdin: TextIO, stdout: TextIO
) -> int:
    prompt = stdin.read() if args.prompt == "-" else args.prompt
    params: dict[str, Any] = _sampling(args)
    params["max_new_tokens"] = args.max_new_tokens
    if args.do_sample:
        params["do_sample"] = True
    if args.stop:
        params["stop"] = args.stop
    finish: str | None = None
    if args.include_prompt:
        stdout.write(prompt)
        stdout.flush()
    if args.stream:
        for event in client.text_generation(prompt, stream=True, details=True, **params):
            if not event.token.special:
                stdout.write(event.token.text)
                stdout.flush()
            if event.details is not None:
                finish = event.details.finish_reason
        stdout.write("\n")
    else:
        # A stream never repeats the prompt; the plain route does unless told not to.
        output = client.text_generation(prompt, details=True, return_full_text=False, **params)
        stdout.write(output.generated_text + "\n")
        finish = output.details.finish_reason if output.details else None
    stdout.flush()
    if args.details and finish:
        print(f"[finish_reason: {finish}]", file=sys.stderr)
    return 0


def _chat(client: EndpointClient, args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    """Read a line, stream the answer, keep the history; end of input ends the session."""
    interactive = stdin.isatty()
    messages: list[dict[str, str]] = []
    if args.system:
        messages.append({"role": "system", "content": args.system})
    params: dict[str, Any] = _sampling(args)
    if args.max_tokens is not None:
        params["max_tokens"] = args.max_tokens
    if interactive:
        print("Chatting with the endpoint; end with Ctrl-D.", file=sys.stderr)
    while True:
        if interactive:
            sys.stderr.write("> ")
            sys.stderr.flush()
        line = stdin.readline()
        if not line:
            if interactive:
                print(file=sys.stderr)
            return 0
        text = line.rstrip("\n")
        if not text.strip():
            continue
        messages.append({"role": "user", "content": text})
        reply: list[str] = []
        for chunk in client.chat_completion(messages, stream=True, **params):
            for choice in chunk.choices:
                if choice.delta.content:
                    reply.append(choice.delta.content)
                    stdout.write(choice.delta.content)
                    stdout.flush()
        stdout.write("\n")
        stdout.flush()
        messages.append({"role": "assistant", "content": "".join(reply)})
