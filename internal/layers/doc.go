// Package layers holds one test: every package of the module imports only
// the packages of this module it is allowed to, so that the event path keeps
// one direction (receiver → intake → spool → pump → mapping → exporter) and
// the package doc comments that state the rule stay true.
//
// Imports: it imports no package of this module (the test reads the others'
// import lists from their source).
package layers
