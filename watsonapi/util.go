package watsonapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/assistant-otel/assistant-otel/watson"
)

// pageURL is {service}/v2/assistants/{id}/logs with the query parameters of
// listLogs [Node SDK assistant/v2.ts].
func (c *Client) pageURL(q Query) string {
	u := *c.base
	rest := "/v2/assistants/" + url.PathEscape(c.cfg.AssistantID) + "/logs"
	u.RawPath = strings.TrimRight(c.base.EscapedPath(), "/") + rest
	u.Path = strings.TrimRight(c.base.Path, "/") + "/v2/assistants/" + c.cfg.AssistantID + "/logs"
	v := url.Values{"version": {c.cfg.Version}}
	if q.Sort != "" {
		v.Set("sort", q.Sort)
	}
	if q.Filter != "" {
		v.Set("filter", q.Filter)
	}
	if q.PageLimit > 0 {
		v.Set("page_limit", strconv.Itoa(q.PageLimit))
	}
	if q.Cursor != "" {
		v.Set("cursor", q.Cursor)
	}
	u.RawQuery = v.Encode()
	return u.String()
}

// decodePage parses a LogCollection. Only the shape is checked here; each log
// is decoded later exactly like a webhook payload.
func decodePage(body []byte) (Page, error) {
	var lc logCollection
	if err := json.Unmarshal(body, &lc); err != nil {
		return Page{}, fmt.Errorf("logs API: %w: the page is not a JSON log collection (%s, %d bytes)", ErrMalformed, watson.DescribeJSONError(err), len(body))
	}
	if lc.Logs == nil {
		// Absent "logs" (as opposed to []) means this is not a log collection.
		var probe map[string]json.RawMessage
		if json.Unmarshal(body, &probe) == nil {
			if _, ok := probe["logs"]; !ok {
				return Page{}, fmt.Errorf("logs API: %w: the answer has no \"logs\" array", ErrMalformed)
			}
		}
	}
	p := Page{Logs: lc.Logs, NextCursor: lc.Pagination.NextCursor, Matched: -1}
	if p.NextCursor == "" && lc.Pagination.NextURL != "" {
		// Older answers only have next_url; its cursor parameter is the same token.
		if nu, err := url.Parse(lc.Pagination.NextURL); err == nil {
			p.NextCursor = nu.Query().Get("cursor")
		}
	}
	if m := lc.Pagination.Matched; len(m) > 0 && string(m) != "null" {
		if n, err := strconv.ParseInt(string(m), 10, 64); err == nil && n >= 0 {
			p.Matched = n
		}
	}
	return p, nil
}

// errorMessage extracts the "error" field of the service's JSON error object
// ({"error": "...", "code": 400}); anything else yields "" so that no body
// text reaches an error.
func errorMessage(body []byte) string {
	var e struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || len(e.Error) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(e.Error, &s) != nil {
		return ""
	}
	return truncate(strings.Join(strings.Fields(s), " "), 200)
}

// retryable reports whether a status is worth retrying: 429 and 5xx (except
// 501 Not Implemented, which will not change).
func retryable(code int) bool {
	return code == http.StatusTooManyRequests || (code >= 500 && code != http.StatusNotImplemented)
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date (RFC 9110
// §10.2.3); 0 when absent or unparsable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, 24*3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// checkURL accepts absolute https URLs, and http ones only for loopback hosts
// (local tests and port-forwards): credentials never cross a network in
// clear text.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL")
	}
	if u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", truncate(raw, 100))
	}
	if u.User != nil {
		return errors.New("credentials in the URL are not supported")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%s must use https (plain http is accepted only for localhost)", u.Redacted())
	default:
		return fmt.Errorf("unsupported scheme %q (use https)", truncate(u.Scheme, 16))
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// stripURL drops the URL from a *url.Error: the query holds the filter (which
// may quote user text) and the cursor.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
