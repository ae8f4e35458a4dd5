package receiver_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/receiver"
	"github.com/assistant-otel/assistant-otel/watson"
)

func TestHeaderAuthenticator(t *testing.T) {
	const cur, next = "Basic YWNtZTpzM2NyM3Qtb25l", "Basic YWNtZTpzM2NyM3QtdHdv"
	a, err := receiver.NewHeaderAuthenticator("authorization", [][]byte{[]byte(cur), []byte(next + "\n")})
	if err != nil {
		t.Fatal(err)
	}
	if a.Header() != "Authorization" {
		t.Errorf("Header() = %q", a.Header())
	}
	for _, c := range []struct {
		name   string
		values []string
		want   string
	}{
		{"current value", []string{cur}, ""},
		{"next value (rotation)", []string{next}, ""},
		{"surrounding spaces", []string{"  " + cur + " "}, ""},
		{"wrong value", []string{"Basic d3Jvbmc="}, receiver.ReasonBadCredentials},
		{"prefix of a value", []string{cur[:len(cur)-1]}, receiver.ReasonBadCredentials},
		{"value plus a byte", []string{cur + "x"}, receiver.ReasonBadCredentials},
		{"case changed", []string{strings.ToUpper(cur)}, receiver.ReasonBadCredentials},
		{"both values in one header", []string{cur + "," + next}, receiver.ReasonBadCredentials},
		{"a JWT", []string{"eyJhbGciOiJIUzI1NiJ9.e30.x"}, receiver.ReasonBadCredentials},
		{"missing", nil, receiver.ReasonMissing},
		{"empty", []string{""}, receiver.ReasonMissing},
		{"two headers", []string{cur, cur}, receiver.ReasonMultipleHeaders},
		{"oversized", []string{strings.Repeat("x", receiver.DefaultMaxHeaderValueBytes+1)}, receiver.ReasonOversized},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := authenticate(t, a, "/webhook", c.values); got != c.want {
				t.Errorf("reason = %q, want %q", got, c.want)
			}
		})
	}
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	req.Header.Set("Authorization", next)
	if keys, err := a.MatchKeys(req); err != nil || !slices.Equal(keys, []int{1}) {
		t.Errorf("MatchKeys(next) = %v, %v; want [1]", keys, err)
	}
	// Rotation: retire the old value.
	if err := a.SetValues([][]byte{[]byte(next)}); err != nil {
		t.Fatal(err)
	}
	if got := authenticate(t, a, "/", []string{cur}); got != receiver.ReasonBadCredentials {
		t.Errorf("retired value: reason %q", got)
	}
	if err := a.SetValues([][]byte{[]byte(" \n")}); err == nil {
		t.Error("blank value accepted")
	}
	if got := authenticate(t, a, "/", []string{next}); got != "" {
		t.Errorf("a failed SetValues changed the values: %q", got)
	}
	// A custom header; Authorization is then ignored.
	x, err := receiver.NewHeaderAuthenticator("X-Webhook-Token", [][]byte{[]byte("t0k3n-value")})
	if err != nil {
		t.Fatal(err)
	}
	req = httptest.NewRequest(http.MethodPost, "/", nil)
	req.Header.Set("Authorization", "t0k3n-value")
	if err := x.Authenticate(req); receiver.ReasonOf(err) != receiver.ReasonMissing {
		t.Errorf("value in Authorization instead of X-Webhook-Token: %v", err)
	}
	req.Header.Set("X-Webhook-Token", "t0k3n-value")
	if err := x.Authenticate(req); err != nil {
		t.Errorf("X-Webhook-Token: %v", err)
	}
	for name, f := range map[string]func() (*receiver.HeaderAuthenticator, error){
		"empty name": func() (*receiver.HeaderAuthenticator, error) {
			return receiver.NewHeaderAuthenticator("", [][]byte{[]byte("v")})
		},
		"name with colon": func() (*receiver.HeaderAuthenticator, error) {
			return receiver.NewHeaderAuthenticator("X:Y", [][]byte{[]byte("v")})
		},
		"no values": func() (*receiver.HeaderAuthenticator, error) { return receiver.NewHeaderAuthenticator("X", nil) },
		"empty value": func() (*receiver.HeaderAuthenticator, error) {
			return receiver.NewHeaderAuthenticator("X", [][]byte{{}})
		},
	} {
		if a, err := f(); err == nil || a != nil {
			t.Errorf("%s: got %v, %v; want an error", name, a, err)
		}
	}
}

func TestHeaderAuthThroughHandler(t *testing.T) {
	a, err := receiver.NewHeaderAuthenticator("Authorization", [][]byte{[]byte("Bearer my-own-static-token")})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, a)
	body := readFile(t, corpus01)
	if r := h.post(body, auth("Bearer my-own-static-token")); r.status != http.StatusOK {
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
		return nil, &receiver.AuthError{Reason: receiver.ReasonBadCredentials}
	}
	return context.WithValue(r.Context(), tagKey{}, "tagged"), nil
}

func (ctxAuth) AuthorizeEvent(r *http.Request, _ watson.Event) error {
	if r.Context().Value(tagKey{}) != "tagged" {
		return &receiver.AuthError{Reason: receiver.ReasonAssistantMismatch}
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
