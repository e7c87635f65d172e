"""One way to open an ONNX model for the job's CPU-only inference (the local embedding model,
the learned name layer): quiet, a fixed number of threads, CPU provider only."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def cpu_session(path: Path, threads: int) -> Any:
    """An onnxruntime session on ``path`` using ``threads`` intra-op threads and one
    inter-op thread (actors and prepare tasks share a node's cores)."""
    import onnxruntime as ort  # heavy: loaded by the processes that run a model only

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=options,
                                providers=["CPUExecutionProvider"])
