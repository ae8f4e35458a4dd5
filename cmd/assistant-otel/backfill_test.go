package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// recentLogs makes n logs requested in the last two days, one a minute.
func recentLogs(t *testing.T, n int) []watsonapitest.Log {
	t.Helper()
	payloads, err := watsonapitest.CorpusPayloads("../../testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	logs, err := watsonapitest.Synthesize(payloads, n, time.Now().Add(-48*time.Hour), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return logs
}

// TestBackfillRerunDefaultState: the same command run twice, with neither
// --checkpoint nor --dedupe-file, exports each log once; the default state
// file is named in the output and lies in $XDG_STATE_HOME. --no-state opts
// out (and so exports again).
func TestBackfillRerunDefaultState(t *testing.T) {
	api := watsonapitest.New(recentLogs(t, 12))
	t.Cleanup(api.Close)
	otlp := otlptest.StartGRPC(t)
	state := t.TempDir()
	env := cleanEnv("ASSISTANT_OTEL_API_KEY="+api.APIKey, "OTEL_EXPORTER_OTLP_ENDPOINT="+otlp.Endpoint(),
		"ASSISTANT_OTEL_SECRET="+testSecret, "XDG_STATE_HOME="+state)
	args := []string{"backfill", "--url", api.URL, "--assistant-id", api.AssistantID, "--iam-url", api.IAMURL,
		"--from", "2025-01-01", "--page-limit", "5", "--progress", "none"}
	for run := 1; run <= 2; run++ {
		out, code := runCommand(t, env, args...)
		if code != 0 {
			t.Fatalf("run %d: exit %d\n%s", run, code, out)
		}
		dir := filepath.Join(state, "assistant-otel", "backfill")
		files, _ := filepath.Glob(filepath.Join(dir, "assistant-"+api.AssistantID+"-*.json"))
		if len(files) != 1 {
			t.Fatalf("run %d: state files %v in %s, want one", run, files, dir)
		}
		if !strings.Contains(out, "state file "+files[0]) {
			t.Errorf("run %d: the output does not name the state file %s:\n%s", run, files[0], out)
		}
	}
	for id, n := range turnSpansByLogID(otlp) {
		if n != 1 {
			t.Errorf("log %s exported %d times over two runs, want 1", id, n)
		}
	}
	if n := len(turnSpansByLogID(otlp)); n != 12 {
		t.Errorf("%d logs exported, want 12", n)
	}
	if out, code := runCommand(t, env, append(args, "--no-state")...); code != 0 || strings.Contains(out, "state file") {
		t.Fatalf("--no-state: exit %d, or a state file named:\n%s", code, out)
	}
	if got := turnSpansByLogID(otlp)[watsonapitest.SyntheticID(0)]; got != 2 {
		t.Errorf("with --no-state, log 0 exported %d times in all, want 2 (no state: exported again)", got)
	}
}

// TestBackfillRelativeFromWithCheckpoint: the cron use. `--from 7d
// --checkpoint f` run twice (the window moved in between) is accepted the
// second time and exports only the logs that arrived since.
func TestBackfillRelativeFromWithCheckpoint(t *testing.T) {
	logs := recentLogs(t, 15)
	api := watsonapitest.New(logs[:10])
	t.Cleanup(api.Close)
	otlp := otlptest.StartGRPC(t)
	env := cleanEnv("ASSISTANT_OTEL_API_KEY="+api.APIKey, "OTEL_EXPORTER_OTLP_ENDPOINT="+otlp.Endpoint(),
		"ASSISTANT_OTEL_SECRET="+testSecret)
	checkpoint := filepath.Join(t.TempDir(), "cron.json")
	args := []string{"backfill", "--url", api.URL, "--assistant-id", api.AssistantID, "--iam-url", api.IAMURL,
		"--from", "7d", "--checkpoint", checkpoint, "--page-limit", "4", "--progress", "none"}
	if out, code := runCommand(t, env, args...); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, out)
	}
	if n := len(turnSpansByLogID(otlp)); n != 10 {
		t.Fatalf("first run exported %d logs, want 10", n)
	}
	api.SetLogs(logs)
	out, code := runCommand(t, env, args...)
	if code != 0 {
		t.Fatalf("second run with the same relative --from: exit %d\n%s", code, out)
	}
	got := turnSpansByLogID(otlp)
	for i := range logs {
		if n := got[watsonapitest.SyntheticID(i)]; n != 1 {
			t.Errorf("log %d exported %d times over two runs, want 1", i, n)
		}
	}
	if !strings.Contains(out, "state file "+checkpoint) {
		t.Errorf("the output does not name the checkpoint:\n%s", out)
	}
}
