"""The huggingface_hub guide's end-to-end example, declaratively: a batch endpoint that stays
paused (no replica, no bill) between jobs.

`paused` comes from stack config: `pulumi config set paused true && pulumi up` pauses it,
`false` resumes it. `run_batch.py` resumes it for a job and pauses it again, so the stack's
desired state (paused) holds between jobs and `pulumi preview` stays quiet.
"""

import pulumi

from pulumi_hf_endpoints import InferenceEndpoint

config = pulumi.Config()

endpoint = InferenceEndpoint(
    "batch-endpoint",
    name=config.get("name") or "batch-endpoint",  # the guide looks it up by this name
    repository="gpt2",
    framework="pytorch",
    task="text-generation",
    accelerator="cpu",
    vendor="aws",
    region="us-east-1",
    type="authenticated",
    instance_size="x2",
    instance_type="intel-spr",
    paused=config.get_bool("paused") or False,
)

pulumi.export("endpoint", endpoint.id)  # "namespace/name": what run_batch.py needs
pulumi.export("status", endpoint.status)
