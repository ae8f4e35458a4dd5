package auth_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/assistant-otel/assistant-otel/auth"
)

func TestHeaderAuthenticator(t *testing.T) {
	const cur, next = "Basic YWNtZTpzM2NyM3Qtb25l", "Basic YWNtZTpzM2NyM3QtdHdv"
	a, err := auth.NewHeaderAuthenticator("authorization", [][]byte{[]byte(cur), []byte(next + "\n")})
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
		{"wrong value", []string{"Basic d3Jvbmc="}, auth.ReasonBadCredentials},
		{"prefix of a value", []string{cur[:len(cur)-1]}, auth.ReasonBadCredentials},
		{"value plus a byte", []string{cur + "x"}, auth.ReasonBadCredentials},
		{"case changed", []string{strings.ToUpper(cur)}, auth.ReasonBadCredentials},
		{"both values in one header", []string{cur + "," + next}, auth.ReasonBadCredentials},
		{"a JWT", []string{"eyJhbGciOiJIUzI1NiJ9.e30.x"}, auth.ReasonBadCredentials},
		{"missing", nil, auth.ReasonMissing},
		{"empty", []string{""}, auth.ReasonMissing},
		{"two headers", []string{cur, cur}, auth.ReasonMultipleHeaders},
		{"oversized", []string{strings.Repeat("x", auth.DefaultMaxHeaderValueBytes+1)}, auth.ReasonOversized},
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
	if got := authenticate(t, a, "/", []string{cur}); got != auth.ReasonBadCredentials {
		t.Errorf("retired value: reason %q", got)
	}
	if err := a.SetValues([][]byte{[]byte(" \n")}); err == nil {
		t.Error("blank value accepted")
	}
	if got := authenticate(t, a, "/", []string{next}); got != "" {
		t.Errorf("a failed SetValues changed the values: %q", got)
	}
	// A custom header; Authorization is then ignored.
	x, err := auth.NewHeaderAuthenticator("X-Webhook-Token", [][]byte{[]byte("t0k3n-value")})
	if err != nil {
		t.Fatal(err)
	}
	req = httptest.NewRequest(http.MethodPost, "/", nil)
	req.Header.Set("Authorization", "t0k3n-value")
	if err := x.Authenticate(req); auth.ReasonOf(err) != auth.ReasonMissing {
		t.Errorf("value in Authorization instead of X-Webhook-Token: %v", err)
	}
	req.Header.Set("X-Webhook-Token", "t0k3n-value")
	if err := x.Authenticate(req); err != nil {
		t.Errorf("X-Webhook-Token: %v", err)
	}
	for name, f := range map[string]func() (*auth.HeaderAuthenticator, error){
		"empty name": func() (*auth.HeaderAuthenticator, error) {
			return auth.NewHeaderAuthenticator("", [][]byte{[]byte("v")})
		},
		"name with colon": func() (*auth.HeaderAuthenticator, error) {
			return auth.NewHeaderAuthenticator("X:Y", [][]byte{[]byte("v")})
		},
		"no values": func() (*auth.HeaderAuthenticator, error) { return auth.NewHeaderAuthenticator("X", nil) },
		"empty value": func() (*auth.HeaderAuthenticator, error) {
			return auth.NewHeaderAuthenticator("X", [][]byte{{}})
		},
	} {
		if a, err := f(); err == nil || a != nil {
			t.Errorf("%s: got %v, %v; want an error", name, a, err)
		}
	}
}
