package auth_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/auth"
	"github.com/assistant-otel/assistant-otel/config"
)

// TestFromConfig: each mode gives its authenticator, and the reloaders
// (SIGHUP) re-read the files at once, without waiting for the watchers.
func TestFromConfig(t *testing.T) {
	f := newFixture(t)
	f.write("secret", "secret-A\n")
	f.write("assistant.secret", "assistant-secret-A")
	f.write("assistants.yaml", "assistants:\n  - {id: "+retailID+", name: Acme Retail, secret_files: [assistant.secret]}\n")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logger := slog.New(slog.NewJSONHandler(f.logs, nil))
	setup := func(cfg config.Serve) *auth.Setup {
		t.Helper()
		cfg.JWTLeeway = time.Minute
		s, err := auth.FromConfig(ctx, cfg, logger)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	accepts := func(s *auth.Setup, authorization string) bool {
		req := httptest.NewRequest(http.MethodPost, "/webhook", nil)
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		return s.Authenticator.Authenticate(req) == nil
	}
	reload := func(s *auth.Setup) {
		t.Helper()
		if len(s.Reloaders) != 1 {
			t.Fatalf("%d reloaders, want 1", len(s.Reloaders))
		}
		if err := s.Reloaders[0](); err != nil {
			t.Fatal(err)
		}
	}

	if s := setup(config.Serve{Auth: config.AuthNone}); !accepts(s, "") || len(s.Reloaders) != 0 {
		t.Error("--auth=none: want every request accepted and nothing to reload")
	}
	if !strings.Contains(f.logs.String(), "AUTHENTICATION IS OFF") {
		t.Error("--auth=none without its warning")
	}

	secretFile := filepath.Join(f.dir, "secret")
	jwtSetup := setup(config.Serve{Auth: config.AuthJWT, Secrets: [][]byte{[]byte("secret-A")},
		Security: config.Security{SecretFiles: []string{secretFile}}})
	headerSetup := setup(config.Serve{Auth: config.AuthHeader, Secrets: [][]byte{[]byte("secret-A")},
		Security: config.Security{AuthHeader: "X-Token", SecretFiles: []string{secretFile}}})
	if !accepts(jwtSetup, token(t, "secret-A")) || accepts(jwtSetup, token(t, "secret-B")) {
		t.Error("jwt: want secret-A only")
	}
	f.write("secret", "secret-B")
	reload(jwtSetup)
	reload(headerSetup)
	if !accepts(jwtSetup, token(t, "secret-B")) || accepts(jwtSetup, token(t, "secret-A")) {
		t.Error("jwt after the reloader: want secret-B only")
	}
	req := httptest.NewRequest(http.MethodPost, "/webhook", nil)
	req.Header.Set("X-Token", "secret-B")
	if err := headerSetup.Authenticator.Authenticate(req); err != nil {
		t.Errorf("header mode after the reloader: %v", err)
	}

	many := setup(config.Serve{Auth: config.AuthJWT, Security: config.Security{AssistantsFile: f.file}})
	if n, ok := many.Names(strings.ToUpper(retailID)); !ok || n != "Acme Retail" {
		t.Errorf("Names = %q, %v", n, ok)
	}
	f.write("assistant.secret", "assistant-secret-B")
	reload(many)
	if !accepts(many, token(t, "assistant-secret-B")) {
		t.Error("assistants file: the reloader did not install the new secret")
	}

	for name, cfg := range map[string]config.Serve{
		"missing assistants file": {Auth: config.AuthJWT, Security: config.Security{AssistantsFile: filepath.Join(f.dir, "nope")}},
		"no secret":               {Auth: config.AuthJWT},
		"bad header name":         {Auth: config.AuthHeader, Secrets: [][]byte{[]byte("x")}, Security: config.Security{AuthHeader: "a b"}},
		"missing secret file":     {Auth: config.AuthJWT, Secrets: [][]byte{[]byte("x")}, Security: config.Security{SecretFiles: []string{filepath.Join(f.dir, "nope")}}},
	} {
		if _, err := auth.FromConfig(ctx, cfg, logger); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
