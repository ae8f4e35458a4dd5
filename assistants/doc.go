// Package assistants reads the assistants file: which Watson Assistant
// assistants may send log webhooks, their display names, and where each one's
// webhook secrets are. It turns the file into a receiver authenticator that
// binds every request to the assistant whose secret verified it, and reloads
// the file and the secrets without a restart.
//
// # File
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
// The Authenticator verifies a request against every configured secret (JWT
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
// Reload re-reads the file and every secret and swaps them in atomically;
// wire it to SIGHUP. Watch does the same whenever the file or a secret's
// content changes (polled, so it also sees Kubernetes' symlink swaps of
// mounted secrets). A reload that fails (unreadable or invalid file, missing
// secret) is logged and changes nothing: the previous assistants and secrets
// stay in force. Environment variables are read again on each reload but a
// running process only sees its own environment.
package assistants
