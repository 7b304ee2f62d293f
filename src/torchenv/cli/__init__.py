"""Composition root: argument parsing, wiring of real runners and knowledge, exit codes."""
