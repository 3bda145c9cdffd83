"""The benchmark suite of issue 7: `make bench` runs bench/run.py (see bench/README.md)."""
