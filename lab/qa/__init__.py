# Quality drivers, run from the repository root with `python -m`:
# qa.conformance (the Autobahn suite against both stacks) and qa.fidelity
# (the post's code against the replica).
