"""Helpers shared by the test suites (live processes, databases)."""
