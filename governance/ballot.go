package governance

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/check"
	"plenary/internal/db"
	"plenary/internal/ledger"
	"plenary/library"
)

// Advance opens the ballots whose time has come and closes those whose time
// is up, and queues the closing-soon reminders that are due (remind.go). A background ticker calls it, and so does every read of a
// proposal, so a result is never shown late and never shown twice: each
// open and close is a conditional update inside one transaction, which
// happens exactly once however many callers race. Then it rewrites the
// boxes of the secret ballots that closed (rewriteBoxes).
func (s *Service) Advance(ctx context.Context) error {
	if err := s.openAndClose(ctx); err != nil {
		return err
	}
	if err := s.remind(ctx); err != nil {
		return err
	}
	return s.rewriteBoxes(ctx)
}

func (s *Service) openAndClose(ctx context.Context) error {
	now := s.now()
	var due []struct {
		ID     int64  `db:"id"`
		Status string `db:"status"`
		Early  bool   `db:"early"`
	}
	// A meeting's agenda items open when its chair opens them, not by
	// time (meeting.go). A ballot that closes early is due as soon as
	// everyone on its roll has voted or stood aside: the vote writer
	// closes it then, and this finds one a crash left open. (The search
	// stops at the first member who has not voted, so it costs little
	// while a ballot is far from done.)
	err := s.db.R.SelectContext(ctx, &due, `SELECT id, status, CASE WHEN status = 'voting' AND closes_at > ? THEN 1 ELSE 0 END AS early
		FROM proposals
		WHERE (status = 'discussion' AND opens_at <= ? AND NOT EXISTS (SELECT 1 FROM meeting_items m WHERE m.proposal_id = proposals.id))
		OR (status = 'voting' AND closes_at <= ?)
		OR (status = 'voting' AND early_close = 1 AND NOT EXISTS (SELECT 1 FROM roll r WHERE r.proposal_id = proposals.id AND r.voted = 0
			AND NOT EXISTS (SELECT 1 FROM recusals c WHERE c.proposal_id = r.proposal_id AND c.member_id = r.member_id)))
		ORDER BY id`, now, now, now)
	if err != nil {
		return fmt.Errorf("governance: find due ballots: %w", err)
	}
	for _, d := range due {
		err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
			p, err := getProposal(ctx, tx, d.ID)
			if err != nil {
				return err
			}
			if p.Status == ProposalDiscussion && !p.OpensAt.After(now) {
				if err := s.openBallot(ctx, tx, &p, now); err != nil {
					return err
				}
				p, err = getProposal(ctx, tx, d.ID)
				if err != nil {
					return err
				}
			}
			if p.Status == ProposalVoting && !p.ClosesAt.After(now) {
				return s.closeBallot(ctx, tx, p, now, closing{})
			}
			if p.Status == ProposalVoting && d.Early {
				return s.closeIfAllVoted(ctx, tx, p, now)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// NextDue is when Advance next has work: the earliest opening of a ballot
// in discussion or closing of one in voting. ok is false when no ballot is
// waiting for a time. Anything that shows ballots as they stand (a cached
// page, say) is out of date from that moment.
func (s *Service) NextDue(ctx context.Context) (at time.Time, ok bool, err error) {
	for _, q := range []string{
		`SELECT opens_at FROM proposals WHERE status = 'discussion' ORDER BY opens_at LIMIT 1`,
		`SELECT closes_at FROM proposals WHERE status = 'voting' ORDER BY closes_at LIMIT 1`,
	} {
		var t time.Time
		switch err := s.db.R.GetContext(ctx, &t, q); {
		case errors.Is(err, sql.ErrNoRows):
			continue
		case err != nil:
			return time.Time{}, false, fmt.Errorf("governance: next due ballot: %w", err)
		}
		if !ok || t.Before(at) {
			at, ok = t, true
		}
	}
	return at, ok, nil
}

// closing says how a ballot closes before its time: early, because
// everyone on its roll has voted or stood aside; or by a meeting's chair
// (by). The zero value is a close at closes_at.
type closing struct {
	early bool
	by    int64
}

// entry adds to a close's ledger entry how and on what its quorum was
// counted.
func (c closing) entry(e ledger.BallotClosed, q QuorumCount) ledger.BallotClosed {
	e.Early, e.ClosedBy, e.Recused = c.early, c.by, q.Recused
	if q.Present != nil {
		e.QuorumOn, e.QuorumBase = QuorumOnPresent, *q.Present
	}
	return e
}

// closeBallot counts the box, decides, stores the result and applies a
// carried proposal's effect, all in the caller's transaction.
func (s *Service) closeBallot(ctx context.Context, tx *sqlx.Tx, p Proposal, now time.Time, how closing) error {
	entries, err := box(ctx, tx, p)
	if err != nil {
		return err
	}
	q, err := quorumCountAt(ctx, tx, p)
	if err != nil {
		return err
	}
	// From now nothing links a principal to the box row their proxy's
	// ballot lies in.
	if _, err := tx.ExecContext(ctx, `UPDATE proxy_votes SET receipt_hash = NULL WHERE proposal_id = ? AND receipt_hash IS NOT NULL`, p.ID); err != nil {
		return fmt.Errorf("governance: close ballot: %w", err)
	}
	if p.Secret != nil && *p.Secret {
		// The box is rewritten in key order right after this commits
		// (rewriteBoxes); a crash before then leaves the row to the next run.
		if _, err := tx.ExecContext(ctx, `INSERT INTO box_rewrites (proposal_id) VALUES (?)`, p.ID); err != nil {
			return fmt.Errorf("governance: close ballot: %w", err)
		}
	}
	if p.IsChoice() {
		return s.closeChoice(ctx, tx, p, entries, q, now, how)
	}
	yes, no, abstain := countYesNo(entries)
	t := DecideOn(yes, no, abstain, q, *p.QuorumPct, *p.Threshold)
	digest := boxDigest(entries)
	res, err := tx.ExecContext(ctx, `UPDATE proposals SET status = 'closed', yes = ?, no = ?, abstain = ?, quorum_met = ?,
		outcome = ?, box_digest = ?, closed_at = ?, recused = ?, quorum_base = ? WHERE id = ? AND status = 'voting'`,
		yes, no, abstain, t.QuorumMet, t.Outcome, digest, now, q.Recused, q.Present, p.ID)
	if err != nil {
		return fmt.Errorf("governance: close ballot: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("governance: close ballot %d: it was not open", p.ID)
	}
	if err := appendEntry(ctx, tx, now, how.entry(ledger.BallotClosed{
		Proposal: p.ID, Yes: yes, No: no, Abstain: abstain, Turnout: t.Turnout(), RollSize: t.RollSize,
		QuorumMet: t.QuorumMet, Outcome: t.Outcome, BoxDigest: digest}, q)); err != nil {
		return err
	}
	if err := s.queueResult(ctx, tx, p, t); err != nil {
		return err
	}
	return s.applyEffect(ctx, tx, p, t, now)
}

// applyEffect carries out what a closed ballot decided.
func (s *Service) applyEffect(ctx context.Context, tx *sqlx.Tx, p Proposal, t Tally, now time.Time) error {
	var err error
	ev := ledger.Effect{Proposal: p.ID}
	switch {
	case p.Kind == KindEndorseDemand && t.Outcome == OutcomeCarried:
		ev.Demand, ev.Effect = p.DemandID, "demand endorsed"
		ev.Digest, err = library.EndorseDemand(ctx, tx, *p.DemandID, p.ID, now, t.JSON())
	case p.Kind == KindEndorseDemand && t.Outcome == OutcomeDefeated:
		ev.Demand, ev.Effect = p.DemandID, "demand rejected"
		err = library.RejectDemand(ctx, tx, *p.DemandID, now)
	case p.Kind == KindEndorseResource && t.Outcome == OutcomeCarried:
		ev.Resource, ev.Effect = p.ResourceID, "resource endorsed"
		ev.Digest, err = library.EndorseResource(ctx, tx, *p.ResourceID, p.ID, now)
	case p.Kind == KindWithdraw && t.Outcome == OutcomeCarried && p.DemandID != nil:
		ev.Demand, ev.Effect = p.DemandID, "demand endorsement withdrawn"
		err = library.WithdrawDemand(ctx, tx, *p.DemandID, p.ID, now)
	case p.Kind == KindWithdraw && t.Outcome == OutcomeCarried && p.ResourceID != nil:
		ev.Resource, ev.Effect = p.ResourceID, "resource endorsement withdrawn"
		err = library.WithdrawResource(ctx, tx, *p.ResourceID, p.ID, now)
	case p.Kind == KindAdoptDemand && t.Outcome == OutcomeCarried:
		var id int64
		id, ev.Digest, err = library.AdoptDemand(ctx, tx, library.DemandInput{Title: *p.NewTitle, Body: *p.NewBody, Audience: *p.NewAudience},
			p.AuthorID, p.ID, now, t.JSON())
		if err == nil {
			_, err = tx.ExecContext(ctx, `UPDATE proposals SET demand_id = ? WHERE id = ?`, id, p.ID)
		}
		ev.Demand, ev.Effect = &id, "demand adopted and endorsed"
	case (p.Kind == KindAmendDemand || p.Kind == KindAmendResource) && t.Outcome == OutcomeCarried:
		return s.applyAmendment(ctx, tx, p, now)
	default:
		return nil // defeated, inquorate, or a motion: the result is the record
	}
	if errors.Is(err, library.ErrNotFound) {
		// The item is no longer in a state the effect applies to. The
		// decision stands on the ledger; say that its effect had nothing to do.
		ev.Skipped, ev.Digest, ev.Effect = true, "", "nothing to change: "+ev.Effect+" already"
		return appendEntry(ctx, tx, now, ev)
	}
	if err != nil {
		return fmt.Errorf("governance: apply effect of proposal %d: %w", p.ID, err)
	}
	return appendEntry(ctx, tx, now, ev)
}

// Receipt codes: 20 random bytes in base32, grouped for reading aloud.
var receiptEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// MaxReceiptLen is the longest text taken as a receipt. A code is 39
// characters; the rest is room for one pasted with spaces or line breaks.
// Anything longer is no receipt of ours and is refused before it is hashed.
const MaxReceiptLen = 100

func newReceipt() string {
	b := make([]byte, 20)
	rand.Read(b)
	code := receiptEncoding.EncodeToString(b)
	groups := make([]string, 0, 8)
	for i := 0; i < len(code); i += 4 {
		groups = append(groups, code[i:min(i+4, len(code))])
	}
	return strings.Join(groups, "-")
}

// normaliseReceipt lets people paste a receipt with or without dashes,
// spaces or lower case.
func normaliseReceipt(r string) string {
	r = strings.ToUpper(strings.Map(func(c rune) rune {
		if c == '-' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			return -1
		}
		return c
	}, r))
	groups := make([]string, 0, 8)
	for i := 0; i < len(r); i += 4 {
		groups = append(groups, r[i:min(i+4, len(r))])
	}
	return strings.Join(groups, "-")
}

// ReceiptHash is what the box keeps of a receipt, and what a voter looks
// for in the published box.
func ReceiptHash(receipt string) string { return sha256Hex(normaliseReceipt(receipt)) }

// VoteResult says what a vote did. Receipt is set once, for a first secret
// ballot: it is shown to the voter and never stored.
// ReplacedProxy says that a proxy had voted for the member, and the
// member's own vote has taken that ballot's place.
type VoteResult struct {
	Changed       bool
	Receipt       string
	ReplacedProxy bool
}

// ballotPaper is a vote as the ballot form gives it. A receipt longer than
// any real one is refused before it is hashed.
type ballotPaper struct {
	Choice  string `form:"choice" validate:"oneof=yes no abstain"`
	Receipt string `form:"receipt" validate:"max=100"`
}

var ballotMessages = map[string]string{
	"choice.oneof": "Choose yes, no or abstain.",
	"receipt.max":  "That is not a receipt from this ballot.",
}

// Messages words what the tags refuse.
func (ballotPaper) Messages() map[string]string { return ballotMessages }

// Vote casts or changes a member's vote. Only members on the roll frozen
// when voting opened may vote, whatever their status since. In an open
// ballot a second vote changes the first. In a secret ballot the first vote
// returns a receipt, and only that receipt can change the choice.
//
// Votes go through the vote writer (votewriter.go), which commits waiting
// votes together; Vote returns only once its vote is durable.
func (s *Service) Vote(ctx context.Context, voter Member, proposalID int64, choice, receipt string) (VoteResult, error) {
	if err := check.Struct(ballotPaper{Choice: choice, Receipt: receipt}).Err(); err != nil {
		return VoteResult{}, err
	}
	return s.castQueued(ctx, voteRequest{voter: voter.ID, proposal: proposalID, choice: choice, receipt: receipt})
}

// castQueued hands a vote to the vote writer and waits for its answer.
func (s *Service) castQueued(ctx context.Context, req voteRequest) (VoteResult, error) {
	res, err := s.votes.cast(ctx, req)
	if !errors.Is(err, ErrBallotClosed) {
		return res, err
	}
	// A ballot whose opening time has passed opens before the vote, even if
	// nothing else has read it since. Asked only when the vote found the
	// ballot not open, so the busiest path, votes in an open ballot, skips
	// the search for due ballots. (castIn refuses a vote after closes_at
	// whether or not the ballot has been closed yet.)
	if err := s.Advance(ctx); err != nil {
		return VoteResult{}, err
	}
	return s.votes.cast(ctx, req)
}

// castIn applies one vote inside tx. proposals holds the proposals this
// transaction has read already: votes change no proposal, so within one
// transaction each is read once however many votes it gets.
func (s *Service) castIn(ctx context.Context, tx *sqlx.Tx, v voteRequest, proposals map[int64]Proposal) (VoteResult, error) {
	var out VoteResult
	p, ok := proposals[v.proposal]
	if !ok {
		var err error
		if p, err = getProposal(ctx, tx, v.proposal); err != nil {
			return out, err
		}
		if err := tx.GetContext(ctx, &p.proxied, `SELECT EXISTS (SELECT 1 FROM roll_proxies WHERE proposal_id = ?)`, p.ID); err != nil {
			return out, fmt.Errorf("governance: check proxies: %w", err)
		}
		proposals[v.proposal] = p
	}
	if p.Status != ProposalVoting || !s.now().Before(p.ClosesAt) {
		return out, ErrBallotClosed
	}
	// One read of the voter's roll row says both whether they are on it
	// and whether they have voted (issue 17: a vote used to read it twice,
	// and a change learnt that it was one from the database refusing a
	// second mark). The database still refuses a second mark
	// (roll_vote_once), so a race between processes is settled as before.
	voted := false
	if v.principal == 0 {
		err := tx.GetContext(ctx, &voted, `SELECT voted FROM roll WHERE proposal_id = ? AND member_id = ?`, p.ID, v.voter)
		if errors.Is(err, sql.ErrNoRows) {
			return out, ErrNotOnRoll
		}
		if err != nil {
			return out, fmt.Errorf("governance: check roll: %w", err)
		}
	}
	t, choice := yesNoTables, v.choice
	if p.IsChoice() != (v.ranks != nil || v.approve != nil) {
		return out, ValidationError{"": "This ballot has changed since the page was loaded: reload it and vote again."}
	}
	if p.IsChoice() {
		if p.nOptions == 0 {
			if err := tx.GetContext(ctx, &p.nOptions, `SELECT count(*) FROM proposal_options WHERE proposal_id = ?`, p.ID); err != nil {
				return out, fmt.Errorf("governance: count options: %w", err)
			}
			proposals[p.ID] = p
		}
		ballot, err := p.choiceBallot(v.ranks, v.approve)
		if err != nil {
			return out, err
		}
		t, choice = choiceTables, ballot
	}
	var err error
	switch {
	case v.principal != 0:
		err = castAsProxy(ctx, tx, t, p, v, choice, &out)
	case *p.Secret:
		err = castSecret(ctx, tx, t, p, v, voted, choice, &out)
	default:
		err = castOpen(ctx, tx, t, p, v, voted, choice, &out)
	}
	return out, err
}

// ballotTables names where a kind of ballot is kept: open ballots beside
// the member, secret ones in the box, and the column that holds what was
// voted.
type ballotTables struct{ open, box, column string }

var (
	yesNoTables  = ballotTables{"votes", "ballot_box", "choice"}
	choiceTables = ballotTables{"choice_votes", "choice_box", "ballot"}
)

// markVoted records on the roll that member has voted, once. The roll row
// is updated in place; the database refuses a second mark (trigger
// roll_vote_once), which is what makes one member one vote hold however
// many requests race. It returns ErrNotOnRoll when there is no row to mark
// and ErrAlreadyVoted when the database refuses.
func markVoted(ctx context.Context, tx *sqlx.Tx, proposal, member int64) error {
	res, err := db.ExecMayFail(ctx, tx, `UPDATE roll SET voted = 1 WHERE proposal_id = ? AND member_id = ?`, proposal, member)
	if err != nil {
		if db.IsConstraint(err, "plenary: a vote once cast stays cast") {
			return ErrAlreadyVoted
		}
		if db.IsConstraint(err, "plenary: a member who stood aside does not vote") {
			return ErrRecused
		}
		return fmt.Errorf("governance: mark voted: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotOnRoll
	}
	return nil
}

func castOpen(ctx context.Context, tx *sqlx.Tx, t ballotTables, p Proposal, v voteRequest, voted bool, choice string, out *VoteResult) error {
	proposal, member := p.ID, v.voter
	err := ErrAlreadyVoted
	if !voted {
		err = markVoted(ctx, tx, proposal, member)
	}
	if errors.Is(err, ErrAlreadyVoted) {
		if replaced, err := replaceProxyVote(ctx, tx, t, p, v, choice, out); replaced || err != nil {
			return err
		}
		out.Changed = true
		_, err = tx.ExecContext(ctx, `UPDATE `+t.open+` SET `+t.column+` = ? WHERE proposal_id = ? AND member_id = ?`, choice, proposal, member)
		if err != nil {
			return fmt.Errorf("governance: change vote: %w", err)
		}
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+t.open+` (proposal_id, member_id, `+t.column+`) VALUES (?, ?, ?)`,
		proposal, member, choice); err != nil {
		return fmt.Errorf("governance: cast vote: %w", err)
	}
	return nil
}

func castSecret(ctx context.Context, tx *sqlx.Tx, t ballotTables, p Proposal, v voteRequest, voted bool, choice string, out *VoteResult) error {
	proposal, member, receipt := p.ID, v.voter, v.receipt
	if strings.TrimSpace(receipt) != "" {
		// A change: the member must have voted, and the receipt must be one
		// of this ballot's. Nothing ties the two together in the database.
		if !voted {
			return ValidationError{"receipt": "You have not voted in this ballot yet: vote without a receipt first."}
		}
		res, err := tx.ExecContext(ctx, `UPDATE `+t.box+` SET `+t.column+` = ? WHERE proposal_id = ? AND receipt_hash = ?`,
			choice, proposal, ReceiptHash(receipt))
		if err != nil {
			return fmt.Errorf("governance: change secret vote: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ValidationError{"receipt": "That is not a receipt from this ballot. Check it and try again."}
		}
		out.Changed = true
		return nil
	}
	if err := markVoted(ctx, tx, proposal, member); err != nil {
		if errors.Is(err, ErrAlreadyVoted) {
			// A member whose proxy voted for them replaces that ballot.
			if replaced, rerr := replaceProxyVote(ctx, tx, t, p, v, choice, out); replaced || rerr != nil {
				return rerr
			}
		}
		return err
	}
	out.Receipt = newReceipt()
	hash := ReceiptHash(out.Receipt)
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+t.box+` (proposal_id, receipt_hash, `+t.column+`) VALUES (?, ?, ?)`,
		proposal, hash, choice); err != nil {
		return fmt.Errorf("governance: cast secret vote: %w", err)
	}
	return nil
}
