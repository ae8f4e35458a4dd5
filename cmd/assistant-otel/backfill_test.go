package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assistant-otel/assistant-otel/internal/otlptest"
	"github.com/assistant-otel/assistant-otel/watsonapi/watsonapitest"
)

// fakeLogsAPI serves the corpus turns through the logs API contract; see
// package watsonapitest (a stand-in for the remote service, which these
// machines cannot reach).
func fakeLogsAPI(t *testing.T) *watsonapitest.Server {
	t.Helper()
	payloads, err := watsonapitest.CorpusPayloads("../../testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	logs := make([]watsonapitest.Log, len(payloads))
	for i, p := range payloads {
		logs[i] = watsonapitest.NewLog(p)
	}
	api := watsonapitest.New(logs)
	t.Cleanup(api.Close)
	return api
}

func runCommand(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// turnSpansByLogID counts the turn spans that arrived, by log id.
func turnSpansByLogID(otlp *otlptest.Server) map[string]int {
	n := map[string]int{}
	for _, s := range otlp.Spans() {
		if s.Attributes["gen_ai.operation.name"] == "invoke_agent" {
			id, _ := s.Attributes["gen_ai.response.id"].(string)
			n[id]++
		}
	}
	return n
}

// TestBackfillFromTheLogsAPI runs the real binary against the stand-in
// logs API: every turn arrives once, with the ids and times the webhook path
// gives it, and a rerun with the same checkpoint imports nothing again.
func TestBackfillFromTheLogsAPI(t *testing.T) {
	api := fakeLogsAPI(t)
	otlp := otlptest.StartGRPC(t)
	env := cleanEnv("ASSISTANT_OTEL_API_KEY="+api.APIKey, "OTEL_EXPORTER_OTLP_ENDPOINT="+otlp.Endpoint(),
		"ASSISTANT_OTEL_SECRET="+testSecret)
	checkpoint := filepath.Join(t.TempDir(), "checkpoint.json")
	args := []string{"backfill", "--url", api.URL, "--assistant-id", api.AssistantID, "--iam-url", api.IAMURL,
		"--from", "2025-01-01", "--to", "2026-01-01", "--checkpoint", checkpoint, "--page-limit", "5"}
	out, code := runCommand(t, env, args...)
	if code != 0 {
		t.Fatalf("backfill: exit %d\n%s", code, out)
	}
	turns, _ := loadCorpus(t)
	got := turnSpansByLogID(otlp)
	for _, ev := range turns {
		if got[ev.logID] != 1 {
			t.Errorf("%s: %d spans, want 1", ev.name, got[ev.logID])
		}
	}
	for _, s := range otlp.Spans() {
		if s.Attributes["session.id"] == "5b2e7c90-3f1a-4d6b-8e25-a9c4d1f7e063" && s.TraceID.String() != "5b2e7c903f1a4d6b8e25a9c4d1f7e063" {
			t.Errorf("backfilled turn in trace %s, not the session's", s.TraceID)
		}
	}
	if n := otlp.CounterSum("watson_assistant.turns"); n != 0 {
		t.Errorf("backfill recorded %v turns in live metrics without --metrics", n)
	}
	if api.Pages() < 3 {
		t.Errorf("only %d pages fetched with --page-limit 5", api.Pages())
	}
	if strings.Contains(out, api.APIKey) {
		t.Error("the API key appears in the output")
	}
	// Idempotent: the same checkpoint imports nothing new.
	before := len(otlp.Spans())
	if out, code := runCommand(t, env, args...); code != 0 {
		t.Fatalf("second backfill: exit %d\n%s", code, out)
	}
	if after := len(otlp.Spans()); after != before {
		t.Errorf("rerun exported %d more spans", after-before)
	}
}

// TestBackfillViaServiceSkipsLiveTurns: turns that arrived live through the
// webhook and are then backfilled through the service reach the Collector
// once.
func TestBackfillViaServiceSkipsLiveTurns(t *testing.T) {
	api := fakeLogsAPI(t)
	otlp := otlptest.StartGRPC(t)
	svc := startService(t, cleanEnv("ASSISTANT_OTEL_SECRET="+testSecret, "OTEL_EXPORTER_OTLP_ENDPOINT="+otlp.Endpoint()),
		"--spool-dir", t.TempDir())
	live := []string{"14a-multiturn-welcome", "14b-multiturn-ask-order", "14c-multiturn-answer-with-callout"}
	for _, name := range live {
		if out, code := sendFile(t, svc.url, testSecret, "../../testdata/corpus/"+name+".json"); code != 0 {
			t.Fatalf("live %s: %s", name, out)
		}
	}
	out, code := runCommand(t, cleanEnv("ASSISTANT_OTEL_API_KEY="+api.APIKey, "ASSISTANT_OTEL_SECRET="+testSecret),
		"backfill", "--url", api.URL, "--assistant-id", api.AssistantID, "--iam-url", api.IAMURL,
		"--from", "2025-01-01", "--via", svc.url)
	if code != 0 {
		t.Fatalf("backfill --via: exit %d\n%s", code, out)
	}
	svc.stop(t)
	turns, _ := loadCorpus(t)
	got := turnSpansByLogID(otlp)
	for _, ev := range turns {
		if got[ev.logID] != 1 {
			t.Errorf("%s: %d spans at the Collector, want exactly 1", ev.name, got[ev.logID])
		}
	}
	if n := otlp.CounterSum("watson_assistant.turns"); n != float64(len(turns)) {
		t.Errorf("watson_assistant.turns = %v, want %d (each turn counted once)", n, len(turns))
	}
}

// TestReplayFiles imports saved webhook bodies.
func TestReplayFiles(t *testing.T) {
	otlp := otlptest.StartGRPC(t)
	files, _ := filepath.Glob("../../testdata/corpus/*.json")
	out, code := runCommand(t, cleanEnv("OTEL_EXPORTER_OTLP_ENDPOINT="+otlp.Endpoint()), append([]string{"replay"}, files...)...)
	if code != 0 {
		t.Fatalf("replay: exit %d\n%s", code, out)
	}
	got := turnSpansByLogID(otlp)
	if len(got) != len(files) {
		t.Errorf("%d turns replayed, want %d", len(got), len(files))
	}
}
