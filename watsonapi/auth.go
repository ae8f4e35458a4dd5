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
	"sync"
	"time"

	"github.com/assistant-otel/assistant-otel/watson"
)

// DefaultIAMURL is IBM Cloud's IAM token endpoint.
const DefaultIAMURL = "https://iam.cloud.ibm.com/identity/token"

// grantTypeAPIKey is the OAuth grant type of an API-key exchange [IBM Cloud
// docs, iam-iamtoken_from_apikey].
const grantTypeAPIKey = "urn:ibm:params:oauth:grant-type:apikey"

// ErrUnauthorized is wrapped when the service refuses the credentials (401)
// even after a fresh token, or when a static token is refused.
var ErrUnauthorized = errors.New("unauthorized")

// TokenSource supplies bearer tokens for the logs API.
type TokenSource interface {
	// Token returns a token that is valid for at least a few seconds.
	Token(ctx context.Context) (string, error)
	// Invalidate drops token after the service refused it (401). It reports
	// whether a different token can be obtained by calling Token again.
	Invalidate(token string) bool
}

// StaticToken is a bearer token obtained elsewhere (e.g. `ibmcloud iam
// oauth-tokens`). It cannot be refreshed.
type StaticToken string

// Token returns the token.
func (t StaticToken) Token(context.Context) (string, error) {
	if t == "" {
		return "", errors.New("empty bearer token")
	}
	return string(t), nil
}

// Invalidate reports false: a static token cannot be replaced.
func (StaticToken) Invalidate(string) bool { return false }

// String hides the token.
func (StaticToken) String() string { return "[redacted]" }

// GoString hides the token from %#v.
func (StaticToken) GoString() string { return "watsonapi.StaticToken([redacted])" }

// IAM exchanges an IBM Cloud API key for IAM access tokens and refreshes them
// once 80% of their lifetime has passed (as IBM's SDKs do), so requests do not
// run into an expired token. It is safe for concurrent use.
type IAM struct {
	apiKey string
	url    string
	hc     *http.Client
	now    func() time.Time

	mu        sync.Mutex
	token     string
	refreshAt time.Time
	expiresAt time.Time
}

// IAMOption configures an IAM token source.
type IAMOption func(*IAM)

// WithIAMHTTPClient sets the HTTP client of token requests (default: one with
// a 30 s timeout).
func WithIAMHTTPClient(hc *http.Client) IAMOption { return func(a *IAM) { a.hc = hc } }

// WithIAMClock sets the clock (for tests).
func WithIAMClock(now func() time.Time) IAMOption { return func(a *IAM) { a.now = now } }

// NewIAM returns a token source that exchanges apiKey at tokenURL (empty:
// DefaultIAMURL).
func NewIAM(apiKey, tokenURL string, opts ...IAMOption) (*IAM, error) {
	if apiKey == "" {
		return nil, errors.New("IAM: empty API key")
	}
	if tokenURL == "" {
		tokenURL = DefaultIAMURL
	}
	if err := checkURL(tokenURL); err != nil {
		return nil, fmt.Errorf("IAM URL: %w", err)
	}
	a := &IAM{apiKey: apiKey, url: tokenURL, now: time.Now}
	for _, o := range opts {
		o(a)
	}
	if a.hc == nil {
		a.hc = &http.Client{Timeout: 30 * time.Second}
	}
	return a, nil
}

// String hides the API key.
func (a *IAM) String() string { return "IAM(" + a.url + ")" }

// GoString hides the API key from %#v.
func (a *IAM) GoString() string { return a.String() }

// Token returns the cached token, exchanging the API key first when there is
// none or when its refresh time has passed.
func (a *IAM) Token(ctx context.Context) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token != "" && a.now().Before(a.refreshAt) {
		return a.token, nil
	}
	tok, refreshAt, expiresAt, err := a.exchange(ctx)
	if err != nil {
		// A token that is due for refresh but not yet expired is still
		// usable when IAM is briefly unavailable.
		if a.token != "" && a.now().Before(a.expiresAt) && ctx.Err() == nil {
			return a.token, nil
		}
		return "", err
	}
	a.token, a.refreshAt, a.expiresAt = tok, refreshAt, expiresAt
	return tok, nil
}

// Invalidate forgets token so that the next Token call exchanges the key
// again. It reports true: a new token can always be requested.
func (a *IAM) Invalidate(token string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token == token {
		a.token = ""
	}
	return true
}

// iamResponse is the token endpoint's answer [IBM/go-sdk-core
// IamTokenServerResponse].
type iamResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Expiration  int64  `json:"expiration"`
}

// iamError is the token endpoint's error object, e.g.
// {"errorCode":"BXNIM0415E","errorMessage":"Provided API key could not be found"}.
type iamError struct {
	ErrorCode    string `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
}

func (a *IAM) exchange(ctx context.Context) (token string, refreshAt, expiresAt time.Time, err error) {
	form := url.Values{"grant_type": {grantTypeAPIKey}, "apikey": {a.apiKey}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.url, strings.NewReader(form.Encode()))
	if err != nil {
		return "", time.Time{}, time.Time{}, fmt.Errorf("IAM token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	start := a.now()
	resp, err := a.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", time.Time{}, time.Time{}, ctx.Err()
		}
		// *url.Error quotes the URL only; the key travels in the body.
		return "", time.Time{}, time.Time{}, &TransientError{Err: fmt.Errorf("IAM token request: %w", err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", time.Time{}, time.Time{}, &TransientError{Err: fmt.Errorf("IAM token request: reading the answer: %w", err)}
	}
	if resp.StatusCode != http.StatusOK {
		var ie iamError
		msg := ""
		if json.Unmarshal(body, &ie) == nil && (ie.ErrorCode != "" || ie.ErrorMessage != "") {
			msg = ": " + strings.TrimSpace(ie.ErrorCode+" "+truncate(ie.ErrorMessage, 200))
		}
		err := fmt.Errorf("IAM token request: HTTP %d%s", resp.StatusCode, msg)
		if retryable(resp.StatusCode) {
			return "", time.Time{}, time.Time{}, &TransientError{Err: err, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), a.now())}
		}
		if resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnauthorized {
			err = fmt.Errorf("%w (is the API key right?): %w", ErrUnauthorized, err)
		}
		return "", time.Time{}, time.Time{}, err
	}
	var r iamResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return "", time.Time{}, time.Time{}, fmt.Errorf("IAM token request: %w: %s", ErrMalformed, watson.DescribeJSONError(err))
	}
	if r.AccessToken == "" {
		return "", time.Time{}, time.Time{}, errors.New("IAM token request: the answer has no access_token")
	}
	if r.TokenType != "" && !strings.EqualFold(r.TokenType, "Bearer") {
		return "", time.Time{}, time.Time{}, fmt.Errorf("IAM token request: unexpected token_type %q", truncate(r.TokenType, 32))
	}
	ttl := time.Duration(r.ExpiresIn) * time.Second
	switch {
	case ttl > 0:
		expiresAt = start.Add(ttl)
	case r.Expiration > 0:
		expiresAt = time.Unix(r.Expiration, 0)
		ttl = expiresAt.Sub(start)
	}
	if ttl <= 0 {
		// Neither field: IAM tokens live at most an hour; refresh early.
		ttl = 20 * time.Minute
		expiresAt = start.Add(ttl)
	}
	refreshAt = start.Add(ttl * 8 / 10)
	return r.AccessToken, refreshAt, expiresAt, nil
}
