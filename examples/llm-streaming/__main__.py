"""The LLM endpoint of the blog post "Deploy LLMs with Hugging Face Inference Endpoints"
(https://huggingface.co/blog/inference-endpoints-llm): tiiuae/falcon-40b-instruct on one
NVIDIA A100 ("GPU [xlarge]").

The blog picks the repository and the instance in the UI and lets the service run TGI; here the
TGI engine is explicit so that its limits are reviewable in code:
- `maxInputLength` 1000 / `maxTotalTokens` 1512: the Inference Endpoints defaults of the blog's
  time, which is where the blog's "max_new_tokens ... max value is 512" comes from;
- `quantize: bitsandbytes`: the int-8 quantization the Falcon launch post says a 40B model
  needs to fit on a single A100.
Then run `python stream.py` to stream an answer with the blog's generation parameters.
"""

import pulumi

from pulumi_hf_endpoints import CustomImageArgs, InferenceEndpoint

config = pulumi.Config()

llm = InferenceEndpoint(
    "falcon-40b-instruct",
    repository="tiiuae/falcon-40b-instruct",
    framework="pytorch",
    task="text-generation",
    accelerator="gpu",
    vendor="aws",
    region="us-east-1",
    type="authenticated",
    instance_type="nvidia-a100",
    instance_size="x1",
    custom_image=CustomImageArgs(
        engine="tgi",
        url=config.get("tgiImage") or "ghcr.io/huggingface/text-generation-inference:1.0.3",
        health_route="/health",
        options={"maxInputLength": 1000, "maxTotalTokens": 1512, "quantize": "bitsandbytes"},
    ),
    # A 40B model on an A100 takes about ten minutes to come up (the blog says so too).
    wait_timeout=1800,
)

pulumi.export("url", llm.url)
pulumi.export("endpoint", llm.id)
