package receiver_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/assistant-otel/assistant-otel/auth"
	"github.com/assistant-otel/assistant-otel/mapping"
	"github.com/assistant-otel/assistant-otel/receiver"
)

// TestAttackSuite sends every known attack on the webhook's authentication
// through the real handler and checks that each is refused with 401, that
// nothing reaches the consumer, and that the auth-failure metric counts each
// by its reason.
func TestAttackSuite(t *testing.T) {
	const maxAge = 5 * time.Minute
	a, err := auth.NewJWTAuthenticator([][]byte{[]byte(testSecret)},
		auth.WithJWTClock(now), auth.WithMaxTokenAge(maxAge), auth.WithLeeway(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, a)
	body := readFile(t, corpus01)

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
	secret := []byte(testSecret)
	good := goodToken(t)
	parts := strings.Split(good, ".")
	iat := fmt.Sprintf(`{"iat":%d}`, now().Unix())
	at := func(d time.Duration) int64 { return now().Add(d).Unix() }
	hs := func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodHS256, secret, c) }

	attacks := []struct {
		name   string
		header http.Header // request headers (Authorization among them)
		target string      // default /webhook
		reason string
	}{
		{"alg none", authHeader(rawToken(`{"alg":"none","typ":"JWT"}`, iat, "")), "", auth.ReasonBadAlgorithm},
		{"alg none, Bearer", authHeader("Bearer " + rawToken(`{"alg":"none"}`, iat, "")), "", auth.ReasonBadAlgorithm},
		{"alg nOnE with a real signature", authHeader(rawToken(`{"alg":"nOnE"}`, iat, parts[2])), "", auth.ReasonBadAlgorithm},
		{"RS256", authHeader(sign(t, jwt.SigningMethodRS256, rsaKey, goodClaims())), "", auth.ReasonBadAlgorithm},
		{"PS256", authHeader(sign(t, jwt.SigningMethodPS256, rsaKey, goodClaims())), "", auth.ReasonBadAlgorithm},
		{"ES256", authHeader(sign(t, jwt.SigningMethodES256, ecKey, goodClaims())), "", auth.ReasonBadAlgorithm},
		{"EdDSA header", authHeader(rawToken(`{"alg":"EdDSA"}`, iat, parts[2])), "", auth.ReasonBadAlgorithm},
		{"HS/RS key confusion", authHeader(sign(t, jwt.SigningMethodHS256, pubPEM, goodClaims())), "", auth.ReasonBadSignature},
		{"wrong secret", authHeader(sign(t, jwt.SigningMethodHS256, []byte("guessed-secret"), goodClaims())), "", auth.ReasonBadSignature},
		{"empty secret", authHeader(rawToken(`{"alg":"HS256"}`, iat, base64.RawURLEncoding.EncodeToString(make([]byte, 32)))), "", auth.ReasonBadSignature},
		{"signature stripped", authHeader(parts[0] + "." + parts[1] + "."), "", auth.ReasonBadSignature},
		{"claims swapped under a valid signature", authHeader(parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iat":1}`)) + "." + parts[2]), "", auth.ReasonBadSignature},
		{"expired", authHeader(hs(jwt.MapClaims{"iat": at(-2 * time.Minute), "exp": at(-time.Minute)})), "", auth.ReasonExpired},
		{"not yet valid (nbf)", authHeader(hs(jwt.MapClaims{"nbf": at(10 * time.Minute)})), "", auth.ReasonNotYetValid},
		{"issued in the future (iat)", authHeader(hs(jwt.MapClaims{"iat": at(10 * time.Minute)})), "", auth.ReasonNotYetValid},
		{"replay outside the max token age", authHeader(hs(jwt.MapClaims{"iat": at(-maxAge - time.Minute), "exp": at(time.Hour)})), "", auth.ReasonTooOld},
		{"exp of the wrong type", authHeader(hs(jwt.MapClaims{"exp": "never"})), "", auth.ReasonInvalidClaims},
		{"nbf overflowing int64 (9.3e18)", authHeader(hs(jwt.MapClaims{"iat": at(0), "nbf": uint64(9_300_000_000_000_000_000)})), "", auth.ReasonInvalidClaims},
		{"exp beyond year 9999 (1e19)", authHeader(hs(jwt.MapClaims{"iat": at(0), "exp": 1e19})), "", auth.ReasonInvalidClaims},
		{"crit header naming an unknown extension", authHeader(withHeader(t, jwt.MapClaims{"iat": at(0)}, map[string]any{"crit": []string{"x-bypass"}, "x-bypass": true})), "", auth.ReasonUnsupportedCrit},
		{"no iat under a max token age", authHeader(hs(jwt.MapClaims{"exp": at(time.Hour)})), "", auth.ReasonInvalidClaims},
		{"one segment", authHeader("eyJhbGciOiJIUzI1NiJ9"), "", auth.ReasonMalformed},
		{"two segments", authHeader(parts[0] + "." + parts[1]), "", auth.ReasonMalformed},
		{"four segments", authHeader(good + "." + parts[2]), "", auth.ReasonMalformed},
		{"bad base64 header", authHeader("%%%." + parts[1] + "." + parts[2]), "", auth.ReasonMalformed},
		{"bad base64 signature", authHeader(parts[0] + "." + parts[1] + ".!!!"), "", auth.ReasonMalformed},
		{"standard base64 with padding", authHeader(base64.StdEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"} `)) + "." + parts[1] + "." + parts[2]), "", auth.ReasonMalformed},
		{"header not JSON", authHeader(rawToken(`{alg:HS256}`, iat, parts[2])), "", auth.ReasonMalformed},
		{"oversized token", authHeader(strings.Repeat("A", auth.DefaultMaxTokenBytes+1)), "", auth.ReasonOversized},
		{"oversized header value", authHeader("Bearer " + strings.Repeat("A", 20<<10)), "", auth.ReasonOversized},
		{"empty header", authHeader(""), "", auth.ReasonMissing},
		{"blank header", authHeader("  "), "", auth.ReasonMissing},
		{"no header", http.Header{}, "", auth.ReasonMissing},
		{"two Authorization headers", http.Header{"Authorization": {good, good}}, "", auth.ReasonMultipleHeaders},
		{"good and bad Authorization headers", http.Header{"Authorization": {"garbage", good}}, "", auth.ReasonMultipleHeaders},
		{"token only in the query string", http.Header{}, "/webhook?token=" + good + "&access_token=" + good + "&jwt=" + good, auth.ReasonMissing},
		{"token in a cookie", http.Header{"Cookie": {"token=" + good}}, "", auth.ReasonMissing},
		{"token in X-Authorization", http.Header{"X-Authorization": {good}}, "", auth.ReasonMissing},
		{"Basic scheme", authHeader("Basic " + base64.StdEncoding.EncodeToString([]byte("user:"+testSecret))), "", auth.ReasonUnsupportedScheme},
		{"secret sent as the token", authHeader(testSecret), "", auth.ReasonMalformed},
	}
	want := map[string]int64{}
	for _, c := range attacks {
		t.Run(c.name, func(t *testing.T) {
			target := c.target
			if target == "" {
				target = "/webhook"
			}
			req, err := http.NewRequest(http.MethodPost, h.srv.URL+target, strings.NewReader(string(body)))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range c.header {
				req.Header[k] = v
			}
			resp := h.do(req)
			if resp.status != http.StatusUnauthorized || resp.body["error"] != "unauthorized: "+c.reason {
				t.Errorf("got %d %s, want 401 unauthorized: %s", resp.status, resp.raw, c.reason)
			}
		})
		want["reason="+c.reason]++
	}
	if n := h.consumer.calls(); n != 0 {
		t.Errorf("consumer called %d times during the attacks", n)
	}
	rm := h.collect()
	assertCounts(t, receiver.MetricAuthFailures, counter(rm, receiver.MetricAuthFailures), want)
	assertCounts(t, receiver.MetricRequests, counter(rm, receiver.MetricRequests), map[string]int64{
		"http.response.status_code=401,watson_assistant.event=": int64(len(attacks)),
	})
	if logs := h.logs.String(); strings.Contains(logs, testSecret) || strings.Contains(logs, parts[2]) {
		t.Error("logs contain the secret or a token signature")
	}
}

func authHeader(v string) http.Header { return http.Header{"Authorization": {v}} }

// withHeader signs claims with the test secret and extra header parameters.
func withHeader(t *testing.T, c jwt.MapClaims, header map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestReplay documents what a JWT cannot prevent: Watson's token signs its
// claims, not the body, so a captured token can carry any body until it
// expires or is older than the maximum token age.
func TestReplay(t *testing.T) {
	const maxAge = 2 * time.Minute
	clock := now()
	a, err := auth.NewJWTAuthenticator([][]byte{[]byte(testSecret)},
		auth.WithJWTClock(func() time.Time { return clock }), auth.WithMaxTokenAge(maxAge), auth.WithLeeway(0))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, a)
	captured := sign(t, jwt.SigningMethodHS256, []byte(testSecret), jwt.MapClaims{"iat": clock.Unix()})
	original := readFile(t, corpus01)
	forged := []byte(strings.Replace(string(original), corpus01Text, "an attacker's text", 1))
	if string(forged) == string(original) {
		t.Fatal("forgery did not change the body")
	}

	if r := h.post(original, authHeader(captured)); r.status != http.StatusOK {
		t.Fatalf("original: %d %s", r.status, r.raw)
	}
	// Within the age: the forged body is accepted. This is the documented
	// limitation, not a wish; if it ever fails, the token covers the body.
	clock = clock.Add(maxAge - time.Second)
	if r := h.post(forged, authHeader(captured)); r.status != http.StatusOK {
		t.Fatalf("replay within max age: %d %s (documented as accepted)", r.status, r.raw)
	}
	h.consumer.mu.Lock()
	if len(h.consumer.events) != 2 || h.consumer.events[1].Log.Request.Input.Text != "an attacker's text" {
		t.Errorf("the forged body did not reach the consumer as sent")
	}
	h.consumer.mu.Unlock()
	// Outside it: refused.
	clock = clock.Add(2 * time.Second)
	if r := h.post(forged, authHeader(captured)); r.status != http.StatusUnauthorized || r.body["error"] != "unauthorized: too_old" {
		t.Fatalf("replay after max age: %d %s, want 401 too_old", r.status, r.raw)
	}
	if r := h.post(original, authHeader(captured)); r.status != http.StatusUnauthorized {
		t.Fatalf("original after max age: %d, want 401", r.status)
	}
	assertCounts(t, receiver.MetricAuthFailures, counter(h.collect(), receiver.MetricAuthFailures), map[string]int64{"reason=too_old": 2})
}

// Tenants of the isolation suite: two classic assistants, and the draft and
// live environments of one new-experience assistant, each with its own
// secret (the new experience sets secrets per environment, and a log
// event's assistant_id carries the environment id).
const (
	retailID  = "cbd2c063-3677-445f-9144-20882a1bfe52"
	bankID    = "0ddd74a5-98d0-4bb0-9f6c-6cc5ba9e7068"
	draftEnv  = "aaaaaaaa-0000-4000-8000-00000000d4af"
	liveEnv   = "bbbbbbbb-0000-4000-8000-0000000011fe"
	bankSess  = "6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e" // a session of the bank assistant
	retailKey = "retail-secret"
)

func isolationHarness(t *testing.T) *harness {
	t.Helper()
	dir := t.TempDir()
	for name, secret := range map[string]string{"retail": retailKey, "bank": "bank-secret", "draft": "draft-secret", "live": "live-secret"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(secret), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "assistants.yaml")
	if err := os.WriteFile(file, []byte(`assistants:
  - {id: `+retailID+`, name: Retail, secret_files: [retail]}
  - {id: `+bankID+`, name: Bank, secret_files: [bank]}
  - {id: `+draftEnv+`, name: Help (draft), secret_files: [draft]}
  - {id: `+liveEnv+`, name: Help (live), secret_files: [live]}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := auth.NewAssistants(file, auth.WithJWTOptions(auth.WithJWTClock(now)))
	if err != nil {
		t.Fatal(err)
	}
	return newHarness(t, a)
}

func signedBy(t *testing.T, secret string) http.Header {
	return authHeader(sign(t, jwt.SigningMethodHS256, []byte(secret), goodClaims()))
}

// turn is a message_logged event; assistant is the raw JSON member (or "").
func turn(assistant, session, logID string) []byte {
	return []byte(`{"event":{"name":"message_logged"},"payload":{` + assistant +
		`"log_id":"` + logID + `","session_id":"` + session + `","request":{"input":{"text":"hi"}},"response":{"output":{}},` +
		`"request_timestamp":"2026-03-01T11:59:59.000Z","response_timestamp":"2026-03-01T11:59:59.100Z"}}`)
}

// call is a cdr_logged event with the given interaction summaries (raw JSON).
func call(summaries string) []byte {
	return []byte(`{"event":{"name":"cdr_logged"},"payload":{"global_session_id":"g-1","call":{"end_reason":"caller_hangup"}` + summaries + `}}`)
}

func id(s string) string { return `"assistant_id":"` + s + `",` }

// TestAttackSuiteIsolation: with --assistants-file, a holder of one
// assistant's (or environment's) secret tries to write another's telemetry.
// Each attempt is refused with 403 and counted by its reason; nothing
// reaches the consumer.
func TestAttackSuiteIsolation(t *testing.T) {
	h := isolationHarness(t)
	attacks := []struct {
		name   string
		secret string
		body   []byte
		reason string
	}{
		{"turn naming another assistant", retailKey, turn(id(bankID), bankSess, "l-1"), auth.ReasonAssistantMismatch},
		{"turn naming another assistant, upper case", retailKey, turn(id(strings.ToUpper(bankID)), bankSess, "l-2"), auth.ReasonAssistantMismatch},
		{"turn naming another assistant with a trailing space", retailKey, turn(id(retailID+" "), bankSess, "l-3"), auth.ReasonAssistantMismatch},
		{"turn without assistant_id", retailKey, turn("", bankSess, "l-4"), auth.ReasonAssistantMissing},
		{"turn with an empty assistant_id", retailKey, turn(id(""), bankSess, "l-5"), auth.ReasonAssistantMissing},
		{"turn with assistant_id null", retailKey, turn(`"assistant_id":null,`, bankSess, "l-6"), auth.ReasonAssistantMissing},
		{"call summary naming another assistant", retailKey, call(`,"assistant_interaction_summaries":[{"assistant_id":"` + bankID + `","session_id":"` + bankSess + `"}]`), auth.ReasonAssistantMismatch},
		{"call summary naming its own and another assistant", retailKey, call(`,"assistant_interaction_summaries":[{"assistant_id":"` + retailID + `"},{"assistant_id":"` + bankID + `"}]`), auth.ReasonAssistantMismatch},
		{"call summary without summaries", retailKey, call(""), auth.ReasonAssistantMissing},
		{"call summary with empty summaries", retailKey, call(`,"assistant_interaction_summaries":[]`), auth.ReasonAssistantMissing},
		{"call summary whose summary has no assistant_id", retailKey, call(`,"assistant_interaction_summaries":[{"session_id":"` + bankSess + `"}]`), auth.ReasonAssistantMissing},
		{"call summary with its own and an anonymous summary", retailKey, call(`,"assistant_interaction_summaries":[{"assistant_id":"` + retailID + `"},{"assistant_id":""}]`), auth.ReasonAssistantMissing},
		{"draft secret, live environment's turn", "draft-secret", turn(id(liveEnv), bankSess, "l-7"), auth.ReasonAssistantMismatch},
		{"live secret, draft environment's turn", "live-secret", turn(id(draftEnv), bankSess, "l-8"), auth.ReasonAssistantMismatch},
		{"draft secret, live environment's call summary", "draft-secret", call(`,"assistant_interaction_summaries":[{"assistant_id":"` + liveEnv + `"}]`), auth.ReasonAssistantMismatch},
		{"draft secret, anonymous call summary", "draft-secret", call(""), auth.ReasonAssistantMissing},
	}
	want := map[string]int64{}
	for _, c := range attacks {
		t.Run(c.name, func(t *testing.T) {
			resp := h.post(c.body, signedBy(t, c.secret))
			if resp.status != http.StatusForbidden || resp.body["error"] != "forbidden: "+c.reason {
				t.Errorf("got %d %s, want 403 forbidden: %s", resp.status, resp.raw, c.reason)
			}
		})
		want["reason="+c.reason]++
	}
	if n := h.consumer.calls(); n != 0 {
		t.Errorf("consumer called %d times during the attacks", n)
	}
	assertCounts(t, receiver.MetricAuthFailures, counter(h.collect(), receiver.MetricAuthFailures), want)
}

// TestIsolationWhatASecretCanDo checks the README's list of what a holder of
// one assistant's secret can do: write events of its own assistant, with any
// session id. A turn naming another assistant's session UUID joins that
// conversation's trace (trace id = session UUID), and its span carries the
// signer's assistant id, never the other's.
func TestIsolationWhatASecretCanDo(t *testing.T) {
	h := isolationHarness(t)
	for _, c := range []struct {
		name, secret string
		body         []byte
	}{
		{"own turn", retailKey, turn(id(retailID), "11111111-2222-4333-8444-555555555555", "ok-1")},
		{"own turn in another assistant's session", retailKey, turn(id(retailID), bankSess, "ok-2")},
		{"own call summary", retailKey, call(`,"assistant_interaction_summaries":[{"assistant_id":"` + retailID + `","session_id":"` + bankSess + `"}]`)},
		{"draft secret, draft turn", "draft-secret", turn(id(draftEnv), bankSess, "ok-3")},
		{"live secret, live turn", "live-secret", turn(id(liveEnv), bankSess, "ok-4")},
	} {
		if resp := h.post(c.body, signedBy(t, c.secret)); resp.status != http.StatusOK {
			t.Errorf("%s: %d %s", c.name, resp.status, resp.raw)
		}
	}
	m, err := mapping.New(mapping.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	h.consumer.mu.Lock()
	defer h.consumer.mu.Unlock()
	if len(h.consumer.events) != 5 {
		t.Fatalf("consumer got %d events, want 5", len(h.consumer.events))
	}
	for i, signer := range []string{retailID, retailID, retailID, draftEnv, liveEnv} {
		tel := m.Map(h.consumer.events[i], now())
		span := tel.Spans[0]
		if i > 0 && span.TraceID != mapping.ConversationTraceID(bankSess) && i != 2 {
			t.Errorf("event %d: trace %s, want the session's", i, span.TraceID)
		}
		agent := ""
		for _, kv := range span.Attributes {
			if kv.Key == mapping.AttrGenAIAgentID {
				agent = kv.Value.AsString()
			}
		}
		if agent != signer {
			t.Errorf("event %d: gen_ai.agent.id %q, want the signer %q", i, agent, signer)
		}
	}
}
