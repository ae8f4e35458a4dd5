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
func (r *Redactor) Redact(s string) string {
	if r == nil || len(s) < 3 {
		return s
	}
	n := count(s)
	email := r.on&bEmail != 0 && n.ats > 0 && n.dots > 0
	iban := r.on&bIBAN != 0 && n.digits >= 10
	ipv4 := r.on&bIP != 0 && n.digits >= 4 && n.dots >= 3
	ipv6 := r.on&bIP != 0 && n.colons >= 2
	numbers := r.on&(bPhone|bCard) != 0 && n.digits >= 7
	if !email && !iban && !ipv4 && !ipv6 && !numbers && len(r.patterns) == 0 {
		return s
	}
	var buf [8]span
	spans := buf[:0]
	if email {
		spans = findEmails(s, spans)
	}
	if iban {
		spans = findIBANs(s, spans)
	}
	if ipv4 {
		spans = findIPv4(s, spans)
	}
	if ipv6 {
		spans = findIPv6(s, spans)
	}
	if numbers {
		spans = findNumbers(s, spans, r.on&bPhone != 0, r.on&bCard != 0)
	}
	for _, p := range r.patterns {
		for _, loc := range p.re.FindAllStringIndex(s, -1) {
			if loc[1] > loc[0] && !strings.Contains(s[loc[0]:loc[1]], "*") {
				spans = append(spans, span{loc[0], loc[1], p.repl})
			}
		}
	}
	if len(spans) == 0 {
		return s
	}
	return apply(s, spans)
}

// apply replaces the spans, merging overlaps: the earliest (then longest)
// finding names the merged one.
func apply(s string, spans []span) string {
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
		sb.WriteString(s[pos:cur.start])
		sb.WriteString(cur.repl)
		pos = cur.end
	}
	sb.WriteString(s[pos:])
	return sb.String()
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
		start := k
		for start > 0 && isLocal(s[start-1]) {
			start--
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

// domainEnd returns the end of a domain name starting at p: dot-separated
// labels of letters, digits and inner hyphens, at least two, the last of
// two or more letters (or an xn-- label).
func domainEnd(s string, p int) (int, bool) {
	labels := 0
	lastStart, lastEnd := 0, 0
	i := p
	for {
		ls := i
		for i < len(s) && (isAlnum(s[i]) || s[i] == '-') {
			i++
		}
		if i == ls || s[ls] == '-' || s[i-1] == '-' || i-ls > 63 {
			// An empty label or one with an edge hyphen ends the domain
			// at the previous label.
			break
		}
		labels++
		lastStart, lastEnd = ls, i
		if i+1 < len(s) && s[i] == '.' && isAlnum(s[i+1]) {
			i++
			continue
		}
		break
	}
	if labels < 2 {
		return 0, false
	}
	tld := s[lastStart:lastEnd]
	if len(tld) < 2 {
		return 0, false
	}
	if !strings.HasPrefix(strings.ToLower(tld), "xn--") {
		for j := 0; j < len(tld); j++ {
			if !isLetter(tld[j]) {
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
		if ok && (end == len(s) || !isWord(s[end]) && (s[end] != '.' || end+1 == len(s) || !isDigit(s[end+1]))) {
			spans = append(spans, span{i, end, replIP})
		}
		i = skipToken(s, i)
	}
	return spans
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
		if (colons >= 3 || digit) && hex && (rightBoundary(s, end) || s[end] == '%') {
			if a, err := netip.ParseAddr(s[i:end]); err == nil && a.Is6() {
				spans = append(spans, span{i, end, replIP})
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
	plus, parens, lead0, lead00                                   bool
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
	// Payment cards start with 2–6 (Mastercard 2-series, Amex and Diners
	// 3, Visa 4, Mastercard and Maestro 5, Discover, UnionPay and others
	// 6): this spares millisecond timestamps ("1715942400123") and other
	// ids that happen to pass the Luhn check.
	if f := s[r.groups[a].start]; f < '2' || f > '6' {
		return false
	}
	if st.groups > 1 && (st.groups > 5 || st.minLater < 3 || st.firstGroup < 4) {
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
		return st.groups >= 3 && st.digits >= 9 && st.digits <= 13 && st.firstGroup <= 4
	}
}
