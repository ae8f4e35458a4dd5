package watsonapi_test

// These tests run against watsonapitest, a local HTTP server implementing the
// logs API and IAM contracts documented in that package: a stand-in for IBM
// Cloud, which these machines cannot reach.

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/watsonapi"
	"github.com/assistant-otel/assistant-otel/watsonapi/watsonapitest"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func corpusLogs(t *testing.T, n int) []watsonapitest.Log {
	t.Helper()
	payloads, err := watsonapitest.CorpusPayloads("../testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	logs, err := watsonapitest.Synthesize(payloads, n, t0, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return logs
}

func newServer(t *testing.T, n int) *watsonapitest.Server {
	t.Helper()
	s := watsonapitest.New(corpusLogs(t, n))
	t.Cleanup(s.Close)
	return s
}

func newClient(t *testing.T, s *watsonapitest.Server, mod func(*watsonapi.Config)) *watsonapi.Client {
	t.Helper()
	iam, err := watsonapi.NewIAM(s.APIKey, s.IAMURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg := watsonapi.Config{
		ServiceURL:  s.URL,
		AssistantID: s.AssistantID,
		Tokens:      iam,
		MinBackoff:  5 * time.Millisecond,
		MaxBackoff:  20 * time.Millisecond,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := watsonapi.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ids(t *testing.T, p watsonapi.Page) []string {
	t.Helper()
	var out []string
	for _, raw := range p.Logs {
		out = append(out, watsonapitest.NewLog(raw).ID)
	}
	return out
}

func TestPaginationFollowsTheCursor(t *testing.T) {
	s := newServer(t, 250)
	c := newClient(t, s, nil)
	q := watsonapi.Query{Sort: watsonapi.SortAscending, PageLimit: 100}
	var got []string
	for pages := 1; ; pages++ {
		p, err := c.ListLogs(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		if p.Matched != 250 {
			t.Errorf("page %d: matched %d, want 250", pages, p.Matched)
		}
		got = append(got, ids(t, p)...)
		if p.NextCursor == "" {
			if pages != 3 {
				t.Errorf("%d pages, want 3", pages)
			}
			break
		}
		q.Cursor = p.NextCursor
	}
	if len(got) != 250 {
		t.Fatalf("got %d logs, want 250", len(got))
	}
	for i, id := range got {
		if id != watsonapitest.SyntheticID(i) {
			t.Fatalf("log %d is %s, want %s (ascending request_timestamp)", i, id, watsonapitest.SyntheticID(i))
		}
	}
	for _, r := range s.Requests() {
		if r.Version != watsonapi.DefaultVersion || r.Sort != "request_timestamp" || r.PageLimit != 100 {
			t.Errorf("request %+v: want version %s, sort request_timestamp, page_limit 100", r, watsonapi.DefaultVersion)
		}
	}
	if s.Exchanges() != 1 {
		t.Errorf("%d IAM exchanges, want 1 (the token is cached)", s.Exchanges())
	}
}

func TestFilterWindowIsHonoured(t *testing.T) {
	s := newServer(t, 60)
	c := newClient(t, s, nil)
	from, to := t0.Add(10*time.Minute), t0.Add(20*time.Minute)
	f := watsonapi.BuildFilter(from, to, "")
	if want := "request_timestamp>=2026-03-01T09:10:00.000Z,request_timestamp<2026-03-01T09:20:00.000Z"; f != want {
		t.Fatalf("filter %q, want %q", f, want)
	}
	p, err := c.ListLogs(t.Context(), watsonapi.Query{Filter: f, Sort: watsonapi.SortAscending})
	if err != nil {
		t.Fatal(err)
	}
	got := ids(t, p)
	if len(got) != 10 || got[0] != watsonapitest.SyntheticID(10) || got[9] != watsonapitest.SyntheticID(19) {
		t.Errorf("window [09:10, 09:20) gave %v, want logs 10..19", got)
	}
	if r := s.Requests()[0]; r.Filter != f {
		t.Errorf("server saw filter %q, want %q", r.Filter, f)
	}
}

func TestBuildFilter(t *testing.T) {
	from := time.Date(2026, 1, 2, 3, 4, 5, 678_900_000, time.FixedZone("CET", 3600))
	for _, tc := range []struct {
		from, to  time.Time
		raw, want string
	}{
		{time.Time{}, time.Time{}, "", ""},
		{from, time.Time{}, "", "request_timestamp>=2026-01-02T02:04:05.678Z"},
		{time.Time{}, from, "customer_id::x", "request_timestamp<2026-01-02T02:04:05.678Z,customer_id::x"},
		{from, time.Time{}, "a::1|b::2", "request_timestamp>=2026-01-02T02:04:05.678Z,[a::1|b::2]"},
		{from, time.Time{}, "[a::1|b::2]", "request_timestamp>=2026-01-02T02:04:05.678Z,[a::1|b::2]"},
		{from, time.Time{}, "[a::1]|[b::2]", "request_timestamp>=2026-01-02T02:04:05.678Z,[[a::1]|[b::2]]"},
		{time.Time{}, time.Time{}, " a::1|b::2 ", "a::1|b::2"},
	} {
		if got := watsonapi.BuildFilter(tc.from, tc.to, tc.raw); got != tc.want {
			t.Errorf("BuildFilter(%v, %v, %q) = %q, want %q", tc.from, tc.to, tc.raw, got, tc.want)
		}
	}
}

func TestTooManyRequestsHonoursRetryAfter(t *testing.T) {
	s := newServer(t, 5)
	var waits []time.Duration
	c := newClient(t, s, func(cfg *watsonapi.Config) {
		cfg.OnRetry = func(_ int, wait time.Duration, _ error) { waits = append(waits, wait) }
	})
	s.Inject(watsonapitest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "1"})
	start := time.Now()
	p, err := c.ListLogs(t.Context(), watsonapi.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < time.Second {
		t.Errorf("retried after %v, want at least the Retry-After of 1s", el)
	}
	if len(p.Logs) != 5 || len(waits) != 1 || waits[0] != time.Second {
		t.Errorf("got %d logs and waits %v, want 5 logs after one 1s wait", len(p.Logs), waits)
	}
}

func TestServerErrorThenSuccess(t *testing.T) {
	s := newServer(t, 5)
	c := newClient(t, s, nil)
	s.Inject(watsonapitest.Fault{Status: http.StatusInternalServerError}, watsonapitest.Fault{Status: http.StatusBadGateway})
	p, err := c.ListLogs(t.Context(), watsonapi.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Logs) != 5 || len(s.Requests()) != 3 {
		t.Errorf("%d logs after %d requests, want 5 after 3", len(p.Logs), len(s.Requests()))
	}
}

func TestRetriesAreBounded(t *testing.T) {
	s := newServer(t, 5)
	c := newClient(t, s, func(cfg *watsonapi.Config) { cfg.MaxRetries = 2 })
	for range 5 {
		s.Inject(watsonapitest.Fault{Status: http.StatusServiceUnavailable})
	}
	_, err := c.ListLogs(t.Context(), watsonapi.Query{})
	if err == nil || !strings.Contains(err.Error(), "giving up after 3 attempts") || !strings.Contains(err.Error(), "503") {
		t.Fatalf("err = %v, want giving up after 3 attempts with 503", err)
	}
	if n := len(s.Requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

func TestClientErrorIsNotRetried(t *testing.T) {
	s := newServer(t, 5)
	c := newClient(t, s, nil)
	_, err := c.ListLogs(t.Context(), watsonapi.Query{Filter: "request.input.text:hello"})
	var ae *watsonapi.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 400 || !strings.Contains(ae.Message, "Invalid filter") {
		t.Fatalf("err = %v, want a 400 APIError with the service's message", err)
	}
	if n := len(s.Requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestExpiredTokenIsRefreshedOnce(t *testing.T) {
	s := newServer(t, 5)
	c := newClient(t, s, nil)
	if _, err := c.ListLogs(t.Context(), watsonapi.Query{}); err != nil {
		t.Fatal(err)
	}
	s.RevokeTokens() // the service now refuses the cached token
	p, err := c.ListLogs(t.Context(), watsonapi.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Logs) != 5 {
		t.Errorf("%d logs, want 5", len(p.Logs))
	}
	if n := s.Exchanges(); n != 2 {
		t.Errorf("%d IAM exchanges, want 2 (one refresh after the 401)", n)
	}
	reqs := s.Requests()
	if len(reqs) != 3 || reqs[1].Status != 401 || reqs[2].Status != 200 {
		t.Errorf("requests %+v, want 200, 401, 200", reqs)
	}
}

func TestRepeated401Fails(t *testing.T) {
	s := newServer(t, 5)
	c := newClient(t, s, nil)
	s.Inject(watsonapitest.Fault{Status: 401}, watsonapitest.Fault{Status: 401}, watsonapitest.Fault{Status: 401})
	_, err := c.ListLogs(t.Context(), watsonapi.Query{})
	if !errors.Is(err, watsonapi.ErrUnauthorized) {
		t.Fatalf("err = %v, want ErrUnauthorized", err)
	}
	if n, e := len(s.Requests()), s.Exchanges(); n != 2 || e != 2 {
		t.Errorf("%d requests and %d exchanges, want 2 and 2 (one refresh, then give up)", n, e)
	}
	if strings.Contains(err.Error(), "iam-token") || strings.Contains(err.Error(), s.APIKey) {
		t.Errorf("error %q shows a secret", err)
	}
}

func TestStaticTokenRefusedIsNotRetried(t *testing.T) {
	s := newServer(t, 5)
	c := newClient(t, s, func(cfg *watsonapi.Config) { cfg.Tokens = watsonapi.StaticToken("stale-bearer") })
	_, err := c.ListLogs(t.Context(), watsonapi.Query{})
	if !errors.Is(err, watsonapi.ErrUnauthorized) || strings.Contains(err.Error(), "stale-bearer") {
		t.Fatalf("err = %v, want ErrUnauthorized without the token", err)
	}
	if n := len(s.Requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	s.AddStaticToken("good-bearer")
	c = newClient(t, s, func(cfg *watsonapi.Config) { cfg.Tokens = watsonapi.StaticToken("good-bearer") })
	if _, err := c.ListLogs(t.Context(), watsonapi.Query{}); err != nil {
		t.Fatal(err)
	}
}

func TestTokenIsRefreshedBeforeExpiry(t *testing.T) {
	s := newServer(t, 5)
	s.TokenTTL = time.Hour // refresh due after 48 minutes
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	advance := func(d time.Duration) {
		mu.Lock()
		now = now.Add(d)
		mu.Unlock()
	}
	iam, err := watsonapi.NewIAM(s.APIKey, s.IAMURL, watsonapi.WithIAMClock(func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}))
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, s, func(cfg *watsonapi.Config) { cfg.Tokens = iam })
	for _, step := range []struct {
		after     time.Duration
		exchanges int
	}{
		{0, 1},                // the first token
		{47 * time.Minute, 1}, // before 80% of expires_in: the same token
		{2 * time.Minute, 2},  // after: a new one, before the old one expired
	} {
		advance(step.after)
		if _, err := c.ListLogs(t.Context(), watsonapi.Query{}); err != nil {
			t.Fatal(err)
		}
		if n := s.Exchanges(); n != step.exchanges {
			t.Errorf("after %s more: %d exchanges, want %d (refreshed at 80%% of expires_in)", step.after, n, step.exchanges)
		}
	}
	for _, r := range s.Requests() {
		if r.Status != 200 {
			t.Errorf("a request got %d: the token should have been refreshed before it expired", r.Status)
		}
	}
}

func TestMalformedPageIsAClearError(t *testing.T) {
	s := newServer(t, 5)
	c := newClient(t, s, nil)
	for _, body := range []string{`{"logs":[{"log_id":"private words here"`, `<html>private words here</html>`, `{"pagination":{}}`} {
		s.Inject(watsonapitest.Fault{Status: 200, Body: body})
		_, err := c.ListLogs(t.Context(), watsonapi.Query{})
		if !errors.Is(err, watsonapi.ErrMalformed) {
			t.Fatalf("body %q: err = %v, want ErrMalformed", body, err)
		}
		if strings.Contains(err.Error(), "private") || strings.Contains(err.Error(), "iam-token") {
			t.Errorf("error %q quotes the body or a token", err)
		}
		t.Log(err)
	}
}

func TestBadAPIKey(t *testing.T) {
	s := newServer(t, 5)
	iam, err := watsonapi.NewIAM("wrong-key-12345", s.IAMURL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := watsonapi.New(watsonapi.Config{ServiceURL: s.URL, AssistantID: s.AssistantID, Tokens: iam})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListLogs(t.Context(), watsonapi.Query{})
	if !errors.Is(err, watsonapi.ErrUnauthorized) || !strings.Contains(err.Error(), "BXNIM0415E") {
		t.Fatalf("err = %v, want ErrUnauthorized with IAM's error code", err)
	}
	if strings.Contains(err.Error(), "wrong-key-12345") {
		t.Errorf("error %q shows the API key", err)
	}
	if len(s.Requests()) != 0 {
		t.Error("the logs API was called without a token")
	}
}

func TestCancelDuringRetryAfter(t *testing.T) {
	s := newServer(t, 5)
	c := newClient(t, s, nil)
	s.Inject(watsonapitest.Fault{Status: 429, RetryAfter: "30"})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.ListLogs(ctx, watsonapi.Query{})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("err = %v after %v, want the context's error promptly", err, time.Since(start))
	}
}

func TestEnvironmentIDIsThePathID(t *testing.T) {
	s := newServer(t, 3)
	s.AssistantID = "env/with space"
	c := newClient(t, s, func(cfg *watsonapi.Config) { cfg.AssistantID = "env/with space"; cfg.Version = "2023-06-15" })
	p, err := c.ListLogs(t.Context(), watsonapi.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Logs) != 3 || s.Requests()[0].Version != "2023-06-15" {
		t.Errorf("got %d logs, version %q", len(p.Logs), s.Requests()[0].Version)
	}
}

func TestConfigChecks(t *testing.T) {
	tok := watsonapi.StaticToken("x")
	for _, tc := range []struct {
		cfg  watsonapi.Config
		want string
	}{
		{watsonapi.Config{AssistantID: "a", Tokens: tok}, "service URL is empty"},
		{watsonapi.Config{ServiceURL: "http://api.example.com", AssistantID: "a", Tokens: tok}, "must use https"},
		{watsonapi.Config{ServiceURL: "ftp://x", AssistantID: "a", Tokens: tok}, "unsupported scheme"},
		{watsonapi.Config{ServiceURL: "https://x/y?z=1", AssistantID: "a", Tokens: tok}, "query"},
		{watsonapi.Config{ServiceURL: "https://x", Tokens: tok}, "id is empty"},
		{watsonapi.Config{ServiceURL: "https://x", AssistantID: "a"}, "no token source"},
	} {
		if _, err := watsonapi.New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if _, err := watsonapi.NewIAM("k", "http://iam.example.com/identity/token"); err == nil {
		t.Error("an http IAM URL off localhost was accepted")
	}
	if _, err := watsonapi.New(watsonapi.Config{ServiceURL: "http://localhost:1/x", AssistantID: "a", Tokens: tok}); err != nil {
		t.Errorf("http on localhost: %v", err)
	}
}
