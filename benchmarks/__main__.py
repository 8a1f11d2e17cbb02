"""``python -m benchmarks``: run the benchmark and write benchmarks/RESULTS.md."""

from __future__ import annotations

import sys

from benchmarks.run import main

sys.exit(main())
