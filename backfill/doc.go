// Package backfill imports historic conversations: `assistant-otel backfill`
// pulls them from the Watson Assistant logs API (package watsonapi) and
// `assistant-otel replay` reads them from files. Either way each log becomes
// the watson.Event the log webhook would have delivered (decoded by
// watson.Decode, so the mapping derives the same trace and span ids) and is
// handed to a Sink, which the service wires to the same mapping and exporter
// as the webhook.
//
// # Exactly once
//
// A Deduper keyed by watson.Event.DedupeKey ("log:" + log_id, the spool's
// key too) skips
// turns already exported, by the webhook or an earlier import; the service
// wires its dedupe store in, and standalone runs use a FileDeduper
// (--dedupe-file) or memory. Keys are marked after the Sink accepted the
// event; a Sink may also answer ErrAlreadyExported.
//
// Backfill lists logs oldest first (sort=request_timestamp) and writes a
// Checkpoint (--checkpoint) after every page, atomically. Stopped early
// (Ctrl-C, an error), it records the cursor of the page being consumed and
// the ids already consumed on it; rerun with the same file, it continues
// there. Cursors expire after 5 minutes, so a later rerun lists again from
// the newest request_timestamp handled (inclusive) and skips the ids the
// checkpoint holds for that timestamp: resuming is exact even without a
// persistent Deduper. A rerun of a completed checkpoint does the same and so
// imports only what arrived since (useful without --to).
//
// # Timestamps and metrics
//
// Spans and log records carry the turn's own request and response times
// (Received supplies response_timestamp for the rare field the mapping takes
// from the arrival time). Metrics are different: counters and histograms are
// aggregated when exported, with no per-point timestamp, so a month of
// history would arrive as one burst in today's rates. Imported therefore
// drops them unless --metrics is given, in which case they are labelled
// watson_assistant.source=backfill (or replay) so dashboards and alerts can
// exclude them.
//
// # Replay files
//
// See Replay: JSON arrays, single objects, JSON lines and saved logs API
// pages, optionally gzip-compressed, holding webhook bodies or bare logs. A
// malformed entry is reported with its file and line and skipped; the run
// finishes the other entries and then fails with ErrInvalidEntries.
//
// It may import watson, watsonapi, mapping (its options), config,
// deadletter and the OTel attribute API; the exporter and the dedupe store
// come in through Sink and Deduper, wired by the command.
package backfill
