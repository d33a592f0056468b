"""The demo's story: the whole of it in one command, offline, against a local emulator.

Starts an emulator with its own state in a temporary directory, deploys the quickstart project
(`stack.PROJECT_DIR`, the huggingface_hub guide's gpt2 endpoint), streams an answer to the
prompt of the blog post "Deploy LLMs with Hugging Face Inference Endpoints" with the generation
helpers, scales the replicas (plan, then update), destroys the stack and stops the emulator.
With the `pulumi` CLI on PATH the stack runs through it (`pulumi_cli`); without, through
Pulumi's own provider host (`local_stack`), the mechanism the tests use. A status watcher reads
the emulator's record of transitions and shows every state the endpoint enters, whichever way
the stack runs.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from ..client.api import EndpointsApi
from ..inference import EndpointClient
from .pulumi_cli import PulumiCli
from .stack import PROJECT_DIR, StackError

if TYPE_CHECKING:  # imported where used: only the way without the Pulumi CLI needs the engine
    from .local_stack import Phase, Step

INSTALL_HINT = "curl -fsSL https://get.pulumi.com | sh"
PROMPT = "What can you do in Nuremberg, Germany? Give me 3 Tips"
STOP_SEQUENCES = ["\nUser:", "<|endoftext|>", "</s>"]
STEPS = 6
REPLICAS = 2
_SYMBOL = {
    "create": "+",
    "update": "~",
    "replace": "+-",
    "delete": "-",
    "delete-replaced": "-",
    "same": " ",
}
_DOING = {"delete-replaced": "deleting replaced"}
_DONE = {"delete-replaced": "deleted replaced"}


# --- output ------------------------------------------------------------------------------------


class Console:
    """Timestamped progress lines; one lock, since the status watcher prints from a thread."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.lock = threading.Lock()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def header(self, number: int, title: str) -> None:
        with self.lock:
            print(f"\n[{number}/{STEPS}] {title}", flush=True)

    def line(self, text: str = "") -> None:
        with self.lock:
            print(f"  {self.elapsed():6.1f}s  {text}" if text else "", flush=True)

    def note(self, text: str) -> None:
        with self.lock:
            print(f"           {text}", flush=True)

    def raw(self, text: str) -> None:
        with self.lock:
            print(f"         │ {text}", flush=True)


def _value(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "unset" if value is None else str(value)


def _describe(step: Step) -> str:
    diff = ", ".join(f"{k} {_value(a)} → {_value(b)}" for k, (a, b) in step.changed.items())
    detail = f"  [diff: {diff}]" if diff and step.op in ("update", "replace") else ""
    return f"{_SYMBOL[step.op]} {step.type}  {step.name}  {step.op}{detail}"


# --- the emulator ------------------------------------------------------------------------------


@dataclass
class Emulator:
    """The emulator as a child process in its own session (so `--keep` can leave it running)."""

    process: subprocess.Popen[bytes]
    base_url: str
    token: str
    user: str
    log_path: Path

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/v2"

    def api(self) -> EndpointsApi:
        return EndpointsApi(self.token, api_url=self.api_url)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def start_emulator(work_dir: Path, backend: str, phase_seconds: float) -> Emulator:
    """The emulator in a session of its own (so `--keep` can leave it running), started as the
    tests start it (`hf_endpoints_emulator.testing.start_emulator_process`)."""
    from hf_endpoints_emulator.config import DEFAULT_USER, generate_token
    from hf_endpoints_emulator.testing import start_emulator_process

    token = generate_token()
    log_path = work_dir / "emulator.log"
    try:
        started = start_emulator_process(
            work_dir / "emulator.sqlite3",
            log_path,
            token=token,
            new_session=True,
            user=DEFAULT_USER,
            backend=backend,
            pending_seconds=phase_seconds,
            initializing_seconds=2 * phase_seconds,
            updating_seconds=phase_seconds,
            resume_seconds=phase_seconds,
            wake_seconds=phase_seconds,
        )
    except RuntimeError as exc:
        raise StackError(str(exc)) from None
    assert started.process is not None
    return Emulator(started.process, started.base_url, token, DEFAULT_USER, log_path)


class StatusWatcher:
    """Reports every endpoint's state changes, read from the emulator's record of them.

    Polling the status alone would miss a phase shorter than the interval (the demo's fast
    phases are 0.2 s); the emulator's `/emulator/.../transitions` route lists every state an
    endpoint entered, so each poll prints the ones not yet shown, in order.
    """

    def __init__(self, emulator: Emulator, console: Console, interval: float = 0.2) -> None:
        self._emulator = emulator
        self._console = console
        self._interval = interval
        self._shown: dict[str, tuple[int, int, int]] = {}  # name -> (transitions, ready, target)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="status-watcher", daemon=True)
        self._api = emulator.api()
        self._admin = httpx.Client(
            base_url=f"{emulator.base_url}/emulator",
            headers={"authorization": f"Bearer {emulator.token}"},
            timeout=10,
        )
        self._poll_lock = threading.Lock()

    def __enter__(self) -> StatusWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.flush()
        self._api.close()
        self._admin.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.flush()
            self._stop.wait(self._interval)

    def flush(self) -> None:
        """Report what changed since the last poll, now (before a step reports its end)."""
        with self._poll_lock, suppress(Exception):  # a watcher never breaks the demo
            self._poll()

    def _states(self, name: str) -> list[str]:
        answer = self._admin.get(f"/endpoints/{self._emulator.user}/{name}/transitions")
        answer.raise_for_status()
        return [str(t["state"]) for t in answer.json()["transitions"]]

    def _poll(self) -> None:
        listed = {
            e["name"]: e.get("status") or {} for e in self._api.list_endpoints(self._emulator.user)
        }
        for name, status in listed.items():
            states = self._states(name)
            ready = int(status.get("readyReplica") or 0)
            target = int(status.get("targetReplica") or 0)
            count, was_ready, was_target = self._shown.get(name, (0, -1, -1))
            if count > len(states):  # deleted and created again under the same name
                count = 0
            for index in range(count, len(states)):
                change = f"{states[index - 1]} → {states[index]}" if index else states[index]
                replicas = (
                    f"  ({ready}/{target} replicas ready)" if index == len(states) - 1 else ""
                )
                self._console.line(f"  {name}: {change}{replicas}")
            if count == len(states) and (ready, target) != (was_ready, was_target) and states:
                self._console.line(f"  {name}: {states[-1]}  ({ready}/{target} replicas ready)")
            self._shown[name] = (len(states), ready, target)
        for name in self._shown.keys() - listed.keys():
            self._console.line(f"  {name}: deleted")
            del self._shown[name]


# --- the stack, either way ---------------------------------------------------------------------


class HostStack:
    """`LocalStack` with the demo's progress lines: a plan like `pulumi preview`'s, and each
    step's start and duration."""

    def __init__(
        self,
        project_dir: Path,
        work_dir: Path,
        env: dict[str, str],
        console: Console,
        watcher: StatusWatcher,
    ) -> None:
        from .local_stack import LocalStack

        self.console = console
        self.watcher = watcher
        self.stack = LocalStack(project_dir, work_dir, env=env, listener=self._step)

    def _step(self, phase: Phase, step: Step) -> None:
        if phase == "done":
            self.watcher.flush()
        if phase == "plan":
            self.console.line(_describe(step))
        elif phase == "start":
            doing = _DOING.get(step.op, f"{step.op[:-1]}ing")
            self.console.line(f"{_SYMBOL[step.op]} {doing} {step.name} ...")
        elif step.op != "same":
            done = _DONE.get(step.op, f"{step.op}d")
            self.console.line(f"{_SYMBOL[step.op]} {done} {step.name} in {step.seconds:.1f} s")

    def set_config(self, key: str, value: str, *, secret: bool = False) -> None:
        self.stack.set_config(key, value, secret=secret)
        shown = "[secret]" if secret else value
        self.console.note(f"stack config {key} = {shown}")

    def preview(self) -> list[Step]:
        steps = self.stack.preview()
        counts: dict[str, int] = {}
        for step in steps:
            counts[step.op] = counts.get(step.op, 0) + 1
        changes = ", ".join(f"{n} to {op}" for op, n in counts.items() if op != "same")
        self.console.note(f"Resources: {changes or 'no changes'}")
        for key, value in self.stack.planned_outputs.items():
            self.console.note(f"output {key} = {value}")
        return steps

    def up(self) -> list[Step]:
        return self.stack.up()

    def outputs(self) -> dict[str, Any]:
        return dict(self.stack.outputs)

    def destroy(self) -> list[Step]:
        return self.stack.destroy()


# --- the demo ----------------------------------------------------------------------------------


@dataclass
class Facts:
    """What the demo observed at the emulator; the summary line and the tests rely on it."""

    endpoint: str = ""
    tokens: int = 0
    replicas_before: str = "?"
    replicas_after: str = "?"
    replaced: bool = False
    """The change replaced the endpoint instead of updating it (a new id)."""
    left: int = -1


def _scaling(emulator: Emulator, endpoint_id: str) -> tuple[str, str]:
    namespace, name = endpoint_id.split("/")
    with emulator.api() as api:
        live = api.get_endpoint(namespace, name)
    scaling = live["compute"]["scaling"]
    return f"{scaling['minReplica']}/{scaling['maxReplica']}", str(live["status"].get("url"))


def stream_answer(url: str, token: str, console: Console, max_new_tokens: int) -> int:
    """The streaming loop of the blog post "Deploy LLMs with Hugging Face Inference Endpoints",
    with the package's EndpointClient; returns the count."""
    # The blog's stop sequence "\nUser:" implies its chat layout; the same layout makes a small
    # instruct model answer instead of continuing the question.
    prompt = f"User: {PROMPT}\nAssistant:"
    console.note(f"prompt: {PROMPT}")
    console.note(
        "client.text_generation(prompt, stream=True, details=True, max_new_tokens="
        f"{max_new_tokens}, top_k=30, top_p=0.9, temperature=0.2, repetition_penalty=1.02, "
        "stop_sequences=[...], seed=2)"
    )
    started = time.monotonic()
    first: float | None = None
    count = 0
    with console.lock:
        print("         ┌──\n         │ ", end="", flush=True)
    with EndpointClient(url, token=token) as client:
        stream = client.text_generation(
            prompt,
            stream=True,
            details=True,
            max_new_tokens=max_new_tokens,
            top_k=30,
            top_p=0.9,
            temperature=0.2,
            repetition_penalty=1.02,
            stop_sequences=STOP_SEQUENCES,
            seed=2,
        )
        for r in stream:
            if r.token.special:
                continue
            if r.token.text in STOP_SEQUENCES:
                break
            if first is None:
                first = time.monotonic() - started
            count += 1
            with console.lock:
                print(r.token.text.replace("\n", "\n         │ "), end="", flush=True)
    seconds = time.monotonic() - started
    with console.lock:
        print(f"\n         └── {count} tokens in {seconds:.1f} s", end="")
        print(f" (first after {first:.1f} s)" if first is not None else "", flush=True)
    return count


@contextmanager
def _work_dir(keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="pulumi-hf-demo-"))
    try:
        yield path
    finally:
        if not keep:
            shutil.rmtree(path, ignore_errors=True)


def run_demo(args: argparse.Namespace) -> int:
    """The demo, once `command.run` has checked that the emulator can start."""
    project = PROJECT_DIR
    console = Console()
    pulumi_cli = None if args.no_cli else shutil.which("pulumi")
    print("pulumi-hf-endpoints demo: deploy, call, change and destroy an endpoint, offline")
    print(f"  program  {project}  (the huggingface_hub guide's gpt2 endpoint)")
    model = "SmolLM2-135M-Instruct on llama.cpp" if args.backend == "llama" else "synthetic tokens"
    print(f"  serving  {args.backend}: {model}, for every endpoint the emulator runs")
    facts = Facts()
    with _work_dir(args.keep) as work:
        console.header(1, "Start the emulator (its own state in a temporary directory)")
        emulator = start_emulator(work, args.backend, args.phase_seconds)
        kept = False
        try:
            console.line(f"emulator ready at {emulator.base_url}  (state: {work})")
            if pulumi_cli is None:
                console.line(
                    "Pulumi CLI not found; running the program through Pulumi's provider host "
                    f"instead (install the CLI: {INSTALL_HINT})"
                )
            poll = min(1.0, max(0.05, args.phase_seconds / 4))
            env = {"PULUMI_HF_ENDPOINTS_POLL_INTERVAL": f"{poll:g}"}
            stack: HostStack | PulumiCli
            with StatusWatcher(emulator, console) as watcher:
                if pulumi_cli is not None:
                    console.line(f"using the Pulumi CLI at {pulumi_cli}, local backend in {work}")
                    stack = PulumiCli(pulumi_cli, project, work, env=env, echo=console.raw)
                    stack.init()
                else:
                    stack = HostStack(project, work, env, console, watcher)
                stack.set_config("huggingface:apiUrl", emulator.api_url)
                stack.set_config("huggingface:token", emulator.token, secret=True)
                kept = _story(args, console, emulator, stack, facts)
        except StackError as exc:
            console.line(f"error: {exc}")
            return 1
        except KeyboardInterrupt:
            console.line("interrupted")
            return 130
        finally:
            if not kept:
                emulator.stop()
                console.line("emulator stopped")
        if kept:
            _print_keep(emulator, work, stack, facts)
            return 0
    how = "by a replacement" if facts.replaced else "in place"
    print(
        f"\nDemo complete in {console.elapsed():.1f} s: deployed {facts.endpoint}, "
        f"streamed {facts.tokens} tokens, scaled minReplica/maxReplica {facts.replicas_before} → "
        f"{facts.replicas_after} {how}, destroyed; "
        f"endpoints left in the emulator: {facts.left}."
    )
    return 0 if facts.left == 0 and facts.tokens > 0 else 1


def _story(
    args: argparse.Namespace,
    console: Console,
    emulator: Emulator,
    stack: HostStack | PulumiCli,
    facts: Facts,
) -> bool:
    """Steps 2 to 6; returns True when the emulator and stack are kept running (`--keep`)."""
    console.header(2, "Plan: pulumi preview")
    stack.preview()

    console.header(3, "Deploy: pulumi up (returns once the endpoint serves)")
    stack.up()
    outputs = stack.outputs()
    facts.endpoint = str(outputs["endpoint"])
    for key, value in outputs.items():
        console.note(f"output {key} = {value}")
    facts.replicas_before, url = _scaling(emulator, facts.endpoint)

    console.header(4, "Call it: stream an answer token by token (pulumi_hf_endpoints.inference)")
    facts.tokens = stream_answer(str(outputs["url"]), emulator.token, console, args.max_new_tokens)

    console.header(5, f"Change: scale to {REPLICAS} replicas, plan, then update in place")
    stack.set_config("minReplica", str(REPLICAS))
    stack.set_config("maxReplica", str(REPLICAS))
    stack.preview()
    stack.up()
    endpoint = str(stack.outputs()["endpoint"])  # a replacement is another endpoint
    facts.replaced, facts.endpoint = endpoint != facts.endpoint, endpoint
    facts.replicas_after, url_after = _scaling(emulator, facts.endpoint)
    same = "same URL" if url_after == url else f"URL changed to {url_after}"
    console.line(f"minReplica/maxReplica {facts.replicas_before} → {facts.replicas_after}, {same}")

    if args.keep:
        return True
    console.header(6, "Destroy: pulumi destroy")
    stack.destroy()
    if isinstance(stack, PulumiCli):
        stack.remove()
    with emulator.api() as api:
        facts.left = len(api.list_endpoints(emulator.user))
    console.line(f"endpoints left in the emulator: {facts.left}")
    return False


def _print_keep(emulator: Emulator, work: Path, stack: HostStack | PulumiCli, facts: Facts) -> None:
    url = _scaling(emulator, facts.endpoint)[1]
    print(f"\nKept running (--keep): the emulator (pid {emulator.process.pid}) and the stack.")
    print(f"  emulator   {emulator.base_url}   state and logs: {work}")
    print(f"  endpoint   {facts.endpoint}   {url}")
    print("Use them:")
    print(f"  export HF_TOKEN={emulator.token} HF_ENDPOINTS_API_URL={emulator.api_url}")
    print(f'  pulumi-hf-endpoints generate {url} "{PROMPT}" --stream --max-new-tokens 64')
    print(f"  pulumi-hf-endpoints chat {url}")
    if isinstance(stack, PulumiCli):
        print(f"  cd {stack.project_dir} && {stack.shell_env}")
        print(
            "  pulumi stack output url; pulumi config set maxReplica 4 && pulumi up; pulumi destroy"
        )
    else:
        print(f"  the stack's state (no Pulumi CLI here): {stack.stack.state_path}")
    print("Stop it all:")
    print(f"  kill {emulator.process.pid} && rm -rf {work}")
