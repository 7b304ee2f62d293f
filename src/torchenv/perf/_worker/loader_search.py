"""The DataLoader search: num_workers, pin_memory, prefetch_factor, persistent_workers.

What is known, and exploited instead of a blind grid:
  * num_workers dominates. Throughput with w ≥ 1 workers rises with w until the cores (or the
    consumer) saturate, while w = 0 is a case of its own (the main process works with all its
    intra-op threads and no inter-process copies: on the H100 capture 0 workers beat 2 and 4).
    So: 0, then a doubling ladder 1, 2, 4, … up to the core count, stopped once two rungs in a row
    bring nothing; then at most two refinements between the best rung and its better neighbour.
  * pin_memory only matters with a GPU (page-locked copies): toggled once, at the best num_workers,
    on by default; prefetch_factor only matters with workers: 4 tried once against the default 2.
    A toggle replaces the incumbent only when it is faster by MIN_GAIN, twice over when close.
  * persistent_workers can only save the workers' start-up at each epoch (never costs time), so it
    is on for every trial with workers and not searched; its saving is reported from the measured
    restart of the second epoch.

Pure and stdlib-only, Python 3.8+ syntax; `measure(config) -> dict` is injected.
"""

from __future__ import annotations

from .knobs import loader_id, loader_label

MIN_GAIN = 0.03  # a loader setting must deliver 3 % more samples/s to count as better
CONFIRM_BAND = 0.12  # the two best num_workers within 12 %: both measured again before choosing


def max_workers(cpu_count):
    """Upper end of num_workers considered: the core count (4 on smaller machines, where a few
    extra workers can still hide I/O waits)."""
    cpu_count = max(1, int(cpu_count or 1))
    return max(cpu_count, 4)


def worker_candidates(cpu_count):
    """All num_workers values considered (the full grid's axis): 0, 1, 2, 4, then about ×1.5 steps
    up to the core count, plus cores − 1 (one core left to the main process)."""
    cpu_count = max(1, int(cpu_count or 1))
    top = max_workers(cpu_count)
    values = {0, 1, 2, 4, top}
    if top <= 4:
        values.add(3)
    step = 8
    while step < top:
        values.add(step)
        step = int(step * 1.5)
    if cpu_count > 4:
        values.add(cpu_count - 1)
    return sorted(v for v in values if v <= top)


def cpu_busy(before, after):
    """Fraction of all cores busy between two readings of /proc/stat's first ("cpu ...") line."""

    def fields(line):
        parts = line.split()
        values = [int(x) for x in parts[1:]]
        idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
        return sum(values[:8]), idle

    try:
        total0, idle0 = fields(before)
        total1, idle1 = fields(after)
    except (ValueError, IndexError, AttributeError):
        return None
    total = total1 - total0
    if total <= 0:
        return None
    return max(0.0, min(1.0, 1.0 - (idle1 - idle0) / float(total)))


HEADROOM_BUSY = 0.75  # past the core count only while the machine's cores are less busy than this


def grid(cpu_count, cuda):
    """The full grid a blind search would measure: every combination of the four knobs."""
    configs = []
    pins = (False, True) if cuda else (False,)
    for nw in worker_candidates(cpu_count):
        for pin in pins:
            if nw == 0:
                configs.append(_config(0, pin, None, False))
                continue
            for prefetch in (2, 4):
                for persistent in (False, True):
                    configs.append(_config(nw, pin, prefetch, persistent))
    return configs


def _config(nw, pin, prefetch, persistent):
    return {
        "num_workers": nw,
        "pin_memory": bool(pin),
        "prefetch_factor": prefetch if nw else None,
        "persistent_workers": bool(persistent) if nw else False,
    }


class LoaderSearch:
    def __init__(self, measure, cpu_count, cuda, clock=None, budget_s=None, on_trial=None):
        self.measure = measure
        self.cpu_count = max(1, int(cpu_count or 1))
        self.cuda = bool(cuda)
        self.clock = clock
        self.deadline = clock() + budget_s if (clock is not None and budget_s is not None) else None
        self.on_trial = on_trial or (lambda trial: None)
        self.trials = []
        self.by_id = {}

    def _over_budget(self):
        return self.deadline is not None and self.clock() >= self.deadline

    def trial(self, config, stage, again=False):
        key = loader_id(config)
        if key in self.by_id and not again:
            return self.by_id[key]
        if self._over_budget():
            return None
        result = self.measure(dict(config)) or {}
        trial = {"id": key, "label": loader_label(config), "stage": stage, "config": dict(config)}
        trial.update(result)
        trial.setdefault("status", "failed")
        if again and key in self.by_id:
            first = self.by_id[key]
            repeats = first.setdefault("repeats", [self.rate(first)])
            repeats.append(self.rate(trial))
            trial["id"] = f"{key}#{len(repeats)}"
            first["items_per_s"] = sum(repeats) / len(repeats)  # the mean of all measurements decides
        self.trials.append(trial)
        if not again:
            self.by_id[key] = trial
        self.on_trial(trial)
        return self.by_id.get(key, trial)

    @staticmethod
    def rate(trial):
        if trial is None or trial.get("status") != "ok":
            return 0.0
        return float(trial.get("items_per_s") or 0.0)

    def confirm(self, trials):
        """Measures the two best of `trials` once more when they are within CONFIRM_BAND: a
        single short measurement on a busy machine can be off by that much."""
        ranked = sorted((t for t in trials if t is not None and t.get("status") == "ok"), key=self.rate, reverse=True)
        if len(ranked) < 2 or self.rate(ranked[1]) < self.rate(ranked[0]) * (1 - CONFIRM_BAND):
            return
        for trial in (ranked[1], ranked[0]):
            self.trial(trial["config"], "confirm", again=True)

    def challenge(self, incumbent, config, stage):
        """The incumbent unless `config` is measurably faster: by MIN_GAIN, and when the lead is
        inside CONFIRM_BAND (one measurement's noise on a busy machine), by MIN_GAIN again on the
        means after both are measured once more."""
        trial = self.trial(config, stage)
        if trial is None or self.rate(trial) <= self.rate(incumbent) * (1 + MIN_GAIN):
            return incumbent
        if self.rate(trial) < self.rate(incumbent) * (1 + CONFIRM_BAND):
            self.trial(incumbent["config"], "confirm", again=True)
            self.trial(config, "confirm", again=True)
            if self.rate(trial) <= self.rate(incumbent) * (1 + MIN_GAIN):
                return incumbent
        return trial

    def _refine(self, by_workers, candidates, at):
        """Between the best rung of the ladder and its better measured neighbour: at most two trials."""
        measured = sorted(by_workers)
        best = max(measured, key=lambda k: self.rate(by_workers[k]))
        if best == 0:
            return
        index = measured.index(best)
        lower = measured[index - 1] if index > 0 else None
        upper = measured[index + 1] if index + 1 < len(measured) else None
        sides = [s for s in (lower, upper) if s is not None and s > 0]
        if not sides:
            return
        neighbour = max(sides, key=lambda k: self.rate(by_workers[k]))
        low, high = sorted((best, neighbour))
        inside = sorted((c for c in candidates if low < c < high), key=lambda c: abs(c - best))
        for c in inside[:2]:
            before = self.rate(by_workers[best])
            trial = at(c, "num_workers refine")
            if trial is None or self.rate(trial) <= before:
                break
            best = c

    def run(self):
        pin = self.cuda
        top = max_workers(self.cpu_count)
        candidates = worker_candidates(self.cpu_count)
        by_workers = {}

        def at(nw, stage):
            trial = self.trial(_config(nw, pin, 2 if nw else None, nw > 0), stage)
            if trial is not None:
                by_workers[nw] = trial
            return trial

        at(0, "num_workers")
        # The doubling ladder over w >= 1.
        ladder = []
        w = 1
        while w < top:
            ladder.append(w)
            w *= 2
        ladder.append(top)
        best_w, flat = None, 0
        for w in ladder:
            previous = by_workers.get(ladder[ladder.index(w) - 1]) if ladder.index(w) > 0 else None
            if w > self.cpu_count and previous is not None:
                busy = previous.get("cpu_busy")
                if busy is None or busy >= HEADROOM_BUSY:
                    break  # the cores are saturated: more workers than cores cannot add work
            trial = at(w, "num_workers")
            if trial is None:
                break
            if best_w is None or self.rate(trial) > self.rate(by_workers[best_w]) * (1 + MIN_GAIN):
                best_w, flat = w, 0
            else:
                flat += 1
                if flat >= 2:
                    break
        self._refine(by_workers, candidates, at)
        self.confirm(list(by_workers.values()))
        best = max(by_workers, key=lambda k: self.rate(by_workers[k]))
        incumbent = by_workers[best]
        # pin_memory: toggled once (GPU only). On is the prior (page-locked copies were 7× faster
        # on the H100 capture): off must win, and win again when it was close.
        if self.cuda:
            config = dict(incumbent["config"], pin_memory=not incumbent["config"]["pin_memory"])
            incumbent = self.challenge(incumbent, config, "pin_memory")
        # prefetch_factor: 4 against the default 2 (workers only).
        if incumbent["config"]["num_workers"] > 0:
            config = dict(incumbent["config"], prefetch_factor=4)
            incumbent = self.challenge(incumbent, config, "prefetch_factor")
        # The folklore "num_workers=4" as measured on the way, for the report.
        return {"best": incumbent, "trials": list(self.trials), "four_workers": by_workers.get(4)}


def loader_rate(epochs, epoch_items=None):
    """(effective, steady) samples/s of a DataLoader configuration, from short measured epochs.

    epochs: per measured epoch, {"startup_s": time to its first batch, "window_s": the measuring
    window from the epoch's start, "steady_items": items that arrived after the first batch and
    inside the window}. Only the window after the first batch counts as the steady rate: the ramp
    (workers starting, queues filling) and the tail (workers finishing unevenly once the sampler
    stops) are a quarter of a 2-second epoch on 16 workers but nothing of a real one, and they are
    noisy. The ramp is then charged once per real epoch of `epoch_items` samples (the last measured
    epoch's start-up: a restart for persistent workers, a respawn otherwise).
    Returns (None, None) when no batch arrived inside a window."""
    timed = [e for e in epochs if e.get("startup_s") is not None]
    steady_items = sum(e.get("steady_items") or 0 for e in timed)
    steady_s = sum(max(0.0, float(e["window_s"]) - float(e["startup_s"])) for e in timed)
    if steady_items <= 0 or steady_s <= 0:
        return None, None
    steady = steady_items / steady_s
    if not epoch_items or not timed:
        return steady, steady
    startup = float(timed[-1]["startup_s"])
    return epoch_items / (startup + epoch_items / steady), steady


def restart_saving_s(trial):
    """What persistent_workers saves per epoch: the first epoch's start-up (spawning the workers)
    minus the second epoch's restart with persistent workers."""
    epochs = trial.get("startup_s") or []
    if len(epochs) < 2 or not trial.get("config", {}).get("persistent_workers"):
        return None
    return max(0.0, float(epochs[0]) - float(epochs[1]))
