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
// The README's "Authentication" section is the reference for users: the
// refused tokens, the assistants file's format, the binding of events to
// assistants and environments, and what a JWT cannot prevent. In short:
//
//   - JWTAuthenticator accepts only HMAC (HS256/384/512) tokens signed with
//     one of its secrets, raw or "Bearer ", within exp, nbf and (with
//     WithMaxTokenAge) a maximum age on iat. Watson's token has no digest of
//     the body, so a captured token can be replayed with any body inside
//     that window; receiver.TestReplay pins this limitation.
//   - HeaderAuthenticator compares a whole header value with its values in
//     constant time. NoAuth accepts everything; only when explicitly chosen.
//   - The credential is only ever read from its header; two headers of the
//     same name are refused (multiple_headers) rather than picking one.
//   - Assistants verifies a request against the secrets of every assistant
//     in the file (secrets from files or environment variables, never
//     inline; every listed source must yield one) and remembers whose
//     secret verified it; AuthorizeEvent then refuses an event naming
//     another assistant (assistant_mismatch) or none (assistant_missing).
//
// Assistants.Reload and SecretFiles.Reload re-read the files and swap the
// secrets in atomically; FromConfig returns them for SIGHUP. Watch does the
// same whenever the file or a secret's content changes (polled with
// internal/filewatch, so it also sees Kubernetes' symlink swaps of mounted
// secrets). A reload that fails is logged and changes nothing.
package auth
