"""Talking to systemd: the journal, sd_notify and journal streams for the program's output."""
