package config

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// commands are the parsers of this package, with a flag of each kind they
// take and whether they read the environment.
var commands = []struct {
	name     string
	parse    func(args []string, getenv Getenv, help io.Writer) error
	readsEnv bool
}{
	{"serve", func(a []string, g Getenv, h io.Writer) error { _, err := ParseServe(a, g, h); return err }, true},
	{"send", func(a []string, g Getenv, h io.Writer) error { _, err := ParseSend(a, g, h); return err }, true},
	{"healthcheck", func(a []string, _ Getenv, h io.Writer) error { _, err := ParseHealthcheck(a, h); return err }, false},
}

// TestHelpOfEveryCommand: -h, -help and --help print the usage and every
// flag, each with its variable, and return flag.ErrHelp (exit 0).
func TestHelpOfEveryCommand(t *testing.T) {
	for _, c := range commands {
		for _, h := range []string{"-h", "-help", "--help"} {
			var help bytes.Buffer
			err := c.parse([]string{h}, env(nil), &help)
			if !errors.Is(err, flag.ErrHelp) || !strings.HasPrefix(help.String(), "Usage: assistant-otel "+c.name) {
				t.Fatalf("%s %s: %v\n%s", c.name, h, err, help.String())
			}
			lines := strings.Split(help.String(), "\n")
			flags := 0
			for i, line := range lines {
				name, ok := strings.CutPrefix(line, "  --")
				if !ok {
					continue
				}
				flags++
				name, _, _ = strings.Cut(name, " ")
				if shown := strings.Contains(lines[i+1], "env "+EnvVar(name)+")"); shown != c.readsEnv {
					t.Errorf("%s --%s: variable shown %v, want %v: %q", c.name, name, shown, c.readsEnv, lines[i+1])
				}
			}
			if flags < 2 {
				t.Errorf("%s %s: %d flags in the help:\n%s", c.name, h, flags, help.String())
			}
		}
	}
	var help bytes.Buffer
	_, _ = ParseServe([]string{"--help"}, env(nil), &help)
	for _, want := range []string{
		"  --listen string\n        address to listen on for the webhook (host:port) (default \":8080\"; env ASSISTANT_OTEL_LISTEN)\n",
		"  --max-body-bytes int\n        largest accepted request body in bytes (also after gzip decompression) (default 8388608; env ASSISTANT_OTEL_MAX_BODY_BYTES)\n",
		"  --readyz-details\n", "  --drain-timeout duration\n", "  --ambiguity-margin number\n",
	} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("serve --help has no %q", want)
		}
	}
}

// TestBadValuesAreNamed: a value that does not parse is named with where
// it came from and the accepted form, in one line; an unknown flag points
// to --help.
func TestBadValuesAreNamed(t *testing.T) {
	for _, c := range commands {
		var help bytes.Buffer
		err := c.parse([]string{"--lisen", ":1"}, env(nil), &help)
		if err == nil || err.Error() != "unknown flag --lisen (see assistant-otel "+c.name+" --help)" || help.Len() > 0 {
			t.Errorf("%s: unknown flag: %v; help %q", c.name, err, help.String())
		}
		err = c.parse([]string{"--timeout"}, env(nil), io.Discard)
		if c.name != "serve" && (err == nil || err.Error() != "flag --timeout needs a value (see assistant-otel "+c.name+" --help)") {
			t.Errorf("%s: missing value: %v", c.name, err)
		}
	}
	for _, tc := range []struct {
		command string
		args    []string
		env     map[string]string
		want    string
	}{
		{"serve", []string{"--drain-timeout", "5"}, nil, `--drain-timeout "5": not a duration (e.g. 15s, 2m)`},
		{"serve", nil, map[string]string{"ASSISTANT_OTEL_MAX_BODY_BYTES": "abc"}, `ASSISTANT_OTEL_MAX_BODY_BYTES="abc": not an integer (bytes, e.g. 8388608)`},
		{"serve", []string{"--dedupe-max", "1e3"}, nil, `--dedupe-max "1e3": not an integer (e.g. 100000)`},
		{"serve", nil, map[string]string{"ASSISTANT_OTEL_LOW_CONFIDENCE_THRESHOLD": "high"}, `ASSISTANT_OTEL_LOW_CONFIDENCE_THRESHOLD="high": not a number (e.g. 0.5)`},
		{"serve", []string{"--redact=maybe"}, nil, `--redact "maybe": not true or false`},
		{"serve", nil, map[string]string{"ASSISTANT_OTEL_READYZ_DETAILS": "yes"}, `ASSISTANT_OTEL_READYZ_DETAILS="yes": not true or false`},
		{"send", []string{"--timeout", "30"}, nil, `--timeout "30": not a duration (e.g. 15s, 2m)`},
		{"send", []string{"--url", "http://h/webhook", "e.json"}, map[string]string{"ASSISTANT_OTEL_TIMEOUT": "30"}, `ASSISTANT_OTEL_TIMEOUT="30": not a duration (e.g. 15s, 2m)`},
		{"healthcheck", []string{"--timeout", "3"}, nil, `--timeout "3": not a duration (e.g. 15s, 2m)`},
	} {
		for _, c := range commands {
			if c.name != tc.command {
				continue
			}
			e := map[string]string{EnvSecret: "x"}
			for k, v := range tc.env {
				e[k] = v
			}
			if err := c.parse(tc.args, env(e), io.Discard); err == nil || err.Error() != tc.want {
				t.Errorf("%s %v %v: %v, want %s", tc.command, tc.args, tc.env, err, tc.want)
			}
		}
	}
	// healthcheck reads no environment: serve's variables are set beside it.
	if _, err := ParseHealthcheck(nil, io.Discard); err != nil {
		t.Errorf("healthcheck defaults: %v", err)
	}
}

// TestAddressesAndFilesCheckedBeforeStart: what serve would only find out
// when it listens or loads a file is refused while parsing.
func TestAddressesAndFilesCheckedBeforeStart(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte("very-secret-file-content"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--listen", "8080"}, `--listen "8080": not host:port (e.g. :8080, 127.0.0.1:8080)`},
		{[]string{"--listen", ":99999"}, `--listen ":99999": port "99999" is not a number from 0 to 65535`},
		{[]string{"--listen", "127.0.0.1:http"}, `port "http" is not a number`},
		{[]string{"--pprof-listen", "localhost"}, `--pprof-listen "localhost": not host:port`},
		{[]string{"--metrics-listen", ":-1"}, `--metrics-listen ":-1": port "-1"`},
		{[]string{"--tls-cert", filepath.Join(dir, "none.pem"), "--tls-key", secretFile}, `--tls-cert "` + filepath.Join(dir, "none.pem")},
		{[]string{"--tls-cert", secretFile, "--tls-key", secretFile}, "not a PEM certificate chain and its key"},
		{[]string{"--assistants-file", filepath.Join(dir, "none.yaml")}, "--assistants-file: open " + filepath.Join(dir, "none.yaml")},
	} {
		_, err := ParseServe(append([]string{"--secret-file", secretFile}, tc.args...), env(nil), io.Discard)
		if tc.args[0] == "--assistants-file" {
			_, err = ParseServe(tc.args, env(nil), io.Discard)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "very-secret") {
			t.Errorf("%v: %v, want %s", tc.args, err, tc.want)
		}
	}
	for _, listen := range []string{":0", "127.0.0.1:65535", "[::1]:8080"} {
		if _, err := ParseServe([]string{"--listen", listen}, env(map[string]string{EnvSecret: "x"}), io.Discard); err != nil {
			t.Errorf("--listen %s: %v", listen, err)
		}
	}
	for _, args := range [][]string{{"--url", "127.0.0.1:8080/webhook", "e.json"}, {"--url", "ftp://h/x", "e.json"}} {
		if _, err := ParseSend(args, env(map[string]string{EnvSecret: "x"}), io.Discard); err == nil || !strings.Contains(err.Error(), "not an http(s) URL") {
			t.Errorf("send %v: %v", args, err)
		}
	}
	if _, err := ParseHealthcheck([]string{"--url", "/healthz"}, io.Discard); err == nil || !strings.Contains(err.Error(), `--url "/healthz": not an http(s) URL`) {
		t.Errorf("healthcheck --url /healthz: %v", err)
	}
}
