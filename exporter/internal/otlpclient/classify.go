package otlpclient

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Class is what a failed export means for the data it carried, as the OTLP
// specification sorts failures.
type Class int

const (
	// Transient: the endpoint could not take the request now (unavailable,
	// timed out, throttled); the same request may succeed later.
	Transient Class = iota
	// Refused: the endpoint refused this request for what it holds (too
	// large, invalid); resending it as is would be refused again, another
	// request would not.
	Refused
	// Misconfigured: the endpoint refuses every request of this client
	// (not authenticated, not allowed, wrong path or service); nothing will
	// succeed until the configuration is fixed.
	Misconfigured
)

func (c Class) String() string {
	switch c {
	case Transient:
		return "transient"
	case Refused:
		return "refused"
	case Misconfigured:
		return "misconfigured"
	}
	return "unknown"
}

// Classify sorts an Export error and returns the delay the server asked for
// (RetryInfo, Retry-After), if any.
//
//   - gRPC: Canceled, DeadlineExceeded, Aborted, OutOfRange, Unavailable,
//     DataLoss and ResourceExhausted with a RetryInfo are transient, as in
//     the specification; Unknown and Internal too (a server fault, not the
//     data's). Unauthenticated, PermissionDenied, Unimplemented and
//     NotFound are misconfiguration. The rest (InvalidArgument,
//     ResourceExhausted without RetryInfo, as gRPC's own message size
//     limit answers, FailedPrecondition, …) refuse the request.
//   - OTLP/HTTP: 429, 502, 503, 504 and 408 are transient, and so is any
//     other 5xx and any failure to get a response at all (connection
//     refused, timeout). 401, 403, 404, 405 and 407 are misconfiguration.
//     Any other 4xx (400, 413, 422, …) refuses the request.
//
// An export after Shutdown is misconfiguration: it will never succeed.
func Classify(err error) (Class, time.Duration) {
	if errors.Is(err, errShutdown) {
		return Misconfigured, 0
	}
	var he *HTTPError
	if errors.As(err, &he) {
		switch c := he.StatusCode; {
		case c == http.StatusUnauthorized, c == http.StatusForbidden, c == http.StatusNotFound,
			c == http.StatusMethodNotAllowed, c == http.StatusProxyAuthRequired:
			return Misconfigured, 0
		case c == http.StatusRequestTimeout, c == http.StatusTooManyRequests, c >= 500:
			return Transient, he.RetryAfter
		case c >= 400:
			return Refused, 0
		}
		return Transient, he.RetryAfter // 1xx, 3xx: not an OTLP answer
	}
	st, ok := status.FromError(err)
	if !ok {
		return Transient, 0 // no response
	}
	delay, hasDelay := retryDelay(st)
	switch st.Code() {
	case codes.Canceled, codes.DeadlineExceeded, codes.Aborted, codes.OutOfRange, codes.Unavailable,
		codes.DataLoss, codes.Unknown, codes.Internal:
		return Transient, delay
	case codes.ResourceExhausted:
		if hasDelay {
			return Transient, delay
		}
		return Refused, 0
	case codes.Unauthenticated, codes.PermissionDenied, codes.Unimplemented, codes.NotFound:
		return Misconfigured, 0
	}
	return Refused, 0
}

// Retryable reports whether an Export error is worth retrying as is and the
// delay the server asked for, if any: the Transient class of Classify.
func Retryable(err error) (retry bool, after time.Duration) {
	if err == nil {
		return false, 0
	}
	c, after := Classify(err)
	return c == Transient, after
}

// Reason names a failure in a word, fit for a metric attribute: http_413,
// grpc_invalid_argument, or network without an answer.
func Reason(err error) string {
	var he *HTTPError
	if errors.As(err, &he) {
		return "http_" + strconv.Itoa(he.StatusCode)
	}
	if errors.Is(err, errShutdown) {
		return "shutdown"
	}
	if st, ok := status.FromError(err); ok {
		return "grpc_" + snake(st.Code().String())
	}
	return "network"
}

// snake turns a gRPC code name (InvalidArgument) into invalid_argument.
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
