// Package receiver is the HTTP side of assistant-otel, the first step of an
// event's path (receiver → intake → spool → pump → mapping → exporter): it
// accepts Watson Assistant log-webhook calls, authenticates them with
// package auth, enforces limits, decodes the body with package watson and
// hands each event to a Consumer. It owns status codes and its own metrics
// and never touches the OpenTelemetry SDK (only the metric API, through a
// metric.Meter given as an option). It may import auth, watson,
// internal/filewatch, the metric API and intake, for its ErrOverloaded only
// (the Consumer is an interface declared here); nothing further down the
// path, and auth never imports it.
//
// # Routes
//
//	POST {path}    the webhook (default /webhook; exact match)
//	GET  /healthz  200 {"status":"ok"} while the process serves
//	GET  /readyz   200 {"status":"ready"}; 503 {"status":"not ready"} after SetReady(false),
//	               or 503 {"status":"not ready","reason":...} while the WithReadyCheck check fails
//
// # Webhook checks and status codes
//
// Checks run in this order and the first failure answers; the body is read
// only after authentication, so unauthenticated callers cost no body I/O,
// decompression or JSON parsing (and a client sending Expect: 100-continue
// never gets to send it).
//
//	503  more webhook requests in flight than WithMaxConcurrent allows, with
//	     Retry-After: 1, answered at once (no queueing, no body read)
//	405  method other than POST (with Allow: POST)
//	415  Content-Encoding other than none, identity or gzip; Content-Type other
//	     than none, application/json or any */*+json (parameters allowed;
//	     a charset other than utf-8 is refused)
//	401  authentication failed (with WWW-Authenticate: Bearer); the JSON error
//	     names the reason only, e.g. {"error":"unauthorized: expired"}
//	503  the WithAcceptCheck check fails (e.g. the spool is gone), with
//	     Retry-After: 1, before the body is read
//	503  the body does not fit in the in-flight budget (WithMaxInflightBytes),
//	     with Retry-After: 1: before any of it is read when its length is
//	     known, else when its buffer would next grow past the budget
//	413  body larger than the limit (default 8 MiB), either on the wire or
//	     after gzip decompression (so a zip bomb costs at most the limit)
//	408  the client was too slow sending the body (server read timeout)
//	400  empty body, broken gzip stream, not JSON, or not the webhook shape
//	422  well-formed webhook body whose event name is not message_logged or
//	     cdr_logged: the request is understood but not processable, which
//	     keeps it apart from garbage (400) in the metrics
//	403  an EventAuthorizer authenticator refused the decoded event (e.g. its
//	     assistant_id does not belong to the secret that signed the token)
//	503  the Consumer returned an error (e.g. a full queue), with Retry-After: 1
//	500  a panic while handling the request (recovered and logged)
//	200  accepted: {"status":"accepted"}. 200 rather than 202 because
//	     the event has been handed to the Consumer, and senders and scripts
//	     commonly test for 200 (Watson Assistant ignores the response).
//
// Every response body is a short JSON object with Content-Type
// application/json. Error messages never quote the body, except for the
// (truncated) event name of a 422, and never contain a token or a secret.
//
// Outside the handler, the *http.Server of NewServer answers 431 to a
// request line and headers over MaxHeaderBytes, closes connections whose
// headers take longer than the read-header timeout (slowloris), closes
// keep-alive connections idle beyond the idle timeout, and cuts off a
// response still being produced at the write timeout; none of these is
// counted in the metrics. A body slower than the read timeout is answered
// 408 by the handler.
//
// # Authentication
//
// Package auth decides who may send (JWT, header, several assistants, NoAuth)
// and the receiver asks it through auth.Authenticator before reading the
// body, and through the optional auth.EventAuthorizer after decoding. The
// receiver owns what follows from its answer: the status code (401, 403),
// the auth-failure metric by auth.ReasonOf, and the rate-limited log line.
//
// # TLS
//
// NewServer takes a tls.Config (TLS 1.2 at least); CertReloader provides
// one whose certificate is reloaded from its PEM files on Reload (SIGHUP) and
// when the files change (watched with internal/filewatch), without a
// restart; a bad new pair keeps the old.
//
// # Metrics
//
//	assistant_otel.webhook.requests          counter   {request}  http.response.status_code, watson_assistant.event
//	assistant_otel.webhook.auth_failures     counter   {failure}  reason
//	assistant_otel.webhook.request.duration  histogram s          http.response.status_code, watson_assistant.event
//	assistant_otel.webhook.refused           counter   {request}  reason
//	assistant_otel.webhook.inflight_bytes    updown    By         (with WithMaxInflightBytes)
//	assistant_otel.tls.handshake_errors      counter   {handshake} reason (NewServer, with WithServerMeter)
//
// watson_assistant.event is message_logged, cdr_logged, unknown (a 422), or
// empty when the request was rejected before its body was decoded. Probes
// (/healthz, /readyz) are not counted. Reasons are auth.Reason* constants;
// a 403 counts assistant_mismatch or assistant_missing, a 503 for the concurrency cap counts
// under status 503 with an empty event. Every 503 is also counted in
// assistant_otel.webhook.refused with its reason: concurrent_requests,
// inflight_bytes, unavailable (the accept check), overloaded (the Consumer's
// intake.ErrOverloaded) or consumer_error.
//
// # Logs
//
// What anyone on the network can cause is logged at most once per reason
// per DefaultLogInterval (WithLogInterval, WithServerLogInterval), the next
// line saying how many were "suppressed": authentication failures (401,
// 403) and failed TLS handshakes (whose error text is not logged). The
// metrics count every one. Strings the sender chooses are never logged
// verbatim: a 422's event name appears as a fingerprint (event_fingerprint),
// a log_id that is not a short plain token likewise. /readyz shows the
// reason it is not ready only to loopback callers (ReadyDetails) unless
// WithReadyDetails is set.
//
// # Memory
//
// A request's body is read into a buffer of exactly its Content-Length, or,
// for chunked and gzip bodies, one that starts at 64 KiB and doubles. The
// in-flight budget counts these buffers; a reservation is held until the
// request is answered, because what is decoded from the body (a few times
// its size, briefly) and the Consumer's copies live as long.
package receiver
