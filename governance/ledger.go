package governance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/ledger"
)

// Ledger event kinds.
// Ledger event kinds (their bodies are typed in internal/ledger).
const (
	EventFounded           = ledger.KindFounded
	EventAdmitted          = ledger.KindAdmitted
	EventRejected          = ledger.KindRejected
	EventSuspended         = ledger.KindSuspended
	EventReinstated        = ledger.KindReinstated
	EventRoleChanged       = ledger.KindRoleChanged
	EventLeft              = ledger.KindLeft
	EventErased            = ledger.KindErased
	EventInvitationCreated = ledger.KindInvitationCreated
	EventInvitationRevoked = ledger.KindInvitationRevoked
	EventResetIssued       = ledger.KindResetIssued
	EventPasswordReset     = ledger.KindPasswordReset
	EventSettingChanged    = ledger.KindSettingChanged
)

// Entry is one ledger row. Body is canonical JSON (keys sorted, no spaces).
type Entry struct {
	Seq      int64  `db:"seq" json:"seq"`
	At       string `db:"at" json:"at"`
	Kind     string `db:"kind" json:"kind"`
	Body     string `db:"body" json:"body"`
	PrevHash string `db:"prev_hash" json:"prev_hash"`
	Hash     string `db:"hash" json:"hash"`
}

// Fields decodes the body.
func (e Entry) Fields() map[string]any {
	var m map[string]any
	json.Unmarshal([]byte(e.Body), &m)
	return m
}

// whole turns the whole float64s in a decoded JSON value into int64s.
func whole(v any) any {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x)
		}
	case []any:
		for i := range x {
			x[i] = whole(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = whole(x[k])
		}
	}
	return v
}

// asFloat reads a decoded number, whole or not.
func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// Summary says in words what the entry records.
func (e Entry) Summary() string {
	// Whole numbers as int64, so that an id of a million reads 1000000,
	// not 1e+06.
	f := whole(e.Fields()).(map[string]any)
	num := func(k string) string {
		if v, ok := asFloat(f[k]); ok {
			if v == 0 {
				return "the operator"
			}
			return fmt.Sprintf("member %d", int64(v))
		}
		return "someone"
	}
	switch e.Kind {
	case EventFounded:
		return fmt.Sprintf("The co-op was founded on Plenary; %s is its first admin", num("member"))
	case EventAdmitted:
		if inv, ok := asFloat(f["invitation"]); ok {
			return fmt.Sprintf("%s admitted through invitation %d from %s", capital(num("member")), int64(inv), num("by"))
		}
		return fmt.Sprintf("%s admitted by %s", capital(num("member")), num("by"))
	case EventRejected:
		return fmt.Sprintf("The application of %s was rejected by %s", num("member"), num("by"))
	case EventSuspended:
		return fmt.Sprintf("%s suspended by %s", capital(num("member")), num("by"))
	case EventReinstated:
		return fmt.Sprintf("%s reinstated by %s", capital(num("member")), num("by"))
	case EventRoleChanged:
		return fmt.Sprintf("%s made %s by %s", capital(num("member")), f["role"], num("by"))
	case EventLeft:
		return fmt.Sprintf("%s left the co-op (recorded by %s)", capital(num("member")), num("by"))
	case EventErased:
		return fmt.Sprintf("The personal data of %s was erased by %s", num("member"), num("by"))
	case EventResetIssued:
		return fmt.Sprintf("A password-reset link for %s was issued by %s", num("member"), num("by"))
	case EventPasswordReset:
		return fmt.Sprintf("%s reset their password", capital(num("member")))
	case EventInvitationCreated:
		if f["role"] == RoleAdmin {
			return fmt.Sprintf("Invitation %v, to join as an admin, created by %s", f["invitation"], num("by"))
		}
		return fmt.Sprintf("Invitation %v created by %s", f["invitation"], num("by"))
	case EventSettingChanged:
		if f["setting"] == SettingTimeZone {
			return fmt.Sprintf("The co-op's time zone set to %v by %s", f["value"], num("by"))
		}
		return fmt.Sprintf("Setting %v set to %v by %s", f["setting"], f["value"], num("by"))
	case EventInvitationRevoked:
		return fmt.Sprintf("Invitation %v revoked by %s", f["invitation"], num("by"))
	case EventRulesChanged:
		secret := "open"
		if f["secret"] == true {
			secret = "secret"
		}
		length := fmt.Sprintf("%v minutes", f["min_minutes"])
		if m, ok := asFloat(f["min_minutes"]); ok {
			length = minutesText(int(m))
		}
		summary := fmt.Sprintf("Rules for %s set by %s: quorum %v%%, %s, at least %s, %s ballot",
			KindNames[fmt.Sprint(f["kind"])], num("by"), f["quorum_pct"], thresholdName(fmt.Sprint(f["threshold"])), length, secret)
		switch h, _ := asFloat(f["reminder_hours"]); {
		case f["reminder_hours"] == nil:
		case h == 0:
			summary += ", no reminder"
		default:
			summary += fmt.Sprintf(", reminder %s before close", plural(int(h), "hour"))
		}
		if ms, _ := f["methods"].(string); ms != "" {
			names := []string{}
			for _, m := range strings.Split(ms, ",") {
				names = append(names, strings.ToLower(MethodNames[m]))
			}
			summary += ", counted by " + strings.Join(names, " or ") + " (the first by default)"
		}
		if pct, ok := f["approval_pct"]; ok {
			summary += fmt.Sprintf(", chosen when approved on more than %v%% of the ballots", pct)
		}
		switch n, ok := asFloat(f["proxy_cap"]); {
		case ok && n == 1:
			summary += ", up to 1 proxy a member"
		case ok:
			summary += fmt.Sprintf(", up to %v proxies a member", f["proxy_cap"])
		}
		if f["early_close"] == true {
			summary += ", closing once everyone has voted"
		}
		if f["quorum_on"] == QuorumOnPresent {
			summary += ", quorum at a meeting counted on those present"
		}
		return summary
	case EventProposed:
		summary := fmt.Sprintf("Proposal %v (%s) submitted by %s", f["proposal"], strings.ToLower(KindNames[fmt.Sprint(f["kind"])]), num("by"))
		if d, ok := asFloat(f["demand"]); ok {
			summary += fmt.Sprintf(", about demand %d", int64(d))
		} else if r, ok := asFloat(f["resource"]); ok {
			summary += fmt.Sprintf(", about resource %d", int64(r))
		}
		return summary
	case EventWithdrawn:
		return fmt.Sprintf("Proposal %v withdrawn by its author, %s", f["proposal"], num("by"))
	case EventCancelled:
		return fmt.Sprintf("Proposal %v cancelled by %s: %v", f["proposal"], num("by"), f["reason"])
	case EventBallotOpened:
		roll, _ := asFloat(f["roll_size"])
		summary := fmt.Sprintf("Voting opened on proposal %v with a roll of %s", f["proposal"], plural(int(roll), "member"))
		if _, ok := f["meeting"]; ok {
			summary += fmt.Sprintf(", by the chair of meeting %v", f["meeting"])
		}
		if ps, ok := f["proxies"].([]any); ok {
			pairs := make([]string, len(ps))
			for i, p := range ps {
				if pair, ok := p.([]any); ok && len(pair) == 2 {
					pairs[i] = fmt.Sprintf("%v for %v", pair[1], pair[0])
				}
			}
			summary += "; proxies (holder for principal): " + strings.Join(pairs, ", ")
		}
		return summary
	case EventBallotClosed:
		if m, ok := f["method"].(string); ok {
			how := map[string]string{MethodApproval: "approval", MethodSchulze: "the Schulze method", MethodIRV: "instant-runoff",
				MethodSTV: "single transferable vote"}[m]
			return fmt.Sprintf("Voting closed on proposal %v, counted by %s: %v (%v of %v voted; result digest %v)",
				f["proposal"], how, ChoiceOutcomeNames[fmt.Sprint(f["outcome"])], f["turnout"], f["roll_size"], f["result_digest"]) + closedHow(f)
		}
		summary := fmt.Sprintf("Voting closed on proposal %v: %v (%v yes, %v no, %v abstain; %v of %v voted)",
			f["proposal"], f["outcome"], f["yes"], f["no"], f["abstain"], f["turnout"], f["roll_size"])
		return summary + closedHow(f)
	case EventEffectApplied, EventEffectSkipped:
		if d, ok := f["digest"].(string); ok {
			return fmt.Sprintf("Proposal %v: %v; content digest %s", f["proposal"], f["effect"], d)
		}
		return fmt.Sprintf("Proposal %v: %v", f["proposal"], f["effect"])
	case ledger.KindProxyAppointed, ledger.KindProxyRevoked:
		what := map[string]string{ledger.KindProxyAppointed: "appointed", ledger.KindProxyRevoked: "revoked"}[e.Kind]
		scope := "every ballot"
		if p, ok := f["proposal"]; ok {
			scope = fmt.Sprintf("proposal %v", p)
		}
		return fmt.Sprintf("Proxy %v %s: %s holds %s's vote for %s", f["appointment"], what, num("holder"), num("principal"), scope)
	case ledger.KindRecused:
		return fmt.Sprintf("On proposal %v, %s stood aside: %v", f["proposal"], num("member"), f["reason"])
	case ledger.KindMeetingCalled:
		return fmt.Sprintf("Meeting %v, %v, called by %s for %v", f["meeting"], f["title"], num("chair"), f["starts_at"])
	case ledger.KindMeetingItem:
		return fmt.Sprintf("Proposal %v put on the agenda of meeting %v as item %v by %s", f["proposal"], f["meeting"], f["position"], num("by"))
	case ledger.KindMeetingRegister:
		var ev ledger.MeetingRegister
		json.Unmarshal([]byte(e.Body), &ev)
		nums := make([]string, len(ev.Present))
		for i, n := range ev.Present {
			nums[i] = fmt.Sprint(n)
		}
		return fmt.Sprintf("Attendance register of meeting %d frozen by %s: %s present (%s)", ev.Meeting, num("by"), plural(len(nums), "member"),
			strings.Join(nums, ", "))
	case ledger.KindMeetingClosed:
		return fmt.Sprintf("Meeting %v closed by %s", f["meeting"], num("by"))
	case ledger.KindResourceListed:
		return fmt.Sprintf("Resource %v listed in the library by %s", f["resource"], num("by"))
	case ledger.KindResourceHidden:
		return fmt.Sprintf("Resource %v hidden from the library by %s", f["resource"], num("by"))
	case ledger.KindResourceReturned:
		return fmt.Sprintf("Resource %v returned to the queue by %s", f["resource"], num("by"))
	case ledger.KindResourceEdited:
		var ev ledger.ResourceEdited
		json.Unmarshal([]byte(e.Body), &ev)
		return fmt.Sprintf("Resource %d edited by %s: %s", ev.Resource, num("by"), strings.Join(ev.Fields, ", "))
	case ledger.KindDemandEdited:
		var ev ledger.DemandEdited
		json.Unmarshal([]byte(e.Body), &ev)
		return fmt.Sprintf("Demand %d edited by %s: %s", ev.Demand, num("by"), strings.Join(ev.Fields, ", "))
	case ledger.KindDigestRecorded:
		var ev ledger.DigestRecorded
		json.Unmarshal([]byte(e.Body), &ev)
		what := "resource"
		id := ev.Resource
		if ev.Demand != nil {
			what, id = "demand", ev.Demand
		}
		if id == nil {
			return e.Kind
		}
		return fmt.Sprintf("Content digest of %s %d, endorsed by proposal %d, recorded: %s", what, *id, ev.Proposal, ev.Digest)
	}
	return e.Kind
}

// Subject is a proposal, demand or resource a ledger entry is about.
type Subject struct {
	Kind string // "proposal", "demand" or "resource"
	ID   int64
}

// Phrase is a piece of an entry's summary: plain words, or the words that
// name one of its subjects ("proposal 12"), which a page links.
type Phrase struct {
	Text    string
	Subject *Subject // nil for plain words
}

// Phrases is Summary cut at the first mention of each subject the body
// numbers. A subject comes from the body's numbers, never from words in the
// summary, so a reason or a title that reads "proposal 9" links nothing
// but the entry's own proposal 9.
func (e Entry) Phrases() []Phrase {
	text := e.Summary()
	type mention struct {
		at, end int
		subject Subject
	}
	var ms []mention
	// Lowered byte for byte, so that an index in it is one in text too
	// (strings.ToLower may change the length of a title's letters).
	lower := []byte(text)
	for i, b := range lower {
		if 'A' <= b && b <= 'Z' {
			lower[i] = b + 'a' - 'A'
		}
	}
	for _, sub := range e.subjects() {
		name := sub.Kind + " " + strconv.FormatInt(sub.ID, 10)
		for from := 0; ; {
			i := bytes.Index(lower[from:], []byte(name))
			if i < 0 {
				break
			}
			at, end := from+i, from+i+len(name)
			if (at == 0 || !isLetter(lower[at-1])) && (end == len(lower) || !isDigit(lower[end])) {
				ms = append(ms, mention{at, end, sub})
				break
			}
			from = end
		}
	}
	slices.SortFunc(ms, func(a, b mention) int { return a.at - b.at })
	var out []Phrase
	pos := 0
	for _, m := range ms {
		if m.at < pos {
			continue
		}
		if m.at > pos {
			out = append(out, Phrase{Text: text[pos:m.at]})
		}
		out = append(out, Phrase{Text: text[m.at:m.end], Subject: &m.subject})
		pos = m.end
	}
	if pos < len(text) {
		out = append(out, Phrase{Text: text[pos:]})
	}
	return out
}

// subjects are the proposal, demand and resource the body numbers.
func (e Entry) subjects() []Subject {
	f := e.Fields()
	var out []Subject
	for _, kind := range []string{"proposal", "demand", "resource"} {
		if v, ok := asFloat(f[kind]); ok && v >= 1 && v == float64(int64(v)) {
			out = append(out, Subject{Kind: kind, ID: int64(v)})
		}
	}
	return out
}

func isLetter(b byte) bool { return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' }
func isDigit(b byte) bool  { return '0' <= b && b <= '9' }

func thresholdName(t string) string {
	if t == ThresholdTwoThirds {
		return "two-thirds majority"
	}
	return "simple majority"
}

func capital(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// appendEntry adds ev to the ledger inside tx, the transaction of the
// change it records.
func appendEntry(ctx context.Context, tx *sqlx.Tx, at time.Time, ev ledger.Event) error {
	return ledger.Append(ctx, tx, at, ev)
}

// LedgerPerPage is the public ledger's page size.
const LedgerPerPage = 50

// Ledger returns a page of entries, newest first, and the number of entries.
// The number is the head's seq: entries are numbered from 1 without a gap
// (ledger.Append) and never removed (the ledger_no_delete trigger), and
// reading the head is one step down the key where counting read every
// entry, 100,000 at scale, on every page that shows the ledger.
func (s *Service) Ledger(ctx context.Context, page int) ([]Entry, int, error) {
	var total int
	if err := s.db.R.GetContext(ctx, &total, `SELECT coalesce(max(seq), 0) FROM ledger`); err != nil {
		return nil, 0, fmt.Errorf("governance: count ledger: %w", err)
	}
	var es []Entry
	err := s.db.R.SelectContext(ctx, &es, `SELECT seq, at, kind, body, prev_hash, hash FROM ledger
		ORDER BY seq DESC LIMIT ? OFFSET ?`, LedgerPerPage, (max(page, 1)-1)*LedgerPerPage)
	if err != nil {
		return nil, 0, fmt.Errorf("governance: read ledger: %w", err)
	}
	return es, total, nil
}

// ChainError names the first ledger entry that does not fit the chain.
type ChainError struct {
	Seq     int64
	Problem string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("ledger entry %d: %s", e.Seq, e.Problem)
}

// VerifyLedger walks the whole chain and returns the number of entries and
// the head hash, or a *ChainError for the first entry that was altered,
// removed or moved. Removing entries from the very end cannot be seen from
// inside the database: compare the head with a copy published earlier.
func (s *Service) VerifyLedger(ctx context.Context) (int64, string, error) {
	rows, err := s.db.R.QueryxContext(ctx, `SELECT seq, at, kind, body, prev_hash, hash FROM ledger ORDER BY seq`)
	if err != nil {
		return 0, "", fmt.Errorf("governance: read ledger: %w", err)
	}
	defer rows.Close()
	prev, want := ledger.Genesis, int64(1)
	for rows.Next() {
		var e Entry
		if err := rows.StructScan(&e); err != nil {
			return 0, "", fmt.Errorf("governance: read ledger: %w", err)
		}
		switch {
		case e.Seq != want:
			return 0, "", &ChainError{Seq: want, Problem: fmt.Sprintf("missing (the next entry is %d)", e.Seq)}
		case e.PrevHash != prev:
			return 0, "", &ChainError{Seq: e.Seq, Problem: "does not follow the entry before it (removed, reordered or edited)"}
		case ledger.Hash(prev, e.Seq, e.At, e.Kind, e.Body) != e.Hash:
			return 0, "", &ChainError{Seq: e.Seq, Problem: "its content does not match its hash (edited)"}
		}
		prev, want = e.Hash, want+1
	}
	if err := rows.Err(); err != nil {
		return 0, "", fmt.Errorf("governance: read ledger: %w", err)
	}
	return want - 1, prev, nil
}

// Governance event kinds.
const (
	EventRulesChanged  = ledger.KindRulesChanged
	EventProposed      = ledger.KindProposed
	EventWithdrawn     = ledger.KindWithdrawn
	EventCancelled     = ledger.KindCancelled
	EventBallotOpened  = ledger.KindBallotOpened
	EventBallotClosed  = ledger.KindBallotClosed
	EventEffectApplied = ledger.KindEffectApplied
	EventEffectSkipped = ledger.KindEffectSkipped
)

// closedHow words what version 9 adds to a close's entry: who closed it
// early, those who stood aside and those present.
func closedHow(f map[string]any) string {
	var parts []string
	if by, ok := asFloat(f["closed_by"]); ok {
		parts = append(parts, fmt.Sprintf("closed by the chair, member %d", int64(by)))
	}
	if f["early"] == true {
		parts = append(parts, "closed once everyone had voted")
	}
	if n, ok := f["recused"]; ok {
		parts = append(parts, fmt.Sprintf("%v stood aside", n))
	}
	if n, ok := f["quorum_base"]; ok {
		parts = append(parts, fmt.Sprintf("%v present or represented", n))
	}
	if len(parts) == 0 {
		return ""
	}
	return "; " + strings.Join(parts, "; ")
}
