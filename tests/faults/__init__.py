"""Fault injection: each test breaks something for real and checks torchenv's promises (docs/guarantees.md)."""
