"""The SimPy discrete-event engine (``engine="des"``): individual claimants through the whole pathway.

Modules, one job each: :mod:`.claimants` (columnar claimant store),
:mod:`.context` (shared state, per-day timers), :mod:`.referrals` (referral
streams and the initial queue), :mod:`.workforce`, :mod:`.pool` (exact
multi-server FIFO assessment queues), :mod:`.handover`, :mod:`.pathway`
(decisions, MR, appeals, tribunal), :mod:`.recorder` (daily time series) and
:mod:`.engine` (SimPy processes, :class:`DesEngine`). The working-day calendar
is shared with the fast engine in :mod:`wca_sim.calendar`.
"""

from .engine import AuditError, DesEngine, Replication

__all__ = ["AuditError", "DesEngine", "Replication"]
