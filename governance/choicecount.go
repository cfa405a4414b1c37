package governance

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/governance/count"
	"plenary/internal/ledger"
	"plenary/internal/outbox"
	"plenary/library"
)

// ChoiceResult is a closed choice's count, stored as JSON in the
// proposal's result when it closes and published in full: recounting the
// box (VerifyTally) must give the very same JSON.
//
// Options are named by position. Order is what the method gives: every
// option, most approved first (approval), Schulze's order, the IRV
// winner, or the STV elected in the order elected. Chosen is what the
// proposal decided: the order (prioritise_demands, poll), the options
// approved on more than ApprovalPct per cent of the ballots cast
// (choose_resources), or the Seats elected (elect; by approval, the
// Seats most approved). The count's own detail (totals, the pairwise
// table, every round or stage) is in the method's field.
type ChoiceResult struct {
	Method       string `json:"method"`
	Options      int    `json:"options"`
	Seats        int    `json:"seats,omitempty"`
	MaxApprovals int    `json:"max_approvals,omitempty"`
	ApprovalPct  *int   `json:"approval_pct,omitempty"`
	// Ballots counts every ballot cast, Blank those ranking or ticking
	// nothing: all of them count towards the quorum.
	Ballots  int `json:"ballots"`
	Blank    int `json:"blank"`
	RollSize int `json:"roll_size"`
	// Recused and Present: as in Tally, written when they apply.
	Recused   int    `json:"recused,omitempty"`
	Present   *int   `json:"present,omitempty"`
	QuorumPct int    `json:"quorum_pct"`
	QuorumMet bool   `json:"quorum_met"`
	Outcome   string `json:"outcome"`
	// Lot breaks the ties nothing else breaks: count.LotFromSeed of the
	// box digest as published (its 64 hexadecimal characters).
	Lot      []int                 `json:"lot"`
	Order    []int                 `json:"order"`
	Chosen   []int                 `json:"chosen"`
	Approval *count.ApprovalResult `json:"approval,omitempty"`
	Schulze  *count.SchulzeResult  `json:"schulze,omitempty"`
	IRV      *count.IRVResult      `json:"irv,omitempty"`
	STV      *count.STVResult      `json:"stv,omitempty"`
}

// ChoiceResult is a closed choice's count; ok is false until it closes,
// so no caller can show a count early by mistake.
func (p Proposal) ChoiceResult() (ChoiceResult, bool) {
	if !p.Closed() || p.Result == nil {
		return ChoiceResult{}, false
	}
	var r ChoiceResult
	if err := json.Unmarshal([]byte(*p.Result), &r); err != nil {
		return ChoiceResult{}, false
	}
	return r, true
}

// ChoiceOutcomeNames says a choice's outcome in words: a choice is not
// carried but decided.
var ChoiceOutcomeNames = map[string]string{
	OutcomeCarried:   "decided",
	OutcomeDefeated:  "nothing decided",
	OutcomeInquorate: OutcomeInquorate,
}

// OutcomeName says a closed proposal's outcome in words, as its lists show
// it: carried, defeated or inquorate; a choice's decided, nothing decided
// or inquorate. "" before close.
func (p Proposal) OutcomeName() string {
	switch {
	case p.Outcome == nil:
		return ""
	case p.IsChoice():
		return ChoiceOutcomeNames[*p.Outcome]
	}
	return *p.Outcome
}

// countChoice counts a choice's box: p as frozen when voting opened, its
// number of options, and the box digest that seeds the lot. It reads
// nothing else, so the close and the recount give the same result.
//
// Outcome: inquorate when the ballots cast (blank ones included) fall
// short of the quorum, as for yes/no; otherwise carried ("decided") when
// the count chose something, and defeated when it chose nothing (every
// ballot blank, or no resource approved widely enough).
func countChoice(p Proposal, n int, digest string, entries []BoxEntry, q QuorumCount) (ChoiceResult, error) {
	r := ChoiceResult{Method: *p.Method, Options: n, Ballots: len(entries), RollSize: *p.RollSize, Recused: q.Recused, Present: q.Present,
		QuorumPct:   *p.QuorumPct,
		ApprovalPct: p.ApprovalPct, Order: []int{}, Chosen: []int{}}
	if p.Seats != nil {
		r.Seats = *p.Seats
	}
	if p.MaxApprovals != nil {
		r.MaxApprovals = *p.MaxApprovals
	}
	var rankings []count.Ranking
	var ticks []count.ApprovalBallot
	for _, e := range entries {
		var b []int
		if err := json.Unmarshal([]byte(e.Choice), &b); err != nil {
			return ChoiceResult{}, fmt.Errorf("governance: ballot %s of proposal %d: %w", e.Key, p.ID, err)
		}
		if len(b) == 0 {
			r.Blank++
		}
		rankings, ticks = append(rankings, b), append(ticks, b)
	}
	r.QuorumMet = quorumMet(r.Ballots, q, r.QuorumPct)
	r.Lot = count.LotFromSeed([]byte(digest), n)
	if r.Ballots > r.Blank {
		var err error
		switch r.Method {
		case MethodApproval:
			var res count.ApprovalResult
			res, err = count.Approval(n, r.MaxApprovals, ticks, r.Lot)
			r.Approval, r.Order = &res, res.Order
		case MethodSchulze:
			var res count.SchulzeResult
			res, err = count.Schulze(n, rankings, r.Lot)
			r.Schulze, r.Order = &res, res.Order
		case MethodIRV:
			var res count.IRVResult
			res, err = count.IRV(n, rankings, r.Lot)
			r.IRV, r.Order = &res, []int{res.Winner}
		case MethodSTV:
			var res count.STVResult
			res, err = count.STV(n, r.Seats, rankings, r.Lot)
			r.STV, r.Order = &res, res.Elected
		default:
			err = fmt.Errorf("no method %q", r.Method)
		}
		if err != nil {
			return ChoiceResult{}, fmt.Errorf("governance: count proposal %d: %w", p.ID, err)
		}
	}
	switch {
	case p.Kind == KindChoose && r.Approval != nil:
		for _, o := range r.Order {
			if r.Approval.Totals[o]*100 > *r.ApprovalPct*r.Ballots {
				r.Chosen = append(r.Chosen, o)
			}
		}
	case p.Kind == KindElect:
		for _, o := range r.Order {
			// By approval, a candidate nobody ticked is not elected.
			if len(r.Chosen) < r.Seats && (r.Approval == nil || r.Approval.Totals[o] > 0) {
				r.Chosen = append(r.Chosen, o)
			}
		}
	default:
		r.Chosen = append(r.Chosen, r.Order...)
	}
	switch {
	case !r.QuorumMet:
		r.Outcome = OutcomeInquorate
	case len(r.Chosen) > 0:
		r.Outcome = OutcomeCarried
	default:
		r.Outcome = OutcomeDefeated
	}
	return r, nil
}

// JSON is the result as stored and published.
func (r ChoiceResult) JSON() string {
	b, _ := json.Marshal(r)
	return string(b)
}

// closeChoice is closeBallot for a choice: count the box with the
// proposal's method, store the result, publish its digest on the ledger,
// tell the roll, and apply what it decided, all in the caller's
// transaction.
func (s *Service) closeChoice(ctx context.Context, tx *sqlx.Tx, p Proposal, entries []BoxEntry, q QuorumCount, now time.Time, how closing) error {
	options, err := readOptions(ctx, tx, p.ID)
	if err != nil {
		return err
	}
	digest := boxDigest(entries)
	r, err := countChoice(p, len(options), digest, entries, q)
	if err != nil {
		return err
	}
	result := r.JSON()
	res, err := tx.ExecContext(ctx, `UPDATE proposals SET status = 'closed', quorum_met = ?, outcome = ?, box_digest = ?, closed_at = ?,
		result = ?, recused = ?, quorum_base = ? WHERE id = ? AND status = 'voting'`, r.QuorumMet, r.Outcome, digest, now, result,
		q.Recused, q.Present, p.ID)
	if err != nil {
		return fmt.Errorf("governance: close ballot: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("governance: close ballot %d: it was not open", p.ID)
	}
	if err := appendEntry(ctx, tx, now, how.entry(ledger.BallotClosed{
		Proposal: p.ID, Turnout: r.Ballots, RollSize: r.RollSize, QuorumMet: r.QuorumMet, Outcome: r.Outcome, BoxDigest: digest,
		Method: r.Method, ResultDigest: sha256Hex(result)}, q)); err != nil {
		return err
	}
	b := ballotPayload(p)
	b.Outcome, b.Turnout, b.RollSize, b.QuorumMet, b.Method = ChoiceOutcomeNames[r.Outcome], r.Ballots, r.RollSize, r.QuorumMet, r.Method
	if r.Outcome == OutcomeCarried {
		for _, o := range r.Chosen {
			b.Chosen = append(b.Chosen, options[o].Label)
		}
	}
	if err := s.queueFor(ctx, tx, outbox.Result, strconv.FormatInt(p.ID, 10), b, onRollStill, p.ID); err != nil {
		return err
	}
	if r.Outcome != OutcomeCarried {
		return nil // inquorate or nothing chosen: the result is the record
	}
	return applyChoice(ctx, tx, p, r, options, now)
}

// applyChoice carries out what a choice decided, in the closing
// transaction: the priority list, the endorsements, the officers. A poll
// decides nothing but its result.
func applyChoice(ctx context.Context, tx *sqlx.Tx, p Proposal, r ChoiceResult, options []Option, now time.Time) error {
	switch p.Kind {
	case KindPrioritise:
		for i, o := range r.Chosen {
			if _, err := tx.ExecContext(ctx, `INSERT INTO demand_priorities (proposal_id, position, demand_id) VALUES (?, ?, ?)`,
				p.ID, i, options[o].DemandID); err != nil {
				return fmt.Errorf("governance: set priorities of proposal %d: %w", p.ID, err)
			}
		}
		return appendEntry(ctx, tx, now, ledger.Effect{Proposal: p.ID, Effect: "demand priorities set: " + positions(r.Chosen, options)})
	case KindChoose:
		for _, o := range r.Chosen {
			ev := ledger.Effect{Proposal: p.ID, Resource: options[o].ResourceID, Effect: "resource endorsed"}
			var err error
			ev.Digest, err = library.EndorseResource(ctx, tx, *options[o].ResourceID, p.ID, now)
			if errors.Is(err, library.ErrNotFound) {
				// Endorsed meanwhile by another ballot, or no longer listed.
				ev.Skipped, ev.Digest, ev.Effect = true, "", "nothing to change: resource endorsed already"
			} else if err != nil {
				return fmt.Errorf("governance: apply effect of proposal %d: %w", p.ID, err)
			}
			if err := appendEntry(ctx, tx, now, ev); err != nil {
				return err
			}
		}
		return nil
	case KindElect:
		for i, o := range r.Chosen {
			// A member's name is read from their record (Officers), as
			// on the ballot: the row keeps what proposal_options keeps.
			if _, err := tx.ExecContext(ctx, `INSERT INTO officers (proposal_id, seat, position, member_id, name, office)
				SELECT proposal_id, ?, position, member_id, label, ? FROM proposal_options WHERE proposal_id = ? AND position = ?`,
				i+1, *p.Office, p.ID, o); err != nil {
				return fmt.Errorf("governance: record officers of proposal %d: %w", p.ID, err)
			}
		}
		// The ledger names people by member number only: the elected go on
		// it as the options' numbers on the ballot.
		return appendEntry(ctx, tx, now, ledger.Effect{Proposal: p.ID, Effect: "officers elected: " + positions(r.Chosen, options)})
	}
	return nil
}

// positions says options as the ballot numbers them, from 1, in order:
// "options 3, 1, 2".
func positions(chosen []int, options []Option) string {
	s := make([]string, len(chosen))
	for i, o := range chosen {
		s[i] = strconv.Itoa(options[o].Position + 1)
	}
	return "options " + strings.Join(s, ", ")
}

// verifyChoice is VerifyTally for a choice: it recounts the box with the
// proposal's method and compares the result, byte for byte, with the one
// stored at close, and the digests with those the ledger published.
func (s *Service) verifyChoice(ctx context.Context, p Proposal, entries []BoxEntry, fail func(string, ...any) (Tally, error)) (Tally, error) {
	options, err := readOptions(ctx, s.db.R, p.ID)
	if err != nil {
		return Tally{}, err
	}
	q, err := quorumCountAt(ctx, s.db.R, p)
	if err != nil {
		return Tally{}, err
	}
	r, err := countChoice(p, len(options), *p.BoxDigest, entries, q)
	if err != nil {
		return fail("the box cannot be counted: %v", err)
	}
	switch {
	case p.Result == nil || r.JSON() != *p.Result:
		return fail("the recount by %s differs from the result stored at close", r.Method)
	case p.Outcome == nil || *p.Outcome != r.Outcome || p.QuorumMet == nil || *p.QuorumMet != r.QuorumMet:
		return fail("the rules give %s (quorum met: %t); stored outcome differs", r.Outcome, r.QuorumMet)
	}
	var published struct {
		RollSize     *int    `db:"roll_size"`
		RollDigest   *string `db:"roll_digest"`
		BoxDigest    *string `db:"box_digest"`
		ResultDigest *string `db:"result_digest"`
		Outcome      *string `db:"outcome"`
		Turnout      *int    `db:"turnout"`
	}
	field, number := s.db.JSONField, s.db.JSONNumber
	err = s.db.R.GetContext(ctx, &published, `SELECT
		(SELECT `+number("body", "roll_size")+` FROM ledger WHERE kind = ? AND `+number("body", "proposal")+` = ?) AS roll_size,
		(SELECT `+field("body", "roll_digest")+` FROM ledger WHERE kind = ? AND `+number("body", "proposal")+` = ?) AS roll_digest,
		`+field("body", "box_digest")+` AS box_digest, `+field("body", "result_digest")+` AS result_digest,
		`+field("body", "outcome")+` AS outcome, `+number("body", "turnout")+` AS turnout
		FROM ledger WHERE kind = ? AND `+number("body", "proposal")+` = ?`,
		EventBallotOpened, p.ID, EventBallotOpened, p.ID, EventBallotClosed, p.ID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fail("the ledger has no record of this ballot closing")
	case err != nil:
		return Tally{}, fmt.Errorf("governance: read ledger for proposal %d: %w", p.ID, err)
	case published.RollSize == nil || *published.RollSize != *p.RollSize || published.RollDigest == nil || *published.RollDigest != *p.RollDigest:
		return fail("the roll does not match the one published on the ledger when voting opened")
	case published.BoxDigest == nil || *published.BoxDigest != *p.BoxDigest:
		return fail("the box digest does not match the one published on the ledger at close")
	case published.ResultDigest == nil || *published.ResultDigest != sha256Hex(*p.Result):
		return fail("the result does not match the digest published on the ledger at close")
	case published.Outcome == nil || *published.Outcome != r.Outcome || published.Turnout == nil || *published.Turnout != r.Ballots:
		return fail("the recount differs from the result published on the ledger at close")
	}
	return Tally{RollSize: r.RollSize, QuorumPct: r.QuorumPct, QuorumMet: r.QuorumMet, Outcome: r.Outcome, Choice: &r}, nil
}

// Priority is one demand on the co-op's priority list.
type Priority struct {
	Position int    `db:"position"` // from 0, first priority first
	DemandID int64  `db:"demand_id"`
	Title    string `db:"title"`
	Status   string `db:"status"` // the demand's status now
}

// PriorityList is the co-op's current priority list: the order the latest
// carried prioritise_demands ballot gave, and that ballot.
type PriorityList struct {
	Proposal Proposal
	Demands  []Priority
}

// PriorityList returns the co-op's current priority list; ok is false
// while no ballot has set one.
func (s *Service) PriorityList(ctx context.Context) (list PriorityList, ok bool, err error) {
	if err := s.Advance(ctx); err != nil {
		return PriorityList{}, false, err
	}
	var id int64
	err = s.db.R.GetContext(ctx, &id, `SELECT p.id FROM proposals p
		WHERE p.kind = 'prioritise_demands' AND EXISTS (SELECT 1 FROM demand_priorities d WHERE d.proposal_id = p.id)
		ORDER BY p.closed_at DESC, p.id DESC LIMIT 1`)
	if errors.Is(err, sql.ErrNoRows) {
		return PriorityList{}, false, nil
	}
	if err != nil {
		return PriorityList{}, false, fmt.Errorf("governance: priority list: %w", err)
	}
	if list.Proposal, err = getProposal(ctx, s.db.R, id); err != nil {
		return PriorityList{}, false, err
	}
	if err := s.db.R.SelectContext(ctx, &list.Demands, `SELECT p.position, p.demand_id, d.title, d.status
		FROM demand_priorities p JOIN demands d ON d.id = p.demand_id WHERE p.proposal_id = ? ORDER BY p.position`, id); err != nil {
		return PriorityList{}, false, fmt.Errorf("governance: priority list: %w", err)
	}
	return list, true, nil
}

// Officer is one person elected to an office, and the ballot behind it.
type Officer struct {
	Office     string    `db:"office"`
	Seat       int       `db:"seat"`     // from 1, in the order elected
	Position   int       `db:"position"` // the option on the ballot
	MemberID   *int64    `db:"member_id"`
	Name       string    `db:"name"` // a member's as their record has it now
	ProposalID int64     `db:"proposal_id"`
	ElectedAt  time.Time `db:"closed_at"`
}

// Officers lists the co-op's officers: for each office, those its latest
// carried election elected, by office and seat.
func (s *Service) Officers(ctx context.Context) ([]Officer, error) {
	if err := s.Advance(ctx); err != nil {
		return nil, err
	}
	var out []Officer
	err := s.db.R.SelectContext(ctx, &out, `SELECT o.office, o.seat, o.position, o.member_id,
		CASE WHEN m.name <> '' THEN m.name ELSE o.name END AS name, o.proposal_id, p.closed_at
		FROM officers o JOIN proposals p ON p.id = o.proposal_id LEFT JOIN members m ON m.id = o.member_id
		WHERE o.proposal_id = (SELECT o2.proposal_id FROM officers o2 JOIN proposals p2 ON p2.id = o2.proposal_id
			WHERE o2.office = o.office ORDER BY p2.closed_at DESC, p2.id DESC LIMIT 1)
		ORDER BY o.office, o.seat`)
	if err != nil {
		return nil, fmt.Errorf("governance: officers: %w", err)
	}
	return out, nil
}
