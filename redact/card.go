package redact

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

// isCard reports whether groups a..b of r are a payment card number: 13–19
// digits, in one group or in 2–5 groups of at least three digits after a
// first group of four, passing luhnCard.
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
