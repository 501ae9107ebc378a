"""Local stand-ins for remote services, used by tests and benchmarks."""
