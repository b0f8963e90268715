"""What values look like, and how text is shown: pure functions every layer shares.

Go versions and constraints (syntax.goversion), probe URLs (syntax.probeurl),
environment variable names (syntax.envname), and the escaping every output
applies (syntax.printable). Nothing here imports the rest of golaunch.
"""
