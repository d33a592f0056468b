"""The huggingface_hub guide's custom-image endpoint: zephyr-7b-beta served by TGI 1.1.0.

`custom_image` is the guide's dict, verbatim (snake_case keys and all); `CustomImageArgs` is
the typed alternative. Changing the image or its env updates the endpoint in place.
"""

import pulumi

from pulumi_hf_endpoints import InferenceEndpoint

endpoint = InferenceEndpoint(
    "aws-zephyr-7b-beta",
    repository="HuggingFaceH4/zephyr-7b-beta",
    framework="pytorch",
    task="text-generation",
    accelerator="gpu",
    vendor="aws",
    region="us-east-1",
    type="authenticated",  # the guide's "protected", under the name the service uses today
    instance_size="x1",
    instance_type="nvidia-a10g",
    custom_image={
        "health_route": "/health",
        "env": {
            "MAX_BATCH_PREFILL_TOKENS": "2048",
            "MAX_INPUT_LENGTH": "1024",
            "MAX_TOTAL_TOKENS": "1512",
            "MODEL_ID": "/repository",
        },
        "url": "ghcr.io/huggingface/text-generation-inference:1.1.0",
    },
)

pulumi.export("url", endpoint.url)
pulumi.export("endpoint", endpoint.id)
