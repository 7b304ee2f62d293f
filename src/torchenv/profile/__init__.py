"""`torchenv profile`: a Kineto trace in, ranked bottlenecks with their fixes out.

Pure (no torch): `trace` reads and decodes a trace once into typed records, `analysis` computes the
per-step breakdown and runs the rules (thresholds in `rules`, from profile_rules.toml), `run` is the
seam the worker runtime fills in for `torchenv profile WORKLOAD`.
"""

from .analysis import analyse, analyse_traces
from .trace import TraceError, parse_trace, read_trace

__all__ = ["TraceError", "analyse", "analyse_traces", "parse_trace", "read_trace"]
