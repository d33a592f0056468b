"""Test suite; a package so that `tests.harness` imports from the repository root."""
