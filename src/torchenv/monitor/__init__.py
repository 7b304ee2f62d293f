"""`torchenv monitor`: what the GPU is really doing while a job runs, and what that means.

    samples (edge: nvml.py reads NVML through an injectable `nvml` object, procs.py reads /proc)
      -> attribution.py (pure: which GPU processes are the job's, also across PID namespaces)
      -> verdicts.py   (pure: rules over windows of samples, with the evidence)
      -> summary.py    (pure: the MonitorReport)
      -> render/monitor_*.py (terminal, live view, CSV/JSONL streams, JSON, HTML)

session.py runs the sampler in a thread while launch.py owns the monitored command. Importing this
package imports nothing heavy: no torch, no pynvml, no rich.
"""
