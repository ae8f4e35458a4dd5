package auth_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/auth"
)

func TestSecretFiles(t *testing.T) {
	f := newFixture(t)
	f.write("current", "secret-A\n")
	jwtAuth, err := auth.NewJWTAuthenticator([][]byte{[]byte("bootstrap")})
	if err != nil {
		t.Fatal(err)
	}
	files := []string{filepath.Join(f.dir, "current")}
	sf, err := auth.NewSecretFiles(files, jwtAuth.SetSecrets, slog.New(slog.NewJSONHandler(f.logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	accepts := func(secret string) bool {
		req := httptest.NewRequest(http.MethodPost, "/", nil)
		req.Header.Set("Authorization", token(t, secret))
		return jwtAuth.Authenticate(req) == nil
	}
	if !accepts("secret-A") || accepts("bootstrap") {
		t.Fatal("initial secrets not installed")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sf.Watch(ctx, 20*time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()

	f.write("current", "secret-B")
	waitFor(t, "Watch to pick up the new content", func() bool { return accepts("secret-B") })
	if accepts("secret-A") {
		t.Error("old content still accepted")
	}
	// A bad reload (file emptied, then removed) keeps secret-B; polls log
	// it once.
	f.write("current", "\n")
	failures := func() int { return strings.Count(f.logs.String(), "secret reload failed") }
	waitFor(t, "Watch to see the emptied file", func() bool { return failures() > 0 })
	for range 3 {
		sf.Poll()
	}
	if n := strings.Count(f.logs.String(), "secrets reloaded"); n != 1 {
		t.Errorf("one change logged %d reloads, want 1:\n%s", n, f.logs.String())
	}
	if n := failures(); n != 1 {
		t.Errorf("an emptied file polled several times logged %d failures, want 1:\n%s", n, f.logs.String())
	}
	if err := sf.Reload(); err == nil {
		t.Error("Reload of an empty file succeeded")
	}
	os.Remove(files[0])
	if err := sf.Reload(); err == nil {
		t.Error("Reload of a missing file succeeded")
	}
	if !accepts("secret-B") {
		t.Error("a bad reload dropped the secret in force")
	}
	if c := strings.Count(f.logs.String(), "secret reload failed"); c < 1 || strings.Contains(f.logs.String(), "secret-B") {
		t.Errorf("want logged failures without the secret:\n%s", f.logs.String())
	}
	if _, err := auth.NewSecretFiles(files, jwtAuth.SetSecrets, nil); err == nil {
		t.Error("NewSecretFiles with a missing file succeeded")
	}
	if _, err := auth.NewSecretFiles(nil, jwtAuth.SetSecrets, nil); err == nil {
		t.Error("NewSecretFiles without files succeeded")
	}
}
