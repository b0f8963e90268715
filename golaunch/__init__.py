"""golaunch: check what a Go program needs from the host, then exec it under systemd."""

__version__ = "0.1.0"
