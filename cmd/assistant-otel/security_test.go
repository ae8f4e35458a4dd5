package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/internal/otlptest"
	"github.com/assistant-otel/assistant-otel/internal/testpki"
	"github.com/assistant-otel/assistant-otel/sender"
)

// writeTestCert writes a CA-signed certificate for 127.0.0.1 and returns
// the cert and key paths and a pool holding the CA.
func writeTestCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	ca := testpki.NewCA(t)
	certPEM, keyPEM := ca.Server(t, 2)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, ca.Pool
}

// TestServeTLS: with --tls-cert and --tls-key the webhook is HTTPS only,
// TLS 1.2 at least, verified by a client that trusts the test CA.
func TestServeTLS(t *testing.T) {
	otlp := otlptest.StartGRPC(t)
	certFile, keyFile, pool := writeTestCert(t, t.TempDir())
	svc := startService(t, cleanEnv("ASSISTANT_OTEL_SECRET="+testSecret, "OTEL_EXPORTER_OTLP_ENDPOINT="+otlp.Endpoint()),
		"--tls-cert", certFile, "--tls-key", keyFile)
	url := strings.Replace(svc.url, "http://", "https://", 1)
	body, _ := os.ReadFile("../../testdata/corpus/01-dialog-clear-intent-two-entities.json")
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	status, resp, err := sender.Send(context.Background(), client, url, []byte(testSecret), body)
	if err != nil || status != 200 {
		t.Fatalf("HTTPS webhook: %d %s %v", status, resp, err)
	}
	old := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}}}
	if _, _, err := sender.Send(context.Background(), old, url, []byte(testSecret), body); err == nil {
		t.Error("a TLS 1.1 client was served")
	}
	if status, _, err := sender.Send(context.Background(), &http.Client{Timeout: 5 * time.Second}, svc.url, []byte(testSecret), body); err == nil && status < 400 {
		t.Errorf("plain HTTP was served on the TLS port: %d", status)
	}
	svc.stop(t)
	if n := len(otlp.Spans()); n != 1 {
		t.Errorf("%d spans exported, want 1", n)
	}
}

// TestSecretRotationOnSIGHUP: the secret file is re-read on SIGHUP; the new
// secret works at once and the old one stops working.
func TestSecretRotationOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte("first-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	otlp := otlptest.StartGRPC(t)
	svc := startService(t, cleanEnv("OTEL_EXPORTER_OTLP_ENDPOINT="+otlp.Endpoint()), "--secret-file", secretFile)
	file := "../../testdata/corpus/04-low-confidence-alternates.json"
	if out, code := sendFile(t, svc.url, "first-secret", file); code != 0 {
		t.Fatalf("first secret: %s", out)
	}
	if err := os.WriteFile(secretFile, []byte("second-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := svc.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, code := sendFile(t, svc.url, "second-secret", file)
		if code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("new secret not accepted after SIGHUP: %s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if out, code := sendFile(t, svc.url, "first-secret", file); code == 0 || !strings.HasPrefix(out, "401 ") {
		t.Errorf("old secret still accepted after rotation: %s", out)
	}
	svc.stop(t)
	if strings.Contains(svc.stderr.String(), "second-secret") || strings.Contains(svc.stderr.String(), "first-secret") {
		t.Error("a secret appears in the service's logs")
	}
}

// TestAssistantsFile: each assistant's events must be signed with its own
// secret; another assistant's secret gets 403, and the name comes from the file.
func TestAssistantsFile(t *testing.T) {
	dir := t.TempDir()
	for name, secret := range map[string]string{"retail": "retail-secret", "bank": "bank-secret"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(secret), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "assistants.yaml")
	yaml := "assistants:\n" +
		"  - id: 0ddd74a5-98d0-4bb0-9f6c-6cc5ba9e7068\n    name: Acme Retail\n    secret_files: [retail]\n" +
		"  - id: cbd2c063-3677-445f-9144-20882a1bfe52\n    name: Acme Bank\n    secret_files: [bank]\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	otlp := otlptest.StartGRPC(t)
	svc := startService(t, cleanEnv("OTEL_EXPORTER_OTLP_ENDPOINT="+otlp.Endpoint()), "--assistants-file", file)
	retailEvent := "../../testdata/corpus/14a-multiturn-welcome.json" // assistant 0ddd74a5…
	if out, code := sendFile(t, svc.url, "retail-secret", retailEvent); code != 0 {
		t.Fatalf("own secret: %s", out)
	}
	if out, _ := sendFile(t, svc.url, "bank-secret", retailEvent); !strings.HasPrefix(out, "403 ") {
		t.Errorf("another assistant's secret: %s, want 403", out)
	}
	if out, _ := sendFile(t, svc.url, "unknown-secret", retailEvent); !strings.HasPrefix(out, "401 ") {
		t.Errorf("unknown secret: %s, want 401", out)
	}
	svc.stop(t)
	spans := otlp.Spans()
	if len(spans) != 1 || spans[0].Attributes["gen_ai.agent.name"] != "Acme Retail" {
		t.Fatalf("want one span named for Acme Retail, got %d spans %v", len(spans), spans)
	}
}

// TestRedactionIsOnByDefault: personal data in what users say never reaches
// the OTLP endpoint unless redaction is switched off.
func TestRedactionIsOnByDefault(t *testing.T) {
	body, _ := os.ReadFile("../../testdata/corpus/01-dialog-clear-intent-two-entities.json")
	const email = "jane.doe@example.com"
	body = []byte(strings.Replace(string(body), "Transfer from my checking account to savings", "Transfer to "+email+" please", 1))
	file := filepath.Join(t.TempDir(), "pii.json")
	if err := os.WriteFile(file, body, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want bool // email exported
	}{{nil, false}, {[]string{"--redact=false"}, true}} {
		otlp := otlptest.StartGRPC(t)
		svc := startService(t, cleanEnv("ASSISTANT_OTEL_SECRET="+testSecret, "OTEL_EXPORTER_OTLP_ENDPOINT="+otlp.Endpoint()), tc.args...)
		if out, code := sendFile(t, svc.url, testSecret, file); code != 0 {
			t.Fatalf("send: %s", out)
		}
		svc.stop(t)
		var all strings.Builder
		for _, s := range otlp.Spans() {
			for _, v := range s.Attributes {
				if str, ok := v.(string); ok {
					all.WriteString(str)
				}
			}
		}
		for _, r := range otlp.LogRecords() {
			all.WriteString(toString(r.Body))
		}
		if got := strings.Contains(all.String(), email); got != tc.want {
			t.Errorf("%v: e-mail exported = %v, want %v", tc.args, got, tc.want)
		}
		if !tc.want && !strings.Contains(all.String(), "[REDACTED:email]") {
			t.Errorf("%v: no redaction marker: the text did not arrive at all?", tc.args)
		}
	}
}

func toString(v any) string {
	s, _ := v.(string)
	return s
}

// TestContextAllowList: listed context variables reach the span and the log
// record, through the spool; nothing else of the context does.
func TestContextAllowList(t *testing.T) {
	otlp := otlptest.StartGRPC(t)
	svc := startService(t, cleanEnv("ASSISTANT_OTEL_SECRET="+testSecret, "OTEL_EXPORTER_OTLP_ENDPOINT="+otlp.Endpoint()),
		"--spool-dir", t.TempDir(), "--context-allow", "skills.actions skill.skill_variables.last_order_id")
	if out, code := sendFile(t, svc.url, testSecret, "../../testdata/corpus/14c-multiturn-answer-with-callout.json"); code != 0 {
		t.Fatalf("send: %s", out)
	}
	svc.stop(t)
	const key = "watson_assistant.context.skills.actions skill.skill_variables.last_order_id"
	spans, logs := otlp.Spans(), otlp.LogRecords()
	if len(spans) == 0 || len(logs) != 1 {
		t.Fatalf("%d spans, %d log records", len(spans), len(logs))
	}
	if spans[0].Attributes[key] != "A-1042" || logs[0].Attributes[key] != "A-1042" {
		t.Errorf("allowed context variable missing: span %v, log %v", spans[0].Attributes[key], logs[0].Attributes[key])
	}
	for k := range spans[0].Attributes {
		if strings.HasPrefix(k, "watson_assistant.context.") && k != key {
			t.Errorf("context variable %s exported without being listed", k)
		}
	}
}

// TestSIGHUPNeverStopsTheService: with nothing to reload (secret from the
// environment, no TLS), SIGHUP is logged and the service keeps serving.
func TestSIGHUPNeverStopsTheService(t *testing.T) {
	svc := startService(t, cleanEnv("ASSISTANT_OTEL_SECRET="+testSecret))
	if err := svc.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(svc.stderr.String(), "nothing to reload") {
		if time.Now().After(deadline) {
			t.Fatalf("SIGHUP not handled:\n%s", svc.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if out, code := sendFile(t, svc.url, testSecret, "../../testdata/corpus/04-low-confidence-alternates.json"); code != 0 {
		t.Fatalf("after SIGHUP: %s", out)
	}
	svc.stop(t)
}
