// A small HTTP server for golaunch's demo and system tests.
//
// It serves on the socket systemd passes (LISTEN_FDS, fd 3) or on -listen,
// and answers /pid, /env and /health. With -notify it sends READY=1 itself
// (for golaunch's passthrough mode) and pings the watchdog when asked to.
// -delay makes it start listening late, as a server opening a database would;
// -unhealthy-while makes /health answer 503 while a file exists.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address to serve on when no socket is passed")
	notify := flag.Bool("notify", false, "send READY=1 and watchdog pings to NOTIFY_SOCKET")
	delay := flag.Duration("delay", 0, "wait this long before listening")
	unhealthy := flag.String("unhealthy-while", "", "answer /health with 503 while this file exists")
	flag.Parse()
	time.Sleep(*delay)

	listener, err := socketListener(*listen)
	if err != nil {
		log.Fatalf("listen: %v", err)
	}
	fmt.Printf("server: pid %d serving on %s\n", os.Getpid(), listener.Addr())

	http.HandleFunc("/pid", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%d\n", os.Getpid())
	})
	http.HandleFunc("/env", func(w http.ResponseWriter, r *http.Request) {
		env := os.Environ()
		sort.Strings(env)
		fmt.Fprintln(w, strings.Join(env, "\n"))
	})
	http.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		if _, err := os.Stat(*unhealthy); *unhealthy != "" && err == nil {
			http.Error(w, "not yet", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	if *notify {
		sdNotify("READY=1\nSTATUS=server: serving")
		go watchdog()
	}
	log.Fatal(http.Serve(listener, nil))
}

// socketListener uses fd 3 when systemd's socket activation passed it to us.
func socketListener(addr string) (net.Listener, error) {
	if os.Getenv("LISTEN_PID") == strconv.Itoa(os.Getpid()) && os.Getenv("LISTEN_FDS") == "1" {
		return net.FileListener(os.NewFile(3, "systemd-socket"))
	}
	return net.Listen("tcp", addr)
}

func sdNotify(state string) {
	addr := os.Getenv("NOTIFY_SOCKET")
	if addr == "" {
		return
	}
	if addr[0] == '@' {
		addr = "\x00" + addr[1:]
	}
	conn, err := net.Dial("unixgram", addr)
	if err != nil {
		log.Printf("notify: %v", err)
		return
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		log.Printf("notify: %v", err)
	}
}

func watchdog() {
	usec, err := strconv.Atoi(os.Getenv("WATCHDOG_USEC"))
	if err != nil || usec <= 0 {
		return
	}
	for range time.Tick(time.Duration(usec) * time.Microsecond / 3) {
		sdNotify("WATCHDOG=1")
	}
}
