package sender_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/assistant-otel/assistant-otel/auth"
	"github.com/assistant-otel/assistant-otel/receiver"
	"github.com/assistant-otel/assistant-otel/sender"
	"github.com/assistant-otel/assistant-otel/watson"
)

const secret = "sender-test-secret"

func TestSign(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tok, err := sender.Sign([]byte(secret), now)
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	parsed, err := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(func() time.Time { return now })).
		ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return []byte(secret), nil })
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if parsed.Header["alg"] != "HS256" {
		t.Errorf("alg = %v, want HS256", parsed.Header["alg"])
	}
	iat, _ := claims.GetIssuedAt()
	exp, _ := claims.GetExpirationTime()
	if iat == nil || !iat.Equal(now) || exp == nil || !exp.Equal(now.Add(5*time.Minute)) {
		t.Errorf("iat %v exp %v, want %v and +5m", iat, exp, now)
	}
	if len(claims) != 2 {
		t.Errorf("claims %v, want only iat and exp", claims)
	}
	if _, err := sender.Sign(nil, now); err == nil {
		t.Error("Sign with an empty secret succeeded")
	}
}

type capture struct {
	mu     sync.Mutex
	events []watson.Event
	auth   []string
}

func (c *capture) Consume(_ context.Context, ev watson.Event, _ time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, ev)
	return nil
}

// newReceiver serves a real receiver with JWT auth on secret, recording the
// Authorization headers it sees.
func newReceiver(t *testing.T) (*httptest.Server, *capture) {
	t.Helper()
	authn, err := auth.NewJWTAuthenticator([][]byte{[]byte(secret)}, auth.WithLeeway(0))
	if err != nil {
		t.Fatal(err)
	}
	c := &capture{}
	rc, err := receiver.New(c, authn)
	if err != nil {
		t.Fatal(err)
	}
	h := rc.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.auth = append(c.auth, r.Header.Values("Authorization")...)
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
		c.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, c
}

func TestSendRoundTrip(t *testing.T) {
	srv, c := newReceiver(t)
	body, err := os.ReadFile("../testdata/corpus/01-dialog-clear-intent-two-entities.json")
	if err != nil {
		t.Fatal(err)
	}
	status, resp, err := sender.Send(context.Background(), srv.Client(), srv.URL+"/webhook", []byte(secret), body)
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, resp)
	}
	var r map[string]string
	if err := json.Unmarshal(resp, &r); err != nil || r["status"] != "accepted" {
		t.Errorf("response %s: %v", resp, err)
	}
	want, err := watson.Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.events) != 1 || c.events[0].Log == nil || c.events[0].Log.LogID != want.Log.LogID {
		t.Fatalf("receiver consumed %+v, want log %s", c.events, want.Log.LogID)
	}
	if len(c.auth) != 1 || strings.HasPrefix(strings.ToLower(c.auth[0]), "bearer") || strings.Count(c.auth[0], ".") != 2 {
		t.Errorf("Authorization = %q, want one raw JWT", c.auth)
	}
}

func TestSendRejected(t *testing.T) {
	srv, c := newReceiver(t)
	status, resp, err := sender.Send(context.Background(), nil, srv.URL+"/webhook", []byte("wrong secret"), []byte(`{"event":{"name":"message_logged"},"payload":{}}`))
	if err != nil {
		t.Fatalf("a 401 must not be an error: %v", err)
	}
	if status != http.StatusUnauthorized || !strings.Contains(string(resp), "bad_signature") {
		t.Errorf("got %d %s, want 401 bad_signature", status, resp)
	}
	if len(c.events) != 0 {
		t.Error("event consumed with a wrong secret")
	}
}

func TestSendErrors(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		name   string
		ctx    context.Context
		url    string
		secret string
		want   string
	}{
		{"empty secret", context.Background(), closed.URL, "", "sender: sign token"},
		{"bad url", context.Background(), "http://[::1", secret, "sender: build request"},
		{"unreachable", context.Background(), closed.URL, secret, "sender: post webhook"},
		{"canceled", canceled, closed.URL, secret, "context canceled"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, _, err := sender.Send(c.ctx, nil, c.url, []byte(c.secret), []byte("{}"))
			if err == nil || status != 0 || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %d, %v; want an error containing %q", status, err, c.want)
			}
			if c.secret != "" && strings.Contains(err.Error(), c.secret) {
				t.Errorf("error %q contains the secret", err)
			}
		})
	}
}
