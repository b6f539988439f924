# The replica's own tests (legacy interpreter). A package, so pytest puts the
# repository root on sys.path and `harness`, `qa` and `tests.fixtures` import.
