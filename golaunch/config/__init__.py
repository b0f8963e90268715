"""What golaunch is asked to do: the configuration and the command line.

plain reads both without click or pydantic, as every start does (a TOML subset in
syntax.toml); rules judges what validates but cannot work; schema is the typed
configuration; commandline (click) and validate (pydantic) take the rest, and word
every error. file reads the TOML file for them.
"""

# --format: the report's forms, and the metrics' (--check --unit/--all-units only).
METRICS_FORMATS = ("prometheus", "openmetrics")
REPORT_FORMATS = ("text", "json", *METRICS_FORMATS)
