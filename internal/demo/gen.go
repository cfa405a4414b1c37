package demo

import (
	"math"
	"math/rand/v2"
	"strings"
	"time"
	"unicode/utf8"

	"plenary/governance"
)

// The demo co-op's calendar: founded, members admitted over its first
// months, then proposals at a steady pace, all closed by today's midnight.
const (
	foundingPeriod = 90 * 24 * time.Hour
	longestBallot  = 14 * 24 * time.Hour
)

// proposalGap is the time between one proposal and the next: two years'
// worth of proposals, but no more than a week apart or less than six
// hours.
func proposalGap(proposals int) time.Duration {
	return min(7*24*time.Hour, max(6*time.Hour, 2*365*24*time.Hour/time.Duration(max(1, proposals))))
}

// gen makes up everything, from one seeded source and the vocabulary.
type gen struct {
	r     *rand.Rand
	w     *words
	dem   map[string]bool // demand titles used
	today time.Time
}

func newGen(seed uint64, w *words) *gen {
	return &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), w: w, dem: map[string]bool{},
		today: time.Now().UTC().Truncate(24 * time.Hour)}
}

// timeline returns when the co-op was founded: early enough that every
// ballot closes by today's midnight.
func (g *gen) timeline(proposals int) time.Time {
	span := foundingPeriod + 3*24*time.Hour + time.Duration(proposals)*proposalGap(proposals) + longestBallot
	return g.today.Add(-span)
}

func (g *gen) pick(list []string) string { return list[g.r.IntN(len(list))] }

func (g *gen) personName() string { return g.pick(g.w.GivenNames) + " " + g.pick(g.w.FamilyNames) }

// spread shares votes between n ballots, unevenly as turnout is (a few
// ballots draw crowds, most draw the faithful), none above the roll.
func (g *gen) spread(votes, n, roll int) []int {
	out := make([]int, n)
	if n == 0 || votes == 0 {
		return out
	}
	w := make([]float64, n)
	var sum float64
	for i := range w {
		w[i] = math.Exp(0.7 * g.r.NormFloat64())
		sum += w[i]
	}
	left := votes
	for i := range out {
		out[i] = min(roll, int(float64(votes)*w[i]/sum))
		left -= out[i]
	}
	for left > 0 { // rounding, and whatever the cap turned away
		i := g.r.IntN(n)
		if out[i] < roll {
			add := min(roll-out[i], max(1, left/n), left)
			out[i] += add
			left -= add
		}
	}
	return out
}

// mood is how a ballot's voters lean: the share of yes among those who
// take a side, and the share who abstain.
func (g *gen) mood() (yes, abstain float64) {
	abstain = 0.02 + 0.10*g.r.Float64()
	switch f := g.r.Float64(); {
	case f < 0.55:
		yes = 0.62 + 0.3*g.r.Float64() // popular
	case f < 0.85:
		yes = 0.4 + 0.25*g.r.Float64() // contested
	default:
		yes = 0.15 + 0.25*g.r.Float64() // unpopular
	}
	return yes, abstain
}

func (g *gen) kind() string {
	switch f := g.r.Float64(); {
	case f < 0.36:
		return governance.KindEndorseDemand
	case f < 0.70:
		return governance.KindEndorseResource
	case f < 0.87:
		return governance.KindMotion
	case f < 0.95:
		return governance.KindAdoptDemand
	default:
		return governance.KindWithdraw
	}
}

// days is how long a ballot runs: resources are quick, demands and
// motions take a week or two.
func (g *gen) days(kind string) int {
	if kind == governance.KindEndorseResource {
		return 3 + g.r.IntN(3)
	}
	return []int{7, 7, 7, 10, 14}[g.r.IntN(5)]
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// asciiFold writes a name in lower-case ASCII letters and digits, for an
// email address or a link: "Jónsdóttir" → "jonsdottir", "O'Brien" → "obrien".
func asciiFold(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
		case foldTable[c] != "":
			b.WriteString(foldTable[c])
		}
	}
	return b.String()
}

var foldTable = func() map[rune]string {
	m := map[rune]string{'ß': "ss", 'æ': "ae", 'œ': "oe", 'þ': "th", 'ð': "d", 'đ': "d", 'ł': "l", 'ı': "i", 'ø': "o"}
	for base, variants := range map[string]string{
		"a": "áàâäãåāąă", "c": "çćč", "d": "ď", "e": "éèêëēęě", "g": "ğģ", "i": "íìîïī", "k": "ķ", "l": "ļľ",
		"n": "ñńňņ", "o": "óòôöõōő", "r": "ř", "s": "śšşș", "t": "ťţț", "u": "úùûüūůű", "y": "ýÿ", "z": "źżž",
	} {
		for _, v := range variants {
			m[v] = base
		}
	}
	return m
}()

func weighted(r *rand.Rand, ws []weight) string {
	total := 0
	for _, w := range ws {
		total += w.Weight
	}
	n := r.IntN(total)
	for _, w := range ws {
		if n < w.Weight {
			return w.Value
		}
		n -= w.Weight
	}
	return ws[len(ws)-1].Value
}
