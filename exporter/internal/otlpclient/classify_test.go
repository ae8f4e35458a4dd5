package otlpclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// TestClassify is the table of how export failures are sorted: retried as
// is, refused for their content (split and dead-lettered), or refused for
// the client's configuration (kept queued).
func TestClassify(t *testing.T) {
	withRetryInfo := func(c codes.Code, d time.Duration) error {
		st, err := status.New(c, "throttled").WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(d)})
		if err != nil {
			t.Fatal(err)
		}
		return st.Err()
	}
	wrap := func(err error) error { return &exportError{msg: "otlp traces export: " + err.Error(), err: err} }
	tests := []struct {
		name  string
		err   error
		class Class
		after time.Duration
	}{
		{"connection refused", wrap(errors.New("dial tcp: connection refused")), Transient, 0},
		{"timeout", wrap(context.DeadlineExceeded), Transient, 0},
		{"grpc Unavailable", wrap(status.Error(codes.Unavailable, "x")), Transient, 0},
		{"grpc DeadlineExceeded", wrap(status.Error(codes.DeadlineExceeded, "x")), Transient, 0},
		{"grpc ResourceExhausted with RetryInfo", wrap(withRetryInfo(codes.ResourceExhausted, 3*time.Second)), Transient, 3 * time.Second},
		{"grpc Unavailable with RetryInfo", wrap(withRetryInfo(codes.Unavailable, time.Second)), Transient, time.Second},
		{"grpc Internal", wrap(status.Error(codes.Internal, "x")), Transient, 0},
		{"grpc ResourceExhausted (message too large)", wrap(status.Error(codes.ResourceExhausted, "grpc: received message larger than max")), Refused, 0},
		{"grpc InvalidArgument", wrap(status.Error(codes.InvalidArgument, "x")), Refused, 0},
		{"grpc FailedPrecondition", wrap(status.Error(codes.FailedPrecondition, "x")), Refused, 0},
		{"grpc Unauthenticated", wrap(status.Error(codes.Unauthenticated, "x")), Misconfigured, 0},
		{"grpc PermissionDenied", wrap(status.Error(codes.PermissionDenied, "x")), Misconfigured, 0},
		{"grpc Unimplemented", wrap(status.Error(codes.Unimplemented, "x")), Misconfigured, 0},
		{"grpc NotFound", wrap(status.Error(codes.NotFound, "x")), Misconfigured, 0},
		{"http 429 Retry-After", wrap(&HTTPError{StatusCode: 429, RetryAfter: 5 * time.Second}), Transient, 5 * time.Second},
		{"http 502", wrap(&HTTPError{StatusCode: 502}), Transient, 0},
		{"http 503 Retry-After", wrap(&HTTPError{StatusCode: 503, RetryAfter: time.Second}), Transient, time.Second},
		{"http 504", wrap(&HTTPError{StatusCode: 504}), Transient, 0},
		{"http 500", wrap(&HTTPError{StatusCode: 500}), Transient, 0},
		{"http 408", wrap(&HTTPError{StatusCode: 408}), Transient, 0},
		{"http 400", wrap(&HTTPError{StatusCode: 400}), Refused, 0},
		{"http 413", wrap(&HTTPError{StatusCode: http.StatusRequestEntityTooLarge}), Refused, 0},
		{"http 422", wrap(&HTTPError{StatusCode: 422}), Refused, 0},
		{"http 401", wrap(&HTTPError{StatusCode: 401}), Misconfigured, 0},
		{"http 403", wrap(&HTTPError{StatusCode: 403}), Misconfigured, 0},
		{"http 404", wrap(&HTTPError{StatusCode: 404}), Misconfigured, 0},
		{"after Shutdown", fmt.Errorf("x: %w", errShutdown), Misconfigured, 0},
	}
	for _, tc := range tests {
		class, after := Classify(tc.err)
		if class != tc.class || after != tc.after {
			t.Errorf("%s: Classify = %v, %v; want %v, %v", tc.name, class, after, tc.class, tc.after)
		}
		if retry, _ := Retryable(tc.err); retry != (tc.class == Transient) {
			t.Errorf("%s: Retryable = %v", tc.name, retry)
		}
	}
}
