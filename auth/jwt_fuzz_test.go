package auth_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"hash"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/assistant-otel/assistant-otel/auth"
)

// verifiesWith is an oracle independent of the JWT library: does token
// carry a valid HMAC signature of its first two segments under secret?
func verifiesWith(token string, secret []byte) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return false
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(hb, &hdr) != nil {
		return false
	}
	var h func() hash.Hash
	switch hdr.Alg {
	case "HS256":
		h = sha256.New
	case "HS384":
		h = sha512.New384
	case "HS512":
		h = sha512.New
	default:
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return false
	}
	m := hmac.New(h, secret)
	m.Write([]byte(parts[0] + "." + parts[1]))
	return hmac.Equal(sig, m.Sum(nil))
}

// FuzzJWT feeds Authorization values to the JWT authenticator: it must never
// panic, must give a known reason, and must never accept a token that is not
// signed with one of its secrets (checked with an independent HMAC oracle),
// nor name a secret in MatchKeys that did not sign it.
func FuzzJWT(f *testing.F) {
	secrets := [][]byte{[]byte(testSecret), []byte("second-secret")}
	claims := []jwt.MapClaims{
		goodClaims(),
		{},
		{"exp": now().Add(-time.Hour).Unix()},
		{"nbf": now().Add(time.Hour).Unix()},
		{"iat": now().Add(-time.Hour).Unix(), "aud": []any{"x", 1}, "n": 1.5},
		{"exp": "soon"},
	}
	for _, c := range claims {
		for _, m := range []jwt.SigningMethod{jwt.SigningMethodHS256, jwt.SigningMethodHS384, jwt.SigningMethodHS512} {
			f.Add(sign(f, m, secrets[0], c))
			f.Add("Bearer " + sign(f, m, secrets[1], c))
		}
		f.Add(sign(f, jwt.SigningMethodHS256, []byte("wrong"), c))
		f.Add(sign(f, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, c))
	}
	for _, s := range []string{"", "Bearer ", "Basic eA==", "a.b.c", "..", "e30.e30.", rawToken(`{"alg":"none"}`, `{}`, ""),
		rawToken(`{"alg":"HS256","crit":["x"]}`, `{}`, "AAAA"), rawToken(`{"alg":"HS256"}`, `{"exp":1e400}`, "")} {
		f.Add(s)
	}
	plain, err := auth.NewJWTAuthenticator(secrets, auth.WithJWTClock(now))
	if err != nil {
		f.Fatal(err)
	}
	aged, err := auth.NewJWTAuthenticator(secrets, auth.WithJWTClock(now), auth.WithMaxTokenAge(time.Minute))
	if err != nil {
		f.Fatal(err)
	}
	known := []string{auth.ReasonMissing, auth.ReasonMultipleHeaders, auth.ReasonOversized,
		auth.ReasonUnsupportedScheme, auth.ReasonMalformed, auth.ReasonBadAlgorithm, auth.ReasonBadSignature,
		auth.ReasonExpired, auth.ReasonNotYetValid, auth.ReasonTooOld, auth.ReasonInvalidClaims, auth.ReasonInvalid}

	f.Fuzz(func(t *testing.T, value string) {
		for _, a := range []*auth.JWTAuthenticator{plain, aged} {
			req := httptest.NewRequest(http.MethodPost, "/webhook", nil)
			req.Header["Authorization"] = []string{value}
			matched, err := a.MatchKeys(req)
			if err != nil {
				if matched != nil {
					t.Fatal("keys returned with an error")
				}
				if r := auth.ReasonOf(err); !slices.Contains(known, r) {
					t.Fatalf("unknown reason %q", r)
				}
				if len(value) >= 12 && strings.Contains(err.Error(), value) {
					t.Fatal("error quotes the token")
				}
				if a.Authenticate(req) == nil {
					t.Fatal("Authenticate accepts what MatchKeys refuses")
				}
				continue
			}
			tok := strings.TrimSpace(value)
			if i := strings.IndexAny(tok, " \t"); i >= 0 {
				tok = strings.TrimSpace(tok[i+1:])
			}
			if len(matched) == 0 {
				t.Fatal("accepted with no matching key")
			}
			for i, s := range secrets {
				if slices.Contains(matched, i) != verifiesWith(tok, s) {
					t.Fatalf("MatchKeys = %v disagrees with the HMAC oracle for secret %d on %q", matched, i, tok)
				}
			}
			if err := a.Authenticate(req); err != nil {
				t.Fatalf("MatchKeys accepts, Authenticate refuses: %v", err)
			}
		}
	})
}
