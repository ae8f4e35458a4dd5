package watsonapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/assistant-otel/assistant-otel/internal/retry"
)

// DefaultVersion is the API version date sent when none is configured: the
// date IBM's current API reference examples use.
const DefaultVersion = "2024-08-25"

// Defaults of Config.
const (
	DefaultMaxRetries   = 8
	DefaultMinBackoff   = time.Second
	DefaultMaxBackoff   = time.Minute
	DefaultMaxPageBytes = 256 << 20
)

// ErrMalformed is wrapped when an answer is not the JSON it should be.
var ErrMalformed = errors.New("malformed answer")

// Config configures a Client.
type Config struct {
	// ServiceURL is the instance URL shown with the credentials, e.g.
	// https://api.us-south.assistant.watson.cloud.ibm.com/instances/ID.
	ServiceURL string
	// AssistantID is the path id: the environment id for watsonx Assistant,
	// the assistant id for classic instances.
	AssistantID string
	// Version is the API version date (default DefaultVersion).
	Version string
	// Tokens authenticates requests (required).
	Tokens TokenSource
	// HTTPClient sends requests (default: one with a 2 min timeout).
	HTTPClient *http.Client
	// MaxRetries bounds the retries of one page after 429, 5xx and network
	// errors (default DefaultMaxRetries; negative means none).
	MaxRetries int
	// MinBackoff and MaxBackoff bound the exponential backoff between
	// retries; a Retry-After longer than MaxBackoff is still honoured up to
	// MaxRetryAfter.
	MinBackoff, MaxBackoff time.Duration
	// MaxRetryAfter caps a server's Retry-After (default 5 min).
	MaxRetryAfter time.Duration
	// MaxPageBytes caps the size of one answer (default 256 MiB).
	MaxPageBytes int64
	// UserAgent is sent with every request.
	UserAgent string
	// OnRetry, when set, is told about every retry (for logging); err never
	// holds secrets or bodies.
	OnRetry func(attempt int, wait time.Duration, err error)
}

// Client lists logs. It is safe for concurrent use.
type Client struct {
	cfg  Config
	base *url.URL
}

// New checks cfg and returns a client.
func New(cfg Config) (*Client, error) {
	if cfg.ServiceURL == "" {
		return nil, errors.New("service URL is empty")
	}
	if err := checkURL(cfg.ServiceURL); err != nil {
		return nil, fmt.Errorf("service URL: %w", err)
	}
	base, _ := url.Parse(strings.TrimRight(cfg.ServiceURL, "/"))
	if base.RawQuery != "" || base.Fragment != "" {
		return nil, errors.New("service URL must not have a query or fragment")
	}
	if cfg.AssistantID == "" {
		return nil, errors.New("assistant (or environment) id is empty")
	}
	if cfg.Tokens == nil {
		return nil, errors.New("no token source")
	}
	if cfg.Version == "" {
		cfg.Version = DefaultVersion
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 2 * time.Minute}
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = DefaultMaxRetries
	}
	if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(DefaultMaxBackoff, cfg.MinBackoff)
	}
	if cfg.MaxRetryAfter <= 0 {
		cfg.MaxRetryAfter = 5 * time.Minute
	}
	if cfg.MaxPageBytes <= 0 {
		cfg.MaxPageBytes = DefaultMaxPageBytes
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "assistant-otel"
	}
	return &Client{cfg: cfg, base: base}, nil
}

// Query selects one page of logs.
type Query struct {
	// Filter is the API's filter expression (see BuildFilter).
	Filter string
	// Sort is "request_timestamp" or "-request_timestamp" (empty: the
	// service's default order).
	Sort string
	// PageLimit is the number of logs per page (0: the service's default).
	PageLimit int
	// Cursor continues a listing (empty: first page).
	Cursor string
}

// Page is one answer of the logs API.
type Page struct {
	// Logs are the raw log objects, to be decoded like webhook payloads.
	Logs []json.RawMessage
	// NextCursor continues the listing; empty on the last page.
	NextCursor string
	// Matched is pagination.matched when the service sent it ("reserved
	// for future use"), else -1.
	Matched int64
}

type logCollection struct {
	Logs       []json.RawMessage `json:"logs"`
	Pagination struct {
		NextURL    string          `json:"next_url"`
		NextCursor string          `json:"next_cursor"`
		Matched    json.RawMessage `json:"matched"`
	} `json:"pagination"`
}

// APIError is a non-success answer of the logs API.
type APIError struct {
	StatusCode int
	// Message is the "error" field of the service's JSON error object,
	// truncated; empty when the body was something else.
	Message string
	// Attempts is how many requests were made for the page.
	Attempts int
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("logs API: HTTP %d", e.StatusCode)
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.StatusCode == http.StatusForbidden {
		s += " (listing logs requires Manager access to the assistant)"
	}
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	return s
}

// Unwrap lets errors.Is(err, ErrUnauthorized) match a 401.
func (e *APIError) Unwrap() error {
	if e.StatusCode == http.StatusUnauthorized {
		return ErrUnauthorized
	}
	return nil
}

// TransientError is a failure worth retrying (network error, 429, 5xx).
type TransientError struct {
	Err        error
	RetryAfter time.Duration // the server's Retry-After, if any
}

func (e *TransientError) Error() string { return e.Err.Error() }
func (e *TransientError) Unwrap() error { return e.Err }

// ListLogs fetches one page. It retries 429 (honouring Retry-After), 5xx and
// network errors with bounded exponential backoff, and a 401 once with a
// fresh token. It returns early with ctx's error when ctx ends.
func (c *Client) ListLogs(ctx context.Context, q Query) (Page, error) {
	u := c.pageURL(q)
	refreshed := false
	attempts := 0
	var page Page
	var last error // the last transient failure
	err := retry.Do(ctx, retry.Policy{
		Min: c.cfg.MinBackoff, Max: c.cfg.MaxBackoff, MaxAfter: c.cfg.MaxRetryAfter,
		MaxAttempts: c.cfg.MaxRetries + 1,
		OnRetry:     c.cfg.OnRetry,
	}, func(ctx context.Context) error {
		attempts++
		var err error
		page, err = c.once(ctx, u)
		var re *refusedError
		if errors.As(err, &re) && !refreshed && c.cfg.Tokens.Invalidate(re.tok) {
			refreshed = true // a token refresh is not a retry
			page, err = c.once(ctx, u)
		}
		switch {
		case err == nil:
			return nil
		case errors.As(err, &re):
			re.APIError.Attempts = attempts
			return retry.Permanent(fmt.Errorf("%w: the service refused the credentials (a fresh token too, where one can be had)", re.APIError))
		}
		var te *TransientError
		if errors.As(err, &te) {
			last = te.Err
			return retry.After(te.Err, te.RetryAfter)
		}
		var ae *APIError
		if errors.As(err, &ae) {
			ae.Attempts = attempts
		}
		return retry.Permanent(err)
	})
	if errors.Is(err, retry.ErrAttempts) {
		return Page{}, fmt.Errorf("giving up after %d attempts: %w", attempts, last)
	}
	if err != nil {
		return Page{}, err
	}
	return page, nil
}

// refusedError is a 401 together with the refused token, so that ListLogs
// can invalidate exactly that token. Its message never shows the token.
type refusedError struct {
	*APIError
	tok string
}

func (c *Client) once(ctx context.Context, u string) (Page, error) {
	tok, err := c.cfg.Tokens.Token(ctx)
	if err != nil {
		return Page{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Page{}, fmt.Errorf("logs API request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return Page{}, ctx.Err()
		}
		return Page{}, &TransientError{Err: fmt.Errorf("logs API request: %w", stripURL(err))}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		ae := &APIError{StatusCode: resp.StatusCode, Message: errorMessage(body)}
		if retryable(resp.StatusCode) {
			return Page{}, &TransientError{Err: ae, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
		}
		if resp.StatusCode == http.StatusUnauthorized {
			return Page{}, &refusedError{APIError: ae, tok: tok}
		}
		return Page{}, ae
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxPageBytes+1))
	if err != nil {
		if ctx.Err() != nil {
			return Page{}, ctx.Err()
		}
		return Page{}, &TransientError{Err: fmt.Errorf("logs API: reading the answer: %w", err)}
	}
	if int64(len(body)) > c.cfg.MaxPageBytes {
		return Page{}, fmt.Errorf("logs API: a page is larger than %d bytes; lower the page limit", c.cfg.MaxPageBytes)
	}
	return decodePage(body)
}
