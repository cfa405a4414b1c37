package count

import (
	"fmt"
	"strconv"
	"strings"
)

// A Value is a number of votes in fixed point, counted in hundred-thousandths
// of a vote: Scottish STV computes transfer values "to five decimal places
// (any remainder being ignored)" (rule 48(3)), and whole numbers of
// hundred-thousandths make every sum exact and every recount identical.
type Value int64

// One is the value of one whole vote.
const One Value = 100000

// String writes v with exactly five decimals, as the rules compute it.
func (v Value) String() string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%05d", sign, v/One, v%One)
}

// MarshalJSON writes v as a JSON number with five decimals (12.34567), so
// the published figures read as the rules state them and parse back exactly.
func (v Value) MarshalJSON() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalJSON reads a number with at most five decimals.
func (v *Value) UnmarshalJSON(b []byte) error {
	s := string(b)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 5 {
		return fmt.Errorf("count: value %s has more than five decimals", b)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return fmt.Errorf("count: value %s: %w", b, err)
	}
	f := int64(0)
	if frac != "" {
		if f, err = strconv.ParseInt(frac+strings.Repeat("0", 5-len(frac)), 10, 64); err != nil {
			return fmt.Errorf("count: value %s: %w", b, err)
		}
	}
	x := Value(w)*One + Value(f)
	if neg {
		x = -x
	}
	*v = x
	return nil
}
