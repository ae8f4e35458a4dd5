package backfill

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/config"
	"github.com/assistant-otel/assistant-otel/watsonapi"
)

var now = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestParseFlagsTheDocumentedInterface(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte("file-api-key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := parseFlags([]string{
		"--url", "https://api.eu-de.assistant.watson.cloud.ibm.com/instances/abc",
		"--assistant-id", "asst-1", "--from", "2026-03-01", "--to", "2026-03-02T06:30:00Z",
		"--api-key-file", keyFile,
	}, env(), &bytes.Buffer{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if c.APIKey != "file-api-key" || c.BearerToken != "" || c.IAMURL != watsonapi.DefaultIAMURL ||
		c.Version != watsonapi.DefaultVersion || c.PathID() != "asst-1" || c.PageLimit != 100 ||
		!c.From.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) || !c.To.Equal(time.Date(2026, 3, 2, 6, 30, 0, 0, time.UTC)) ||
		c.Progress != ProgressAuto || c.DryRun || c.Metrics {
		t.Errorf("config %+v", c)
	}
	if got := c.BaseFilter(); got != "request_timestamp>=2026-03-01T00:00:00.000Z,request_timestamp<2026-03-02T06:30:00.000Z" {
		t.Errorf("filter %q", got)
	}
}

func TestParseFlagsFromTheEnvironment(t *testing.T) {
	c, err := parseFlags([]string{"--page-limit", "20"}, env(
		"ASSISTANT_OTEL_URL", "https://x.example/instances/1",
		"ASSISTANT_OTEL_ENVIRONMENT_ID", "env-9",
		"ASSISTANT_OTEL_API_KEY", "env-key",
		"ASSISTANT_OTEL_IAM_URL", "https://iam.test.cloud.ibm.com/identity/token",
		"ASSISTANT_OTEL_VERSION", "2023-06-15",
		"ASSISTANT_OTEL_FROM", "7d",
		"ASSISTANT_OTEL_FILTER", "customer_id::abc",
		"ASSISTANT_OTEL_CHECKPOINT", "/tmp/cp.json",
		"ASSISTANT_OTEL_DRY_RUN", "true",
		"ASSISTANT_OTEL_PAGE_LIMIT", "50", // the command line wins
		"ASSISTANT_OTEL_METRICS", "1",
		"ASSISTANT_OTEL_PROGRESS", "plain",
	), &bytes.Buffer{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if c.PathID() != "env-9" || c.APIKey != "env-key" || c.IAMURL != "https://iam.test.cloud.ibm.com/identity/token" ||
		c.Version != "2023-06-15" || !c.From.Equal(now.Add(-7*24*time.Hour)) || c.Filter != "customer_id::abc" ||
		c.Checkpoint != "/tmp/cp.json" || !c.DryRun || c.PageLimit != 20 || !c.Metrics || c.Progress != ProgressPlain {
		t.Errorf("config %+v", c)
	}
}

func TestMappingFlagsMatchServe(t *testing.T) {
	base := []string{"--url", "https://x/i", "--assistant-id", "a"}
	c, err := parseFlags(append(base, "--assistant-name", "Shop bot", "--max-text-length", "100"), env(
		"ASSISTANT_OTEL_API_KEY", "k", "ASSISTANT_OTEL_SECRET", "webhook-secret",
		"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "false"), &bytes.Buffer{}, now)
	if err != nil {
		t.Fatal(err)
	}
	o := c.Mapping.Options()
	if o.AssistantName != "Shop bot" || o.MaxTextLength != 100 || o.CaptureContent || o.LowConfidenceThreshold != 0.5 ||
		string(o.PseudonymKey) != string(config.DerivePseudonymKey([]byte("webhook-secret"))) || o.Validate() != nil {
		t.Errorf("mapping options %+v", o)
	}
	c, err = parseFlags(base, env("ASSISTANT_OTEL_API_KEY", "k", "ASSISTANT_OTEL_PSEUDONYM_KEY", "pk", "ASSISTANT_OTEL_SECRET", "s"), &bytes.Buffer{}, now)
	if err != nil || string(c.Mapping.Options().PseudonymKey) != "pk" || !c.Mapping.CaptureContent {
		t.Errorf("explicit pseudonym key: %+v, %v", c.Mapping, err)
	}
	r, err := ParseReplayFlags([]string{"--low-confidence-threshold", "2", "f"}, env(), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "--low-confidence-threshold") {
		t.Errorf("replay: %+v, %v", r, err)
	}
}

func TestParseFlagsBearerToken(t *testing.T) {
	c, err := parseFlags([]string{"--url", "https://x/i", "--assistant-id", "a"}, env("ASSISTANT_OTEL_BEARER_TOKEN", "tok"), &bytes.Buffer{}, now)
	if err != nil || c.BearerToken != "tok" || c.APIKey != "" {
		t.Fatalf("config %+v, %v", c, err)
	}
}

func TestParseFlagsErrors(t *testing.T) {
	base := []string{"--url", "https://x/i", "--assistant-id", "a"}
	key := env("ASSISTANT_OTEL_API_KEY", "super-secret-key")
	for _, tc := range []struct {
		args []string
		env  func(string) string
		want string
	}{
		{[]string{"--assistant-id", "a"}, key, "--url is required"},
		{[]string{"--url", "https://x/i"}, key, "--assistant-id (classic) or --environment-id"},
		{append(base, "--environment-id", "e"), key, "not both"},
		{base, env(), "no credentials"},
		{base, env("ASSISTANT_OTEL_API_KEY", "k", "ASSISTANT_OTEL_BEARER_TOKEN", "t"), "give one"},
		{append(base, "--api-key-file", "/nonexistent/key"), key, "reading API key"},
		{append(base, "--from", "2026-03-02", "--to", "2026-03-01"), key, "is not before --to"},
		{append(base, "--from", "yesterday"), key, "--from: \"yesterday\" is not a time"},
		{append(base, "--version", "v2"), key, "must be a date"},
		{append(base, "--page-limit", "0"), key, "--page-limit 0"},
		{append(base, "--progress", "fancy"), key, "--progress"},
		{append(base, "extra"), key, "unexpected argument"},
		{[]string{"--url", "not a url", "--assistant-id", "a"}, key, "not an http(s) URL"},
		{base, env("ASSISTANT_OTEL_API_KEY", "k", "ASSISTANT_OTEL_DRY_RUN", "maybe"), "ASSISTANT_OTEL_DRY_RUN"},
	} {
		_, err := parseFlags(tc.args, tc.env, &bytes.Buffer{}, now)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %q", tc.args, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "super-secret-key") {
			t.Errorf("%v: error shows the key: %v", tc.args, err)
		}
	}
	var usage bytes.Buffer
	if _, err := parseFlags([]string{"-h"}, env(), &usage, now); !errors.Is(err, flag.ErrHelp) || !strings.Contains(usage.String(), "--api-key-file") {
		t.Errorf("-h: %v, %q", err, usage.String())
	}
}

func TestSecretsDoNotPrint(t *testing.T) {
	c := Config{APIKey: "the-api-key", BearerToken: "the-token", Mapping: Mapping{Mapping: config.Mapping{PseudonymKey: config.Key("the-token")}}}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s %q", c, c, c, c.APIKey, c.BearerToken)} {
		if strings.Contains(s, "the-api-key") || strings.Contains(s, "the-token") {
			t.Errorf("printed config shows a secret: %s", s)
		}
	}
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]time.Time{
		"":                            {},
		"now":                         now,
		"2026-03-01":                  time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		"2026-03-01T09:30":            time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC),
		"2026-03-01T09:30:15.25":      time.Date(2026, 3, 1, 9, 30, 15, 250_000_000, time.UTC),
		"2026-03-01T09:30:15+01:00":   time.Date(2026, 3, 1, 8, 30, 15, 0, time.UTC),
		"2026-03-01T09:30:15.123456Z": time.Date(2026, 3, 1, 9, 30, 15, 123_456_000, time.UTC),
		"36h":                         now.Add(-36 * time.Hour),
		"-90m":                        now.Add(-90 * time.Minute),
		"7d":                          now.Add(-7 * 24 * time.Hour),
		"1.5d":                        now.Add(-36 * time.Hour),
	} {
		got, err := ParseTime(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"yesterday", "2026-13-01", "-3x"} {
		if _, err := ParseTime(bad, now); err == nil {
			t.Errorf("ParseTime(%q) accepted", bad)
		}
	}
}

func TestParseReplayFlags(t *testing.T) {
	c, err := ParseReplayFlags([]string{"--dry-run", "a.json", "b.jsonl.gz"}, env("ASSISTANT_OTEL_DEDUPE_FILE", "/tmp/seen"), &bytes.Buffer{})
	if err != nil || !c.DryRun || c.DedupeFile != "/tmp/seen" || len(c.Files) != 2 || c.Files[1] != "b.jsonl.gz" {
		t.Errorf("config %+v, %v", c, err)
	}
	if _, err := ParseReplayFlags(nil, env(), &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "at least one file") {
		t.Errorf("no files: %v", err)
	}
}

// TestPrivacyFlagsMatchServe: imports redact and allow context variables
// with the same flags and variables as serve.
func TestPrivacyFlagsMatchServe(t *testing.T) {
	cfg, err := ParseReplayFlags([]string{"--redact-pattern", `order=A-\d{4}`, "--context-allow", "global.system.timezone", "--ambiguity-margin", "0.3", "f.json"},
		func(k string) string {
			if k == "ASSISTANT_OTEL_REDACT_DISABLE" {
				return "ip"
			}
			return ""
		}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.Mapping.Options()
	if o.AmbiguityMargin != 0.3 || o.ContextAllow.Empty() || o.Redactor == nil {
		t.Fatalf("options not applied: %+v", o)
	}
	if got := o.Redactor.Redact("A-1234 a@b.example 10.0.0.1"); got != "[REDACTED:order] [REDACTED:email] 10.0.0.1" {
		t.Errorf("redactor: %q", got)
	}
	if _, err := ParseReplayFlags([]string{"--redact-pattern", "bad", "f.json"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Error("a bad pattern was accepted")
	}
}

func TestParseDeadLetterFlags(t *testing.T) {
	c, err := ParseDeadLetterFlags([]string{"retry", "--assistant-name", "Bot"}, env(
		"ASSISTANT_OTEL_SPOOL_DIR", "/var/spool/x", "ASSISTANT_OTEL_MAX_REQUEST_BYTES", "65536", "ASSISTANT_OTEL_SECRET", "s"), &bytes.Buffer{})
	if err != nil || c.Action != DeadLettersRetry || c.SpoolDir != "/var/spool/x" || c.Mapping.MaxRequestBytes != 64<<10 ||
		c.Mapping.AssistantName != "Bot" || string(c.Mapping.PseudonymKey) != string(config.DerivePseudonymKey([]byte("s"))) {
		t.Fatalf("%+v, %v", c, err)
	}
	c, err = ParseDeadLetterFlags([]string{"list", "--spool-dir", "d"}, env(), &bytes.Buffer{})
	if err != nil || c.Action != DeadLettersList || c.Mapping.MaxRequestBytes != config.DefaultMaxRequestBytes {
		t.Fatalf("%+v, %v", c, err)
	}
	for _, args := range [][]string{nil, {"purge", "--spool-dir", "d"}, {"list"}, {"retry", "--spool-dir", "d", "--max-request-bytes", "10"}, {"list", "--spool-dir", "d", "x"}} {
		if _, err := ParseDeadLetterFlags(args, env(), &bytes.Buffer{}); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

// TestMappingFlagsDeclaredOnce: every mapping flag reads the same (name,
// type, default, help) in serve, backfill, replay and dead-letters retry.
func TestMappingFlagsDeclaredOnce(t *testing.T) {
	helpOf := func(parse func(io.Writer)) map[string]string {
		var b bytes.Buffer
		parse(&b)
		flags := map[string]string{}
		var name string
		for _, line := range strings.Split(b.String(), "\n") {
			if strings.HasPrefix(line, "  -") {
				name = strings.TrimLeft(strings.Fields(line)[0], "-")
			}
			if name != "" {
				flags[name] += line + "\n"
			}
		}
		return flags
	}
	serve := helpOf(func(w io.Writer) { _, _ = config.ParseServe([]string{"-h"}, env(), w) })
	others := map[string]map[string]string{
		"backfill":     helpOf(func(w io.Writer) { _, _ = ParseFlags([]string{"-h"}, env(), w) }),
		"replay":       helpOf(func(w io.Writer) { _, _ = ParseReplayFlags([]string{"-h"}, env(), w) }),
		"dead-letters": helpOf(func(w io.Writer) { _, _ = ParseDeadLetterFlags([]string{"retry", "-h"}, env(), w) }),
	}
	for _, name := range []string{"assistant-name", "low-confidence-threshold", "ambiguity-margin", "capture-content",
		"max-text-length", "pseudonym-key-file", "redact", "redact-disable", "redact-pattern", "context-allow",
		"metric-intents", "metric-label-limit", "console-format"} {
		if serve[name] == "" {
			t.Fatalf("serve has no --%s", name)
		}
		for cmd, help := range others {
			if help[name] != serve[name] {
				t.Errorf("%s --%s:\n%s\nserve:\n%s", cmd, name, help[name], serve[name])
			}
		}
	}
}

// TestRelativeBoundsAndTheStateFile: a relative --from is kept as written in
// the run's identity (so a later run of the same command matches its
// checkpoint) while an absolute one is the time itself; the default state
// file lies in $XDG_STATE_HOME, one per assistant or environment and window.
func TestRelativeBoundsAndTheStateFile(t *testing.T) {
	parseAt := func(at time.Time, args ...string) Config {
		t.Helper()
		c, err := parseFlags(append([]string{"--url", "https://api.example.com/instances/abc"}, args...),
			env(EnvAPIKey, "k"), &bytes.Buffer{}, at)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	later := now.Add(26 * time.Hour)
	a, b := parseAt(now, "--assistant-id", "a1", "--from", "7d"), parseAt(later, "--assistant-id", "a1", "--from", "7d")
	if a.FromSpec != "7d" || a.BaseFilter() == b.BaseFilter() || a.Identity() != b.Identity() {
		t.Errorf("--from 7d a day apart: spec %q, filters %q / %q, identities %q / %q (want the same identity)",
			a.FromSpec, a.BaseFilter(), b.BaseFilter(), a.Identity(), b.Identity())
	}
	abs1, abs2 := parseAt(now, "--assistant-id", "a1", "--from", "2026-03-01"), parseAt(now, "--assistant-id", "a1", "--from", "2026-03-02")
	if abs1.FromSpec != "" || abs1.Identity() == abs2.Identity() || abs1.Identity() == a.Identity() {
		t.Errorf("absolute --from: spec %q, identities %q / %q / relative %q (want all different)", abs1.FromSpec, abs1.Identity(), abs2.Identity(), a.Identity())
	}

	state := t.TempDir()
	getenv := env("XDG_STATE_HOME", state)
	pa, err := DefaultStatePath(a, getenv)
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := DefaultStatePath(b, getenv)
	pabs, _ := DefaultStatePath(abs1, getenv)
	if filepath.Dir(pa) != filepath.Join(state, "assistant-otel", "backfill") || !strings.HasPrefix(filepath.Base(pa), "assistant-a1-") {
		t.Errorf("state file %s, want assistant-a1-… in $XDG_STATE_HOME/assistant-otel/backfill", pa)
	}
	if pa != pb || pa == pabs {
		t.Errorf("state files: same command %s / %s (want equal), other window %s (want different)", pa, pb, pabs)
	}
	envc := parseAt(now, "--environment-id", "../../etc", "--from", "7d")
	pe, _ := DefaultStatePath(envc, getenv)
	if filepath.Dir(pe) != filepath.Dir(pa) || !strings.HasPrefix(filepath.Base(pe), "environment-______etc-") {
		t.Errorf("environment state file %s: want environment-… in %s, the id unable to leave it", pe, filepath.Dir(pa))
	}
	home, _ := DefaultStatePath(a, env())
	if h, err := os.UserHomeDir(); err == nil && !strings.HasPrefix(home, filepath.Join(h, ".local", "state", "assistant-otel", "backfill")) {
		t.Errorf("without XDG_STATE_HOME: %s, want under ~/.local/state", home)
	}

	_, err = parseFlags([]string{"--url", "https://api.example.com/instances/abc", "--assistant-id", "a1", "--no-state", "--checkpoint", "f"},
		env(EnvAPIKey, "k"), &bytes.Buffer{}, now)
	if err == nil || !strings.Contains(err.Error(), "--no-state and --checkpoint") {
		t.Errorf("--no-state with --checkpoint: %v", err)
	}
}
