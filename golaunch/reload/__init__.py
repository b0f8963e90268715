"""`golaunch --reload $MAINPID` as a unit's ExecReload=: signal the program, then wait
until the reload is confirmed (reload.confirm, reading reload.metrics), so that
`systemctl reload` returns 0 only for a reload that happened (reload.run)."""
