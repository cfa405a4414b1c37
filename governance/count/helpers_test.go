package count

import "strings"

// votes builds k identical ballots from letters, A being option 0: "ACB"
// ranks A, then C, then B.
func votes(k int, letters string) []Ranking {
	r := Ranking{}
	for _, c := range letters {
		r = append(r, int(c-'A'))
	}
	out := make([]Ranking, k)
	for i := range out {
		out[i] = r
	}
	return out
}

// box joins groups of ballots written as "5 ACBED, 3 CA".
func box(spec string) []Ranking {
	var all []Ranking
	for _, part := range strings.Split(spec, ",") {
		var k int
		var letters string
		fields := strings.Fields(part)
		for _, c := range fields[0] {
			k = k*10 + int(c-'0')
		}
		if len(fields) > 1 {
			letters = fields[1]
		}
		all = append(all, votes(k, letters)...)
	}
	return all
}

func letters(opts []int) string {
	var b strings.Builder
	for _, o := range opts {
		b.WriteByte(byte('A' + o))
	}
	return b.String()
}

// v reads a decimal like "5.07683" as a Value.
func v(s string) Value {
	var x Value
	if err := x.UnmarshalJSON([]byte(s)); err != nil {
		panic(err)
	}
	return x
}
