"""The run context: what a run needs from the code that asks for it, beyond its config.

One :class:`RunContext` is made by ``ctlib campaign`` (or a test) and passed down, as an
argument, to the experiment functions, :func:`ctlib.experiments.train_one`,
:func:`ctlib.runs.run` and the :class:`ctlib.train.Trainer`. No module keeps a global that
changes how a run trains: a reader sees what a call depends on in its arguments.

Nothing in it enters a run's config hash or its record: a deadline, a claim or a log line
changes when and where a run trains, never what it stores.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field


class TimeBudgetReached(Exception):
    """Raised by the Trainer at an epoch boundary, after that epoch's checkpoint is written,
    once a :class:`RunContext`'s deadline has passed. The run resumes from there."""


@dataclass
class RunContext:
    """How the caller wants its runs trained.

    Attributes:
        deadline: wall-clock time (``time.time()``, s) after which a Trainer stops at the
            next epoch boundary by raising :class:`TimeBudgetReached` (None: no budget).
        claim: train a missing run only after claiming it with a lock file beside its
            checkpoint folder (:func:`ctlib.runs.claim`), so several campaign workers never
            train one run twice; a run another live process holds is skipped.
        log_every: print one line to stderr every this many epochs of each run (0: none).
        stats: ``{"trained": n, "busy": n}``: runs this context trained after claiming them,
            and runs it skipped because another process held them.
        collect: plan only: a missing run is not trained but its run id is appended here
            (a step function walked with it lists the runs it would train now; a back end
            whose front is missing is not listed until that front is stored).
        only: train only the missing runs with these ids; any other missing run is only
            looked up (a cluster task that walks a step function to train one run).
    """

    deadline: float | None = None
    claim: bool = False
    log_every: int = 0
    stats: dict = field(default_factory=lambda: {"trained": 0, "busy": 0})
    collect: list | None = None
    only: frozenset | None = None

    @classmethod
    def with_budget(cls, hours: float | None, **kw) -> "RunContext":
        """A context whose deadline is ``hours`` from now (None: no deadline)."""
        return cls(deadline=None if hours is None else time.time() + 3600.0 * float(hours), **kw)

    def spent(self) -> bool:
        """True once the deadline has passed."""
        return self.deadline is not None and time.time() >= self.deadline

    def hours_left(self) -> float | None:
        """Hours to the deadline (0 when passed), None without one."""
        return None if self.deadline is None else max(0.0, (self.deadline - time.time()) / 3600.0)


def default_context(context: RunContext | None) -> RunContext:
    """``context``, or a fresh default :class:`RunContext` when it is None."""
    return context if context is not None else RunContext()
