// Package redact removes personal data from conversation texts before they
// leave the process: e-mail addresses, phone numbers, payment card numbers
// (Luhn-checked), IBANs (mod-97-checked), IPv4 and IPv6 addresses, and
// whatever operator-supplied regular expressions match.
//
// Each finding is replaced by [REDACTED:<name>], e.g. [REDACTED:email]. The
// square-bracket form survives HTML and Markdown rendering (an <email> tag
// would vanish in a browser) and is easy to grep.
//
// Text Watson already masked stays as it is: asterisks are never replaced,
// and a candidate that touches an asterisk ("j***@example.com",
// "************1111") is left alone, since it is a masked value already.
//
// The built-in detectors are hand-written scanners, not regular
// expressions, and cheap pre-checks skip them when a text cannot hold what
// they look for (no '@', fewer than 7 digits, …): a text with nothing to
// redact costs one pass over its bytes and no allocation. Only ASCII digits
// and letters are examined, so any other script, emoji and RTL text pass
// through untouched, and a redacted text is valid UTF-8 when its input is.
//
// Detection is heuristic. It favours catching personal data over keeping
// every number: dates, times, decimals, amounts, versions, UUIDs and short
// order numbers ("A-1042", "#1042", "ORD-2024-000123") are kept, but an
// unrelated 13–19 digit number that starts with 2–6 (as payment cards do)
// and happens to pass the Luhn check is redacted as a card. A value after
// "=" is a candidate like any other ("credit_card=4111…", the form entity
// values are exported in). Bare 10-digit North American numbers without
// separators ("4155552671") are not recognised as phones, to spare order and
// account numbers; written with separators or a "+1" they are.
package redact

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Built-in detector names.
const (
	Email = "email"
	Phone = "phone"
	Card  = "card"
	IBAN  = "iban"
	IP    = "ip"
)

// Builtins returns the names of the built-in detectors, all on by default.
func Builtins() []string { return []string{Email, Phone, Card, IBAN, IP} }

// Replacement returns what a finding of the named detector becomes.
func Replacement(name string) string { return "[REDACTED:" + name + "]" }

type builtin uint8

const (
	bEmail builtin = 1 << iota
	bPhone
	bCard
	bIBAN
	bIP
	bAll = bEmail | bPhone | bCard | bIBAN | bIP
)

var builtinBits = map[string]builtin{Email: bEmail, Phone: bPhone, Card: bCard, IBAN: bIBAN, IP: bIP}

// Pre-computed replacements of the built-ins.
var (
	replEmail = Replacement(Email)
	replPhone = Replacement(Phone)
	replCard  = Replacement(Card)
	replIBAN  = Replacement(IBAN)
	replIP    = Replacement(IP)
)

// Redactor redacts texts. The zero value and nil redact nothing; build one
// with New. It is safe for concurrent use.
type Redactor struct {
	on       builtin
	patterns []pattern
}

type pattern struct {
	name, repl string
	re         *regexp.Regexp
}

type config struct {
	on       builtin
	patterns []pattern
	errs     []error
}

// Option configures New.
type Option func(*config)

var validName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// WithPattern adds an operator-supplied detector: every match of re becomes
// [REDACTED:name]. name is 1–32 characters of a-z, 0-9 and _, starting with
// a letter, and must not repeat. Matches that contain an asterisk (already
// masked) and empty matches are kept.
func WithPattern(name string, re *regexp.Regexp) Option {
	return func(c *config) {
		switch {
		case !validName.MatchString(name):
			c.errs = append(c.errs, fmt.Errorf("redact: pattern name %q must match %s", name, validName))
		case re == nil:
			c.errs = append(c.errs, fmt.Errorf("redact: pattern %q is nil", name))
		default:
			for _, p := range c.patterns {
				if p.name == name {
					c.errs = append(c.errs, fmt.Errorf("redact: pattern %q given twice", name))
					return
				}
			}
			c.patterns = append(c.patterns, pattern{name: name, repl: Replacement(name), re: re})
		}
	}
}

// ParsePattern parses a NAME=REGEX flag value (Go RE2 syntax) for
// WithPattern.
func ParsePattern(spec string) (string, *regexp.Regexp, error) {
	name, expr, ok := strings.Cut(spec, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" || expr == "" {
		return "", nil, fmt.Errorf("redact: pattern %q: want NAME=REGEX", truncate(spec, 40))
	}
	if !validName.MatchString(name) {
		return "", nil, fmt.Errorf("redact: pattern name %q must match %s", name, validName)
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return "", nil, fmt.Errorf("redact: pattern %s: %w", name, err)
	}
	return name, re, nil
}

// WithoutBuiltin switches the named built-in detectors off.
func WithoutBuiltin(names ...string) Option {
	return func(c *config) {
		for _, n := range names {
			b, ok := builtinBits[strings.TrimSpace(n)]
			if !ok {
				c.errs = append(c.errs, fmt.Errorf("redact: unknown built-in detector %q (have %s)", n, strings.Join(Builtins(), ", ")))
				continue
			}
			c.on &^= b
		}
	}
}

// WithBuiltins keeps only the named built-in detectors on; with no names,
// none.
func WithBuiltins(names ...string) Option {
	return func(c *config) {
		c.on = 0
		for _, n := range names {
			b, ok := builtinBits[strings.TrimSpace(n)]
			if !ok {
				c.errs = append(c.errs, fmt.Errorf("redact: unknown built-in detector %q (have %s)", n, strings.Join(Builtins(), ", ")))
				continue
			}
			c.on |= b
		}
	}
}

// New returns a Redactor with every built-in detector on, changed by opts.
func New(opts ...Option) (*Redactor, error) {
	c := config{on: bAll}
	for _, o := range opts {
		o(&c)
	}
	if err := errors.Join(c.errs...); err != nil {
		return nil, err
	}
	return &Redactor{on: c.on, patterns: c.patterns}, nil
}

// Enabled returns the names of the detectors in use, built-ins first.
func (r *Redactor) Enabled() []string {
	if r == nil {
		return nil
	}
	var out []string
	for _, n := range Builtins() {
		if r.on&builtinBits[n] != 0 {
			out = append(out, n)
		}
	}
	for _, p := range r.patterns {
		out = append(out, p.name)
	}
	return out
}

// span is one finding: s[start:end] becomes repl.
type span struct {
	start, end int
	repl       string
}

// Redact returns s with every finding replaced. It returns s itself,
// without allocating, when there is nothing to redact.
//
// The built-in detectors and the patterns read a normalised view of s (see
// normalise.go): full-width, Arabic-Indic and other digits, "＠", invisible
// characters inside a number or an address are found as if written in
// ASCII, and only the runes of a finding are replaced. Patterns also read s
// as written. The result is never longer than MaxLen(len(s)) bytes.
//
// Redacting the result again changes nothing: a [REDACTED:name] mark is
// never redacted, and since a mark can make a neighbour detectable (its "]"
// no longer glues "::1" to the digit it replaced), Redact repeats until
// nothing changes. Each repeat only runs when the previous one found
// something, and at most maxPasses run; a text built to need more (a chain
// of findings each hidden by the next) may gain marks when redacted again.
func (r *Redactor) Redact(s string) string {
	out := r.redactOnce(s)
	for pass := 1; pass < maxPasses && out != s; pass++ {
		s, out = out, r.redactOnce(out)
	}
	return out
}

// maxPasses bounds the repeats of Redact, and so its cost on a hostile text.
const maxPasses = 8

func (r *Redactor) redactOnce(s string) string {
	if r == nil || len(s) < 3 {
		return s
	}
	n := count(s)
	if n.high == 0 || len(s) > maxViewLen {
		// Pure ASCII is its own view.
		var buf [8]span
		spans := r.findBuiltins(s, n, buf[:0])
		spans = r.findPatterns(s, spans)
		if len(spans) == 0 {
			return s
		}
		return r.apply(s, spans)
	}
	vn, changed, invisibles := viewCounts(s)
	if !changed {
		var buf [8]span
		spans := r.findBuiltins(s, vn, buf[:0])
		spans = r.findPatterns(s, spans)
		if len(spans) == 0 {
			return s
		}
		return r.apply(s, spans)
	}
	if !r.wants(vn) && len(r.patterns) == 0 {
		return s
	}
	w := newView(s, false)
	spans := r.findBuiltins(w.v, vn, nil)
	spans = r.findPatterns(w.v, spans)
	for i := range spans {
		spans[i] = w.original(spans[i])
	}
	if invisibles {
		w := newView(s, true)
		n := len(spans)
		spans = r.findBuiltins(w.v, count(w.v), spans)
		for i := n; i < len(spans); i++ {
			spans[i] = w.original(spans[i])
		}
	}
	spans = r.findPatterns(s, spans)
	if len(spans) == 0 {
		return s
	}
	return r.apply(s, spans)
}

// maxViewLen bounds the texts read through a view (its offsets are int32);
// longer ones are read as written.
const maxViewLen = 1<<31 - 1

// wants reports whether a text with counts n may hold a built-in finding.
func (r *Redactor) wants(n counts) bool {
	email := r.on&bEmail != 0 && n.ats > 0 && n.dots > 0
	iban := r.on&bIBAN != 0 && n.digits >= 10
	ipv4 := r.on&bIP != 0 && n.digits >= 4 && n.dots >= 3
	ipv6 := r.on&bIP != 0 && n.colons >= 2
	numbers := r.on&(bPhone|bCard) != 0 && n.digits >= 7
	return email || iban || ipv4 || ipv6 || numbers
}

// findBuiltins appends the findings of the built-in detectors in s, whose
// counts are n.
func (r *Redactor) findBuiltins(s string, n counts, spans []span) []span {
	if r.on&bEmail != 0 && n.ats > 0 && n.dots > 0 {
		spans = findEmails(s, spans)
	}
	if r.on&bIBAN != 0 && n.digits >= 10 {
		spans = findIBANs(s, spans)
	}
	if r.on&bIP != 0 && n.digits >= 4 && n.dots >= 3 {
		spans = findIPv4(s, spans)
	}
	if r.on&bIP != 0 && n.colons >= 2 {
		spans = findIPv6(s, spans)
	}
	if r.on&(bPhone|bCard) != 0 && n.digits >= 7 {
		spans = findNumbers(s, spans, r.on&bPhone != 0, r.on&bCard != 0)
		if r.on&bCard != 0 {
			spans = findSepCards(s, spans)
		}
	}
	return spans
}

// findPatterns appends the matches of the operator's patterns in s.
func (r *Redactor) findPatterns(s string, spans []span) []span {
	for _, p := range r.patterns {
		for _, loc := range p.re.FindAllStringIndex(s, -1) {
			if loc[1] > loc[0] && !strings.Contains(s[loc[0]:loc[1]], "*") {
				spans = append(spans, span{loc[0], loc[1], p.repl})
			}
		}
	}
	return spans
}

// Lengths behind MaxLen.
const (
	minBuiltinSpan = 3  // the shortest built-in finding: "::1"
	maxBuiltinRepl = 16 // the longest built-in replacement: "[REDACTED:email]"
)

// MaxLen returns the most bytes Redact can return for a text of n bytes.
// With the built-in detectors only, a finding covers at least 3 bytes
// ("::1") and becomes at most 16 ("[REDACTED:email]"), so the bound is
// n + 13·⌊n/3⌋, under 5.34·n. An operator pattern's match covers at least
// one byte and becomes [REDACTED:name] (at most 43 bytes), so with patterns
// the bound is n·len of the longest such replacement. Exported texts are
// truncated to --max-text-length after redaction in any case.
func (r *Redactor) MaxLen(n int) int {
	bound := n + (maxBuiltinRepl-minBuiltinSpan)*(n/minBuiltinSpan)
	if r != nil {
		for _, p := range r.patterns {
			bound = max(bound, n*len(p.repl))
		}
	}
	return bound
}

// apply replaces the spans, merging overlaps: the earliest (then longest)
// finding names the merged one. A built-in finding shorter than
// minBuiltinSpan cannot happen; one would be kept, to hold MaxLen.
func (r *Redactor) apply(s string, spans []span) string {
	if strings.Contains(s, markPrefix) {
		spans = outsideMarks(s, spans)
		if len(spans) == 0 {
			return s
		}
	}
	slices.SortFunc(spans, func(a, b span) int {
		if a.start != b.start {
			return a.start - b.start
		}
		return b.end - a.end
	})
	var sb strings.Builder
	sb.Grow(len(s) + 16)
	pos := 0
	for i := 0; i < len(spans); {
		cur := spans[i]
		i++
		for i < len(spans) && spans[i].start < cur.end {
			cur.end = max(cur.end, spans[i].end)
			i++
		}
		if cur.end-cur.start < minBuiltinSpan && !r.isPatternRepl(cur.repl) {
			continue
		}
		sb.WriteString(s[pos:cur.start])
		sb.WriteString(cur.repl)
		pos = cur.end
	}
	sb.WriteString(s[pos:])
	return sb.String()
}

const markPrefix = "[REDACTED:"

// outsideMarks drops the findings that touch a [REDACTED:name] mark already
// in s, so that redacting a redacted text changes nothing (a pattern could
// match a mark's name).
func outsideMarks(s string, spans []span) []span {
	var marks [][2]int
	for from := 0; ; {
		k := strings.Index(s[from:], markPrefix)
		if k < 0 {
			break
		}
		k += from
		e := k + len(markPrefix)
		for e < len(s) && e-k-len(markPrefix) <= 32 && (isAlnum(s[e]) || s[e] == '_') {
			e++
		}
		if e < len(s) && s[e] == ']' && e > k+len(markPrefix) {
			marks = append(marks, [2]int{k, e + 1})
			from = e + 1
		} else {
			from = k + 1
		}
	}
	// Both in order of start: one sweep. Spans do not nest in marks
	// beyond the next few, so the inner loop is short.
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	m := 0
	return slices.DeleteFunc(spans, func(sp span) bool {
		for m < len(marks) && marks[m][1] <= sp.start {
			m++
		}
		return m < len(marks) && marks[m][0] < sp.end
	})
}

func (r *Redactor) isPatternRepl(repl string) bool {
	for _, p := range r.patterns {
		if p.repl == repl {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isAlnum(c byte) bool  { return isDigit(c) || isLetter(c) }
func isHex(c byte) bool    { return isDigit(c) || c|0x20 >= 'a' && c|0x20 <= 'f' }

// isWord reports bytes that glue a candidate to the text around it: ASCII
// letters and digits, '_' and the '*' of a masked value.
func isWord(c byte) bool { return isAlnum(c) || c == '_' || c == '*' }

// isJoiner reports punctuation that joins alphanumerics into one token
// ("A-1042", "v1.2", "12:30", "a/123", "1,5").
func isJoiner(c byte) bool {
	return c == '-' || c == '.' || c == ':' || c == '/' || c == ',' || c == '#' || c == '\\'
}

// leftBoundary reports whether a candidate may start at p: it must not
// continue a word, an identifier or a number.
func leftBoundary(s string, p int) bool {
	if p == 0 {
		return true
	}
	c := s[p-1]
	switch {
	case isWord(c) || c == '#' || c == '$' || c == '@' || c == '&' || c == '%':
		return false
	case c == '=':
		// "credit_card=4111…", "phone_number=(415) 555-2671": the value of
		// a key=value pair (entity values are exported so) starts a
		// candidate; "==4111" does not.
		return p < 2 || s[p-2] != '='
	case c == ':':
		// "Tel:0301234567" is a label; "12:30" a time.
		return p < 2 || !isDigit(s[p-2]) && s[p-2] != '*'
	case isJoiner(c) || c == '+':
		return p < 2 || !isWord(s[p-2])
	}
	return true
}

// wordBoundary reports whether p does not continue a word.
func wordBoundary(s string, p int) bool { return p == 0 || !isWord(s[p-1]) }

// rightBoundary reports whether a candidate may end at p.
func rightBoundary(s string, p int) bool {
	if p >= len(s) {
		return true
	}
	c := s[p]
	switch {
	case isWord(c) || c == '%' || c == '@':
		return false
	case isJoiner(c):
		return p+1 >= len(s) || !isWord(s[p+1])
	}
	return true
}

// skipToken advances past the word-like token at p, joiners included.
func skipToken(s string, p int) int {
	for p < len(s) && (isWord(s[p]) || isJoiner(s[p]) && p+1 < len(s) && isWord(s[p+1])) {
		p++
	}
	return p
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// ---- e-mail ----

func isLocal(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

func findEmails(s string, spans []span) []span {
	from := 0
	for from < len(s) {
		k := strings.IndexByte(s[from:], '@')
		if k < 0 {
			break
		}
		k += from
		from = k + 1
		start, cls := k, 0
		for start > 0 {
			c, size := lastEmailChar(s[:start], true)
			if c == 0 || cls != 0 && c != cls {
				break
			}
			cls = c
			start -= size
		}
		for start < k && s[start] == '.' {
			start++
		}
		if start == k || start > 0 && s[start-1] == '*' {
			continue
		}
		end, ok := domainEnd(s, k+1)
		if !ok || end < len(s) && s[end] == '*' {
			continue
		}
		spans = append(spans, span{start, end, replEmail})
		from = end
	}
	return spans
}

// Classes of the characters of a local part or a domain label. A local part
// or a domain is all of one class, so that an address written inside text
// without spaces ("メールはtaro@example.jpです") ends where its script does.
const (
	emailSpaced   = 1 // ASCII, and letters of scripts written with spaces (ü, я, é, ع)
	emailUnspaced = 2 // letters of scripts written without spaces (漢字, かな, 한글, ไทย)
)

// emailChar returns the class of the character at the start of s, 0 if it
// cannot be part of an address, and its size. local selects the characters
// of a local part, else those of a domain label.
func emailChar(s string, local bool) (int, int) {
	if c := s[0]; c < utf8.RuneSelf {
		if local && isLocal(c) || !local && (isAlnum(c) || c == '-') {
			return emailSpaced, 1
		}
		return 0, 1
	}
	r, size := utf8.DecodeRuneInString(s)
	return runeClass(r), size
}

func lastEmailChar(s string, local bool) (int, int) {
	if c := s[len(s)-1]; c < utf8.RuneSelf {
		return emailChar(s[len(s)-1:], local)
	}
	r, size := utf8.DecodeLastRuneInString(s)
	return runeClass(r), size
}

func runeClass(r rune) int {
	switch {
	case !unicode.IsLetter(r) && !unicode.IsMark(r):
		return 0
	case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul,
		unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar):
		return emailUnspaced
	}
	return emailSpaced
}

// domainEnd returns the end of a domain name starting at p: dot-separated
// labels of letters (of any script), digits and inner hyphens, at least
// two, the last of two or more letters (or an xn-- label).
func domainEnd(s string, p int) (int, bool) {
	labels, cls := 0, 0
	lastStart, lastEnd, lastChars := 0, 0, 0
	i := p
	for {
		ls, chars := i, 0
		for i < len(s) {
			c, size := emailChar(s[i:], false)
			if c == 0 || cls != 0 && c != cls {
				break
			}
			cls = c
			i += size
			chars++
		}
		if i == ls || s[ls] == '-' || s[i-1] == '-' || chars > 63 {
			// An empty label or one with an edge hyphen ends the domain
			// at the previous label.
			break
		}
		labels++
		lastStart, lastEnd, lastChars = ls, i, chars
		if i+1 < len(s) && s[i] == '.' {
			if c, _ := emailChar(s[i+1:], false); c != 0 && c == cls {
				i++
				continue
			}
		}
		break
	}
	if labels < 2 || lastChars < 2 {
		return 0, false
	}
	tld := s[lastStart:lastEnd]
	if !strings.HasPrefix(strings.ToLower(tld), "xn--") {
		for _, r := range tld {
			if r < utf8.RuneSelf && !isLetter(byte(r)) || r >= utf8.RuneSelf && runeClass(r) == 0 {
				return 0, false
			}
		}
	}
	return lastEnd, true
}

// ---- IP addresses ----

func findIPv4(s string, spans []span) []span {
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		if !wordBoundary(s, i) || i > 0 && s[i-1] == '.' {
			i = skipToken(s, i)
			continue
		}
		end, ok := ipv4End(s, i)
		// A port may follow (":8080"), not more digits or dots.
		if ok && (end == len(s) || !isWord(s[end]) && (s[end] != '.' || end+1 == len(s) || !isDigit(s[end+1]))) && !afterVersionWord(s, i) {
			spans = append(spans, span{i, end, replIP})
		}
		i = skipToken(s, i)
	}
	return spans
}

// afterVersionWord reports whether the word before p names a version
// ("version 10.4.1.2", "build 2024.5.17.1"): four dotted numbers there are
// a version, not an address.
func afterVersionWord(s string, p int) bool {
	e := p
	for e > 0 && (s[e-1] == ' ' || s[e-1] == ':') {
		e--
	}
	b := e
	for b > 0 && isLetter(s[b-1]) {
		b--
	}
	if e == p || b > 0 && isWord(s[b-1]) {
		return false
	}
	switch strings.ToLower(s[b:e]) {
	case "version", "ver", "build", "release", "firmware", "fw", "v":
		return true
	}
	return false
}

// ipv4End parses four dotted decimal octets (0–255, no leading zeros) at p.
func ipv4End(s string, p int) (int, bool) {
	i := p
	for part := 0; part < 4; part++ {
		if part > 0 {
			if i >= len(s) || s[i] != '.' {
				return 0, false
			}
			i++
		}
		st, v := i, 0
		for i < len(s) && isDigit(s[i]) && i-st < 4 {
			v = v*10 + int(s[i]-'0')
			i++
		}
		n := i - st
		if n == 0 || n > 3 || v > 255 || n > 1 && s[st] == '0' {
			return 0, false
		}
	}
	return i, true
}

func findIPv6(s string, spans []span) []span {
	for i := 0; i < len(s); {
		c := s[i]
		if !isHex(c) && c != ':' {
			i++
			continue
		}
		if i > 0 && (isWord(s[i-1]) || s[i-1] == ':' || s[i-1] == '.') {
			for i < len(s) && (isHex(s[i]) || s[i] == ':') {
				i++
			}
			continue
		}
		j, colons, hex, digit := i, 0, false, false
		for j < len(s) && (isHex(s[j]) || s[j] == ':' || s[j] == '.') && j-i < 64 {
			switch {
			case s[j] == ':':
				colons++
			case isDigit(s[j]):
				hex, digit = true, true
			default:
				hex = true
			}
			j++
		}
		end := j
		for end > i && s[end-1] == '.' {
			end--
		}
		if end-i >= 2 && s[end-1] == ':' && s[end-2] != ':' { // "fe80::1: …"
			end--
		}
		st := i
		if s[st] == ':' && st+1 < end && s[st+1] != ':' {
			st++ // a label's colon (a full-width "：" in the view): "電話：2001:db8::1"
		}
		if (colons >= 3 || digit) && hex && (rightBoundary(s, end) || s[end] == '%') {
			if a, err := netip.ParseAddr(s[st:end]); err == nil && a.Is6() {
				spans = append(spans, span{st, end, replIP})
			}
		}
		if j == i {
			j++
		}
		i = j
	}
	return spans
}

// ---- IBAN ----

// ibanLengths is the length of each country's IBAN (SWIFT IBAN registry).
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
	"BL": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18,
	"DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22,
	"GF": 27, "GI": 23, "GL": 18, "GP": 27, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22,
	"IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21,
	"LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MF": 27, "MK": 19, "MN": 20,
	"MQ": 27, "MR": 27, "MT": 31, "MU": 30, "NC": 27, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PF": 27,
	"PK": 24, "PL": 28, "PM": 27, "PS": 29, "PT": 25, "QA": 29, "RE": 27, "RO": 24, "RS": 22, "RU": 33,
	"SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
	"TF": 27, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "WF": 27, "XK": 20, "YE": 30,
	"YT": 27,
}

func findIBANs(s string, spans []span) []span {
	for i := 0; i+4 <= len(s); i++ {
		if !isLetter(s[i]) || !isLetter(s[i+1]) || !isDigit(s[i+2]) || !isDigit(s[i+3]) || !wordBoundary(s, i) {
			continue
		}
		want, ok := ibanLengths[string([]byte{s[i] &^ 0x20, s[i+1] &^ 0x20})]
		if !ok {
			continue
		}
		var compact [34]byte
		n, j := 0, i
		for j < len(s) && n < want {
			c := s[j]
			switch {
			case isAlnum(c):
				compact[n] = c
				if isLetter(c) {
					compact[n] = c &^ 0x20
				}
				n++
				j++
				continue
			case (c == ' ' || c == '-') && n%4 == 0 && j+1 < len(s) && isAlnum(s[j+1]):
				j++
				continue
			}
			break
		}
		if n == want && rightBoundary(s, j) && mod97(compact[:n]) == 1 {
			spans = append(spans, span{i, j, replIBAN})
			i = j - 1
		}
	}
	return spans
}

// mod97 computes the ISO 7064 check of an IBAN: its first four characters
// moved to the end, letters as 10–35.
func mod97(iban []byte) int {
	rem := 0
	for k := range iban {
		c := iban[(k+4)%len(iban)]
		if isDigit(c) {
			rem = (rem*10 + int(c-'0')) % 97
		} else {
			rem = (rem*100 + int(c-'A') + 10) % 97
		}
	}
	return rem
}

// ---- phone and card numbers ----

// findSepCards finds cards written with "." or "/" between their groups
// ("4111.1111.1111.1111", "4111/1111/1111/1111"). The run parser does not
// join such groups into cards, since dates and versions use these
// separators; a card here must start with a group of four digits, have 3–5
// groups of one separator, later groups of 3–6 digits (the last of 1–6), and
// pass the card checks.
func findSepCards(s string, spans []span) []span {
	for i := 0; i+15 <= len(s); i++ {
		if !isDigit(s[i]) || i > 0 && isDigit(s[i-1]) {
			continue
		}
		if i+5 > len(s) || !isDigit(s[i+1]) || !isDigit(s[i+2]) || !isDigit(s[i+3]) || s[i+4] != '.' && s[i+4] != '/' {
			continue
		}
		if !leftBoundary(s, i) {
			continue
		}
		sep := s[i+4]
		var run numberRun
		j := i
		for run.n < 5 {
			g := &run.groups[run.n]
			g.start = j
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			g.end = j
			run.n++
			if j+1 < len(s) && s[j] == sep && isDigit(s[j+1]) {
				j++
				continue
			}
			break
		}
		ok := run.n >= 3 && rightBoundary(s, j) && !(j+1 < len(s) && s[j] == sep && isDigit(s[j+1]))
		digits := 0
		for k := 0; k < run.n && ok; k++ {
			n := run.groups[k].end - run.groups[k].start
			digits += n
			switch {
			case k == 0:
				ok = n == 4
			case k < run.n-1:
				ok = n >= 3 && n <= 6
			default:
				ok = n <= 6
			}
		}
		if ok && digits >= 13 && digits <= 19 && run.stats(s, 0, run.n-1).luhnCard(s, &run, 0, run.n-1) {
			spans = append(spans, span{i, j, replCard})
		}
		i = j
	}
	return spans
}

const (
	sepSpace uint8 = 1 << iota
	sepDash
	sepDot
)

const (
	nbsp      = "\u00a0"
	maxGroups = 16
)

// group is one group of digits of a run.
type group struct {
	start, end  int  // the digits
	open, close bool // "(" before, ")" after the digits
	sep         uint8
}

// numberRun is a run of digit groups joined by single separators.
type numberRun struct {
	begin, end int // the whole run, "+" included
	plus       bool
	groups     [maxGroups]group
	n          int
}

func findNumbers(s string, spans []span, phone, card bool) []span {
	for i := 0; i < len(s); {
		c := s[i]
		startsGroup := isDigit(c) || (c == '+' || c == '(') && i+1 < len(s) && isDigit(s[i+1])
		if !startsGroup {
			i++
			continue
		}
		if !leftBoundary(s, i) {
			// A card glued to a label ("CC#4111 1111 1111 1111") is
			// still a card: skipping only its first group would leave
			// the rest to be found as a phone, and its first digits
			// exported.
			if end, ok := gluedCard(s, i, card); ok {
				spans = append(spans, span{i, end, replCard})
				i = end
				continue
			}
			i = skipToken(s, i+1)
			continue
		}
		var run numberRun
		ok := parseRun(s, i, &run)
		if ok {
			spans = run.classify(s, spans, phone, card)
		}
		i = max(run.end, i+1)
	}
	return spans
}

// gluedCard reports whether the run at p, which does not start at a
// boundary, is a card written in several groups; it returns the card's end.
// A single glued group ("ID4532015112830366") is left alone, as before.
func gluedCard(s string, p int, card bool) (int, bool) {
	if !card || !isDigit(s[p]) {
		return 0, false
	}
	var run numberRun
	if !parseRun(s, p, &run) || run.n < 2 || !rightBoundary(s, run.end) {
		return 0, false
	}
	if !run.stats(s, 0, run.n-1).isCard(s, &run, 0, run.n-1) {
		return 0, false
	}
	return run.groups[run.n-1].end, true
}

// parseRun reads digit groups from p into r; it reports false for a run
// that cannot hold a number (unbalanced parentheses).
func parseRun(s string, p int, r *numberRun) bool {
	r.begin = p
	i := p
	if s[i] == '+' {
		r.plus = true
		i++
	}
	var sep uint8
	for r.n < maxGroups {
		g := &r.groups[r.n]
		g.sep = sep
		if i < len(s) && s[i] == '(' {
			g.open = true
			i++
		}
		g.start = i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		g.end = i
		if g.end == g.start {
			r.end = i
			return false
		}
		r.n++
		if g.open {
			if i >= len(s) || s[i] != ')' {
				r.end = i
				return false
			}
			g.close = true
			i++
		}
		// A separator continues the run only if a group follows it.
		j := i
		sep = 0
		switch {
		case j < len(s) && s[j] == ' ':
			sep, j = sepSpace, j+1
		case strings.HasPrefix(s[j:], nbsp):
			sep, j = sepSpace, j+len(nbsp)
		case j < len(s) && s[j] == '-':
			sep, j = sepDash, j+1
		case j < len(s) && s[j] == '.' && !g.close:
			sep, j = sepDot, j+1
		}
		if j >= len(s) || !isDigit(s[j]) && (s[j] != '(' || j+1 >= len(s) || !isDigit(s[j+1])) {
			break
		}
		if sep == 0 && !g.close && s[j] != '(' {
			break
		}
		i = j
	}
	r.end = i
	return true
}

// classify appends the phone and card numbers of the run: the whole run if
// it is one, else its longest pieces split where a space is followed by a
// group that visibly starts a new phone number, with a trunk "0" or an
// opening parenthesis ("2024-05-17 0612345678"). Other splits are not tried:
// they would find a "phone" inside any long number.
func (r *numberRun) classify(s string, spans []span, phone, card bool) []span {
	endOK := rightBoundary(s, r.end)
	for a := 0; a < r.n; a++ {
		if a > 0 && !r.splitsBefore(s, a) {
			continue
		}
		for b := r.n - 1; b >= a; b-- {
			if b < r.n-1 && !r.splitsBefore(s, b+1) || b == r.n-1 && !endOK {
				continue
			}
			st := r.stats(s, a, b)
			repl := ""
			switch {
			case card && st.isCard(s, r, a, b):
				repl = replCard
			case phone && st.isPhone():
				repl = replPhone
			default:
				continue
			}
			start := r.groups[a].start
			if r.groups[a].open {
				start--
			}
			if a == 0 && r.plus {
				start = r.begin
			}
			end := r.groups[b].end
			if r.groups[b].close {
				end++
			}
			spans = append(spans, span{start, end, repl})
			a = b
			break
		}
	}
	return spans
}

// splitsBefore reports whether a new number may start at group k.
func (r *numberRun) splitsBefore(s string, k int) bool {
	g := r.groups[k]
	return g.sep == sepSpace && (g.open || s[g.start] == '0')
}

type runStats struct {
	digits, groups, firstGroup, minLater, maxGroup, shortAt, dots int
	plus, parens, lead0, lead00, dateLike                         bool
	seps                                                          uint8
}

func (r *numberRun) stats(s string, a, b int) runStats {
	st := runStats{plus: a == 0 && r.plus, groups: b - a + 1}
	for k := a; k <= b; k++ {
		g := r.groups[k]
		n := g.end - g.start
		st.digits += n
		st.maxGroup = max(st.maxGroup, n)
		st.parens = st.parens || g.open
		if k == a {
			st.firstGroup = n
			st.lead0 = s[g.start] == '0'
			st.lead00 = st.lead0 && n > 1 && s[g.start+1] == '0'
			continue
		}
		st.seps |= g.sep
		if g.sep == sepDot {
			st.dots++
		}
		if k == a+1 && st.firstGroup == 4 && n == 2 && g.sep == sepDash {
			// "2024-05-…": a year and a month start a date or a
			// dated reference ("invoice 2024-05-0042").
			y, m := s[r.groups[a].start:r.groups[a].start+2], s[g.start:g.end]
			st.dateLike = (y == "19" || y == "20") && m >= "01" && m <= "12"
		}
		if st.minLater == 0 || n < st.minLater {
			st.minLater = n
		}
		if n == 1 && st.shortAt == 0 {
			st.shortAt = k - a
		}
	}
	return st
}

func (st runStats) isCard(s string, r *numberRun, a, b int) bool {
	if st.plus || st.parens || st.seps&sepDot != 0 || st.digits < 13 || st.digits > 19 {
		return false
	}
	if st.groups > 1 && (st.groups > 5 || st.minLater < 3 || st.firstGroup < 4) {
		return false
	}
	return st.luhnCard(s, r, a, b)
}

// luhnCard reports whether the digits of groups a..b look like a payment
// card number: the right first digit and the Luhn check.
func (st runStats) luhnCard(s string, r *numberRun, a, b int) bool {
	// Payment cards start with 2–6 (Mastercard 2-series, Amex and Diners
	// 3, Visa 4, Mastercard and Maestro 5, Discover, UnionPay and others
	// 6): this spares millisecond timestamps ("1715942400123") and other
	// ids that happen to pass the Luhn check.
	if f := s[r.groups[a].start]; f < '2' || f > '6' {
		return false
	}
	sum, k := 0, 0
	for g := b; g >= a; g-- {
		for i := r.groups[g].end - 1; i >= r.groups[g].start; i-- {
			d := int(s[i] - '0')
			if k%2 == 1 {
				d *= 2
				if d > 9 {
					d -= 9
				}
			}
			sum += d
			k++
		}
	}
	return sum%10 == 0
}

func (st runStats) isPhone() bool {
	if st.seps&sepDot != 0 {
		// Dots only as the sole separator and at least twice
		// ("415.555.2671"), never four short groups (an IPv4 address or
		// a version).
		if st.seps != sepDot || st.dots < 2 || st.groups == 4 && st.maxGroup <= 3 {
			return false
		}
	}
	// One-digit groups only as an area code after a country code
	// ("+33 6 12 34 56 78", "+44 (0)20 …"), never "3 4 5 6 7 8".
	if st.shortAt > 0 && (st.shortAt > 1 || !st.plus && !st.lead00) {
		return false
	}
	switch {
	case st.plus:
		return st.digits >= 8 && st.digits <= 15
	case st.lead00:
		return st.digits >= 10 && st.digits <= 17
	case st.parens:
		return st.digits >= 9 && st.digits <= 15
	case st.lead0:
		return st.digits >= 9 && st.digits <= 13
	default:
		// A national number without a trunk prefix needs the shape of one:
		// three or more groups ("415-555-2671", "912 345 678").
		return st.groups >= 3 && st.digits >= 9 && st.digits <= 13 && st.firstGroup <= 4 && !st.dateLike
	}
}
