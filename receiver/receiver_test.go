package receiver_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/assistant-otel/assistant-otel/auth"
	"github.com/assistant-otel/assistant-otel/intake"
	"github.com/assistant-otel/assistant-otel/receiver"
	"github.com/assistant-otel/assistant-otel/watson"
)

// testMaxBody is the body limit of the status-table receiver.
const testMaxBody = 64 << 10

// chunked hides the length of b so that the client sends it chunked, without
// Content-Length.
func chunked(b []byte) io.Reader { return struct{ io.Reader }{bytes.NewReader(b)} }

func TestWebhookStatuses(t *testing.T) {
	body := readFile(t, corpus01)
	valid := gz(body)
	corrupt := append([]byte(nil), valid...)
	for i := 20; i < 60; i++ { // garble the deflate stream after the gzip header
		corrupt[i] ^= 0xa5
	}
	// 4 MiB of spaces compress to a few KiB: far under the wire limit,
	// far over the decompressed one.
	bomb := gz(append(append([]byte(`{"event":{"name":"message_logged"},"payload":{`), bytes.Repeat([]byte(" "), 4<<20)...), '}', '}'))
	if len(bomb) >= testMaxBody {
		t.Fatalf("bomb is %d bytes compressed, must fit the wire limit", len(bomb))
	}
	tooBig := append(append([]byte(`{"event":{"name":"message_logged"},"payload":{"x":"`), bytes.Repeat([]byte("a"), testMaxBody)...), '"', '}', '}')
	good := goodToken(t)
	wrongSecret := sign(t, jwt.SigningMethodHS256, []byte("another secret"), goodClaims())
	expired := sign(t, jwt.SigningMethodHS256, []byte(testSecret), jwt.MapClaims{"exp": now().Add(-time.Hour).Unix()})
	algNone := rawToken(`{"alg":"none","typ":"JWT"}`, fmt.Sprintf(`{"iat":%d}`, now().Unix()), "")

	type tc struct {
		name       string
		method     string      // default POST
		target     string      // default /webhook
		auth       []string    // Authorization values; nil means the good raw token
		noAuth     bool        // send no Authorization header
		header     http.Header // extra headers
		body       []byte
		reader     io.Reader // overrides body (sent chunked)
		want       int
		wantHeader map[string]string
		wantError  string // substring of the JSON "error"
		wantEvent  string // event consumed on success
	}
	cases := []tc{
		// success
		{name: "raw token", body: body, want: 200, wantEvent: watson.EventMessageLogged},
		{name: "Bearer token", auth: []string{"Bearer " + good}, body: body, want: 200, wantEvent: watson.EventMessageLogged},
		{name: "bearer lower case, extra spaces", auth: []string{"bearer   " + good + " "}, body: body, want: 200, wantEvent: watson.EventMessageLogged},
		{name: "gzip body", header: http.Header{"Content-Encoding": {"gzip"}}, body: valid, want: 200, wantEvent: watson.EventMessageLogged},
		{name: "identity encoding", header: http.Header{"Content-Encoding": {"identity"}}, body: body, want: 200, wantEvent: watson.EventMessageLogged},
		{name: "json with charset", header: http.Header{"Content-Type": {"application/json; charset=UTF-8"}}, body: body, want: 200, wantEvent: watson.EventMessageLogged},
		{name: "+json type", header: http.Header{"Content-Type": {"application/vnd.ibm.watson+json"}}, body: body, want: 200, wantEvent: watson.EventMessageLogged},
		{name: "no content type", header: http.Header{"Content-Type": nil}, body: body, want: 200, wantEvent: watson.EventMessageLogged},
		{name: "chunked body", reader: chunked(body), want: 200, wantEvent: watson.EventMessageLogged},
		{name: "cdr_logged", body: readFile(t, "../testdata/corpus/other-events/cdr_logged-phone-call-transfer.json"), want: 200, wantEvent: watson.EventCDRLogged},

		// 404, 405
		{name: "unknown path", target: "/nope", body: body, want: 404, wantError: "not found"},
		{name: "path with suffix", target: "/webhook/extra", body: body, want: 404},
		{name: "path prefix", target: "/web", body: body, want: 404},
		{name: "GET webhook", method: http.MethodGet, want: 405, wantHeader: map[string]string{"Allow": "POST"}, wantError: "use POST"},
		{name: "PUT webhook", method: http.MethodPut, body: body, want: 405, wantHeader: map[string]string{"Allow": "POST"}},
		{name: "POST healthz", target: "/healthz", body: body, want: 405, wantHeader: map[string]string{"Allow": "GET, HEAD"}},

		// 415
		{name: "br encoding", header: http.Header{"Content-Encoding": {"br"}}, body: body, want: 415, wantError: "Content-Encoding"},
		{name: "deflate encoding", header: http.Header{"Content-Encoding": {"deflate"}}, body: body, want: 415},
		{name: "gzip then br", header: http.Header{"Content-Encoding": {"gzip, br"}}, body: body, want: 415},
		{name: "two gzip layers", header: http.Header{"Content-Encoding": {"gzip", "gzip"}}, body: gz(valid), want: 415},
		{name: "text/plain", header: http.Header{"Content-Type": {"text/plain"}}, body: body, want: 415, wantError: "Content-Type"},
		{name: "form", header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, body: body, want: 415},
		{name: "bare +json", header: http.Header{"Content-Type": {"application/+json"}}, body: body, want: 415},
		{name: "unparsable content type", header: http.Header{"Content-Type": {"application/json; ==="}}, body: body, want: 415},
		{name: "latin1 charset", header: http.Header{"Content-Type": {"application/json; charset=iso-8859-1"}}, body: body, want: 415, wantError: "UTF-8"},

		// 401
		{name: "no Authorization", noAuth: true, body: body, want: 401, wantError: "missing",
			wantHeader: map[string]string{"WWW-Authenticate": `Bearer realm="assistant-otel"`}},
		{name: "empty Authorization", auth: []string{""}, body: body, want: 401, wantError: "missing"},
		{name: "Bearer without token", auth: []string{"Bearer "}, body: body, want: 401, wantError: "malformed"},
		{name: "token only in query", noAuth: true, target: "/webhook?token=" + good + "&access_token=" + good, body: body, want: 401, wantError: "missing"},
		{name: "token in another header", noAuth: true, header: http.Header{"X-Token": {good}, "Authentication": {good}}, body: body, want: 401, wantError: "missing"},
		{name: "two Authorization headers", auth: []string{good, good}, body: body, want: 401, wantError: "multiple_headers"},
		{name: "Basic scheme", auth: []string{"Basic " + testSecret}, body: body, want: 401, wantError: "unsupported_scheme"},
		{name: "secret as token", auth: []string{testSecret}, body: body, want: 401, wantError: "malformed"},
		{name: "wrong secret", auth: []string{wrongSecret}, body: body, want: 401, wantError: "bad_signature"},
		{name: "expired", auth: []string{expired}, body: body, want: 401, wantError: "expired"},
		{name: "alg none", auth: []string{algNone}, body: body, want: 401, wantError: "bad_algorithm"},
		{name: "oversized token", auth: []string{strings.Repeat("a", 9<<10)}, body: body, want: 401, wantError: "oversized"},
		{name: "auth checked before body", auth: []string{wrongSecret}, body: []byte("not json"), want: 401},

		// 413
		{name: "too large with Content-Length", body: tooBig, want: 413, wantError: "exceeds"},
		{name: "too large chunked", reader: chunked(tooBig), want: 413, wantError: "exceeds"},
		{name: "gzip bomb", header: http.Header{"Content-Encoding": {"gzip"}}, body: bomb, want: 413, wantError: "decompressed body exceeds"},

		// 400
		{name: "empty body", want: 400, wantError: "empty body"},
		{name: "whitespace body", body: []byte(" \n\t "), want: 400, wantError: "empty body"},
		{name: "empty gzip body", header: http.Header{"Content-Encoding": {"gzip"}}, want: 400, wantError: "empty body"},
		{name: "gzip of nothing", header: http.Header{"Content-Encoding": {"gzip"}}, body: gz(nil), want: 400, wantError: "empty body"},
		{name: "not JSON", body: []byte("hello, webhook"), want: 400, wantError: "invalid JSON"},
		{name: "JSON array", body: []byte(`[1,2]`), want: 400, wantError: "not a webhook body"},
		{name: "no event", body: []byte(`{"payload":{}}`), want: 400, wantError: "event.name"},
		{name: "payload not object", body: []byte(`{"event":{"name":"message_logged"},"payload":[]}`), want: 400, wantError: "payload"},
		{name: "truncated JSON", body: body[:len(body)/2], want: 400},
		{name: "gzip header on plain body", header: http.Header{"Content-Encoding": {"gzip"}}, body: body, want: 400, wantError: "invalid gzip"},
		{name: "corrupt gzip", header: http.Header{"Content-Encoding": {"gzip"}}, body: corrupt, want: 400, wantError: "invalid gzip"},
		{name: "truncated gzip", header: http.Header{"Content-Encoding": {"gzip"}}, body: valid[:len(valid)/2], want: 400, wantError: "invalid gzip"},

		// 422
		{name: "unknown event", body: []byte(`{"event":{"name":"message_received"},"payload":{"secret_text":"hello"}}`), want: 422, wantError: "message_received"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, nil, receiver.WithMaxBodyBytes(testMaxBody))
			method := c.method
			if method == "" {
				method = http.MethodPost
			}
			target := c.target
			if target == "" {
				target = "/webhook"
			}
			var rd io.Reader = bytes.NewReader(c.body)
			if c.reader != nil {
				rd = c.reader
			}
			req, err := http.NewRequest(method, h.srv.URL+target, rd)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			authz := c.auth
			if authz == nil && !c.noAuth {
				authz = []string{good}
			}
			if authz != nil {
				req.Header["Authorization"] = authz
			}
			for k, v := range c.header {
				if v == nil {
					req.Header.Del(k)
					continue
				}
				req.Header[k] = v
			}

			resp := h.do(req)

			if resp.status != c.want {
				t.Fatalf("status = %d, want %d (body %s)", resp.status, c.want, resp.raw)
			}
			for k, v := range c.wantHeader {
				if got := resp.header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if c.want == 200 {
				if resp.body["status"] != "accepted" {
					t.Errorf("body = %s, want status accepted", resp.raw)
				}
				h.consumer.mu.Lock()
				events, received := h.consumer.events, h.consumer.received
				h.consumer.mu.Unlock()
				if len(events) != 1 || events[0].Name != c.wantEvent {
					t.Fatalf("consumer got %d events, want one %s", len(events), c.wantEvent)
				}
				if !received[0].Equal(now()) {
					t.Errorf("received = %v, want the clock's %v", received[0], now())
				}
			} else {
				if h.consumer.calls() != 0 {
					t.Errorf("consumer called %d times for a rejected request", h.consumer.calls())
				}
				if resp.body["error"] == "" {
					t.Errorf("body = %s, want an error", resp.raw)
				}
				if !strings.Contains(resp.body["error"], c.wantError) {
					t.Errorf("error = %q, want it to contain %q", resp.body["error"], c.wantError)
				}
			}
			if c.want == 401 && resp.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			// Nothing secret or personal in the response or the logs.
			logs := h.logs.String()
			for _, leak := range append([]string{testSecret, corpus01Text, "secret_text"}, authz...) {
				if len(leak) < 8 {
					continue
				}
				if strings.Contains(logs, leak) {
					t.Errorf("logs contain %.20q…:\n%s", leak, logs)
				}
				if strings.Contains(resp.raw, leak) {
					t.Errorf("response contains %.20q…: %s", leak, resp.raw)
				}
			}
		})
	}
}

func TestCorpusAccepted(t *testing.T) {
	h := newHarness(t, nil)
	files, err := filepath.Glob("../testdata/corpus/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus files: %v", err)
	}
	files = append(files, "../testdata/corpus/other-events/cdr_logged-phone-call-transfer.json")
	for i, f := range files {
		resp := h.post(readFile(t, f), http.Header{"Authorization": {goodToken(t)}, "Content-Type": {"application/json"}})
		if resp.status != http.StatusOK {
			t.Fatalf("%s: status %d: %s", f, resp.status, resp.raw)
		}
		if got := h.consumer.calls(); got != i+1 {
			t.Fatalf("%s: consumer calls = %d, want %d", f, got, i+1)
		}
	}
	for i, ev := range h.consumer.events {
		if (ev.Log == nil) == (ev.CDR == nil) {
			t.Errorf("event %d (%s): want exactly one of Log and CDR", i, ev.Name)
		}
	}
	if strings.Contains(h.logs.String(), corpus01Text) {
		t.Error("debug logs contain conversation text")
	}
	if !strings.Contains(h.logs.String(), `"msg":"webhook: accepted"`) {
		t.Errorf("no debug line for accepted requests:\n%s", h.logs.String())
	}
}

func TestConsumerError(t *testing.T) {
	for _, c := range []struct {
		name       string
		err        error
		wantLevel  string
		wantReason string
	}{
		{"overloaded", fmt.Errorf("queue full: %w", intake.ErrOverloaded), "WARN", receiver.RefusedOverloaded},
		{"other failure", errors.New("disk on fire"), "ERROR", receiver.RefusedConsumerError},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.consumer.err = c.err
			resp := h.post(readFile(t, corpus01), http.Header{"Authorization": {goodToken(t)}})
			if resp.status != http.StatusServiceUnavailable {
				t.Fatalf("status = %d, want 503", resp.status)
			}
			if got := resp.header.Get("Retry-After"); got != "1" {
				t.Errorf("Retry-After = %q, want 1", got)
			}
			if strings.Contains(resp.raw, c.err.Error()) || resp.body["error"] == "" {
				t.Errorf("body %s: want a generic error without the consumer's message", resp.raw)
			}
			if h.consumer.calls() != 1 {
				t.Errorf("consumer calls = %d, want 1", h.consumer.calls())
			}
			if logs := h.logs.String(); !strings.Contains(logs, `"level":"`+c.wantLevel+`"`) || !strings.Contains(logs, c.err.Error()) {
				t.Errorf("want a %s log line with the consumer error:\n%s", c.wantLevel, logs)
			}
			assertCounts(t, receiver.MetricRefused, counter(h.collect(), receiver.MetricRefused), map[string]int64{
				"reason=" + c.wantReason: 1,
			})
		})
	}
}

func TestPanicRecovered(t *testing.T) {
	h := newHarness(t, nil)
	h.consumer.panicVal = "boom with " + corpus01Text
	resp := h.post(readFile(t, corpus01), http.Header{"Authorization": {goodToken(t)}})
	if resp.status != http.StatusInternalServerError || resp.body["error"] != "internal error" {
		t.Fatalf("got %d %s, want 500 internal error", resp.status, resp.raw)
	}
	logs := h.logs.String()
	if !strings.Contains(logs, "recovered from panic") || !strings.Contains(logs, "goroutine") {
		t.Errorf("want the panic logged with a stack:\n%s", logs)
	}
	if strings.Contains(logs, corpus01Text) {
		t.Error("panic value (may hold request data) was logged")
	}
	// The server still serves.
	h.consumer.panicVal = nil
	if resp := h.post(readFile(t, corpus01), http.Header{"Authorization": {goodToken(t)}}); resp.status != http.StatusOK {
		t.Fatalf("after a panic: status %d", resp.status)
	}
	if got := counter(h.collect(), receiver.MetricRequests); got["http.response.status_code=500,watson_assistant.event=message_logged"] != 1 {
		t.Errorf("requests = %v, want one 500 for message_logged", got)
	}
}

func TestProbes(t *testing.T) {
	h := newHarness(t, nil)
	get := func(method, path string) response {
		t.Helper()
		req, _ := http.NewRequest(method, h.srv.URL+path, nil)
		return h.do(req)
	}
	if r := get(http.MethodGet, "/healthz"); r.status != 200 || r.body["status"] != "ok" {
		t.Errorf("healthz: %d %s", r.status, r.raw)
	}
	if r := get(http.MethodHead, "/healthz"); r.status != 200 {
		t.Errorf("HEAD healthz: %d", r.status)
	}
	if r := get(http.MethodGet, "/readyz"); r.status != 200 || r.body["status"] != "ready" {
		t.Errorf("readyz when ready: %d %s", r.status, r.raw)
	}
	h.rc.SetReady(false)
	if r := get(http.MethodGet, "/readyz"); r.status != 503 || r.body["status"] != "not ready" {
		t.Errorf("readyz when not ready: %d %s", r.status, r.raw)
	}
	if r := get(http.MethodGet, "/healthz"); r.status != 200 {
		t.Errorf("healthz when not ready: %d, want 200 (alive)", r.status)
	}
	h.rc.SetReady(true)
	if r := get(http.MethodGet, "/readyz"); r.status != 200 {
		t.Errorf("readyz ready again: %d", r.status)
	}
	if r := get(http.MethodDelete, "/readyz"); r.status != 405 || r.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("DELETE readyz: %d Allow %q", r.status, r.header.Get("Allow"))
	}
	if got := counter(h.collect(), receiver.MetricRequests); len(got) != 0 {
		t.Errorf("probes counted as webhook requests: %v", got)
	}
}

func TestMetrics(t *testing.T) {
	h := newHarness(t, nil)
	body := readFile(t, corpus01)
	tok := goodToken(t)
	send := func(target string, hdr http.Header, b []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, h.srv.URL+target, bytes.NewReader(b))
		for k, v := range hdr {
			req.Header[k] = v
		}
		h.do(req)
	}
	send("/webhook", http.Header{"Authorization": {tok}}, body)
	send("/webhook", http.Header{"Authorization": {"Bearer " + tok}}, body)
	send("/webhook", http.Header{"Authorization": {tok}}, readFile(t, "../testdata/corpus/other-events/cdr_logged-phone-call-transfer.json"))
	send("/webhook", nil, body)
	send("/webhook", http.Header{"Authorization": {sign(t, jwt.SigningMethodHS256, []byte("nope"), goodClaims())}}, body)
	send("/webhook", http.Header{"Authorization": {sign(t, jwt.SigningMethodHS256, []byte("nope"), goodClaims())}}, body)
	send("/webhook", http.Header{"Authorization": {tok}}, []byte("{"))
	send("/webhook", http.Header{"Authorization": {tok}}, []byte(`{"event":{"name":"x"},"payload":{}}`))
	send("/elsewhere", nil, body)

	rm := h.collect()
	wantRequests := map[string]int64{
		"http.response.status_code=200,watson_assistant.event=message_logged": 2,
		"http.response.status_code=200,watson_assistant.event=cdr_logged":     1,
		"http.response.status_code=401,watson_assistant.event=":               3,
		"http.response.status_code=400,watson_assistant.event=":               1,
		"http.response.status_code=422,watson_assistant.event=unknown":        1,
		"http.response.status_code=404,watson_assistant.event=":               1,
	}
	assertCounts(t, receiver.MetricRequests, counter(rm, receiver.MetricRequests), wantRequests)
	assertCounts(t, receiver.MetricAuthFailures, counter(rm, receiver.MetricAuthFailures), map[string]int64{
		"reason=missing":       1,
		"reason=bad_signature": 2,
	})
	durations := histogramCounts(rm, receiver.MetricRequestDuration)
	for k, v := range wantRequests {
		if durations[k] != uint64(v) {
			t.Errorf("%s{%s} count = %d, want %d", receiver.MetricRequestDuration, k, durations[k], v)
		}
	}
}

func assertCounts(t *testing.T, name string, got, want map[string]int64) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s{%s} = %d, want %d", name, k, got[k], v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s{%s} = %d, not expected", name, k, v)
		}
	}
}

// assistantAuth accepts every request and authorises only events of one
// assistant, as a per-assistant secret would.
type assistantAuth struct{ assistant string }

func (assistantAuth) Authenticate(*http.Request) error { return nil }

func (a assistantAuth) AuthorizeEvent(_ *http.Request, ev watson.Event) error {
	if ev.Log == nil || ev.Log.AssistantID != a.assistant {
		return &auth.AuthError{Reason: "assistant_mismatch"}
	}
	return nil
}

func TestEventAuthorizer(t *testing.T) {
	body := readFile(t, corpus01)
	ev, err := watson.Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, assistantAuth{assistant: "some-other-assistant"})
	if resp := h.post(body, nil); resp.status != http.StatusForbidden || resp.body["error"] != "forbidden: assistant_mismatch" {
		t.Fatalf("got %d %s, want 403 assistant_mismatch", resp.status, resp.raw)
	}
	if h.consumer.calls() != 0 {
		t.Error("consumer called for a forbidden event")
	}
	assertCounts(t, receiver.MetricAuthFailures, counter(h.collect(), receiver.MetricAuthFailures), map[string]int64{"reason=assistant_mismatch": 1})

	h = newHarness(t, assistantAuth{assistant: ev.Log.AssistantID})
	if resp := h.post(body, nil); resp.status != http.StatusOK {
		t.Fatalf("matching assistant: got %d %s", resp.status, resp.raw)
	}
}

func TestNoAuth(t *testing.T) {
	h := newHarness(t, auth.NoAuth())
	if resp := h.post(readFile(t, corpus01), nil); resp.status != http.StatusOK {
		t.Fatalf("NoAuth without a token: %d %s", resp.status, resp.raw)
	}
}

func TestCustomPath(t *testing.T) {
	h := newHarness(t, nil, receiver.WithPath("/hooks/watson"))
	hdr := http.Header{"Authorization": {goodToken(t)}}
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/hooks/watson", bytes.NewReader(readFile(t, corpus01)))
	req.Header = hdr
	if resp := h.do(req); resp.status != http.StatusOK {
		t.Fatalf("custom path: %d %s", resp.status, resp.raw)
	}
	if resp := h.post(readFile(t, corpus01), hdr); resp.status != http.StatusNotFound {
		t.Fatalf("default path after WithPath: %d, want 404", resp.status)
	}
}

func TestNewValidates(t *testing.T) {
	c := &recorder{}
	noAuth := auth.NoAuth()
	for _, tc := range []struct {
		name     string
		consumer receiver.Consumer
		auth     auth.Authenticator
		opts     []receiver.Option
	}{
		{"nil consumer", nil, noAuth, nil},
		{"nil authenticator", c, nil, nil},
		{"path without slash", c, noAuth, []receiver.Option{receiver.WithPath("webhook")}},
		{"empty path", c, noAuth, []receiver.Option{receiver.WithPath("")}},
		{"path with query", c, noAuth, []receiver.Option{receiver.WithPath("/webhook?x=1")}},
		{"path with space", c, noAuth, []receiver.Option{receiver.WithPath("/web hook")}},
		{"unclean path", c, noAuth, []receiver.Option{receiver.WithPath("/a/../webhook")}},
		{"probe path", c, noAuth, []receiver.Option{receiver.WithPath("/healthz")}},
		{"zero body limit", c, noAuth, []receiver.Option{receiver.WithMaxBodyBytes(0)}},
		{"negative body limit", c, noAuth, []receiver.Option{receiver.WithMaxBodyBytes(-1)}},
		{"nil logger", c, noAuth, []receiver.Option{receiver.WithLogger(nil)}},
		{"nil meter", c, noAuth, []receiver.Option{receiver.WithMeter(nil)}},
		{"nil clock", c, noAuth, []receiver.Option{receiver.WithClock(nil)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc, err := receiver.New(tc.consumer, tc.auth, tc.opts...)
			if err == nil || rc != nil {
				t.Fatalf("New = %v, %v; want an error", rc, err)
			}
		})
	}
	for _, p := range []string{"/", "/webhook", "/hooks/watson/", "/a-b_c.d~e"} {
		if _, err := receiver.New(c, noAuth, receiver.WithPath(p)); err != nil {
			t.Errorf("WithPath(%q): %v", p, err)
		}
	}
}

// TestGzipBombMemoryBounded checks that decompression stops at the limit
// instead of inflating the whole bomb and then refusing it.
func TestGzipBombMemoryBounded(t *testing.T) {
	const limit = 32 << 10
	bomb := gz(make([]byte, 24<<20)) // 24 MiB of zeros: about 24 KiB compressed
	if len(bomb) >= limit {
		t.Fatalf("bomb is %d bytes compressed, must fit the wire limit", len(bomb))
	}
	h := newHarness(t, nil, receiver.WithMaxBodyBytes(limit))
	hdr := http.Header{"Authorization": {goodToken(t)}, "Content-Encoding": {"gzip"}}
	h.post([]byte("{}"), http.Header{"Authorization": {goodToken(t)}}) // warm up the connection
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	resp := h.post(bomb, hdr)
	runtime.ReadMemStats(&after)
	if resp.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d, want 413", resp.status)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("a %d-byte bomb made the process allocate %d MiB; want the decompressed size capped at the limit", len(bomb), alloc>>20)
	}
}
