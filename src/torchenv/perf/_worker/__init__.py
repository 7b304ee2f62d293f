"""The perf worker runtime: the torch side of `bench`, `tune` and `profile`, one package run inside
the target interpreter (`main.py`), or imported by `torchenv.tune(...)` in the caller's process.

Modules: protocol (records), device (device, `env` record, NVML), timing, workload (a user's
workload normalised), workloads (built-ins and their sizes), step (knobs applied to torch), engine
(measures a configuration), dataloading, micro (bench's micro-benchmarks), plan_bench / plan_tune /
plan_profile (the plans), and the pure decisions the plans make beside the measurements: knobs,
search, numerics, batch, loader_search. Everything here keeps Python 3.8+ syntax (the target
interpreter may be older than torchenv's own) and imports nothing of torchenv outside this package.
"""
