package redact

// isPhone reports whether a run with these stats is a phone number.
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
