"""Benchmarks of the provider, the helpers and the emulator: `python -m bench` (see __main__)."""
