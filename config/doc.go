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
//
// Parse, shared by every command, is the standard flag package plus a small
// helper (help with each flag's variable, errors naming value and form):
// ff/v3, the version on the module proxy, would only replace the variable
// lookup, and the others (kong, urfave/cli) mean redeclaring every flag.
package config
