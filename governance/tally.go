package governance

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
)

// Choices on a ballot.
const (
	ChoiceYes     = "yes"
	ChoiceNo      = "no"
	ChoiceAbstain = "abstain"
)

// Choices lists the choices in the order a ballot shows them.
var Choices = []string{ChoiceYes, ChoiceNo, ChoiceAbstain}

// Thresholds.
const (
	ThresholdMajority  = "majority"   // yes > no
	ThresholdTwoThirds = "two_thirds" // yes ≥ 2 × no
)

// Outcomes.
const (
	OutcomeCarried   = "carried"
	OutcomeDefeated  = "defeated"
	OutcomeInquorate = "inquorate"
)

// Tally is a closed ballot's count and what it decided.
type Tally struct {
	Yes, No, Abstain int
	RollSize         int
	QuorumPct        int
	Threshold        string
	QuorumMet        bool
	Outcome          string
}

// Turnout is the number of ballots cast, abstentions included.
func (t Tally) Turnout() int { return t.Yes + t.No + t.Abstain }

// QuorumVotes is the smallest turnout that meets the quorum: the share
// rounded up, and never less than one ballot, as Decide never finds a
// ballot nobody voted in quorate.
func (t Tally) QuorumVotes() int { return max(1, (t.QuorumPct*t.RollSize+99)/100) }

// Decide applies the co-op's rules to a count. Quorum: the share of the
// roll that cast any ballot, abstentions included, must reach quorumPct.
// Threshold, abstentions excluded: a simple majority needs more yes than
// no; two-thirds needs yes to be at least twice no. Either way at least one
// member must have voted yes: nobody carries a motion by silence.
func Decide(yes, no, abstain, rollSize, quorumPct int, threshold string) Tally {
	t := Tally{Yes: yes, No: no, Abstain: abstain, RollSize: rollSize, QuorumPct: quorumPct, Threshold: threshold}
	// turnout/roll ≥ quorum/100, in integers.
	t.QuorumMet = t.Turnout()*100 >= quorumPct*rollSize && t.Turnout() > 0
	passed := false
	switch threshold {
	case ThresholdTwoThirds:
		passed = yes >= 2*no && yes > 0
	default:
		passed = yes > no
	}
	switch {
	case !t.QuorumMet:
		t.Outcome = OutcomeInquorate
	case passed:
		t.Outcome = OutcomeCarried
	default:
		t.Outcome = OutcomeDefeated
	}
	return t
}

// JSON is the tally as stored with an endorsement and shown in the API.
func (t Tally) JSON() string {
	return fmt.Sprintf(`{"yes":%d,"no":%d,"abstain":%d,"turnout":%d,"roll_size":%d,"quorum_pct":%d,"threshold":%q,"quorum_met":%t,"outcome":%q}`,
		t.Yes, t.No, t.Abstain, t.Turnout(), t.RollSize, t.QuorumPct, t.Threshold, t.QuorumMet, t.Outcome)
}

// rollDigest is the SHA-256 of the roll's member numbers, sorted, one per
// line: anyone given the list can check it against the published digest.
func rollDigest(members []int64) string {
	sorted := append([]int64(nil), members...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	var b strings.Builder
	for _, m := range sorted {
		fmt.Fprintf(&b, "%d\n", m)
	}
	return sha256Hex(b.String())
}

// BoxEntry is one published line of a closed ballot: for a secret ballot
// the receipt hash and the choice; for an open one the member number and
// the choice.
type BoxEntry struct {
	Key    string `db:"key" json:"key"`
	Choice string `db:"choice" json:"choice"`
}

// boxDigest is the SHA-256 of the box's lines "key choice", sorted by key.
func boxDigest(entries []BoxEntry) string {
	lines := make([]string, len(entries))
	for i, e := range entries {
		lines[i] = e.Key + " " + e.Choice + "\n"
	}
	sort.Strings(lines)
	return sha256Hex(strings.Join(lines, ""))
}

// count adds up a box.
func count(entries []BoxEntry) (yes, no, abstain int) {
	for _, e := range entries {
		switch e.Choice {
		case ChoiceYes:
			yes++
		case ChoiceNo:
			no++
		case ChoiceAbstain:
			abstain++
		}
	}
	return
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
