package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/internal/otlptest"
	"github.com/assistant-otel/assistant-otel/internal/testlog"
)

// binary is the assistant-otel executable built once for these tests: they
// run the real program, as a user would.
var binary, stateHome string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "assistant-otel-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "assistant-otel")
	stateHome = filepath.Join(dir, "state")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building assistant-otel:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const testSecret = "integration-test-secret"

// process is a running `assistant-otel serve`.
type process struct {
	cmd            *exec.Cmd
	url            string
	stdout, stderr *syncBuffer
	done           chan error
}

type syncBuffer = testlog.Buffer

var listeningRE = regexp.MustCompile(`address=(127\.0\.0\.1:\d+)`)

// cleanEnv is a minimal environment without any inherited OTEL_* or
// ASSISTANT_OTEL_* variable.
func cleanEnv(extra ...string) []string {
	// XDG_STATE_HOME keeps backfill's default state files out of the
	// user's home; a test that needs its own sets it again (the last wins).
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "XDG_STATE_HOME=" + stateHome}
	return append(env, extra...)
}

func startService(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	s := &process{stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1)}
	s.cmd = exec.Command(binary, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	s.cmd.Env = env
	s.cmd.Stdout = s.stdout
	pr, pw := io.Pipe()
	s.cmd.Stderr = pw
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait(); pw.Close() }()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("service stderr:\n%s", s.stderr.String())
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(s.stderr, line)
			if m := listeningRE.FindStringSubmatch(line); m != nil && strings.Contains(line, "listening") {
				addr <- m[1]
			}
		}
	}()
	select {
	case a := <-addr:
		s.url = "http://" + a + "/webhook"
	case err := <-s.done:
		t.Fatalf("service exited before listening: %v\n%s", err, s.stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("service did not start listening:\n%s", s.stderr.String())
	}
	return s
}

// stop sends SIGTERM and waits for a clean exit.
func (s *process) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("service exited with %v after SIGTERM:\n%s", err, s.stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("service did not exit within 30s of SIGTERM")
	}
}

// send runs `assistant-otel send` and returns its output and exit code.
func sendFile(t *testing.T, url, secret, file string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary, "send", "--url", url, file)
	cmd.Env = cleanEnv("ASSISTANT_OTEL_SECRET=" + secret)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

type corpusEvent struct {
	file      string
	name      string
	logID     string
	sessionID string
	reqTime   time.Time
	respTime  time.Time
	lowConf   bool
}

func loadCorpus(t *testing.T) (turns []corpusEvent, others []string) {
	t.Helper()
	files, _ := filepath.Glob("../../testdata/corpus/*.json")
	for _, f := range files {
		var body struct {
			Event   struct{ Name string }
			Payload struct {
				LogID             string    `json:"log_id"`
				SessionID         string    `json:"session_id"`
				RequestTimestamp  time.Time `json:"request_timestamp"`
				ResponseTimestamp time.Time `json:"response_timestamp"`
				Response          struct {
					Output struct {
						Intents []struct{ Confidence float64 }
					}
				}
			}
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &body); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		p := body.Payload
		turns = append(turns, corpusEvent{
			file: f, name: filepath.Base(f), logID: p.LogID, sessionID: p.SessionID,
			reqTime: p.RequestTimestamp, respTime: p.ResponseTimestamp,
			lowConf: len(p.Response.Output.Intents) > 0 && p.Response.Output.Intents[0].Confidence < 0.5,
		})
	}
	others, _ = filepath.Glob("../../testdata/corpus/other-events/*.json")
	if len(turns) < 10 || len(others) == 0 {
		t.Fatalf("corpus incomplete: %d turns, %d other events", len(turns), len(others))
	}
	return turns, others
}

// TestServeExportsCorpusOverOTLP runs the real binary against a real OTLP gRPC
// endpoint, posts every corpus event with the send command (and some forged
// ones), and checks what arrives.
func TestServeExportsCorpusOverOTLP(t *testing.T) {
	otlp := otlptest.StartGRPC(t)
	svc := startService(t, cleanEnv(
		"ASSISTANT_OTEL_SECRET="+testSecret,
		"OTEL_EXPORTER_OTLP_ENDPOINT="+otlp.Endpoint(),
		"OTEL_SERVICE_NAME=assistant-otel-it",
	), "--max-event-age", "87600h") // the corpus is dated 2025: past serve's default window of plausible times
	turns, others := loadCorpus(t)
	for _, ev := range turns {
		if out, code := sendFile(t, svc.url, testSecret, ev.file); code != 0 || !strings.HasPrefix(out, "200 ") {
			t.Fatalf("send %s: exit %d: %s", ev.name, code, out)
		}
	}
	for _, f := range others {
		if out, code := sendFile(t, svc.url, testSecret, f); code != 0 {
			t.Fatalf("send %s: exit %d: %s", f, code, out)
		}
	}
	// A forged event: right body, wrong secret. It must be refused and absent.
	forged := filepath.Join(t.TempDir(), "forged.json")
	body, _ := os.ReadFile(turns[0].file)
	const forgedLogID = "ffffffff-0000-4000-8000-00000000f0f0"
	body = bytes.Replace(body, []byte(turns[0].logID), []byte(forgedLogID), 1)
	if err := os.WriteFile(forged, body, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := sendFile(t, svc.url, "wrong-secret", forged); code != 1 || !strings.HasPrefix(out, "401 ") {
		t.Fatalf("forged event: exit %d: %s", code, out)
	}
	svc.stop(t) // SIGTERM flushes everything

	spans := otlp.Spans()
	turnSpans := map[string]otlptest.Span{} // by log id
	for _, s := range spans {
		if s.Attributes["gen_ai.operation.name"] == "invoke_agent" {
			id, _ := s.Attributes["gen_ai.response.id"].(string)
			if _, dup := turnSpans[id]; dup {
				t.Errorf("turn %s exported twice", id)
			}
			turnSpans[id] = s
		}
		if s.Resource["service.name"] != "assistant-otel-it" {
			t.Errorf("span %q has service.name %v", s.Name, s.Resource["service.name"])
		}
	}
	if len(turnSpans) != len(turns) {
		t.Errorf("%d turn spans arrived, want %d", len(turnSpans), len(turns))
	}
	for _, ev := range turns {
		s, ok := turnSpans[ev.logID]
		if !ok {
			t.Errorf("%s: no turn span", ev.name)
			continue
		}
		if !s.Start.Equal(ev.reqTime) || !s.End.Equal(ev.respTime) {
			t.Errorf("%s: span %s–%s, want %s–%s", ev.name, s.Start, s.End, ev.reqTime, ev.respTime)
		}
	}
	if _, ok := turnSpans[forgedLogID]; ok {
		t.Error("the forged event was exported")
	}

	// The three turns of one conversation: one trace whose id is the session UUID.
	const session = "5b2e7c90-3f1a-4d6b-8e25-a9c4d1f7e063"
	wantTrace := strings.ReplaceAll(session, "-", "")
	var conv []otlptest.Span
	for _, ev := range turns {
		if ev.sessionID == session {
			conv = append(conv, turnSpans[ev.logID])
		}
	}
	if len(conv) != 3 {
		t.Fatalf("conversation has %d turns, want 3", len(conv))
	}
	for i, s := range conv {
		if s.TraceID.String() != wantTrace {
			t.Errorf("turn %d: trace id %s, want session UUID %s", i+1, s.TraceID, wantTrace)
		}
		if s.ParentSpanID.IsValid() {
			t.Errorf("turn %d has parent %s, which nobody exports", i+1, s.ParentSpanID)
		}
		if want := int64(i + 1); s.Attributes["watson_assistant.turn_count"] != want {
			t.Errorf("turn %d: turn_count %v", i+1, s.Attributes["watson_assistant.turn_count"])
		}
	}
	// Every child span's parent arrived too (no "missing parent" in Jaeger).
	byID := map[string]bool{}
	for _, s := range spans {
		byID[s.TraceID.String()+s.SpanID.String()] = true
	}
	for _, s := range spans {
		if s.ParentSpanID.IsValid() && !byID[s.TraceID.String()+s.ParentSpanID.String()] {
			t.Errorf("span %q: parent %s missing", s.Name, s.ParentSpanID)
		}
	}

	// One log record per turn, correlated with its span, plus the call record.
	logsByID := map[string]int{}
	calls := 0
	for _, r := range otlp.LogRecords() {
		switch r.EventName {
		case "watson_assistant.turn":
			id, _ := r.Attributes["gen_ai.response.id"].(string)
			logsByID[id]++
			if s, ok := turnSpans[id]; ok && (r.TraceID != s.TraceID || r.SpanID != s.SpanID) {
				t.Errorf("log record of %s not correlated with its span", id)
			}
		case "watson_assistant.call":
			calls++
		}
	}
	for _, ev := range turns {
		if logsByID[ev.logID] != 1 {
			t.Errorf("%s: %d log records, want 1", ev.name, logsByID[ev.logID])
		}
	}
	if logsByID[forgedLogID] != 0 {
		t.Error("log record of the forged event exported")
	}
	if calls != len(others) {
		t.Errorf("%d call records, want %d", calls, len(others))
	}

	// Metrics: turns, low-confidence turns, the receiver's own counters.
	wantLow := 0
	for _, ev := range turns {
		if ev.lowConf {
			wantLow++
		}
	}
	if got := otlp.CounterSum("watson_assistant.turns"); got != float64(len(turns)) {
		t.Errorf("watson_assistant.turns = %v, want %d", got, len(turns))
	}
	if got := otlp.CounterSum("watson_assistant.turns.low_confidence"); got != float64(wantLow) || wantLow == 0 {
		t.Errorf("watson_assistant.turns.low_confidence = %v, want %d (> 0)", got, wantLow)
	}
	if got := otlp.CounterSum("assistant_otel.webhook.auth_failures"); got != 1 {
		t.Errorf("auth failures = %v, want 1", got)
	}
	if got := otlp.CounterSum("assistant_otel.webhook.requests", otlptest.Attr{Key: "http.response.status_code", Value: int64(200)}); got != float64(len(turns)+len(others)) {
		t.Errorf("accepted requests = %v, want %d", got, len(turns)+len(others))
	}
	if strings.Contains(svc.stderr.String(), testSecret) {
		t.Error("the secret appears in the service's logs")
	}
}

// TestServeHTTPProtobuf checks the OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf path.
func TestServeHTTPProtobuf(t *testing.T) {
	otlp := otlptest.StartHTTP(t)
	svc := startService(t, cleanEnv(
		"ASSISTANT_OTEL_SECRET="+testSecret,
		"OTEL_EXPORTER_OTLP_ENDPOINT="+otlp.Endpoint(),
		"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
	))
	if out, code := sendFile(t, svc.url, testSecret, "../../testdata/corpus/04-low-confidence-alternates.json"); code != 0 {
		t.Fatalf("send: %d %s", code, out)
	}
	svc.stop(t)
	if n := len(otlp.Spans()); n != 1 {
		t.Errorf("%d spans over http/protobuf, want 1", n)
	}
	if n := len(otlp.LogRecords()); n != 1 {
		t.Errorf("%d log records over http/protobuf, want 1", n)
	}
	if got := otlp.CounterSum("watson_assistant.turns.low_confidence"); got != 1 {
		t.Errorf("low-confidence turns = %v, want 1", got)
	}
}

// TestCaptureContentOff posts the corpus with content capture off and checks
// that no text of any event reaches the OTLP endpoint.
func TestCaptureContentOff(t *testing.T) {
	otlp := otlptest.StartGRPC(t)
	svc := startService(t, cleanEnv(
		"ASSISTANT_OTEL_SECRET="+testSecret,
		"OTEL_EXPORTER_OTLP_ENDPOINT="+otlp.Endpoint(),
	), "--capture-content=false")
	turns, _ := loadCorpus(t)
	var texts []string
	for _, ev := range turns {
		if out, code := sendFile(t, svc.url, testSecret, ev.file); code != 0 {
			t.Fatalf("send: %d %s", code, out)
		}
		var body struct {
			Payload struct {
				Request struct {
					Input struct{ Text string }
				}
				Response struct {
					Output struct {
						Generic []struct{ Text string }
					}
				}
			}
		}
		b, _ := os.ReadFile(ev.file)
		_ = json.Unmarshal(b, &body)
		if s := body.Payload.Request.Input.Text; len(s) > 3 {
			texts = append(texts, s)
		}
		for _, g := range body.Payload.Response.Output.Generic {
			if len(g.Text) > 3 {
				texts = append(texts, g.Text)
			}
		}
	}
	svc.stop(t)
	if len(texts) < 10 {
		t.Fatalf("only %d texts to look for", len(texts))
	}
	var all strings.Builder
	for _, s := range otlp.Spans() {
		fmt.Fprintf(&all, "%v %v %v\n", s.Name, s.Attributes, s.Events)
	}
	for _, r := range otlp.LogRecords() {
		fmt.Fprintf(&all, "%v %v\n", r.Body, r.Attributes)
	}
	if all.Len() < 1000 {
		t.Fatalf("hardly any telemetry arrived (%d bytes)", all.Len())
	}
	got := all.String() + svc.stderr.String() + svc.stdout.String()
	for _, s := range texts {
		if strings.Contains(got, s) {
			t.Errorf("text %q exported with --capture-content=false", s)
		}
	}
}

// TestEmbeddedConsoleDefault: with no OTEL_* configuration at all, the
// service runs, says where its telemetry goes and prints it readably.
func TestEmbeddedConsoleDefault(t *testing.T) {
	svc := startService(t, cleanEnv("ASSISTANT_OTEL_SECRET="+testSecret))
	if out, code := sendFile(t, svc.url, testSecret, "../../testdata/corpus/14c-multiturn-answer-with-callout.json"); code != 0 {
		t.Fatalf("send: %d %s", code, out)
	}
	svc.stop(t)
	if !strings.Contains(svc.stderr.String(), "console (no OTLP endpoint configured)") {
		t.Errorf("start-up log does not say telemetry goes to the console:\n%s", svc.stderr.String())
	}
	// The default reads as a transcript.
	out := svc.stdout.String()
	for _, want := range []string{
		"── conversation 5b2e7c90-3f1a-4d6b-8e25-a9c4d1f7e063", "turn 3 · answered", "    user       A-1042",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("console output lacks %q:\n%s", want, out)
		}
	}
	// Every item is one variable away.
	svc = startService(t, cleanEnv("ASSISTANT_OTEL_SECRET="+testSecret, "ASSISTANT_OTEL_CONSOLE_FORMAT=detail"))
	if out, code := sendFile(t, svc.url, testSecret, "../../testdata/corpus/14c-multiturn-answer-with-callout.json"); code != 0 {
		t.Fatalf("send: %d %s", code, out)
	}
	svc.stop(t)
	out = svc.stdout.String()
	for _, want := range []string{
		"span  invoke_agent", "trace=5b2e7c903f1a4d6b8e25a9c4d1f7e063",
		"log   INFO watson_assistant.turn", "metric watson_assistant.turns +1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("detail console output lacks %q:\n%s", want, out)
		}
	}
}

func TestServeRefusesToStartWithoutSecret(t *testing.T) {
	cmd := exec.Command(binary, "serve", "--listen", "127.0.0.1:0")
	cmd.Env = cleanEnv()
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "no webhook secret") {
		t.Fatalf("want exit 2 and a clear message, got %v: %s", err, out)
	}
}

func TestVersion(t *testing.T) {
	out, err := exec.Command(binary, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "assistant-otel ") {
		t.Fatalf("%v: %s", err, out)
	}
}

// TestVersionStamped: a version passed as -ldflags -X main.stampedVersion
// (the Dockerfile's VERSION build argument) is what `version` prints.
func TestVersionStamped(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "assistant-otel")
	build := exec.Command("go", "build", "-ldflags", "-X main.stampedVersion=9.8.7-test", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || string(out) != "assistant-otel 9.8.7-test\n" {
		t.Fatalf("version: %v: %q, want the stamped version", err, out)
	}
}

// TestHealthcheck: the subcommand the compose health check runs exits 0
// against a running service and 1 when nothing answers.
func TestHealthcheck(t *testing.T) {
	svc := startService(t, cleanEnv("ASSISTANT_OTEL_SECRET="+testSecret))
	health := strings.TrimSuffix(svc.url, "/webhook") + "/healthz"
	if out, code := runCommand(t, cleanEnv(), "healthcheck", "--url", health); code != 0 {
		t.Fatalf("healthcheck of a running service: exit %d\n%s", code, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/healthz"
	ln.Close()
	if out, code := runCommand(t, cleanEnv(), "healthcheck", "--url", closed, "--timeout", "2s"); code != 1 {
		t.Fatalf("healthcheck of nothing: exit %d, want 1\n%s", code, out)
	}
	if out, code := runCommand(t, cleanEnv(), "healthcheck", "--url", strings.TrimSuffix(svc.url, "/webhook")+"/nope"); code != 1 {
		t.Fatalf("healthcheck of a 404: exit %d, want 1\n%s", code, out)
	}
}

// TestPprofEndpoint: off by default, served on the given address when asked.
func TestPprofEndpoint(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	svc := startService(t, cleanEnv("ASSISTANT_OTEL_SECRET="+testSecret), "--pprof-listen", addr)
	var resp *http.Response
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err = http.Get("http://" + addr + "/debug/pprof/cmdline"); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("pprof endpoint: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("pprof endpoint answered %d", resp.StatusCode)
	}
	// Not on the webhook port.
	if r, err := http.Get(strings.Replace(svc.url, "/webhook", "/debug/pprof/", 1)); err == nil {
		r.Body.Close()
		if r.StatusCode == 200 {
			t.Error("pprof served on the webhook port")
		}
	}
	svc.stop(t)
}

// runCLI runs a command in-process, as main does, with the environment env.
func runCLI(env map[string]string, args ...string) (code int, stdout, stderr string) {
	var out, errs bytes.Buffer
	code = run(context.Background(), args, &out, &errs, func(k string) string { return env[k] })
	return code, out.String(), errs.String()
}

// TestHelpAndFlagErrorsOfEveryCommand: -h, -help and --help print the help
// to stdout and exit 0, every flag with its variable where the command
// reads the environment; an unknown flag exits 2 with one line.
func TestHelpAndFlagErrorsOfEveryCommand(t *testing.T) {
	for _, cmd := range [][]string{{"serve"}, {"send"}, {"backfill"}, {"replay"}, {"dead-letters"},
		{"dead-letters", "list"}, {"dead-letters", "retry"}, {"healthcheck"}, {"version"}} {
		name := strings.Join(cmd, " ")
		readsEnv := cmd[0] != "healthcheck" && cmd[0] != "version"
		for _, h := range []string{"-h", "-help", "--help"} {
			code, out, errs := runCLI(nil, append(cmd, h)...)
			if code != 0 || errs != "" || !strings.HasPrefix(out, "Usage: assistant-otel "+cmd[0]) {
				t.Fatalf("%s %s: exit %d, stderr %q, stdout:\n%s", name, h, code, errs, out)
			}
			if flags, vars := strings.Count(out, "\n  --"), strings.Count(out, "env ASSISTANT_OTEL_"); readsEnv && (flags < 3 || vars != flags) || !readsEnv && vars != 0 {
				t.Errorf("%s %s: %d flags, %d variables shown:\n%s", name, h, flags, vars, out)
			}
		}
		code, out, errs := runCLI(nil, append(cmd, "--lisen", ":1")...)
		if want := "assistant-otel " + cmd[0] + ": unknown flag --lisen (see assistant-otel " + cmd[0] + " --help)\n"; code != 2 || out != "" || errs != want {
			t.Errorf("%s --lisen: exit %d, stdout %q, stderr %q; want 2 and %q", name, code, out, errs, want)
		}
	}
	if code, out, _ := runCLI(nil, "help", "backfill"); code != 0 || !strings.HasPrefix(out, "Usage: assistant-otel backfill") {
		t.Errorf("help backfill: exit %d\n%s", code, out)
	}
	if code, out, errs := runCLI(nil, "serv"); code != 2 || out != "" || errs != "assistant-otel: unknown command \"serv\" (see assistant-otel --help)\n" {
		t.Errorf("unknown command: exit %d, %q, %q", code, out, errs)
	}
}

// TestBadValuesExit2 names each bad value, from a flag or a variable, with
// the accepted form.
func TestBadValuesExit2(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"ASSISTANT_OTEL_MAX_BODY_BYTES": "abc"}, []string{"serve"}, `serve: ASSISTANT_OTEL_MAX_BODY_BYTES="abc": not an integer (bytes, e.g. 8388608)`},
		{nil, []string{"serve", "--drain-timeout", "5"}, `serve: --drain-timeout "5": not a duration (e.g. 15s, 2m)`},
		{nil, []string{"send", "--timeout", "5"}, `send: --timeout "5": not a duration (e.g. 15s, 2m)`},
		{nil, []string{"backfill", "--page-limit", "many"}, `backfill: --page-limit "many": not an integer (e.g. 100)`},
		{map[string]string{"ASSISTANT_OTEL_DRY_RUN": "maybe"}, []string{"replay", "f.json"}, `replay: ASSISTANT_OTEL_DRY_RUN="maybe": not true or false`},
		{nil, []string{"dead-letters", "retry", "--max-request-bytes", "3M"}, `dead-letters: --max-request-bytes "3M": not an integer (bytes, e.g. 3145728)`},
		{nil, []string{"healthcheck", "--timeout", "3"}, `healthcheck: --timeout "3": not a duration (e.g. 15s, 2m)`},
	} {
		code, out, errs := runCLI(tc.env, tc.args...)
		if want := "assistant-otel " + tc.want + "\n"; code != 2 || out != "" || errs != want {
			t.Errorf("%v %v: exit %d, stdout %q, stderr %q; want 2 and %q", tc.env, tc.args, code, out, errs, want)
		}
	}
}

// TestConfigErrorsStartNothing: a bad --listen (or OTLP setting) exits 2
// before anything starts: no log line, no console output, no spool.
func TestConfigErrorsStartNothing(t *testing.T) {
	spool := filepath.Join(t.TempDir(), "spool")
	env := map[string]string{"ASSISTANT_OTEL_SECRET": testSecret, "ASSISTANT_OTEL_SPOOL_DIR": spool, "ASSISTANT_OTEL_METRICS_LISTEN": "off"}
	check := func(what, wantPrefix string, args ...string) {
		t.Helper()
		code, out, errs := runCLI(env, append([]string{"serve"}, args...)...)
		if code != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "assistant-otel serve: "+wantPrefix) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 and one line %q…", what, code, out, errs, wantPrefix)
		}
		if _, err := os.Stat(spool); !os.IsNotExist(err) {
			t.Fatalf("%s: the spool was created (%v): serve started", what, err)
		}
	}
	for _, listen := range []string{":99999", "8080", "localhost"} {
		check("--listen "+listen, `--listen "`+listen+`"`, "--listen", listen)
	}
	env["ASSISTANT_OTEL_LISTEN"] = "127.0.0.1:65536"
	check("ASSISTANT_OTEL_LISTEN", `--listen "127.0.0.1:65536"`)
	delete(env, "ASSISTANT_OTEL_LISTEN")
	check("--tls-cert", `--tls-cert "nope.pem"`, "--listen", "127.0.0.1:0", "--tls-cert", "nope.pem", "--tls-key", "nope.pem")
	t.Setenv("OTEL_TRACES_SAMPLER", "sometimes")
	check("OTEL_TRACES_SAMPLER", `sampler: OTEL_TRACES_SAMPLER="sometimes"`, "--listen", "127.0.0.1:0")
	t.Setenv("OTEL_TRACES_SAMPLER", "")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
	t.Setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "ten")
	check("OTEL_EXPORTER_OTLP_TIMEOUT", `OTEL_EXPORTER_OTLP_TIMEOUT: "ten" is not a number of milliseconds`, "--listen", "127.0.0.1:0")
}
