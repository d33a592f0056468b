"""P2 readiness lag: from the emulator marking an endpoint running to `create` returning.

Ours: a Create RPC through Pulumi's provider host, polling at the DEFAULT interval
(`PULUMI_HF_ENDPOINTS_POLL_INTERVAL` unset: 1 s). Reference: huggingface_hub's
`create_inference_endpoint(...)` then `InferenceEndpoint.wait()` with its default
`refresh_every` (5 s), on an endpoint of the same configuration and provisioning time, run at
the same moment.

"Ready" is the emulator's own instant: it derives states from timestamps, and once an
endpoint runs, `status.updatedAt` is the moment it became running (ms precision, the
emulator's wall clock, the same machine's). Provisioning times are spread evenly over a 5 s
window so the phase of the readiness against either poller's period is sampled fairly. Both
clients reach the control plane through a counting proxy: requests/s is the number of GETs of
the endpoint between the POST and the return, divided by that time. Health probes go to the
endpoint's URL directly (data plane) and are reported apart.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import threading
import time
from typing import Any

import httpx

from bench.common import (
    ENDPOINT,
    BenchResult,
    CountingProxy,
    Figure,
    declare_endpoints,
    emulator_process,
    host_env,
    median,
)
from pulumi_hf_endpoints.timestamps import parse_timestamp

ID = "P2"
TITLE = "Readiness lag and polling rate: create vs huggingface_hub wait()"

PENDING = 0.5
WINDOW = 5.0  # huggingface_hub's default refresh period


def _hub_kwargs() -> dict[str, Any]:
    image = ENDPOINT["custom_image"]
    return {
        "repository": ENDPOINT["repository"],
        "framework": ENDPOINT["framework"],
        "task": ENDPOINT["task"],
        "accelerator": ENDPOINT["accelerator"],
        "vendor": ENDPOINT["vendor"],
        "region": ENDPOINT["region"],
        "instance_size": ENDPOINT["instance_size"],
        "instance_type": ENDPOINT["instance_type"],
        "type": "authenticated",
        "min_replica": ENDPOINT["min_replica"],
        "max_replica": ENDPOINT["max_replica"],
        "scale_to_zero_timeout": ENDPOINT["scale_to_zero_timeout"],
        "custom_image": {
            "url": image["url"],
            "health_route": image["health_route"],
            "env": image["env"],
        },
    }


@contextlib.contextmanager
def _hub_pointed_at(api_url: str, token: str) -> Any:
    """huggingface_hub's endpoints constant moved to `api_url` (the only way it allows)."""
    import huggingface_hub

    saved = huggingface_hub.constants.INFERENCE_ENDPOINTS_ENDPOINT
    saved_token = os.environ.get("HF_TOKEN")
    huggingface_hub.constants.INFERENCE_ENDPOINTS_ENDPOINT = api_url
    os.environ["HF_TOKEN"] = token
    try:
        yield
    finally:
        huggingface_hub.constants.INFERENCE_ENDPOINTS_ENDPOINT = saved
        if saved_token is None:
            os.environ.pop("HF_TOKEN", None)
        else:
            os.environ["HF_TOKEN"] = saved_token


def _sample(emu: Any, proxy: CountingProxy, name: str, returned: float) -> dict[str, Any]:
    path = f"/v2/endpoint/{emu.user}/{name}"
    raw = httpx.get(f"{emu.api_url}/endpoint/{emu.user}/{name}", headers=emu.headers).json()
    assert raw["status"]["state"] == "running", raw["status"]
    ready = parse_timestamp(raw["status"]["updatedAt"])
    created = parse_timestamp(raw["status"]["createdAt"])
    assert ready is not None and created is not None, raw["status"]
    collection = f"/v2/endpoint/{emu.user}"
    posts = [r for r in proxy.recorder.snapshot() if r[1] == "POST" and r[2] == collection]
    post_time = min((r[0] for r in posts if r[0] >= created - 1.0), default=created)
    gets = [r for r in proxy.requests_to(path, post_time, returned) if r[1] == "GET"]
    first_get = min((r[0] for r in gets), default=returned)
    return {
        "first_get_after_post_s": round(first_get - post_time, 4),
        "requests_per_s_after_first": (len(gets) - 1) / max(returned - first_get, 1e-9),
        "name": name,
        "provisioning_s": round(ready - created, 3),
        "lag_s": returned - ready,
        "wait_s": returned - post_time,
        "control_plane_gets": len(gets),
        "requests_per_s": len(gets) / max(returned - post_time, 1e-9),
    }


def _data_plane_requests(emu: Any) -> dict[str, int]:
    state = emu.faults.state()
    return {e["name"]: int(e["requests"]) for e in state["endpoints"]}


def run(quick: bool) -> BenchResult:
    from huggingface_hub import create_inference_endpoint

    from tests.harness import ProviderHost

    result = BenchResult(ID, TITLE, quick)
    batches = 1 if quick else 3
    per_batch = 4  # the host runs 4 RPCs at once: 4 of ours and 4 of the reference per batch
    n = batches * per_batch
    base = 1.5
    provisioning = [base + WINDOW * (i + 0.5) / n for i in range(n)]
    order = [i for b in range(per_batch) for i in range(b, n, per_batch)]  # mix T in batches
    result.params = {
        "samples": n,
        "provisioning_seconds": [round(t, 3) for t in provisioning],
        "poll_interval": "default (PULUMI_HF_ENDPOINTS_POLL_INTERVAL unset)",
        "reference": "huggingface_hub create_inference_endpoint + InferenceEndpoint.wait() "
        "(refresh_every=5, its default)",
    }
    ours: list[dict[str, Any]] = []
    hub: list[dict[str, Any]] = []
    env = host_env()
    env.pop("PULUMI_HF_ENDPOINTS_POLL_INTERVAL", None)
    with emulator_process() as emu, CountingProxy(emu.base_url) as proxy:
        proxy_api = f"{proxy.url}/v2"
        hub_env = _hub_pointed_at(proxy_api, emu.token)
        with ProviderHost(env=env, inherit_env=False) as host, hub_env:
            host.configure(
                {"huggingface:token": emu.token, "huggingface:apiUrl": proxy_api},
                secret_keys=["huggingface:token"],
            )
            lock = threading.Lock()
            for b in range(batches):
                idx = order[b * per_batch : (b + 1) * per_batch]
                with concurrent.futures.ThreadPoolExecutor(2 * per_batch) as pool:
                    futures = []
                    for i in idx:
                        t = provisioning[i]
                        emu.faults.set_timings(
                            pending_seconds=PENDING, initializing_seconds=t - PENDING
                        )
                        ours_name, hub_name = f"p2-ours-{i:02d}", f"p2-hub-{i:02d}"
                        res = declare_endpoints(
                            [f"p2-{i:02d}"], name=ours_name, namespace=emu.user
                        )[0]

                        def ours_create(res: Any = res, name: str = ours_name) -> tuple[str, float]:
                            inputs = host.check(res.urn, {}, res.inputs).inputs
                            host.create(res.urn, inputs, timeout=120)
                            return name, time.time()

                        futures.append(("ours", pool.submit(ours_create)))
                        # The next timings must not apply to ours: wait until it exists.
                        deadline = time.monotonic() + 30
                        url = f"{emu.api_url}/endpoint/{emu.user}/{ours_name}"
                        while httpx.get(url, headers=emu.headers).status_code != 200:
                            if time.monotonic() > deadline:
                                raise RuntimeError("our create never reached the emulator")
                            time.sleep(0.01)
                        endpoint = create_inference_endpoint(
                            hub_name, namespace=emu.user, token=emu.token, **_hub_kwargs()
                        )

                        def hub_wait(
                            endpoint: Any = endpoint, name: str = hub_name
                        ) -> tuple[str, float]:
                            endpoint.wait(timeout=120)
                            return name, time.time()

                        futures.append(("hub", pool.submit(hub_wait)))
                    for who, future in futures:
                        name, returned = future.result()
                        sample = _sample(emu, proxy, name, returned)
                        with lock:
                            (ours if who == "ours" else hub).append(sample)
                data_plane = _data_plane_requests(emu)
                for sample in ours + hub:
                    sample.setdefault("data_plane_requests", data_plane.get(sample["name"]))
                for sample in ours[-per_batch:] + hub[-per_batch:]:
                    httpx.delete(
                        f"{emu.api_url}/endpoint/{emu.user}/{sample['name']}", headers=emu.headers
                    )

    lag_ours = [s["lag_s"] for s in ours]
    lag_hub = [s["lag_s"] for s in hub]
    rate_ours = [s["requests_per_s"] for s in ours]
    rate_hub = [s["requests_per_s"] for s in hub]
    result.add(
        Figure(
            "P2 readiness lag, median",
            "s",
            median(lag_ours),
            median(lag_hub),
            reference_label="huggingface_hub wait()",
            goal=1.0,
            goal_kind="max",
            goal_on="ours",
            goal_text="≤ 1 s",
        )
    )
    result.add(
        Figure(
            "P2 readiness lag, worst",
            "s",
            max(lag_ours),
            max(lag_hub),
            reference_label="huggingface_hub wait()",
        )
    )
    result.add(
        Figure(
            "P2 control-plane requests/s while waiting, median",
            "req/s",
            median(rate_ours),
            median(rate_hub),
            reference_label="huggingface_hub wait()",
            goal=1.0,
            goal_kind="max",
            goal_on="ours",
            goal_text="≤ 1/s",
        )
    )
    result.samples = {"ours": ours, "huggingface_hub": hub}
    first = median([s["first_get_after_post_s"] for s in ours])
    steady = median([s["requests_per_s_after_first"] for s in ours])
    result.notes.append(
        f"ours: the first GET follows the POST after {first * 1e3:.0f} ms (median; the POST's "
        f"answer is judged first); from the second GET on: {steady:.2f} req/s"
    )
    return result
