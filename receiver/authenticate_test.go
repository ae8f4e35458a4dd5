package receiver_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/auth"
	"github.com/assistant-otel/assistant-otel/receiver"
	"github.com/assistant-otel/assistant-otel/watson"
)

func TestHeaderAuthThroughHandler(t *testing.T) {
	a, err := auth.NewHeaderAuthenticator("Authorization", [][]byte{[]byte("Bearer my-own-static-token")})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, a)
	body := readFile(t, corpus01)
	if r := h.post(body, authHeader("Bearer my-own-static-token")); r.status != http.StatusOK {
		t.Fatalf("right value: %d %s", r.status, r.raw)
	}
	for _, v := range [][]string{{"Bearer my-own-static-tokem"}, {goodToken(t)}, nil, {"Bearer my-own-static-token", "x"}} {
		r := h.post(body, http.Header{"Authorization": v})
		if r.status != http.StatusUnauthorized {
			t.Errorf("%q: status %d, want 401", v, r.status)
		}
	}
	assertCounts(t, receiver.MetricAuthFailures, counter(h.collect(), receiver.MetricAuthFailures), map[string]int64{
		"reason=bad_credentials": 2, "reason=missing": 1, "reason=multiple_headers": 1,
	})
	if strings.Contains(h.logs.String(), "my-own-static") {
		t.Error("logs contain the credential")
	}
}

// ctxAuth is a ContextAuthenticator that tags the request context.
type ctxAuth struct{}

type tagKey struct{}

func (ctxAuth) Authenticate(*http.Request) error {
	panic("Authenticate called instead of AuthenticateContext")
}

func (ctxAuth) AuthenticateContext(r *http.Request) (context.Context, error) {
	if r.Header.Get("Authorization") != "let-me-in" {
		return nil, &auth.AuthError{Reason: auth.ReasonBadCredentials}
	}
	return context.WithValue(r.Context(), tagKey{}, "tagged"), nil
}

func (ctxAuth) AuthorizeEvent(r *http.Request, _ watson.Event) error {
	if r.Context().Value(tagKey{}) != "tagged" {
		return &auth.AuthError{Reason: auth.ReasonAssistantMismatch}
	}
	return nil
}

func TestContextAuthenticator(t *testing.T) {
	var got any
	rc, err := receiver.New(receiver.ConsumerFunc(func(ctx context.Context, _ watson.Event, _ time.Time) error {
		got = ctx.Value(tagKey{})
		return nil
	}), ctxAuth{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rc.Handler())
	defer srv.Close()
	post := func(v string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhook", strings.NewReader(string(readFile(t, corpus01))))
		req.Header.Set("Authorization", v)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := post("let-me-in"); s != http.StatusOK || got != "tagged" {
		t.Errorf("status %d, consumer saw %v; want 200 and the authenticator's context", s, got)
	}
	if s := post("nope"); s != http.StatusUnauthorized {
		t.Errorf("status %d, want 401", s)
	}
}
