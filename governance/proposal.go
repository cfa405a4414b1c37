package governance

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/check"
	"plenary/internal/db"
	"plenary/internal/ledger"
	"plenary/internal/tz"
	"plenary/library"
)

// Proposal kinds.
const (
	KindEndorseDemand   = "endorse_demand"
	KindEndorseResource = "endorse_resource"
	KindWithdraw        = "withdraw_endorsement"
	KindAdoptDemand     = "adopt_demand"
	KindMotion          = "motion"
	KindAmendDemand     = "amend_demand"
	KindAmendResource   = "amend_resource"
	// Choices among options (choice.go).
	KindPrioritise = "prioritise_demands"
	KindChoose     = "choose_resources"
	KindElect      = "elect"
	KindPoll       = "poll"
)

// Kinds lists the kinds in the order a form offers them: the kind tag of
// ProposalInput is their one list.
var Kinds = check.OneOf(ProposalInput{}, "Kind")

// KindNames says each kind in words.
var KindNames = map[string]string{
	KindEndorseDemand:   "Endorse a demand",
	KindEndorseResource: "Endorse a resource",
	KindWithdraw:        "Withdraw an endorsement",
	KindAdoptDemand:     "Adopt a new demand",
	KindMotion:          "Motion",
	KindAmendDemand:     "Amend an endorsed demand",
	KindAmendResource:   "Amend an endorsed resource",
	KindPrioritise:      "Prioritise demands",
	KindChoose:          "Choose resources to endorse",
	KindElect:           "Elect",
	KindPoll:            "Poll",
}

// Proposal statuses.
const (
	ProposalDiscussion = "discussion"
	ProposalVoting     = "voting"
	ProposalClosed     = "closed"
	ProposalWithdrawn  = "withdrawn"
	ProposalCancelled  = "cancelled"
)

// More errors the server maps.
var (
	ErrBallotClosed = errors.New("governance: the ballot is not open")
	ErrNotOnRoll    = errors.New("governance: not on this ballot's roll")
	ErrAlreadyVoted = errors.New("governance: already voted")
)

// Proposal is a question put to the members, and its ballot.
type Proposal struct {
	ID           int64      `db:"id"`
	Kind         string     `db:"kind"`
	Title        string     `db:"title"`
	Body         string     `db:"body"`
	DemandID     *int64     `db:"demand_id"`
	ResourceID   *int64     `db:"resource_id"`
	NewTitle     *string    `db:"new_title"`
	NewBody      *string    `db:"new_body"`
	NewAudience  *string    `db:"new_audience"`
	AuthorID     int64      `db:"author_id"`
	Status       string     `db:"status"`
	CreatedAt    time.Time  `db:"created_at"`
	OpensAt      time.Time  `db:"opens_at"`
	ClosesAt     time.Time  `db:"closes_at"`
	CancelReason *string    `db:"cancel_reason"`
	QuorumPct    *int       `db:"quorum_pct"`
	Threshold    *string    `db:"threshold"`
	Secret       *bool      `db:"secret"`
	RollSize     *int       `db:"roll_size"`
	RollDigest   *string    `db:"roll_digest"`
	OpenedAt     *time.Time `db:"opened_at"`
	Yes          *int       `db:"yes"`
	No           *int       `db:"no"`
	Abstain      *int       `db:"abstain"`
	QuorumMet    *bool      `db:"quorum_met"`
	Outcome      *string    `db:"outcome"`
	BoxDigest    *string    `db:"box_digest"`
	ClosedAt     *time.Time `db:"closed_at"`
	// Amendment is an amend proposal's {"from", "to"} (amend.go).
	Amendment *string `db:"amendment"`
	// A choice among options (choice.go): how it is counted, the seats
	// to fill (elect), the most options a ballot may approve (nil: any
	// number), the office elected to, the approval share that endorses
	// (choose_resources, frozen when voting opens), and its count as JSON,
	// written at close (ChoiceResult). All nil for a yes/no proposal.
	Method       *string `db:"method"`
	Seats        *int    `db:"seats"`
	MaxApprovals *int    `db:"max_approvals"`
	Office       *string `db:"office"`
	ApprovalPct  *int    `db:"approval_pct"`
	Result       *string `db:"result"`
	// General meetings and absent members (proxy.go, meeting.go): the
	// proxy cap, early close and quorum base frozen when voting opens; at
	// close, how many on the roll stood aside and the number the quorum
	// was counted on.
	ProxyCap   *int    `db:"proxy_cap"`
	EarlyClose *bool   `db:"early_close"`
	QuorumOn   *string `db:"quorum_on"`
	Recused    *int    `db:"recused"`
	QuorumBase *int    `db:"quorum_base"`

	// nOptions is the number of options, read by the vote writer once a
	// batch (castIn).
	nOptions int
	// proxied says whether anyone holds a proxy in this ballot, read by
	// the vote writer once a batch (castIn): the proxies are frozen when
	// voting opens, and without any a vote need not look for a proxy's
	// ballot to replace.
	proxied bool
}

// IsChoice says whether p is a choice among options rather than a yes/no
// question.
func (p Proposal) IsChoice() bool { return p.Method != nil }

// KindName is the kind in words.
func (p Proposal) KindName() string { return KindNames[p.Kind] }

// Closed says whether the ballot has closed, so its result may be shown.
func (p Proposal) Closed() bool { return p.Status == ProposalClosed }

// Tally is the result of a closed ballot; ok is false until it closes, so
// no caller can show a count early by mistake.
func (p Proposal) Tally() (Tally, bool) {
	if !p.Closed() || p.IsChoice() || p.Yes == nil || p.No == nil || p.Abstain == nil || p.RollSize == nil || p.QuorumPct == nil || p.Threshold == nil {
		return Tally{}, false
	}
	return DecideOn(*p.Yes, *p.No, *p.Abstain, p.quorumCount(), *p.QuorumPct, *p.Threshold), true
}

// quorumCount is a closed ballot's roll as its quorum saw it, as stored at
// close (a ballot closed before version 9 has neither recusals nor
// attendance).
func (p Proposal) quorumCount() QuorumCount {
	q := QuorumCount{RollSize: *p.RollSize}
	if p.Recused != nil {
		q.Recused = *p.Recused
	}
	if p.QuorumOn != nil && *p.QuorumOn == QuorumOnPresent {
		q.Present = p.QuorumBase
	}
	return q
}

const proposalColumns = `id, kind, title, body, demand_id, resource_id, new_title, new_body, new_audience, author_id, status,
	created_at, opens_at, closes_at, cancel_reason, quorum_pct, threshold, secret, roll_size, roll_digest, opened_at,
	yes, no, abstain, quorum_met, outcome, box_digest, closed_at, amendment, method, seats, max_approvals, office, approval_pct, result,
	proxy_cap, early_close, quorum_on, recused, quorum_base`

func getProposal(ctx context.Context, q sqlx.QueryerContext, id int64) (Proposal, error) {
	var p Proposal
	err := sqlx.GetContext(ctx, q, &p, `SELECT `+proposalColumns+` FROM proposals WHERE id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Proposal{}, ErrNotFound
	}
	if err != nil {
		return Proposal{}, fmt.Errorf("governance: get proposal: %w", err)
	}
	return p, nil
}

// ProposalInput is a proposal as its author's form gives it. Opens is
// "now" or "later"; OpensAt is a wall-clock time "2006-01-02T15:04" in
// Zone (the author's; UTC when nil) when later, read by tz.Parse's rule
// where the clocks change. The voting period is Days, Hours and Minutes
// added up.
//
// The tags check the title and text once trimmed (the text with LF line
// ends). What hangs on the kind (the number it needs, a new demand's
// text), on other fields (when voting opens, how long it lasts) or on the
// kind's rule (the shortest vote) is checked by proposal, after them.
type ProposalInput struct {
	Kind        string `form:"kind" validate:"oneof=endorse_demand endorse_resource withdraw_endorsement adopt_demand motion amend_demand amend_resource prioritise_demands choose_resources elect poll"`
	Title       string `form:"title" validate:"utf8,nocontrol,oneline,required,max=200"`
	Body        string `form:"body" validate:"utf8,nocontrol,max=10000"`
	DemandID    string `form:"demand_id"`
	ResourceID  string `form:"resource_id"`
	NewTitle    string `form:"new_title"`
	NewBody     string `form:"new_body"`
	NewAudience string `form:"new_audience"`
	Opens       string `form:"opens" validate:"omitempty,oneof=now later"`
	OpensAt     string `form:"opens_at"`
	Days        string `form:"days"`
	Hours       string `form:"hours"`
	Minutes     string `form:"minutes"`
	// Zone is the zone OpensAt is written in.
	Zone *time.Location `form:"-" validate:"-"`
	// The corrected text of an amendment: the amend form fills the one
	// its kind needs (amend.go).
	Resource *library.ResourceInput `form:"-" validate:"-"`
	Demand   *library.DemandInput   `form:"-" validate:"-"`
	// A choice among options (choice.go): the options in the order the
	// ballot lists them, each checked by its own tags (OptionInput); the
	// method (empty: the kind's default); the seats to fill (elect); the
	// most options a ballot may approve (approval; empty: any number); the
	// office elected to (elect).
	Options      []OptionInput `form:"-" validate:"-"`
	Method       string        `form:"method" validate:"omitempty,oneof=approval schulze irv stv"`
	Seats        string        `form:"seats" validate:"omitempty,intrange=1 49"`
	MaxApprovals string        `form:"max_approvals" validate:"omitempty,intrange=1 49"`
	Office       string        `form:"office" validate:"utf8,nocontrol,oneline,max=200"`
}

// Field limits, mirrored in schema.sql.
const (
	MaxProposalTitleLen = 200
	MaxProposalBodyLen  = 10000
	MaxCommentLen       = 5000
	// MaxLead is how far ahead voting may be set to open.
	MaxLead = 90 * 24 * time.Hour
	// MaxPeriod is the longest a vote may last.
	MaxPeriod = 90 * 24 * time.Hour
)

const (
	badTitle = "The title contains invalid characters."
	badText  = "The text contains invalid characters."
)

var proposalMessages = map[string]string{
	"kind.oneof":             "Choose what kind of proposal this is.",
	"title.utf8":             badTitle,
	"title.nocontrol":        badTitle,
	"title.oneline":          badTitle,
	"title.required":         "Give the proposal a title.",
	"title.max":              fmt.Sprintf("Keep the title under %d characters.", MaxProposalTitleLen),
	"body.utf8":              badText,
	"body.nocontrol":         badText,
	"body.max":               fmt.Sprintf("Keep the text under %d characters.", MaxProposalBodyLen),
	"opens.oneof":            "Choose now or later.",
	"method.oneof":           "Choose how the ballot is counted.",
	"seats.intrange":         "Enter the number of seats to fill, from 1 to 49.",
	"max_approvals.intrange": "Enter the most options a member may approve, from 1 to 49, or leave it empty for any number.",
	"office.utf8":            "The office contains invalid characters.",
	"office.nocontrol":       "The office contains invalid characters.",
	"office.oneline":         "The office contains invalid characters.",
	"office.max":             "Keep the office under 200 characters.",
}

// Messages words what the tags refuse.
func (ProposalInput) Messages() map[string]string { return proposalMessages }

// proposal checks the input as of now, under rule (the kind's; the zero
// Rule if the kind is not one), and returns the proposal it makes, yet to
// be given its author.
func (in ProposalInput) proposal(now time.Time, rule Rule) (Proposal, ValidationError) {
	in.Title = strings.TrimSpace(in.Title)
	in.Body = strings.TrimSpace(strings.ReplaceAll(in.Body, "\r\n", "\n"))
	v := check.Struct(in)
	p := Proposal{Kind: in.Kind, Title: in.Title, Body: in.Body, CreatedAt: now, OpensAt: now}

	// The form picks a demand or resource by its title (issue 16); the
	// API, and an address someone typed, give its number.
	id := func(field, raw string) *int64 {
		if strings.TrimSpace(raw) == "" {
			v[field] = map[string]string{"demand_id": "Choose the demand.", "resource_id": "Choose the resource."}[field]
			return nil
		}
		n, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(raw), "#"), 10, 64)
		if err != nil || n < 1 {
			v[field] = "Enter its number, as shown on its page."
			return nil
		}
		return &n
	}
	switch in.Kind {
	case KindEndorseDemand:
		p.DemandID = id("demand_id", in.DemandID)
	case KindEndorseResource:
		p.ResourceID = id("resource_id", in.ResourceID)
	case KindWithdraw:
		switch {
		case strings.TrimSpace(in.DemandID) != "" && strings.TrimSpace(in.ResourceID) != "":
			v["demand_id"] = "Withdraw one endorsement at a time: a demand or a resource."
		case strings.TrimSpace(in.DemandID) != "":
			p.DemandID = id("demand_id", in.DemandID)
		case strings.TrimSpace(in.ResourceID) != "":
			p.ResourceID = id("resource_id", in.ResourceID)
		default:
			v["demand_id"] = "Choose the endorsed demand or resource to withdraw."
		}
	case KindAdoptDemand:
		// Stored as the library will keep it: a textarea's CRLF line ends
		// would otherwise count twice against the schema's length limit.
		dem, err := library.CheckDemandInput(library.DemandInput{Title: in.NewTitle, Body: in.NewBody, Audience: in.NewAudience})
		var lv ValidationError
		if errors.As(err, &lv) {
			for f, msg := range lv {
				v["new_"+f] = msg
			}
		}
		p.NewTitle, p.NewBody, p.NewAudience = &dem.Title, &dem.Body, &dem.Audience
	case KindAmendResource:
		p.ResourceID = id("resource_id", in.ResourceID)
		in.checkResourceAmendment(&p, v)
	case KindAmendDemand:
		p.DemandID = id("demand_id", in.DemandID)
		if in.Demand == nil {
			v["to_title"] = "Give the demand's corrected text."
		}
	}
	in.checkChoice(&p, rule, v)

	if in.Opens == "later" {
		zone := cmp.Or(in.Zone, time.UTC)
		at, _, err := tz.Parse(in.OpensAt, zone)
		switch {
		case err != nil:
			v["opens_at"] = fmt.Sprintf("Enter when voting opens, as a date and time (%s).", zone)
		case !at.After(now):
			v["opens_at"] = "Choose a time in the future, or open voting now."
		case at.Sub(now) > MaxLead:
			v["opens_at"] = "Voting can open at most 90 days ahead."
		default:
			p.OpensAt = at.UTC()
		}
	}
	period, ok := duration(in.Days, in.Hours, in.Minutes)
	switch {
	case !ok:
		v["days"] = "Enter whole numbers of days, hours and minutes."
	case period <= 0:
		v["days"] = "Say how long voting lasts."
	case rule.Kind != "" && period < time.Duration(rule.MinMinutes)*time.Minute:
		v["days"] = fmt.Sprintf("Voting must last at least %s for this kind of proposal.", minutesText(rule.MinMinutes))
	case period > MaxPeriod:
		v["days"] = "Voting can last at most 90 days."
	}
	p.ClosesAt = p.OpensAt.Add(period)
	return p, v
}

// Propose puts a proposal to the co-op. If voting opens now the roll is
// frozen in the same transaction.
func (s *Service) Propose(ctx context.Context, author Member, in ProposalInput) (Proposal, error) {
	now := s.now()
	// A kind that is not one has no rule, and the input's check says so.
	rule, err := getRule(ctx, s.db.R, in.Kind)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Proposal{}, err
	}
	p, v := in.proposal(now, rule)
	if err := v.Err(); err != nil {
		return Proposal{}, err
	}
	p.AuthorID = author.ID

	err = s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := requireActive(ctx, tx, author.ID); err != nil {
			return err
		}
		if err := checkSubject(ctx, tx, p); err != nil {
			return err
		}
		if err := in.amendment(ctx, tx, &p); err != nil {
			return err
		}
		options, err := in.options(ctx, tx, p)
		if err != nil {
			return err
		}
		p.Status = ProposalDiscussion
		id, err := db.InsertID(ctx, tx, `INSERT INTO proposals (kind, title, body, demand_id, resource_id, new_title, new_body,
			new_audience, author_id, status, created_at, opens_at, closes_at, amendment, method, seats, max_approvals, office)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.Kind, p.Title, p.Body, p.DemandID, p.ResourceID, p.NewTitle, p.NewBody, p.NewAudience, p.AuthorID, p.Status,
			p.CreatedAt, p.OpensAt, p.ClosesAt, p.Amendment, p.Method, p.Seats, p.MaxApprovals, p.Office)
		if err != nil {
			return fmt.Errorf("governance: insert proposal: %w", err)
		}
		p.ID = id
		body := ledger.Proposed{Proposal: p.ID, ProposalKind: p.Kind, By: author.ID, Demand: p.DemandID, Resource: p.ResourceID,
			OpensAt: p.OpensAt.Format(time.RFC3339), ClosesAt: p.ClosesAt.Format(time.RFC3339)}
		if p.IsChoice() {
			if err := insertOptions(ctx, tx, p.ID, options); err != nil {
				return err
			}
			body.Method, body.Options = *p.Method, optionsDigest(options)
		}
		if err := appendEntry(ctx, tx, now, body); err != nil {
			return err
		}
		if !p.OpensAt.After(now) {
			return s.openBallot(ctx, tx, &p, now)
		}
		return nil
	})
	if err != nil {
		return Proposal{}, err
	}
	return getProposal(ctx, s.db.R, p.ID)
}

// checkSubject: what a proposal acts on must be in a state the kind fits,
// and only one proposal at a time may be in progress about it.
func checkSubject(ctx context.Context, tx *sqlx.Tx, p Proposal) error {
	var err error
	switch {
	case p.Kind == KindEndorseDemand:
		err = library.CheckDemandEndorsable(ctx, tx, *p.DemandID)
	case p.Kind == KindEndorseResource:
		err = library.CheckResourceEndorsable(ctx, tx, *p.ResourceID)
	case p.Kind == KindWithdraw && p.DemandID != nil:
		err = library.CheckDemandEndorsed(ctx, tx, *p.DemandID)
	case p.Kind == KindWithdraw && p.ResourceID != nil:
		err = library.CheckResourceEndorsed(ctx, tx, *p.ResourceID)
	case p.Kind == KindAmendResource:
		_, err = library.EndorsedResourceContent(ctx, tx, *p.ResourceID)
	case p.Kind == KindAmendDemand:
		_, err = library.EndorsedDemandContent(ctx, tx, *p.DemandID)
	}
	var lv ValidationError
	if errors.As(err, &lv) {
		return lv
	}
	if errors.Is(err, library.ErrNotFound) {
		if p.DemandID != nil {
			return ValidationError{"demand_id": fmt.Sprintf("There is no demand number %d.", *p.DemandID)}
		}
		return ValidationError{"resource_id": fmt.Sprintf("There is no resource number %d.", *p.ResourceID)}
	}
	if err != nil {
		return err
	}
	if p.DemandID != nil || p.ResourceID != nil {
		var busy int
		if err := tx.GetContext(ctx, &busy, `SELECT count(*) FROM proposals WHERE status IN ('discussion', 'voting')
			AND (demand_id = ? OR resource_id = ?)`, p.DemandID, p.ResourceID); err != nil {
			return fmt.Errorf("governance: check open proposals: %w", err)
		}
		if busy > 0 {
			return ValidationError{"": "Another proposal about this is already in discussion or voting. Wait for it to close."}
		}
	}
	return nil
}

func requireActive(ctx context.Context, tx *sqlx.Tx, id int64) error {
	m, err := getMember(ctx, tx, `WHERE id = ?`, id)
	if err != nil || !m.IsActive() {
		return ErrForbidden
	}
	return nil
}

// duration adds up days, hours and minutes typed in a form.
func duration(days, hours, minutes string) (time.Duration, bool) {
	var total time.Duration
	for _, f := range []struct {
		raw  string
		unit time.Duration
	}{{days, 24 * time.Hour}, {hours, time.Hour}, {minutes, time.Minute}} {
		raw := strings.TrimSpace(f.raw)
		if raw == "" {
			continue
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 || n > 100000 {
			return 0, false
		}
		total += time.Duration(n) * f.unit
	}
	return total, true
}

func minutesText(m int) string {
	switch {
	case m%(24*60) == 0:
		return plural(m/(24*60), "day")
	case m%60 == 0:
		return plural(m/60, "hour")
	}
	return plural(m, "minute")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// openBallot freezes the roll and the rules into the proposal: the active
// members at this instant, their number and digest, all on the ledger.
func (s *Service) openBallot(ctx context.Context, tx *sqlx.Tx, p *Proposal, now time.Time) error {
	rule, err := getRule(ctx, tx, p.Kind)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO roll (proposal_id, member_id) SELECT ?, id FROM members WHERE status = 'active'`, p.ID); err != nil {
		return fmt.Errorf("governance: freeze roll: %w", err)
	}
	var members []int64
	if err := tx.SelectContext(ctx, &members, `SELECT member_id FROM roll WHERE proposal_id = ? ORDER BY member_id`, p.ID); err != nil {
		return fmt.Errorf("governance: read roll: %w", err)
	}
	digest := rollDigest(members)
	// Only choose_resources endorses by an approval share.
	var approvalPct *int
	if p.Kind == KindChoose {
		approvalPct = &rule.ApprovalPct
	}
	proxies, err := freezeProxies(ctx, tx, p.ID, rule.ProxyCap)
	if err != nil {
		return err
	}
	meeting, err := meetingOf(ctx, tx, p.ID)
	if err != nil {
		return err
	}
	// Only a meeting's ballot counts its quorum on those present.
	quorumOn := QuorumOnRoll
	if meeting != 0 {
		quorumOn = rule.QuorumOn
	}
	res, err := tx.ExecContext(ctx, `UPDATE proposals SET status = 'voting', quorum_pct = ?, threshold = ?, secret = ?, roll_size = ?,
		roll_digest = ?, opened_at = ?, approval_pct = ?, proxy_cap = ?, early_close = ?, quorum_on = ? WHERE id = ? AND status = 'discussion'`,
		rule.QuorumPct, rule.Threshold, rule.Secret, len(members), digest, now, approvalPct, rule.ProxyCap, rule.EarlyClose, quorumOn, p.ID)
	if err != nil {
		return fmt.Errorf("governance: open ballot: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("governance: open ballot %d: it was not in discussion", p.ID)
	}
	if err := appendEntry(ctx, tx, now, ledger.BallotOpened{
		Proposal: p.ID, RollSize: len(members), RollDigest: digest, QuorumPct: rule.QuorumPct,
		Threshold: rule.Threshold, Secret: rule.Secret, ClosesAt: p.ClosesAt.Format(time.RFC3339),
		EarlyClose: rule.EarlyClose, Meeting: meeting, ProxyCap: rule.ProxyCap, Proxies: proxies, QuorumOn: omitRoll(quorumOn)}); err != nil {
		return err
	}
	p.Secret = &rule.Secret
	return s.queueVotingOpened(ctx, tx, *p)
}

// Withdraw lets a proposal's author take it back before voting opens.
func (s *Service) Withdraw(ctx context.Context, author Member, id int64) error {
	return s.endEarly(ctx, id, func(tx *sqlx.Tx, p Proposal) (string, ledger.Event, error) {
		if err := p.withdrawRefusal(author); err != nil {
			return "", nil, err
		}
		return ProposalWithdrawn, ledger.Withdrawn{Proposal: id, By: author.ID}, nil
	}, "")
}

// Cancel lets an admin stop a proposal, with a reason, before voting opens.
func (s *Service) Cancel(ctx context.Context, admin Member, id int64, reason string) error {
	if strings.TrimSpace(reason) == "" {
		return ValidationError{"reason": "Give the reason for cancelling: members will see it."}
	}
	// Too long or not text: checkReason says which, rather than asking for
	// a reason the admin has given.
	reason, err := checkReason(reason, false)
	if err != nil {
		return err
	}
	return s.endEarly(ctx, id, func(tx *sqlx.Tx, p Proposal) (string, ledger.Event, error) {
		actor, err := memberNow(ctx, tx, admin.ID)
		if err == nil {
			err = p.cancelRefusal(actor)
		}
		if err != nil {
			return "", nil, err
		}
		return ProposalCancelled, ledger.Cancelled{Proposal: id, By: admin.ID, Reason: reason}, nil
	}, reason)
}

func (s *Service) endEarly(ctx context.Context, id int64, check func(*sqlx.Tx, Proposal) (string, ledger.Event, error), reason string) error {
	if err := s.Advance(ctx); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		p, err := getProposal(ctx, tx, id)
		if err != nil {
			return err
		}
		// check refuses a proposal no longer in discussion, after saying
		// whether this member may end it at all.
		status, body, err := check(tx, p)
		if err != nil {
			return err
		}
		var r *string
		if reason != "" {
			r = &reason
		}
		if _, err := tx.ExecContext(ctx, `UPDATE proposals SET status = ?, cancel_reason = ? WHERE id = ? AND status = 'discussion'`, status, r, id); err != nil {
			return fmt.Errorf("governance: end proposal: %w", err)
		}
		return appendEntry(ctx, tx, s.now(), body)
	})
}
