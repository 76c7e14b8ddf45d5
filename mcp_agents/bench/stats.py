"""Order statistics for the benchmark: medians, p95 and ratios taken pair by pair.

Percentiles use the nearest-rank method on the sorted samples (the p-th percentile is the
smallest sample with at least p % of the samples at or below it): every reported figure is a
value that was actually measured, never an interpolation between two.

A ratio against a baseline is the median of per-pair ratios. The caller interleaves measured
and baseline samples (A B A B ...) so that both sides of a pair see the same machine state;
the median of the pair ratios then cancels slow drifts (another process waking up, CPU
frequency) that a ratio of two independent medians would not.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


def percentile(samples: Sequence[float], p: float) -> float:
    """The nearest-rank p-th percentile (0 < p <= 100) of non-empty samples."""
    if not samples:
        raise ValueError("percentile of no samples")
    if not 0 < p <= 100:
        raise ValueError("p must be in (0, 100]")
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def median(samples: Sequence[float]) -> float:
    """The nearest-rank median (the lower middle for an even count)."""
    return percentile(samples, 50)


@dataclass(frozen=True)
class Summary:
    """What the report shows of a series of samples."""

    n: int
    p50: float
    p95: float
    min: float
    max: float

    def to_json(self) -> dict[str, Any]:
        return {key: (round(value, 6) if isinstance(value, float) else value) for key, value in asdict(self).items()}


def summarize(samples: Sequence[float]) -> Summary:
    if not samples:
        raise ValueError("no samples to summarize")
    return Summary(n=len(samples), p50=median(samples), p95=percentile(samples, 95),
                   min=min(samples), max=max(samples))


def pair_ratios(measured: Sequence[float], baseline: Sequence[float]) -> list[float]:
    """measured[i] / baseline[i] for each interleaved pair (pairs with a zero baseline are dropped)."""
    if len(measured) != len(baseline):
        raise ValueError("measured and baseline must be paired one to one")
    return [m / b for m, b in zip(measured, baseline, strict=True) if b > 0]


def paired_ratio(measured: Sequence[float], baseline: Sequence[float]) -> Summary:
    """The distribution of per-pair ratios; its `p50` is the figure compared with a ratio target."""
    return summarize(pair_ratios(measured, baseline))
