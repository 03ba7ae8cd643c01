"""Benchmarks of the runtime's overhead; ``make bench`` runs them and writes docs/benchmarks.md."""
