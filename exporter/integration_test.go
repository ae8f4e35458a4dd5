package exporter

import (
	"context"
	"log/slog"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/trace"

	"github.com/assistant-otel/assistant-otel/internal/otlptest"
)

const waitTimeout = 10 * time.Second

// TestOTLP exports a hand-built event to a real OTLP receiver over each
// protocol and checks exactly what arrives.
func TestOTLP(t *testing.T) {
	for _, tc := range []struct {
		name     string
		start    func(testing.TB, ...otlptest.Option) *otlptest.Server
		protocol string // OTEL_EXPORTER_OTLP_PROTOCOL; "" means the grpc default
		label    string
	}{
		{"grpc default", otlptest.StartGRPC, "", "otlp/grpc"},
		{"grpc", otlptest.StartGRPC, "grpc", "otlp/grpc"},
		{"http/protobuf", otlptest.StartHTTP, "http/protobuf", "otlp/http/protobuf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := tc.start(t)
			clearOTelEnv(t)
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.Endpoint())
			t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", tc.protocol)
			t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "api-key=s3cr3t-header-value")
			t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=test")
			t.Setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
			t.Setenv("OTEL_TRACES_SAMPLER_ARG", "1")

			e, err := New(t.Context(), WithServiceVersion("1.2.3"), WithLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				t.Fatal(err)
			}
			wantDesc := tc.label + " → " + srv.Endpoint() + " (traces, logs, metrics); sampler parentbased_conversation_ratio(1)+flagged_turns"
			if d := e.Describe(); d != wantDesc {
				t.Errorf("Describe() = %q, want %q", d, wantDesc)
			}
			want := testTelemetry()
			e.Export(t.Context(), want)
			if err := e.Shutdown(t.Context()); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}

			// Spans.
			spans, err := srv.WaitSpans(2, waitTimeout)
			if err != nil {
				t.Fatal(err)
			}
			if len(spans) != 2 {
				t.Fatalf("got %d spans, want 2", len(spans))
			}
			byID := map[trace.SpanID]otlptest.Span{}
			for _, s := range spans {
				byID[s.SpanID] = s
			}
			root, child := byID[testRootID], byID[testChildID]
			if root.TraceID != testTraceID || child.TraceID != testTraceID {
				t.Errorf("trace ids %s, %s, want %s", root.TraceID, child.TraceID, testTraceID)
			}
			if root.ParentSpanID.IsValid() || child.ParentSpanID != testRootID {
				t.Errorf("parents %s, %s, want none, %s", root.ParentSpanID, child.ParentSpanID, testRootID)
			}
			if root.Name != "invoke_agent Demo" || root.Kind != trace.SpanKindServer || child.Kind != trace.SpanKindClient {
				t.Errorf("root %q %v, child %v", root.Name, root.Kind, child.Kind)
			}
			ws := want.Spans[0]
			if !root.Start.Equal(ws.Start) || !root.End.Equal(ws.End) {
				t.Errorf("root times %v–%v, want %v–%v", root.Start, root.End, ws.Start, ws.End)
			}
			wantAttrs := map[string]any{
				"gen_ai.conversation.id":             testSessionID,
				"watson_assistant.intent.confidence": 0.87,
				"watson_assistant.turn_count":        int64(1),
				"watson_assistant.handoff":           false,
				"watson_assistant.entities":          []any{"order_number", "date"},
			}
			if !reflect.DeepEqual(root.Attributes, wantAttrs) {
				t.Errorf("root attributes %v, want %v", root.Attributes, wantAttrs)
			}
			if root.StatusCode != codes.Error || root.StatusMessage != "callout failed" {
				t.Errorf("root status %v %q", root.StatusCode, root.StatusMessage)
			}
			if len(root.Events) != 1 || !root.Events[0].Time.Equal(ws.Events[0].Time) ||
				root.Events[0].Attributes["watson_assistant.node.id"] != "node_1" {
				t.Errorf("root events %+v", root.Events)
			}
			if len(root.Links) != 1 || root.Links[0].SpanID != testLinkedID {
				t.Errorf("root links %+v", root.Links)
			}
			if child.Attributes["http.response.status_code"] != int64(503) {
				t.Errorf("child attributes %v", child.Attributes)
			}
			if root.Scope != ScopeName || root.ScopeVersion != "1.2.3" {
				t.Errorf("scope %q %q", root.Scope, root.ScopeVersion)
			}
			for k, v := range map[string]any{
				"service.name": DefaultServiceName, "service.version": "1.2.3",
				"deployment.environment.name": "test", "telemetry.sdk.language": "go",
			} {
				if root.Resource[k] != v {
					t.Errorf("resource %s = %v, want %v (resource %v)", k, root.Resource[k], v, root.Resource)
				}
			}

			// Log records.
			recs, err := srv.WaitLogRecords(1, waitTimeout)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 1 {
				t.Fatalf("got %d log records", len(recs))
			}
			r, wl := recs[0], want.Logs[0]
			if r.EventName != wl.EventName || !r.Time.Equal(wl.Time) || r.ObservedTime.IsZero() {
				t.Errorf("log %q at %v (observed %v), want %q at %v", r.EventName, r.Time, r.ObservedTime, wl.EventName, wl.Time)
			}
			if r.Severity != log.SeverityWarn || r.SeverityText != "WARN" || r.Body != wl.Body {
				t.Errorf("log severity %v %q body %q", r.Severity, r.SeverityText, r.Body)
			}
			if r.TraceID != testTraceID || r.SpanID != testRootID || r.Flags&1 != 1 {
				t.Errorf("log ids %s %s flags %x, want %s %s sampled", r.TraceID, r.SpanID, r.Flags, testTraceID, testRootID)
			}
			if r.Attributes["watson_assistant.intent"] != "order_status" || r.Attributes["watson_assistant.intent.confidence"] != 0.87 {
				t.Errorf("log attributes %v", r.Attributes)
			}

			// Metrics.
			if _, err := srv.WaitMetric("watson_assistant.turns", waitTimeout); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				name  string
				match []otlptest.Attr
				want  float64
			}{
				{"watson_assistant.turns", nil, 3},
				{"watson_assistant.turns", []otlptest.Attr{{Key: "watson_assistant.outcome", Value: "answered"}}, 2},
				{"watson_assistant.conversations.started", nil, 1},
				{ExportErrorsMetric, nil, 0},
			} {
				if got := srv.CounterSum(c.name, c.match...); got != c.want {
					t.Errorf("sum of %s %v = %v, want %v", c.name, c.match, got, c.want)
				}
			}
			if got := srv.HistogramCount("watson_assistant.intent.confidence"); got != 2 {
				t.Errorf("confidence count = %d, want 2", got)
			}
			if got := srv.HistogramCount("gen_ai.server.request.duration"); got != 1 {
				t.Errorf("duration count = %d, want 1", got)
			}
			conf, _ := srv.WaitMetric("watson_assistant.intent.confidence", waitTimeout)
			if conf.Unit != "1" || len(conf.Points) != 1 || len(conf.Points[0].Exemplars) == 0 ||
				conf.Points[0].Exemplars[0].TraceID != testTraceID || conf.Points[0].Exemplars[0].SpanID != testRootID {
				t.Errorf("confidence metric %+v: want one point with an exemplar of the turn span", conf)
			}
		})
	}
}

// With nothing configured, telemetry goes to the console, readably.
func TestConsoleDefault(t *testing.T) {
	clearOTelEnv(t)
	var out syncBuffer
	e, err := New(t.Context(), WithConsole(&out), WithServiceVersion("0.1.0"), WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	if d := e.Describe(); d != "console (no OTLP endpoint configured); sampler parentbased_always_on" {
		t.Errorf("Describe() = %q", d)
	}
	e.Export(t.Context(), testTelemetry())
	if err := e.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	t.Logf("console output:\n%s", got)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^\S+Z resource .*service\.name="assistant-otel".*service\.version="0\.1\.0"`),
		regexp.MustCompile(`(?m)^2026-05-01T10:00:00\.123Z span  invoke_agent Demo 1\.234s trace=` + testTraceID.String() +
			` span=` + testRootID.String() + ` kind=server status=error\("callout failed"\) gen_ai\.conversation\.id="` + testSessionID + `"`),
		regexp.MustCompile(`(?m)^    event watson_assistant\.dialog_node \+100ms watson_assistant\.node\.id="node_1"$`),
		regexp.MustCompile(`(?m)^    link trace=` + testTraceID.String() + ` span=` + testLinkedID.String()),
		regexp.MustCompile(`(?m)^\S+ span  callout orders 700ms trace=\S+ span=` + testChildID.String() + ` parent=` + testRootID.String() + ` kind=client`),
		regexp.MustCompile(`(?m)^2026-05-01T10:00:01\.357Z log   WARN watson_assistant\.turn trace=` + testTraceID.String() +
			` span=` + testRootID.String() + ` "Where is my order\? 注文 🚚" watson_assistant\.intent="order_status"`),
		regexp.MustCompile(`(?m)^\S+ metric watson_assistant\.turns \+2 \{watson_assistant\.outcome="answered"\}$`),
		regexp.MustCompile(`(?m)^\S+ metric watson_assistant\.intent\.confidence count=2 sum=1\.29 min=0\.42 max=0\.87$`),
	} {
		if !want.MatchString(got) {
			t.Errorf("console output lacks %s", want)
		}
	}
	if strings.Contains(got, "{\n") {
		t.Errorf("console output looks like JSON, want one line per item")
	}
}

// Failed exports are counted by signal and logged, without secrets.
func TestExportErrorsCounted(t *testing.T) {
	failing := otlptest.StartGRPC(t, otlptest.Failing())
	healthy := otlptest.StartGRPC(t)
	clearOTelEnv(t)
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", failing.Endpoint())
	t.Setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", failing.Endpoint())
	t.Setenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", healthy.Endpoint())
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20s3cr3t-header-value")
	t.Setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "300") // ms: stop retrying soon

	var logs syncBuffer
	e, err := New(t.Context(), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	wantDesc := "otlp/grpc → " + failing.Endpoint() + " (traces, logs); otlp/grpc → " + healthy.Endpoint() +
		" (metrics); sampler parentbased_always_on"
	if d := e.Describe(); d != wantDesc {
		t.Errorf("Describe() = %q, want %q", d, wantDesc)
	}
	e.Export(t.Context(), testTelemetry())
	if err := e.Shutdown(t.Context()); err == nil {
		t.Error("Shutdown after failed exports returned nil")
	} else {
		t.Logf("Shutdown: %v", err)
	}

	if _, err := healthy.WaitMetric(ExportErrorsMetric, waitTimeout); err != nil {
		t.Fatal(err)
	}
	for _, signal := range []string{"traces", "logs"} {
		if got := healthy.CounterSum(ExportErrorsMetric, otlptest.Attr{Key: "signal", Value: signal}); got < 1 {
			t.Errorf("%s{signal=%s} = %v, want ≥ 1", ExportErrorsMetric, signal, got)
		}
	}
	if _, refused := failing.Requests(); refused == 0 {
		t.Error("the failing server refused nothing")
	}
	out := logs.String()
	for _, want := range []string{`level=WARN msg="telemetry export failed" signal=traces`, `signal=logs`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+e.Describe(), "s3cr3t") {
		t.Errorf("a header value leaked:\n%s", out)
	}
	if strings.Contains(out, "Where is my order") {
		t.Errorf("payload content leaked into the log:\n%s", out)
	}
}

func TestNewRejectsBadConfiguration(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"OTEL_TRACES_SAMPLER": "sometimes"}, `OTEL_TRACES_SAMPLER="sometimes"`},
		{map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"}, "between 0 and 1"},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_EXPORTER_OTLP_PROTOCOL": "thrift"}, `OTLP protocol "thrift" for traces`},
		{map[string]string{"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "json", "OTEL_METRICS_EXPORTER": "otlp"}, `OTLP protocol "json" for metrics`},
		{map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, "exporter: traces: unknown exporter"},
		{map[string]string{"OTEL_LOGS_EXPORTER": "syslog"}, "exporter: logs: unknown exporter"},
		{map[string]string{"OTEL_METRICS_EXPORTER": "statsd"}, "exporter: metrics: unknown exporter"},
	} {
		t.Run(strings.Join(slices.Sorted(maps.Values(tc.env)), ","), func(t *testing.T) {
			clearOTelEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			e, err := New(t.Context(), WithLogger(slog.New(slog.DiscardHandler)))
			if err == nil {
				_ = e.Shutdown(context.Background())
				t.Fatalf("New succeeded, want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"OTEL_TRACES_EXPORTER": "console", "OTEL_LOGS_EXPORTER": "none", "OTEL_METRICS_EXPORTER": "none"},
			"console (traces); none (logs, metrics); sampler parentbased_always_on"},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://user:pw@collector.example:4317/?token=abc",
			"OTEL_EXPORTER_OTLP_HEADERS": "x-api-key=k3y", "OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"},
			"otlp/grpc → https://collector.example:4317/ (traces, logs, metrics); sampler conversation_ratio(0.25)+flagged_turns"},
		{map[string]string{"OTEL_METRICS_EXPORTER": "none", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
			"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://logs.example:4318/v1/logs"},
			"otlp/http/protobuf → localhost:4318 [default] (traces); otlp/http/protobuf → http://logs.example:4318/v1/logs (logs); none (metrics); sampler parentbased_always_on"},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_LOGS_EXPORTER": "none", "OTEL_METRICS_EXPORTER": "none"},
			"otlp/grpc → localhost:4317 [default] (traces); none (logs, metrics); sampler parentbased_always_on"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			clearOTelEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			e, err := New(t.Context(), WithLogger(slog.New(slog.DiscardHandler)), WithConsole(&syncBuffer{}))
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				_ = e.Shutdown(ctx) // the default endpoints are not listening
			}()
			if got := e.Describe(); got != tc.want {
				t.Errorf("Describe() =\n%q, want\n%q", got, tc.want)
			}
		})
	}
}

// Meter returns a meter on the same provider: its instruments are exported
// with the rest.
func TestMeterSharesProvider(t *testing.T) {
	srv := otlptest.StartGRPC(t)
	clearOTelEnv(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.Endpoint())
	e, err := New(t.Context(), WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.Meter().Int64Counter("assistant_otel.requests")
	if err != nil {
		t.Fatal(err)
	}
	c.Add(t.Context(), 5)
	if err := e.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.WaitMetric("assistant_otel.requests", waitTimeout); err != nil {
		t.Fatal(err)
	}
	if got := srv.CounterSum("assistant_otel.requests"); got != 5 {
		t.Errorf("requests = %v, want 5", got)
	}
}
