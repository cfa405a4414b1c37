package governance

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"

	"plenary/internal/check"
	"plenary/internal/ledger"
)

// The co-op's rules: for each kind of proposal, its quorum, threshold,
// shortest voting period, secrecy, reminder and, for choices, the methods
// it allows. Admins change them; a ballot freezes them when it opens.

// Rule is the co-op's bylaw for one kind of proposal.
type Rule struct {
	Kind       string `db:"kind"`
	QuorumPct  int    `db:"quorum_pct"`
	Threshold  string `db:"threshold"`
	MinMinutes int    `db:"min_minutes"`
	Secret     bool   `db:"secret"`
	// ReminderHours is how long before close the members who have not
	// voted are reminded (0: never). Unlike the rest it is not frozen into
	// a ballot: it decides nothing, and is read when the reminder is due.
	ReminderHours int `db:"reminder_hours"`
	// Methods lists the counting methods a choice of the kind may use,
	// the default first, separated by commas; empty for yes/no kinds.
	Methods string `db:"methods"`
	// ApprovalPct: choose_resources endorses the options approved on more
	// than this share of the ballots cast.
	ApprovalPct int `db:"approval_pct"`
	// ProxyCap is how many members' proxies one member may hold in a
	// ballot of the kind; 0 turns proxies off (proxy.go).
	ProxyCap int `db:"proxy_cap"`
	// EarlyClose closes a ballot as soon as everyone on its roll, less
	// those who stood aside, has voted.
	EarlyClose bool `db:"early_close"`
	// QuorumOn is what a meeting ballot's quorum is counted on: the whole
	// roll (QuorumOnRoll) or those present (QuorumOnPresent, meeting.go).
	// A ballot held outside a meeting counts it on the roll either way.
	QuorumOn string `db:"quorum_on"`
}

// What a meeting ballot's quorum is counted on.
const (
	QuorumOnRoll    = "roll"
	QuorumOnPresent = "present"
)

// AllowedMethods lists the methods a choice of the rule's kind may use, the
// default first; none for a yes/no kind.
func (r Rule) AllowedMethods() []string {
	if r.Methods == "" {
		return nil
	}
	return strings.Split(r.Methods, ",")
}

// ruleColumns reads a rule with its reminder hours.
const ruleColumns = `SELECT r.kind, r.quorum_pct, r.threshold, r.min_minutes, r.secret, coalesce(h.hours, 24) AS reminder_hours,
	r.methods, r.approval_pct, r.proxy_cap, r.early_close, r.quorum_on FROM rules r LEFT JOIN reminder_rules h ON h.kind = r.kind`

// Rules returns the rule for every kind, in Kinds order.
func (s *Service) Rules(ctx context.Context) ([]Rule, error) {
	var rs []Rule
	if err := s.db.R.SelectContext(ctx, &rs, ruleColumns); err != nil {
		return nil, fmt.Errorf("governance: rules: %w", err)
	}
	byKind := map[string]Rule{}
	for _, r := range rs {
		byKind[r.Kind] = r
	}
	out := make([]Rule, 0, len(Kinds))
	for _, k := range Kinds {
		out = append(out, byKind[k])
	}
	return out, nil
}

func getRule(ctx context.Context, q sqlx.QueryerContext, kind string) (Rule, error) {
	var r Rule
	err := sqlx.GetContext(ctx, q, &r, ruleColumns+` WHERE r.kind = ?`, kind)
	if err != nil {
		return Rule{}, fmt.Errorf("governance: rule %s: %w", kind, err)
	}
	return r, nil
}

// RuleInput is a rule as an admin's form gives it. The tags check it
// with the numbers trimmed.
type RuleInput struct {
	Kind       string `form:"kind" validate:"oneof=endorse_demand endorse_resource withdraw_endorsement adopt_demand motion amend_demand amend_resource prioritise_demands choose_resources elect poll"`
	QuorumPct  string `form:"quorum_pct" validate:"intrange=0 100"`
	Threshold  string `form:"threshold" validate:"oneof=majority two_thirds"`
	MinMinutes string `form:"min_minutes" validate:"intrange=1 129600"`
	Secret     bool   `form:"secret"`
	// ReminderHours left empty keeps the kind's reminder as it is.
	ReminderHours string `form:"reminder_hours" validate:"omitempty,intrange=0 720"`
	// Methods are the counting methods a choice of the kind may use, the
	// default first (KindMethods lists each kind's); none for a yes/no kind.
	Methods []string `form:"methods" validate:"max=4,unique,dive,oneof=approval schulze irv stv"`
	// ApprovalPct is choose_resources' threshold; left empty it stays as
	// it is, and no other kind takes one.
	ApprovalPct string `form:"approval_pct" validate:"omitempty,intrange=1 99"`
	// ProxyCap left empty keeps the kind's cap as it is; 0 turns proxies off.
	ProxyCap   string `form:"proxy_cap" validate:"omitempty,intrange=0 20"`
	EarlyClose bool   `form:"early_close"`
	// QuorumOn left empty keeps it as it is.
	QuorumOn string `form:"quorum_on" validate:"omitempty,oneof=roll present"`
}

// KindMethods lists the methods each kind of choice may be allowed, in the
// order the rules form offers them. choose_resources is approval only, as
// its threshold is a share of the ballots approving; only an election has
// seats for STV; IRV's single winner is no priority list.
var KindMethods = map[string][]string{
	KindPrioritise: {MethodSchulze, MethodApproval},
	KindChoose:     {MethodApproval},
	KindElect:      {MethodSTV, MethodIRV, MethodApproval},
	KindPoll:       {MethodApproval, MethodSchulze, MethodIRV},
}

var ruleMessages = map[string]string{
	"kind.oneof":              "Choose a kind of proposal.",
	"quorum_pct.intrange":     "Enter a quorum between 0 and 100 per cent.",
	"threshold.oneof":         "Choose simple majority or two-thirds.",
	"min_minutes.intrange":    "Enter a minimum voting period between 1 minute and 129,600 minutes (90 days, the longest a vote may last).",
	"reminder_hours.intrange": "Enter a number of hours between 0 (no reminder) and 720 (30 days).",
	"methods.max":             "Choose among the methods listed.",
	"methods.unique":          "Choose each method once.",
	"methods.oneof":           "Choose among the methods listed.",
	"approval_pct.intrange":   "Enter a share between 1 and 99 per cent.",
	"proxy_cap.intrange":      "Enter how many proxies one member may hold, from 0 (no proxies) to 20.",
	"quorum_on.oneof":         "Choose whether a meeting's quorum counts the whole roll or those present.",
}

// Messages words what the tags refuse.
func (RuleInput) Messages() map[string]string { return ruleMessages }

// rule checks the input and returns the rule it sets.
// ReminderHours and ApprovalPct are -1 when the input leaves them as
// they are.
func (in RuleInput) rule() (Rule, ValidationError) {
	in.QuorumPct, in.MinMinutes, in.ReminderHours = strings.TrimSpace(in.QuorumPct), strings.TrimSpace(in.MinMinutes), strings.TrimSpace(in.ReminderHours)
	in.ApprovalPct, in.ProxyCap = strings.TrimSpace(in.ApprovalPct), strings.TrimSpace(in.ProxyCap)
	v := check.Struct(in)
	for f := range v {
		// A method's own tag fails as "methods[2]": its message is the list's.
		if strings.HasPrefix(f, "methods[") {
			delete(v, f)
			v["methods"] = ruleMessages["methods.oneof"]
		}
	}
	allowed, choice := KindMethods[in.Kind]
	switch _, bad := v["methods"]; {
	case bad:
	case choice && len(in.Methods) == 0:
		v["methods"] = "Allow at least one method: the first is the default."
	case !choice && len(in.Methods) > 0:
		v["methods"] = "Only a choice among options is counted by a method."
	default:
		for _, m := range in.Methods {
			if !slices.Contains(allowed, m) {
				v["methods"] = fmt.Sprintf("%s cannot count this kind of choice.", MethodNames[m])
			}
		}
	}
	if in.Kind != KindChoose && in.ApprovalPct != "" {
		v["approval_pct"] = "Only choosing resources has an approval threshold."
	}
	q, _ := strconv.Atoi(in.QuorumPct)
	m, _ := strconv.Atoi(in.MinMinutes)
	h, pct, cap := -1, -1, -1
	if in.ReminderHours != "" {
		h, _ = strconv.Atoi(in.ReminderHours)
	}
	if in.ApprovalPct != "" {
		pct, _ = strconv.Atoi(in.ApprovalPct)
	}
	if in.ProxyCap != "" {
		cap, _ = strconv.Atoi(in.ProxyCap)
	}
	return Rule{Kind: in.Kind, QuorumPct: q, Threshold: in.Threshold, MinMinutes: m, Secret: in.Secret, ReminderHours: h,
		Methods: strings.Join(in.Methods, ","), ApprovalPct: pct, ProxyCap: cap, EarlyClose: in.EarlyClose, QuorumOn: in.QuorumOn}, v
}

// SetRule changes a kind's rule. Running ballots keep the rules they opened
// with; the change goes on the ledger.
func (s *Service) SetRule(ctx context.Context, actor Member, in RuleInput) error {
	r, v := in.rule()
	if err := v.Err(); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := requireAdmin(ctx, tx, actor.ID); err != nil {
			return err
		}
		old, err := getRule(ctx, tx, r.Kind)
		if err != nil {
			return err
		}
		if r.ReminderHours < 0 {
			r.ReminderHours = old.ReminderHours
		}
		if r.ApprovalPct < 0 {
			r.ApprovalPct = old.ApprovalPct
		}
		if r.ProxyCap < 0 {
			r.ProxyCap = old.ProxyCap
		}
		if r.QuorumOn == "" {
			r.QuorumOn = old.QuorumOn
		}
		if _, err := tx.ExecContext(ctx, `UPDATE rules SET quorum_pct = ?, threshold = ?, min_minutes = ?, secret = ?, methods = ?,
			approval_pct = ?, proxy_cap = ?, early_close = ?, quorum_on = ? WHERE kind = ?`,
			r.QuorumPct, r.Threshold, r.MinMinutes, r.Secret, r.Methods, r.ApprovalPct, r.ProxyCap, r.EarlyClose, r.QuorumOn, r.Kind); err != nil {
			return fmt.Errorf("governance: set rule: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO reminder_rules (kind, hours) VALUES (?, ?)
			ON CONFLICT (kind) DO UPDATE SET hours = excluded.hours`, r.Kind, r.ReminderHours); err != nil {
			return fmt.Errorf("governance: set reminder: %w", err)
		}
		entry := ledger.RulesChanged{ProposalKind: r.Kind, QuorumPct: r.QuorumPct, Threshold: r.Threshold, MinMinutes: r.MinMinutes,
			Secret: r.Secret, ReminderHours: &r.ReminderHours, Methods: r.Methods, By: actor.ID, ProxyCap: r.ProxyCap, EarlyClose: r.EarlyClose}
		if r.QuorumOn != QuorumOnRoll {
			entry.QuorumOn = r.QuorumOn
		}
		if r.Kind == KindChoose {
			entry.ApprovalPct = &r.ApprovalPct
		}
		return appendEntry(ctx, tx, s.now(), entry)
	})
}

// MinLength says the shortest voting period in words: "7 days", "1 minute".
func (r Rule) MinLength() string { return minutesText(r.MinMinutes) }
