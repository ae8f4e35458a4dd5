package main

// Durability tests (issue 4): the real binary with a spool, exporting to the
// real OpenTelemetry Collector in the shape of the shipped otel-collector.yaml
// (otlp receiver → memory_limiter → otlp exporter with retry and a persistent
// sending queue that batches behind it), which forwards to an in-process
// OTLP sink where every turn's log_id is counted. The Collector binary comes
// from ASSISTANT_OTEL_OTELCOL (scripts/tools.sh builds it; scripts/test.sh
// sets the variable). Without it the tests fail under CI and skip elsewhere.

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/internal/loadgen"
	"github.com/assistant-otel/assistant-otel/internal/otlptest"
	"github.com/assistant-otel/assistant-otel/spool"
)

// toolBinary returns the real program named by env (scripts/test.sh sets it
// from scripts/tools.sh). Without it the test skips, saying so; in CI it fails.
func toolBinary(t *testing.T, env, what, bin string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		msg := fmt.Sprintf("%s is not set: this test runs %s (build it with scripts/tools.sh and set %s=$(scripts/tools.sh --print-bin)/%s)",
			env, what, env, bin)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s: %v", env, err)
	}
	return p
}

func otelcolBinary(t *testing.T) string {
	t.Helper()
	return toolBinary(t, "ASSISTANT_OTEL_OTELCOL", "the real Collector", "otelcol-assistant")
}

// collector is a real Collector on a fixed loopback port, forwarding to a
// sink; it can be stopped and started again on the same port and queue.
type collector struct {
	bin, config string
	port        int
	cmd         *exec.Cmd
	done        chan error
	log         *syncBuffer
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

const collectorConfig = `
extensions:
  file_storage:
    directory: %[1]s
    create_directory: true
    fsync: true
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%[2]d
processors:
  memory_limiter:
    check_interval: 1s
    limit_percentage: 80
    spike_limit_percentage: 20
exporters:
  otlp_grpc/sink:
    endpoint: %[3]s
    tls:
      insecure: true
    retry_on_failure:
      enabled: true
      initial_interval: 100ms
      max_interval: 1s
      max_elapsed_time: 0s
    sending_queue:
      enabled: true
      storage: file_storage
      num_consumers: 2
      sizer: bytes
      queue_size: 1073741824
      batch:
        flush_timeout: 100ms
        sizer: bytes
        min_size: 1048576
        max_size: 3145728
service:
  extensions: [file_storage]
  telemetry:
    logs:
      level: warn
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter]
      exporters: [otlp_grpc/sink]
    logs:
      receivers: [otlp]
      processors: [memory_limiter]
      exporters: [otlp_grpc/sink]
    metrics:
      receivers: [otlp]
      processors: [memory_limiter]
      exporters: [otlp_grpc/sink]
`

// newCollector prepares (but does not start) a Collector forwarding to sink.
func newCollector(t *testing.T, sink *otlptest.Server) *collector {
	t.Helper()
	c := &collector{bin: otelcolBinary(t), port: freePort(t), log: &syncBuffer{}}
	dir := t.TempDir()
	c.config = filepath.Join(dir, "otelcol.yaml")
	cfg := fmt.Sprintf(collectorConfig, filepath.Join(dir, "storage"), c.port, strings.TrimPrefix(sink.Endpoint(), "http://"))
	if err := os.WriteFile(c.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c.cmd != nil {
			_ = c.cmd.Process.Kill()
			<-c.done
		}
		if t.Failed() {
			t.Logf("collector log:\n%s", c.log.String())
		}
	})
	return c
}

func (c *collector) endpoint() string { return fmt.Sprintf("http://127.0.0.1:%d", c.port) }

func (c *collector) start(t *testing.T) {
	t.Helper()
	c.cmd = exec.Command(c.bin, "--config", c.config)
	c.cmd.Stdout, c.cmd.Stderr = c.log, c.log
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c.done = make(chan error, 1)
	go func() { c.done <- c.cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", c.port), time.Second)
		if err == nil {
			conn.Close()
			return
		}
		select {
		case err := <-c.done:
			c.cmd = nil
			t.Fatalf("collector exited: %v\n%s", err, c.log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("collector not listening after 30s:\n%s", c.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop shuts the Collector down gracefully (SIGTERM).
func (c *collector) stop(t *testing.T) {
	t.Helper()
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		t.Fatal("collector did not stop within 30s")
	}
	c.cmd = nil
}

// rig is the topology: sink ← Collector ← assistant-otel (with a spool).
type rig struct {
	sink  *otlptest.Server
	col   *collector
	spool string
	tmpl  []loadgen.Template
}

func newRig(t *testing.T, startCollector bool) *rig {
	t.Helper()
	r := &rig{sink: otlptest.StartGRPC(t), spool: t.TempDir()}
	r.col = newCollector(t, r.sink)
	if startCollector {
		r.col.start(t)
	}
	var err error
	if r.tmpl, err = loadgen.LoadTemplates("../../testdata/corpus/*.json"); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) service(t *testing.T, args ...string) *process {
	t.Helper()
	env := cleanEnv(
		"ASSISTANT_OTEL_SECRET="+testSecret,
		"OTEL_EXPORTER_OTLP_ENDPOINT="+r.col.endpoint(),
		"OTEL_METRIC_EXPORT_INTERVAL=1000",
		"ASSISTANT_OTEL_LOG_LEVEL=info",
	)
	return startService(t, env, append([]string{"--spool-dir", r.spool}, args...)...)
}

// arrivals counts, per log_id, the turn spans and turn log records at the sink.
type arrivals struct {
	spans, logs map[string]int
}

func (r *rig) arrivals() arrivals {
	a := arrivals{spans: map[string]int{}, logs: map[string]int{}}
	for _, s := range r.sink.Spans() {
		if s.Attributes["gen_ai.operation.name"] == "invoke_agent" {
			id, _ := s.Attributes["gen_ai.response.id"].(string)
			a.spans[id]++
		}
	}
	for _, l := range r.sink.LogRecords() {
		if l.EventName == "watson_assistant.turn" {
			id, _ := l.Attributes["gen_ai.response.id"].(string)
			a.logs[id]++
		}
	}
	return a
}

// duplicates is the number of extra copies (spans and log records).
func (a arrivals) duplicates() (n int) {
	for _, c := range a.spans {
		n += c - 1
	}
	for _, c := range a.logs {
		n += c - 1
	}
	return n
}

// waitArrived waits until every acknowledged log_id arrived as a span and
// a log record; it returns the ids still missing.
func (r *rig) waitArrived(acked []string, timeout time.Duration) (arrivals, []string) {
	deadline := time.Now().Add(timeout)
	for {
		a := r.arrivals()
		var missing []string
		for _, id := range acked {
			if a.spans[id] == 0 || a.logs[id] == 0 {
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			return a, missing
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (r *rig) checkArrived(t *testing.T, acked []string, timeout time.Duration) arrivals {
	t.Helper()
	a, missing := r.waitArrived(acked, timeout)
	if len(missing) > 0 {
		t.Errorf("%d of %d acknowledged events never arrived (e.g. %s)", len(missing), len(acked), missing[0])
	}
	return a
}

// TestKill9UnderLoad: kill -9 in the middle of 2,000 concurrent events, then
// restart on the same spool: every acknowledged event arrives, once.
func TestKill9UnderLoad(t *testing.T) {
	r := newRig(t, true)
	svc := r.service(t)
	const n, killAt = 2000, 800
	events := loadgen.Make(r.tmpl, n)
	var acked atomic.Int32
	var once sync.Once
	res := loadgen.Run(t.Context(), loadgen.Config{
		URL: svc.url, Secret: []byte(testSecret), Events: events, Concurrency: 32,
		OnResult: func(_ loadgen.Event, status int, _ error) {
			if status == http.StatusOK && acked.Add(1) >= killAt {
				once.Do(func() { _ = svc.cmd.Process.Signal(syscall.SIGKILL) })
			}
		},
	})
	if err := <-svc.done; err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("service was not killed: %v", err)
	}
	before := r.arrivals()
	// Restart on the same spool; send some more.
	svc2 := r.service(t)
	more := loadgen.Make(r.tmpl, 200)
	res2 := loadgen.Run(t.Context(), loadgen.Config{URL: svc2.url, Secret: []byte(testSecret), Events: more, Concurrency: 16})
	all := append(append([]string(nil), res.Acked...), res2.Acked...)
	a := r.checkArrived(t, all, 60*time.Second)
	svc2.stop(t)
	unacked := len(a.spans) - len(all)
	t.Logf("kill -9 under load: sent %d (%d acked, %d failed at the kill) + %d after restart (%d acked); "+
		"arrived %d unique turns (%d of them never acknowledged: persisted but cut off before the answer), "+
		"%d before the restart; duplicates %d (spans+logs)",
		res.Sent, len(res.Acked), res.Failed+res.Refused, res2.Sent, len(res2.Acked),
		len(a.spans), unacked, len(before.spans), a.duplicates())
	if len(res.Acked) < killAt || len(res2.Acked) != len(more) {
		t.Errorf("acked %d before the kill (want ≥ %d), %d of %d after", len(res.Acked), killAt, len(res2.Acked), len(more))
	}
	if d := a.duplicates(); d > 2*512 {
		t.Errorf("%d duplicates: more than the batch in flight at the kill", d)
	}
	if !strings.Contains(svc2.stderr.String(), "events_to_replay") {
		t.Error("restart did not report the spool it replays")
	}
	// Spans sent before the kill and re-sent after it carry one resource: the service.instance.id
	// kept in the spool directory.
	kept, err := os.ReadFile(filepath.Join(r.spool, "instance-id"))
	if err != nil {
		t.Fatal(err)
	}
	resources := map[any]int{}
	for _, s := range r.sink.Spans() {
		resources[s.Resource["service.instance.id"]]++
	}
	if len(resources) != 1 || resources[strings.TrimSpace(string(kept))] == 0 {
		t.Errorf("spans by service.instance.id: %v, want all with the kept %s", resources, kept)
	}
}

// TestCollectorDownUnderLoad: the Collector stops for a while during a
// steady load and comes back: every acknowledged event arrives, /readyz says
// degraded meanwhile, and the retries are counted.
func TestCollectorDownUnderLoad(t *testing.T) {
	r := newRig(t, true)
	svc := r.service(t)
	events := loadgen.Make(r.tmpl, 1500)
	// The Collector stops once 250 events are acknowledged and comes back
	// once /readyz said degraded and 250 more were acknowledged meanwhile
	// (or the load ended).
	var acked atomic.Int32
	results := make(chan *loadgen.Result, 1)
	go func() {
		results <- loadgen.Run(t.Context(), loadgen.Config{URL: svc.url, Secret: []byte(testSecret), Events: events, Concurrency: 16, Rate: 250,
			OnResult: func(_ loadgen.Event, status int, _ error) {
				if status == http.StatusOK {
					acked.Add(1)
				}
			}})
	}()
	if !eventually(60*time.Second, func() bool { return acked.Load() >= 250 }) {
		t.Fatal("250 events not acknowledged within 60s")
	}
	r.col.stop(t)
	if !waitDegraded(strings.Replace(svc.url, "/webhook", "/readyz", 1), 30*time.Second) {
		t.Error("/readyz never reported degraded while the Collector was down")
	}
	downAt := acked.Load()
	eventually(60*time.Second, func() bool { return acked.Load() >= downAt+250 || len(results) > 0 })
	r.col.start(t)
	res := <-results
	a := r.checkArrived(t, res.Acked, 60*time.Second)
	// The export retries show in the service's own metrics.
	eventually(15*time.Second, func() bool { return r.sink.CounterSum("assistant_otel.export.retries") > 0 })
	retries := r.sink.CounterSum("assistant_otel.export.retries")
	svc.stop(t)
	t.Logf("collector down under 250 events/s until degraded and 250 more acknowledged: sent %d, acked %d, refused %d, failed %d; arrived %d unique, duplicates %d; export retries %v; p99 ack %v",
		res.Sent, len(res.Acked), res.Refused, res.Failed, len(a.spans), a.duplicates(), retries, res.Percentile(0.99))
	if len(res.Acked) != len(events) {
		t.Errorf("only %d of %d events acknowledged while the spool had room", len(res.Acked), len(events))
	}
	if retries == 0 {
		t.Error("assistant_otel.export.retries stayed 0")
	}
}

// waitDegraded polls /readyz until it answers 200 "degraded" (true) or the
// timeout passes (false).
func waitDegraded(url string, timeout time.Duration) bool {
	return eventually(timeout, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK && strings.Contains(string(b), `"degraded"`)
	})
}

// TestSIGTERMUnderLoad: SIGTERM in the middle of a load: the service
// drains (every request answered, every queued event exported) and exits
// cleanly before its drain deadline; with the Collector down it stops at the
// deadline instead, and what it could not export waits in the spool for the
// next start. Every acknowledged event arrives. The durations checked are
// the service's own (its "stopped cleanly took=" from the signal to the
// end of the flush), not the test's wall clock around a process start and
// exit.
func TestSIGTERMUnderLoad(t *testing.T) {
	r := newRig(t, true)
	// Long enough that a drain on a busy machine finishes well before it:
	// reaching it would mean the drain did not end when the queue was empty.
	const drain = 20 * time.Second
	svc := r.service(t, "--drain-timeout", drain.String())
	events := loadgen.Make(r.tmpl, 2000)
	var acked atomic.Int32
	var once sync.Once
	res := loadgen.Run(t.Context(), loadgen.Config{
		URL: svc.url, Secret: []byte(testSecret), Events: events, Concurrency: 32,
		OnResult: func(_ loadgen.Event, status int, _ error) {
			if status == http.StatusOK && acked.Add(1) >= 700 {
				once.Do(func() { _ = svc.cmd.Process.Signal(syscall.SIGTERM) })
			}
		},
	})
	took := waitStopped(t, svc, drain)
	left := leftInSpool(svc.stderr.String())
	// Drained: nothing left, and done before the deadline's pump part
	// (drain minus the 2 s kept for the final flush).
	if left != 0 || took >= drain-2*time.Second {
		t.Errorf("Collector up: %d events left in the spool, stopped after %v: the drain did not finish before its deadline %v", left, took, drain)
	}
	// All handed to the Collector before the exit: they arrive without a restart.
	before := r.checkArrived(t, res.Acked, 60*time.Second)
	t.Logf("SIGTERM under load: sent %d, acked %d, refused/failed after SIGTERM %d; drained in %v (drain timeout %v); "+
		"arrived without a restart %d unique; duplicates %d",
		res.Sent, len(res.Acked), res.Refused+res.Failed, took, drain, len(before.spans), before.duplicates())

	// The same with the Collector down: the drain cannot finish, the
	// service stops at the deadline, and the events wait in the spool for
	// the next start.
	const shortDrain = 3 * time.Second
	r.col.stop(t)
	svc3 := r.service(t, "--drain-timeout", shortDrain.String())
	res3 := loadgen.Run(t.Context(), loadgen.Config{URL: svc3.url, Secret: []byte(testSecret), Events: loadgen.Make(r.tmpl, 300), Concurrency: 16})
	_ = svc3.cmd.Process.Signal(syscall.SIGTERM)
	took = waitStopped(t, svc3, shortDrain)
	left = leftInSpool(svc3.stderr.String())
	// The pump part of the deadline is the drain minus a quarter (at most
	// 2 s) kept for the flush; the flush ends at the deadline.
	if pumpPart := shortDrain - shortDrain/4; took < pumpPart || left != len(res3.Acked) {
		t.Errorf("Collector down: stopped after %v (drain %v: not before %v), %d left in the spool, %d acked", took, shortDrain, pumpPart, left, len(res3.Acked))
	}
	r.col.start(t)
	svc4 := r.service(t)
	a := r.checkArrived(t, append(append([]string(nil), res.Acked...), res3.Acked...), 60*time.Second)
	svc4.stop(t)
	t.Logf("SIGTERM with the Collector down: acked %d, stopped %v after SIGTERM, left in spool %d, all arrived after restart: %d unique, duplicates %d",
		len(res3.Acked), took, left, len(a.spans), a.duplicates())
}

// waitStopped waits for the service to exit after SIGTERM and returns how
// long its shutdown took by its own log ("stopped cleanly took="). The exit
// must be clean, and the shutdown within drain (its deadline) plus a
// second for the flush to return.
func waitStopped(t *testing.T, svc *process, drain time.Duration) time.Duration {
	t.Helper()
	select {
	case err := <-svc.done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(drain + 30*time.Second):
		t.Fatal("service did not exit after SIGTERM")
	}
	m := regexp.MustCompile(`msg="stopped cleanly" took=(\S+)`).FindStringSubmatch(svc.stderr.String())
	if m == nil {
		t.Fatal(`no "stopped cleanly" in the log`)
	}
	took, err := time.ParseDuration(m[1])
	if err != nil {
		t.Fatal(err)
	}
	if took > drain+time.Second {
		t.Errorf("shutdown took %v, drain timeout %v", took, drain)
	}
	return took
}

// leftInSpool reads the number of events the service said it left in the
// spool at exit.
func leftInSpool(log string) int {
	i := strings.Index(log, "events left in the spool")
	if i < 0 {
		return 0
	}
	rest := log[i:]
	j := strings.Index(rest, " events=")
	if j < 0 {
		return -1
	}
	rest = rest[j+len(" events="):]
	if k := strings.IndexByte(rest, ' '); k >= 0 {
		rest = rest[:k]
	}
	n, err := strconv.Atoi(rest)
	if err != nil {
		return -1
	}
	return n
}

// TestSpoolFull: with the Collector down a small spool fills up: 503 with
// Retry-After, nothing acknowledged is lost, and once the Collector is back
// and the spool drains, events are accepted again.
func TestSpoolFull(t *testing.T) {
	r := newRig(t, false)
	svc := r.service(t, "--spool-max-bytes", strconv.Itoa(1<<20), "--max-body-bytes", strconv.Itoa(256<<10))
	events := loadgen.Make(r.tmpl, 400) // about 3 MiB of bodies
	res := loadgen.Run(t.Context(), loadgen.Config{URL: svc.url, Secret: []byte(testSecret), Events: events, Concurrency: 8})
	if res.Refused == 0 || res.RetryAfter == "" {
		t.Fatalf("spool never full: acked %d, refused %d, Retry-After %q", len(res.Acked), res.Refused, res.RetryAfter)
	}
	r.col.start(t)
	a := r.checkArrived(t, res.Acked, 60*time.Second)
	// Recovery: room again.
	more := loadgen.Make(r.tmpl, 100)
	var res2 *loadgen.Result
	deadline := time.Now().Add(30 * time.Second)
	for {
		res2 = loadgen.Run(t.Context(), loadgen.Config{URL: svc.url, Secret: []byte(testSecret), Events: more, Concurrency: 4})
		if len(res2.Acked) == len(more) || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
		more = loadgen.Make(r.tmpl, 100)
	}
	a2 := r.checkArrived(t, res2.Acked, 60*time.Second)
	svc.stop(t)
	t.Logf("spool full (1 MiB, Collector down): sent %d, acked %d, refused %d with Retry-After %q, failed %d; "+
		"after the Collector came back: %d of %d acked; arrived %d unique, duplicates %d",
		res.Sent, len(res.Acked), res.Refused, res.RetryAfter, res.Failed, len(res2.Acked), len(more), len(a2.spans), a.duplicates()+a2.duplicates())
	if len(res2.Acked) != len(more) {
		t.Errorf("after recovery only %d of %d acknowledged", len(res2.Acked), len(more))
	}
}

// fillSpool acknowledges n events into the rig's spool while nothing can
// export them, then stops the service (they stay in the spool).
func fillSpool(t *testing.T, r *rig, n int) []loadgen.Event {
	t.Helper()
	svc := r.service(t, "--drain-timeout", "1s")
	events := loadgen.Make(r.tmpl, n)
	res := loadgen.Run(t.Context(), loadgen.Config{URL: svc.url, Secret: []byte(testSecret), Events: events, Concurrency: 4})
	if len(res.Acked) != n {
		t.Fatalf("acked %d of %d", len(res.Acked), n)
	}
	svc.stop(t)
	return events
}

// TestCorruptSpool: damaged spools never stop the service: a garbage file
// is moved aside, a damaged record is quarantined and counted while the
// others are exported, a truncated file is salvaged.
func TestCorruptSpool(t *testing.T) {
	t.Run("garbage file", func(t *testing.T) {
		r := newRig(t, true)
		garbage := make([]byte, 256<<10)
		for i := range garbage {
			garbage[i] = byte(i*7 + i/13)
		}
		if err := os.WriteFile(filepath.Join(r.spool, spool.FileName), garbage, 0o600); err != nil {
			t.Fatal(err)
		}
		svc := r.service(t)
		ev := loadgen.Make(r.tmpl, 5)
		res := loadgen.Run(t.Context(), loadgen.Config{URL: svc.url, Secret: []byte(testSecret), Events: ev})
		r.checkArrived(t, res.Acked, 30*time.Second)
		svc.stop(t)
		aside, _ := filepath.Glob(filepath.Join(r.spool, spool.FileName+".corrupt-*"))
		if len(aside) != 1 || !strings.Contains(svc.stderr.String(), "SPOOL DATABASE DAMAGED") || len(res.Acked) != 5 {
			t.Errorf("moved aside %v, acked %d; log:\n%s", aside, len(res.Acked), svc.stderr.String())
		}
		t.Logf("garbage file: moved aside to %s, new spool took %d/5 events", filepath.Base(aside[0]), len(res.Acked))
	})
	t.Run("damaged record", func(t *testing.T) {
		r := newRig(t, false)
		events := fillSpool(t, r, 20)
		path := filepath.Join(r.spool, spool.FileName)
		raw, _ := os.ReadFile(path)
		victim := events[7].LogID
		flipped := 0
		for off := 0; ; {
			i := strings.Index(string(raw[off:]), victim)
			if i < 0 {
				break
			}
			raw[off+i+5] ^= 0x01
			off += i + 1
			flipped++
		}
		if flipped == 0 {
			t.Fatal("event not found in the spool file")
		}
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		r.col.start(t)
		svc := r.service(t)
		var good []string
		for i, e := range events {
			if i != 7 {
				good = append(good, e.LogID)
			}
		}
		a := r.checkArrived(t, good, 30*time.Second)
		eventually(15*time.Second, func() bool { return r.sink.CounterSum("assistant_otel.spool.quarantined") > 0 })
		svc.stop(t)
		q := r.sink.CounterSum("assistant_otel.spool.quarantined")
		if q != 1 || !strings.Contains(svc.stderr.String(), "record quarantined") {
			t.Errorf("quarantined metric %v, log:\n%s", q, svc.stderr.String())
		}
		t.Logf("damaged record: 20 spooled, 1 damaged on disk; exported %d, quarantined %v", len(a.spans), q)
	})
	t.Run("truncated file", func(t *testing.T) {
		r := newRig(t, false)
		events := fillSpool(t, r, 50)
		path := filepath.Join(r.spool, spool.FileName)
		info, _ := os.Stat(path)
		if err := os.Truncate(path, info.Size()/2); err != nil {
			t.Fatal(err)
		}
		r.col.start(t)
		svc := r.service(t)
		// The service says how many records it salvaged; those, and the
		// five new events, are exported, and nothing else (the salvage
		// invents nothing). How many it salvages depends on where bbolt
		// put the pages (0 to about 30 here, varying from run to run);
		// spool's TestTruncatedFile checks which ones on a fixed layout.
		m := regexp.MustCompile(`records_salvaged=(\d+)`).FindStringSubmatch(svc.stderr.String())
		if m == nil {
			t.Fatalf("no records_salvaged in the log:\n%s", svc.stderr.String())
		}
		salvaged, _ := strconv.Atoi(m[1])
		ev := loadgen.Make(r.tmpl, 5)
		res := loadgen.Run(t.Context(), loadgen.Config{URL: svc.url, Secret: []byte(testSecret), Events: ev})
		spooled := map[string]bool{}
		for _, e := range events {
			spooled[e.LogID] = true
		}
		recovered := func(a arrivals) (n int) {
			for id := range a.spans {
				if spooled[id] {
					n++
				}
			}
			return n
		}
		r.checkArrived(t, res.Acked, 30*time.Second)
		eventually(30*time.Second, func() bool { return recovered(r.arrivals()) >= salvaged })
		svc.stop(t)
		a := r.arrivals()
		if len(res.Acked) != 5 {
			t.Errorf("service unusable after recovery: %d/5 acked", len(res.Acked))
		}
		if got := recovered(a); got != salvaged || len(a.spans) != salvaged+len(res.Acked) {
			t.Errorf("%d records salvaged, %d of the spooled events exported, %d turns in all (want the salvaged and the %d new ones)",
				salvaged, got, len(a.spans), len(res.Acked))
		}
		t.Logf("truncated file (%d → %d bytes): service up, %d of 50 spooled events salvaged and exported", info.Size(), info.Size()/2, salvaged)
	})
}

// TestDedupeRedelivery: redelivered events (same log_id), sequential and
// concurrent, and again after a restart, are acknowledged but neither
// exported twice nor counted twice.
func TestDedupeRedelivery(t *testing.T) {
	r := newRig(t, true)
	svc := r.service(t)
	events := loadgen.Make(r.tmpl, 50)
	first := loadgen.Run(t.Context(), loadgen.Config{URL: svc.url, Secret: []byte(testSecret), Events: events, Concurrency: 8})
	// Each event twice more, concurrently.
	twice := append(append([]loadgen.Event(nil), events...), events...)
	again := loadgen.Run(t.Context(), loadgen.Config{URL: svc.url, Secret: []byte(testSecret), Events: twice, Concurrency: 16})
	r.checkArrived(t, first.Acked, 30*time.Second)
	svc.stop(t)
	svc2 := r.service(t)
	after := loadgen.Run(t.Context(), loadgen.Config{URL: svc2.url, Secret: []byte(testSecret), Events: events, Concurrency: 8})
	// The restarted service counts all 50 as duplicates, i.e. it did not
	// queue them. It keeps the first one's service.instance.id, so its
	// cumulative count (50) replaces the first one's (100) at the sink.
	const duplicates = "assistant_otel.spool.duplicates"
	eventually(30*time.Second, func() bool { return r.sink.CounterSum(duplicates) == 50 })
	if d := r.sink.CounterSum(duplicates); d != 50 {
		t.Errorf("%s = %v after the restart, want 50", duplicates, d)
	}
	svc2.stop(t) // the drain exports whatever it queued
	a := r.arrivals()
	turns := r.sink.CounterSum("watson_assistant.turns")
	if len(first.Acked) != 50 || len(again.Acked) != 100 || len(after.Acked) != 50 {
		t.Errorf("acked %d, %d, %d: redeliveries must be acknowledged", len(first.Acked), len(again.Acked), len(after.Acked))
	}
	if len(a.spans) != 50 || a.duplicates() != 0 {
		t.Errorf("%d unique turns, %d duplicates; want 50 and 0", len(a.spans), a.duplicates())
	}
	if turns != 50 {
		t.Errorf("watson_assistant.turns = %v, want 50", turns)
	}
	t.Logf("dedupe: 50 events delivered 1 + 2 (concurrent) times, then again after a restart: 200 acked, %d turns exported, %d duplicates, watson_assistant.turns = %v",
		len(a.spans), a.duplicates(), turns)
}
