package watson

import (
	"reflect"
	"strings"
)

// validJSON reports whether b is one valid JSON value (RFC 8259, as
// encoding/json.Valid decides, nesting at most maxDepth deep), several
// times faster than json.Valid. The fast decoder does not check the values
// it skips, so decodeFast validates first. FuzzValidJSON checks it against
// json.Valid.
func validJSON(b []byte) bool {
	ok, _ := scanJSON(b)
	return ok
}

// scanJSON validates b like validJSON and also reports whether an object key
// could match a declared field only by encoding/json's case-insensitive
// matching (e.g. "callOut" for "callout"), which the fast decoder does not
// always apply: such bodies take the encoding/json path.
func scanJSON(b []byte) (valid, foldRisk bool) {
	v := validator{b: b}
	v.ws()
	if !v.value(0) {
		return false, v.foldRisk
	}
	v.ws()
	return v.i == len(b), v.foldRisk
}

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

type validator struct {
	b        []byte
	i        int
	foldRisk bool
}

func (v *validator) ws() {
	for v.i < len(v.b) {
		switch v.b[v.i] {
		case ' ', '\t', '\n', '\r':
			v.i++
		default:
			return
		}
	}
}

func (v *validator) value(depth int) bool {
	if v.i >= len(v.b) {
		return false
	}
	switch c := v.b[v.i]; {
	case c == '{':
		return v.object(depth + 1)
	case c == '[':
		return v.array(depth + 1)
	case c == '"':
		return v.str()
	case c == '-' || c >= '0' && c <= '9':
		return v.number()
	case c == 't':
		return v.lit("true")
	case c == 'f':
		return v.lit("false")
	case c == 'n':
		return v.lit("null")
	}
	return false
}

func (v *validator) lit(s string) bool {
	if len(v.b)-v.i < len(s) || string(v.b[v.i:v.i+len(s)]) != s {
		return false
	}
	v.i += len(s)
	return true
}

func (v *validator) object(depth int) bool {
	if depth > maxDepth {
		return false
	}
	v.i++ // {
	v.ws()
	if v.i < len(v.b) && v.b[v.i] == '}' {
		v.i++
		return true
	}
	for {
		start := v.i
		if v.i >= len(v.b) || v.b[v.i] != '"' || !v.str() {
			return false
		}
		if !v.foldRisk && foldsToDeclared(v.b[start+1:v.i-1]) {
			v.foldRisk = true
		}
		v.ws()
		if v.i >= len(v.b) || v.b[v.i] != ':' {
			return false
		}
		v.i++
		v.ws()
		if !v.value(depth) {
			return false
		}
		v.ws()
		if v.i >= len(v.b) {
			return false
		}
		switch v.b[v.i] {
		case ',':
			v.i++
			v.ws()
		case '}':
			v.i++
			return true
		default:
			return false
		}
	}
}

func (v *validator) array(depth int) bool {
	if depth > maxDepth {
		return false
	}
	v.i++ // [
	v.ws()
	if v.i < len(v.b) && v.b[v.i] == ']' {
		v.i++
		return true
	}
	for {
		if !v.value(depth) {
			return false
		}
		v.ws()
		if v.i >= len(v.b) {
			return false
		}
		switch v.b[v.i] {
		case ',':
			v.i++
			v.ws()
		case ']':
			v.i++
			return true
		default:
			return false
		}
	}
}

// str checks a string starting at its opening quote.
func (v *validator) str() bool {
	b := v.b
	i := v.i + 1
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			v.i = i + 1
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if i+1 >= len(b) {
				return false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					return false
				}
				for _, h := range b[i+2 : i+6] {
					if !isHex(h) {
						return false
					}
				}
				i += 6
			default:
				return false
			}
		default:
			i++
		}
	}
	return false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func (v *validator) digits() int {
	n := 0
	for v.i < len(v.b) && v.b[v.i] >= '0' && v.b[v.i] <= '9' {
		v.i++
		n++
	}
	return n
}

func (v *validator) number() bool {
	if v.b[v.i] == '-' {
		v.i++
	}
	if v.i >= len(v.b) {
		return false
	}
	if v.b[v.i] == '0' {
		v.i++
	} else if v.digits() == 0 {
		return false
	}
	if v.i < len(v.b) && v.b[v.i] == '.' {
		v.i++
		if v.digits() == 0 {
			return false
		}
	}
	if v.i < len(v.b) && (v.b[v.i] == 'e' || v.b[v.i] == 'E') {
		v.i++
		if v.i < len(v.b) && (v.b[v.i] == '+' || v.b[v.i] == '-') {
			v.i++
		}
		if v.digits() == 0 {
			return false
		}
	}
	return true
}

// foldsToDeclared reports whether a raw object key is not a declared field
// name as it stands but may match one case-insensitively: ASCII with upper
// case that lower-cases to a declared name, or any escape or non-ASCII byte
// (Unicode folding, e.g. the Kelvin sign for k), which is rare enough to
// leave to encoding/json.
func foldsToDeclared(key []byte) bool {
	upper := false
	for _, c := range key {
		switch {
		case c == '\\' || c >= 0x80:
			return true
		case c >= 'A' && c <= 'Z':
			upper = true
		}
	}
	if !upper {
		return false
	}
	_, ok := declaredKeys[strings.ToLower(string(key))]
	return ok
}

// declaredKeys are the JSON names of every field the wire types declare.
// Computed once; never modified.
var declaredKeys = collectKeys(reflect.TypeFor[Log](), reflect.TypeFor[CDR](), reflect.TypeFor[fastEnvelope]())

func collectKeys(types ...reflect.Type) map[string]struct{} {
	keys := map[string]struct{}{}
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" {
				name = f.Name
			}
			keys[strings.ToLower(name)] = struct{}{}
			walk(f.Type)
		}
	}
	for _, t := range types {
		walk(t)
	}
	return keys
}
