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
//
// Imports: it imports no package of this module.
package redact

import (
	"errors"
	"fmt"
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
	return func(c *config) { c.on &^= c.builtins(names) }
}

// WithBuiltins keeps only the named built-in detectors on; with no names,
// none.
func WithBuiltins(names ...string) Option {
	return func(c *config) { c.on = c.builtins(names) }
}

// builtins returns the bits of the named built-in detectors, noting the
// unknown names in c.errs.
func (c *config) builtins(names []string) builtin {
	var on builtin
	for _, n := range names {
		b, ok := builtinBits[strings.TrimSpace(n)]
		if !ok {
			c.errs = append(c.errs, fmt.Errorf("redact: unknown built-in detector %q (have %s)", n, strings.Join(Builtins(), ", ")))
		}
		on |= b
	}
	return on
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
	if n.high != 0 && len(s) <= maxViewLen {
		vn, changed, invisibles := viewCounts(s)
		if changed {
			return r.redactView(s, vn, invisibles)
		}
		n = vn
	}
	// Pure ASCII, or a text its normalised view would not change, is its
	// own view.
	var buf [8]span
	spans := r.findBuiltins(s, n, buf[:0])
	spans = r.findPatterns(s, spans)
	if len(spans) == 0 {
		return s
	}
	return r.apply(s, spans)
}

// redactView redacts a text that its normalised view changes; vn are the
// view's counts.
func (r *Redactor) redactView(s string, vn counts, invisibles bool) string {
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

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
