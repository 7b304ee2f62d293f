"""The DataLoader tuner's epochs end by themselves (engine.EpochDeadline): nothing handed to a
worker is thrown away, so persistent workers and deep prefetching are not charged for a drain that
real training never pays. Real torch (CPU), real worker processes."""

from __future__ import annotations

import time

import pytest

pytestmark = [pytest.mark.torch]

torch = pytest.importorskip("torch")

from torchenv.perf._worker import dataloading as DL  # noqa: E402  (needs torch)
from torchenv.perf._worker import engine as EN  # noqa: E402
from torchenv.perf._worker import workload as WL  # noqa: E402


class SlowItems(torch.utils.data.Dataset):
    """Endless for practical purposes: without a deadline an epoch would take hours."""

    def __len__(self):
        return 1 << 20

    def __getitem__(self, index):
        time.sleep(0.002)
        return torch.full((2,), float(index))


class CountingSampler:
    """Counts the indices the DataLoader draws, in the main process."""

    def __init__(self):
        self.drawn = 0

    def __iter__(self):
        for index in range(len(SlowItems())):
            self.drawn += 1
            yield index


@pytest.mark.parametrize(
    "config",
    [
        {"num_workers": 0},
        {"num_workers": 2, "prefetch_factor": 4, "persistent_workers": True},
        {"num_workers": 2, "prefetch_factor": 2, "persistent_workers": False},
    ],
    ids=["main-process", "persistent-prefetch-4", "fresh-workers"],
)
def test_every_drawn_index_is_delivered_and_each_epoch_ends_by_itself(config):
    sampler = CountingSampler()
    template = torch.utils.data.DataLoader(SlowItems(), batch_size=4, sampler=sampler)
    make = DL.loader_factory(torch, template=template, epoch_s=0.3)
    loader = make(config)
    assert DL.ends_its_epochs(loader)
    for _ in range(2):
        sampler.drawn = 0
        began = time.monotonic()
        received = sum(int(batch.shape[0]) for batch in loader)  # no break: the epoch must end
        assert time.monotonic() - began < 10
        assert received > 0
        assert received == sampler.drawn  # nothing in flight was discarded


def test_the_cap_on_batches_also_ends_an_epoch():
    make = DL.loader_factory(torch, dataset=SlowItems(), batch_size=2, epoch_s=60, max_batches=3)
    assert [int(b.shape[0]) for b in make({"num_workers": 0})] == [2, 2, 2]


def test_iterable_datasets_have_no_sampler_to_wrap():
    class Stream(torch.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(10))

    loader = DL.loader_factory(torch, dataset=Stream(), batch_size=2, epoch_s=0.5)({"num_workers": 0})
    assert not DL.ends_its_epochs(loader)
    assert sum(len(b) for b in loader) == 10
    template = torch.utils.data.DataLoader(Stream(), batch_size=5)  # the user's own iterable loader
    rebuilt = DL.loader_factory(torch, template=template, epoch_s=0.5)({"num_workers": 0})
    assert [len(b) for b in rebuilt] == [5, 5]


def test_measured_rate_is_the_steady_one_with_the_ramp_charged_per_real_epoch():
    from torchenv.perf._worker import plan_tune as driver

    engine = EN.Engine(torch, torch.device("cpu"), WL.Workload(dataset=SlowItems(), loader_batch_size=4))
    make = DL.loader_factory(torch, dataset=SlowItems(), batch_size=4, epoch_s=0.4)
    out = driver.loader_measure(engine, make, 0.4)({"num_workers": 2, "prefetch_factor": 2, "persistent_workers": True})
    assert out["status"] == "ok" and out["epoch_items"] == len(SlowItems())
    # 2 workers × 4 items × 2 ms per batch: about 1000 samples/s once running, whatever the ramp
    assert 300 < out["steady_items_per_s"] < 1100
    assert out["items_per_s"] == pytest.approx(out["steady_items_per_s"], rel=0.01)  # a 1M-item epoch
    assert out["raw_items_per_s"] > 0
