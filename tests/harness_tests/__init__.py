"""Tests of the dynamic-provider host harness itself (against the echo provider)."""
