module example.com/golaunch/noop

go 1.19
