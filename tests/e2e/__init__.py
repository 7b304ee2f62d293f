"""End-to-end tests of `torchenv doctor` (a package, so its conftest does not shadow tests/conftest.py)."""
