"""The bench's results: each run's measurement (:class:`~solo_tricl.evaluate.measurement.RunMeasurement`,
the same record ``evaluate`` reports), with what the bench adds (variant, seed, training time),
the pairs of seeds, the cost pass; and a measurement saved beside its run for reuse."""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from solo_tricl.common.files import write_json
from solo_tricl.evaluate.measurement import PairMeasurement, RunMeasurement

# the orders every run is measured in, and the curve points (each run adds its own k: "all")
BENCH_ORDERS = ("importance", "pca", "canonical")
LEADERBOARD_KS = (1, 2, 4, 8, 16, 32, 64, 128)


@dataclass
class BenchRun:
    """One training of a variant with one seed, and its measurement."""

    variant: str
    seed: int
    name: str
    command: str
    measurement: RunMeasurement
    train_seconds: Optional[float] = None  # None: the training was reused from an earlier invocation

    @classmethod
    def from_json(cls, saved: dict) -> "BenchRun":
        return cls(**{**saved, "measurement": RunMeasurement.from_json(saved["measurement"])})


@dataclass
class BenchPair:
    """Identifiability of two runs of one variant."""

    variant: str
    label: str
    measurement: PairMeasurement


@dataclass
class Cost:
    """Training throughput and peak memory of one variant, from the interleaved timing pass."""

    variant: str
    images_per_s: List[float]  # one per repeat
    peak_bytes: List[float]


@dataclass
class BenchTime:
    """What a bench took, over every invocation that did part of it: this invocation's wall time,
    and the trainings and measurements it reused, each with the seconds recorded when it ran."""

    invocation_minutes: float = 0.0
    reused_minutes: float = 0.0  # recorded when the reused trainings and measurements ran
    reused: int = 0  # trainings and measurements reused
    unrecorded: int = 0  # reused, or resumed, with no time recorded: not in ``reused_minutes``

    def add_reused(self, seconds: Optional[float]) -> None:
        self.reused += 1
        if seconds is None:
            self.unrecorded += 1
        else:
            self.reused_minutes += seconds / 60

    @property
    def minutes(self) -> float:
        return self.invocation_minutes + self.reused_minutes


@dataclass
class BenchResult:
    settings: dict
    runs: List[BenchRun] = field(default_factory=list)
    pairs: List[BenchPair] = field(default_factory=list)
    noise_floor: Optional[BenchPair] = None
    clip: List[BenchRun] = field(default_factory=list)
    cost: List[Cost] = field(default_factory=list)
    galleries: Dict[str, dict] = field(default_factory=dict)
    config_differences: Dict[str, List[str]] = field(default_factory=dict)
    time: BenchTime = field(default_factory=BenchTime)

    def by_variant(self, clip: bool = False) -> Dict[str, List[RunMeasurement]]:
        """Each variant's measurements, one per seed, in the order trained."""
        grouped: Dict[str, List[RunMeasurement]] = {}
        for run in self.clip if clip else self.runs:
            grouped.setdefault(run.variant, []).append(run.measurement)
        return grouped

    def as_json(self) -> dict:
        return asdict(self)


# bump when a measure changes: a saved measurement of another version is measured again
MEASURES_VERSION = 2
MEASURED = "bench-measured.json"


def saved_measurement(folder: Path, key: dict) -> Optional[Tuple[RunMeasurement, Optional[float]]]:
    """The measurement saved in ``folder`` under exactly ``key`` and the seconds measuring it took
    (None if not recorded), else None."""
    try:
        saved = json.loads((folder / MEASURED).read_text())
        if saved["key"] != key:
            return None
        return RunMeasurement.from_json(saved["measurement"]), saved.get("seconds")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def measurement_key(checkpoint: Path, **settings) -> dict:
    """What a saved measurement must match: the checkpoint (path, size, time), the measures'
    version and the settings it was measured with."""
    return {
        "version": MEASURES_VERSION,
        "checkpoint": str(checkpoint),
        "size": checkpoint.stat().st_size,
        "mtime": checkpoint.stat().st_mtime,
        **settings,
    }


@dataclass
class Measured:
    """A run's measurement, the run in each order, and whether the measurement was reused (with
    the seconds measuring it took when it ran, None if not recorded)."""

    measurement: RunMeasurement
    ordered: dict
    reused: bool = False
    recorded_seconds: Optional[float] = None


def measure_once(features, folder: Path, key: dict, measure) -> Measured:
    """``measure(features)``, or the measurement saved in ``folder`` under ``key`` with the orders
    refitted from the features (cheap, deterministic)."""
    import time

    from solo_tricl.evaluate.orders import in_order

    saved = saved_measurement(folder, key)
    if saved is not None:
        measurement, seconds = saved
        print(f"   reusing its measurement in {folder / MEASURED}", flush=True)
        ordered = {order: in_order(features, order) for order in measurement.orders}
        return Measured(measurement, ordered, reused=True, recorded_seconds=seconds)
    started = time.perf_counter()
    measurement, ordered = measure(features)
    seconds = time.perf_counter() - started
    write_json(folder / MEASURED, {"key": key, "measurement": asdict(measurement), "seconds": seconds})
    return Measured(measurement, ordered)
