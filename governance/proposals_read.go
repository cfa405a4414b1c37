package governance

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Participation is what a member may know of a ballot while it runs:
// whether they are on the roll, whether they have voted, their own choice
// in an open ballot, and the turnout. Never a count of choices.
type Participation struct {
	OnRoll bool
	Voted  bool
	Choice string // open ballots only: the member's own current choice
	// Ballot is, in an open choice, the member's own current ballot as
	// stored: a ranking most preferred first or the positions approved.
	Ballot  []int
	Turnout int
	// ByProxy: the member's proxy (ProxyName) has voted for them, and
	// their own vote would replace it. Never how, in a secret ballot.
	ByProxy   bool
	ProxyName string
	// Recused: the member stood aside in this ballot, for Reason.
	Recused bool
	Reason  string
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
		coalesce((SELECT choice FROM votes WHERE proposal_id = ? AND member_id = ?), '')`,
		p.ID, m.ID, p.ID, m.ID, p.ID, m.ID).Scan(&out.OnRoll, &out.Voted, &out.Choice)
	if err != nil {
		return out, fmt.Errorf("governance: participation: %w", err)
	}
	if out.Turnout, err = s.turnout(ctx, p); err != nil {
		return out, err
	}
	if err := s.db.R.QueryRowxContext(ctx, `SELECT
		coalesce((SELECT h.name FROM proxy_votes v JOIN members h ON h.id = v.holder_id WHERE v.proposal_id = ? AND v.principal_id = ?), ''),
		coalesce((SELECT reason FROM recusals WHERE proposal_id = ? AND member_id = ?), '')`,
		p.ID, m.ID, p.ID, m.ID).Scan(&out.ProxyName, &out.Reason); err != nil {
		return out, fmt.Errorf("governance: participation: %w", err)
	}
	out.ByProxy, out.Recused = out.ProxyName != "", out.Reason != ""
	if out.ByProxy {
		// The proxy's ballot, not the member's own: shown as no choice, so
		// a form never offers it back as theirs.
		out.Choice = ""
	}
	if p.IsChoice() && out.Voted && !out.ByProxy && p.Secret != nil && !*p.Secret {
		var ballot string
		if err := s.db.R.GetContext(ctx, &ballot, `SELECT ballot FROM choice_votes WHERE proposal_id = ? AND member_id = ?`, p.ID, m.ID); err != nil {
			return out, fmt.Errorf("governance: participation: %w", err)
		}
		if err := json.Unmarshal([]byte(ballot), &out.Ballot); err != nil {
			return out, fmt.Errorf("governance: participation: %w", err)
		}
	}
	return out, nil
}

// turnout counts the members of p's roll who have voted. Counting reads
// the ballot's whole roll, 100,000 rows at scale, so a closed ballot's is
// counted once and kept by its id: its roll no longer changes (no vote is
// taken once it is closed, a vote once cast stays cast: roll_vote_once,
// and a closed ballot never opens again), so the number kept is the
// number a count would give, now and later, to every member. A running
// ballot's is counted on every read.
func (s *Service) turnout(ctx context.Context, p Proposal) (int, error) {
	closed := p.Status == ProposalClosed
	if closed {
		if n, ok := s.closedTurnout.Load(p.ID); ok {
			return n.(int), nil
		}
	}
	var n int
	if err := s.db.R.GetContext(ctx, &n, `SELECT count(*) FROM roll WHERE proposal_id = ? AND voted = 1`, p.ID); err != nil {
		return 0, fmt.Errorf("governance: participation: %w", err)
	}
	if closed {
		s.closedTurnout.Store(p.ID, n)
	}
	return n, nil
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

// Notice is what anyone may know of a proposal that is still running,
// for the page a shared link opens (issue 16): what kind it is, what it
// is about when that is a public demand or resource, and when voting
// opens and closes. Its title and text, the turnout and any count stay
// with the members; the public ledger already says as much as this.
type Notice struct {
	ID         int64
	Kind       string
	Status     string
	OpensAt    time.Time
	ClosesAt   time.Time
	DemandID   *int64
	ResourceID *int64
}

// KindName says the kind in words.
func (n Notice) KindName() string { return KindNames[n.Kind] }

// ProposalNotice returns the notice of a running proposal: ErrNotFound if
// there is none by that id, or it has ended and its own page is public.
func (s *Service) ProposalNotice(ctx context.Context, id int64) (Notice, error) {
	p, err := getProposal(ctx, s.db.R, id)
	if err != nil {
		return Notice{}, err
	}
	if publicProposal(p) {
		return Notice{}, ErrNotFound
	}
	return Notice{ID: p.ID, Kind: p.Kind, Status: p.Status, OpensAt: p.OpensAt, ClosesAt: p.ClosesAt,
		DemandID: p.DemandID, ResourceID: p.ResourceID}, nil
}
