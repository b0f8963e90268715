"""Readiness, one feature in three moments: the probes (readiness.probes), the gate
that waits for dependencies before the checks (readiness.gate, --wait-for), and the
helper process that sends READY=1 and watchdog pings after exec (readiness.helper,
--ready-probe, --watchdog)."""
