// Package watsonapitest is a local stand-in for the Watson Assistant logs API
// and the IBM Cloud IAM token endpoint, for tests: the build and test
// machines cannot reach IBM Cloud.
//
// # The contract it implements
//
// IAM (POST {IAMURL}, form grant_type=urn:ibm:params:oauth:grant-type:apikey
// and apikey=KEY): 200 {"access_token","refresh_token","token_type":"Bearer",
// "expires_in","expiration"} for the right key, 400 {"errorCode":
// "BXNIM0415E","errorMessage":...} otherwise. Every exchange is counted and
// issues a new token that expires after TokenTTL.
//
// Logs (GET {URL}/v2/assistants/{AssistantID}/logs):
//
//   - Authorization: Bearer TOKEN must be a token it issued that has neither
//     expired nor been revoked (RevokeTokens), or a static token
//     (AddStaticToken); else 401 {"error":"Unauthorized","code":401}.
//   - version is required (400 without it).
//   - filter: terms joined by "," (and), optionally inside one [...] group:
//     request_timestamp with >=, >, <=, < and an RFC 3339 time or a date,
//     and FIELD::VALUE exact matches on log_id, session_id and customer_id.
//     Anything else is 400 {"error":"Invalid filter ..."}. Terms joined by "|"
//     are not supported.
//   - sort: request_timestamp (oldest first, also the default) or
//     -request_timestamp; anything else is 400.
//   - page_limit: default 100.
//   - cursor: opaque; bound to the filter and sort it was issued for and
//     valid for CursorTTL (5 minutes, as documented); a stale or foreign
//     cursor is 400 {"error":"Invalid cursor"}.
//   - 200 {"logs":[...],"pagination":{"matched":N,"next_cursor":C,
//     "next_url":"/v2/assistants/ID/logs?cursor=C&version=V"}}, next_* absent
//     on the last page; matched counts every log the filter matches.
//
// Faults queued with Inject are answered, in order, instead of the next logs
// requests (after authentication), e.g. a 429 with Retry-After, a 500, or a
// body that is not JSON.
//
// Imports: it imports no package of this module; only tests use it.
package watsonapitest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Log is one stored log: its raw JSON plus the fields the server filters on.
type Log struct {
	ID               string
	RequestTimestamp time.Time
	Raw              json.RawMessage
	fields           map[string]string
}

// NewLog indexes a raw log object. It panics on a log without a parsable
// request_timestamp (test data is expected to be valid).
func NewLog(raw json.RawMessage) Log {
	var l struct {
		LogID            string `json:"log_id"`
		RequestTimestamp string `json:"request_timestamp"`
		SessionID        string `json:"session_id"`
		CustomerID       string `json:"customer_id"`
	}
	if err := json.Unmarshal(raw, &l); err != nil {
		panic(fmt.Sprintf("watsonapitest: log is not JSON: %v", err))
	}
	ts, err := time.Parse(time.RFC3339Nano, l.RequestTimestamp)
	if err != nil {
		panic(fmt.Sprintf("watsonapitest: log %s: request_timestamp: %v", l.LogID, err))
	}
	return Log{ID: l.LogID, RequestTimestamp: ts, Raw: raw, fields: map[string]string{
		"log_id": l.LogID, "session_id": l.SessionID, "customer_id": l.CustomerID,
	}}
}

// Fault is an answer served instead of the next logs page.
type Fault struct {
	Status     int
	RetryAfter string // Retry-After header, if set
	Body       string // default: {"error":"<status text>","code":<status>}
}

// Request is what the server saw of one logs request.
type Request struct {
	Filter, Sort, Cursor, Version string
	PageLimit                     int
	Token                         string
	Status                        int
	At                            time.Time
}

// Server is the fake. Set its exported fields before the first request.
type Server struct {
	// URL is the service URL, e.g. http://127.0.0.1:PORT/instances/test.
	URL string
	// IAMURL is the token endpoint.
	IAMURL string
	// APIKey is the only key the IAM endpoint accepts.
	APIKey string
	// AssistantID is the only id the logs path accepts.
	AssistantID string
	// TokenTTL is expires_in of issued tokens (default 1 h, whole seconds).
	TokenTTL time.Duration
	// CursorTTL is how long a cursor stays valid (default 5 min).
	CursorTTL time.Duration

	srv *httptest.Server

	mu        sync.Mutex
	logs      []Log
	tokens    map[string]time.Time // token → expiry; zero time: never
	exchanges int
	faults    []Fault
	requests  []Request
	issued    int
	now       func() time.Time
}

// New starts a server holding logs (any order).
func New(logs []Log) *Server {
	s := &Server{
		APIKey:      "test-api-key",
		AssistantID: "test-assistant",
		TokenTTL:    time.Hour,
		CursorTTL:   5 * time.Minute,
		tokens:      map[string]time.Time{},
		now:         time.Now,
	}
	s.SetLogs(logs)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /identity/token", s.iam)
	mux.HandleFunc("GET /instances/test/v2/assistants/{id}/logs", s.list)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL + "/instances/test"
	s.IAMURL = s.srv.URL + "/identity/token"
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// SetLogs replaces the stored logs.
func (s *Server) SetLogs(logs []Log) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logs = slices.Clone(logs)
	slices.SortStableFunc(s.logs, func(a, b Log) int { return a.RequestTimestamp.Compare(b.RequestTimestamp) })
}

// AddStaticToken makes tok valid forever.
func (s *Server) AddStaticToken(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[tok] = time.Time{}
}

// RevokeTokens invalidates every issued token (as if they had expired
// server-side); static tokens stay valid.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t, exp := range s.tokens {
		if !exp.IsZero() {
			delete(s.tokens, t)
		}
	}
}

// Inject queues faults for the next logs requests.
func (s *Server) Inject(f ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f...)
}

// Exchanges counts IAM token exchanges.
func (s *Server) Exchanges() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exchanges
}

// Requests returns the logs requests seen so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Pages counts logs requests answered with a page (200).
func (s *Server) Pages() int {
	n := 0
	for _, r := range s.Requests() {
		if r.Status == http.StatusOK {
			n++
		}
	}
	return n
}

func (s *Server) iam(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "urn:ibm:params:oauth:grant-type:apikey" ||
		r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errorCode": "BXNIM0109E", "errorMessage": "Property missing or empty"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.PostForm.Get("apikey") != s.APIKey {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errorCode": "BXNIM0415E", "errorMessage": "Provided API key could not be found."})
		return
	}
	s.exchanges++
	s.issued++
	tok := fmt.Sprintf("iam-token-%d", s.issued)
	ttl := s.TokenTTL
	exp := s.now().Add(ttl)
	s.tokens[tok] = exp
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token":  tok,
		"refresh_token": "not-used",
		"token_type":    "Bearer",
		"expires_in":    int64(ttl / time.Second),
		"expiration":    exp.Unix(),
		"scope":         "ibm openid",
	})
}

type cursor struct {
	Offset int    `json:"o"`
	Query  string `json:"q"`
	Issued int64  `json:"t"`
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req := Request{Filter: q.Get("filter"), Sort: q.Get("sort"), Cursor: q.Get("cursor"), Version: q.Get("version"), At: time.Now()}
	req.PageLimit, _ = strconv.Atoi(q.Get("page_limit"))
	req.Token, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")

	s.mu.Lock()
	defer s.mu.Unlock()
	answer := func(status int, v any) {
		req.Status = status
		s.requests = append(s.requests, req)
		writeJSON(w, status, v)
	}
	fail := func(status int, msg string) { answer(status, map[string]any{"error": msg, "code": status}) }

	exp, ok := s.tokens[req.Token]
	if !ok || (!exp.IsZero() && !s.now().Before(exp)) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="IBM Watson Assistant"`)
		fail(http.StatusUnauthorized, "Unauthorized")
		return
	}
	if len(s.faults) > 0 {
		f := s.faults[0]
		s.faults = s.faults[1:]
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		req.Status = f.Status
		s.requests = append(s.requests, req)
		body := f.Body
		if body == "" {
			body = fmt.Sprintf(`{"error":%q,"code":%d}`, http.StatusText(f.Status), f.Status)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte(body))
		return
	}
	if r.PathValue("id") != s.AssistantID {
		fail(http.StatusNotFound, "Resource not found")
		return
	}
	if req.Version == "" {
		fail(http.StatusBadRequest, "Missing required query parameter 'version'")
		return
	}
	match, err := parseFilter(req.Filter)
	if err != nil {
		fail(http.StatusBadRequest, "Invalid filter: "+err.Error())
		return
	}
	logs := make([]Log, 0, len(s.logs))
	for _, l := range s.logs {
		if match(l) {
			logs = append(logs, l)
		}
	}
	switch req.Sort {
	case "", "request_timestamp":
	case "-request_timestamp":
		slices.Reverse(logs)
	default:
		fail(http.StatusBadRequest, "Invalid sort")
		return
	}
	queryKey := req.Filter + "\x00" + req.Sort
	offset := 0
	if req.Cursor != "" {
		var c cursor
		b, err := base64.RawURLEncoding.DecodeString(req.Cursor)
		if err != nil || json.Unmarshal(b, &c) != nil || c.Query != queryKey || c.Offset < 0 || c.Offset > len(logs) ||
			s.now().Sub(time.Unix(0, c.Issued)) > s.CursorTTL {
			fail(http.StatusBadRequest, "Invalid cursor")
			return
		}
		offset = c.Offset
	}
	limit := req.PageLimit
	if limit <= 0 {
		limit = 100
	}
	end := min(offset+limit, len(logs))
	out := make([]json.RawMessage, 0, end-offset)
	for _, l := range logs[offset:end] {
		out = append(out, l.Raw)
	}
	pagination := map[string]any{"matched": len(logs)}
	if end < len(logs) {
		b, _ := json.Marshal(cursor{Offset: end, Query: queryKey, Issued: s.now().UnixNano()})
		c := base64.RawURLEncoding.EncodeToString(b)
		pagination["next_cursor"] = c
		pagination["next_url"] = "/v2/assistants/" + url.PathEscape(s.AssistantID) + "/logs?" +
			url.Values{"cursor": {c}, "version": {req.Version}}.Encode()
	}
	answer(http.StatusOK, map[string]any{"logs": out, "pagination": pagination})
}

// parseFilter implements the subset of the filter language described in the
// package comment.
func parseFilter(f string) (func(Log) bool, error) {
	f = strings.TrimSpace(f)
	if strings.HasPrefix(f, "[") && strings.HasSuffix(f, "]") && !strings.Contains(f[1:len(f)-1], "[") {
		f = f[1 : len(f)-1]
	}
	var preds []func(Log) bool
	if f == "" {
		return func(Log) bool { return true }, nil
	}
	for term := range strings.SplitSeq(strings.NewReplacer("[", "", "]", "").Replace(f), ",") {
		if strings.Contains(term, "|") {
			return nil, fmt.Errorf("or (|) is not supported by the fake")
		}
		if rest, ok := strings.CutPrefix(term, "request_timestamp"); ok {
			op := ""
			for _, o := range []string{">=", "<=", ">", "<"} {
				if strings.HasPrefix(rest, o) {
					op = o
					break
				}
			}
			if op == "" {
				return nil, fmt.Errorf("request_timestamp needs a comparison")
			}
			v := rest[len(op):]
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				if t, err = time.Parse("2006-01-02", v); err != nil {
					return nil, fmt.Errorf("bad time %q", v)
				}
			}
			preds = append(preds, func(l Log) bool {
				c := l.RequestTimestamp.Compare(t)
				switch op {
				case ">=":
					return c >= 0
				case ">":
					return c > 0
				case "<=":
					return c <= 0
				default:
					return c < 0
				}
			})
			continue
		}
		field, value, ok := strings.Cut(term, "::")
		if !ok || (field != "log_id" && field != "session_id" && field != "customer_id") {
			return nil, fmt.Errorf("unsupported term %q", term)
		}
		preds = append(preds, func(l Log) bool { return l.fields[field] == value })
	}
	return func(l Log) bool {
		for _, p := range preds {
			if !p(l) {
				return false
			}
		}
		return true
	}, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
