package pprofserver

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/internal/retry"
)

func TestLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:6060": true, "localhost:6060": true, "[::1]:6060": true, "127.1.2.3:1": true,
		":6060": false, "0.0.0.0:6060": false, "[::]:6060": false, "10.0.0.1:6060": false, "bad": false,
	} {
		if got := Loopback(addr); got != want {
			t.Errorf("Loopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestServe(t *testing.T) {
	if err := Serve(context.Background(), "", nil); err != nil {
		t.Fatalf("empty address: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, addr, nil) }()
	// Serve listens in its goroutine: ask until it answers.
	waitCtx, stop := context.WithTimeout(ctx, 10*time.Second)
	defer stop()
	var resp *http.Response
	err = retry.Do(waitCtx, retry.Policy{Min: 10 * time.Millisecond, Max: 100 * time.Millisecond}, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/debug/pprof/heap?debug=1", nil)
		if err != nil {
			return retry.Permanent(err)
		}
		resp, err = http.DefaultClient.Do(req)
		return err
	})
	if err != nil {
		t.Fatalf("the pprof server did not answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve after cancel: %v", err)
	}
}
