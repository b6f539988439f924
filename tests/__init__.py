# The replica's own tests (legacy interpreter). A package, so pytest puts the
# repository root on sys.path and `lab` (the harness, the variants) imports.
