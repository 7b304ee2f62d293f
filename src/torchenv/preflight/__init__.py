"""`torchenv preflight`: is this set of GPUs and nodes ready for distributed training?

Run under the launcher people already use, one process per GPU:

    torchrun --nproc-per-node N [--nnodes … --rdzv-…] -m torchenv.preflight [--json] [--output FILE]

or let `torchenv preflight --gpus N` start `torchrun --standalone` itself. Rank 0 gathers and judges;
its exit code is the verdict (0 ready, 1 degraded, 2 not ready).

Layout: `worker` (the rank process, the only one that imports torch), `hooks` (torchrun's
variables and the test-only hooks, pure), `bandwidth` and `judge` (pure: bus bandwidth, the
fabric's expectation, findings and the verdict), `launch` (starting torchrun through the runner).
Nothing here imports torch at import time.
"""
