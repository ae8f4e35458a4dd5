// Package config parses the command line and the environment into the
// settings of each assistant-otel command.
//
// Every flag has an environment variable: the flag name upper-cased, dashes
// turned into underscores, prefixed with ASSISTANT_OTEL_ (--listen is
// ASSISTANT_OTEL_LISTEN). A flag on the command line wins over its variable.
// Secrets are read from a file or an environment variable only, never from a
// flag, so they do not show in process listings; they are never printed.
// Export settings are not here: they are the standard OTEL_* variables,
// which the exporter reads.
package config
