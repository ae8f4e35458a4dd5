package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/sender"
)

// maxSizeBody returns a message_logged body of exactly n bytes: corpus
// file 01 whose utterance is padded to fill it, so that the decoder copies
// and keeps all of it (the worst case for memory).
func maxSizeBody(t *testing.T, n int) []byte {
	t.Helper()
	base, err := os.ReadFile("../../testdata/corpus/01-dialog-clear-intent-two-entities.json")
	if err != nil {
		t.Fatal(err)
	}
	const text = "Transfer from my checking account to savings"
	pad := n - len(base) + len(text)
	if !bytes.Contains(base, []byte(text)) || pad < len(text) {
		t.Fatal("corpus file 01 changed")
	}
	b := bytes.Replace(base, []byte(text), append([]byte(text), bytes.Repeat([]byte("."), pad-len(text))...), 1)
	if len(b) != n {
		t.Fatalf("body is %d bytes, want %d", len(b), n)
	}
	return b
}

// procStatus returns a field of /proc/<pid>/status in bytes (VmHWM, VmRSS).
func procStatus(t *testing.T, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// postSigned posts body with a fresh HS256 token, as Watson does, and
// returns the status and Retry-After.
func postSigned(ctx context.Context, client *http.Client, url string, body []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	token, err := sender.Sign([]byte(testSecret), time.Now())
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After"), nil
}

// memoryMargin is what the peak RSS may exceed --memory-limit by: the
// limit bounds the Go heap only, and the process also has its binary,
// stacks, the runtime's own structures and the spool's mapped pages, and
// the garbage collector frees what a request left only after it.
const memoryMargin = 32 << 20

// TestMemoryBoundedUnderLargeBodies: 96 clients send maximum-size signed
// bodies at once, again and again until 16 were accepted, to the real
// binary (built without -race) with a spool. The peak RSS stays under the memory limit plus
// memoryMargin, and every answer is 200 or 503 with Retry-After.
func TestMemoryBoundedUnderLargeBodies(t *testing.T) {
	if testing.Short() {
		t.Skip("sends GBs")
	}
	const (
		clients  = 96
		rounds   = 3
		maxBody  = 8 << 20
		memLimit = 64 << 20
	)
	svc := startService(t, cleanEnv(
		"ASSISTANT_OTEL_SECRET="+testSecret,
		"OTEL_TRACES_EXPORTER=none", "OTEL_LOGS_EXPORTER=none", "OTEL_METRICS_EXPORTER=none",
	), "--spool-dir", t.TempDir(), "--max-body-bytes", strconv.Itoa(maxBody), "--memory-limit", strconv.Itoa(memLimit))
	pid := svc.cmd.Process.Pid
	body := maxSizeBody(t, maxBody) // one buffer for every request
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxConnsPerHost: clients, MaxIdleConnsPerHost: clients}}
	var mu sync.Mutex
	counts := map[string]int{}
	var firstErr error
	// Each client sends until wantAccepted bodies were accepted in all, or
	// the deadline; after a 503 it waits a little (not the second
	// Retry-After asks, to keep the pressure on).
	const wantAccepted = 16
	deadline := time.Now().Add(90 * time.Second)
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				mu.Lock()
				done := counts["200 Retry-After="] >= wantAccepted
				mu.Unlock()
				if done {
					return
				}
				status, retryAfter, err := postSigned(t.Context(), client, svc.url, body)
				mu.Lock()
				switch {
				case err != nil:
					counts["error"]++
					if firstErr == nil {
						firstErr = err
					}
				case status == http.StatusServiceUnavailable && retryAfter != "":
					counts["503 with Retry-After"]++
				default:
					counts[strconv.Itoa(status)+" Retry-After="+retryAfter]++
				}
				mu.Unlock()
				if status != http.StatusOK {
					time.Sleep(50 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	hwm, rss := procStatus(t, pid, "VmHWM"), procStatus(t, pid, "VmRSS")
	anon, file := procStatus(t, pid, "RssAnon"), procStatus(t, pid, "RssFile")
	t.Logf("%d clients sending %d-byte signed bodies until %d were accepted, in %v: %v; peak RSS (VmHWM) %.1f MiB; RSS after %.1f MiB (anonymous %.1f, file %.1f); limit %d MiB + margin %d MiB",
		clients, maxBody, wantAccepted, took.Round(time.Millisecond), counts, float64(hwm)/(1<<20), float64(rss)/(1<<20), float64(anon)/(1<<20), float64(file)/(1<<20), memLimit>>20, memoryMargin>>20)
	for k, n := range counts {
		if k != "200 Retry-After=" && k != "503 with Retry-After" {
			t.Errorf("%d answers %q (first error: %v); want only 200 and 503 with Retry-After", n, k, firstErr)
		}
	}
	if counts["200 Retry-After="] < wantAccepted {
		t.Errorf("only %d bodies accepted within the deadline, want %d", counts["200 Retry-After="], wantAccepted)
	}
	if hwm > memLimit+memoryMargin {
		t.Errorf("peak RSS %d bytes is over the memory limit %d + margin %d", hwm, memLimit, memoryMargin)
	}
	select {
	case err := <-svc.done:
		t.Fatalf("the service exited under load: %v", err)
	default:
	}
	svc.stop(t)
}
