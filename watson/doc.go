// Package watson holds the wire types of the Watson Assistant log webhook and
// decodes webhook bodies into them.
//
// Only the fields that assistant-otel maps are declared; unknown fields are
// ignored and type mismatches inside the payload are tolerated, because the
// log webhook payload "might include data that is not currently supported by
// the API" and changes without notice. The envelope itself is strict: a body
// that is not an object with an event name and an object payload is rejected.
//
// Imports: it imports no package of this module: every other package may
// import it.
package watson
