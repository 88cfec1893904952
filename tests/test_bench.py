"""Benchmark phases run in a fresh process on one BLAS thread, and leave the caller's
environment as it was."""

from __future__ import annotations

import os

import pytest

from walkout.bench import ONE_CORE_ENV, PhaseResult, in_fresh_process


def blas_threads_phase() -> PhaseResult:
    """A phase that reports, as its name, the BLAS thread settings it ran with."""
    name = ",".join(os.environ.get(k, "unset") for k in sorted(ONE_CORE_ENV))
    return PhaseResult(name, 0.0, 0.0, 0.0, 0.0, os.getpid())


def test_phases_run_on_one_blas_thread_in_their_own_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "8")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    result = in_fresh_process(blas_threads_phase)
    assert result.name == "1,1,1"
    assert result.lines != os.getpid()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "8"
    assert "OMP_NUM_THREADS" not in os.environ
