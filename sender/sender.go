// Package sender is the client side of the Watson Assistant log webhook: it
// signs a body the way Watson Assistant does and POSTs it. The
// "assistant-otel send" subcommand and the tests use it to exercise a
// receiver.
//
// Imports: it imports no package of this module.
package sender

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TokenLifetime is how long a token from Sign stays valid.
const TokenLifetime = 5 * time.Minute

// maxResponseBytes caps how much of the response Send keeps.
const maxResponseBytes = 1 << 20

// defaultTimeout bounds Send when no client is given.
const defaultTimeout = 30 * time.Second

// Sign returns an HS256 JWT signed with secret, as Watson Assistant puts in
// the Authorization header. Watson's claims are undocumented, so the token
// carries only iat (now) and exp (now + TokenLifetime).
func Sign(secret []byte, now time.Time) (string, error) {
	if len(secret) == 0 {
		return "", errors.New("sender: sign token: secret is empty")
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iat": now.Unix(),
		"exp": now.Add(TokenLifetime).Unix(),
	})
	s, err := tok.SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("sender: sign token: %w", err)
	}
	return s, nil
}

// Send signs a fresh token with secret and POSTs body to url with
// Content-Type application/json and the raw token (no Bearer prefix, as
// Watson Assistant sends it) in Authorization. It returns the response status
// and up to 1 MiB of the response body; a non-2xx status is not an error.
// A nil client means one with a 30 s timeout.
func Send(ctx context.Context, client *http.Client, url string, secret []byte, body []byte) (status int, respBody []byte, err error) {
	if client == nil {
		client = &http.Client{Timeout: defaultTimeout}
	}
	token, err := Sign(secret, time.Now())
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("sender: build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", token)
	req.Header.Set("User-Agent", "assistant-otel-send")
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("sender: post webhook: %w", err)
	}
	defer resp.Body.Close()
	respBody, err = io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return resp.StatusCode, respBody, fmt.Errorf("sender: read response (status %d): %w", resp.StatusCode, err)
	}
	return resp.StatusCode, respBody, nil
}
