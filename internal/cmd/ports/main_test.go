package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestFreeGivesDistinctBindablePorts(t *testing.T) {
	ports, err := free(20)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if seen[p] {
			t.Fatalf("port %d given twice: %v", p, ports)
		}
		seen[p] = true
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			t.Fatalf("port %d was given as free but cannot be bound: %v", p, err)
		}
		l.Close()
	}
}

func TestHoldKeepsPortsBusyAndReportsTakenOnes(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenPort := taken.Addr().(*net.TCPAddr).Port
	ports, err := free(2)
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- hold(ctx, append(ports, takenPort), pw); pw.Close() }()
	lines := bufio.NewScanner(pr)
	var out []string
	for lines.Scan() {
		out = append(out, lines.Text())
		if strings.HasPrefix(lines.Text(), "holding ") {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if got := strings.Join(out, "\n"); !strings.Contains(got, "holding 2 port(s)") ||
		!strings.Contains(got, "port "+strconv.Itoa(takenPort)+": already in use") {
		t.Fatalf("hold said:\n%s", got)
	}
	for _, p := range ports {
		if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p)); err == nil {
			l.Close()
			t.Fatalf("port %d is not held", p)
		}
		c := http.Client{Timeout: 5 * time.Second}
		resp, err := c.Get("http://127.0.0.1:" + strconv.Itoa(p) + "/ready")
		if err != nil {
			t.Fatalf("decoy on %d: %v", p, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("decoy on %d answered %d, want 503 (a script must never take it for a ready server)", p, resp.StatusCode)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("hold did not return after its context ended")
	}
	for _, p := range ports { // released
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			t.Fatalf("port %d still busy after hold returned: %v", p, err)
		}
		l.Close()
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{nil, {"free"}, {"free", "x"}, {"free", "0"}, {"hold"}, {"hold", "70000"}, {"what"}} {
		var out, errb strings.Builder
		if code := run(args, strings.NewReader(""), &out, &errb); code != 2 {
			t.Errorf("run(%q) = %d, want 2 (stderr %q)", args, code, errb.String())
		}
	}
}
