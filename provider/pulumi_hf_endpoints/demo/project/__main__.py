"""The huggingface_hub guide's first endpoint (gpt2 on a CPU instance) as a Pulumi resource.

Replicas come from stack config so that scaling is a config change plus `pulumi up`
(`pulumi config set maxReplica 2`); unset, the service's default (1) applies.
"""

import pulumi

from pulumi_hf_endpoints import InferenceEndpoint

config = pulumi.Config()

endpoint = InferenceEndpoint(
    "my-endpoint-name",
    repository="gpt2",
    framework="pytorch",
    task="text-generation",
    accelerator="cpu",
    vendor="aws",
    region="us-east-1",
    type="authenticated",  # the guide's "protected", under the name the service uses today
    instance_size="x2",
    instance_type="intel-spr",
    min_replica=config.get_int("minReplica"),
    max_replica=config.get_int("maxReplica"),
)

pulumi.export("url", endpoint.url)
pulumi.export("endpoint", endpoint.id)  # "namespace/name", for EndpointClient.for_endpoint
pulumi.export("status", endpoint.status)
