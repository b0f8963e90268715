"""Checking units from outside: would this unit's golaunch start, given what systemd gives it?

`golaunch --check --unit NAME` and `--all-units` (unitcheck.run) ask the manager
for the unit's settings (golaunch.systemd.manager), rebuild the environment
systemd would give the service (unitcheck.environment, reading EnvironmentFile=
with unitcheck.envfile), expand ExecStart='s variables (unitcheck.cmdline), stage
its credentials (unitcheck.credentials), work out its limits (unitcheck.limits),
and run the ordinary checks in a child that has become the unit's user
(unitcheck.child). The metrics for node_exporter are rendered by
golaunch.output.metrics.
"""
