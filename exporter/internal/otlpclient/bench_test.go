package otlpclient

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/mem"
)

// discardCodec is a server codec that neither decodes requests nor encodes
// responses, so that benchmarks measure the client.
type discardCodec struct{}

func (discardCodec) Name() string                         { return "proto" }
func (discardCodec) Marshal(any) (mem.BufferSlice, error) { return nil, nil }
func (discardCodec) Unmarshal(mem.BufferSlice, any) error { return nil }

// BenchmarkExport measures Export of a 100 KB request against servers that
// discard it.
func BenchmarkExport(b *testing.B) {
	_, req := traceRequest(b, 1000)

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	gs := grpc.NewServer(grpc.ForceServerCodecV2(discardCodec{}), grpc.UnknownServiceHandler(func(_ any, s grpc.ServerStream) error {
		var m struct{}
		if err := s.RecvMsg(&m); err != nil {
			return err
		}
		return s.SendMsg(&m)
	}))
	go func() { _ = gs.Serve(lis) }()
	b.Cleanup(gs.Stop)
	hs := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }))
	b.Cleanup(hs.Close)

	for _, bc := range []struct{ name, protocol, endpoint, compression string }{
		{"grpc", "grpc", "http://" + lis.Addr().String(), "none"},
		{"grpc-gzip", "grpc", "http://" + lis.Addr().String(), "gzip"},
		{"http", "http/protobuf", hs.URL, "none"},
		{"http-gzip", "http/protobuf", hs.URL, "gzip"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := newClient(b, Traces, map[string]string{gn + "PROTOCOL": bc.protocol, gn + "ENDPOINT": bc.endpoint, gn + "COMPRESSION": bc.compression})
			b.SetBytes(int64(len(req)))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := c.Export(context.Background(), req); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
