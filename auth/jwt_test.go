package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/assistant-otel/assistant-otel/auth"
)

func newJWT(t *testing.T, secrets []string, opts ...auth.JWTOption) *auth.JWTAuthenticator {
	t.Helper()
	bs := make([][]byte, len(secrets))
	for i, s := range secrets {
		bs[i] = []byte(s)
	}
	a, err := auth.NewJWTAuthenticator(bs, append([]auth.JWTOption{auth.WithJWTClock(now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// authenticate runs a with the given Authorization values (nil: no header)
// and returns the failure reason, "" when accepted. It fails the test if the
// error leaks a credential or is not an *AuthError.
func authenticate(t *testing.T, a auth.Authenticator, target string, values []string) string {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, target, nil)
	if values != nil {
		req.Header["Authorization"] = values
	}
	err := a.Authenticate(req)
	if err == nil {
		return ""
	}
	var ae *auth.AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an *AuthError", err, err)
	}
	msg := err.Error()
	if strings.Contains(msg, testSecret) {
		t.Errorf("error %q contains the secret", msg)
	}
	for _, v := range values {
		if len(v) >= 8 && strings.Contains(msg, v) {
			t.Errorf("error %q contains the credential", msg)
		}
	}
	if msg != "authentication failed: "+ae.Reason || auth.ReasonOf(err) != ae.Reason {
		t.Errorf("error %q / ReasonOf %q disagree with reason %q", msg, auth.ReasonOf(err), ae.Reason)
	}
	return ae.Reason
}

func TestJWTAuthenticator(t *testing.T) {
	secret := []byte(testSecret)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	iat := now().Unix()
	claims := func(kv ...any) jwt.MapClaims {
		c := jwt.MapClaims{}
		for i := 0; i < len(kv); i += 2 {
			c[kv[i].(string)] = kv[i+1]
		}
		return c
	}
	at := func(d time.Duration) int64 { return now().Add(d).Unix() }
	hs256 := func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodHS256, secret, c) }
	good := hs256(goodClaims())
	goodParts := strings.Split(good, ".")
	noneClaims := fmt.Sprintf(`{"iat":%d}`, iat)

	cases := []struct {
		name   string
		values []string // nil: no header
		want   string   // "" means accepted
	}{
		{"HS256 raw", []string{good}, ""},
		{"HS256 Bearer", []string{"Bearer " + good}, ""},
		{"HS256 BEARER", []string{"BEARER " + good}, ""},
		{"HS256 bearer tab", []string{"bearer\t" + good}, ""},
		{"HS384", []string{sign(t, jwt.SigningMethodHS384, secret, goodClaims())}, ""},
		{"HS512", []string{sign(t, jwt.SigningMethodHS512, secret, goodClaims())}, ""},
		{"no claims at all", []string{hs256(jwt.MapClaims{})}, ""},
		{"unknown claims", []string{hs256(claims("iss", "watson", "aud", []string{"x"}, "sub", 42, "custom", map[string]any{"a": 1}))}, ""},
		{"expired within leeway", []string{hs256(claims("exp", at(-30*time.Second)))}, ""},
		{"nbf within leeway", []string{hs256(claims("nbf", at(30*time.Second)))}, ""},
		{"old iat without max age", []string{hs256(claims("iat", at(-24*time.Hour)))}, ""},

		{"no header", nil, auth.ReasonMissing},
		{"empty header", []string{""}, auth.ReasonMissing},
		{"blank header", []string{"   "}, auth.ReasonMissing},
		{"two headers", []string{good, good}, auth.ReasonMultipleHeaders},
		{"Basic scheme", []string{"Basic dXNlcjpwYXNz"}, auth.ReasonUnsupportedScheme},
		{"token with inner space", []string{"Bearer " + goodParts[0] + " ." + goodParts[1]}, auth.ReasonMalformed},
		{"oversized token", []string{strings.Repeat("x", auth.DefaultMaxTokenBytes+1)}, auth.ReasonOversized},
		{"oversized Bearer token", []string{"Bearer " + strings.Repeat("x", auth.DefaultMaxTokenBytes+1)}, auth.ReasonOversized},
		{"oversized but validly signed", []string{hs256(claims("pad", strings.Repeat("p", 9<<10)))}, auth.ReasonOversized},

		{"wrong secret", []string{sign(t, jwt.SigningMethodHS256, []byte("not the secret"), goodClaims())}, auth.ReasonBadSignature},
		{"secret prefix", []string{sign(t, jwt.SigningMethodHS256, secret[:len(secret)-1], goodClaims())}, auth.ReasonBadSignature},
		{"tampered claims", []string{goodParts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"exp":%d}`, at(24*time.Hour)))) + "." + goodParts[2]}, auth.ReasonBadSignature},
		{"empty signature", []string{goodParts[0] + "." + goodParts[1] + "."}, auth.ReasonBadSignature},
		{"signature of another algorithm", []string{rawToken(`{"alg":"HS512","typ":"JWT"}`, noneClaims, goodParts[2])}, auth.ReasonBadSignature},
		{"HS/RS key confusion: HS256 keyed with the RSA public key", []string{sign(t, jwt.SigningMethodHS256, pubPEM, goodClaims())}, auth.ReasonBadSignature},

		{"alg none", []string{rawToken(`{"alg":"none","typ":"JWT"}`, noneClaims, "")}, auth.ReasonBadAlgorithm},
		{"alg None", []string{rawToken(`{"alg":"None","typ":"JWT"}`, noneClaims, "")}, auth.ReasonBadAlgorithm},
		{"alg NONE with signature", []string{rawToken(`{"alg":"NONE"}`, noneClaims, goodParts[2])}, auth.ReasonBadAlgorithm},
		{"alg none via library", []string{sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, goodClaims())}, auth.ReasonBadAlgorithm},
		{"alg missing", []string{rawToken(`{"typ":"JWT"}`, noneClaims, goodParts[2])}, auth.ReasonBadAlgorithm},
		{"alg not a string", []string{rawToken(`{"alg":256}`, noneClaims, goodParts[2])}, auth.ReasonBadAlgorithm},
		{"alg unknown", []string{rawToken(`{"alg":"HS1024"}`, noneClaims, goodParts[2])}, auth.ReasonBadAlgorithm},
		{"RS256", []string{sign(t, jwt.SigningMethodRS256, rsaKey, goodClaims())}, auth.ReasonBadAlgorithm},
		{"PS256", []string{sign(t, jwt.SigningMethodPS256, rsaKey, goodClaims())}, auth.ReasonBadAlgorithm},
		{"ES256", []string{sign(t, jwt.SigningMethodES256, ecKey, goodClaims())}, auth.ReasonBadAlgorithm},

		{"expired", []string{hs256(claims("iat", at(-time.Hour), "exp", at(-2*time.Minute)))}, auth.ReasonExpired},
		{"expired and not yet valid", []string{hs256(claims("exp", at(-time.Hour), "nbf", at(time.Hour)))}, auth.ReasonExpired},
		{"nbf in future", []string{hs256(claims("nbf", at(5*time.Minute)))}, auth.ReasonNotYetValid},
		{"exp not a number", []string{hs256(claims("exp", "tomorrow"))}, auth.ReasonInvalidClaims},
		{"nbf not a number", []string{hs256(claims("nbf", true))}, auth.ReasonInvalidClaims},

		{"one segment", []string{"abcdef"}, auth.ReasonMalformed},
		{"two segments", []string{goodParts[0] + "." + goodParts[1]}, auth.ReasonMalformed},
		{"four segments", []string{good + ".x"}, auth.ReasonMalformed},
		{"dots only", []string{".."}, auth.ReasonMalformed},
		{"bad base64", []string{"!!!!.@@@@.####"}, auth.ReasonMalformed},
		{"bad base64 signature", []string{goodParts[0] + "." + goodParts[1] + ".***"}, auth.ReasonMalformed},
		{"padded base64", []string{goodParts[0] + "==." + goodParts[1] + "." + goodParts[2]}, auth.ReasonMalformed},
		{"header not JSON", []string{rawToken(`not json`, noneClaims, goodParts[2])}, auth.ReasonMalformed},
		{"header JSON array", []string{rawToken(`["HS256"]`, noneClaims, goodParts[2])}, auth.ReasonMalformed},
		{"claims not JSON", []string{rawToken(`{"alg":"HS256"}`, `{`, goodParts[2])}, auth.ReasonMalformed},
		{"secret as token", []string{testSecret}, auth.ReasonMalformed},
	}
	a := newJWT(t, []string{testSecret})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := authenticate(t, a, "/webhook", c.values); got != c.want {
				t.Errorf("reason = %q, want %q", got, c.want)
			}
		})
	}

	t.Run("token only in query string", func(t *testing.T) {
		if got := authenticate(t, a, "/webhook?token="+good+"&jwt="+good+"&authorization="+good, nil); got != auth.ReasonMissing {
			t.Errorf("reason = %q, want missing", got)
		}
	})
	t.Run("RS256 against a PEM configured as secret", func(t *testing.T) {
		// An operator pasting a public key as the secret must not turn RS256
		// tokens (or HS256 keyed with the public key, which anyone can make)
		// into a back door for asymmetric algorithms.
		pa := newJWT(t, []string{string(pubPEM)})
		if got := authenticate(t, pa, "/", []string{sign(t, jwt.SigningMethodRS256, rsaKey, goodClaims())}); got != auth.ReasonBadAlgorithm {
			t.Errorf("reason = %q, want bad_algorithm", got)
		}
	})
	t.Run("sentinel errors", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPost, "/", nil)
		req.Header.Set("Authorization", hs256(claims("exp", at(-time.Hour))))
		if err := a.Authenticate(req); !errors.Is(err, jwt.ErrTokenExpired) {
			t.Errorf("err = %v, want errors.Is jwt.ErrTokenExpired", err)
		}
	})
}

func TestJWTLeeway(t *testing.T) {
	tok := sign(t, jwt.SigningMethodHS256, []byte(testSecret), jwt.MapClaims{"exp": now().Add(-30 * time.Second).Unix()})
	if got := authenticate(t, newJWT(t, []string{testSecret}), "/", []string{tok}); got != "" {
		t.Errorf("default leeway: reason %q, want accepted", got)
	}
	if got := authenticate(t, newJWT(t, []string{testSecret}, auth.WithLeeway(0)), "/", []string{tok}); got != auth.ReasonExpired {
		t.Errorf("no leeway: reason %q, want expired", got)
	}
	if got := authenticate(t, newJWT(t, []string{testSecret}, auth.WithLeeway(10*time.Minute)), "/", []string{
		sign(t, jwt.SigningMethodHS256, []byte(testSecret), jwt.MapClaims{"nbf": now().Add(5 * time.Minute).Unix()}),
	}); got != "" {
		t.Errorf("10 min leeway, nbf in 5 min: reason %q, want accepted", got)
	}
}

func TestJWTMaxTokenAge(t *testing.T) {
	a := newJWT(t, []string{testSecret}, auth.WithMaxTokenAge(5*time.Minute), auth.WithLeeway(0))
	tok := func(c jwt.MapClaims) []string {
		return []string{sign(t, jwt.SigningMethodHS256, []byte(testSecret), c)}
	}
	for _, c := range []struct {
		name   string
		claims jwt.MapClaims
		want   string
	}{
		{"fresh", jwt.MapClaims{"iat": now().Add(-time.Minute).Unix()}, ""},
		{"too old", jwt.MapClaims{"iat": now().Add(-10 * time.Minute).Unix(), "exp": now().Add(time.Hour).Unix()}, auth.ReasonTooOld},
		{"issued in the future", jwt.MapClaims{"iat": now().Add(10 * time.Minute).Unix()}, auth.ReasonNotYetValid},
		{"no iat", jwt.MapClaims{"exp": now().Add(time.Hour).Unix()}, auth.ReasonInvalidClaims},
		{"no claims", jwt.MapClaims{}, auth.ReasonInvalidClaims},
		{"iat not a number", jwt.MapClaims{"iat": "yesterday"}, auth.ReasonInvalidClaims},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := authenticate(t, a, "/", tok(c.claims)); got != c.want {
				t.Errorf("reason = %q, want %q", got, c.want)
			}
		})
	}
}

func TestJWTMaxTokenBytes(t *testing.T) {
	tok := goodToken(t)
	if got := authenticate(t, newJWT(t, []string{testSecret}, auth.WithMaxTokenBytes(len(tok))), "/", []string{"Bearer " + tok}); got != "" {
		t.Errorf("token at the limit: reason %q", got)
	}
	if got := authenticate(t, newJWT(t, []string{testSecret}, auth.WithMaxTokenBytes(len(tok)-1)), "/", []string{tok}); got != auth.ReasonOversized {
		t.Errorf("token one byte over: reason %q, want oversized", got)
	}
}

func TestJWTRotation(t *testing.T) {
	tokenFor := func(secret string) []string {
		return []string{sign(t, jwt.SigningMethodHS256, []byte(secret), goodClaims())}
	}
	a := newJWT(t, []string{"old-secret", "new-secret"})
	for secret, want := range map[string]string{"old-secret": "", "new-secret": "", "third-secret": auth.ReasonBadSignature} {
		if got := authenticate(t, a, "/", tokenFor(secret)); got != want {
			t.Errorf("token signed with %s: reason %q, want %q", secret, got, want)
		}
	}
	if err := a.SetSecrets([][]byte{[]byte("new-secret")}); err != nil {
		t.Fatal(err)
	}
	if got := authenticate(t, a, "/", tokenFor("old-secret")); got != auth.ReasonBadSignature {
		t.Errorf("after retiring old-secret: reason %q, want bad_signature", got)
	}
	if err := a.SetSecrets(nil); err == nil {
		t.Error("SetSecrets(nil) succeeded")
	}
	if err := a.SetSecrets([][]byte{[]byte("x"), nil}); err == nil {
		t.Error("SetSecrets with an empty secret succeeded")
	}
	if got := authenticate(t, a, "/", tokenFor("new-secret")); got != "" {
		t.Errorf("a failed SetSecrets changed the secrets: reason %q", got)
	}
	// The authenticator keeps its own copy of the secrets.
	buf := []byte("mutable-secret")
	b, err := auth.NewJWTAuthenticator([][]byte{buf}, auth.WithJWTClock(now))
	if err != nil {
		t.Fatal(err)
	}
	copy(buf, "XXXXXXXXXXXXXX")
	if got := authenticate(t, b, "/", tokenFor("mutable-secret")); got != "" {
		t.Errorf("caller's buffer change affected the secret: reason %q", got)
	}
}

func TestNewJWTAuthenticatorValidates(t *testing.T) {
	s := [][]byte{[]byte(testSecret)}
	for _, c := range []struct {
		name    string
		secrets [][]byte
		opts    []auth.JWTOption
	}{
		{"no secrets", nil, nil},
		{"empty secret", [][]byte{{}}, nil},
		{"negative leeway", s, []auth.JWTOption{auth.WithLeeway(-time.Second)}},
		{"negative max age", s, []auth.JWTOption{auth.WithMaxTokenAge(-time.Second)}},
		{"zero max token bytes", s, []auth.JWTOption{auth.WithMaxTokenBytes(0)}},
		{"nil clock", s, []auth.JWTOption{auth.WithJWTClock(nil)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if a, err := auth.NewJWTAuthenticator(c.secrets, c.opts...); err == nil || a != nil {
				t.Fatalf("got %v, %v; want an error", a, err)
			}
		})
	}
}

func TestReasonOf(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{&auth.AuthError{Reason: auth.ReasonExpired}, auth.ReasonExpired},
		{fmt.Errorf("wrapped: %w", &auth.AuthError{Reason: "assistant_mismatch"}), "assistant_mismatch"},
		{errors.New("plain"), auth.ReasonInvalid},
		{&auth.AuthError{Reason: "Has Spaces"}, auth.ReasonInvalid},
		{&auth.AuthError{Reason: strings.Repeat("a", 33)}, auth.ReasonInvalid},
		{&auth.AuthError{}, auth.ReasonInvalid},
	} {
		if got := auth.ReasonOf(c.err); got != c.want {
			t.Errorf("ReasonOf(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// TestJWTTimeClaimsAndCrit: exp, nbf and iat outside 0..year 9999 are
// refused before any conversion (the library wraps 9.2e18 and more around
// to a date in the past), and a crit header is refused (RFC 7515 §4.1.11).
func TestJWTTimeClaimsAndCrit(t *testing.T) {
	a := newJWT(t, []string{testSecret})
	signed := func(header map[string]any, c jwt.MapClaims) []string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
		for k, v := range header {
			tok.Header[k] = v
		}
		s, err := tok.SignedString([]byte(testSecret))
		if err != nil {
			t.Fatal(err)
		}
		return []string{s}
	}
	for _, c := range []struct {
		name   string
		header map[string]any
		claims jwt.MapClaims
		want   string
	}{
		{"nbf 9.2e18 (int64 overflow)", nil, jwt.MapClaims{"nbf": uint64(9_223_372_036_854_775_808)}, auth.ReasonInvalidClaims},
		{"nbf 9.3e18 as a float", nil, jwt.MapClaims{"nbf": 9.3e18}, auth.ReasonInvalidClaims},
		{"nbf 1e400", nil, jwt.MapClaims{"nbf": json.Number("1e400")}, auth.ReasonInvalidClaims},
		{"nbf just past year 9999", nil, jwt.MapClaims{"nbf": int64(253402300800)}, auth.ReasonInvalidClaims},
		{"exp 1e19", nil, jwt.MapClaims{"exp": 1e19}, auth.ReasonInvalidClaims},
		{"exp in year 9999", nil, jwt.MapClaims{"exp": int64(253402300799)}, ""},
		{"iat negative", nil, jwt.MapClaims{"iat": -1}, auth.ReasonInvalidClaims},
		{"nbf 0", nil, jwt.MapClaims{"nbf": 0}, ""},
		{"fractional exp", nil, jwt.MapClaims{"exp": float64(now().Add(time.Hour).Unix()) + 0.5}, ""},
		{"crit naming an unknown extension", map[string]any{"crit": []string{"x-unknown"}, "x-unknown": true}, goodClaims(), auth.ReasonUnsupportedCrit},
		{"crit naming a registered header", map[string]any{"crit": []string{"alg"}}, goodClaims(), auth.ReasonUnsupportedCrit},
		{"crit empty", map[string]any{"crit": []string{}}, goodClaims(), auth.ReasonUnsupportedCrit},
		{"crit null", map[string]any{"crit": nil}, goodClaims(), auth.ReasonUnsupportedCrit},
		{"unknown header without crit", map[string]any{"x-unknown": true}, goodClaims(), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := authenticate(t, a, "/", signed(c.header, c.claims)); got != c.want {
				t.Errorf("reason = %q, want %q", got, c.want)
			}
		})
	}
}
