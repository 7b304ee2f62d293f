"""Notebooks: `%load_ext torchenv`, then `%torchenv doctor | plan | bench --quick | monitor | kernels`, each
for the kernel's own interpreter and shown as HTML; `torchenv kernels` lists every installed kernel with
the environment it runs. Importing this package imports neither IPython nor torch."""

from __future__ import annotations


def load_ipython_extension(ipython) -> None:
    """Registers the `%torchenv` line magic (IPython calls this on `%load_ext torchenv`)."""
    from .magics import torchenv_magic

    ipython.register_magic_function(torchenv_magic, magic_kind="line", magic_name="torchenv")


__all__ = ["load_ipython_extension"]
