package redact

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
