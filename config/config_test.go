package config

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/internal/testpki"
	"github.com/assistant-otel/assistant-otel/mapping"
)

func env(m map[string]string) Getenv {
	return func(k string) string { return m[k] }
}

func TestServeDefaultsAndEnv(t *testing.T) {
	c, err := ParseServe(nil, env(map[string]string{EnvSecret: "s3cret"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != ":8080" || c.Path != "/webhook" || c.Auth != AuthJWT || !c.CaptureContent ||
		c.LowConfidenceThreshold != 0.5 || string(c.Secret) != "s3cret" || len(c.PseudonymKey) != 32 {
		t.Errorf("defaults: %+v", c)
	}
	c, err = ParseServe([]string{"--listen", "127.0.0.1:9999"}, env(map[string]string{
		EnvSecret:                        "s3cret",
		"ASSISTANT_OTEL_LISTEN":          "0.0.0.0:1",
		"ASSISTANT_OTEL_PATH":            "/hooks/wa",
		"ASSISTANT_OTEL_CAPTURE_CONTENT": "false",
		"ASSISTANT_OTEL_DRAIN_TIMEOUT":   "3s",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9999" {
		t.Errorf("flag must win over env, got %q", c.Listen)
	}
	if c.Path != "/hooks/wa" || c.CaptureContent || c.ShutdownTimeout != 3*time.Second {
		t.Errorf("env not applied: %+v", c)
	}
}

func TestCaptureContentSwitches(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want bool
	}{
		{nil, nil, true},
		{[]string{"--capture-content=false"}, nil, false},
		{nil, map[string]string{"ASSISTANT_OTEL_CAPTURE_CONTENT": "false"}, false},
		{nil, map[string]string{EnvGenAICaptureContent: "false"}, false},
		{nil, map[string]string{EnvGenAICaptureContent: "true"}, true},
	} {
		e := map[string]string{EnvSecret: "x"}
		for k, v := range tc.env {
			e[k] = v
		}
		c, err := ParseServe(tc.args, env(e), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if c.CaptureContent != tc.want {
			t.Errorf("args %v env %v: capture %v, want %v", tc.args, tc.env, c.CaptureContent, tc.want)
		}
	}
}

func TestServeRefusesWithoutSecret(t *testing.T) {
	_, err := ParseServe(nil, env(nil), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no webhook secret") {
		t.Fatalf("want a clear error without a secret, got %v", err)
	}
	c, err := ParseServe([]string{"--auth=none"}, env(nil), io.Discard)
	if err != nil || c.Auth != AuthNone {
		t.Fatalf("--auth=none must start without a secret: %v", err)
	}
	if len(c.PseudonymKey) != 0 {
		t.Error("a pseudonym key appeared from nowhere")
	}
}

func TestSecretFile(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "secret")
	if err := os.WriteFile(f, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := ParseServe([]string{"--secret-file", f}, env(map[string]string{EnvSecret: "from-env"}), io.Discard)
	if err != nil || string(c.Secret) != "from-file" {
		t.Fatalf("secret file: %q %v", c.Secret, err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseServe([]string{"--secret-file", empty}, env(nil), io.Discard); err == nil {
		t.Error("empty secret file accepted")
	}
	if _, err := ParseServe([]string{"--secret-file", filepath.Join(dir, "missing")}, env(nil), io.Discard); err == nil {
		t.Error("missing secret file accepted")
	}
}

func TestServeRejectsBadValues(t *testing.T) {
	for _, args := range [][]string{
		{"--path", "webhook"},
		{"--low-confidence-threshold", "1.5"},
		{"--auth", "basic"},
		{"--log-format", "xml"},
		{"--log-level", "loud"},
		{"--max-body-bytes", "10"},
		{"--low-confidence-threshold", "NaN"},
		{"--ambiguity-margin", "NaN"},
		{"--memory-queue-bytes", "8388608"},
		{"--memory-limit", "1048576"},
		{"--memory-limit", "-1"},
		{"--spool-dir", "/tmp/x", "--spool-max-bytes", "1048576"},
		{"--max-request-bytes", "1000"},
		{"--dead-letter-max-bytes", "1000"},
		{"--pump-workers", "0"},
		{"--pump-workers", "65"},
		{"--no-such-flag"},
		{"extra-arg"},
	} {
		if _, err := ParseServe(args, env(map[string]string{EnvSecret: "x"}), io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	if _, err := ParseServe(nil, env(map[string]string{EnvSecret: "x", "ASSISTANT_OTEL_LOW_CONFIDENCE_THRESHOLD": "abc"}), io.Discard); err == nil {
		t.Error("bad env value accepted")
	}
	if _, err := ParseServe(nil, env(map[string]string{EnvSecret: "x", EnvGenAICaptureContent: "nope"}), io.Discard); err == nil {
		t.Error("bad OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT accepted")
	}
}

func TestErrorsNeverHoldTheSecret(t *testing.T) {
	const secret = "super-secret-value-123"
	_, err := ParseServe([]string{"--auth", "bogus", "--path", "x"}, env(map[string]string{EnvSecret: secret}), io.Discard)
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Fatalf("error %v", err)
	}
}

func TestSend(t *testing.T) {
	c, err := ParseSend([]string{"--url", "http://127.0.0.1:1/webhook", "e.json"}, env(map[string]string{EnvSecret: "x"}), io.Discard)
	if err != nil || c.File != "e.json" || string(c.Secret) != "x" {
		t.Fatalf("%+v %v", c, err)
	}
	if _, err := ParseSend([]string{"e.json"}, env(map[string]string{EnvSecret: "x"}), io.Discard); err == nil {
		t.Error("missing --url accepted")
	}
	if _, err := ParseSend([]string{"--url", "u", "e.json"}, env(nil), io.Discard); err == nil {
		t.Error("missing secret accepted")
	}
}

func TestSpoolFlags(t *testing.T) {
	c, err := ParseServe(nil, env(map[string]string{EnvSecret: "s"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Spool.Dir != "" || c.Spool.MaxBytes != 1<<30 || c.Spool.DedupeWindow != time.Hour || c.Spool.DedupeMax != 100000 || c.ShutdownTimeout != 15*time.Second {
		t.Errorf("defaults: %+v", c.Spool)
	}
	if c.MemoryLimit != 64<<20 {
		t.Errorf("--memory-limit default %d, want 64 MiB", c.MemoryLimit)
	}
	if c.MaxRequestBytes != 3<<20 || c.Spool.DeadLetterMaxBytes != 256<<20 {
		t.Errorf("--max-request-bytes default %d, --dead-letter-max-bytes %d", c.MaxRequestBytes, c.Spool.DeadLetterMaxBytes)
	}
	if c.PumpWorkers != 2 {
		t.Errorf("--pump-workers default %d, want 2", c.PumpWorkers)
	}
	c, err = ParseServe(nil, env(map[string]string{EnvSecret: "s", "ASSISTANT_OTEL_MAX_REQUEST_BYTES": "65536", "ASSISTANT_OTEL_DEAD_LETTER_MAX_BYTES": "2097152", "ASSISTANT_OTEL_PUMP_WORKERS": "64"}), io.Discard)
	if err != nil || c.MaxRequestBytes != 64<<10 || c.Spool.DeadLetterMaxBytes != 2<<20 || c.PumpWorkers != 64 {
		t.Errorf("ASSISTANT_OTEL_MAX_REQUEST_BYTES, ASSISTANT_OTEL_DEAD_LETTER_MAX_BYTES, ASSISTANT_OTEL_PUMP_WORKERS: %d, %d, %d, %v", c.MaxRequestBytes, c.Spool.DeadLetterMaxBytes, c.PumpWorkers, err)
	}
	for v, want := range map[string]int64{"0": 0, "134217728": 128 << 20} {
		c, err := ParseServe(nil, env(map[string]string{EnvSecret: "s", "ASSISTANT_OTEL_MEMORY_LIMIT": v}), io.Discard)
		if err != nil || c.MemoryLimit != want {
			t.Errorf("ASSISTANT_OTEL_MEMORY_LIMIT=%s: %d, %v; want %d", v, c.MemoryLimit, err, want)
		}
	}
	c, err = ParseServe([]string{"--drain-timeout", "7s"}, env(map[string]string{
		EnvSecret:                           "s",
		"ASSISTANT_OTEL_SPOOL_DIR":          "/var/lib/x",
		"ASSISTANT_OTEL_SPOOL_MAX_BYTES":    "2097152",
		"ASSISTANT_OTEL_DEDUPE_WINDOW":      "0s",
		"ASSISTANT_OTEL_MEMORY_QUEUE_BYTES": "4194304",
		"ASSISTANT_OTEL_MAX_BODY_BYTES":     "1048576",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Spool.Dir != "/var/lib/x" || c.Spool.MaxBytes != 2<<20 || c.Spool.DedupeWindow != 0 || c.Spool.MemoryMaxBytes != 4<<20 || c.ShutdownTimeout != 7*time.Second {
		t.Errorf("env and flags not applied: %+v %v", c.Spool, c.ShutdownTimeout)
	}
	for _, args := range [][]string{{"--spool-max-bytes", "1000"}, {"--dedupe-max", "-1"}, {"--drain-timeout", "0s"}} {
		if _, err := ParseServe(args, env(map[string]string{EnvSecret: "s"}), io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

func TestSecuritySettings(t *testing.T) {
	dir := t.TempDir()
	a, b, cert, key := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	certPEM, keyPEM := testpki.NewCA(t).Server(t, 2)
	for f, v := range map[string]string{a: "old-secret", b: "new-secret\n", cert: string(certPEM), key: string(keyPEM)} {
		if err := os.WriteFile(f, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c, err := ParseServe([]string{
		"--secret-file", a + "," + b, "--auth", "header", "--auth-header", "X-Webhook-Key",
		"--tls-cert", cert, "--tls-key", key, "--max-concurrent-requests", "10",
		"--redact-disable", "ip,phone", "--redact-pattern", `order=A-\d{4}`, "--redact-pattern", `ticket=T\d+`,
		"--context-allow", "skills.actions skill.skill_variables.tier,global.system.timezone",
		"--ambiguity-margin", "0.2",
	}, env(map[string]string{"ASSISTANT_OTEL_READ_HEADER_TIMEOUT": "3s"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Secrets) != 2 || string(c.Secrets[1]) != "new-secret" || string(c.Secret) != "old-secret" {
		t.Errorf("secrets: %q", c.Secrets)
	}
	s := c.Security
	if c.Auth != AuthHeader || s.AuthHeader != "X-Webhook-Key" || s.TLSCert != cert || s.HTTP.MaxConcurrent != 10 ||
		s.HTTP.ReadHeaderTimeout != 3*time.Second || len(c.Privacy.RedactDisable) != 2 || len(c.Privacy.RedactPatterns) != 2 ||
		len(c.Privacy.ContextAllow) != 2 || c.AmbiguityMargin != 0.2 || len(s.SecretFiles) != 2 {
		t.Errorf("settings not applied: %+v", c)
	}
	r, err := c.Privacy.Redactor()
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Redact("order A-1234 for a@b.example from 10.0.0.1"); !strings.Contains(got, "[REDACTED:order]") ||
		!strings.Contains(got, "[REDACTED:email]") || !strings.Contains(got, "10.0.0.1") {
		t.Errorf("redactor built wrong: %q", got)
	}
	off, _ := ParseServe([]string{"--redact=false"}, env(map[string]string{EnvSecret: "x"}), io.Discard)
	if r, err := off.Privacy.Redactor(); err != nil || r != nil {
		t.Errorf("--redact=false still redacts: %v %v", r, err)
	}
}

func TestSecuritySettingsRejected(t *testing.T) {
	for _, args := range [][]string{
		{"--tls-cert", "c.pem"},
		{"--max-token-age", "-1s"},
		{"--max-header-bytes", "10"},
		{"--read-timeout", "0s"},
		{"--max-concurrent-requests", "-1"},
		{"--redact-disable", "nonsense"},
		{"--redact-pattern", "noequals"},
		{"--redact-pattern", "x=("},
		{"--context-allow", "global.system.state"},
		{"--auth", "header", "--auth-header", "Bad Header"},
		{"--ambiguity-margin", "2"},
		{"--assistants-file", "a.yaml", "--secret-file", "s"},
	} {
		if _, err := ParseServe(args, env(map[string]string{EnvSecret: "x"}), io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	assistantsFile := filepath.Join(t.TempDir(), "a.yaml")
	if err := os.WriteFile(assistantsFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseServe([]string{"--assistants-file", assistantsFile}, env(nil), io.Discard); err != nil {
		t.Errorf("an assistants file needs no other secret: %v", err)
	}
}

func TestMaxInflightBytes(t *testing.T) {
	c, err := ParseServe(nil, env(map[string]string{EnvSecret: "x"}), io.Discard)
	if err != nil || c.Security.HTTP.MaxInflightBytes != 0 {
		t.Fatalf("default: %d %v (want 0: derived from the memory limit)", c.Security.HTTP.MaxInflightBytes, err)
	}
	c, err = ParseServe(nil, env(map[string]string{EnvSecret: "x", "ASSISTANT_OTEL_MAX_INFLIGHT_BYTES": "33554432"}), io.Discard)
	if err != nil || c.Security.HTTP.MaxInflightBytes != 32<<20 {
		t.Errorf("from the environment: %d %v", c.Security.HTTP.MaxInflightBytes, err)
	}
	c, err = ParseServe([]string{"--max-inflight-bytes", "16777216"}, env(map[string]string{EnvSecret: "x", "ASSISTANT_OTEL_MAX_INFLIGHT_BYTES": "33554432"}), io.Discard)
	if err != nil || c.Security.HTTP.MaxInflightBytes != 16<<20 {
		t.Errorf("the flag must win: %d %v", c.Security.HTTP.MaxInflightBytes, err)
	}
	for _, args := range [][]string{
		{"--max-inflight-bytes", "-1"},
		{"--max-inflight-bytes", "1048576"}, // below the 8 MiB max body
		{"--max-inflight-bytes", "2048", "--max-body-bytes", "4096"},
	} {
		if _, err := ParseServe(args, env(map[string]string{EnvSecret: "x"}), io.Discard); err == nil || !strings.Contains(err.Error(), "--max-inflight-bytes") {
			t.Errorf("%v: %v, want an error naming --max-inflight-bytes", args, err)
		}
	}
	if c, err := ParseServe([]string{"--max-inflight-bytes", "4096", "--max-body-bytes", "4096"}, env(map[string]string{EnvSecret: "x"}), io.Discard); err != nil || c.Security.HTTP.MaxInflightBytes != 4096 {
		t.Errorf("a budget of exactly the max body: %v", err)
	}
}

func TestReadyzDetailsSwitch(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want bool
	}{
		{nil, nil, false},
		{[]string{"--readyz-details"}, nil, true},
		{nil, map[string]string{"ASSISTANT_OTEL_READYZ_DETAILS": "true"}, true},
		{[]string{"--readyz-details=false"}, map[string]string{"ASSISTANT_OTEL_READYZ_DETAILS": "true"}, false},
	} {
		e := map[string]string{EnvSecret: "s3cret"}
		for k, v := range tc.env {
			e[k] = v
		}
		c, err := ParseServe(tc.args, env(e), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if c.ReadyzDetails != tc.want {
			t.Errorf("%v %v: ReadyzDetails %v, want %v", tc.args, tc.env, c.ReadyzDetails, tc.want)
		}
	}
}

// TestMaxEventAgeDefaultIsMappings: serve's --max-event-age default is the mapping's documented window.
func TestMaxEventAgeDefaultIsMappings(t *testing.T) {
	c, err := ParseServe(nil, env(map[string]string{"ASSISTANT_OTEL_SECRET": "s"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxEventAge != mapping.DefaultMaxEventAge {
		t.Fatalf("--max-event-age default %v, mapping.DefaultMaxEventAge %v", c.MaxEventAge, mapping.DefaultMaxEventAge)
	}
	if _, err := ParseServe([]string{"--max-event-age", "0s"}, env(map[string]string{"ASSISTANT_OTEL_SECRET": "s"}), io.Discard); err == nil {
		t.Fatal("--max-event-age 0s accepted")
	}
}

func TestMetricLabelFlags(t *testing.T) {
	c, err := ParseServe(nil, env(map[string]string{EnvSecret: "x", "ASSISTANT_OTEL_METRIC_INTENTS": "order_status, cancel"}), io.Discard)
	if err != nil || strings.Join(c.MetricIntents, "|") != "order_status|cancel" || c.MetricLabelLimit != 200 {
		t.Errorf("intents %q limit %d: %v", c.MetricIntents, c.MetricLabelLimit, err)
	}
	if _, err := ParseServe([]string{"--metric-label-limit", "0"}, env(map[string]string{EnvSecret: "x"}), io.Discard); err == nil || !strings.Contains(err.Error(), "--metric-label-limit") {
		t.Errorf("limit 0: %v", err)
	}
}

func TestConsoleFormatFlag(t *testing.T) {
	c, err := ParseServe(nil, env(map[string]string{EnvSecret: "x"}), io.Discard)
	if err != nil || c.ConsoleFormat != "transcript" {
		t.Errorf("default %q: %v", c.ConsoleFormat, err)
	}
	c, err = ParseServe(nil, env(map[string]string{EnvSecret: "x", "ASSISTANT_OTEL_CONSOLE_FORMAT": "detail"}), io.Discard)
	if err != nil || c.ConsoleFormat != "detail" {
		t.Errorf("from the environment %q: %v", c.ConsoleFormat, err)
	}
	if _, err := ParseServe([]string{"--console-format", "json"}, env(map[string]string{EnvSecret: "x"}), io.Discard); err == nil || !strings.Contains(err.Error(), "--console-format") {
		t.Errorf("json: %v", err)
	}
}

// --metrics-listen: on by default on loopback, off when empty (or "off"),
// and never the webhook's own address.
func TestMetricsListen(t *testing.T) {
	sec := map[string]string{EnvSecret: "x"}
	c, err := ParseServe(nil, env(sec), io.Discard)
	if err != nil || c.MetricsListen != "127.0.0.1:9464" {
		t.Fatalf("default %q, %v; want 127.0.0.1:9464", c.MetricsListen, err)
	}
	for _, tc := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"--metrics-listen", ""}, "", ""},
		{nil, "off", ""},
		{nil, "0.0.0.0:9100", "0.0.0.0:9100"},
		{[]string{"--listen", ":8080", "--metrics-listen", "127.0.0.1:8081"}, "", "127.0.0.1:8081"},
		{[]string{"--listen", "10.0.0.1:8080", "--metrics-listen", "127.0.0.1:8080"}, "", "127.0.0.1:8080"},
	} {
		e := map[string]string{EnvSecret: "x", "ASSISTANT_OTEL_METRICS_LISTEN": tc.env}
		c, err := ParseServe(tc.args, env(e), io.Discard)
		if err != nil || c.MetricsListen != tc.want {
			t.Errorf("%v env %q: %q, %v; want %q", tc.args, tc.env, c.MetricsListen, err, tc.want)
		}
	}
	for _, args := range [][]string{
		{"--listen", ":8080", "--metrics-listen", ":8080"},
		{"--listen", ":8080", "--metrics-listen", "127.0.0.1:8080"},
		{"--listen", "127.0.0.1:9464"}, // the default metrics address
		{"--listen", "10.0.0.1:8080", "--metrics-listen", "0.0.0.0:8080"},
		{"--metrics-listen", "9464"},
	} {
		if _, err := ParseServe(args, env(sec), io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
