"""Benchmarks of the functions (run with ``make bench``; not part of the test suite)."""
