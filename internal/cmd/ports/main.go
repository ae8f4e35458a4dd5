// Command ports is the test scripts' helper for loopback ports, so that no
// script depends on a fixed port being free:
//
//	ports free N           prints N distinct free TCP ports on 127.0.0.1, one per line
//	ports hold PORT...     keeps the given ports on 127.0.0.1 busy until stdin
//	                       closes or it gets SIGTERM/SIGINT
//
// hold stands in for the programs a developer usually runs locally (a
// Collector on 4317/4318, Prometheus on 9090, Jaeger on 16686, ...), so that
// the test command can prove it passes beside them. Each held port answers
// every connection as a decoy HTTP server ("503 port held by the test"), so a
// script that still talks to a fixed port gets a wrong answer instead of a
// hang. A port some other program already uses is reported and left alone.
// It prints "holding N port(s)" once every free port is bound.
//
// Imports: it imports no package of this module.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `usage: ports free N | ports hold PORT...`

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) < 1 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	switch args[0] {
	case "free":
		if len(args) != 2 {
			fmt.Fprintln(stderr, usage)
			return 2
		}
		n, err := strconv.Atoi(args[1])
		if err != nil || n < 1 || n > 1000 {
			fmt.Fprintf(stderr, "ports free: %q is not a count from 1 to 1000\n", args[1])
			return 2
		}
		ports, err := free(n)
		if err != nil {
			fmt.Fprintln(stderr, "ports free:", err)
			return 1
		}
		for _, p := range ports {
			fmt.Fprintln(stdout, p)
		}
		return 0
	case "hold":
		var ports []int
		for _, a := range args[1:] {
			p, err := strconv.Atoi(a)
			if err != nil || p < 1 || p > 65535 {
				fmt.Fprintf(stderr, "ports hold: %q is not a port (1-65535)\n", a)
				return 2
			}
			ports = append(ports, p)
		}
		if len(ports) == 0 {
			fmt.Fprintln(stderr, usage)
			return 2
		}
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
		defer stop()
		ctx, cancel := context.WithCancel(ctx)
		go func() { // stdin closing (the parent script ended) releases the ports too
			_, _ = io.Copy(io.Discard, stdin)
			cancel()
		}()
		if err := hold(ctx, ports, stdout); err != nil {
			fmt.Fprintln(stderr, "ports hold:", err)
			return 1
		}
		return 0
	default:
		fmt.Fprintln(stderr, usage)
		return 2
	}
}

// free binds n listeners on 127.0.0.1:0 at once (so the ports are distinct)
// and returns their ports after closing them.
func free(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("binding 127.0.0.1:0: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// hold binds every port it can on 127.0.0.1, serves decoy answers on them
// until ctx ends, and reports which ports were already in use.
func hold(ctx context.Context, ports []int, out io.Writer) error {
	decoy := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "port held by the test (ports hold): nothing real listens here", http.StatusServiceUnavailable)
	})
	var servers []*http.Server
	held := 0
	for _, p := range ports {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
		l, err := net.Listen("tcp", addr)
		if err != nil {
			if errors.Is(err, syscall.EADDRINUSE) {
				fmt.Fprintf(out, "port %d: already in use by another program (left as it is)\n", p)
				continue
			}
			return fmt.Errorf("binding %s: %w", addr, err)
		}
		srv := &http.Server{Handler: decoy, ReadHeaderTimeout: 5 * time.Second}
		servers = append(servers, srv)
		go func() { _ = srv.Serve(l) }()
		held++
	}
	fmt.Fprintf(out, "holding %d port(s)\n", held)
	<-ctx.Done()
	for _, s := range servers {
		_ = s.Close()
	}
	return nil
}
