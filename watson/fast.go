package watson

import (
	"encoding/json"
	"reflect"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// decodeFast decodes body in one pass: it checks the JSON as it goes
// (skipped values too, as encoding/json does), builds only the declared
// fields (contexts and skill state are skipped, not built), and makes the
// strings that need no unescaping substrings of one copy of the body. It
// returns ok only when the result is the one decodeStd gives; it gives up
// (ok false, and Decode falls back to decodeStd) on anything decodeStd
// would treat differently or reports: invalid JSON, invalid UTF-8 in a
// decoded string (encoding/json replaces it), a value of an unexpected type
// (encoding/json tolerates it field by field), an object key that may match
// a declared field only case-insensitively, a repeated array or payload (encoding/json merges them),
// a missing event name, a payload that is not an object, an unknown event,
// a panic. FuzzDecodeFast checks the equivalence.
func decodeFast(body []byte) (ev Event, ok bool) {
	defer func() {
		if recover() != nil { // a bug in the fast decoder must not cost the event
			ev, ok = Event{}, false
		}
	}()
	d := decoder{b: body, s: string(body)}
	var name string // "" also when absent or null: decodeStd rejects both
	decodedFor, payloads, payload := "", 0, 0
	for k := d.firstKey(); k != nil; k = d.nextKey(k) {
		switch string(k) {
		case "event":
			for k := d.firstKey(); k != nil; k = d.nextKey(k) {
				switch string(k) {
				case "name":
					if d.null() {
						name = ""
					} else {
						name, _ = d.text()
					}
				}
			}
		case "payload":
			payloads++ // more than one: encoding/json keeps the last, decodeStd decides
			payload = d.start()
			if name != "" && d.peek() == '{' && d.payload(&ev, name) {
				decodedFor = name
			} else {
				d.skip()
			}
		}
	}
	if d.ws(); d.bad || d.i != len(body) || name == "" || payloads != 1 || body[payload] != '{' {
		return Event{}, false
	}
	if decodedFor != name { // the payload came before the (last) event name
		ev = Event{}
		d.i = payload
		if !d.payload(&ev, name) || d.bad {
			return Event{}, false
		}
	}
	ev.Name, ev.Raw = name, body
	return ev, true
}

// payload decodes the payload of the event name at d.i; false for an event
// it does not know.
func (d *decoder) payload(ev *Event, name string) bool {
	switch name {
	case EventMessageLogged:
		ev.Log = new(Log)
		d.log(ev.Log)
	case EventCDRLogged:
		ev.CDR = new(CDR)
		d.cdr(ev.CDR)
	default:
		return false
	}
	return true
}

// decoder reads one JSON body. A failure is sticky: every method returns
// at once after it, and decodeFast gives up.
type decoder struct {
	b   []byte
	s   string // b as a string: decoded strings without escapes are its substrings
	i   int
	bad bool
	// valueAt is where the value of the member whose name key read last
	// starts (after the colon): nextKey's test of whether it was decoded.
	valueAt int
}

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

// typeDepth is more than the declared types nest: a skipped value counts
// its depth from there, so nothing deeper than encoding/json's limit passes.
const typeDepth = 64

func (d *decoder) fail() { d.bad = true }

func (d *decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, 0 at the end or after a
// failure.
func (d *decoder) peek() byte {
	d.ws()
	if d.bad || d.i >= len(d.b) {
		return 0
	}
	return d.b[d.i]
}

// start is the offset of the next value.
func (d *decoder) start() int {
	d.ws()
	return d.i
}

// lit consumes the literal s or fails.
func (d *decoder) lit(s string) bool {
	if len(d.b)-d.i < len(s) || string(d.b[d.i:d.i+len(s)]) != s {
		d.fail()
		return false
	}
	d.i += len(s)
	return true
}

// null consumes a null if one is next.
func (d *decoder) null() bool {
	return d.peek() == 'n' && d.lit("null")
}

// object opens an object that decodes into a struct: true if a member
// follows; false for {}, null (no effect, as in encoding/json) and, failing,
// a value of another type.
func (d *decoder) object() bool {
	switch d.peek() {
	case '{':
		d.i++
		if d.peek() == '}' {
			d.i++
			return false
		}
		return true
	case 'n':
		d.lit("null")
		return false
	}
	d.fail()
	return false
}

// more moves past the end of a member: true if another follows.
func (d *decoder) more() bool {
	switch d.peek() {
	case ',':
		d.i++
		return true
	case '}':
		d.i++
		return false
	}
	d.fail()
	return false
}

// firstKey and nextKey are the loop over an object that decodes into a
// struct: for k := d.firstKey(); k != nil; k = d.nextKey(k). firstKey opens
// the object (see object) and reads the first member's name; nextKey skips
// the value of member k if the loop's body left it undecoded (an undeclared
// member, see other), then reads the next name. Both return nil after the
// last member and on failure.
func (d *decoder) firstKey() []byte {
	if !d.object() {
		return nil
	}
	return d.key()
}

func (d *decoder) nextKey(k []byte) []byte {
	if d.i == d.valueAt {
		d.other(k)
	}
	if !d.more() {
		return nil
	}
	return d.key()
}

// key reads a member's name and the colon after it. A name with an escape
// or a byte outside printable ASCII fails: encoding/json might fold it to a
// declared name.
func (d *decoder) key() []byte {
	if d.peek() != '"' {
		d.fail()
		return nil
	}
	start := d.i + 1
	for i := start; i < len(d.b); i++ {
		c := d.b[i]
		if c == '"' {
			d.i = i + 1
			if d.peek() != ':' {
				break
			}
			d.i++
			d.valueAt = d.i
			return d.b[start:i]
		}
		if c < 0x20 || c == '\\' || c >= 0x80 {
			break
		}
	}
	d.fail()
	return nil
}

// other skips the value of an undeclared member; a name that matches a
// declared field case-insensitively fails.
func (d *decoder) other(key []byte) {
	if d.bad {
		return
	}
	if foldsToDeclared(key) {
		d.fail()
		return
	}
	d.skip()
}

// skip checks and passes over one value.
func (d *decoder) skip() {
	if d.peek() == 0 || !d.value(typeDepth) {
		d.fail()
	}
}

// raw skips one value and returns its bytes.
func (d *decoder) raw() []byte {
	start := d.start()
	d.skip()
	if d.bad {
		return nil
	}
	return d.b[start:d.i]
}

// str decodes a string; null leaves *p as it is.
func (d *decoder) str(p *string) {
	switch d.peek() {
	case '"':
		if s, ok := d.text(); ok {
			*p = s
		}
	case 'n':
		d.lit("null")
	default:
		d.fail()
	}
}

// text reads a string: a substring of d.s when it has no escape.
func (d *decoder) text() (string, bool) {
	if d.peek() != '"' {
		d.fail()
		return "", false
	}
	b := d.b
	start := d.i + 1
	for i := start; i < len(b); {
		switch c := b[i]; {
		case c == '"':
			d.i = i + 1
			return d.s[start:i], true
		case c == '\\':
			return d.unquote(start, i)
		case c < 0x20:
			d.fail()
			return "", false
		case c < utf8.RuneSelf:
			i++
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				d.fail()
				return "", false
			}
			i += n
		}
	}
	d.fail()
	return "", false
}

// unquote reads the rest of a string that has an escape at i, as
// encoding/json unquotes it (a lone surrogate becomes U+FFFD).
func (d *decoder) unquote(start, i int) (string, bool) {
	b := d.b
	out := append(make([]byte, 0, i-start+32), b[start:i]...)
	for i < len(b) {
		switch c := b[i]; {
		case c == '"':
			d.i = i + 1
			return string(out), true
		case c == '\\':
			if i+1 >= len(b) {
				d.fail()
				return "", false
			}
			switch e := b[i+1]; e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r := hex4(b[i:])
				if r < 0 {
					d.fail()
					return "", false
				}
				i += 6
				if utf16.IsSurrogate(r) {
					if dec := utf16.DecodeRune(r, hex4(b[i:])); dec != utf8.RuneError {
						out = utf8.AppendRune(out, dec)
						i += 6
						continue
					}
					r = utf8.RuneError
				}
				out = utf8.AppendRune(out, r)
				continue
			default:
				d.fail()
				return "", false
			}
			i += 2
		case c < 0x20:
			d.fail()
			return "", false
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				d.fail()
				return "", false
			}
			out = append(out, b[i:i+n]...)
			i += n
		}
	}
	d.fail()
	return "", false
}

// hex4 decodes the \uXXXX escape at the start of b, -1 if there is none.
func hex4(b []byte) rune {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range b[2:6] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// number hands any value to the lenient UnmarshalJSON of Float or Int, as
// encoding/json does.
func number[T any, P interface {
	*T
	json.Unmarshaler
}](d *decoder, p P) {
	if raw := d.raw(); raw != nil {
		_ = p.UnmarshalJSON(raw)
	}
}

// boolean decodes true or false; null leaves *p as it is.
func (d *decoder) boolean(p *bool) {
	switch d.peek() {
	case 't':
		if d.lit("true") {
			*p = true
		}
	case 'f':
		if d.lit("false") {
			*p = false
		}
	case 'n':
		d.lit("null")
	default:
		d.fail()
	}
}

// list decodes an array, each element with elem; null makes it nil, []
// empty but not nil (as encoding/json does).
func list[T any](d *decoder, p *[]T, elem func(*decoder, *T)) {
	if d.null() {
		*p = nil
		return
	}
	if d.peek() != '[' || *p != nil { // a repeated member: encoding/json merges the arrays
		d.fail()
		return
	}
	d.i++
	s := make([]T, 0)
	if d.peek() == ']' {
		d.i++
		*p = s
		return
	}
	for !d.bad {
		var zero T
		s = append(s, zero)
		elem(d, &s[len(s)-1])
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			*p = s
			return
		default:
			d.fail()
		}
	}
}

// ptr decodes a value into *p with decode, allocating *p if nil; null
// makes it nil.
func ptr[T any](d *decoder, p **T, decode func(*decoder, *T)) {
	if d.null() {
		*p = nil
		return
	}
	if *p == nil {
		*p = new(T)
	}
	decode(d, *p)
}

// names decodes an object's member names into a set, skipping the values.
func (d *decoder) names(p *map[string]Ignored) {
	if d.null() {
		*p = nil
		return
	}
	if d.peek() != '{' {
		d.fail()
		return
	}
	d.i++
	if *p == nil {
		*p = map[string]Ignored{}
	}
	if d.peek() == '}' {
		d.i++
		return
	}
	for !d.bad {
		k, ok := d.text()
		if !ok || d.peek() != ':' {
			d.fail()
			return
		}
		d.i++
		d.skip()
		(*p)[k] = Ignored{}
		if !d.more() {
			return
		}
	}
}

// anyMap decodes a free-form object (rare: a hand-off's target) with
// encoding/json.
func (d *decoder) anyMap(p *map[string]any) {
	if raw := d.raw(); raw != nil && json.Unmarshal(raw, p) != nil {
		d.fail()
	}
}

// value checks one value at d.i (after white space) and passes over it,
// as encoding/json's scanner would, nesting at most maxDepth deep.
func (d *decoder) value(depth int) bool {
	if d.i >= len(d.b) {
		return false
	}
	switch c := d.b[d.i]; {
	case c == '{':
		return d.skipObject(depth + 1)
	case c == '[':
		return d.skipArray(depth + 1)
	case c == '"':
		return d.skipString()
	case c == '-' || c >= '0' && c <= '9':
		return d.skipNumber()
	case c == 't':
		return d.lit("true")
	case c == 'f':
		return d.lit("false")
	case c == 'n':
		return d.lit("null")
	}
	return false
}

func (d *decoder) skipObject(depth int) bool {
	if depth > maxDepth {
		return false
	}
	d.i++ // {
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return true
	}
	for {
		if d.i >= len(d.b) || d.b[d.i] != '"' || !d.skipString() {
			return false
		}
		d.ws()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return false
		}
		d.i++
		d.ws()
		if !d.value(depth) {
			return false
		}
		d.ws()
		if d.i >= len(d.b) {
			return false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
			d.ws()
		case '}':
			d.i++
			return true
		default:
			return false
		}
	}
}

func (d *decoder) skipArray(depth int) bool {
	if depth > maxDepth {
		return false
	}
	d.i++ // [
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		return true
	}
	for {
		if !d.value(depth) {
			return false
		}
		d.ws()
		if d.i >= len(d.b) {
			return false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
			d.ws()
		case ']':
			d.i++
			return true
		default:
			return false
		}
	}
}

// skipString checks a string starting at its opening quote.
func (d *decoder) skipString() bool {
	b := d.b
	i := d.i + 1
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			d.i = i + 1
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
				if hex4(b[i:]) < 0 {
					return false
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

func (d *decoder) digits() int {
	n := 0
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
		n++
	}
	return n
}

func (d *decoder) skipNumber() bool {
	if d.b[d.i] == '-' {
		d.i++
	}
	if d.i >= len(d.b) {
		return false
	}
	if d.b[d.i] == '0' {
		d.i++
	} else if d.digits() == 0 {
		return false
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if d.digits() == 0 {
			return false
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if d.digits() == 0 {
			return false
		}
	}
	return true
}

// validJSON reports whether b is one valid JSON value, as json.Valid
// decides (FuzzValidJSON compares them): the check decodeFast makes of the
// values it skips.
func validJSON(b []byte) bool {
	d := decoder{b: b}
	d.ws()
	ok := d.value(0)
	d.ws()
	return ok && d.i == len(b)
}

// foldsToDeclared reports whether an ASCII object key that is not a
// declared field name as it stands matches one case-insensitively.
func foldsToDeclared(key []byte) bool {
	for _, c := range key {
		if c >= 'A' && c <= 'Z' {
			_, ok := declaredKeys[strings.ToLower(string(key))]
			return ok
		}
	}
	return false
}

// declaredKeys are the JSON names of every field the wire types declare.
// Computed once; never modified.
var declaredKeys = collectKeys(reflect.TypeFor[Log](), reflect.TypeFor[CDR](), reflect.TypeFor[envelope]())

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
