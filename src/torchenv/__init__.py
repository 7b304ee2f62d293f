"""torchenv: makes PyTorch on NVIDIA GPUs work, run fast and stay reproducible."""

__version__ = "0.1.0"
