package governance

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"

	"plenary/internal/check"
	"plenary/library"
)

// Choices among many options (issue 14): which demands the co-op pushes
// first, which resources it endorses, who sits on the board, or a poll. A
// choice is a proposal with options (proposal_options) and a counting
// method; it keeps everything a yes/no ballot has (the frozen roll, one
// member one vote, changing a vote until close, secret ballots with
// receipts, the quorum, a result hidden until close, a box anyone can
// recount) and is counted at close by governance/count.

// Counting methods.
const (
	MethodApproval = "approval" // tick any number of options, or at most MaxApprovals
	MethodSchulze  = "schulze"  // rank; a full order by the Schulze method
	MethodIRV      = "irv"      // rank; one winner by instant-runoff
	MethodSTV      = "stv"      // rank; Seats winners by Scottish STV
)

// MethodNames says each method in words.
var MethodNames = map[string]string{
	MethodApproval: "Approval voting",
	MethodSchulze:  "Ranked, counted by the Schulze method",
	MethodIRV:      "Ranked, instant-runoff (one winner)",
	MethodSTV:      "Ranked, single transferable vote (Scottish STV)",
}

// Ranked says whether the method counts rankings rather than ticks.
func Ranked(method string) bool { return method != MethodApproval }

// Option kinds: what an option is.
const (
	OptionDemand    = "demand"
	OptionResource  = "resource"
	OptionCandidate = "candidate"
	OptionText      = "text"
)

// optionKinds is the kind of option each kind of choice takes. A kind not
// here is a yes/no question.
var optionKinds = map[string]string{
	KindPrioritise: OptionDemand,
	KindChoose:     OptionResource,
	KindElect:      OptionCandidate,
	KindPoll:       OptionText,
}

// IsChoiceKind says whether proposals of kind are choices among options.
func IsChoiceKind(kind string) bool {
	_, ok := optionKinds[kind]
	return ok
}

// Limits of a choice, mirrored in schema.sql.
const (
	MinOptions               = 2
	MaxOptions               = 50
	MaxOptionLen             = 200  // a text option, or a candidate's name
	MaxCandidateStatementLen = 2000 // a candidate's statement
)

// Option is one option of a choice. Label is what the ballot shows: the
// demand's or resource's title as it was when proposed, the text, or the
// candidate's name (a member's as their record has it now: "Member 12"
// once erased).
type Option struct {
	ProposalID int64  `db:"proposal_id"`
	Position   int    `db:"position"` // from 0, the order the ballot lists them
	Kind       string `db:"kind"`
	DemandID   *int64 `db:"demand_id"`
	ResourceID *int64 `db:"resource_id"`
	MemberID   *int64 `db:"member_id"` // a candidate who is a member
	Label      string `db:"label"`
	Statement  string `db:"statement"` // a candidate's
}

// OptionInput is one option as the proposal form gives it. The field that
// counts hangs on the proposal's kind: DemandID (prioritise_demands),
// ResourceID (choose_resources), MemberID, or else Label as a person's
// name, with a Statement (elect), Label (poll). The tags check the text
// once trimmed (the statement with LF line ends); the numbers are checked
// against the database when the proposal is stored.
type OptionInput struct {
	DemandID   string `form:"demand_id"`
	ResourceID string `form:"resource_id"`
	MemberID   string `form:"member_id"`
	Label      string `form:"label" validate:"utf8,nocontrol,oneline,max=200"`
	Statement  string `form:"statement" validate:"utf8,nocontrol,max=2000"`
}

var optionMessages = map[string]string{
	"label.utf8":          "This option contains invalid characters.",
	"label.nocontrol":     "This option contains invalid characters.",
	"label.oneline":       "Keep this option to one line.",
	"label.max":           fmt.Sprintf("Keep this option under %d characters.", MaxOptionLen),
	"statement.utf8":      "The statement contains invalid characters.",
	"statement.nocontrol": "The statement contains invalid characters.",
	"statement.max":       fmt.Sprintf("Keep the statement under %d characters.", MaxCandidateStatementLen),
}

// Messages words what the tags refuse.
func (OptionInput) Messages() map[string]string { return optionMessages }

// OptionKey is the field key of option i's messages in a ValidationError
// ("option_3"); its statement's is OptionKey(i)+"_statement".
func OptionKey(i int) string { return "option_" + strconv.Itoa(i) }

// RankKey is the field key of the rank given to option i on a ranked
// ballot ("rank_3"), as the ballot form names it.
func RankKey(i int) string { return "rank_" + strconv.Itoa(i) }

// ApproveKey is the field key of an approval ballot's ticks.
const ApproveKey = "approve"

// checkChoice checks what makes a proposal a choice: its options as typed
// (the numbers they name are checked in the transaction, by options), its
// method within what rule allows, its seats, approval limit and office.
// A yes/no kind takes none of them.
func (in ProposalInput) checkChoice(p *Proposal, rule Rule, v ValidationError) {
	want, choice := optionKinds[in.Kind]
	if !choice {
		if len(in.Options) > 0 || in.Method != "" || strings.TrimSpace(in.Seats) != "" || strings.TrimSpace(in.MaxApprovals) != "" ||
			strings.TrimSpace(in.Office) != "" {
			v["options"] = "Only a choice among options (priorities, resources, an election or a poll) takes options."
		}
		return
	}
	n := len(in.Options)
	if n < MinOptions || n > MaxOptions {
		v["options"] = fmt.Sprintf("Give between %d and %d options.", MinOptions, MaxOptions)
	}
	seen := map[string]int{}
	for i, o := range in.Options {
		if i >= MaxOptions {
			break
		}
		key := OptionKey(i)
		o.Label = strings.TrimSpace(o.Label)
		o.Statement = strings.TrimSpace(strings.ReplaceAll(o.Statement, "\r\n", "\n"))
		for f, msg := range check.Struct(o) {
			if f == "statement" {
				v[key+"_statement"] = msg
			} else {
				v[key] = msg
			}
		}
		number := func(raw, what string) string {
			id, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(raw), "#"), 10, 64)
			if err != nil || id < 1 {
				v[key] = fmt.Sprintf("Enter the %s's number, as shown on its page.", what)
				return ""
			}
			return strconv.FormatInt(id, 10)
		}
		var same string // what makes two options one
		switch want {
		case OptionDemand:
			same = number(o.DemandID, "demand")
		case OptionResource:
			same = number(o.ResourceID, "resource")
		case OptionCandidate:
			switch {
			case strings.TrimSpace(o.MemberID) != "":
				if id := number(o.MemberID, "member"); id != "" {
					same = "member " + id
				}
			case o.Label == "":
				v[key] = "Give the candidate's member number, or their name if they are not a member."
			default:
				same = "name " + strings.ToLower(o.Label)
			}
		case OptionText:
			if o.Label == "" {
				v[key] = "Write the option, or remove it."
			}
			same = strings.ToLower(o.Label)
		}
		if same == "" {
			continue
		}
		if first, twice := seen[same]; twice {
			v[key] = fmt.Sprintf("This is option %d again: give each option once.", first+1)
		} else {
			seen[same] = i
		}
	}

	method := in.Method
	allowed := rule.AllowedMethods()
	if method == "" && len(allowed) > 0 {
		method = allowed[0]
	}
	if _, bad := v["method"]; !bad && !slices.Contains(allowed, method) {
		names := make([]string, len(allowed))
		for i, m := range allowed {
			names[i] = strings.ToLower(MethodNames[m])
		}
		v["method"] = fmt.Sprintf("This kind of proposal is counted by %s.", strings.Join(names, ", or "))
	}
	p.Method = &method

	number := func(field, raw string) *int {
		raw = strings.TrimSpace(raw)
		if _, bad := v[field]; bad || raw == "" {
			return nil
		}
		k, _ := strconv.Atoi(raw) // the tags checked it
		return &k
	}
	seats := number("seats", in.Seats)
	switch {
	case in.Kind != KindElect && seats != nil:
		v["seats"] = "Only an election has seats to fill."
	case in.Kind != KindElect:
	case seats == nil:
		if _, bad := v["seats"]; !bad {
			v["seats"] = "Say how many seats are to be filled."
		}
	case n >= MinOptions && *seats >= n:
		v["seats"] = fmt.Sprintf("With %d candidates, at most %d seats can be filled: the members must have a choice.", n, n-1)
	case method == MethodIRV && *seats != 1:
		v["method"] = "Instant-runoff elects one person: for more seats choose single transferable vote."
	}
	if in.Kind == KindElect {
		p.Seats = seats
	}
	maxApprovals := number("max_approvals", in.MaxApprovals)
	switch {
	case maxApprovals != nil && method != MethodApproval:
		v["max_approvals"] = "Only approval voting limits how many options a member ticks."
	case in.Kind == KindElect && method == MethodApproval:
		// An approval election: each member ticks at most as many
		// candidates as there are seats, and the most approved are elected.
		if maxApprovals != nil && seats != nil && *maxApprovals != *seats {
			v["max_approvals"] = "In an election by approval each member ticks at most as many candidates as there are seats."
		}
		p.MaxApprovals = seats
	case maxApprovals != nil && n >= MinOptions && *maxApprovals > n:
		v["max_approvals"] = fmt.Sprintf("There are only %d options to tick.", n)
	default:
		p.MaxApprovals = maxApprovals
	}
	office := strings.TrimSpace(in.Office)
	switch {
	case in.Kind == KindElect && office == "":
		if _, bad := v["office"]; !bad {
			v["office"] = "Name the office the members elect to, such as Board of directors."
		}
	case in.Kind != KindElect && office != "":
		v["office"] = "Only an election has an office."
	case in.Kind == KindElect:
		p.Office = &office
	}
}

// options reads what each option of a choice names, inside the transaction
// that stores the proposal: a demand that is proposed or endorsed, a
// listed resource not yet endorsed, a candidate who is an active member;
// and returns the options as they will be stored. Nothing for a yes/no
// proposal.
func (in ProposalInput) options(ctx context.Context, tx *sqlx.Tx, p Proposal) ([]Option, error) {
	kind, choice := optionKinds[p.Kind]
	if !choice {
		return nil, nil
	}
	v := ValidationError{}
	out := make([]Option, len(in.Options))
	for i, o := range in.Options {
		key := OptionKey(i)
		raw := map[string]string{OptionDemand: o.DemandID, OptionResource: o.ResourceID, OptionCandidate: o.MemberID}[kind]
		id, _ := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(raw), "#"), 10, 64) // checkChoice checked it
		opt := Option{Position: i, Kind: kind, Label: strings.TrimSpace(o.Label)}
		switch {
		case kind == OptionDemand:
			var d struct {
				Title  string `db:"title"`
				Status string `db:"status"`
			}
			err := tx.GetContext(ctx, &d, `SELECT title, status FROM demands WHERE id = ?`, id)
			switch {
			case err != nil && !errors.Is(err, sql.ErrNoRows):
				return nil, fmt.Errorf("governance: read option demand: %w", err)
			case err != nil:
				v[key] = fmt.Sprintf("There is no demand number %d.", id)
			case d.Status != library.DemandProposed && d.Status != library.DemandEndorsed:
				v[key] = fmt.Sprintf("Demand %d is %s: only proposed and endorsed demands can be prioritised.", id, d.Status)
			}
			opt.DemandID, opt.Label = &id, d.Title
		case kind == OptionResource:
			err := library.CheckResourceEndorsable(ctx, tx, id)
			var lv ValidationError
			if errors.As(err, &lv) {
				v[key] = lv["resource_id"]
			} else if err != nil {
				return nil, err
			}
			var title string
			if err := tx.GetContext(ctx, &title, `SELECT title FROM resources WHERE id = ?`, id); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return nil, fmt.Errorf("governance: read option resource: %w", err)
			}
			opt.ResourceID, opt.Label = &id, title
		case kind == OptionCandidate:
			opt.Statement = strings.TrimSpace(strings.ReplaceAll(o.Statement, "\r\n", "\n"))
			if strings.TrimSpace(o.MemberID) == "" {
				break
			}
			m, err := getMember(ctx, tx, `WHERE id = ?`, id)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return nil, err
			}
			if err != nil || !m.IsActive() {
				v[key] = fmt.Sprintf("There is no active member number %d: a candidate who is a member must be active.", id)
			}
			// The name is read from the member's record when shown
			// (readOptions), so erasing the member takes it off the ballot.
			opt.MemberID, opt.Label = &id, fmt.Sprintf("Member %d", id)
		}
		out[i] = opt
	}
	if len(v) > 0 {
		return nil, v
	}
	return out, nil
}

func insertOptions(ctx context.Context, tx *sqlx.Tx, proposal int64, options []Option) error {
	for _, o := range options {
		if _, err := tx.ExecContext(ctx, `INSERT INTO proposal_options (proposal_id, position, kind, demand_id, resource_id, member_id,
			label, statement) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			proposal, o.Position, o.Kind, o.DemandID, o.ResourceID, o.MemberID, o.Label, o.Statement); err != nil {
			return fmt.Errorf("governance: insert option: %w", err)
		}
	}
	return nil
}

// optionsDigest is the SHA-256 of the options' JSON, in order, as the
// ledger's proposal entry records it: a list of {"kind", "demand",
// "resource", "member", "label", "statement"}, absent numbers as null.
func optionsDigest(options []Option) string {
	type line struct {
		Kind      string `json:"kind"`
		Demand    *int64 `json:"demand"`
		Resource  *int64 `json:"resource"`
		Member    *int64 `json:"member"`
		Label     string `json:"label"`
		Statement string `json:"statement"`
	}
	lines := make([]line, len(options))
	for i, o := range options {
		lines[i] = line{o.Kind, o.DemandID, o.ResourceID, o.MemberID, o.Label, o.Statement}
	}
	b, _ := json.Marshal(lines)
	return sha256Hex(string(b))
}

func readOptions(ctx context.Context, q sqlx.QueryerContext, proposal int64) ([]Option, error) {
	var out []Option
	if err := sqlx.SelectContext(ctx, q, &out, `SELECT o.proposal_id, o.position, o.kind, o.demand_id, o.resource_id, o.member_id,
		CASE WHEN m.name <> '' THEN m.name ELSE o.label END AS label, o.statement
		FROM proposal_options o LEFT JOIN members m ON m.id = o.member_id WHERE o.proposal_id = ? ORDER BY o.position`, proposal); err != nil {
		return nil, fmt.Errorf("governance: read options: %w", err)
	}
	return out, nil
}

// Options returns a choice's options in ballot order (none for a yes/no
// proposal). They say nothing of the count, which only the closed
// proposal's Result holds; who may see the proposal at all is Proposal's
// to say.
func (s *Service) Options(ctx context.Context, proposalID int64) ([]Option, error) {
	return readOptions(ctx, s.db.R, proposalID)
}
