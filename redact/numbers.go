package redact

import "strings"

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

// findNumbers appends the phone and card numbers in s. Both detectors read
// the same runs of digit groups (parseRun), and classify decides which a run
// is (phone.go, card.go); phone and card say which detectors are on.
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
