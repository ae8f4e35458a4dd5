package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/internal/loadgen"
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
// returns the status and Retry-After. With expect, it sends Expect:
// 100-continue (as curl does for bodies over 1 MiB): the body goes out only
// once the server starts reading it.
func postSigned(ctx context.Context, client *http.Client, url string, body []byte, expect bool) (int, string, error) {
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
	if expect {
		req.Header.Set("Expect", "100-continue")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After"), nil
}

// memoryMargin is what the peak RSS may exceed --memory-limit by. The
// limit bounds the Go heap only, which GOGC=200 lets grow up to it (about
// 60 MiB anonymous memory measured after the run); the binary's pages and
// the spool's mapped pages come on top (about 26 MiB file-backed), and a
// little for stacks and the runtime. Measured peaks: 89–96 MiB without the
// /metrics endpoint, 97–105 MiB with it (on by default: its second metric
// reader and the runtime and process collectors). With two maximum bodies
// allowed in flight instead of one (--max-inflight-bytes 16 MiB) the peak
// was 128 MiB, with four 144 MiB: over limit + margin.
const memoryMargin = 48 << 20

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
	idle := procStatus(t, pid, "VmRSS")
	body := maxSizeBody(t, maxBody) // one buffer for every request
	// The server answers a refused body at once, without reading it, and
	// then closes the connection. A client still writing the body may see
	// the close before it reads the 503 (Go's transport then returns the
	// write error): under the race detector's slowdown that happened to 20
	// of 1,584 calls. So the clients send Expect: 100-continue, and a
	// refused body is never sent.
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		MaxConnsPerHost: clients, MaxIdleConnsPerHost: clients, ExpectContinueTimeout: 30 * time.Second}}
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
				status, retryAfter, err := postSigned(t.Context(), client, svc.url, body, true)
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
	t.Logf("%d clients sending %d-byte signed bodies until %d were accepted, in %v: %v; RSS at start %.1f MiB, peak (VmHWM) %.1f MiB, after %.1f MiB (anonymous %.1f, file %.1f); limit %d MiB + margin %d MiB",
		clients, maxBody, wantAccepted, took.Round(time.Millisecond), counts, float64(idle)/(1<<20), float64(hwm)/(1<<20), float64(rss)/(1<<20), float64(anon)/(1<<20), float64(file)/(1<<20), memLimit>>20, memoryMargin>>20)
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

// getReadyz returns /readyz's status and body.
func getReadyz(t *testing.T, webhookURL string) (int, string) {
	t.Helper()
	resp, err := http.Get(strings.TrimSuffix(webhookURL, "/webhook") + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestSpoolRemovedWhileRunning: 50 events are acknowledged while the
// export fails (they stay in the spool), then the spool directory is
// deleted. Every later call gets 503 with Retry-After, /readyz answers 503
// (although the export is degraded, which alone is still ready), one error
// is logged, and at SIGTERM the 50 events are reported lost, never "left
// in the spool", with a non-zero exit.
func TestSpoolRemovedWhileRunning(t *testing.T) {
	tmpl, err := loadgen.LoadTemplates("../../testdata/corpus/*.json")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "spool")
	svc := startService(t, cleanEnv(
		"ASSISTANT_OTEL_SECRET="+testSecret,
		fmt.Sprintf("OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%d", freePort(t)), // nothing listens: exports fail
		"OTEL_METRICS_EXPORTER=none",
	), "--spool-dir", dir, "--drain-timeout", "2s")
	res := loadgen.Run(t.Context(), loadgen.Config{URL: svc.url, Secret: []byte(testSecret), Events: loadgen.Make(tmpl, 50), Concurrency: 4})
	if len(res.Acked) != 50 {
		t.Fatalf("before the removal: acked %d of 50 (%v)", len(res.Acked), res.Statuses)
	}
	if status, body := getReadyz(t, svc.url); status != http.StatusOK {
		t.Fatalf("/readyz before the removal: %d %s", status, body)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	after := loadgen.Run(t.Context(), loadgen.Config{URL: svc.url, Secret: []byte(testSecret), Events: loadgen.Make(tmpl, 30), Concurrency: 4})
	if len(after.Acked) != 0 || after.Refused != 30 || after.RetryAfter == "" {
		t.Errorf("after the removal: acked %d, refused %d (Retry-After %q), statuses %v; want all 30 refused with Retry-After",
			len(after.Acked), after.Refused, after.RetryAfter, after.Statuses)
	}
	status, body := getReadyz(t, svc.url)
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "not ready") || !strings.Contains(body, "removed") {
		t.Errorf("/readyz after the removal: %d %s; want 503 not ready naming the removal", status, body)
	}
	if err := svc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-svc.done:
		if err == nil {
			t.Error("exit status 0 after losing the spool; want non-zero")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit within 30s of SIGTERM")
	}
	logs := svc.stderr.String()
	if n := strings.Count(logs, "SPOOL GONE"); n != 1 {
		t.Errorf("the removal was logged %d times, want once", n)
	}
	if n := strings.Count(logs, `level=ERROR msg="webhook`); n > 0 {
		t.Errorf("%d refused calls were logged as errors, want the removal logged once only", n)
	}
	if strings.Contains(logs, "left in the spool") {
		t.Error("the shutdown log claims events were left in the spool, which is gone")
	}
	if !strings.Contains(logs, "events LOST") || !strings.Contains(logs, "events=50") {
		t.Error("the shutdown log does not report the 50 events as lost")
	}
	if t.Failed() {
		t.Logf("service log:\n%s", logs)
	}
}
