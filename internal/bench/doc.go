// Package bench holds the end-to-end Go benchmarks of assistant-otel (see
// bench_test.go and docs/performance.md): the floor (what any receiver must
// do: decode the body into a generic value and verify one HMAC-SHA256), the
// mapping plus the acknowledged export of the pump, and the whole webhook
// handler with the pump behind it, exporting over real OTLP/gRPC to an
// in-process sink that reads and discards every request.
//
// Imports: Its benchmarks may import every package of the event path; the
// package itself exports nothing.
package bench
