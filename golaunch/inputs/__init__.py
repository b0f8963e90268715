"""The inputs of a verdict: what the checks read from the host, recorded so that a warm
start can tell whether it is all still as it was (inputs.recorder records, inputs.trace
says what each call saw and asks it again, for golaunch.launch.plan);
the digest plans use (inputs.digest); and the facts whose source changes by the
moment while the answer does not (inputs.volatile: CPU flags, a cgroup's limit,
free space), recorded as answers."""
