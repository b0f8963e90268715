"""Checking units from outside: would this unit's golaunch start, given what systemd gives it?

`golaunch --check --unit NAME` and `--all-units` ask the manager for the unit's
settings (golaunch.systemd.manager), rebuild the environment systemd would give
the service (fleet.environment, reading EnvironmentFile= with fleet.envfile),
expand ExecStart='s variables (fleet.cmdline), stage its credentials
(fleet.credentials), work out its limits (fleet.limits), and run the ordinary
checks in a child that has become the unit's user (fleet.check). The metrics
for node_exporter are written by fleet.metrics.
"""
