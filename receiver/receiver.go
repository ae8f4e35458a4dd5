package receiver

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"os"
	"path"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/assistant-otel/assistant-otel/auth"
	"github.com/assistant-otel/assistant-otel/intake"
	"github.com/assistant-otel/assistant-otel/watson"
)

// Defaults and fixed routes.
const (
	DefaultPath         = "/webhook"
	DefaultMaxBodyBytes = 8 << 20
	HealthPath          = "/healthz"
	ReadyPath           = "/readyz"
)

type config struct {
	path          string
	maxBody       int64
	maxConcurrent int
	maxInflight   int64
	readyCheck    func() error // nil: none
	acceptCheck   func() error // nil: none
	logger        *slog.Logger
	meter         metric.Meter
	clock         func() time.Time
	readyDetails  bool
	logInterval   time.Duration
}

// Option configures a Receiver. Invalid values make New fail.
type Option func(*config)

// WithPath sets the webhook path (default DefaultPath). It must start with
// "/", be clean (a trailing "/" is allowed), hold no query, fragment, space
// or control character, and not be a probe path. Requests must match it
// exactly.
func WithPath(p string) Option { return func(c *config) { c.path = p } }

// WithMaxBodyBytes caps the request body (default DefaultMaxBodyBytes), both
// as sent and, for gzip bodies, after decompression. It must be positive.
func WithMaxBodyBytes(n int64) Option { return func(c *config) { c.maxBody = n } }

// WithMaxConcurrent caps the webhook requests handled at once (default 0:
// no cap). A request arriving while n are in flight is answered at once with
// 503 and Retry-After: 1, before authentication and without reading its
// body, rather than queueing. Probes are not counted and never refused. It
// must not be negative.
func WithMaxConcurrent(n int) Option { return func(c *config) { c.maxConcurrent = n } }

// WithMaxInflightBytes caps the body bytes held at once by all webhook
// requests together (default 0: no cap), to bound the memory they take
// whatever the mix of requests. Each request reserves its share before
// reading its body and keeps it until it is answered, so the share also
// covers what is decoded from the body:
//
//   - a body with a Content-Length (and no gzip) reserves that length at
//     once; when it does not fit, the request is answered 503 with
//     Retry-After: 1 without reading any of its body;
//   - a body of unknown length (chunked) or gzip-compressed reserves 64 KiB
//     first (503 at once when that does not fit), then each doubling of its
//     buffer before reading into it; a reservation that fails part-way
//     answers 503 with Retry-After: 1 and reads no further.
//
// It must be 0 or at least the maximum body size, or a body of that size
// could never be accepted.
func WithMaxInflightBytes(n int64) Option { return func(c *config) { c.maxInflight = n } }

// WithReadyCheck adds a condition to GET /readyz: while check returns an
// error, /readyz answers 503 {"status":"not ready","reason":...} with the
// error's text, which must hold no secret or request data. It is called on
// every probe; keep it cheap.
func WithReadyCheck(check func() error) Option { return func(c *config) { c.readyCheck = check } }

// WithAcceptCheck adds a condition to the webhook: while check returns an
// error, authenticated requests are answered 503 with Retry-After: 1 before
// their body is read, and counted as refused with reason "unavailable".
// It is called on every webhook request: it must be cheap (e.g. read a
// flag), and whoever sets the condition logs it (the refusals are logged at
// debug level only).
func WithAcceptCheck(check func() error) Option { return func(c *config) { c.acceptCheck = check } }

// WithLogger sets the logger (default: discard). The receiver never logs a
// token, a secret or body text.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithReadyDetails shows the reason of a failed ready check in /readyz to
// every caller. Off (the default), only a loopback caller sees it (see
// ReadyDetails): /readyz is unauthenticated, and the reason may name
// internal endpoints, paths or an upstream's error text.
func WithReadyDetails(always bool) Option { return func(c *config) { c.readyDetails = always } }

// WithLogInterval sets how often at most one line per reason is logged for
// authentication failures (default DefaultLogInterval; 0 logs every one).
// Held-back lines are counted in the next line's "suppressed"; the
// auth-failures metric counts every failure.
func WithLogInterval(d time.Duration) Option { return func(c *config) { c.logInterval = d } }

// WithMeter sets the meter for the receiver's own metrics (default: noop).
func WithMeter(m metric.Meter) Option { return func(c *config) { c.meter = m } }

// WithClock sets the time source for arrival times and durations (default
// time.Now); for tests.
func WithClock(now func() time.Time) Option { return func(c *config) { c.clock = now } }

// Receiver serves the webhook and the probes. Create it with New; it is safe
// for concurrent use.
type Receiver struct {
	config
	consumer Consumer
	auth     auth.Authenticator
	// tooLargeMsg answers a body over maxBody.
	tooLargeMsg string
	authLog     *logLimiter // one authentication-failure line per reason per interval
	ins         instruments
	ready       atomic.Bool
	slots       chan struct{} // nil: no concurrency cap
	budget      *budget       // nil: no in-flight byte cap
}

// New returns a Receiver handing accepted events to consumer after authn
// accepted the request. authn is required: pass auth.NoAuth() to switch
// authentication off explicitly. The Receiver starts ready.
func New(consumer Consumer, authn auth.Authenticator, opts ...Option) (*Receiver, error) {
	if consumer == nil {
		return nil, errors.New("receiver: consumer must not be nil")
	}
	if authn == nil {
		return nil, errors.New("receiver: authenticator must not be nil (use auth.NoAuth to switch authentication off)")
	}
	cfg := config{
		path:    DefaultPath,
		maxBody: DefaultMaxBodyBytes,
		logger:  slog.New(slog.DiscardHandler),
		meter:   noop.NewMeterProvider().Meter(""),
		clock:   time.Now,

		logInterval: DefaultLogInterval,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if err := validatePath(cfg.path); err != nil {
		return nil, err
	}
	switch {
	case cfg.maxBody <= 0:
		return nil, fmt.Errorf("receiver: max body bytes must be positive, got %d", cfg.maxBody)
	case cfg.maxConcurrent < 0:
		return nil, fmt.Errorf("receiver: max concurrent requests must not be negative, got %d", cfg.maxConcurrent)
	case cfg.maxInflight != 0 && cfg.maxInflight < cfg.maxBody:
		return nil, fmt.Errorf("receiver: max in-flight bytes %d must be 0 (no cap) or at least the max body bytes %d", cfg.maxInflight, cfg.maxBody)
	case cfg.logger == nil:
		return nil, errors.New("receiver: logger must not be nil")
	case cfg.meter == nil:
		return nil, errors.New("receiver: meter must not be nil")
	case cfg.clock == nil:
		return nil, errors.New("receiver: clock must not be nil")
	}
	var bud *budget
	if cfg.maxInflight > 0 {
		bud = &budget{max: cfg.maxInflight}
	}
	ins, err := newInstruments(cfg.meter, bud)
	if err != nil {
		return nil, err
	}
	rc := &Receiver{
		config:      cfg,
		budget:      bud,
		consumer:    consumer,
		auth:        authn,
		tooLargeMsg: fmt.Sprintf("body exceeds %d bytes", cfg.maxBody),
		ins:         ins,
		authLog:     newLogLimiter(cfg.logInterval, cfg.clock),
	}
	if cfg.maxConcurrent > 0 {
		rc.slots = make(chan struct{}, cfg.maxConcurrent)
	}
	rc.ready.Store(true)
	return rc, nil
}

func validatePath(p string) error {
	switch {
	case p == "":
		return errors.New("receiver: webhook path must not be empty")
	case p[0] != '/':
		return fmt.Errorf("receiver: webhook path %q must start with \"/\"", p)
	case len(p) > 1024:
		return errors.New("receiver: webhook path is longer than 1024 bytes")
	case strings.ContainsAny(p, "?#"):
		return fmt.Errorf("receiver: webhook path %q must not contain a query or fragment", p)
	case strings.IndexFunc(p, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0:
		return fmt.Errorf("receiver: webhook path %q must not contain spaces or control characters", p)
	case path.Clean(p) != strings.TrimSuffix(p, "/") && p != "/":
		return fmt.Errorf("receiver: webhook path %q is not clean (want %q)", p, path.Clean(p))
	case p == HealthPath || p == ReadyPath:
		return fmt.Errorf("receiver: webhook path %q is reserved for probes", p)
	}
	return nil
}

// SetReady sets what GET /readyz answers: 200 when true, 503 when false
// (e.g. while draining before shutdown). The webhook itself keeps serving.
func (rc *Receiver) SetReady(ready bool) { rc.ready.Store(ready) }

// InflightBytes returns the body bytes reserved by requests in flight (0
// without WithMaxInflightBytes).
func (rc *Receiver) InflightBytes() int64 {
	if rc.budget == nil {
		return 0
	}
	return rc.budget.used.Load()
}

// Path returns the webhook path.
func (rc *Receiver) Path() string { return rc.path }

// Handler returns the HTTP handler for the webhook, the probes, and 404 for
// everything else. Panics are recovered into a 500.
func (rc *Receiver) Handler() http.Handler { return http.HandlerFunc(rc.serve) }

// outcome is what a request came to: the response, the log line and the
// metric attributes.
type outcome struct {
	status     int
	msg        string // client-facing error; empty on success
	event      string // AttrEvent value
	authReason string
	logID      string
	bytes      int
	err        error // internal cause, logged only
	written    bool
}

func (rc *Receiver) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == HealthPath || r.URL.Path == ReadyPath {
		rc.probe(w, r)
		return
	}
	start := rc.clock()
	res := &outcome{}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			rc.logger.Error("webhook: recovered from panic",
				"panic", describePanic(p), "path", rc.path, "remote", r.RemoteAddr, "stack", string(debug.Stack()))
			if !res.written {
				*res = outcome{status: http.StatusInternalServerError, msg: "internal error", event: res.event}
				rc.respond(w, res)
			}
		}
		rc.ins.record(r.Context(), res.status, res.event, rc.clock().Sub(start))
	}()
	switch {
	case r.URL.Path != rc.path:
		*res = outcome{status: http.StatusNotFound, msg: "not found"}
	case !rc.acquire():
		*res = outcome{status: http.StatusServiceUnavailable, msg: "too many concurrent requests; retry later", err: errBusy}
		rc.ins.refuse(r.Context(), RefusedConcurrency)
	default:
		defer rc.release()
		rc.webhook(w, r, start, res)
	}
	rc.logOutcome(r, res, rc.clock().Sub(start))
	rc.respond(w, res)
}

// webhook runs the checks in order and consumes the event; it fills res.
func (rc *Receiver) webhook(w http.ResponseWriter, r *http.Request, received time.Time, res *outcome) {
	if r.Method != http.MethodPost {
		res.status, res.msg = http.StatusMethodNotAllowed, "method not allowed; use POST"
		return
	}
	gz, ok := contentEncoding(r.Header)
	if !ok {
		res.status, res.msg = http.StatusUnsupportedMediaType, "unsupported Content-Encoding; use gzip or none"
		return
	}
	if msg := checkContentType(r.Header); msg != "" {
		res.status, res.msg = http.StatusUnsupportedMediaType, msg
		return
	}
	var err error
	if ca, ok := rc.auth.(auth.ContextAuthenticator); ok {
		var ctx context.Context
		if ctx, err = ca.AuthenticateContext(r); err == nil && ctx != nil {
			r = r.WithContext(ctx)
		}
	} else {
		err = rc.auth.Authenticate(r)
	}
	if err != nil {
		res.authReason = auth.ReasonOf(err)
		rc.ins.authFailure(r.Context(), res.authReason)
		res.status, res.msg, res.err = http.StatusUnauthorized, "unauthorized: "+res.authReason, err
		return
	}
	if rc.acceptCheck != nil {
		if err := rc.acceptCheck(); err != nil {
			rc.ins.refuse(r.Context(), RefusedUnavailable)
			res.status, res.msg, res.err = http.StatusServiceUnavailable, "temporarily unable to accept events; retry later", fmt.Errorf("%w: %w", errUnavailable, err)
			return
		}
	}
	// The body's share of the budget is held until the request is answered:
	// what is decoded from the body lives as long.
	h := hold{b: rc.budget}
	defer h.release()
	body, status, msg, err := rc.readBody(w, r, gz, &h)
	res.bytes = len(body)
	if errors.Is(err, errNoBudget) {
		rc.ins.refuse(r.Context(), RefusedInflightBytes)
	}
	if status != 0 {
		res.status, res.msg, res.err = status, msg, err
		return
	}
	ev, err := watson.Decode(body)
	if err != nil {
		res.status, res.msg = http.StatusBadRequest, err.Error()
		if errors.Is(err, watson.ErrUnknownEvent) {
			res.status, res.event = http.StatusUnprocessableEntity, eventUnknown
		}
		return
	}
	res.event = ev.Name
	if ev.Log != nil {
		res.logID = ev.Log.LogID
	}
	if ea, ok := rc.auth.(auth.EventAuthorizer); ok {
		if err := ea.AuthorizeEvent(r, ev); err != nil {
			res.authReason = auth.ReasonOf(err)
			rc.ins.authFailure(r.Context(), res.authReason)
			res.status, res.msg, res.err = http.StatusForbidden, "forbidden: "+res.authReason, err
			return
		}
	}
	if err := rc.consumer.Consume(r.Context(), ev, received); err != nil {
		reason := RefusedConsumerError
		switch {
		case errors.Is(err, intake.ErrOverloaded):
			reason = RefusedOverloaded
		case rc.acceptCheck != nil && rc.acceptCheck() != nil:
			// The failure that made the accept check fail is logged once
			// by whoever owns it; not again per request.
			reason, err = RefusedUnavailable, fmt.Errorf("%w: %w", errUnavailable, err)
		}
		rc.ins.refuse(r.Context(), reason)
		res.status, res.msg, res.err = http.StatusServiceUnavailable, "temporarily unable to accept events; retry later", err
		return
	}
	res.status = http.StatusOK
}

// errBusy is the internal cause of a 503 for too many concurrent requests.
var errBusy = errors.New("concurrent request limit reached")

// errUnavailable is the internal cause of a 503 from the accept check.
var errUnavailable = errors.New("not accepting events")

// acquire takes a concurrency slot without waiting; false when none is free.
func (rc *Receiver) acquire() bool {
	if rc.slots == nil {
		return true
	}
	select {
	case rc.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

func (rc *Receiver) release() {
	if rc.slots != nil {
		<-rc.slots
	}
}

// contentEncoding reports whether the body is gzip-compressed, and false ok
// for any other coding (or a chain of codings).
func contentEncoding(h http.Header) (gz, ok bool) {
	var codings []string
	for _, v := range h.Values("Content-Encoding") {
		for c := range strings.SplitSeq(v, ",") {
			c = strings.ToLower(strings.TrimSpace(c))
			if c != "" && c != "identity" {
				codings = append(codings, c)
			}
		}
	}
	switch {
	case len(codings) == 0:
		return false, true
	case len(codings) == 1 && (codings[0] == "gzip" || codings[0] == "x-gzip"):
		return true, true
	}
	return false, false
}

// checkContentType returns an error message unless the Content-Type is absent,
// application/json or a +json type, in UTF-8.
func checkContentType(h http.Header) string {
	const bad = "unsupported Content-Type; use application/json"
	vals := h.Values("Content-Type")
	switch {
	case len(vals) == 0 || len(vals) == 1 && strings.TrimSpace(vals[0]) == "":
		return ""
	case len(vals) > 1:
		return bad
	}
	mt, params, err := mime.ParseMediaType(vals[0])
	if err != nil {
		return bad
	}
	_, sub, _ := strings.Cut(mt, "/")
	if mt != "application/json" && (len(sub) <= len("+json") || !strings.HasSuffix(sub, "+json")) {
		return bad
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return "unsupported charset; JSON must be UTF-8"
	}
	return ""
}

// readBody reads the whole body within the limit, decompressing gzip, and
// reserves its bytes in h before reading them (see WithMaxInflightBytes). A
// non-zero status means failure.
func (rc *Receiver) readBody(w http.ResponseWriter, r *http.Request, gz bool, h *hold) (body []byte, status int, msg string, err error) {
	const noBudget = "too many body bytes in flight; retry later"
	tooLarge := rc.tooLargeMsg
	if r.ContentLength > rc.maxBody {
		return nil, http.StatusRequestEntityTooLarge, tooLarge, nil
	}
	raw := http.MaxBytesReader(w, r.Body, rc.maxBody)
	defer raw.Close()
	if !gz && r.ContentLength >= 0 {
		// The length is known: reserve it and read into a buffer of exactly
		// that size (net/http's body reader ends at Content-Length).
		if !h.reserve(r.ContentLength) {
			return nil, http.StatusServiceUnavailable, noBudget, errNoBudget
		}
		body = make([]byte, r.ContentLength)
		if _, err := io.ReadFull(raw, body); err != nil {
			status, msg := classifyRead(err, tooLarge, "could not read body")
			return nil, status, msg, err
		}
	} else {
		first := min(int64(firstChunk), rc.maxBody)
		if !h.reserve(first) {
			return nil, http.StatusServiceUnavailable, noBudget, errNoBudget
		}
		buf := make([]byte, 0, first)
		src, other := io.Reader(raw), "could not read body"
		if gz {
			zr, err := gzip.NewReader(raw)
			if errors.Is(err, io.EOF) {
				return nil, http.StatusBadRequest, "empty body", nil
			}
			if err != nil {
				status, msg := classifyRead(err, tooLarge, "invalid gzip stream")
				return nil, status, msg, err
			}
			defer zr.Close()
			src, other = zr, "invalid gzip stream"
			tooLarge = fmt.Sprintf("decompressed body exceeds %d bytes", rc.maxBody)
		}
		body, err = readGrowing(src, buf, rc.maxBody, h)
		switch {
		case errors.Is(err, errNoBudget):
			return nil, http.StatusServiceUnavailable, noBudget, err
		case errors.Is(err, errTooLarge):
			return nil, http.StatusRequestEntityTooLarge, tooLarge, nil
		case err != nil:
			status, msg := classifyRead(err, rc.tooLargeMsg, other)
			return nil, status, msg, err
		}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, http.StatusBadRequest, "empty body", nil
	}
	return body, 0, "", nil
}

func classifyRead(err error, tooLarge, other string) (int, string) {
	var mbe *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, tooLarge
	case errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return http.StatusRequestTimeout, "timed out reading body"
	}
	return http.StatusBadRequest, other
}

func (rc *Receiver) probe(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeJSON(w, http.StatusMethodNotAllowed, "error", "method not allowed; use GET")
		return
	}
	switch {
	case r.URL.Path == HealthPath:
		writeJSON(w, http.StatusOK, "status", "ok")
	case !rc.ready.Load():
		writeJSON(w, http.StatusServiceUnavailable, "status", "not ready")
	default:
		if rc.readyCheck != nil {
			if err := rc.readyCheck(); err != nil {
				fields := map[string]string{"status": "not ready"}
				if ReadyDetails(r, rc.readyDetails) {
					fields["reason"] = err.Error()
				}
				writeJSONFields(w, http.StatusServiceUnavailable, fields)
				return
			}
		}
		writeJSON(w, http.StatusOK, "status", "ready")
	}
}

func (rc *Receiver) logOutcome(r *http.Request, res *outcome, d time.Duration) {
	switch res.status {
	case http.StatusOK:
		rc.logger.Debug("webhook: accepted",
			"event", res.event, "log_id", logSafe(res.logID), "bytes", res.bytes, "duration", d)
	case http.StatusUnauthorized, http.StatusForbidden:
		// Anyone can cause these: one line per reason per interval.
		if ok, suppressed := rc.authLog.allow(res.authReason); ok {
			rc.logger.Warn("webhook: authentication failed",
				"status", res.status, "reason", res.authReason, "remote", r.RemoteAddr, "suppressed", suppressed)
		}
	case http.StatusServiceUnavailable:
		switch {
		case errors.Is(res.err, errBusy):
			rc.logger.Debug("webhook: refused, too many concurrent requests", "remote", r.RemoteAddr)
			return
		case errors.Is(res.err, errNoBudget):
			rc.logger.Debug("webhook: refused, in-flight body bytes at the limit", "remote", r.RemoteAddr)
			return
		case errors.Is(res.err, errUnavailable):
			rc.logger.Debug("webhook: refused, not accepting events", "error", res.err, "remote", r.RemoteAddr)
			return
		}
		level := slog.LevelError
		if errors.Is(res.err, intake.ErrOverloaded) {
			level = slog.LevelWarn
		}
		rc.logger.Log(r.Context(), level, "webhook: consumer refused event",
			"event", res.event, "log_id", logSafe(res.logID), "error", res.err)
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		rc.logger.Debug("webhook: rejected",
			"status", res.status, "method", r.Method, "remote", r.RemoteAddr)
	case http.StatusUnprocessableEntity:
		// The event name is the sender's choice: a fingerprint, never the name.
		rc.logger.Info("webhook: rejected",
			"status", res.status, "error", "unsupported event", "event_fingerprint", logSafe("\x00"+res.msg), "remote", r.RemoteAddr)
	default:
		rc.logger.Info("webhook: rejected",
			"status", res.status, "error", res.msg, "remote", r.RemoteAddr)
	}
}

func (rc *Receiver) respond(w http.ResponseWriter, res *outcome) {
	res.written = true
	switch res.status {
	case http.StatusOK:
		writeJSON(w, res.status, "status", "accepted")
		return
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", http.MethodPost)
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="assistant-otel"`)
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, res.status, "error", res.msg)
}

// writeJSON writes {key: value} as the whole response.
func writeJSON(w http.ResponseWriter, status int, key, value string) {
	writeJSONFields(w, status, map[string]string{key: value})
}

// writeJSONFields writes fields as a JSON object, the whole response.
func writeJSONFields(w http.ResponseWriter, status int, fields map[string]string) {
	b, err := json.Marshal(fields)
	if err != nil { // unreachable: strings always marshal
		b = []byte(`{"error":"internal error"}`)
	}
	b = append(b, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// describePanic names a panic without quoting arbitrary values, which might
// hold request data: runtime errors are safe to print, others by type only.
func describePanic(p any) string {
	if re, ok := p.(runtime.Error); ok {
		return re.Error()
	}
	return fmt.Sprintf("%T", p)
}
