"""Facts about the host, and what a start computes from them.

execution: what every start, warm or full, computes afresh: the program, its argv
and its environment (environment: what is passed on; toolchain: GOROOT; godirs:
GOCACHE and GOMODCACHE; goruntime and cgroups: GOMEMLIMIT and GOMAXPROCS from the
cgroup's limits; surroundings: a unit, a container or a shell). context: what a full
start gathers once for the checks beside it (program: the program file, ELF,
libraries, Go build info; credentials; listeners: the sockets systemd passed;
permissions: who else can write a path). The checks read these, and examine the
files they judge themselves, through os: on a start that keeps a plan, the recorder
(golaunch.inputs.recorder) sees every such read.
"""
