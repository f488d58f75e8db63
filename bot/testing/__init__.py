"""Helpers for tests and benchmarks (throwaway servers on loopback); not used by the assistant."""
