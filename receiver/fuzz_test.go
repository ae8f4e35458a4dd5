package receiver_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/assistant-otel/assistant-otel/receiver"
	"github.com/assistant-otel/assistant-otel/watson"
)

// seedBodies returns every corpus body and mapping edge case.
func seedBodies(f *testing.F) [][]byte {
	f.Helper()
	var files []string
	for _, pattern := range []string{"../testdata/corpus/*.json", "../testdata/corpus/other-events/*.json", "../mapping/testdata/edge/*.json"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 10 {
		f.Fatalf("only %d seed files found", len(files))
	}
	var out [][]byte
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// Variant bits of FuzzHandler's request.
const (
	vGzip     = 1 << iota // gzip the body and say so
	vFakeGzip             // say gzip, send the body as is
	vBearer               // "Bearer " before the token
	vNoToken              // no Authorization header
	vChunked              // no Content-Length
	vGet                  // GET instead of POST
)

// textField finds the conversation texts of a body, which no response may
// quote.
var textField = regexp.MustCompile(`"(?:text|value|label)"\s*:\s*"([^"\\]{12,})"`)

// handlerStatuses are the codes the handler documents, with a valid token.
var handlerStatuses = []int{200, 400, 401, 405, 413, 415, 422}

// FuzzHandler sends whole requests (body, Content-Type, a few header
// variants) through the real handler: it must never panic or answer 500,
// every status must be a documented one, and every answer a short JSON
// object that quotes neither the token nor the body.
func FuzzHandler(f *testing.F) {
	for _, b := range seedBodies(f) {
		f.Add(b, "application/json", uint8(0))
		f.Add(b, "application/json; charset=utf-8", uint8(vGzip|vBearer))
	}
	f.Add([]byte(`{"event":{"name":"message_logged"},"payload":{}}`), "", uint8(vChunked))
	f.Add([]byte(`{"event":{"name":"x"},"payload":{"a":"b"}}`), "application/vnd.x+json", uint8(0))
	f.Add([]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00"), "application/json", uint8(vFakeGzip))
	f.Add([]byte(`[]`), "text/plain", uint8(vNoToken))
	f.Add([]byte(`{}`), "application/json", uint8(vGet))

	const limit = 256 << 10
	discard := receiver.ConsumerFunc(func(context.Context, watson.Event, time.Time) error { return nil })
	rc, err := receiver.New(discard, mustJWTF(f), receiver.WithMaxBodyBytes(limit), receiver.WithClock(now))
	if err != nil {
		f.Fatal(err)
	}
	handler := rc.Handler()
	token := mustSign(f, jwt.SigningMethodHS256, []byte(testSecret), goodClaims())

	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed) // fuzz workers run one input at a time
	f.Fuzz(func(t *testing.T, body []byte, contentType string, variant uint8) {
		payload := body
		if variant&vGzip != 0 {
			var buf bytes.Buffer
			zw.Reset(&buf)
			_, _ = zw.Write(body)
			_ = zw.Close()
			payload = buf.Bytes()
		}
		method := http.MethodPost
		if variant&vGet != 0 {
			method = http.MethodGet
		}
		req := httptest.NewRequest(method, "/webhook", bytes.NewReader(payload))
		if variant&vChunked != 0 {
			req.ContentLength = -1
		}
		if contentType != "" {
			req.Header["Content-Type"] = []string{contentType}
		}
		if variant&(vGzip|vFakeGzip) != 0 {
			req.Header.Set("Content-Encoding", "gzip")
		}
		switch {
		case variant&vNoToken != 0:
		case variant&vBearer != 0:
			req.Header.Set("Authorization", "Bearer "+token)
		default:
			req.Header.Set("Authorization", token)
		}
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, req)

		if !slices.Contains(handlerStatuses, w.Code) {
			t.Fatalf("status %d is not a documented one (body %s)", w.Code, w.Body.Bytes())
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type %q", ct)
		}
		var resp map[string]string
		if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil || len(resp) != 1 {
			t.Fatalf("response %q is not a one-field JSON object: %v", w.Body.Bytes(), err)
		}
		if w.Body.Len() > 512 {
			t.Fatalf("response of %d bytes", w.Body.Len())
		}
		if strings.Contains(w.Body.String(), token[len(token)-20:]) {
			t.Fatal("response quotes the token")
		}
		if variant&vNoToken != 0 && method == http.MethodPost && w.Code == 200 {
			t.Fatal("accepted without a token")
		}
		for _, m := range textField.FindAllSubmatch(body, -1) {
			if strings.Contains(w.Body.String(), string(m[1])) {
				t.Fatalf("response quotes a text of the body: %s", w.Body.Bytes())
			}
		}
	})
}

func mustSign(tb testing.TB, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	tb.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func mustJWTF(f *testing.F) *receiver.JWTAuthenticator {
	a, err := receiver.NewJWTAuthenticator([][]byte{[]byte(testSecret), []byte("second-secret")}, receiver.WithJWTClock(now))
	if err != nil {
		f.Fatal(err)
	}
	return a
}

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
			f.Add(mustSign(f, m, secrets[0], c))
			f.Add("Bearer " + mustSign(f, m, secrets[1], c))
		}
		f.Add(mustSign(f, jwt.SigningMethodHS256, []byte("wrong"), c))
		f.Add(mustSign(f, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, c))
	}
	for _, s := range []string{"", "Bearer ", "Basic eA==", "a.b.c", "..", "e30.e30.", rawToken(`{"alg":"none"}`, `{}`, ""),
		rawToken(`{"alg":"HS256","crit":["x"]}`, `{}`, "AAAA"), rawToken(`{"alg":"HS256"}`, `{"exp":1e400}`, "")} {
		f.Add(s)
	}
	plain, err := receiver.NewJWTAuthenticator(secrets, receiver.WithJWTClock(now))
	if err != nil {
		f.Fatal(err)
	}
	aged, err := receiver.NewJWTAuthenticator(secrets, receiver.WithJWTClock(now), receiver.WithMaxTokenAge(time.Minute))
	if err != nil {
		f.Fatal(err)
	}
	known := []string{receiver.ReasonMissing, receiver.ReasonMultipleHeaders, receiver.ReasonOversized,
		receiver.ReasonUnsupportedScheme, receiver.ReasonMalformed, receiver.ReasonBadAlgorithm, receiver.ReasonBadSignature,
		receiver.ReasonExpired, receiver.ReasonNotYetValid, receiver.ReasonTooOld, receiver.ReasonInvalidClaims, receiver.ReasonInvalid}

	f.Fuzz(func(t *testing.T, value string) {
		for _, a := range []*receiver.JWTAuthenticator{plain, aged} {
			req := httptest.NewRequest(http.MethodPost, "/webhook", nil)
			req.Header["Authorization"] = []string{value}
			matched, err := a.MatchKeys(req)
			if err != nil {
				if matched != nil {
					t.Fatal("keys returned with an error")
				}
				if r := receiver.ReasonOf(err); !slices.Contains(known, r) {
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
