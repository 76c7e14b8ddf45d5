"""`mcp-agents bench --quick` runs end to end at a tiny size and writes one JSON key per figure.

No figure is asserted (performance is measured, not tested); only that every figure was measured.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mcp_agents.bench.report import FIGURE_KEYS

TINY = ["--repeat", "3", "--relay-messages", "3", "--fanout-runs", "3", "--fanout-messages", "1", "--busy-callers", "3",
        "--coldstart-repeat", "1", "--messages", "40", "--subscribers", "2", "--runs", "200", "--events", "1000",
        "--query-repeat", "2", "--timeout", "20"]


def test_quick_bench_writes_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, "-m", "mcp_agents", "bench", "--quick", *TINY, "--json", str(out)],
                          capture_output=True, text=True, timeout=170, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    document = json.loads(out.read_text(encoding="utf-8"))
    assert list(document["figures"]) == list(FIGURE_KEYS)
    for key, figure in document["figures"].items():
        assert figure["error"] is None, (key, figure["error"])
        assert figure["lines"], key
    assert document["machine"]["cores"] >= 1 and document["machine"]["versions"]["mcp"]
    assert "| figure |" in done.stdout and "machine:" in done.stdout
