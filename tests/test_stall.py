"""The driver's stall detector (issue 11): after ``pipeline.stall_minutes`` without a committed
record it says so once per period, naming what the stages ask and what the cluster has free."""

from __future__ import annotations

import pytest

from backfill.resources import plan_stages
from backfill.runner import ProgressPrinter, stall_message


@pytest.mark.unit
def test_a_stall_is_reported_once_per_period_and_progress_clears_it() -> None:
    printer = ProgressPrinter("postgresql://unused", "s", "run-1", 10.0,
                              stall_seconds=600.0, stages=plan_stages([1.0, 1.0], 1, 1, 1))
    printer.last_change = 0.0
    assert printer.check_stall(100, 0.0) is None  # first sight
    assert printer.check_stall(100, 599.0) is None
    warning = printer.check_stall(100, 600.0)
    assert warning is not None and "STALLED: no record committed for 10.0 min" in warning
    assert printer.check_stall(100, 900.0) is None  # not again within the period
    assert printer.check_stall(100, 1200.0) is not None
    assert printer.check_stall(101, 1210.0) is None  # a record: progress again
    assert printer.check_stall(101, 1800.0) is None  # 590 s idle: not yet


@pytest.mark.unit
def test_the_message_names_the_requests_and_what_is_free() -> None:
    stages = plan_stages([1.0, 1.0], 1, 1, 1)
    text = stall_message("run-1", 900.0, stages, (0.75, 2.0))
    assert f"prepare {stages.prepare_cpus:g} CPU per task" in text
    assert "0.75 of 2 CPUs free" in text and "no single node can meet" in text
    busy = stall_message("run-1", 900.0, stages, (0.0, 2.0))
    assert "No CPU is free" in busy
    assert "STALLED" in stall_message("run-1", 60.0, None, None)


@pytest.mark.unit
def test_the_message_names_what_waits_and_its_request() -> None:
    pending = [("MapBatches(prepare_blocks)", {"CPU": 1.0}),
               ("MapBatches(prepare_blocks)", {"CPU": 1.0}), ("Extractor", {"CPU": 0.25})]
    text = stall_message("run-1", 900.0, None, (0.5, 2.0), pending)
    assert ("Waiting for a node: Extractor x1 asking CPU 0.25; MapBatches(prepare_blocks) x2 "
            "asking CPU 1.") in text


@pytest.mark.integration
def test_pending_work_reads_rays_state_api(ray_local: None) -> None:
    from backfill.runner import pending_work

    # nothing waits in this session's Ray (and without a dashboard the answer is [] too)
    assert pending_work() == []
