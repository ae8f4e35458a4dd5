package redact

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

// findIBANs appends the IBANs in s, grouped by four or not, of their
// country's length and passing the mod-97 check.
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
