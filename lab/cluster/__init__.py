"""`make cluster`: python -m lab.cluster STACK [PORT] (docs/cluster.md)."""
