package otlpclient

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
)

// The Export methods of the OTLP collector services.
const (
	traceExportMethod = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
	logsExportMethod  = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
)

// reconnect caps gRPC's reconnection backoff (default up to 2 min) at 5 s,
// so that exports resume soon after the Collector comes back.
var reconnect = grpc.ConnectParams{
	Backoff:           backoff.Config{BaseDelay: 500 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 5 * time.Second},
	MinConnectTimeout: 5 * time.Second,
}

func (c *Client) initGRPC() error {
	creds := insecure.NewCredentials()
	if c.cfg.TLS != nil || !c.cfg.Insecure {
		// TLS settings win over Insecure, as in the SDK; nil means the
		// system roots.
		creds = credentials.NewTLS(c.cfg.TLS)
	}
	conn, err := grpc.NewClient(c.cfg.Endpoint,
		grpc.WithTransportCredentials(creds),
		grpc.WithConnectParams(reconnect),
		grpc.WithUserAgent(userAgent),
	)
	if err != nil {
		return err
	}
	c.conn = conn
	c.method = traceExportMethod
	if c.cfg.Signal == Logs {
		c.method = logsExportMethod
	}
	if len(c.cfg.Headers) > 0 {
		c.md = metadata.New(c.cfg.Headers)
	}
	c.callOpts = []grpc.CallOption{grpc.ForceCodecV2(rawCodec{})}
	if c.cfg.Compression == "gzip" {
		c.callOpts = append(c.callOpts, grpc.UseCompressor(gzip.Name))
	}
	return nil
}

func (c *Client) exportGRPC(ctx context.Context, request []byte) (Result, error) {
	if c.md != nil {
		md := c.md
		if out, ok := metadata.FromOutgoingContext(ctx); ok {
			md = metadata.Join(md, out)
		}
		ctx = metadata.NewOutgoingContext(ctx, md)
	}
	out := &outgoing{data: request, released: make(released)}
	var res Result
	err := c.conn.Invoke(ctx, c.method, out, &res, c.callOpts...)
	if out.marshaled { // else the call failed before gRPC took the request
		out.released.wait()
	}
	return res, err
}

// outgoing is a serialized request handed to gRPC. gRPC reads it through a
// reference-counted buffer and returns it to the pool (outgoing itself) when
// done, which closes released. Marshal runs on the goroutine of Invoke.
type outgoing struct {
	data      []byte
	marshaled bool
	released  released
}

// Get is never called: the buffer comes from the caller.
func (o *outgoing) Get(n int) *[]byte {
	b := make([]byte, n)
	return &b
}

// Put reports that gRPC no longer reads the request.
func (o *outgoing) Put(*[]byte) { close(o.released) }

// rawCodec passes serialized messages through: requests are *outgoing,
// responses are decoded into a *Result. Its empty name keeps the wire
// content-type application/grpc (a named codec would make it
// application/grpc+name).
type rawCodec struct{}

func (rawCodec) Name() string { return "" }

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	o, ok := v.(*outgoing)
	if !ok {
		return nil, fmt.Errorf("otlpclient: cannot marshal %T", v)
	}
	if o.marshaled || mem.IsBelowBufferPoolingThreshold(cap(o.data)) {
		// gRPC would not report the release of a small buffer (nor of a
		// second one): copy it.
		if !o.marshaled {
			o.marshaled = true
			close(o.released)
		}
		return mem.BufferSlice{mem.SliceBuffer(bytes.Clone(o.data))}, nil
	}
	o.marshaled = true
	return mem.BufferSlice{mem.NewBuffer(&o.data, o)}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	r, ok := v.(*Result)
	if !ok {
		return fmt.Errorf("otlpclient: cannot unmarshal into %T", v)
	}
	if data.Len() == 0 {
		return nil
	}
	var b []byte
	if len(data) == 1 {
		b = data[0].ReadOnlyData()
	} else {
		b = data.Materialize()
	}
	*r = decodeResponse(b)
	return nil
}
