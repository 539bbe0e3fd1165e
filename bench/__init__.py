"""Benchmarks: run with `.venv/bin/python -m bench.<name>`; figures go into README.md."""
