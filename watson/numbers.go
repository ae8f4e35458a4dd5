package watson

import (
	"bytes"
	"strconv"
)

// Float is a number that also accepts a quoted number, null or garbage
// (garbage decodes as 0): confidences and durations must never fail a turn.
type Float float64

// UnmarshalJSON implements json.Unmarshaler leniently.
func (f *Float) UnmarshalJSON(b []byte) error {
	v, _ := strconv.ParseFloat(string(bytes.Trim(b, `"`)), 64)
	*f = Float(v)
	return nil
}

// Int is an integer that also accepts a float, a quoted number, null or
// garbage (garbage decodes as 0).
type Int int64

// UnmarshalJSON implements json.Unmarshaler leniently.
func (i *Int) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		*i = Int(v)
		return nil
	}
	v, _ := strconv.ParseFloat(s, 64)
	*i = Int(v)
	return nil
}
