package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// JWT defaults.
const (
	DefaultLeeway        = 60 * time.Second
	DefaultMaxTokenBytes = 8 << 10
)

// ReasonUnsupportedCrit is the failure reason of a token whose header has a
// "crit" parameter: RFC 7515 §4.1.11 makes such a token invalid unless every
// extension it names is understood, and this authenticator understands none.
const ReasonUnsupportedCrit = "unsupported_crit"

// maxNumericDate is the latest exp, nbf or iat accepted: 9999-12-31T23:59:59Z.
// Larger values (and negative ones) are refused as invalid claims rather
// than converted: the library turns a float64 of 9.2e18 or more into a
// wrapped-around int64, i.e. a date in the past, which made any nbf "valid".
const maxNumericDate = 253402300799

var (
	errTimeClaimRange = errors.New("time claim out of range")
	errIssuedAtNeeded = errors.New("iat required with a maximum token age")
	errCritHeader     = errors.New("crit header not understood")
)

// JWTAuthenticator verifies the JWT Watson Assistant puts in the
// Authorization header, signed with HMAC and the secret the user typed into
// the webhook settings. It accepts the raw token (as Watson sends it) and
// "Bearer <token>" (scheme case-insensitive). No claim is required, because
// Watson's claims are undocumented (iat is, with WithMaxTokenAge); exp and
// nbf are honoured when present, with a leeway for clock skew, and exp, nbf
// and iat must be numbers from 0 to 253402300799 (year 9999). A header with
// "crit" is refused (ReasonUnsupportedCrit). Several secrets may be configured (rotation):
// a token verified by any of them is accepted.
//
// It is safe for concurrent use; SetSecrets swaps the secrets atomically.
type JWTAuthenticator struct {
	jwtConfig
	parser    *jwt.Parser
	validator *jwt.Validator
	keys      atomic.Pointer[jwt.VerificationKeySet]
}

type jwtConfig struct {
	leeway        time.Duration
	maxAge        time.Duration
	maxTokenBytes int
	clock         func() time.Time
}

// JWTOption configures a JWTAuthenticator.
type JWTOption func(*jwtConfig)

// WithLeeway sets the clock-skew allowance for exp, nbf and iat (default
// DefaultLeeway). It must not be negative.
func WithLeeway(d time.Duration) JWTOption { return func(c *jwtConfig) { c.leeway = d } }

// WithMaxTokenAge rejects tokens whose iat claim is older than d (plus the
// leeway), tokens whose iat is in the future, and tokens without iat
// (ReasonInvalidClaims): a token that does not say when it was made cannot
// show it is recent. Zero (the default) switches the check off. This narrows the
// window in which a captured token can be replayed; it cannot bind a token to
// a body, since Watson's token carries no digest of it.
func WithMaxTokenAge(d time.Duration) JWTOption { return func(c *jwtConfig) { c.maxAge = d } }

// WithMaxTokenBytes sets the longest token accepted (default
// DefaultMaxTokenBytes); longer ones are rejected before any decoding.
func WithMaxTokenBytes(n int) JWTOption { return func(c *jwtConfig) { c.maxTokenBytes = n } }

// WithJWTClock sets the time source for exp, nbf and iat (default time.Now).
func WithJWTClock(now func() time.Time) JWTOption { return func(c *jwtConfig) { c.clock = now } }

// NewJWTAuthenticator returns an authenticator that accepts tokens signed
// with any of secrets, tried in order. At least one secret is required and
// none may be empty. The secrets are copied.
func NewJWTAuthenticator(secrets [][]byte, opts ...JWTOption) (*JWTAuthenticator, error) {
	cfg := jwtConfig{leeway: DefaultLeeway, maxTokenBytes: DefaultMaxTokenBytes, clock: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	switch {
	case cfg.leeway < 0:
		return nil, fmt.Errorf("auth: jwt leeway must not be negative, got %v", cfg.leeway)
	case cfg.maxAge < 0:
		return nil, fmt.Errorf("auth: jwt max token age must not be negative, got %v", cfg.maxAge)
	case cfg.maxTokenBytes <= 0:
		return nil, fmt.Errorf("auth: jwt max token bytes must be positive, got %d", cfg.maxTokenBytes)
	case cfg.clock == nil:
		return nil, errors.New("auth: jwt clock must not be nil")
	}
	// The parser checks the algorithm and the signature; the claims are
	// checked after it, once their numbers are known to be in range.
	vopts := []jwt.ParserOption{
		jwt.WithLeeway(cfg.leeway),
		jwt.WithTimeFunc(cfg.clock),
	}
	if cfg.maxAge > 0 {
		vopts = append(vopts, jwt.WithIssuedAt())
	}
	a := &JWTAuthenticator{
		parser: jwt.NewParser(
			// Only HMAC: Watson Assistant signs with the user's shared
			// secret. Pinning rejects alg "none", every asymmetric
			// algorithm, and so HS/RS key confusion.
			jwt.WithValidMethods([]string{"HS256", "HS384", "HS512"}),
			jwt.WithJSONNumber(),
			jwt.WithoutClaimsValidation(),
		),
		validator: jwt.NewValidator(vopts...),
		jwtConfig: cfg,
	}
	if err := a.SetSecrets(secrets); err != nil {
		return nil, err
	}
	return a, nil
}

// SetSecrets replaces the secrets (e.g. on reload). On error the previous
// secrets stay in force.
func (a *JWTAuthenticator) SetSecrets(secrets [][]byte) error {
	if len(secrets) == 0 {
		return errors.New("auth: at least one jwt secret is required")
	}
	set := &jwt.VerificationKeySet{Keys: make([]jwt.VerificationKey, len(secrets))}
	for i, s := range secrets {
		if len(s) == 0 {
			return fmt.Errorf("auth: jwt secret %d of %d is empty", i+1, len(secrets))
		}
		set.Keys[i] = append([]byte(nil), s...)
	}
	a.keys.Store(set)
	return nil
}

// Authenticate verifies the request's Authorization header. Failures are
// *AuthError values; the query string and other headers are never consulted.
func (a *JWTAuthenticator) Authenticate(r *http.Request) error {
	token, err := bearerToken(r.Header, a.maxTokenBytes)
	if err != nil {
		return err
	}
	_, err = a.verify(token, false)
	return err
}

// MatchKeys authenticates r like Authenticate and also returns the indexes
// (into the secrets given to NewJWTAuthenticator or SetSecrets) of every
// secret whose HMAC verifies the token: usually one, more when secrets
// repeat. It lets a caller bind the token to whoever owns that secret.
func (a *JWTAuthenticator) MatchKeys(r *http.Request) ([]int, error) {
	token, err := bearerToken(r.Header, a.maxTokenBytes)
	if err != nil {
		return nil, err
	}
	return a.verify(token, true)
}

// VerifyToken checks a bare token (no "Bearer " prefix) as Authenticate
// would check the header carrying it.
func (a *JWTAuthenticator) VerifyToken(token string) error {
	if len(token) > a.maxTokenBytes {
		return authFailure(ReasonOversized, nil)
	}
	_, err := a.verify(token, false)
	return err
}

// bearerToken extracts the token from the only Authorization header, with or
// without a Bearer scheme.
func bearerToken(h http.Header, maxBytes int) (string, error) {
	vals := h.Values("Authorization")
	switch {
	case len(vals) == 0:
		return "", authFailure(ReasonMissing, nil)
	case len(vals) > 1:
		return "", authFailure(ReasonMultipleHeaders, nil)
	}
	v := strings.TrimSpace(vals[0])
	if len(v) > maxBytes+len("Bearer ")+16 {
		return "", authFailure(ReasonOversized, nil)
	}
	if i := strings.IndexAny(v, " \t"); i >= 0 {
		if !strings.EqualFold(v[:i], "Bearer") {
			return "", authFailure(ReasonUnsupportedScheme, nil)
		}
		v = strings.TrimSpace(v[i+1:])
	}
	switch {
	case v == "":
		return "", authFailure(ReasonMissing, nil)
	case len(v) > maxBytes:
		return "", authFailure(ReasonOversized, nil)
	case strings.ContainsAny(v, " \t"):
		return "", authFailure(ReasonMalformed, nil)
	}
	return v, nil
}

func (a *JWTAuthenticator) verify(token string, match bool) ([]int, error) {
	set := a.keys.Load() // one snapshot for the whole check, even during SetSecrets
	claims := jwt.MapClaims{}
	tok, err := a.parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		if _, ok := t.Method.(*jwt.SigningMethodHMAC); !ok { // unreachable with WithValidMethods; kept as a second lock
			return nil, errors.New("not an HMAC algorithm")
		}
		return *set, nil
	})
	if err != nil {
		return nil, classify(tok, err)
	}
	if _, ok := tok.Header["crit"]; ok {
		// RFC 7515 §4.1.11: reject unless every named extension is
		// understood. None is, and a crit naming none is invalid too.
		return nil, authFailure(ReasonUnsupportedCrit, errCritHeader)
	}
	for _, name := range [...]string{"exp", "nbf", "iat"} {
		if v, ok := claims[name]; ok && !numericDateInRange(v) {
			return nil, authFailure(ReasonInvalidClaims, errTimeClaimRange)
		}
	}
	if err := a.validator.Validate(claims); err != nil {
		return nil, classify(tok, err)
	}
	if a.maxAge > 0 {
		iat, err := claims.GetIssuedAt()
		switch {
		case err != nil:
			return nil, authFailure(ReasonInvalidClaims, jwt.ErrInvalidType)
		case iat == nil:
			return nil, authFailure(ReasonInvalidClaims, errIssuedAtNeeded)
		case a.clock().Sub(iat.Time) > a.maxAge+a.leeway:
			return nil, authFailure(ReasonTooOld, nil)
		}
	}
	if !match {
		return nil, nil
	}
	signed := token[:strings.LastIndexByte(token, '.')]
	var keys []int
	for i, k := range set.Keys {
		if tok.Method.Verify(signed, tok.Signature, k) == nil {
			keys = append(keys, i)
		}
	}
	if len(keys) == 0 { // unreachable: the parser verified with one of them
		return nil, authFailure(ReasonBadSignature, jwt.ErrTokenSignatureInvalid)
	}
	return keys, nil
}

// numericDateInRange reports whether a time claim is a number from 0 to
// maxNumericDate; claims of another type are left to the validator, which
// refuses them (ErrInvalidType).
func numericDateInRange(v any) bool {
	var f float64
	switch n := v.(type) {
	case json.Number:
		var err error
		if f, err = strconv.ParseFloat(string(n), 64); err != nil {
			return false // too large for a float64, or not a number
		}
	case float64:
		f = n
	default:
		return true
	}
	return !math.IsNaN(f) && f >= 0 && f <= maxNumericDate
}

// classify maps a jwt error to a reason. The library's messages are not kept:
// some quote parts of the (attacker-controlled) token.
func classify(tok *jwt.Token, err error) error {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return authFailure(ReasonMalformed, jwt.ErrTokenMalformed)
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return authFailure(ReasonBadAlgorithm, jwt.ErrTokenUnverifiable)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		if tok == nil || !allowedAlgorithm(tok.Header["alg"]) {
			return authFailure(ReasonBadAlgorithm, jwt.ErrTokenSignatureInvalid)
		}
		return authFailure(ReasonBadSignature, jwt.ErrTokenSignatureInvalid)
	case errors.Is(err, jwt.ErrTokenExpired):
		return authFailure(ReasonExpired, jwt.ErrTokenExpired)
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return authFailure(ReasonNotYetValid, jwt.ErrTokenNotValidYet)
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return authFailure(ReasonNotYetValid, jwt.ErrTokenUsedBeforeIssued)
	case errors.Is(err, jwt.ErrInvalidType):
		return authFailure(ReasonInvalidClaims, jwt.ErrInvalidType)
	default:
		return authFailure(ReasonInvalid, jwt.ErrTokenInvalidClaims)
	}
}

func allowedAlgorithm(alg any) bool {
	switch alg {
	case "HS256", "HS384", "HS512":
		return true
	}
	return false
}
