# ruff: noqa: RUF046  (runs in the target interpreter: Python 3.8+ syntax)
"""DataLoaders rebuilt with tune's loader knobs, and epochs that end by themselves. Part of the perf
worker runtime: imports only torch (passed in) and stdlib.
"""

import time


def read_proc_stat():
    try:
        with open("/proc/stat") as handle:
            return handle.readline()
    except OSError:
        return None


class EpochDeadline:
    """Wraps a loader's sampler (or batch sampler) so that each epoch ends by itself after
    `seconds`, or after `max_items` draws: the DataLoader pulls indices lazily, so the batches
    already handed to workers finish and the epoch ends the way a real one does.

    Why not simply break out of the loop after `seconds`: a cut epoch leaves up to
    num_workers × prefetch_factor batches in flight. Non-persistent workers are then killed with
    their work, and persistent ones must finish and discard all of it before the next epoch can
    start (`_reset` drains the queues), which charged prefetch_factor=4 with persistent workers up
    to a second per epoch on the 16-core H100 host: an artefact of measuring, not of training."""

    def __init__(self, base, seconds, max_items=None):
        self.base = base
        self.seconds = float(seconds)
        self.max_items = max_items

    def real_length(self):
        """The length of a real (uncut) epoch, in the base's units; None when it has none."""
        try:
            return int(len(self.base))
        except (TypeError, ValueError, NotImplementedError):
            return None

    def __iter__(self):
        deadline = time.perf_counter() + self.seconds
        items = iter(self.base)
        n = 0
        while (self.max_items is None or n < self.max_items) and time.perf_counter() < deadline:
            try:
                item = next(items)
            except StopIteration:
                return
            n += 1
            yield item


def loader_factory(
    torch, template=None, dataset=None, batch_size=None, device_cuda=False, epoch_s=None, max_batches=400
):
    """make_loader(config) -> DataLoader: the user's loader (or dataset) rebuilt with the knobs.
    With `epoch_s`, its epochs end by themselves (EpochDeadline) unless the dataset is iterable
    (no sampler to wrap: those epochs are cut by the measuring loop)."""
    data = torch.utils.data
    DataLoader = data.DataLoader
    if template is not None:
        dataset = template.dataset
        kwargs = dict(
            collate_fn=template.collate_fn,
            drop_last=template.drop_last,
            worker_init_fn=template.worker_init_fn,
            timeout=template.timeout,
        )
        if template.batch_size is None:
            kwargs["batch_sampler"] = template.batch_sampler
        else:
            kwargs.update(batch_size=template.batch_size, sampler=template.sampler)
    else:
        kwargs = dict(batch_size=batch_size or 32, sampler=None, drop_last=True)
    iterable = isinstance(dataset, data.IterableDataset)
    if iterable and template is not None:  # an iterable dataset takes no sampler
        kwargs.pop("sampler", None)
        if kwargs.pop("batch_sampler", None) is not None:
            kwargs["batch_size"] = None
    if epoch_s is not None and not iterable:
        if kwargs.get("batch_sampler") is not None:
            kwargs["batch_sampler"] = EpochDeadline(kwargs["batch_sampler"], epoch_s, max_batches)
        else:
            base = kwargs.get("sampler") or data.SequentialSampler(dataset)
            kwargs["sampler"] = EpochDeadline(base, epoch_s, max_batches * int(kwargs["batch_size"] or 1))
    elif template is None:
        kwargs.pop("sampler")
        kwargs["shuffle"] = False

    def make(config):
        nw = int(config.get("num_workers") or 0)
        extra = dict(num_workers=nw, pin_memory=bool(config.get("pin_memory")) and device_cuda)
        if nw > 0:
            extra.update(
                prefetch_factor=int(config.get("prefetch_factor") or 2),
                persistent_workers=bool(config.get("persistent_workers")),
            )
        return DataLoader(dataset, **dict(kwargs, **extra))

    return make


def epoch_items(loader, items_per_batch):
    """Samples in one real epoch of `loader` (None when unknown: an iterable dataset, a sampler
    without a length)."""
    sampler = getattr(loader, "sampler", None)
    if isinstance(sampler, EpochDeadline):
        return sampler.real_length()
    batches = getattr(loader, "batch_sampler", None)
    if isinstance(batches, EpochDeadline):
        length = batches.real_length()
        return int(length * items_per_batch) if length and items_per_batch else None
    return None


def ends_its_epochs(loader):
    """True when the loader's epochs end by themselves (see EpochDeadline)."""
    return isinstance(getattr(loader, "sampler", None), EpochDeadline) or isinstance(
        getattr(loader, "batch_sampler", None), EpochDeadline
    )
