"""The inputs of a verdict: what the checks read from the host, recorded so that a warm
start can tell whether it is all still as it was (golaunch.launch.plan)."""
