package exporter

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/assistant-otel/assistant-otel/mapping"
	"github.com/assistant-otel/assistant-otel/watson"
)

var updateTranscript = flag.Bool("update-transcript", false, "rewrite testdata/transcript.golden")

// consoleOf maps every corpus body with the service's defaults and returns
// what the console shows in the given format, without its resource line.
func consoleOf(t *testing.T, format string) string {
	t.Helper()
	var out syncBuffer
	con := newConsole(&out, format)
	logger := slog.New(slog.DiscardHandler)
	e, err := assemble(t.Context(), options{logger: logger, serviceVersion: "test"}, parts{
		resource:    resource.Empty(),
		sampler:     sdktrace.AlwaysSample(),
		description: "console",
		failures:    newExportFailures(logger),
		spans:       consoleSpanExporter{con},
		logs:        consoleLogExporter{con},
	})
	if err != nil {
		t.Fatal(err)
	}
	opts := mapping.DefaultOptions()
	opts.PseudonymKey = []byte("transcript-test-key")
	m, err := mapping.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("../testdata/corpus/*.json")
	if len(files) == 0 {
		t.Fatal("no corpus")
	}
	received := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := watson.Decode(body)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		e.Export(t.Context(), m.Map(ev, received))
	}
	if err := e.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(out.String(), "\n") // the resource line carries the time
	return rest
}

// TestConsoleTranscriptGolden: the default console output of the corpus,
// read as a conversation transcript. go test ./exporter -run
// TestConsoleTranscriptGolden -update-transcript rewrites it.
func TestConsoleTranscriptGolden(t *testing.T) {
	got := consoleOf(t, ConsoleTranscript)
	path := filepath.Join("testdata", "transcript.golden")
	if *updateTranscript {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("transcript differs from %s (rerun with -update-transcript and read the diff):\n%s", path, got)
	}
	if strings.Contains(got, " span ") || strings.Contains(got, " metric ") {
		t.Error("the transcript shows spans or metrics")
	}
}

// The detail format still shows every span and log record.
func TestConsoleDetail(t *testing.T) {
	got := consoleOf(t, ConsoleDetail)
	for _, want := range []string{" span  invoke_agent", " log   INFO watson_assistant.turn", `watson_assistant.input.text="A-1042"`} {
		if !strings.Contains(got, want) {
			t.Errorf("detail output lacks %q", want)
		}
	}
	if strings.Contains(got, "── conversation") {
		t.Error("detail output shows transcript headers")
	}
}
