package main

// Export that never stalls (issue 12): requests under the size limit, one
// event refused for its content set aside in the dead-letter store and
// retried by `dead-letters retry`, a misconfigured endpoint that keeps the
// events queued. Against internal/otlptest here; against the real Collector
// with its default limits in export_collector_test.go.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/deadletter"
	"github.com/assistant-otel/assistant-otel/internal/loadgen"
	"github.com/assistant-otel/assistant-otel/internal/otlptest"
)

// eventually polls cond until it holds (true) or the timeout passes.
func eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// turnIDs counts the turn spans and turn log records per log_id.
func turnIDs(srv *otlptest.Server) arrivals {
	a := arrivals{spans: map[string]int{}, logs: map[string]int{}}
	for _, s := range srv.Spans() {
		if id, ok := s.Attributes["gen_ai.response.id"].(string); ok && s.Attributes["gen_ai.operation.name"] == "invoke_agent" {
			a.spans[id]++
		}
	}
	for _, l := range srv.LogRecords() {
		if id, ok := l.Attributes["gen_ai.response.id"].(string); ok && l.EventName == "watson_assistant.turn" {
			a.logs[id]++
		}
	}
	return a
}

func (a arrivals) all(ids []string) bool {
	for _, id := range ids {
		if a.spans[id] == 0 || a.logs[id] == 0 {
			return false
		}
	}
	return true
}

// refuseID makes srv refuse, for their content, the requests holding the
// turn log_id.
func refuseID(srv *otlptest.Server, logID string) {
	srv.SetRefuse(func(spans []otlptest.Span, logs []otlptest.LogRecord) otlptest.Refusal {
		for _, s := range spans {
			if s.Attributes["gen_ai.response.id"] == logID {
				return otlptest.RefuseContent
			}
		}
		for _, l := range logs {
			if l.Attributes["gen_ai.response.id"] == logID {
				return otlptest.RefuseContent
			}
		}
		return otlptest.Accept
	})
}

func otlpEnv(srv *otlptest.Server, extra ...string) []string {
	return cleanEnv(append([]string{
		"ASSISTANT_OTEL_SECRET=" + testSecret,
		"OTEL_EXPORTER_OTLP_ENDPOINT=" + srv.Endpoint(),
		"OTEL_EXPORTER_OTLP_PROTOCOL=" + srv.Protocol(),
		"OTEL_METRIC_EXPORT_INTERVAL=300",
	}, extra...)...)
}

// runCmd runs the binary with args and env; it returns stdout, stderr and
// the exit code.
func runCmd(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = env
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

func corpus(t *testing.T) []loadgen.Template {
	t.Helper()
	tmpl, err := loadgen.LoadTemplates("../../testdata/corpus/*.json")
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// TestDeadLetterThenRetry: the endpoint refuses one event for its content
// (InvalidArgument over gRPC, 400 over HTTP): every other event arrives,
// exactly one dead letter is kept, counted and logged with its log_id;
// once the endpoint takes it, `dead-letters retry` (while serve runs)
// delivers it and removes the file.
func TestDeadLetterThenRetry(t *testing.T) {
	for _, start := range []func(testing.TB, ...otlptest.Option) *otlptest.Server{otlptest.StartGRPC, otlptest.StartHTTP} {
		srv := start(t)
		t.Run(srv.Protocol(), func(t *testing.T) {
			spoolDir := t.TempDir()
			svc := startService(t, otlpEnv(srv), "--spool-dir", spoolDir)
			events := loadgen.Make(corpus(t), 60)
			poison := events[23].LogID
			refuseID(srv, poison)
			res := loadgen.Run(t.Context(), loadgen.Config{URL: svc.url, Secret: []byte(testSecret), Events: events, Concurrency: 8})
			if len(res.Acked) != len(events) {
				t.Fatalf("acked %d of %d", len(res.Acked), len(events))
			}
			var others []string
			for _, e := range events {
				if e.LogID != poison {
					others = append(others, e.LogID)
				}
			}
			if !eventually(30*time.Second, func() bool { return turnIDs(srv).all(others) }) {
				t.Fatalf("the other events did not all arrive")
			}
			if !eventually(10*time.Second, func() bool { return srv.CounterSum("assistant_otel.export.dead_letters") == 1 }) {
				t.Errorf("assistant_otel.export.dead_letters = %v, want 1", srv.CounterSum("assistant_otel.export.dead_letters"))
			}
			store, err := deadletter.Open(filepath.Join(spoolDir, deadletter.DirName), 0)
			if err != nil {
				t.Fatal(err)
			}
			list, err := store.List()
			if err != nil || len(list) != 1 || list[0].LogID != poison {
				t.Fatalf("dead letters %+v, %v; want one, %s", list, err, poison)
			}
			if n := strings.Count(svc.stderr.String(), "dead-letter store"); n != 1 || !strings.Contains(svc.stderr.String(), "log_id="+poison) {
				t.Errorf("the dead letter was logged %d times (want once, with its log_id)", n)
			}
			if a := turnIDs(srv); a.spans[poison] != 0 || a.logs[poison] != 0 {
				t.Errorf("the refused event arrived anyway")
			}

			env := otlpEnv(srv)
			out, errOut, code := runCmd(t, env, "dead-letters", "list", "--spool-dir", spoolDir)
			if code != 0 || !strings.Contains(out, poison) || !strings.Contains(out, "1 dead letters") {
				t.Fatalf("dead-letters list: exit %d\n%s%s", code, out, errOut)
			}
			// Still refused: retry keeps it.
			if _, errOut, code := runCmd(t, env, "dead-letters", "retry", "--spool-dir", spoolDir, "--secret-file", writeSecret(t)); code == 0 {
				t.Fatalf("retry against the refusing endpoint succeeded:\n%s", errOut)
			}
			if l, _ := store.List(); len(l) != 1 {
				t.Fatalf("a refused retry removed the dead letter")
			}
			// Fixed: retry delivers it, while serve runs.
			srv.SetRefuse(nil)
			if out, errOut, code := runCmd(t, env, "dead-letters", "retry", "--spool-dir", spoolDir, "--secret-file", writeSecret(t)); code != 0 {
				t.Fatalf("dead-letters retry: exit %d\n%s%s", code, out, errOut)
			}
			if a := turnIDs(srv); a.spans[poison] != 1 || a.logs[poison] != 1 {
				t.Errorf("after retry the event arrived %d/%d times", a.spans[poison], a.logs[poison])
			}
			if l, _ := store.List(); len(l) != 0 {
				t.Errorf("%d dead letters left after the retry", len(l))
			}
			svc.stop(t)
			t.Logf("%s: 60 events, one refused: 59 delivered, 1 dead letter; delivered by dead-letters retry once fixed", srv.Protocol())
		})
	}
}

// writeSecret writes the webhook secret to a file (the pseudonym key is
// derived from it, as serve does).
func writeSecret(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(testSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// readyz returns the body of GET /readyz.
func readyz(svcURL string) string {
	resp, err := http.Get(strings.Replace(svcURL, "/webhook", "/readyz", 1))
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestMisconfiguredEndpoint: the endpoint answers 401/Unauthenticated for a
// while: nothing is dead-lettered, /readyz says degraded, the cause is
// logged once at ERROR, and everything arrives once it is fixed.
func TestMisconfiguredEndpoint(t *testing.T) {
	for _, start := range []func(testing.TB, ...otlptest.Option) *otlptest.Server{otlptest.StartGRPC, otlptest.StartHTTP} {
		srv := start(t)
		t.Run(srv.Protocol(), func(t *testing.T) {
			srv.SetRefuse(func([]otlptest.Span, []otlptest.LogRecord) otlptest.Refusal { return otlptest.RefuseAuth })
			spoolDir := t.TempDir()
			svc := startService(t, otlpEnv(srv), "--spool-dir", spoolDir)
			events := loadgen.Make(corpus(t), 40)
			res := loadgen.Run(t.Context(), loadgen.Config{URL: svc.url, Secret: []byte(testSecret), Events: events, Concurrency: 4})
			if len(res.Acked) != len(events) {
				t.Fatalf("acked %d of %d", len(res.Acked), len(events))
			}
			if !eventually(10*time.Second, func() bool { return strings.Contains(readyz(svc.url), `"degraded"`) }) {
				t.Fatalf("/readyz never said degraded: %s", readyz(svc.url))
			}
			// Several refused attempts, still one message.
			if err := srv.WaitRefused(8, 20*time.Second); err != nil { // a few seconds of backoff
				t.Fatal(err)
			}
			srv.SetRefuse(nil)
			if !eventually(30*time.Second, func() bool { return turnIDs(srv).all(res.Acked) }) {
				t.Fatalf("not everything arrived after the fix")
			}
			if !eventually(10*time.Second, func() bool { return !strings.Contains(readyz(svc.url), `"degraded"`) }) {
				t.Errorf("/readyz still degraded: %s", readyz(svc.url))
			}
			svc.stop(t)
			log := svc.stderr.String()
			if n := strings.Count(log, "refuses every export"); n != 1 || !strings.Contains(log, "level=ERROR") {
				t.Errorf("the misconfiguration was logged %d times (want once, at ERROR)", n)
			}
			store, err := deadletter.Open(filepath.Join(spoolDir, deadletter.DirName), 0)
			if err != nil {
				t.Fatal(err)
			}
			if l, _ := store.List(); len(l) != 0 || strings.Contains(log, "dead-letter store") {
				t.Errorf("%d dead letters for a misconfiguration", len(l))
			}
			_, refused := srv.Requests()
			t.Logf("%s: 401 for a while: %d refused requests, 0 dead letters, all %d delivered after the fix", srv.Protocol(), refused, len(events))
		})
	}
}

// withPayload returns a copy of tmpl's body with a new log_id, changed by
// edit.
func withPayload(t *testing.T, tmpl loadgen.Template, edit func(payload map[string]any)) loadgen.Event {
	t.Helper()
	var body map[string]any
	if err := json.Unmarshal(tmpl.Body, &body); err != nil {
		t.Fatal(err)
	}
	p := body["payload"].(map[string]any)
	id := loadgen.NewLogID()
	p["log_id"] = id
	edit(p)
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return loadgen.Event{LogID: id, Body: b}
}

// output returns the payload's response.output.
func output(p map[string]any) map[string]any {
	return p["response"].(map[string]any)["output"].(map[string]any)
}

// poisonEvent is one accepted event whose telemetry would be about 10 MB:
// 600 entities with 4,000-character names and values.
func poisonEvent(t *testing.T, tmpl loadgen.Template) loadgen.Event {
	return withPayload(t, tmpl, func(p map[string]any) {
		ents := make([]any, 600)
		for i := range ents {
			name := fmt.Sprintf("e%03d", i) + strings.Repeat("n", 3996)
			ents[i] = map[string]any{"entity": name, "value": strings.Repeat("v", 4000), "location": []int{0, 1}, "confidence": 1}
		}
		output(p)["entities"] = ents
	})
}
