// Package mapping turns a decoded Watson Assistant log event into
// OpenTelemetry-shaped values: spans, log records and metric measurements.
//
// Everything here is a pure function of its input and Options: no I/O, no
// clock, no SDK globals. The same event always yields the same ids and the
// same telemetry, on any replica, which is what makes a conversation one
// trace and a redelivered turn the same span.
//
// Imports: it may import watson (its input) and redact, and nothing that does
// I/O: no SDK globals, no exporter, no receiver.
package mapping
