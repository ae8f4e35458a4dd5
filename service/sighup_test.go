package service

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestReloadOnSIGHUP: every reloader runs on each SIGHUP, and a failing one
// is logged and does not stop the others.
func TestReloadOnSIGHUP(t *testing.T) {
	hup := make(chan os.Signal)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var logs strings.Builder
	calls := map[string]int{}
	count := func(name string, err error) func() error {
		return func() error { mu.Lock(); defer mu.Unlock(); calls[name]++; return err }
	}
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), nil))
	reloadOnSIGHUP(ctx, hup, logger, count("secrets", errors.New("unreadable")), count("certificate", nil))
	for range 2 {
		hup <- syscall.SIGHUP
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		done := calls["secrets"] == 2 && calls["certificate"] == 2 && strings.Count(logs.String(), "reload failed") == 2
		mu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			mu.Lock()
			t.Fatalf("after two SIGHUPs: calls %v, logs:\n%s", calls, logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
