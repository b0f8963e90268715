"""Facts about the host, gathered once before the checks and only read by them.

The environment the program gets, the Go toolchain and caches, and the program
file itself (ELF, interpreter, libraries, Go build info).
"""
