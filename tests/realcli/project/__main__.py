"""Replaced by each test (tests/realcli/programs.py writes the program it needs)."""
