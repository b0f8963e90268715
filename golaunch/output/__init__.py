"""What golaunch writes for people and tools: the --check report as text or JSON
(output.report), the unit checks' metrics (output.metrics), and files written
atomically (output.atomic)."""
