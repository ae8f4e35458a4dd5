package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
)

// DefaultMaxHeaderValueBytes is the longest credential a HeaderAuthenticator
// accepts; longer values are refused before they are hashed.
const DefaultMaxHeaderValueBytes = 8 << 10

// HeaderAuthenticator compares one request header with a set of static
// values, for operators who replace Watson's JWT with their own header under
// "Headers" in the webhook settings (e.g. "Authorization: Basic …" or
// "X-Webhook-Token: …"). The whole header value is the credential, compared
// exactly (surrounding spaces aside).
//
// The comparison takes the same time whatever the value: the presented value
// and every configured one are reduced to HMAC-SHA256 digests under a random
// per-process key, and all digests are compared with
// crypto/subtle.ConstantTimeCompare without stopping at the first match, so
// neither the position of the first differing byte nor the length of a
// configured value leaks through timing.
//
// Several values may be configured at once (rotation). It is safe for
// concurrent use; SetValues swaps the values atomically.
type HeaderAuthenticator struct {
	header   string
	key      [32]byte
	maxBytes int
	digests  atomic.Pointer[[][sha256.Size]byte]
}

// NewHeaderAuthenticator returns an authenticator that accepts a request
// whose only headerName header equals one of values. headerName is
// canonicalised ("authorization" is "Authorization"); values must be
// non-empty and are not kept, only their keyed digests.
func NewHeaderAuthenticator(headerName string, values [][]byte) (*HeaderAuthenticator, error) {
	name := strings.TrimSpace(headerName)
	if name == "" || strings.ContainsAny(name, " \t\r\n:") {
		return nil, fmt.Errorf("auth: invalid authentication header name %q", headerName)
	}
	a := &HeaderAuthenticator{header: http.CanonicalHeaderKey(name), maxBytes: DefaultMaxHeaderValueBytes}
	if _, err := rand.Read(a.key[:]); err != nil {
		return nil, fmt.Errorf("auth: header authenticator key: %w", err)
	}
	if err := a.SetValues(values); err != nil {
		return nil, err
	}
	return a, nil
}

// Header returns the canonical name of the header that carries the credential.
func (a *HeaderAuthenticator) Header() string { return a.header }

// SetValues replaces the accepted values (e.g. on reload). On error the
// previous values stay in force.
func (a *HeaderAuthenticator) SetValues(values [][]byte) error {
	if len(values) == 0 {
		return errors.New("auth: at least one header value is required")
	}
	ds := make([][sha256.Size]byte, len(values))
	for i, v := range values {
		t := strings.TrimSpace(string(v))
		switch {
		case t == "":
			return fmt.Errorf("auth: header value %d of %d is empty", i+1, len(values))
		case len(t) > a.maxBytes:
			return fmt.Errorf("auth: header value %d of %d is longer than %d bytes", i+1, len(values), a.maxBytes)
		}
		ds[i] = a.digest(t)
	}
	a.digests.Store(&ds)
	return nil
}

func (a *HeaderAuthenticator) digest(v string) [sha256.Size]byte {
	m := hmac.New(sha256.New, a.key[:])
	m.Write([]byte(v))
	var d [sha256.Size]byte
	m.Sum(d[:0])
	return d
}

// Authenticate checks the header. Failures are *AuthError values with reason
// missing, multiple_headers, oversized or bad_credentials.
func (a *HeaderAuthenticator) Authenticate(r *http.Request) error {
	_, err := a.MatchKeys(r)
	return err
}

// MatchKeys authenticates r and returns the indexes (into the values given
// to NewHeaderAuthenticator or SetValues) of every value equal to the
// header: usually one, more when values repeat.
func (a *HeaderAuthenticator) MatchKeys(r *http.Request) ([]int, error) {
	vals := r.Header.Values(a.header)
	switch {
	case len(vals) == 0:
		return nil, authFailure(ReasonMissing, nil)
	case len(vals) > 1:
		return nil, authFailure(ReasonMultipleHeaders, nil)
	}
	v := strings.TrimSpace(vals[0])
	switch {
	case v == "":
		return nil, authFailure(ReasonMissing, nil)
	case len(v) > a.maxBytes:
		return nil, authFailure(ReasonOversized, nil)
	}
	d := a.digest(v)
	var matched []int
	for i, want := range *a.digests.Load() {
		// Every digest is compared: no early exit.
		if subtle.ConstantTimeCompare(d[:], want[:]) == 1 {
			matched = append(matched, i)
		}
	}
	if len(matched) == 0 {
		return nil, authFailure(ReasonBadCredentials, nil)
	}
	return matched, nil
}
