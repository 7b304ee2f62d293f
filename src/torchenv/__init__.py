"""torchenv: makes PyTorch on NVIDIA GPUs work, run fast and stay reproducible."""

__version__ = "0.1.0"


def __getattr__(name):
    """`torchenv.tune(...)` and `torchenv.step()`, loaded on first use: `import torchenv` never imports torch."""
    if name == "step":  # torchenv.step(): a step boundary for `torchenv profile --` and `monitor` (stdlib only)
        from .stepping import step

        globals()["step"] = step
        return step
    if name == "tune":  # the subpackage, callable: torchenv.tune(...) runs torchenv.tune.api.tune
        import importlib

        return importlib.import_module(".tune", __name__)
    raise AttributeError(f"module 'torchenv' has no attribute {name!r}")


def load_ipython_extension(ipython) -> None:
    """`%load_ext torchenv` in Jupyter/IPython: adds the `%torchenv` magic (torchenv.notebook)."""
    from .notebook import load_ipython_extension as load

    load(ipython)
