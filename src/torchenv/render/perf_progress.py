"""Progress while a perf worker runs (bench, tune, profile, and `torchenv.tune(...)` in-process): a
rich status line on a terminal, else one plain line per thing measured, so the logs of CI or a batch
job show where the run is. Reads the runtime's typed records (model/perf_records.py); decides nothing."""

from __future__ import annotations

from ..model import perf_records as R
from ..model.perf_records import Record, decode

SECTION_WORDS = {
    "import": "importing torch",
    "cuda-init": "starting CUDA",
    "wait": "cudnn.benchmark, in a fresh process",
    "workload": "building the workload",
    "matmul": "matmul throughput",
    "memory": "memory bandwidth",
    "transfer": "host↔device copies",
    "conv": "convolution (cudnn.benchmark / deterministic)",
    "amp": "AMP against FP32",
    "ladder-resnet50": "ResNet-50 training ladder",
    "ladder-gpt": "GPT block training ladder",
    "search": "searching",
    "loader": "tuning the DataLoader",
    "max-batch": "finding the largest batch",
    "remeasure": "re-measuring the fixes",
}


class WorkerProgress:
    """`plain_lines`: without a terminal, print one line per measurement (tune, profile) or nothing
    (bench, whose report follows at once). `prefix` starts each plain line."""

    def __init__(self, stream, rich: bool, plain_lines: bool = True, prefix: str = ""):
        self.stream = stream
        self.rich = rich
        self.plain_lines = plain_lines
        self.prefix = prefix
        self.status = None
        self.section = ""
        self.done = 0
        self.unit = "samples/s"
        self.reference = None

    def __enter__(self):
        if self.rich:
            from rich.console import Console

            self.status = Console(file=self.stream).status("starting the worker…")
            self.status.start()
        return self

    def __exit__(self, *exc):
        if self.status is not None:
            self.status.stop()

    def say(self, text: str, lasting: bool = True) -> None:
        if self.status is not None:
            self.status.update(text)
            if lasting and not text.endswith("…"):
                self.status.console.print(f"  {text}", highlight=False)
        elif self.plain_lines:
            self.stream.write(f"{self.prefix}{text}\n")
            self.stream.flush()

    def __call__(self, record: Record | dict) -> None:
        self.update(record)

    def update(self, record: Record | dict) -> None:
        record = decode(record)  # the typed record (a wire dict from a caller is decoded here)
        at = f"[{record.t:5.0f} s] "
        if isinstance(record, R.Begin) and record.section in SECTION_WORDS:
            self.section = SECTION_WORDS[record.section]
            self.say(f"{at}{self.section}…")
        elif isinstance(record, R.BenchResult) and record.label:  # bench: one measurement landed
            self.done += 1
            self.say(f"{self.section}: {record.label} ({self.done} done)…", lasting=False)
        elif isinstance(record, R.Workload):
            self.unit = record.unit or self.unit
        elif isinstance(record, R.Trial) and not record.update:
            self.say(at + self._trial(record))
        elif isinstance(record, R.LoaderTrialRecord):
            rate = record.items_per_s
            text = f"{rate:,.0f} samples/s" if rate else str(record.reason or record.status)
            self.say(f"{at}DataLoader {record.label}: {text}")
        elif isinstance(record, R.Remeasure):
            self.say(f"{at}re-measured {record.label}: {record.status}")
        elif isinstance(record, R.Note):
            self.say(f"{at}{record.text}")
        elif isinstance(record, R.Fatal):
            self.say(f"{at}stopped at {record.stage}: {record.error}")
        elif isinstance(record, R.Malformed):
            self.say(f"{at}an unreadable {record.event} record: {record.reason}")

    def _trial(self, record: R.Trial) -> str:
        label = record.label
        if record.status != "ok":
            return f"{label}: {record.status} — {record.reason}"
        throughput = record.throughput
        if record.id == "t0":
            self.reference = throughput
        text = f"{label}: {throughput:,.0f} {self.unit}" if throughput else str(label)
        if throughput and self.reference:
            text += f" ({throughput / self.reference:.2f}×)"
        if record.one_time_s and record.one_time_s >= 1:
            text += f", first step +{record.one_time_s:.0f} s"
        return f"{text} — {record.decision}"
