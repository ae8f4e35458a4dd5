package auth_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/assistant-otel/assistant-otel/auth"
	"github.com/assistant-otel/assistant-otel/internal/testlog"
	"github.com/assistant-otel/assistant-otel/receiver"
	"github.com/assistant-otel/assistant-otel/watson"
)

// Assistant ids of the corpus.
const (
	retailID = "cbd2c063-3677-445f-9144-20882a1bfe52" // corpus 01
	bankID   = "0ddd74a5-98d0-4bb0-9f6c-6cc5ba9e7068" // corpus 02
	retail   = "../testdata/corpus/01-dialog-clear-intent-two-entities.json"
	bank     = "../testdata/corpus/02-actions-skill-turn.json"
	cdr      = "../testdata/corpus/other-events/cdr_logged-phone-call-transfer.json" // names bankID
)

type syncBuffer = testlog.Buffer

// fixture is a directory holding an assistants file and secret files.
type fixture struct {
	t    *testing.T
	dir  string
	file string
	logs *syncBuffer
	env  map[string]string
	envM sync.Mutex
}

func newFixture(t *testing.T) *fixture {
	dir := t.TempDir()
	return &fixture{t: t, dir: dir, file: filepath.Join(dir, "assistants.yaml"), logs: &syncBuffer{}, env: map[string]string{}}
}

func (f *fixture) write(name, content string) {
	f.t.Helper()
	p := filepath.Join(f.dir, name)
	if err := os.WriteFile(p+".tmp", []byte(content), 0o600); err != nil {
		f.t.Fatal(err)
	}
	if err := os.Rename(p+".tmp", p); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) setenv(k, v string) {
	f.envM.Lock()
	defer f.envM.Unlock()
	f.env[k] = v
}

func (f *fixture) getenv(k string) string {
	f.envM.Lock()
	defer f.envM.Unlock()
	return f.env[k]
}

func (f *fixture) new(opts ...auth.AssistantsOption) (*auth.Assistants, error) {
	base := []auth.AssistantsOption{
		auth.WithGetenv(f.getenv),
		auth.WithLogger(slog.New(slog.NewJSONHandler(f.logs, nil))),
	}
	return auth.NewAssistants(f.file, append(base, opts...)...)
}

func (f *fixture) mustNew(opts ...auth.AssistantsOption) *auth.Assistants {
	f.t.Helper()
	a, err := f.new(opts...)
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

// standard writes two assistants: retail with a secret file, bank with a
// file and an env variable.
func (f *fixture) standard() {
	f.write("retail.secret", "retail-secret-1\n")
	f.write("bank.secret", "bank-secret-1")
	f.setenv("BANK_SECRET_2", "bank-secret-2")
	f.write("assistants.yaml", `
assistants:
  - id: `+retailID+`
    name: Acme Retail
    secret_files: [retail.secret]
  - id: `+bankID+`
    name: "Acme Bank 🏦"
    secret_files: [`+filepath.Join(f.dir, "bank.secret")+`]
    secret_env: [BANK_SECRET_2]
`)
}

func token(t *testing.T, secret string) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iat": time.Now().Unix()}).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// server runs a receiver with a as its authenticator.
type server struct {
	t        *testing.T
	srv      *httptest.Server
	reader   *sdkmetric.ManualReader
	mu       sync.Mutex
	consumed []string // assistant names the consumer saw through the context
}

func newServer(t *testing.T, a auth.Authenticator) *server {
	s := &server{t: t, reader: sdkmetric.NewManualReader()}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(s.reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	rc, err := receiver.New(receiver.ConsumerFunc(func(ctx context.Context, _ watson.Event, _ time.Time) error {
		var names []string
		for _, as := range auth.AssistantsFromContext(ctx) {
			names = append(names, as.Name)
		}
		s.mu.Lock()
		s.consumed = append(s.consumed, strings.Join(names, "+"))
		s.mu.Unlock()
		return nil
	}), a, receiver.WithMeter(mp.Meter("test")))
	if err != nil {
		t.Fatal(err)
	}
	s.srv = httptest.NewServer(rc.Handler())
	t.Cleanup(s.srv.Close)
	return s
}

func (s *server) post(file, authorization string) (int, string) {
	s.t.Helper()
	body, err := os.ReadFile(file)
	if err != nil {
		s.t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, s.srv.URL+"/webhook", bytes.NewReader(body))
	req.Header.Set("Authorization", authorization)
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

func (s *server) authFailures() map[string]int64 {
	s.t.Helper()
	var rm metricdata.ResourceMetrics
	if err := s.reader.Collect(context.Background(), &rm); err != nil {
		s.t.Fatal(err)
	}
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != receiver.MetricAuthFailures {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				r, _ := dp.Attributes.Value(receiver.AttrReason)
				out[r.AsString()] += dp.Value
			}
		}
	}
	return out
}

func TestBindsEventsToTheirAssistant(t *testing.T) {
	f := newFixture(t)
	f.standard()
	a := f.mustNew()
	s := newServer(t, a)

	for _, c := range []struct {
		name, file, secret string
		want               int
	}{
		{"retail event, retail secret", retail, "retail-secret-1", 200},
		{"bank event, bank file secret", bank, "bank-secret-1", 200},
		{"bank event, bank env secret", bank, "bank-secret-2", 200},
		{"bank call summary, bank secret", cdr, "bank-secret-1", 200},
		{"bank event signed with retail's secret", bank, "retail-secret-1", 403},
		{"retail event signed with bank's secret", retail, "bank-secret-2", 403},
		{"bank call summary, retail secret", cdr, "retail-secret-1", 403},
		{"event of an unconfigured assistant", "../testdata/corpus/07-stateless-no-session-id.json", "retail-secret-1", 403},
		{"unknown secret", retail, "no-such-secret", 401},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body := s.post(c.file, token(t, c.secret))
			if status != c.want {
				t.Fatalf("status %d %s, want %d", status, body, c.want)
			}
			if status == 403 && !strings.Contains(body, "assistant_mismatch") {
				t.Errorf("403 body %s, want reason assistant_mismatch", body)
			}
		})
	}
	if got, want := s.authFailures(), map[string]int64{"assistant_mismatch": 4, "bad_signature": 1}; !maps.Equal(got, want) {
		t.Errorf("auth failures %v, want %v", got, want)
	}
	s.mu.Lock()
	if got := strings.Join(s.consumed, ","); got != "Acme Retail,Acme Bank 🏦,Acme Bank 🏦,Acme Bank 🏦" {
		t.Errorf("consumer saw assistants %q", got)
	}
	s.mu.Unlock()

	if n, ok := a.Name(strings.ToUpper(bankID)); !ok || n != "Acme Bank 🏦" {
		t.Errorf("Name(bank) = %q, %v", n, ok)
	}
	if _, ok := a.Name("nope"); ok {
		t.Error("Name of an unknown assistant")
	}
	if got := a.Assistants(); len(got) != 2 || got[0].ID != retailID {
		t.Errorf("Assistants = %v", got)
	}
	if strings.Contains(f.logs.String(), "secret-1") {
		t.Error("logs contain a secret")
	}
}

func TestSharedSecretBindsToBoth(t *testing.T) {
	f := newFixture(t)
	f.write("shared", "shared-secret")
	f.write("assistants.yaml", fmt.Sprintf(`{"assistants": [
		{"id": %q, "name": "R", "secret_files": ["shared"]},
		{"id": %q, "secret_files": ["shared"]}]}`, retailID, bankID))
	s := newServer(t, f.mustNew())
	for _, file := range []string{retail, bank} {
		if status, body := s.post(file, token(t, "shared-secret")); status != 200 {
			t.Errorf("%s: %d %s", file, status, body)
		}
	}
}

func TestRotationWithoutDowntime(t *testing.T) {
	f := newFixture(t)
	f.write("old", "retail-old")
	f.write("assistants.yaml", "assistants:\n  - id: "+retailID+"\n    secret_files: [old]\n")
	a := f.mustNew()
	s := newServer(t, a)
	oldTok, newTok := token(t, "retail-old"), token(t, "retail-new")

	// Senders keep using the old token throughout steps 1 and 2.
	var failures atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if status, _ := s.post(retail, oldTok); status != 200 {
				failures.Add(1)
			}
		}
	})
	// 1. Add the new secret next to the old one.
	f.write("new", "retail-new")
	f.write("assistants.yaml", "assistants:\n  - id: "+retailID+"\n    secret_files: [old, new]\n")
	if err := a.Reload(); err != nil {
		t.Fatal(err)
	}
	// 2. Watson is switched to the new secret: both work.
	for _, tok := range []string{oldTok, newTok} {
		if status, body := s.post(retail, tok); status != 200 {
			t.Fatalf("during rotation: %d %s", status, body)
		}
	}
	for range 20 {
		_ = a.Reload()
	}
	close(stop)
	wg.Wait()
	if n := failures.Load(); n != 0 {
		t.Fatalf("%d requests with the old token failed while both secrets were configured", n)
	}
	// 3. Retire the old secret.
	f.write("assistants.yaml", "assistants:\n  - id: "+retailID+"\n    secret_files: [new]\n")
	if err := a.Reload(); err != nil {
		t.Fatal(err)
	}
	if status, _ := s.post(retail, oldTok); status != 401 {
		t.Errorf("retired secret: %d, want 401", status)
	}
	if status, _ := s.post(retail, newTok); status != 200 {
		t.Errorf("new secret: %d, want 200", status)
	}
}

func TestWatchPicksUpChanges(t *testing.T) {
	f := newFixture(t)
	f.standard()
	a := f.mustNew()
	s := newServer(t, a)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Watch(ctx, 20*time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()

	// New content of a secret file (same name, same config file).
	f.write("retail.secret", "retail-secret-ROTATED\n")
	waitFor(t, "Watch to pick up new secret file content", func() bool {
		st, _ := s.post(retail, token(t, "retail-secret-ROTATED"))
		return st == 200
	})
	if st, _ := s.post(retail, token(t, "retail-secret-1")); st != 401 {
		t.Errorf("replaced secret still accepted: %d", st)
	}
	// A change of the file itself: a renamed assistant.
	cfg, _ := os.ReadFile(f.file)
	f.write("assistants.yaml", strings.Replace(string(cfg), "Acme Retail", "Acme Stores", 1))
	waitFor(t, "Watch to pick up a config file change", func() bool { n, _ := a.Name(retailID); return n == "Acme Stores" })

	// A broken file: the previous configuration stays, one error is logged
	// however often it is polled.
	f.write("assistants.yaml", "assistants: [ {id: ")
	waitFor(t, "Watch to see the broken file", func() bool { return strings.Contains(f.logs.String(), "reload failed") })
	for range 3 {
		a.Poll()
	}
	// Poll holds the watcher's lock, so the loads before it have logged.
	if n := strings.Count(f.logs.String(), "assistants file loaded"); n != 2 {
		t.Errorf("two changes logged %d loads, want 2 (the first load is not a reload):\n%s", n, f.logs.String())
	}
	if st, _ := s.post(retail, token(t, "retail-secret-ROTATED")); st != 200 {
		t.Errorf("after a broken file: %d, want the old config to serve", st)
	}
	if n, _ := a.Name(retailID); n != "Acme Stores" {
		t.Errorf("after a broken file: name %q", n)
	}
	if c := strings.Count(f.logs.String(), "reload failed"); c != 1 {
		t.Errorf("broken file logged %d times over several polls, want once:\n%s", c, f.logs.String())
	}
}

func TestBadReloadKeepsTheOld(t *testing.T) {
	good := func(f *fixture) {
		f.standard()
	}
	for _, c := range []struct {
		name   string
		break_ func(f *fixture)
	}{
		{"invalid YAML", func(f *fixture) { f.write("assistants.yaml", "assistants:\n  - id: [") }},
		{"file removed", func(f *fixture) { os.Remove(f.file) }},
		{"secret file removed", func(f *fixture) { os.Remove(filepath.Join(f.dir, "retail.secret")) }},
		{"secret file emptied", func(f *fixture) { f.write("retail.secret", "\n") }},
		{"env variable unset", func(f *fixture) { f.setenv("BANK_SECRET_2", "") }},
		{"no assistants", func(f *fixture) { f.write("assistants.yaml", "assistants: []\n") }},
		{"unknown key", func(f *fixture) {
			f.write("assistants.yaml", "assistants:\n  - id: x\n    secret_file: [retail.secret]\n")
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			good(f)
			a := f.mustNew()
			s := newServer(t, a)
			c.break_(f)
			if err := a.Reload(); err == nil {
				t.Fatal("Reload succeeded")
			}
			if st, _ := s.post(retail, token(t, "retail-secret-1")); st != 200 {
				t.Errorf("retail after a bad reload: %d, want 200", st)
			}
			if st, _ := s.post(bank, token(t, "bank-secret-2")); st != 200 {
				t.Errorf("bank after a bad reload: %d, want 200", st)
			}
			if n, _ := a.Name(retailID); n != "Acme Retail" {
				t.Errorf("name after a bad reload: %q", n)
			}
			if !strings.Contains(f.logs.String(), `"level":"ERROR"`) {
				t.Errorf("no error logged:\n%s", f.logs.String())
			}
		})
	}
}

func TestFileValidation(t *testing.T) {
	for _, c := range []struct {
		name, yaml, wantErr string
	}{
		{"inline secret", "assistants:\n  - id: a\n    secret: hunter2-inline\n", "inline secrets are not allowed"},
		{"inline secrets list", "assistants:\n  - id: a\n    secrets: [hunter2-inline]\n", "inline secrets are not allowed"},
		{"secret pasted as a file list", "assistants:\n  - id: a\n    secret_files: hunter2-inline\n", "cannot unmarshal"},
		{"no id", "assistants:\n  - name: x\n    secret_env: [E]\n", "id is required"},
		{"duplicate id", "assistants:\n  - id: A\n    secret_env: [E]\n  - id: a\n    secret_env: [E]\n", "listed twice"},
		{"no secret", "assistants:\n  - id: a\n", "at least one secret"},
		{"unset env", "assistants:\n  - id: a\n    secret_env: [UNSET]\n", "UNSET is unset"},
		{"bad env name", "assistants:\n  - id: a\n    secret_env: [\"A=B\"]\n", "invalid secret_env"},
		{"missing file", "assistants:\n  - id: a\n    secret_files: [nope]\n", "no such file"},
		{"empty", "", "empty"},
		{"two documents", "assistants:\n  - id: a\n    secret_env: [E]\n---\nx: 1\n", "more than one"},
		{"top-level typo", "assistant:\n  - id: a\n", "not found"},
		{"control character in name", "assistants:\n  - id: a\n    name: \"a\\u0007b\"\n    secret_env: [E]\n", "printable"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			f.setenv("E", "env-secret")
			f.write("assistants.yaml", c.yaml)
			_, err := f.new()
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("err = %v, want it to mention %q", err, c.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "env-secret") {
				t.Errorf("error quotes a secret: %v", err)
			}
		})
	}
	f := newFixture(t)
	if _, err := auth.NewAssistants(""); err == nil {
		t.Error("empty path accepted")
	}
	if _, err := auth.NewAssistants(f.file, auth.WithGetenv(nil)); err == nil {
		t.Error("nil getenv accepted")
	}
}

func TestHeaderMode(t *testing.T) {
	f := newFixture(t)
	f.write("r", "Basic cmV0YWlsOnMzY3IzdA==\n")
	f.write("b", "Basic YmFuazpzM2NyM3Q=")
	f.write("assistants.yaml", "assistants:\n  - {id: "+retailID+", secret_files: [r]}\n  - {id: "+bankID+", secret_files: [b]}\n")
	s := newServer(t, f.mustNew(auth.WithHeaderMode("Authorization")))
	for _, c := range []struct {
		file, value string
		want        int
	}{
		{retail, "Basic cmV0YWlsOnMzY3IzdA==", 200},
		{bank, "Basic YmFuazpzM2NyM3Q=", 200},
		{bank, "Basic cmV0YWlsOnMzY3IzdA==", 403},
		{retail, "Basic d3Jvbmc=", 401},
		{retail, token(t, "Basic cmV0YWlsOnMzY3IzdA=="), 401},
	} {
		if st, body := s.post(c.file, c.value); st != c.want {
			t.Errorf("%s with %.12q…: %d %s, want %d", filepath.Base(c.file), c.value, st, body, c.want)
		}
	}
	if got := s.authFailures(); got["bad_credentials"] != 2 || got["assistant_mismatch"] != 1 {
		t.Errorf("auth failures %v", got)
	}
}

func TestJWTOptionsApply(t *testing.T) {
	f := newFixture(t)
	f.standard()
	a := f.mustNew(auth.WithJWTOptions(auth.WithMaxTokenAge(time.Minute), auth.WithLeeway(0)))
	s := newServer(t, a)
	old, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iat": time.Now().Add(-time.Hour).Unix()}).SignedString([]byte("retail-secret-1"))
	if st, body := s.post(retail, old); st != 401 || !strings.Contains(body, "too_old") {
		t.Errorf("old token: %d %s, want 401 too_old", st, body)
	}
}

func TestAuthorizeWithoutContext(t *testing.T) {
	// A caller that uses Authenticate (not AuthenticateContext) still gets
	// the binding: AuthorizeEvent verifies again.
	f := newFixture(t)
	f.standard()
	a := f.mustNew()
	body, _ := os.ReadFile(bank)
	ev, err := watson.Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/webhook", nil)
	req.Header.Set("Authorization", token(t, "retail-secret-1"))
	if err := a.Authenticate(req); err != nil {
		t.Fatal(err)
	}
	if err := a.AuthorizeEvent(req, ev); auth.ReasonOf(err) != auth.ReasonAssistantMismatch {
		t.Errorf("AuthorizeEvent = %v, want assistant_mismatch", err)
	}
	req.Header.Set("Authorization", token(t, "bank-secret-1"))
	if err := a.AuthorizeEvent(req, ev); err != nil {
		t.Errorf("AuthorizeEvent(bank) = %v", err)
	}
	if got := auth.AssistantsFromContext(context.Background()); got != nil {
		t.Errorf("FromContext of a bare context = %v", got)
	}
	// An event naming no assistant is refused, a call summary too since
	// two assistants are configured (receiver/attack_test.go has the rest).
	for _, c := range []struct {
		body string
		want string
	}{
		{`{"event":{"name":"message_logged"},"payload":{}}`, auth.ReasonAssistantMissing},
		{`{"event":{"name":"cdr_logged"},"payload":{}}`, auth.ReasonAssistantMissing},
		{`{"event":{"name":"cdr_logged"},"payload":{"assistant_interaction_summaries":[{"assistant_id":"` + bankID + `"},{}]}}`, auth.ReasonAssistantMissing},
		{`{"event":{"name":"cdr_logged"},"payload":{"assistant_interaction_summaries":[{"assistant_id":"` + bankID + `"}]}}`, ""},
	} {
		ev, err := watson.Decode([]byte(c.body))
		if err != nil {
			t.Fatal(err)
		}
		if err := a.AuthorizeEvent(req, ev); err != nil && auth.ReasonOf(err) != c.want || err == nil && c.want != "" {
			t.Errorf("%s: %v, want %q", c.body, err, c.want)
		}
	}
}

// TestSingleAssistantAcceptsAnonymousCallSummary: with one assistant
// configured, a call summary that names none can only be that assistant's.
func TestSingleAssistantAcceptsAnonymousCallSummary(t *testing.T) {
	f := newFixture(t)
	f.write("retail.secret", "retail-secret-1")
	f.write("assistants.yaml", "assistants:\n  - id: "+retailID+"\n    secret_files: [retail.secret]\n")
	a := f.mustNew()
	req := httptest.NewRequest(http.MethodPost, "/webhook", nil)
	req.Header.Set("Authorization", token(t, "retail-secret-1"))
	for body, want := range map[string]string{
		`{"event":{"name":"cdr_logged"},"payload":{}}`:                                                                      "",
		`{"event":{"name":"cdr_logged"},"payload":{"assistant_interaction_summaries":[{}]}}`:                                "",
		`{"event":{"name":"message_logged"},"payload":{}}`:                                                                  auth.ReasonAssistantMissing,
		`{"event":{"name":"cdr_logged"},"payload":{"assistant_interaction_summaries":[{"assistant_id":"` + bankID + `"}]}}`: auth.ReasonAssistantMismatch,
	} {
		ev, err := watson.Decode([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if err := a.AuthorizeEvent(req, ev); err != nil && auth.ReasonOf(err) != want || err == nil && want != "" {
			t.Errorf("%s: %v, want %q", body, err, want)
		}
	}
}
