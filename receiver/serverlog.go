package receiver

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// MetricTLSHandshakeErrors counts failed TLS handshakes by reason (see
// tlsReason); NewServer records it with WithServerMeter.
const MetricTLSHandshakeErrors = "assistant_otel.tls.handshake_errors"

// Reasons of MetricTLSHandshakeErrors.
const (
	TLSReasonEOF                = "eof"                 // the client went away mid-handshake (scanners, health checks)
	TLSReasonNotTLS             = "not_tls"             // plain HTTP or other bytes on the TLS port
	TLSReasonUnsupportedVersion = "unsupported_version" // below TLS 1.2, or no common version
	TLSReasonNoCipher           = "no_cipher"           // no common cipher suite or curve
	TLSReasonClientAlert        = "client_alert"        // the client refused our certificate
	TLSReasonTimeout            = "timeout"             // too slow
	TLSReasonOther              = "other"
)

const tlsHandshakePrefix = "http: TLS handshake error from "

// tlsReason classifies the error text net/http logs after a failed
// handshake into a fixed set.
func tlsReason(msg string) string {
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "does not look like a tls handshake"):
		return TLSReasonNotTLS
	case strings.Contains(m, "version"):
		return TLSReasonUnsupportedVersion
	case strings.Contains(m, "cipher") || strings.Contains(m, "curve") || strings.Contains(m, "key share"):
		return TLSReasonNoCipher
	case strings.Contains(m, "remote error"):
		return TLSReasonClientAlert
	case strings.Contains(m, "timeout"):
		return TLSReasonTimeout
	case strings.Contains(m, "eof") || strings.Contains(m, "connection reset") || strings.Contains(m, "broken pipe"):
		return TLSReasonEOF
	}
	return TLSReasonOther
}

// serverLog is net/http's ErrorLog: a failed TLS handshake (which anyone
// who can reach the port causes) is counted by reason and logged at most
// once per reason per interval, with the count held back, its remote
// address and never the error text (it can quote the client's bytes).
// Other messages are logged as they are, at warn level.
type serverLog struct {
	log     *slog.Logger
	limit   *logLimiter
	counter metric.Int64Counter // nil: not counted
}

func (s *serverLog) Write(p []byte) (int, error) {
	msg := strings.TrimRight(string(p), "\n")
	rest, ok := strings.CutPrefix(msg, tlsHandshakePrefix)
	if !ok {
		s.log.Warn(msg)
		return len(p), nil
	}
	remote, cause, _ := strings.Cut(rest, ": ")
	reason := tlsReason(cause)
	if s.counter != nil {
		s.counter.Add(context.Background(), 1, metric.WithAttributes(attribute.String(AttrReason, reason)))
	}
	if ok, suppressed := s.limit.allow(reason); ok {
		s.log.Warn("TLS handshake failed", "reason", reason, "remote", remoteIP(remote), "suppressed", suppressed)
	}
	return len(p), nil
}

// remoteIP is the peer's IP address of a "host:port", or a fingerprint of
// whatever else net/http wrote there.
func remoteIP(hostport string) string {
	host, _, err := net.SplitHostPort(hostport)
	if ip := net.ParseIP(host); err == nil && ip != nil {
		return ip.String()
	}
	return logSafe("\x00" + hostport)
}

func newServerLog(l *slog.Logger, every time.Duration, now func() time.Time, m metric.Meter) (*log.Logger, error) {
	s := &serverLog{log: l, limit: newLogLimiter(every, now)}
	if m != nil {
		c, err := m.Int64Counter(MetricTLSHandshakeErrors,
			metric.WithUnit("{handshake}"),
			metric.WithDescription("Failed TLS handshakes, by reason."))
		if err != nil {
			return nil, fmt.Errorf("receiver: create %s: %w", MetricTLSHandshakeErrors, err)
		}
		s.counter = c
	}
	return log.New(s, "", 0), nil
}
