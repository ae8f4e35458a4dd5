package auth_test

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const testSecret = "s3cr3t-W4ts0n-webhook-k3y"

// now is the fixed clock of the JWT tests.
func now() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }

// sign returns a token for claims signed with method and key.
func sign(tb testing.TB, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	tb.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// goodClaims are the claims Watson is assumed to send: iat now, exp in 5 min.
func goodClaims() jwt.MapClaims {
	return jwt.MapClaims{"iat": now().Unix(), "exp": now().Add(5 * time.Minute).Unix()}
}

func goodToken(t *testing.T) string {
	return sign(t, jwt.SigningMethodHS256, []byte(testSecret), goodClaims())
}

// rawToken assembles a token from JSON header and claims and a raw
// signature segment, bypassing any library checks.
func rawToken(header, claims, sig string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(claims)) + "." + sig
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
