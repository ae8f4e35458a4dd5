// Package exporter turns the telemetry values of package mapping into
// OpenTelemetry SDK spans, log records and metric recordings, and exports
// them.
//
// New builds the three SDK providers from the standard OTEL_* environment
// (OTLP over gRPC by default, or http/protobuf; console; none), with a
// resource naming the service, batch processors that never block the caller
// (or, WithSynchronous, an acknowledged path: Build, Send, FlushMetrics; see
// sync.go), an id generator that gives every span the trace and span id mapping chose,
// and a sampler that keeps or drops whole conversations. When no OTLP
// endpoint and no exporter is configured at all, telemetry is written to the
// console in a readable form instead.
//
// In synchronous mode, traces and logs bound for OTLP skip the SDK's span
// and record objects: each span and log record is encoded on its own,
// bounded in size, into OTLP protobuf, and sent in requests of at most
// WithMaxRequestBytes by an OTLP client of this package's own (wire.go),
// which sends what the SDK would send (tested against it). Send sorts
// failures as the OTLP specification does: an event the endpoint refuses
// for its content is narrowed down and set aside (Batch.DeadLetters), the
// rest is returned as *SendError (FailureOf). The SDK's OTLP span and log
// exporters remain only as the tests' reference and for the asynchronous
// mode; the console goes through the SDK.
//
// Imports: it may import mapping (the values it exports) and its internal
// otlpwire and otlpclient; never the receiver, the spool or the pump, which
// call it.
package exporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	grpcbackoff "google.golang.org/grpc/backoff"

	"github.com/assistant-otel/assistant-otel/exporter/internal/otlpwire"
	"github.com/assistant-otel/assistant-otel/mapping"
)

// ScopeName is the instrumentation scope of everything this service emits.
const ScopeName = "github.com/assistant-otel/assistant-otel"

// DefaultServiceName is the service.name unless OTEL_SERVICE_NAME or
// OTEL_RESOURCE_ATTRIBUTES says otherwise.
const DefaultServiceName = "assistant-otel"

// consoleMetricInterval is the metric export interval on the console unless
// OTEL_METRIC_EXPORT_INTERVAL is set.
const consoleMetricInterval = 10 * time.Second

// Exporter owns the SDK providers and records mapping's telemetry with them.
// Its methods are safe for concurrent use.
type Exporter struct {
	tp *sdktrace.TracerProvider
	lp *sdklog.LoggerProvider
	mp *sdkmetric.MeterProvider

	tracer      trace.Tracer
	logger      otellog.Logger
	meter       metric.Meter
	instruments map[mapping.Instrument]instrument
	sampler     sdktrace.Sampler

	log         *slog.Logger
	description string

	instanceID, instanceIDSource string // the resource's service.instance.id (instance.go)

	// Synchronous mode (WithSynchronous): spans and log records are
	// collected by Build and exported by Send, with these exporters.
	sync      *syncParts
	failures  *exportFailures
	noMetrics bool // no metric reader: FlushMetrics has nothing to do
	truncs    metric.Int64Counter
	labels    *labelBound // bounds the intent and action labels (labels.go)
	handoffs  *handoffs   // conversations with a hand-off (handoffs.go)
	// measureOpts keeps the attribute sets of the measurements (attrsets.go).
	measureOpts *measureOptions
}

// instrument is the SDK instrument of one mapping.Instrument: a counter or a
// histogram.
type instrument struct {
	counter   metric.Float64Counter
	histogram metric.Float64Histogram
}

// Option configures New.
type Option func(*options)

type options struct {
	serviceVersion string
	logger         *slog.Logger
	console        io.Writer
	resourceAttrs  []attribute.KeyValue
	synchronous    bool
	sdkOnly        bool // synchronous mode without the wire path (tests compare the two)
	maxRequest     int
	instanceIDDir  string // where service.instance.id is kept (instance.go)
	metricIntents  []string
	labelLimit     int
	consoleFormat  string
	prometheus     *prometheus.Registry // WithPrometheus: a second, pull, metric reader
}

// DefaultMaxRequestBytes is the default bound of one OTLP export request:
// under the 4 MiB a Collector's gRPC receiver takes by default, with room.
const DefaultMaxRequestBytes = 3 << 20

// MinMaxRequestBytes is the smallest request bound WithMaxRequestBytes
// takes: a few spans or records fit in it whatever their size.
const MinMaxRequestBytes = 16 << 10

// TruncatedAttr is the attribute (true) of a span or log record cut down to
// fit the request size limit.
const TruncatedAttr = otlpwire.TruncatedKey

// maxItemBytes bounds one span or log record when requests may be larger.
const maxItemBytes = 1 << 20

// WithServiceVersion sets the service.version resource attribute and the
// instrumentation scope version.
func WithServiceVersion(v string) Option { return func(o *options) { o.serviceVersion = v } }

// WithLogger sets the logger for the exporter's own messages, such as failed
// exports (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithConsole sets where console telemetry is written (default os.Stdout).
func WithConsole(w io.Writer) Option { return func(o *options) { o.console = w } }

// WithResourceAttributes adds resource attributes. OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES override them.
func WithResourceAttributes(attrs ...attribute.KeyValue) Option {
	return func(o *options) { o.resourceAttrs = append(o.resourceAttrs, attrs...) }
}

// WithSynchronous builds an Exporter for acknowledged export: Build, Send
// and FlushMetrics instead of Export, and OTLP exporters without their own
// retries (the caller retries, see Send).
func WithSynchronous() Option { return func(o *options) { o.synchronous = true } }

// WithMaxRequestBytes bounds the size of one OTLP export request of the
// synchronous path (default DefaultMaxRequestBytes, at least
// MinMaxRequestBytes): a batch is sent in as many requests as it takes, and
// one span or log record is cut down to fit (see Send).
func WithMaxRequestBytes(n int) Option {
	return func(o *options) { o.maxRequest = max(n, MinMaxRequestBytes) }
}

// WithConsoleFormat sets how the console shows telemetry: ConsoleDetail
// (the default: every span, log record and metric) or ConsoleTranscript.
func WithConsoleFormat(f string) Option { return func(o *options) { o.consoleFormat = f } }

// WithMetricLabels bounds the intent and action labels of the metrics:
// intents not in intents (when given) and, without that list, intents and
// actions beyond the first limit distinct values (default
// DefaultMetricLabelLimit) are labelled "other".
func WithMetricLabels(intents []string, limit int) Option {
	return func(o *options) { o.metricIntents, o.labelLimit = intents, limit }
}

// New builds the tracer, logger and meter providers from the environment and
// creates the instruments of every mapping.Instrument. It does not connect
// to the backend: OTLP exporters connect lazily. Call Shutdown when done.
func New(ctx context.Context, opts ...Option) (*Exporter, error) {
	o := options{logger: slog.Default(), console: os.Stdout, maxRequest: DefaultMaxRequestBytes}
	for _, opt := range opts {
		opt(&o)
	}

	sampler, samplerName, err := samplerFromEnv()
	if err != nil {
		return nil, fmt.Errorf("exporter: sampler: %w", err)
	}
	cfg, err := exportConfigFromEnv()
	if err != nil {
		return nil, fmt.Errorf("exporter: %w", err)
	}
	instanceID, instanceIDSource, err := resolveInstanceID(ctx, o.instanceIDDir, os.Getenv, o.logger)
	if err != nil {
		return nil, fmt.Errorf("exporter: %s: %w", InstanceIDKey, err)
	}
	res, err := newResource(ctx, o, instanceID)
	if err != nil {
		return nil, fmt.Errorf("exporter: resource: %w", err)
	}

	failures := newExportFailures(o.logger)
	con := newConsole(o.console, o.consoleFormat)
	reader, err := newMetricReader(ctx, cfg.metrics(), con, failures, o.synchronous)
	if err != nil {
		return nil, fmt.Errorf("exporter: metrics: %w", err)
	}
	p := parts{
		resource:    res,
		instanceID:  [2]string{instanceID, instanceIDSource},
		sampler:     sampler,
		description: cfg.describe(samplerName),
		failures:    failures,
		metrics:     reader,
	}
	if o.synchronous && !o.sdkOnly && cfg.wireable() {
		if p.wireTraces, err = newWireSenderOf(cfg.traces()); err != nil {
			return nil, errors.Join(fmt.Errorf("exporter: traces: %w", err), shutdownAll(ctx, reader))
		}
		if p.wireLogs, err = newWireSenderOf(cfg.logs()); err != nil {
			return nil, errors.Join(fmt.Errorf("exporter: logs: %w", err), shutdownAll(ctx, reader, p.wireTraces))
		}
		// The other signal may go to the console, through the SDK.
		if cfg.traces().output == outputConsole {
			p.spans = consoleSpanExporter{con}
		}
		if cfg.logs().output == outputConsole {
			p.logs = consoleLogExporter{con}
		}
		p.wire = true
		return assemble(ctx, o, p)
	}
	if p.spans, err = newSpanExporter(ctx, cfg.traces(), con, o.synchronous); err != nil {
		return nil, errors.Join(fmt.Errorf("exporter: traces: %w", err), shutdownAll(ctx, reader))
	}
	if p.logs, err = newLogExporter(ctx, cfg.logs(), con, o.synchronous); err != nil {
		return nil, errors.Join(fmt.Errorf("exporter: logs: %w", err), shutdownAll(ctx, reader, p.spans))
	}
	return assemble(ctx, o, p)
}

// parts are what an Exporter is assembled from. The exporters and the
// reader may be nil (the signal goes nowhere); the metric reader already
// counts its own export failures.
type parts struct {
	resource    *resource.Resource
	instanceID  [2]string // service.instance.id and its source
	sampler     sdktrace.Sampler
	description string
	failures    *exportFailures
	spans       sdktrace.SpanExporter
	logs        sdklog.Exporter
	metrics     sdkmetric.Reader
	// wire selects the wire path of synchronous mode (wire.go): spans and
	// log records go to wireTraces and wireLogs (nil: nowhere) instead of
	// spans and logs.
	wire                 bool
	wireTraces, wireLogs requestSender
}

// assemble builds the providers and the instruments.
func assemble(ctx context.Context, o options, p parts) (*Exporter, error) {
	e := &Exporter{sampler: p.sampler, log: o.logger, description: p.description, failures: p.failures, noMetrics: p.metrics == nil,
		instanceID: p.instanceID[0], instanceIDSource: p.instanceID[1],
		labels: newLabelBound(o.metricIntents, o.labelLimit, o.logger), measureOpts: newMeasureOptions()}

	mpOpts := []sdkmetric.Option{sdkmetric.WithResource(p.resource)}
	if p.metrics != nil {
		mpOpts = append(mpOpts, sdkmetric.WithReader(p.metrics))
	}
	if o.prometheus != nil {
		pull, err := newPrometheusReader(o.prometheus, p.resource)
		if err != nil {
			return nil, errors.Join(err, shutdownAll(ctx, p.metrics, p.spans, p.logs))
		}
		mpOpts = append(mpOpts, sdkmetric.WithReader(pull))
	}
	e.mp = sdkmetric.NewMeterProvider(mpOpts...)
	e.meter = e.mp.Meter(ScopeName, metric.WithInstrumentationVersion(o.serviceVersion))

	tpOpts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(p.resource),
		sdktrace.WithSampler(p.sampler),
		sdktrace.WithIDGenerator(idGenerator{}),
	}
	if o.synchronous {
		e.sync = &syncParts{}
		if p.wire {
			enc := otlpwire.NewEncoder(p.resource, ScopeName, o.serviceVersion, spanLimits(), logLimits())
			e.sync.wire = &wireParts{
				enc:        enc,
				traces:     p.wireTraces,
				logs:       p.wireLogs,
				maxRequest: o.maxRequest,
				itemBound:  min(o.maxRequest-enc.Overhead(), maxItemBytes),
			}
		}
		if p.spans != nil {
			e.sync.spanExp = countingSpanExporter{p.spans, p.failures}
			tpOpts = append(tpOpts, sdktrace.WithSpanProcessor(&e.sync.spans))
		}
		if p.logs != nil {
			e.sync.logExp = countingLogExporter{p.logs, p.failures}
		}
	} else if p.spans != nil {
		tpOpts = append(tpOpts, sdktrace.WithBatcher(countingSpanExporter{p.spans, p.failures}))
	}
	e.tp = sdktrace.NewTracerProvider(tpOpts...)
	e.tracer = e.tp.Tracer(ScopeName, trace.WithInstrumentationVersion(o.serviceVersion))

	// Key deduplication is done once per record in emitLog: the SDK's own
	// rebuilds an index of the record's attributes for every attribute it
	// adds (a map per attribute), which cost ~10% of the export path.
	lpOpts := []sdklog.LoggerProviderOption{sdklog.WithResource(p.resource), sdklog.WithAllowKeyDuplication()}
	switch {
	case e.sync != nil && p.logs != nil:
		lpOpts = append(lpOpts, sdklog.WithProcessor(&e.sync.logs))
	case p.logs != nil:
		lpOpts = append(lpOpts, sdklog.WithProcessor(sdklog.NewBatchProcessor(countingLogExporter{p.logs, p.failures})))
	}
	e.lp = sdklog.NewLoggerProvider(lpOpts...)
	e.logger = e.lp.Logger(ScopeName, otellog.WithInstrumentationVersion(o.serviceVersion))

	if err := e.createInstruments(p.failures); err != nil {
		return nil, errors.Join(fmt.Errorf("exporter: %w", err), e.Shutdown(ctx))
	}
	return e, nil
}

// shutdownAll shuts down what was built before a later step failed.
func shutdownAll(ctx context.Context, parts ...interface{ Shutdown(context.Context) error }) error {
	var errs []error
	for _, p := range parts {
		if p != nil {
			errs = append(errs, p.Shutdown(ctx))
		}
	}
	return errors.Join(errs...)
}

func newResource(ctx context.Context, o options, instanceID string) (*resource.Resource, error) {
	base := []attribute.KeyValue{attribute.String("service.name", DefaultServiceName)}
	if instanceID != "" {
		base = append(base, attribute.String(InstanceIDKey, instanceID))
	}
	if o.serviceVersion != "" {
		base = append(base, attribute.String("service.version", o.serviceVersion))
	}
	// Later sources override earlier ones: the environment wins. No schema
	// URL is set here, so none can conflict with the SDK's.
	return resource.New(ctx,
		resource.WithAttributes(base...),
		resource.WithAttributes(o.resourceAttrs...),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
	)
}

// quickReconnect caps gRPC's reconnection backoff (default up to 2 min) at
// 5 s, so that exports resume soon after the endpoint comes back.
var quickReconnect = grpc.WithConnectParams(grpc.ConnectParams{
	Backoff:           grpcbackoff.Config{BaseDelay: 500 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 5 * time.Second},
	MinConnectTimeout: 5 * time.Second,
})

// newSpanExporter returns the span exporter of the configuration, or nil
// when traces go nowhere.
func newSpanExporter(ctx context.Context, s signalConfig, con *console, synchronous bool) (sdktrace.SpanExporter, error) {
	switch {
	case s.output == outputConsole:
		return consoleSpanExporter{con}, nil
	case s.output == outputNone:
		return nil, nil
	case s.output == outputOTLP && synchronous && s.protocol == protocolHTTP:
		return otlptracehttp.New(ctx, otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}))
	case s.output == outputOTLP && synchronous:
		return otlptracegrpc.New(ctx, otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}),
			otlptracegrpc.WithDialOption(quickReconnect))
	case s.output == outputOTLP && !s.protocolSet:
		return otlptracegrpc.New(ctx) // autoexport's default protocol is http/protobuf
	}
	exp, err := autoexport.NewSpanExporter(ctx)
	if err != nil {
		return nil, err
	}
	if autoexport.IsNoneSpanExporter(exp) {
		return nil, nil
	}
	return exp, nil
}

// newLogExporter returns the log exporter of the configuration, or nil when
// logs go nowhere.
func newLogExporter(ctx context.Context, s signalConfig, con *console, synchronous bool) (sdklog.Exporter, error) {
	switch {
	case s.output == outputConsole:
		return consoleLogExporter{con}, nil
	case s.output == outputNone:
		return nil, nil
	case s.output == outputOTLP && synchronous && s.protocol == protocolHTTP:
		return otlploghttp.New(ctx, otlploghttp.WithRetry(otlploghttp.RetryConfig{Enabled: false}))
	case s.output == outputOTLP && synchronous:
		return otlploggrpc.New(ctx, otlploggrpc.WithRetry(otlploggrpc.RetryConfig{Enabled: false}),
			otlploggrpc.WithDialOption(quickReconnect))
	case s.output == outputOTLP && !s.protocolSet:
		return otlploggrpc.New(ctx)
	}
	exp, err := autoexport.NewLogExporter(ctx)
	if err != nil {
		return nil, err
	}
	if autoexport.IsNoneLogExporter(exp) {
		return nil, nil
	}
	return exp, nil
}

// newMetricReader returns the metric reader of the configuration, or nil
// when metrics go nowhere. Push exporters are built here, not by autoexport,
// so that their failures can be counted.
func newMetricReader(ctx context.Context, s signalConfig, con *console, failures *exportFailures, synchronous bool) (sdkmetric.Reader, error) {
	var exp sdkmetric.Exporter
	var readerOpts []sdkmetric.PeriodicReaderOption
	switch s.output {
	case outputNone:
		return nil, nil
	case outputConsole:
		exp = consoleMetricExporter{con}
		if getenv(envMetricInterval) == "" {
			readerOpts = append(readerOpts, sdkmetric.WithInterval(consoleMetricInterval))
		}
	case outputOTLP:
		var err error
		switch {
		case s.protocol == protocolHTTP && synchronous:
			exp, err = otlpmetrichttp.New(ctx, otlpmetrichttp.WithRetry(otlpmetrichttp.RetryConfig{Enabled: false}))
		case s.protocol == protocolHTTP:
			exp, err = otlpmetrichttp.New(ctx)
		case synchronous:
			exp, err = otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithRetry(otlpmetricgrpc.RetryConfig{Enabled: false}),
				otlpmetricgrpc.WithDialOption(quickReconnect))
		default:
			exp, err = otlpmetricgrpc.New(ctx)
		}
		if err != nil {
			return nil, err
		}
	default: // e.g. prometheus: a pull reader with nothing to count
		r, err := autoexport.NewMetricReader(ctx)
		if err != nil {
			return nil, err
		}
		if autoexport.IsNoneMetricReader(r) {
			return nil, nil
		}
		return r, nil
	}
	// The periodic reader reads OTEL_METRIC_EXPORT_INTERVAL and
	// OTEL_METRIC_EXPORT_TIMEOUT itself.
	return sdkmetric.NewPeriodicReader(countingMetricExporter{exp, failures}, readerOpts...), nil
}

// createInstruments creates the export-error counter and one instrument per
// mapping.Instrument.
func (e *Exporter) createInstruments(failures *exportFailures) error {
	errCounter, err := e.meter.Int64Counter(ExportErrorsMetric,
		metric.WithUnit("{export}"),
		metric.WithDescription("Failed exports of telemetry batches, by signal."))
	if err != nil {
		return fmt.Errorf("create instrument %s: %w", ExportErrorsMetric, err)
	}
	rejected, err := e.meter.Int64Counter(ExportRejectedMetric,
		metric.WithUnit("{item}"),
		metric.WithDescription("Spans and log records the endpoint rejected in a partial success, by signal."))
	if err != nil {
		return fmt.Errorf("create instrument %s: %w", ExportRejectedMetric, err)
	}
	failures.setCounters(errCounter, rejected)
	if e.handoffs, err = newHandoffs(e.meter, HandoffMemory); err != nil {
		return fmt.Errorf("create instrument %s: %w", ConversationsHandoffMetric, err)
	}
	e.truncs, err = e.meter.Int64Counter(ExportTruncatedMetric,
		metric.WithUnit("{item}"),
		metric.WithDescription("Spans and log records cut down to fit the request size limit (marked assistant_otel.truncated), by signal."))
	if err != nil {
		return fmt.Errorf("create instrument %s: %w", ExportTruncatedMetric, err)
	}

	all := mapping.Instruments()
	e.instruments = make(map[mapping.Instrument]instrument, len(all))
	for _, in := range all {
		spec := in.Spec()
		var inst instrument
		switch spec.Kind {
		case mapping.Counter:
			inst.counter, err = e.meter.Float64Counter(spec.Name,
				metric.WithUnit(spec.Unit), metric.WithDescription(spec.Description))
		case mapping.Histogram:
			inst.histogram, err = e.meter.Float64Histogram(spec.Name,
				metric.WithUnit(spec.Unit), metric.WithDescription(spec.Description),
				metric.WithExplicitBucketBoundaries(spec.Buckets...))
		default:
			err = fmt.Errorf("unknown instrument kind %d", spec.Kind)
		}
		if err != nil {
			return fmt.Errorf("create instrument %s: %w", spec.Name, err)
		}
		e.instruments[in] = inst
	}
	return nil
}

// truncated counts a span or log record cut down to its size bound.
func (e *Exporter) truncated(ctx context.Context, signal string) {
	e.truncs.Add(ctx, 1, metric.WithAttributes(attribute.String("signal", signal)))
}

// Meter returns a meter on the exporter's MeterProvider, for other parts of
// the service to create their own instruments.
func (e *Exporter) Meter() metric.Meter { return e.meter }

// Describe says in one line where telemetry goes and how traces are sampled,
// for the start-up log. It never includes header values.
func (e *Exporter) Describe() string { return e.description }

// Shutdown flushes and shuts down the tracer, logger and meter providers, in
// that order (so failures of the first two are counted in the last). It
// returns all their errors joined.
func (e *Exporter) Shutdown(ctx context.Context) error {
	type provider struct {
		signal          string
		flush, shutdown func(context.Context) error
	}
	var errs []error
	for _, p := range []provider{
		{signalTraces, e.tp.ForceFlush, e.tp.Shutdown},
		{signalLogs, e.lp.ForceFlush, e.lp.Shutdown},
		{signalMetrics, e.mp.ForceFlush, e.mp.Shutdown},
	} {
		if err := p.flush(ctx); err != nil {
			errs = append(errs, fmt.Errorf("exporter: flush %s: %w", p.signal, err))
		}
		if err := p.shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("exporter: shut down %s: %w", p.signal, err))
		}
	}
	if e.sync != nil { // no batch processor owns these exporters
		if e.sync.spanExp != nil {
			errs = append(errs, e.sync.spanExp.Shutdown(ctx))
		}
		if e.sync.logExp != nil {
			errs = append(errs, e.sync.logExp.Shutdown(ctx))
		}
		if w := e.sync.wire; w != nil {
			errs = append(errs, shutdownAll(ctx, w.traces, w.logs))
		}
	}
	return errors.Join(errs...)
}
