"""Snapshots of an environment: take (`collect`, the one edge module here), build (pure), read and
write files, diff, export and verify. Everything but `collect` and `files` is a pure function of
`model.snapshot.Snapshot` values."""
