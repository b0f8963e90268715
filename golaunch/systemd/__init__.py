"""Talking to systemd: the journal (systemd.journal), sd_notify (systemd.notify), journal
streams for the program's output (systemd.streams), and the service manager over the
system bus, for the unit checks and a unit's own settings (systemd.manager)."""
