package exporter

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/otel/attribute"
	promexporter "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
)

// InstanceIDLabel is the Prometheus label of service.instance.id: every
// series of the Prometheus pull endpoint carries it, as every series the
// Collector path delivers does (deploy/prometheus/prometheus.yml), so the
// alert rules' `max by (service_instance_id, …)` merges the two paths.
const InstanceIDLabel = "service_instance_id"

// WithPrometheus adds a second metric reader to the MeterProvider, in
// addition to the one of OTEL_METRICS_EXPORTER (OTLP by default): the
// service's own metrics are registered in reg, under the names the
// Collector's prometheus exporter gives them (UnderscoreEscapingWithSuffixes:
// assistant_otel_export_errors_total, …), each series labelled
// service_instance_id. The Go runtime and process collectors of
// client_golang are registered in reg too, with the same label. Serve reg
// with promhttp.HandlerFor.
func WithPrometheus(reg *prometheus.Registry) Option {
	return func(o *options) { o.prometheus = reg }
}

// newPrometheusReader registers the pull reader and the runtime collectors
// in reg for a MeterProvider with resource res.
func newPrometheusReader(reg *prometheus.Registry, res *resource.Resource) (sdkmetric.Reader, error) {
	id, _ := res.Set().Value(attribute.Key(InstanceIDKey))
	reader, err := promexporter.New(
		promexporter.WithRegisterer(reg),
		promexporter.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes),
		promexporter.WithResourceAsConstantLabels(attribute.NewAllowKeysFilter(attribute.Key(InstanceIDKey))),
	)
	if err != nil {
		return nil, fmt.Errorf("prometheus reader: %w", err)
	}
	labelled := prometheus.WrapRegistererWith(prometheus.Labels{InstanceIDLabel: id.String()}, reg)
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := labelled.Register(c); err != nil {
			return nil, fmt.Errorf("prometheus runtime collectors: %w", err)
		}
	}
	return reader, nil
}

// ServeMetrics serves GET /metrics (Prometheus exposition of reg) on addr
// until ctx ends. It calls up with the endpoint's URL once it listens, and
// returns an error if it cannot listen, nil after ctx ends.
func ServeMetrics(ctx context.Context, addr string, reg *prometheus.Registry, up func(url string)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics endpoint: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Timeout: 10 * time.Second}))
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    16 << 10,
	}
	if up != nil {
		up("http://" + ln.Addr().String() + "/metrics")
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("metrics endpoint: %w", err)
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
		return nil
	}
}
