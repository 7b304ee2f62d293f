"""The rank worker: the only preflight code that imports torch (run under torchrun, one process per GPU)."""
