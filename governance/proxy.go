package governance

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/check"
	"plenary/internal/db"
	"plenary/internal/ledger"
)

// Proxies: a member who cannot vote (the principal) appoints another
// active member (the holder) to vote for them, in one ballot or in every
// ballot until revoked. The rules cap how many principals one holder may
// hold in a ballot of each kind (Rule.ProxyCap; 0: no proxies), and the
// database refuses an appointment past the cap (trigger proxies_cap).
//
// When a ballot opens, the roll freezes who holds whose proxy in it
// (roll_proxies): an appointment made or revoked later does not change
// that ballot. The holder casts one ballot per principal (VoteAsProxy);
// a principal who votes in person before close replaces it, and is told
// that their proxy had voted, not how.

// Errors the server maps.
var (
	ErrNotProxy       = errors.New("governance: not this member's proxy in this ballot")
	ErrVotedInPerson  = errors.New("governance: the member has voted in person")
	ErrRecused        = errors.New("governance: the member stood aside in this ballot")
	errProxyCapFailed = "plenary: the proxy holder holds as many proxies as the rules allow"
)

// Appointment is a proxy appointment: Proposal 0 for every ballot.
type Appointment struct {
	ID            int64      `db:"id"`
	PrincipalID   int64      `db:"principal_id"`
	PrincipalName string     `db:"principal_name"`
	HolderID      int64      `db:"holder_id"`
	HolderName    string     `db:"holder_name"`
	Proposal      int64      `db:"proposal"`
	ProposalTitle string     `db:"proposal_title"`
	AppointedAt   time.Time  `db:"appointed_at"`
	RevokedAt     *time.Time `db:"revoked_at"`
}

// ProxyInput is an appointment as the principal's form gives it: the
// holder's member number and, for one ballot only, the proposal's number.
type ProxyInput struct {
	Holder   string `form:"holder" validate:"required,intrange=1 9007199254740991"`
	Proposal string `form:"proposal" validate:"omitempty,intrange=1 9007199254740991"`
}

var proxyMessages = map[string]string{
	"holder.required":   "Choose the member who will hold your proxy.",
	"holder.intrange":   "Choose a member of the co-op from the list.",
	"proposal.intrange": "Choose a proposal from the list, or every ballot.",
}

// Messages words what the tags refuse.
func (ProxyInput) Messages() map[string]string { return proxyMessages }

// Appoint makes holder the principal's proxy, for one ballot still in
// discussion or for every ballot. It replaces the principal's live
// appointment of the same scope, if any. Both are on the ledger.
func (s *Service) Appoint(ctx context.Context, principal Member, in ProxyInput) (Appointment, error) {
	if err := check.Struct(in).Err(); err != nil {
		return Appointment{}, err
	}
	holder, _ := strconv.ParseInt(in.Holder, 10, 64)
	var proposal *int64
	if in.Proposal != "" {
		id, _ := strconv.ParseInt(in.Proposal, 10, 64)
		proposal = &id
	}
	if holder == principal.ID {
		return Appointment{}, ValidationError{"holder": "Choose another member: you cannot hold your own proxy."}
	}
	now := s.now()
	var a Appointment
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := requireActive(ctx, tx, principal.ID); err != nil {
			return err
		}
		h, err := getMember(ctx, tx, `WHERE id = ?`, holder)
		if err != nil || h.Status != StatusActive {
			return ValidationError{"holder": "Choose an active member of the co-op."}
		}
		cap, err := proxyCap(ctx, tx, "")
		if err != nil {
			return err
		}
		if proposal != nil {
			p, err := getProposal(ctx, tx, *proposal)
			if errors.Is(err, ErrNotFound) || (err == nil && p.Status != ProposalDiscussion) {
				return ValidationError{"proposal": "Choose a proposal that has not opened for voting yet: an open ballot's proxies are frozen."}
			}
			if err != nil {
				return err
			}
			if cap, err = proxyCap(ctx, tx, p.Kind); err != nil {
				return err
			}
		}
		if cap == 0 {
			return ValidationError{"holder": "The co-op's rules allow no proxies for this: vote yourself, or ask an admin about the rules."}
		}
		if err := revokeLive(ctx, tx, principal.ID, proposal, principal.ID, now); err != nil {
			return err
		}
		a.ID, err = db.InsertID(ctx, tx, `INSERT INTO proxies (principal_id, holder_id, proposal_id, appointed_at) VALUES (?, ?, ?, ?)`,
			principal.ID, holder, proposal, now)
		if db.IsConstraint(err, errProxyCapFailed) {
			return ValidationError{"holder": fmt.Sprintf("%s already holds as many proxies as the rules allow (%d): choose someone else.", h.Name, cap)}
		}
		if err != nil {
			return fmt.Errorf("governance: appoint proxy: %w", err)
		}
		a.PrincipalID, a.HolderID, a.HolderName, a.AppointedAt = principal.ID, holder, h.Name, now
		ev := ledger.ProxyAppointed{Appointment: a.ID, Principal: principal.ID, Holder: holder}
		if proposal != nil {
			a.Proposal, ev.Proposal = *proposal, *proposal
		}
		return appendEntry(ctx, tx, now, ev)
	})
	return a, err
}

// proxyCap is how many proxies one member may hold in a ballot of kind,
// or, for kind "", in any ballot: the largest cap of any kind, which is
// what an appointment for every ballot is held to (trigger proxies_cap).
func proxyCap(ctx context.Context, q sqlx.QueryerContext, kind string) (int, error) {
	var cap int
	query, args := `SELECT coalesce(max(proxy_cap), 0) FROM rules`, []any{}
	if kind != "" {
		query, args = query+` WHERE kind = ?`, []any{kind}
	}
	if err := sqlx.GetContext(ctx, q, &cap, query, args...); err != nil {
		return 0, fmt.Errorf("governance: proxy cap: %w", err)
	}
	return cap, nil
}

// ProxiesAllowed says whether the rules allow proxies in any kind of ballot.
func (s *Service) ProxiesAllowed(ctx context.Context) (bool, error) {
	cap, err := proxyCap(ctx, s.db.R, "")
	return cap > 0, err
}

// revokeLive ends the principal's live appointment of one scope, if any.
func revokeLive(ctx context.Context, tx *sqlx.Tx, principal int64, proposal *int64, by int64, now time.Time) error {
	var live []Appointment
	err := tx.SelectContext(ctx, &live, `SELECT id, principal_id, holder_id, coalesce(proposal_id, 0) AS proposal, appointed_at FROM proxies
		WHERE principal_id = ? AND revoked_at IS NULL AND coalesce(proposal_id, 0) = ?`, principal, deref(proposal))
	if err != nil {
		return fmt.Errorf("governance: read proxies: %w", err)
	}
	for _, a := range live {
		if _, err := tx.ExecContext(ctx, `UPDATE proxies SET revoked_at = ? WHERE id = ?`, now, a.ID); err != nil {
			return fmt.Errorf("governance: revoke proxy: %w", err)
		}
		if err := appendEntry(ctx, tx, now, ledger.ProxyRevoked{Appointment: a.ID, By: by, Principal: a.PrincipalID, Holder: a.HolderID,
			Proposal: a.Proposal}); err != nil {
			return err
		}
	}
	return nil
}

// Revoke ends one of the principal's live appointments. A ballot already
// open keeps the proxies frozen into it; the principal may still vote in
// person there, which replaces the proxy's vote.
func (s *Service) Revoke(ctx context.Context, principal Member, appointment int64) error {
	return s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		var a Appointment
		err := tx.GetContext(ctx, &a, `SELECT id, principal_id, holder_id, coalesce(proposal_id, 0) AS proposal, appointed_at, revoked_at
			FROM proxies WHERE id = ?`, appointment)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && (a.PrincipalID != principal.ID || a.RevokedAt != nil)) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("governance: read proxy: %w", err)
		}
		var scope *int64
		if a.Proposal != 0 {
			scope = &a.Proposal
		}
		return revokeLive(ctx, tx, principal.ID, scope, principal.ID, s.now())
	})
}

// ProxyLists are a member's live appointments: those they gave, and those
// they hold.
type ProxyLists struct {
	Given []Appointment
	Held  []Appointment
}

// MyProxies lists the member's live appointments, given and held.
func (s *Service) MyProxies(ctx context.Context, m Member) (ProxyLists, error) {
	var out ProxyLists
	q := `SELECT x.id, x.principal_id, p.name AS principal_name, x.holder_id, h.name AS holder_name, coalesce(x.proposal_id, 0) AS proposal,
		coalesce(o.title, '') AS proposal_title, x.appointed_at
		FROM proxies x JOIN members p ON p.id = x.principal_id JOIN members h ON h.id = x.holder_id
		LEFT JOIN proposals o ON o.id = x.proposal_id
		WHERE x.revoked_at IS NULL AND x.%s = ? ORDER BY x.id`
	if err := s.db.R.SelectContext(ctx, &out.Given, fmt.Sprintf(q, "principal_id"), m.ID); err != nil {
		return out, fmt.Errorf("governance: proxies given: %w", err)
	}
	if err := s.db.R.SelectContext(ctx, &out.Held, fmt.Sprintf(q, "holder_id"), m.ID); err != nil {
		return out, fmt.Errorf("governance: proxies held: %w", err)
	}
	return out, nil
}

// freezeProxies records, as a ballot opens, who holds whose proxy in it:
// for each principal on the roll, their appointment for this ballot, else
// their standing one, if the holder is on the roll too; and no holder
// more than cap principals, the earliest appointed first (one for this
// ballot before standing ones). It returns the pairs (principal, holder)
// in order of principal, for the ledger.
func freezeProxies(ctx context.Context, tx *sqlx.Tx, proposal int64, cap int) ([][2]int64, error) {
	if cap == 0 {
		return nil, nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO roll_proxies (proposal_id, principal_id, holder_id)
		SELECT ?, principal_id, holder_id FROM (
			SELECT principal_id, holder_id, row_number() OVER (PARTITION BY holder_id ORDER BY standing, id) AS n FROM (
				SELECT id, principal_id, holder_id, CASE WHEN proposal_id IS NULL THEN 1 ELSE 0 END AS standing,
					row_number() OVER (PARTITION BY principal_id ORDER BY CASE WHEN proposal_id IS NULL THEN 1 ELSE 0 END, id) AS pick
				FROM proxies
				WHERE revoked_at IS NULL AND (proposal_id IS NULL OR proposal_id = ?)
					AND principal_id IN (SELECT member_id FROM roll WHERE proposal_id = ?)
					AND holder_id IN (SELECT member_id FROM roll WHERE proposal_id = ?)
			) chosen WHERE pick = 1
		) capped WHERE n <= ? ORDER BY principal_id`, proposal, proposal, proposal, proposal, cap)
	if err != nil {
		return nil, fmt.Errorf("governance: freeze proxies: %w", err)
	}
	var rows []struct {
		Principal int64 `db:"principal_id"`
		Holder    int64 `db:"holder_id"`
	}
	if err := tx.SelectContext(ctx, &rows, `SELECT principal_id, holder_id FROM roll_proxies WHERE proposal_id = ? ORDER BY principal_id`,
		proposal); err != nil {
		return nil, fmt.Errorf("governance: read proxies: %w", err)
	}
	pairs := make([][2]int64, len(rows))
	for i, r := range rows {
		pairs[i] = [2]int64{r.Principal, r.Holder}
	}
	return pairs, nil
}

// ProxyPrincipal is a principal whose proxy a member holds in a ballot,
// and where their ballot stands: not cast, cast by the holder, or cast
// by the principal in person (which the holder can no longer change), or
// stood aside.
type ProxyPrincipal struct {
	ID       int64  `db:"id"`
	Name     string `db:"name"`
	Voted    bool   `db:"voted"`
	ByProxy  bool   `db:"by_proxy"`
	Recused  bool   `db:"recused"`
	InPerson bool   `db:"-"`
}

// HeldProxies lists the principals whose proxy m holds in a ballot, as
// frozen when it opened, by member number.
func (s *Service) HeldProxies(ctx context.Context, m Member, proposal int64) ([]ProxyPrincipal, error) {
	var out []ProxyPrincipal
	err := s.db.R.SelectContext(ctx, &out, `SELECT x.principal_id AS id, mb.name, r.voted,
		EXISTS (SELECT 1 FROM proxy_votes v WHERE v.proposal_id = x.proposal_id AND v.principal_id = x.principal_id) AS by_proxy,
		EXISTS (SELECT 1 FROM recusals c WHERE c.proposal_id = x.proposal_id AND c.member_id = x.principal_id) AS recused
		FROM roll_proxies x JOIN members mb ON mb.id = x.principal_id
		JOIN roll r ON r.proposal_id = x.proposal_id AND r.member_id = x.principal_id
		WHERE x.proposal_id = ? AND x.holder_id = ? ORDER BY x.principal_id`, proposal, m.ID)
	if err != nil {
		return nil, fmt.Errorf("governance: held proxies: %w", err)
	}
	for i := range out {
		out[i].InPerson = out[i].Voted && !out[i].ByProxy
	}
	return out, nil
}

// VoteAsProxy casts or changes, as holder, the yes/no ballot of a
// principal whose proxy the holder holds in this ballot. In a secret
// ballot the first cast returns a receipt, for the holder to give the
// principal; a change needs none (the holder's ballot is found by the
// principal's number until close). A principal who has voted in person
// cannot be voted for.
func (s *Service) VoteAsProxy(ctx context.Context, holder Member, principal, proposalID int64, choice string) (VoteResult, error) {
	if err := check.Struct(ballotPaper{Choice: choice}).Err(); err != nil {
		return VoteResult{}, err
	}
	return s.castQueued(ctx, voteRequest{voter: holder.ID, principal: principal, proposal: proposalID, choice: choice})
}

// VoteChoiceAsProxy is VoteAsProxy for a choice among options.
func (s *Service) VoteChoiceAsProxy(ctx context.Context, holder Member, principal, proposalID int64, in ChoiceInput) (VoteResult, error) {
	req, err := choiceRequest(holder, proposalID, in, "")
	if err != nil {
		return VoteResult{}, err
	}
	req.principal = principal
	return s.castQueued(ctx, req)
}

// castAsProxy is castIn's part for a holder's ballot: the holder must
// hold the principal's proxy in this ballot, frozen when it opened.
func castAsProxy(ctx context.Context, tx *sqlx.Tx, t ballotTables, p Proposal, v voteRequest, choice string, out *VoteResult) error {
	var holder int64
	err := tx.GetContext(ctx, &holder, `SELECT holder_id FROM roll_proxies WHERE proposal_id = ? AND principal_id = ?`, p.ID, v.principal)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && holder != v.voter) {
		return ErrNotProxy
	}
	if err != nil {
		return fmt.Errorf("governance: check proxy: %w", err)
	}
	var receiptHash *string
	err = tx.GetContext(ctx, &receiptHash, `SELECT receipt_hash FROM proxy_votes WHERE proposal_id = ? AND principal_id = ?`, p.ID, v.principal)
	switch {
	case err == nil:
		// A change of the holder's own ballot for this principal.
		out.Changed = true
		if *p.Secret {
			_, err = tx.ExecContext(ctx, `UPDATE `+t.box+` SET `+t.column+` = ? WHERE proposal_id = ? AND receipt_hash = ?`, choice, p.ID, *receiptHash)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE `+t.open+` SET `+t.column+` = ? WHERE proposal_id = ? AND member_id = ?`, choice, p.ID, v.principal)
		}
		if err != nil {
			return fmt.Errorf("governance: change proxy vote: %w", err)
		}
		return nil
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("governance: read proxy vote: %w", err)
	}
	switch err := markVoted(ctx, tx, p.ID, v.principal); {
	case errors.Is(err, ErrAlreadyVoted):
		return ErrVotedInPerson
	case err != nil:
		return err
	}
	if *p.Secret {
		out.Receipt = newReceipt()
		hash := ReceiptHash(out.Receipt)
		receiptHash = &hash
		_, err = tx.ExecContext(ctx, `INSERT INTO `+t.box+` (proposal_id, receipt_hash, `+t.column+`) VALUES (?, ?, ?)`, p.ID, hash, choice)
	} else {
		_, err = tx.ExecContext(ctx, `INSERT INTO `+t.open+` (proposal_id, member_id, `+t.column+`) VALUES (?, ?, ?)`, p.ID, v.principal, choice)
	}
	if err != nil {
		return fmt.Errorf("governance: cast proxy vote: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO proxy_votes (proposal_id, principal_id, holder_id, receipt_hash) VALUES (?, ?, ?, ?)`,
		p.ID, v.principal, v.voter, receiptHash); err != nil {
		return fmt.Errorf("governance: record proxy vote: %w", err)
	}
	return nil
}

// replaceProxyVote is castIn's part for a principal voting in person
// after their proxy voted for them: the proxy's ballot is taken out and
// theirs goes in. It reports false when no proxy had voted for them.
func replaceProxyVote(ctx context.Context, tx *sqlx.Tx, t ballotTables, p Proposal, v voteRequest, choice string, out *VoteResult) (bool, error) {
	if !p.proxied {
		return false, nil // nobody holds a proxy in this ballot
	}
	var receiptHash *string
	err := tx.GetContext(ctx, &receiptHash, `SELECT receipt_hash FROM proxy_votes WHERE proposal_id = ? AND principal_id = ?`, p.ID, v.voter)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("governance: read proxy vote: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM proxy_votes WHERE proposal_id = ? AND principal_id = ?`, p.ID, v.voter); err != nil {
		return false, fmt.Errorf("governance: replace proxy vote: %w", err)
	}
	out.ReplacedProxy = true
	if !*p.Secret {
		_, err = tx.ExecContext(ctx, `UPDATE `+t.open+` SET `+t.column+` = ? WHERE proposal_id = ? AND member_id = ?`, choice, p.ID, v.voter)
	} else {
		if _, err = tx.ExecContext(ctx, `DELETE FROM `+t.box+` WHERE proposal_id = ? AND receipt_hash = ?`, p.ID, *receiptHash); err == nil {
			out.Receipt = newReceipt()
			_, err = tx.ExecContext(ctx, `INSERT INTO `+t.box+` (proposal_id, receipt_hash, `+t.column+`) VALUES (?, ?, ?)`,
				p.ID, ReceiptHash(out.Receipt), choice)
		}
	}
	if err != nil {
		return false, fmt.Errorf("governance: replace proxy vote: %w", err)
	}
	return true, nil
}
