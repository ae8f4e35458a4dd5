package receiver_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
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

	"github.com/assistant-otel/assistant-otel/auth"
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

func mustJWTF(f *testing.F) *auth.JWTAuthenticator {
	a, err := auth.NewJWTAuthenticator([][]byte{[]byte(testSecret), []byte("second-secret")}, auth.WithJWTClock(now))
	if err != nil {
		f.Fatal(err)
	}
	return a
}
