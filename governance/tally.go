package governance

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
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
	// Recused is how many on the roll stood aside (recusal.go): the
	// quorum is a share of the roll less them. Present, at a meeting whose
	// rules count the quorum on attendance (meeting.go), is how many of
	// the rest were present or represented by a present proxy: they, not
	// the ballots cast, must reach the quorum. nil counts the ballots.
	Recused int
	Present *int
	// Choice is a choice's count, in VerifyTally's answer for a choice
	// (Yes, No and Abstain are then 0).
	Choice *ChoiceResult
}

// Turnout is the number of ballots cast, abstentions included.
func (t Tally) Turnout() int { return t.Yes + t.No + t.Abstain }

// QuorumVotes is the smallest turnout that meets the quorum: the share
// rounded up, and never less than one ballot, as Decide never finds a
// ballot nobody voted in quorate.
func (t Tally) QuorumVotes() int { return max(1, (t.QuorumPct*t.QuorumBase()+99)/100) }

// QuorumBase is what the quorum is a share of: the roll less those who
// stood aside.
func (t Tally) QuorumBase() int { return t.RollSize - t.Recused }

// QuorumCount is a ballot's roll as its quorum sees it (Tally's Recused
// and Present).
type QuorumCount struct {
	RollSize int
	Recused  int
	Present  *int
}

// Decide applies the co-op's rules to a count. Quorum: the share of the
// roll that cast any ballot, abstentions included, must reach quorumPct.
// Threshold, abstentions excluded: a simple majority needs more yes than
// no; two-thirds needs yes to be at least twice no. Either way at least one
// member must have voted yes: nobody carries a motion by silence.
func Decide(yes, no, abstain, rollSize, quorumPct int, threshold string) Tally {
	return DecideOn(yes, no, abstain, QuorumCount{RollSize: rollSize}, quorumPct, threshold)
}

// DecideOn is Decide for a roll some of whom stood aside, or at a meeting
// whose quorum is counted on those present: the quorum is then a share of
// the roll less those who stood aside, reached by the ballots cast or, at
// such a meeting, by those present.
func DecideOn(yes, no, abstain int, q QuorumCount, quorumPct int, threshold string) Tally {
	t := Tally{Yes: yes, No: no, Abstain: abstain, RollSize: q.RollSize, Recused: q.Recused, Present: q.Present, QuorumPct: quorumPct,
		Threshold: threshold}
	t.QuorumMet = quorumMet(t.Turnout(), q, quorumPct)
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

// quorumMet says whether cast ballots (or those present, when counted on
// attendance) reach quorumPct of the roll less those who stood aside:
// counted/base ≥ quorum/100, in integers, and never nobody.
func quorumMet(cast int, q QuorumCount, quorumPct int) bool {
	counted := cast
	if q.Present != nil {
		counted = *q.Present
	}
	return counted*100 >= quorumPct*(q.RollSize-q.Recused) && counted > 0
}

// JSON is the tally as stored with an endorsement and shown in the API.
// Those who stood aside and those present are written only when they
// apply.
func (t Tally) JSON() string {
	base := ""
	if t.Recused > 0 {
		base = fmt.Sprintf(`,"recused":%d`, t.Recused)
	}
	if t.Present != nil {
		base += fmt.Sprintf(`,"present":%d`, *t.Present)
	}
	return fmt.Sprintf(`{"yes":%d,"no":%d,"abstain":%d,"turnout":%d,"roll_size":%d%s,"quorum_pct":%d,"threshold":%q,"quorum_met":%t,"outcome":%q}`,
		t.Yes, t.No, t.Abstain, t.Turnout(), t.RollSize, base, t.QuorumPct, t.Threshold, t.QuorumMet, t.Outcome)
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

// boxDigest is the SHA-256 of the box's lines "key choice", sorted by key.
func boxDigest(entries []BoxEntry) string {
	lines := make([]string, len(entries))
	for i, e := range entries {
		lines[i] = e.Key + " " + e.Choice + "\n"
	}
	sort.Strings(lines)
	return sha256Hex(strings.Join(lines, ""))
}

// countYesNo adds up a yes/no box.
func countYesNo(entries []BoxEntry) (yes, no, abstain int) {
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

// TallyError says how a closed ballot's stored result differs from its box.
type TallyError struct {
	Proposal int64
	Problem  string
}

func (e *TallyError) Error() string { return fmt.Sprintf("proposal %d: %s", e.Proposal, e.Problem) }

// VerifyTally recounts a closed ballot from its stored box (or roll-call)
// and compares the count, turnout, outcome and digests with what was stored
// when it closed.
func (s *Service) VerifyTally(ctx context.Context, id int64) (Tally, error) {
	p, err := getProposal(ctx, s.db.R, id)
	if err != nil {
		return Tally{}, err
	}
	if !p.Closed() {
		return Tally{}, &TallyError{id, "the ballot has not closed, so there is no result to verify"}
	}
	fail := func(format string, args ...any) (Tally, error) {
		return Tally{}, &TallyError{id, fmt.Sprintf(format, args...)}
	}
	entries, err := box(ctx, s.db.R, p)
	if err != nil {
		return Tally{}, err
	}
	yes, no, abstain := countYesNo(entries)
	stored, _ := p.Tally()
	q, err := quorumCountAt(ctx, s.db.R, p)
	if err != nil {
		return Tally{}, err
	}
	recount := DecideOn(yes, no, abstain, q, *p.QuorumPct, *p.Threshold)
	var members []int64
	if err := s.db.R.SelectContext(ctx, &members, `SELECT member_id FROM roll WHERE proposal_id = ?`, id); err != nil {
		return Tally{}, fmt.Errorf("governance: read roll: %w", err)
	}
	var voters int
	if err := s.db.R.GetContext(ctx, &voters, `SELECT count(*) FROM roll WHERE proposal_id = ? AND voted = 1`, id); err != nil {
		return Tally{}, fmt.Errorf("governance: count voters: %w", err)
	}
	switch {
	case len(members) != *p.RollSize || rollDigest(members) != *p.RollDigest:
		return fail("the roll does not match the size and digest published when voting opened")
	case voters != len(entries):
		return fail("%d members are recorded as having voted but the box holds %d ballots", voters, len(entries))
	case boxDigest(entries) != *p.BoxDigest:
		return fail("the ballot box does not match the digest published at close")
	case q.Recused != deref(p.Recused) || (q.Present != nil) != (p.QuorumBase != nil) || (q.Present != nil && *q.Present != *p.QuorumBase):
		return fail("the recusals or the attendance differ from those the ballot was counted with at close")
	case p.IsChoice():
		return s.verifyChoice(ctx, p, entries, fail)
	case yes != stored.Yes || no != stored.No || abstain != stored.Abstain:
		return fail("recount gives %d yes, %d no, %d abstain; stored result is %d, %d, %d", yes, no, abstain, stored.Yes, stored.No, stored.Abstain)
	case p.QuorumMet == nil || *p.QuorumMet != recount.QuorumMet || p.Outcome == nil || *p.Outcome != recount.Outcome:
		return fail("the rules give %s (quorum met: %t); stored outcome differs", recount.Outcome, recount.QuorumMet)
	}
	// The ledger holds what was published when voting opened and closed;
	// the stored ballot must agree with it, so editing the ballot and its
	// stored result together still fails here (and editing the ledger to
	// match fails plenary ledger verify).
	var published struct {
		RollSize   *int    `db:"roll_size"`
		RollDigest *string `db:"roll_digest"`
		Yes        *int    `db:"yes"`
		No         *int    `db:"no"`
		Abstain    *int    `db:"abstain"`
		BoxDigest  *string `db:"box_digest"`
		Outcome    *string `db:"outcome"`
	}
	field, number := s.db.JSONField, s.db.JSONNumber
	err = s.db.R.GetContext(ctx, &published, `SELECT
		(SELECT `+number("body", "roll_size")+` FROM ledger WHERE kind = ? AND `+number("body", "proposal")+` = ?) AS roll_size,
		(SELECT `+field("body", "roll_digest")+` FROM ledger WHERE kind = ? AND `+number("body", "proposal")+` = ?) AS roll_digest,
		c.yes, c.no, c.abstain, c.box_digest, c.outcome
		FROM (SELECT `+number("body", "yes")+` AS yes, `+number("body", "no")+` AS no, `+number("body", "abstain")+` AS abstain,
			`+field("body", "box_digest")+` AS box_digest, `+field("body", "outcome")+` AS outcome
			FROM ledger WHERE kind = ? AND `+number("body", "proposal")+` = ?) c`,
		EventBallotOpened, id, EventBallotOpened, id, EventBallotClosed, id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fail("the ledger has no record of this ballot closing")
	case err != nil:
		return Tally{}, fmt.Errorf("governance: read ledger for proposal %d: %w", id, err)
	case published.RollSize == nil || *published.RollSize != len(members) || published.RollDigest == nil || *published.RollDigest != *p.RollDigest:
		return fail("the roll does not match the one published on the ledger when voting opened")
	case published.BoxDigest == nil || *published.BoxDigest != *p.BoxDigest:
		return fail("the box digest does not match the one published on the ledger at close")
	case *published.Yes != yes || *published.No != no || *published.Abstain != abstain || *published.Outcome != recount.Outcome:
		return fail("the recount differs from the result published on the ledger at close")
	}
	return recount, nil
}

// ClosedBallots lists the number of every closed ballot, oldest first:
// what VerifyTally can recount. Unlike the pages' lists it closes nothing
// that is due, so a check reads the database as it finds it.
func (s *Service) ClosedBallots(ctx context.Context) ([]int64, error) {
	var ids []int64
	if err := s.db.R.SelectContext(ctx, &ids, `SELECT id FROM proposals WHERE status = 'closed' ORDER BY id`); err != nil {
		return nil, fmt.Errorf("governance: closed ballots: %w", err)
	}
	return ids, nil
}
