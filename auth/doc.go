// Package auth owns the authentication of webhook calls: which requests
// may be processed and whose they are. It verifies Watson's JWT
// (JWTAuthenticator), compares a header of the operator's own
// (HeaderAuthenticator), binds requests to the assistants of the assistants
// file (Assistants), keeps secret files in step with their files
// (SecretFiles), and builds all this from the serve configuration
// (FromConfig). The receiver calls it through the Authenticator interface
// and its optional ContextAuthenticator and EventAuthorizer; failures are
// *AuthError values with a low-cardinality reason (the Reason* constants),
// which the receiver turns into status codes and metrics.
//
// It may import config, watson, internal/filewatch and the JWT library; it
// never imports receiver (receiver imports it) nor the OpenTelemetry SDK.
// Secrets never appear in its errors or logs.
//
// # Authenticators
//
//	JWTAuthenticator     Watson's own scheme: the Authorization header holds
//	                     a JWT signed with HMAC (HS256/384/512) and the secret
//	                     typed into the webhook settings; raw or "Bearer ".
//	                     Several secrets may verify (rotation).
//	HeaderAuthenticator  for operators who replace the JWT with a header of
//	                     their own in Watson's webhook settings: a fixed value
//	                     (or several, for rotation), compared in constant time.
//	Assistants           either of the above over the secrets of every
//	                     assistant in the assistants file, binding each
//	                     request to the assistants whose secret verified it.
//	NoAuth               accepts everything; only when explicitly chosen.
//
// The credential is only ever read from its header: never from the query
// string, a cookie or another header, and two headers of the same name are
// refused (multiple_headers) rather than picking one.
//
// # What a JWT can and cannot prevent
//
// The token proves that whoever sent the request knew the secret when the
// token was made. It cannot prove that the body is the one Watson sent: as
// far as is documented, Watson's token has no digest of the body, so a
// captured token (a proxy log, a leaked request) can be replayed with any
// body until it expires. The only mitigation within the protocol is a short
// maximum token age (WithMaxTokenAge, on iat) combined with exp when Watson
// sets it; a replay inside that window is accepted — receiver.TestReplay pins this
// limitation. With a maximum age, a token without iat is refused. Use TLS so that
// tokens cannot be captured on the wire, keep the window short (Watson
// delivers within seconds), and watch the auth-failure metric.
//
// Refused: alg none (any case), every asymmetric algorithm (RS*, PS*, ES*,
// EdDSA) and so HS/RS key confusion, a wrong secret, tampered claims or
// signature, expired or not yet valid tokens (exp, nbf, a future iat), tokens
// older than the maximum age, exp/nbf/iat outside 0..year 9999, a "crit"
// header (unsupported_crit), malformed segments or base64, tokens over the
// size limit, empty or repeated Authorization headers, and other schemes.
//
// # Assistants file
//
// The assistants file says which Watson Assistant assistants may send log
// webhooks, their display names, and where each one's webhook secrets are.
//
// YAML (JSON is YAML too). Unknown keys are errors; secrets are never inline.
//
//	assistants:
//	  - id: 0ddd74a5-98d0-4bb0-9f6c-6cc5ba9e7068   # assistant_id as in the log payload
//	    name: Acme Retail                         # optional: gen_ai.agent.name for its events
//	    secret_files: [/run/secrets/acme-current, /run/secrets/acme-next]
//	    secret_env: [ACME_WEBHOOK_SECRET]
//	  - id: 5b8f0c0e-…
//	    name: Acme Bank
//	    secret_files: [bank.secret]                # relative to the file's directory
//
// Each assistant needs at least one secret, from files (trailing newline
// ignored) or environment variables. Every listed source must yield a
// non-empty secret: a missing file or unset variable is an error, so that a
// typo cannot silently drop a secret. Listing two secrets is how a secret is
// rotated without downtime: configure the new one next to the old one, change
// it in Watson Assistant, then remove the old one. Two assistants may share a
// secret; a token it signs is then bound to both.
//
// # Binding
//
// Assistants verifies a request against every configured secret (JWT
// mode: the HMAC of Watson's token; header mode: the whole header value) and
// remembers which assistants own a secret that verified it. After decoding,
// AuthorizeEvent refuses (403, reason assistant_mismatch) an event whose
// assistant_id is not one of them: a secret of one assistant cannot be used
// to inject events into another assistant's telemetry. An event that names no
// assistant is refused (403, reason assistant_missing): a message_logged
// without assistant_id always; a cdr_logged whose interaction summaries are
// missing, or any of which has no assistant_id, when several assistants are
// configured. Every accepted event therefore names, in gen_ai.agent.id, an
// assistant whose secret signed it.
//
// In the new experience secrets are set per environment, and a log event's
// assistant_id may carry the environment id: list each environment (draft,
// live) as its own entry, with the environment id and that environment's
// secret, so that the draft secret cannot write events of the live
// environment.
//
// # Reload
//
// Assistants.Reload and SecretFiles.Reload re-read the files and swap the
// secrets in atomically; FromConfig returns them for SIGHUP. Watch does the
// same whenever the file or a secret's content changes (polled with
// internal/filewatch, so it also sees Kubernetes' symlink swaps of mounted
// secrets). A reload that fails (unreadable or invalid file, missing
// secret) is logged and changes nothing: the previous assistants and secrets
// stay in force. Environment variables are read again on each reload but a
// running process only sees its own environment.
package auth
