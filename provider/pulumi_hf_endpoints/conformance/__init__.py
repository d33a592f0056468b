"""`pulumi-hf-endpoints conformance`: the provider's picture of the service, checked against the
service itself, on one small paused endpoint.

- `checks`: what is checked, one row each: every property set, changed and cleared with the
  provider's own update bodies, and the behaviours docs/service-api.md marks as assumptions
  (how a `null` is read, where `cacheHttpResponses` is reported, what a GET says of secrets,
  which hardware and tasks are refused, the units of the logs route...), each with what the
  emulator does;
- `command`: the verb: the price shown first, a confirmation, the endpoint created, paused at
  once and always deleted, and the table of what the service did against the emulator.

The emulator's answer to every row is what the test suite runs this command against
(`tests/test_conformance.py`), where every row must agree.
"""
