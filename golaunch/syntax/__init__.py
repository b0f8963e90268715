"""What values look like, and how text is shown: pure functions every layer shares.

Go versions and constraints (syntax.goversion), probe URLs (syntax.probeurl),
environment variable names (syntax.envname), PIDs as libsystemd reads them
(syntax.pid), a TOML subset (syntax.toml), and the escaping every output applies
(syntax.printable). Nothing here imports the rest of golaunch.
"""

# systemd's WHITESPACE (src/basic/string-util.h): what its parsers of unit settings,
# environment files and numbers skip or split at.
WHITESPACE = " \t\n\r"
