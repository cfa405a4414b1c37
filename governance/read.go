package governance

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Participation is what a member may know of a ballot while it runs:
// whether they are on the roll, whether they have voted, their own choice
// in an open ballot, and the turnout. Never a count of choices.
type Participation struct {
	OnRoll  bool
	Voted   bool
	Choice  string // open ballots only: the member's own current choice
	Turnout int
}

// Proposal returns a proposal after bringing its ballot up to date. An
// open or upcoming proposal is for members only: the public sees closed
// ones (and ones withdrawn or cancelled).
func (s *Service) Proposal(ctx context.Context, viewer *Member, id int64) (Proposal, error) {
	if err := s.Advance(ctx); err != nil {
		return Proposal{}, err
	}
	p, err := getProposal(ctx, s.db.R, id)
	if err != nil {
		return Proposal{}, err
	}
	if !publicProposal(p) && (viewer == nil || !canSeeRunning(*viewer)) {
		return Proposal{}, ErrNotFound
	}
	return p, nil
}

func publicProposal(p Proposal) bool {
	return p.Status == ProposalClosed || p.Status == ProposalWithdrawn || p.Status == ProposalCancelled
}

// canSeeRunning: members of the co-op (active, or suspended ones who may
// still hold a vote) follow proposals in progress.
func canSeeRunning(m Member) bool {
	return m.Status == StatusActive || m.Status == StatusSuspended
}

// Participation tells a member where they stand in a ballot.
func (s *Service) Participation(ctx context.Context, m Member, p Proposal) (Participation, error) {
	var out Participation
	if p.Status != ProposalVoting && p.Status != ProposalClosed {
		return out, nil
	}
	err := s.db.R.QueryRowxContext(ctx, `SELECT
		EXISTS (SELECT 1 FROM roll WHERE proposal_id = ? AND member_id = ?),
		EXISTS (SELECT 1 FROM roll WHERE proposal_id = ? AND member_id = ? AND voted = 1),
		coalesce((SELECT choice FROM votes WHERE proposal_id = ? AND member_id = ?), ''),
		(SELECT count(*) FROM roll WHERE proposal_id = ? AND voted = 1)`,
		p.ID, m.ID, p.ID, m.ID, p.ID, m.ID, p.ID).Scan(&out.OnRoll, &out.Voted, &out.Choice, &out.Turnout)
	if err != nil {
		return out, fmt.Errorf("governance: participation: %w", err)
	}
	return out, nil
}

// Box is a closed ballot's published box: receipt hashes and choices for a
// secret ballot, the roll-call of member numbers and choices for an open one.
func (s *Service) Box(ctx context.Context, p Proposal) ([]BoxEntry, error) {
	if !p.Closed() {
		return nil, ErrBallotClosed
	}
	return box(ctx, s.db.R, p)
}

// BoxPerPage is how many lines of a published box a page shows.
const BoxPerPage = 200

// BoxPage returns one page of a closed ballot's published box, in key
// order, and how many lines the box has: a big co-op's box has a line per
// voter, too many for one page.
func (s *Service) BoxPage(ctx context.Context, p Proposal, page int) ([]BoxEntry, int, error) {
	if !p.Closed() {
		return nil, 0, ErrBallotClosed
	}
	table, key := "ballot_box", "receipt_hash"
	if p.Secret != nil && !*p.Secret {
		table, key = "votes", "member_id"
	}
	var total int
	if err := s.db.R.GetContext(ctx, &total, `SELECT count(*) FROM `+table+` WHERE proposal_id = ?`, p.ID); err != nil {
		return nil, 0, fmt.Errorf("governance: count ballot box: %w", err)
	}
	var entries []BoxEntry
	err := s.db.R.SelectContext(ctx, &entries, `SELECT CAST(`+key+` AS TEXT) AS key, choice FROM `+table+
		` WHERE proposal_id = ? ORDER BY `+key+` LIMIT ? OFFSET ?`, p.ID, BoxPerPage, (min(max(page, 1), 1_000_000)-1)*BoxPerPage)
	if err != nil {
		return nil, 0, fmt.Errorf("governance: read ballot box: %w", err)
	}
	return entries, total, nil
}

// FindReceipt looks a receipt up in a closed secret ballot's box and
// returns the choice counted for it and the box page it is on, or "" and 0
// if no ballot has that receipt.
func (s *Service) FindReceipt(ctx context.Context, p Proposal, receipt string) (string, int, error) {
	if !p.Closed() {
		return "", 0, ErrBallotClosed
	}
	if len(receipt) > 100 {
		return "", 0, nil
	}
	hash := ReceiptHash(receipt)
	var found []struct {
		Choice string `db:"choice"`
		Before int    `db:"before"`
	}
	err := s.db.R.SelectContext(ctx, &found, `SELECT choice,
		(SELECT count(*) FROM ballot_box b WHERE b.proposal_id = ? AND b.receipt_hash < ?) AS before
		FROM ballot_box WHERE proposal_id = ? AND receipt_hash = ?`, p.ID, hash, p.ID, hash)
	if err != nil {
		return "", 0, fmt.Errorf("governance: find receipt: %w", err)
	}
	if len(found) == 0 {
		return "", 0, nil
	}
	return found[0].Choice, found[0].Before/BoxPerPage + 1, nil
}

// ProposalSummary is a proposal in a list, with the viewer's part in it.
type ProposalSummary struct {
	Proposal
	OnRoll bool `db:"on_roll"`
	Voted  bool `db:"voted"`
}

// ProposalLists are the proposals page's sections.
type ProposalLists struct {
	Voting      []ProposalSummary // awaiting the viewer's vote first
	Discussion  []ProposalSummary
	Closed      []ProposalSummary // one page, newest first
	ClosedTotal int
	Ended       []ProposalSummary // the latest withdrawn or cancelled
}

// ClosedPerPage is how many decided proposals a page of the list shows.
const ClosedPerPage = 25

// Proposals lists proposals for viewer (nil for the public, who see only
// closed, withdrawn and cancelled ones), with the first page of decisions.
func (s *Service) Proposals(ctx context.Context, viewer *Member) (ProposalLists, error) {
	return s.ProposalsPage(ctx, viewer, 1)
}

// ProposalsPage is Proposals with page of the decided ones: a co-op that
// has decided a thousand questions lists them 25 at a time.
func (s *Service) ProposalsPage(ctx context.Context, viewer *Member, page int) (ProposalLists, error) {
	if err := s.Advance(ctx); err != nil {
		return ProposalLists{}, err
	}
	var id int64
	if viewer != nil {
		id = viewer.ID
	}
	list := func(where string, args ...any) ([]ProposalSummary, error) {
		var ps []ProposalSummary
		err := s.db.R.SelectContext(ctx, &ps, `SELECT `+prefixedColumns("p.")+`,
			EXISTS (SELECT 1 FROM roll r WHERE r.proposal_id = p.id AND r.member_id = ?) AS on_roll,
			EXISTS (SELECT 1 FROM roll v WHERE v.proposal_id = p.id AND v.member_id = ? AND v.voted = 1) AS voted
			FROM proposals p WHERE `+where, append([]any{id, id}, args...)...)
		if err != nil {
			return nil, fmt.Errorf("governance: list proposals: %w", err)
		}
		return ps, nil
	}
	var out ProposalLists
	var err error
	if viewer != nil && canSeeRunning(*viewer) {
		voting, err := list(`p.status = 'voting' ORDER BY p.closes_at, p.id`)
		if err != nil {
			return ProposalLists{}, err
		}
		var voted []ProposalSummary
		for _, p := range voting {
			if p.OnRoll && !p.Voted {
				out.Voting = append(out.Voting, p)
			} else {
				voted = append(voted, p)
			}
		}
		out.Voting = append(out.Voting, voted...)
		if out.Discussion, err = list(`p.status = 'discussion' ORDER BY p.opens_at, p.id`); err != nil {
			return ProposalLists{}, err
		}
	}
	if err := s.db.R.GetContext(ctx, &out.ClosedTotal, `SELECT count(*) FROM proposals WHERE status = 'closed'`); err != nil {
		return ProposalLists{}, fmt.Errorf("governance: count closed: %w", err)
	}
	page = min(max(page, 1), 1_000_000)
	if out.Closed, err = list(`p.status = 'closed' ORDER BY p.closed_at DESC, p.id DESC LIMIT ? OFFSET ?`,
		ClosedPerPage, (page-1)*ClosedPerPage); err != nil {
		return ProposalLists{}, err
	}
	if out.Ended, err = list(`p.status IN ('withdrawn', 'cancelled') ORDER BY p.id DESC LIMIT 20`); err != nil {
		return ProposalLists{}, err
	}
	return out, nil
}

// AwaitingVote lists the open ballots on whose roll m is and has not voted.
func (s *Service) AwaitingVote(ctx context.Context, m Member) ([]Proposal, error) {
	if err := s.Advance(ctx); err != nil {
		return nil, err
	}
	var ps []Proposal
	err := s.db.R.SelectContext(ctx, &ps, `SELECT `+prefixedColumns("p.")+` FROM proposals p
		JOIN roll r ON r.proposal_id = p.id AND r.member_id = ?
		WHERE p.status = 'voting' AND r.voted = 0
		ORDER BY p.closes_at`, m.ID)
	if err != nil {
		return nil, fmt.Errorf("governance: awaiting vote: %w", err)
	}
	return ps, nil
}

// ClosedProposals lists closed ballots, newest first, for feeds and the API.
func (s *Service) ClosedProposals(ctx context.Context, page, perPage int) ([]Proposal, int, error) {
	if err := s.Advance(ctx); err != nil {
		return nil, 0, err
	}
	var total int
	if err := s.db.R.GetContext(ctx, &total, `SELECT count(*) FROM proposals WHERE status = 'closed'`); err != nil {
		return nil, 0, fmt.Errorf("governance: count closed: %w", err)
	}
	var ps []Proposal
	err := s.db.R.SelectContext(ctx, &ps, `SELECT `+proposalColumns+` FROM proposals WHERE status = 'closed'
		ORDER BY closed_at DESC, id DESC LIMIT ? OFFSET ?`, perPage, (max(page, 1)-1)*perPage)
	if err != nil {
		return nil, 0, fmt.Errorf("governance: closed proposals: %w", err)
	}
	return ps, total, nil
}

func prefixedColumns(prefix string) string {
	parts := strings.Split(proposalColumns, ",")
	for i, p := range parts {
		parts[i] = prefix + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// Comment is a member's contribution to a proposal's discussion.
type Comment struct {
	ID         int64     `db:"id"`
	ProposalID int64     `db:"proposal_id"`
	MemberID   int64     `db:"member_id"`
	Name       string    `db:"name"`
	Body       string    `db:"body"`
	CreatedAt  time.Time `db:"created_at"`
}

// Comments lists a proposal's comments, oldest first. Names of erased
// members are not shown.
func (s *Service) Comments(ctx context.Context, proposal int64) ([]Comment, error) {
	var cs []Comment
	err := s.db.R.SelectContext(ctx, &cs, `SELECT c.id, c.proposal_id, c.member_id,
		CASE WHEN m.erased_at IS NULL THEN m.name ELSE 'Member ' || m.id || ' (erased)' END AS name, c.body, c.created_at
		FROM comments c JOIN members m ON m.id = c.member_id WHERE c.proposal_id = ? ORDER BY c.id`, proposal)
	if err != nil {
		return nil, fmt.Errorf("governance: comments: %w", err)
	}
	return cs, nil
}

// AddComment adds an active member's comment, until the ballot closes.
func (s *Service) AddComment(ctx context.Context, m Member, proposal int64, body string) error {
	body, err := checkComment(body)
	if err != nil {
		return err
	}
	if err := s.Advance(ctx); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := requireActive(ctx, tx, m.ID); err != nil {
			return err
		}
		p, err := getProposal(ctx, tx, proposal)
		if err != nil {
			return err
		}
		if p.Status != ProposalDiscussion && p.Status != ProposalVoting {
			return ValidationError{"body": "Discussion has ended: this proposal is " + p.Status + "."}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO comments (proposal_id, member_id, body, created_at) VALUES (?, ?, ?, ?)`, proposal, m.ID, body, s.now())
		if err != nil {
			return fmt.Errorf("governance: add comment: %w", err)
		}
		return nil
	})
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
	yes, no, abstain := count(entries)
	stored, _ := p.Tally()
	recount := Decide(yes, no, abstain, *p.RollSize, *p.QuorumPct, *p.Threshold)
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
	err = s.db.R.GetContext(ctx, &published, `SELECT
		(SELECT json_extract(body, '$.roll_size') FROM ledger WHERE kind = ? AND json_extract(body, '$.proposal') = ?) AS roll_size,
		(SELECT json_extract(body, '$.roll_digest') FROM ledger WHERE kind = ? AND json_extract(body, '$.proposal') = ?) AS roll_digest,
		c.yes, c.no, c.abstain, c.box_digest, c.outcome
		FROM (SELECT json_extract(body, '$.yes') AS yes, json_extract(body, '$.no') AS no, json_extract(body, '$.abstain') AS abstain,
			json_extract(body, '$.box_digest') AS box_digest, json_extract(body, '$.outcome') AS outcome
			FROM ledger WHERE kind = ? AND json_extract(body, '$.proposal') = ?) c`,
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
