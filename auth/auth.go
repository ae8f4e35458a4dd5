package auth

import (
	"context"
	"errors"
	"net/http"

	"github.com/assistant-otel/assistant-otel/watson"
)

// Authenticator decides whether a webhook request may be processed. It sees
// the request before its body is read and must not read the body.
//
// A failure should be (or wrap) an *AuthError so that the receiver can count
// it by reason; other errors are counted as ReasonInvalid. Errors must never
// contain the credential or the secret.
type Authenticator interface {
	Authenticate(r *http.Request) error
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(r *http.Request) error

// Authenticate calls f(r).
func (f AuthenticatorFunc) Authenticate(r *http.Request) error { return f(r) }

// EventAuthorizer is optionally implemented by an Authenticator whose
// credentials are bound to particular events, e.g. secrets that belong to one
// assistant. The receiver calls AuthorizeEvent after decoding and before
// consuming; an error answers 403 and is counted like an authentication
// failure. It is called only for requests Authenticate accepted.
type EventAuthorizer interface {
	AuthorizeEvent(r *http.Request, ev watson.Event) error
}

// ContextAuthenticator is optionally implemented by an Authenticator that
// learns who the caller is (e.g. which assistant's secret signed the token).
// The receiver calls AuthenticateContext instead of Authenticate and, on
// success, continues with the request carrying the returned context: it is
// the request AuthorizeEvent sees and the context the Consumer gets. The
// returned context must derive from r.Context().
type ContextAuthenticator interface {
	Authenticator
	AuthenticateContext(r *http.Request) (context.Context, error)
}

// KeyMatcher is implemented by authenticators with several credentials
// (JWTAuthenticator, HeaderAuthenticator): MatchKeys authenticates like
// Authenticate and also returns the indexes of the credentials that match.
type KeyMatcher interface {
	Authenticator
	MatchKeys(r *http.Request) ([]int, error)
}

// Authentication failure reasons: the values of the reason attribute of the
// auth-failures metric. They form a small fixed set.
const (
	ReasonMissing           = "missing"            // no Authorization header, or an empty one
	ReasonMultipleHeaders   = "multiple_headers"   // more than one Authorization header
	ReasonOversized         = "oversized"          // token longer than the limit
	ReasonUnsupportedScheme = "unsupported_scheme" // a scheme other than Bearer (e.g. Basic)
	ReasonMalformed         = "malformed"          // not three base64url segments of JSON
	ReasonBadAlgorithm      = "bad_algorithm"      // alg missing, unknown, none, or not HMAC
	ReasonBadSignature      = "bad_signature"      // no configured secret verifies the signature
	ReasonExpired           = "expired"            // exp in the past (beyond the leeway)
	ReasonNotYetValid       = "not_yet_valid"      // nbf, or iat when checked, in the future
	ReasonTooOld            = "too_old"            // iat older than the maximum token age
	ReasonInvalidClaims     = "invalid_claims"     // exp/nbf/iat of the wrong type
	ReasonBadCredentials    = "bad_credentials"    // header mode: the value matches no configured one
	ReasonAssistantMismatch = "assistant_mismatch" // 403: the event's assistant_id does not own the secret that verified it
	ReasonAssistantMissing  = "assistant_missing"  // 403: the event names no assistant, so it cannot be bound to the one that signed it
	ReasonInvalid           = "invalid"            // any other failure
)

// AuthError is an authentication failure with a low-cardinality reason.
// Its message is "authentication failed: <reason>" and never contains the
// credential or the secret.
type AuthError struct {
	// Reason is one of the Reason* constants (or another short snake_case word).
	Reason string
	// Err is the underlying cause for errors.Is (e.g. jwt.ErrTokenExpired);
	// it is not part of the message.
	Err error
}

func (e *AuthError) Error() string { return "authentication failed: " + e.Reason }

// Unwrap returns the cause.
func (e *AuthError) Unwrap() error { return e.Err }

// authFailure returns a new *AuthError.
func authFailure(reason string, cause error) *AuthError {
	return &AuthError{Reason: reason, Err: cause}
}

// ReasonOf returns the reason an authentication error carries, sanitised to
// a short snake_case word; errors that are not an *AuthError give
// ReasonInvalid.
func ReasonOf(err error) string {
	var ae *AuthError
	if !errors.As(err, &ae) || !validReason(ae.Reason) {
		return ReasonInvalid
	}
	return ae.Reason
}

func validReason(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// NoAuth returns an Authenticator that accepts every request. Use it only
// when authentication is explicitly switched off.
func NoAuth() Authenticator {
	return AuthenticatorFunc(func(*http.Request) error { return nil })
}
