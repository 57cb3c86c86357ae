"""Benchmarks run by `make bench`; figures land in bench/results/latest.json."""
