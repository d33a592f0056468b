"""A downstream stack: reads the endpoint URLs of a `multi-environment` stack.

    pulumi config set endpointsStack organization/multi-environment/dev
    pulumi config set environment prod

`appEnvironment` is what an application needs to call the endpoint; pass it to the resource
that runs your app (a container definition, a Kubernetes Secret, a function's settings).
The token is not in it: give the app its own Hugging Face token as a secret.
"""

import pulumi

config = pulumi.Config()
endpoints = pulumi.StackReference(config.require("endpointsStack"))
environment = config.get("environment") or "prod"

chat_url = endpoints.require_output("urls").apply(lambda urls: urls[environment])

pulumi.export("chatUrl", chat_url)
pulumi.export(
    "appEnvironment",
    {"CHAT_ENDPOINT_URL": chat_url, "CHAT_ENDPOINT_ENVIRONMENT": environment},
)
