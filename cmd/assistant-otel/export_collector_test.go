package main

// The export half of issue 12 against the real Collector with its default
// limits (a gRPC receiver taking at most 4 MiB per message): a poison event
// among ordinary ones, and a backlog of long turns after an outage, seen
// through a recording gRPC proxy that measures every request on the wire.

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"

	"github.com/assistant-otel/assistant-otel/internal/loadgen"
)

// rawMsg is a serialized message passed through the proxy as is.
type rawMsg struct{ b []byte }

type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(v.(*rawMsg).b)}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	v.(*rawMsg).b = data.Materialize()
	return nil
}

// grpcProxy forwards every unary gRPC call to a backend and records the
// size of each request, by method.
type grpcProxy struct {
	addr  string
	mu    sync.Mutex
	sizes map[string][]int
}

func startProxy(t *testing.T, backend string) *grpcProxy {
	t.Helper()
	conn, err := grpc.NewClient(backend, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(rawCodec{})))
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &grpcProxy{addr: lis.Addr().String(), sizes: map[string][]int{}}
	// The proxy takes anything, so that it measures what the service
	// sends; the Collector behind it applies its own limit.
	srv := grpc.NewServer(grpc.ForceServerCodecV2(rawCodec{}), grpc.MaxRecvMsgSize(256<<20),
		grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
			method, _ := grpc.MethodFromServerStream(stream)
			var req rawMsg
			if err := stream.RecvMsg(&req); err != nil {
				return err
			}
			p.mu.Lock()
			p.sizes[method] = append(p.sizes[method], len(req.b))
			p.mu.Unlock()
			var resp rawMsg
			if err := conn.Invoke(stream.Context(), method, &req, &resp); err != nil {
				return err
			}
			return stream.SendMsg(&resp)
		}))
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(func() { srv.Stop(); _ = conn.Close() })
	return p
}

func (p *grpcProxy) endpoint() string { return "http://" + p.addr }

// requests returns the sizes of the trace and logs requests seen.
func (p *grpcProxy) requests() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []int
	for m, s := range p.sizes {
		if strings.Contains(m, "TraceService") || strings.Contains(m, "LogsService") {
			out = append(out, s...)
		}
	}
	return out
}

// proxiedService starts serve with a spool, exporting through the proxy to
// the rig's Collector.
func (r *rig) proxiedService(t *testing.T, p *grpcProxy, args ...string) *process {
	t.Helper()
	env := cleanEnv(
		"ASSISTANT_OTEL_SECRET="+testSecret,
		"OTEL_EXPORTER_OTLP_ENDPOINT="+p.endpoint(),
		"OTEL_METRIC_EXPORT_INTERVAL=500",
		"ASSISTANT_OTEL_LOG_LEVEL=info",
	)
	return startService(t, env, append([]string{"--spool-dir", r.spool}, args...)...)
}

const collectorDefaultLimit = 4 << 20 // the gRPC receiver's default max_recv_msg_size_mib

// TestPoisonEventThroughCollector: one accepted event whose telemetry
// would be about 10 MB, among 200 ordinary ones, through serve → the real
// Collector (default limits) → the sink: all 200 arrive, the poison one
// arrives cut down and marked, no request is over the limit, nothing stalls.
func TestPoisonEventThroughCollector(t *testing.T) {
	r := newRig(t, true)
	proxy := startProxy(t, strings.TrimPrefix(r.col.endpoint(), "http://"))
	svc := r.proxiedService(t, proxy)
	events := loadgen.Make(r.tmpl, 200)
	poison := poisonEvent(t, r.tmpl[0])
	all := slices.Insert(slices.Clone(events), 100, poison)
	res := loadgen.Run(t.Context(), loadgen.Config{URL: svc.url, Secret: []byte(testSecret), Events: all, Concurrency: 8})
	if len(res.Acked) != len(all) {
		t.Fatalf("acked %d of %d (first error %v)", len(res.Acked), len(all), res.FirstError)
	}
	a := r.checkArrived(t, res.Acked, 60*time.Second)
	truncated := false
	for _, s := range r.sink.Spans() {
		if s.Attributes["gen_ai.response.id"] == poison.LogID && s.Attributes["assistant_otel.truncated"] == true {
			truncated = true
		}
	}
	if !truncated {
		t.Error("the poison event's span did not arrive marked assistant_otel.truncated")
	}
	sizes := proxy.requests()
	largest := slices.Max(sizes)
	if largest > collectorDefaultLimit {
		t.Errorf("a request of %d bytes went out (the Collector takes %d)", largest, collectorDefaultLimit)
	}
	deadline := time.Now().Add(15 * time.Second)
	for r.sink.CounterSum("assistant_otel.export.truncated") == 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	truncs := r.sink.CounterSum("assistant_otel.export.truncated")
	svc.stop(t)
	if truncs == 0 {
		t.Error("assistant_otel.export.truncated stayed 0")
	}
	t.Logf("poison event (%d-byte body, 600 entities × 4,000 chars) among 200: %d unique turns arrived, duplicates %d; %d requests, largest %d bytes; %v items truncated",
		len(poison.Body), len(a.spans), a.duplicates(), len(sizes), largest, truncs)
}

// longTurns returns n events with several 4,000-character answers each.
func longTurns(t *testing.T, tmpl []loadgen.Template, n int) []loadgen.Event {
	out := make([]loadgen.Event, n)
	for i := range out {
		out[i] = withPayload(t, tmpl[i%len(tmpl)], func(p map[string]any) {
			var generic []any
			for j := range 4 {
				generic = append(generic, map[string]any{"response_type": "text",
					"text": fmt.Sprintf("answer %d of turn %d: ", j, i) + strings.Repeat("lorem ipsum ", 333)})
			}
			output(p)["generic"] = generic
		})
	}
	return out
}

// TestBacklogUnderLimit: the Collector is down while 1,000 long turns are
// accepted, then comes up: every turn arrives, and every request on the
// wire stays under the limit.
func TestBacklogUnderLimit(t *testing.T) {
	r := newRig(t, false)
	proxy := startProxy(t, strings.TrimPrefix(r.col.endpoint(), "http://"))
	svc := r.proxiedService(t, proxy)
	events := longTurns(t, r.tmpl, 1000)
	res := loadgen.Run(t.Context(), loadgen.Config{URL: svc.url, Secret: []byte(testSecret), Events: events, Concurrency: 8})
	if len(res.Acked) != len(events) {
		t.Fatalf("acked %d of %d with the Collector down (first error %v)", len(res.Acked), len(events), res.FirstError)
	}
	bodies := 0
	for _, e := range events {
		bodies += len(e.Body)
	}
	r.col.start(t)
	start := time.Now()
	a := r.checkArrived(t, res.Acked, 120*time.Second)
	took := time.Since(start)
	svc.stop(t)
	sizes := proxy.requests()
	largest, over := 0, 0
	for _, n := range sizes {
		largest = max(largest, n)
		if n > 3<<20 {
			over++
		}
	}
	if over > 0 {
		t.Errorf("%d of %d requests over the 3 MiB default --max-request-bytes (largest %d)", over, len(sizes), largest)
	}
	if strings.Contains(svc.stderr.String(), "dead-letter store") {
		t.Error("events were dead-lettered")
	}
	t.Logf("backlog: 1,000 turns (%d bytes of bodies) accepted with the Collector down; all %d arrived %v after it came up, duplicates %d; %d trace/logs requests, largest %d bytes",
		bodies, len(a.spans), took.Round(time.Millisecond), a.duplicates(), len(sizes), largest)
}
