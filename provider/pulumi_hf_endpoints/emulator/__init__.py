"""A local emulator of the Hugging Face Inference Endpoints service (control plane and serving).

Needs the `[emulator]` extra. Nothing in the Pulumi provider imports this package.
"""
