package otlpclient

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/assistant-otel/assistant-otel/internal/otlptest"
	"github.com/assistant-otel/assistant-otel/internal/testpki"
)

// secretHeader is a header whose value must never show in errors.
const (
	secretKey   = "Api-Key"
	secretValue = "s3cr3t-token-value"
)

// envOf returns a getenv over m.
func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// lastRequest returns the last request srv kept (otlptest.KeepRequests),
// its body decoded into m unless m is nil.
func lastRequest(t testing.TB, srv *otlptest.Server, m proto.Message) otlptest.Request {
	t.Helper()
	got := srv.Received()
	if len(got) == 0 {
		t.Fatal("the server got no request")
	}
	r := got[len(got)-1]
	if m != nil {
		if err := proto.Unmarshal(r.Body, m); err != nil {
			t.Fatalf("the server got a request that does not decode: %v", err)
		}
	}
	return r
}

// traceRequest returns an ExportTraceServiceRequest of n spans and its
// serialization.
func traceRequest(t testing.TB, n int) (*coltracepb.ExportTraceServiceRequest, []byte) {
	t.Helper()
	spans := make([]*tracepb.Span, n)
	for i := range spans {
		spans[i] = &tracepb.Span{
			TraceId:           []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, byte(i)},
			SpanId:            []byte{1, 2, 3, 4, 5, 6, 7, byte(i)},
			Name:              fmt.Sprintf("conversation turn %d", i),
			StartTimeUnixNano: uint64(1e18) + uint64(i),
			EndTimeUnixNano:   uint64(1e18) + uint64(i) + 1000,
			Attributes: []*commonpb.KeyValue{{
				Key:   "watson.intent",
				Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: "greeting"}},
			}},
		}
	}
	req := &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
		Resource:   &resourcepb.Resource{Attributes: []*commonpb.KeyValue{{Key: "service.name", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: "assistant-otel"}}}}},
		ScopeSpans: []*tracepb.ScopeSpans{{Scope: &commonpb.InstrumentationScope{Name: "test"}, Spans: spans}},
	}}}
	b, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return req, b
}

// logsRequest returns an ExportLogsServiceRequest of n records and its
// serialization.
func logsRequest(t testing.TB, n int) (*collogspb.ExportLogsServiceRequest, []byte) {
	t.Helper()
	records := make([]*logspb.LogRecord, n)
	for i := range records {
		records[i] = &logspb.LogRecord{
			TimeUnixNano: uint64(1e18) + uint64(i),
			SeverityText: "INFO",
			Body:         &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: fmt.Sprintf("user said hello %d", i)}},
		}
	}
	req := &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{
		ScopeLogs: []*logspb.ScopeLogs{{Scope: &commonpb.InstrumentationScope{Name: "test"}, LogRecords: records}},
	}}}
	b, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return req, b
}

// pki is a test CA with a server certificate for 127.0.0.1 and localhost
// and a client certificate, written as PEM files.
type pki struct {
	dir                   string
	caFile                string
	serverCert, serverKey string
	clientCert, clientKey string
	otherCert, otherKey   string // a second client pair
	server                tls.Certificate
	pool                  *x509.CertPool
	clientDER, otherDER   []byte
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	ca := testpki.NewCA(t)
	p := &pki{dir: t.TempDir(), pool: ca.Pool}
	p.caFile = p.write(t, "ca.pem", ca.PEM())
	pair := func(name string, certPEM, keyPEM []byte) (certFile, keyFile string, cert tls.Certificate) {
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		return p.write(t, name+".pem", certPEM), p.write(t, name+"-key.pem", keyPEM), cert
	}
	c, k := ca.Server(t, 2)
	p.serverCert, p.serverKey, p.server = pair("server", c, k)
	c, k = ca.Client(t, 3, "client")
	p.clientCert, p.clientKey, _ = pair("client", c, k)
	p.clientDER = mustDER(t, c)
	c, k = ca.Client(t, 4, "other")
	p.otherCert, p.otherKey, _ = pair("other", c, k)
	p.otherDER = mustDER(t, c)
	return p
}

// mustDER returns the DER of a PEM certificate.
func mustDER(t *testing.T, certPEM []byte) []byte {
	t.Helper()
	b, _ := pem.Decode(certPEM)
	if b == nil {
		t.Fatal("no PEM block")
	}
	return b.Bytes
}

func (p *pki) write(t *testing.T, name string, data []byte) string {
	t.Helper()
	file := filepath.Join(p.dir, name)
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// serverTLS returns the server side TLS configuration; with mutual, client
// certificates of the CA are required.
func (p *pki) serverTLS(mutual bool) *tls.Config {
	c := &tls.Config{Certificates: []tls.Certificate{p.server}, MinVersion: tls.VersionTLS12}
	if mutual {
		c.ClientAuth = tls.RequireAndVerifyClientCert
		c.ClientCAs = p.pool
	}
	return c
}
