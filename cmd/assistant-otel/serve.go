package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel"

	"github.com/assistant-otel/assistant-otel/config"
	"github.com/assistant-otel/assistant-otel/deadletter"
	"github.com/assistant-otel/assistant-otel/exporter"
	"github.com/assistant-otel/assistant-otel/internal/pprofserver"
	"github.com/assistant-otel/assistant-otel/mapping"
	"github.com/assistant-otel/assistant-otel/pump"
	"github.com/assistant-otel/assistant-otel/receiver"
	"github.com/assistant-otel/assistant-otel/spool"
)

// serve runs the webhook receiver until ctx is cancelled (SIGTERM, SIGINT),
// then drains requests and flushes telemetry.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cfg, err := config.ParseServe(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "assistant-otel serve:", err)
		return 2
	}
	logger := newLogger(cfg, stderr)
	applyMemoryLimit(cfg.MemoryLimit, getenv, logger)
	warnIfQueueExceedsLimit(cfg, getenv, logger)
	// The SDK reports export failures here too; the exporter already logs
	// them (rate-limited) and counts them, so keep these for debugging.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		logger.Debug("opentelemetry sdk", "error", err)
	}))
	if err := runServe(ctx, cfg, logger, stdout); err != nil {
		logger.Error("assistant-otel stopped", "error", err)
		return 1
	}
	return 0
}

func runServe(ctx context.Context, cfg config.Serve, logger *slog.Logger, stdout io.Writer) error {
	if cfg.PseudonymKeyDerived && len(cfg.Security.SecretFiles) > 0 {
		logger.Warn("the user-id hashing key is derived from the webhook secret: rotating the secret will change every enduser.pseudo.id; set --pseudonym-key-file to keep them stable")
	}
	if len(cfg.PseudonymKey) == 0 && cfg.Auth != config.AuthNone {
		logger.Info("no --pseudonym-key-file: user ids are not exported, not even hashed")
	}
	authn, err := newAuth(ctx, cfg, logger)
	if err != nil {
		return fmt.Errorf("setting up authentication: %w", err)
	}
	opts, err := cfg.Mapping.Options()
	if err != nil {
		return err
	}
	opts.AssistantNames = authn.names
	// Live webhooks: timestamps outside serve's window are implausible (backfill
	// and replay keep the mapping's wider history window).
	opts.MaxEventAge = cfg.MaxEventAge
	mapper, err := mapping.New(opts)
	if err != nil {
		return err
	}
	expOpts := []exporter.Option{
		exporter.WithServiceVersion(version()),
		exporter.WithLogger(logger),
		exporter.WithConsole(stdout),
		exporter.WithSynchronous(),
		exporter.WithMaxRequestBytes(cfg.MaxRequestBytes),
		exporter.WithMetricLabels(cfg.MetricIntents, cfg.MetricLabelLimit),
		exporter.WithConsoleFormat(cfg.ConsoleFormat),
		// Kept next to the spool: after a restart, metrics continue the same series
		// and re-sent spans carry the same resource.
		exporter.WithInstanceIDDir(cfg.Spool.Dir),
	}
	var promReg *prometheus.Registry
	if cfg.MetricsListen != "" {
		promReg = prometheus.NewRegistry()
		expOpts = append(expOpts, exporter.WithPrometheus(promReg))
	}
	exp, err := exporter.New(ctx, expOpts...)
	if err != nil {
		return fmt.Errorf("setting up telemetry export: %w", err)
	}
	if promReg != nil {
		// Self-monitoring (GET /metrics) in addition to OTLP. It cannot take
		// the service down: if its address is taken, that is logged and the
		// metrics still go out over OTLP.
		go func() {
			up := func(url string) { logger.Info("metrics endpoint up for Prometheus", "url", url) }
			if err := exporter.ServeMetrics(ctx, cfg.MetricsListen, promReg, up); err != nil {
				logger.Error("metrics endpoint (--metrics-listen) not served; metrics still go over OTLP", "error", err)
			}
		}()
	}
	instanceID, instanceIDSource := exp.InstanceID()
	logger.Info("exporting telemetry", "to", exp.Describe(),
		"service.instance.id", instanceID, "service.instance.id_from", instanceIDSource)

	queue, err := openQueue(cfg.Spool, logger)
	if err != nil {
		return errors.Join(err, exp.Shutdown(context.Background()))
	}
	dead, err := openDeadLetters(cfg.Spool, logger)
	if err != nil {
		return errors.Join(err, queue.Close(), exp.Shutdown(context.Background()))
	}
	health := &exportHealth{details: cfg.ReadyzDetails}
	pmp, err := pump.New(pump.Options{
		Queue:       queue,
		Map:         mapper.Map,
		Exporter:    exp,
		Meter:       exp.Meter(),
		Logger:      logger,
		OnHealth:    health.set,
		DeadLetters: dead,
		Workers:     cfg.PumpWorkers,
	})
	if err != nil {
		return errors.Join(err, queue.Close(), exp.Shutdown(context.Background()))
	}
	intake, err := pump.NewIntake(queue, exp.Meter())
	if err != nil {
		return errors.Join(err, queue.Close(), exp.Shutdown(context.Background()))
	}
	disk, _ := queue.(*spool.Disk)
	state := &intakeState{queue: queue, disk: disk, maxBody: cfg.MaxBodyBytes}
	inflight := inflightBudget(cfg, effectiveMemoryLimit())
	rcv, err := receiver.New(intake, authn.auth,
		receiver.WithPath(cfg.Path),
		receiver.WithMaxBodyBytes(cfg.MaxBodyBytes),
		receiver.WithMaxConcurrent(cfg.Security.HTTP.MaxConcurrent),
		receiver.WithMaxInflightBytes(inflight),
		receiver.WithAcceptCheck(state.accepting),
		receiver.WithReadyCheck(state.ready),
		receiver.WithReadyDetails(cfg.ReadyzDetails),
		receiver.WithLogger(logger),
		receiver.WithMeter(exp.Meter()))
	if err != nil {
		return errors.Join(err, queue.Close(), exp.Shutdown(context.Background()))
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return errors.Join(fmt.Errorf("listening on %s: %w", cfg.Listen, err), queue.Close(), exp.Shutdown(context.Background()))
	}
	limits := cfg.Security.HTTP
	srvOpts := []receiver.ServerOption{
		receiver.WithServerLogger(logger),
		receiver.WithServerMeter(exp.Meter()),
		receiver.WithMaxHeaderBytes(limits.MaxHeaderBytes),
		receiver.WithReadHeaderTimeout(limits.ReadHeaderTimeout),
		receiver.WithReadTimeout(limits.ReadTimeout),
		receiver.WithWriteTimeout(limits.WriteTimeout),
		receiver.WithIdleTimeout(limits.IdleTimeout),
	}
	reloaders := authn.reloaders
	var certs *receiver.CertReloader
	if cfg.Security.TLSCert != "" {
		certs, err = receiver.NewCertReloader(cfg.Security.TLSCert, cfg.Security.TLSKey, receiver.WithCertLogger(logger))
		if err != nil {
			return errors.Join(fmt.Errorf("TLS: %w", err), ln.Close(), queue.Close(), exp.Shutdown(context.Background()))
		}
		go certs.Watch(ctx)
		srvOpts = append(srvOpts, receiver.WithTLSConfig(certs.TLSConfig()))
		reloaders = append(reloaders, certs.Reload)
	}
	reloadOnSIGHUP(ctx, logger, reloaders...)
	if cfg.PprofListen != "" {
		go func() {
			if err := pprofserver.Serve(ctx, cfg.PprofListen, logger); err != nil {
				logger.Error("pprof endpoint stopped", "error", err)
			}
		}()
	}
	srv, err := receiver.NewServer(cfg.Listen, health.wrap(rcv.Handler(), state.ready), srvOpts...)
	if err != nil {
		return errors.Join(err, ln.Close(), queue.Close(), exp.Shutdown(context.Background()))
	}
	pumpCtx, stopPump := context.WithCancel(context.Background())
	defer stopPump()
	pumpDone := make(chan error, 1)
	go func() { pumpDone <- pmp.Run(pumpCtx) }()
	serveErr := make(chan error, 1)
	go func() {
		if certs != nil {
			serveErr <- srv.ServeTLS(ln, "", "")
			return
		}
		serveErr <- srv.Serve(ln)
	}()
	rcv.SetReady(true)
	logger.Info("listening for Watson Assistant log webhooks",
		"address", ln.Addr().String(), "path", cfg.Path, "auth", cfg.Auth, "tls", certs != nil,
		"redaction", opts.Redactor.Enabled(),
		"capture_content", cfg.CaptureContent, "spool", describeSpool(cfg.Spool),
		"max_inflight_bytes", inflight, "version", version())

	var runErr error
	select {
	case <-ctx.Done():
		logger.Info("shutting down: finishing requests, exporting queued events", "drain_timeout", cfg.ShutdownTimeout)
	case err := <-serveErr:
		runErr = fmt.Errorf("http server: %w", err)
	case err := <-pumpDone: // only on a bug: Run returns early only when stopped
		runErr = fmt.Errorf("export pump stopped: %w", err)
		pumpDone <- err
	}
	// One deadline for everything; the last part of it is kept for the
	// final metrics flush.
	start := time.Now()
	deadline := start.Add(cfg.ShutdownTimeout)
	reserve := min(2*time.Second, cfg.ShutdownTimeout/4)
	health.stop()
	rcv.SetReady(false)
	shutdownCtx, cancel := context.WithDeadline(context.Background(), deadline.Add(-reserve))
	defer cancel()
	// Stops listening (new connections are refused) and waits for the
	// requests in flight: their events are queued before they are answered.
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		runErr = errors.Join(runErr, fmt.Errorf("draining requests: %w", err))
	}
	pmp.Drain()
	select {
	case <-pumpDone:
	case <-shutdownCtx.Done():
		stopPump()
		<-pumpDone
	}
	// Close first: a request still in flight after the server's deadline
	// gets 503 from a closed queue, so nothing is acknowledged after the count.
	if err := queue.Close(); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("closing the spool: %w", err))
	}
	left := queue.Stats()
	var spoolGone error
	if disk != nil {
		_ = disk.Check() // a removal without traffic since is found here
		spoolGone = disk.Err()
	}
	switch {
	case spoolGone != nil:
		// The events are in a file that no longer has a name: they go with
		// the process. Never say they are left in the spool.
		logger.Error("spool removed while running: events LOST", "events", left.Events, "spool", cfg.Spool.Dir, "error", spoolGone)
		runErr = errors.Join(runErr, fmt.Errorf("the spool was removed while running; %d accepted events were not exported: %w", left.Events, spoolGone))
	case left.Events > 0 && cfg.Spool.Dir != "":
		logger.Warn("drain timeout: events left in the spool, exported at the next start",
			"events", left.Events, "bytes", left.Bytes, "spool", cfg.Spool.Dir)
	case left.Events > 0:
		logger.Error("drain timeout: events LOST (no --spool-dir to keep them)", "events", left.Events)
		runErr = errors.Join(runErr, fmt.Errorf("%d accepted events were not exported", left.Events))
	}
	flushCtx, cancelFlush := context.WithDeadline(context.Background(), deadline)
	defer cancelFlush()
	if err := exp.Shutdown(flushCtx); err != nil {
		if cfg.Spool.Dir != "" {
			// The events are safe in the spool; only the service's own
			// metrics since the last export are lost: not a failed exit.
			logger.Warn("final metrics flush failed", "error", err)
		} else {
			runErr = errors.Join(runErr, fmt.Errorf("flushing telemetry: %w", err))
		}
	}
	if runErr == nil {
		logger.Info("stopped cleanly", "took", time.Since(start).Round(time.Millisecond))
	}
	return runErr
}

// openQueue opens the durable spool, or an in-memory queue without
// --spool-dir, and reports what start-up recovered.
func openQueue(c config.Spool, logger *slog.Logger) (spool.Queue, error) {
	dedupe := spool.DedupeOptions{Window: c.DedupeWindow, Max: c.DedupeMax}
	if c.Dir == "" {
		logger.Warn("no --spool-dir: accepted events are queued in memory only and LOST if the process dies or cannot export them before the drain timeout")
		return spool.NewMemory(spool.MemoryOptions{MaxBytes: c.MemoryMaxBytes, Dedupe: dedupe}), nil
	}
	d, rec, err := spool.Open(c.Dir, spool.Options{MaxBytes: c.MaxBytes, Dedupe: dedupe, Logger: logger})
	if err != nil {
		return nil, err
	}
	attrs := []any{"path", d.Path(), "events_to_replay", rec.Events, "bytes", rec.Bytes,
		"dedupe_ids", d.DedupeKeys(), "max_bytes", c.MaxBytes}
	if rec.Corrupt > 0 || rec.MovedAside != "" {
		attrs = append(attrs, "corrupt_records_quarantined", rec.Corrupt, "damaged_file_moved_to", rec.MovedAside,
			"records_salvaged", rec.Salvaged, "problem", rec.Problem)
		logger.Error("spool opened after recovering from damage", attrs...)
	} else {
		logger.Info("spool opened", attrs...)
	}
	return d, nil
}

// openDeadLetters opens the dead-letter store in the spool directory.
// Without a spool there is none: refused events are counted and logged,
// not kept (the in-memory queue does not keep anything across a restart
// either).
func openDeadLetters(c config.Spool, logger *slog.Logger) (pump.DeadLetters, error) {
	if c.Dir == "" {
		return nil, nil
	}
	s, err := deadletter.Open(filepath.Join(c.Dir, deadletter.DirName), c.DeadLetterMaxBytes)
	if err != nil {
		return nil, err
	}
	if list, err := s.List(); err == nil && len(list) > 0 {
		logger.Warn("dead letters are waiting: events the OTLP endpoint refused; see assistant-otel dead-letters list",
			"count", len(list), "dir", s.Dir())
	}
	return s, nil
}

func describeSpool(c config.Spool) string {
	if c.Dir == "" {
		return "memory (not durable)"
	}
	return c.Dir
}

// exportHealth is what /readyz says beyond ready/not ready: while exports
// fail, 200 {"status":"degraded","reason":...}. Degraded stays ready on
// purpose: events are still accepted (into the spool), and Watson
// Assistant does not retry a refused call.
type exportHealth struct {
	details  bool // --readyz-details: the reason for every caller, not only loopback
	mu       sync.Mutex
	reason   string
	stopping bool
}

func (h *exportHealth) set(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reason = ""
	if err != nil {
		h.reason = "export failing: " + err.Error()
		if r := []rune(h.reason); len(r) > 200 {
			h.reason = string(r[:200]) + "…"
		}
	}
}

// stop hands /readyz back to the receiver, which answers not ready.
func (h *exportHealth) stop() {
	h.mu.Lock()
	h.stopping = true
	h.mu.Unlock()
}

func (h *exportHealth) degraded() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopping {
		return ""
	}
	return h.reason
}

// wrap answers GET /readyz with the degraded status while exports fail and
// ready (the intake's check) passes; everything else, and /readyz when not
// degraded or not ready, goes to next.
func (h *exportHealth) wrap(next http.Handler, ready func() error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == receiver.ReadyPath && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			if reason := h.degraded(); reason != "" && ready() == nil {
				fields := map[string]string{"status": "degraded"}
				if receiver.ReadyDetails(r, h.details) {
					fields["reason"] = reason // the OTLP endpoint and the Collector's error text
				}
				b, _ := json.Marshal(fields)
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Cache-Control", "no-store")
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write(append(b, '\n'))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// intakeState is whether the service can accept events, for the receiver's
// accept and ready checks. Degraded export is not part of it: events are
// still accepted then (see exportHealth).
type intakeState struct {
	queue   spool.Queue
	disk    *spool.Disk // nil with the in-memory queue
	maxBody int64
}

// accepting fails once the spool is gone: it reads a flag, for every
// webhook request.
func (s *intakeState) accepting() error {
	if s.disk != nil {
		return s.disk.Err()
	}
	return nil
}

// ready fails while the service cannot accept events: the spool gone or its
// last write failed (one stat), or the queue full, i.e. with less room than
// the smaller of a maximum-size body and an eighth of its size. Draining is
// the receiver's own SetReady(false).
func (s *intakeState) ready() error {
	if s.disk != nil {
		if err := s.disk.Check(); err != nil {
			return err
		}
	}
	st := s.queue.Stats()
	if room := st.MaxBytes - st.Bytes; room < min(s.maxBody, st.MaxBytes/8) {
		what := "memory queue"
		if s.disk != nil {
			what = "spool"
		}
		return fmt.Errorf("%s full: %d of %d bytes used", what, st.Bytes, st.MaxBytes)
	}
	return nil
}

// inflightCost is the peak heap a webhook request takes per byte of its
// body, measured for maximum-size bodies: the body, the decoder's copies of
// it (goccy/go-json copies its input, and the payload twice more), then the
// spool's record value and bbolt's page for it.
const inflightCost = 4

// effectiveMemoryLimit is the Go runtime's memory limit in force
// (--memory-limit or GOMEMLIMIT), 0 when there is none.
func effectiveMemoryLimit() int64 {
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		return l
	}
	return 0
}

// inflightBudget is --max-inflight-bytes, or, when 0, what is left of the
// memory limit after the baseline heap and a full queue, divided by the
// peak cost of a body byte, but at least one maximum-size body (else such a
// body could never be accepted). Without a memory limit there is no budget
// unless one is set.
func inflightBudget(c config.Serve, memLimit int64) int64 {
	if n := c.Security.HTTP.MaxInflightBytes; n > 0 {
		return n
	}
	if memLimit <= 0 {
		return 0
	}
	return max(c.MaxBodyBytes, (memLimit-baselineHeap-queueHeap(c.Spool))/inflightCost)
}

func newLogger(cfg config.Serve, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
