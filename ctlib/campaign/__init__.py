"""A profile's runs in priority order, trained within a time budget, resumably.

``ctlib campaign --profile cpu [--hours H]`` calls :func:`run_campaign`. It
walks the :func:`plan` of the profile step by step; every run goes through
:func:`ctlib.experiments.train_one`, so a run already stored under
``results/<profile>/`` is never repeated, and a run that was stopped (a killed
process, a spent budget) resumes from its last epoch checkpoint in
``$CTLIB_RUNS`` (default ``.cache/ctlib/runs``).

With ``--hours`` the campaign stops at the first epoch boundary after the
budget is spent (the epoch's checkpoint is written first) and before starting
a new run after it; the next call continues there. It prints a table of the
steps, done / running / pending, with the CPU-hours spent and an estimate of
the hours left, and every epoch of every run it trains prints one line to
stderr (the :class:`ctlib.context.RunContext` it passes down has ``log_every=1``).

With ``workers`` > 1 (``--workers``; on CPU the default is one per core), a
step marked ``Step.parallel`` (the data-scarce transfer, the zoo, Matbench, the
learning curve, the fp32 pretraining seeds and their matched back ends, CT-M's
MEGNet back ends, the headline) is trained by a
local Dask cluster of that many single-thread worker processes, one run per
task (:mod:`ctlib.cluster`); the parallel steps that follow it without a step of one
process between them are queued behind its runs (:func:`ctlib.campaign.steps.chain`), so a
worker that a step's last run leaves idle starts on the next step's. One run leaves its
second thread partly idle: on Castelli-3,334 two single-core workers train 1.82x the
structures/s of one 2-thread process; on the MP-2018 E_f back end 1.25x at 500 training
cells and 1.33x at 8,000, but only 1.06x at the tables' 4,000, so Tables II-IV stay one
process (``benchmarks/workers.py``). ``executor="processes"`` keeps the older
workers, which walk the same step side by side and claim each run through a lock
file (``RunContext(claim=True)``, :func:`ctlib.runs.claim`); ``scheduler`` sends
every step's runs to a Dask cluster elsewhere. Under ``torchrun`` every process
walks the plan and each run is trained by all of them (:mod:`ctlib.train.distributed`).

Everything a run stores is the same whichever device trained it: the device is
not part of a run's config hash, only of its record.

The package has three parts: :mod:`ctlib.campaign.steps` (what a campaign trains:
:class:`Step` and :func:`plan`), :mod:`ctlib.campaign.progress` (the status table:
:func:`status`, :func:`format_status`, the pace on this CPU) and
:mod:`ctlib.campaign.runner` (how it trains: :func:`run_campaign` and its workers).
"""
from ctlib.campaign.progress import (MIN_RUNS_FOR_SPEED, SPEED_WINDOW, _own_runs,
                                     _planned_per_run, format_status, pace_text, speed_factor,
                                     status, step_pace, tier_hours, totals)
from ctlib.campaign.runner import POLL_S, default_workers, run_campaign, train_processes
from ctlib.campaign.steps import Step, _hours, _runs, plan

__all__ = ["MIN_RUNS_FOR_SPEED", "POLL_S", "SPEED_WINDOW", "Step", "default_workers",
           "format_status", "pace_text", "plan", "run_campaign", "speed_factor", "status", "step_pace",
           "tier_hours", "totals", "train_processes", "_hours", "_own_runs",
           "_planned_per_run", "_runs"]
