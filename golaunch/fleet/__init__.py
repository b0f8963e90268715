"""Checking units from outside: would this unit's golaunch start, given what systemd gives it?

`golaunch --check --unit NAME` and `--all-units` ask the manager for the unit's
settings (golaunch.systemd.manager), rebuild the environment systemd would give
the service (fleet.environment) and its credentials (fleet.credentials), and run
the ordinary checks in a child that has become the unit's user (fleet.check).
"""
