module example.com/golaunch/server

go 1.19
