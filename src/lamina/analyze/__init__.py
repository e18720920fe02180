"""Image analysis: per-layer trees, wasted bytes, dive's efficiency, findings, reports."""
