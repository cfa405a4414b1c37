package count

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// MaxOptions is the most options a count accepts. Issue 14 allows 2 to 50;
// the ceiling only keeps the internal ballot keys to one byte an option.
const MaxOptions = 255

// A Ranking is one ranked ballot: option indexes, most preferred first. It
// may be partial: options left out rank below every listed one and equal
// among themselves. Equal ranks are not expressible, on purpose: the ballot
// form refuses the same rank twice (issue 14), and Scottish STV and IRV need
// one next preference at each step.
type Ranking []int

// An ApprovalBallot is one approval ballot: the options approved, in any
// order. An empty one is a valid ballot that approves nothing.
type ApprovalBallot []int

// The reasons a ballot is refused. A *BallotError carries one of them, so
// callers can test with errors.Is and put a message beside the right field.
var (
	ErrOutOfRange = errors.New("option or rank out of range")
	ErrSameRank   = errors.New("the same rank is given to two options")
	ErrTwice      = errors.New("an option appears twice")
	ErrTooMany    = errors.New("more options approved than allowed")
)

// A BallotError says what is wrong with a ballot and, where it can, which
// option (the form field) is at fault.
type BallotError struct {
	Option int   // the option at fault, -1 when the fault is the whole ballot
	Err    error // ErrOutOfRange, ErrSameRank, ErrTwice or ErrTooMany
	Detail string
}

func (e *BallotError) Error() string { return "count: " + e.Detail }
func (e *BallotError) Unwrap() error { return e.Err }

// ValidRanking reports whether r is a ranking of options 0..n-1: every entry
// in range and none twice. A partial ranking, even an empty one, is valid.
func ValidRanking(r Ranking, n int) error {
	if err := validN(n); err != nil {
		return err
	}
	var seen [MaxOptions]bool
	for _, o := range r {
		if o < 0 || o >= n {
			return &BallotError{Option: o, Err: ErrOutOfRange,
				Detail: fmt.Sprintf("option %d is not one of the %d options", o, n)}
		}
		if seen[o] {
			return &BallotError{Option: o, Err: ErrTwice,
				Detail: fmt.Sprintf("option %d is ranked twice", o)}
		}
		seen[o] = true
	}
	return nil
}

// ValidApproval reports whether b approves options among 0..n-1, none twice,
// and at most max of them (max 0: no limit).
func ValidApproval(b ApprovalBallot, n, max int) error {
	if err := validN(n); err != nil {
		return err
	}
	var seen [MaxOptions]bool
	for _, o := range b {
		if o < 0 || o >= n {
			return &BallotError{Option: o, Err: ErrOutOfRange,
				Detail: fmt.Sprintf("option %d is not one of the %d options", o, n)}
		}
		if seen[o] {
			return &BallotError{Option: o, Err: ErrTwice,
				Detail: fmt.Sprintf("option %d is approved twice", o)}
		}
		seen[o] = true
	}
	if max > 0 && len(b) > max {
		return &BallotError{Option: -1, Err: ErrTooMany,
			Detail: fmt.Sprintf("%d options approved, at most %d allowed", len(b), max)}
	}
	return nil
}

// RankingFromRanks turns the form's "a number for each option" into a
// Ranking. ranks[o] is the number chosen for option o: 1 is the first
// preference, 0 means not ranked. Numbers must be 0..len(ranks) and no number
// above 0 may be used twice. Gaps are allowed (1, 3 reads as 1, 2): only the
// order of the numbers counts.
func RankingFromRanks(ranks []int) (Ranking, error) {
	n := len(ranks)
	if err := validN(n); err != nil {
		return nil, err
	}
	byRank := make([]int, n+1)
	for i := range byRank {
		byRank[i] = -1
	}
	for o, k := range ranks {
		if k < 0 || k > n {
			return nil, &BallotError{Option: o, Err: ErrOutOfRange,
				Detail: fmt.Sprintf("option %d has rank %d, ranks run from 1 to %d", o, k, n)}
		}
		if k == 0 {
			continue
		}
		if byRank[k] >= 0 {
			return nil, &BallotError{Option: o, Err: ErrSameRank,
				Detail: fmt.Sprintf("rank %d is given to options %d and %d", k, byRank[k], o)}
		}
		byRank[k] = o
	}
	r := Ranking{}
	for _, o := range byRank[1:] {
		if o >= 0 {
			r = append(r, o)
		}
	}
	return r, nil
}

func validN(n int) error {
	if n < 1 || n > MaxOptions {
		return fmt.Errorf("count: %d options, a count takes 1 to %d", n, MaxOptions)
	}
	return nil
}

// A Lot stands in for the drawing of lots that the published rules fall back
// on when nothing else separates tied options. It is an order of all the
// options; among tied options, the one earlier in the Lot is treated as if it
// had more votes: it goes first in an order, its surplus is transferred
// first, and it is excluded or eliminated last. A nil Lot is the options'
// own order 0, 1, 2, …, which favours earlier options; callers should pass
// LotFromSeed(box hash) so that no option is favoured by its position and
// anyone can redraw the same lot.
type Lot []int

// LotFromSeed draws a Lot for n options from a seed, such as the hash of the
// ballot box, so that the draw is fixed before anyone sees the count and can
// be redone by hand: each option o gets the SHA-256 of the seed followed by o
// as two big-endian bytes, and options are ordered by that digest, smallest
// first.
func LotFromSeed(seed []byte, n int) Lot {
	type drawn struct {
		o int
		d [sha256.Size]byte
	}
	ds := make([]drawn, n)
	for o := range ds {
		buf := make([]byte, 0, len(seed)+2)
		buf = append(buf, seed...)
		buf = binary.BigEndian.AppendUint16(buf, uint16(o))
		ds[o] = drawn{o, sha256.Sum256(buf)}
	}
	slices.SortFunc(ds, func(a, b drawn) int {
		if c := strings.Compare(string(a.d[:]), string(b.d[:])); c != 0 {
			return c
		}
		return a.o - b.o
	})
	lot := make(Lot, n)
	for i, d := range ds {
		lot[i] = d.o
	}
	return lot
}

// positions returns each option's place in the lot (0 is most favoured),
// checking that the lot is an order of exactly the n options.
func (l Lot) positions(n int) ([]int, error) {
	pos := make([]int, n)
	if l == nil {
		for o := range pos {
			pos[o] = o
		}
		return pos, nil
	}
	if len(l) != n {
		return nil, fmt.Errorf("count: the lot orders %d options, the count has %d", len(l), n)
	}
	for o := range pos {
		pos[o] = -1
	}
	for i, o := range l {
		if o < 0 || o >= n || pos[o] >= 0 {
			return nil, fmt.Errorf("count: the lot is not an order of the %d options", n)
		}
		pos[o] = i
	}
	return pos, nil
}

// group is a set of identical ranked ballots, counted once.
type group struct {
	prefs []int
	count int
}

// groupRankings validates every ballot and folds identical ones together.
// Groups come out sorted by ranking, so nothing downstream depends on the
// order ballots were given in or on map iteration. blank counts ballots that
// rank nothing.
func groupRankings(ballots []Ranking, n int) (groups []group, blank int, err error) {
	if err := validN(n); err != nil {
		return nil, 0, err
	}
	index := make(map[string]int, len(ballots)/4+1)
	var key []byte
	for i, r := range ballots {
		if err := ValidRanking(r, n); err != nil {
			return nil, 0, fmt.Errorf("count: ballot %d: %w", i, err)
		}
		if len(r) == 0 {
			blank++
			continue
		}
		key = key[:0]
		for _, o := range r {
			key = append(key, byte(o))
		}
		if g, ok := index[string(key)]; ok {
			groups[g].count++
			continue
		}
		index[string(key)] = len(groups)
		groups = append(groups, group{prefs: slices.Clone([]int(r)), count: 1})
	}
	slices.SortFunc(groups, func(a, b group) int { return slices.Compare(a.prefs, b.prefs) })
	return groups, blank, nil
}
