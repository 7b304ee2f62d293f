"""Pure parsers: foreign text (nvidia-smi, /proc files, ldconfig, collect_env) -> facts."""
