"""Actions (edge): carry out a Plan — create environments, run pip/uv/conda — through the injected runner."""
