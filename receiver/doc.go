// Package receiver is the HTTP side of assistant-otel: it accepts Watson
// Assistant log-webhook calls, authenticates them, enforces limits, decodes
// the body with package watson and hands each event to a Consumer. It owns
// status codes and its own metrics and never touches the OpenTelemetry SDK
// (only the metric API, through a metric.Meter given as an option).
//
// # Routes
//
//	POST {path}    the webhook (default /webhook; exact match)
//	GET  /healthz  200 {"status":"ok"} while the process serves
//	GET  /readyz   200 {"status":"ready"}, or 503 {"status":"not ready"} after SetReady(false)
//
// # Webhook checks and status codes
//
// Checks run in this order and the first failure answers; the body is read
// only after authentication, so unauthenticated callers cost no body I/O,
// decompression or JSON parsing (and a client sending Expect: 100-continue
// never gets to send it).
//
//	405  method other than POST (with Allow: POST)
//	415  Content-Encoding other than none, identity or gzip; Content-Type other
//	     than none, application/json or any */*+json (parameters allowed;
//	     a charset other than utf-8 is refused)
//	401  authentication failed (with WWW-Authenticate: Bearer); the JSON error
//	     names the reason only, e.g. {"error":"unauthorized: expired"}
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
// # Metrics
//
//	assistant_otel.webhook.requests          counter   {request}  http.response.status_code, watson_assistant.event
//	assistant_otel.webhook.auth_failures     counter   {failure}  reason
//	assistant_otel.webhook.request.duration  histogram s          http.response.status_code, watson_assistant.event
//
// watson_assistant.event is message_logged, cdr_logged, unknown (a 422), or
// empty when the request was rejected before its body was decoded. Probes
// (/healthz, /readyz) are not counted. Reasons are the Reason* constants.
package receiver
