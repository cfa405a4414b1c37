package governance

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"plenary/internal/check"
)

// tagParam is the parameter of one check in a field's validate tag.
func tagParam(t *testing.T, v any, field, name string) string {
	t.Helper()
	f, ok := reflect.TypeOf(v).FieldByName(field)
	if !ok {
		t.Fatalf("%T has no field %s", v, field)
	}
	for _, tag := range strings.Split(f.Tag.Get("validate"), ",") {
		if p, ok := strings.CutPrefix(tag, name+"="); ok {
			return p
		}
	}
	t.Fatalf("%T.%s has no %s tag", v, field, name)
	return ""
}

// The tags are where the choices and limits are written; the constants the
// rest of the code uses must say the same.
func TestTagsAgreeWithTheConstants(t *testing.T) {
	t.Run("choices", func(t *testing.T) {
		for _, c := range []struct {
			name      string
			got, want []string
		}{
			{"proposal kinds", Kinds, []string{KindEndorseDemand, KindEndorseResource, KindWithdraw, KindAdoptDemand, KindMotion,
				KindAmendDemand, KindAmendResource, KindPrioritise, KindChoose, KindElect, KindPoll}},
			{"a rule's kinds", check.OneOf(RuleInput{}, "Kind"), Kinds},
			{"counting methods", check.OneOf(ProposalInput{}, "Method"), []string{MethodApproval, MethodSchulze, MethodIRV, MethodSTV}},
			{"a rule's methods", check.OneOf(RuleInput{}, "Methods"), []string{MethodApproval, MethodSchulze, MethodIRV, MethodSTV}},
			{"thresholds", check.OneOf(RuleInput{}, "Threshold"), []string{ThresholdMajority, ThresholdTwoThirds}},
			{"ballot choices", check.OneOf(ballotPaper{}, "Choice"), Choices},
			{"roles", check.OneOf(roleChoice{}, "Role"), []string{RoleMember, RoleAdmin}},
		} {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("%s: the tag allows %q, the constants are %q", c.name, c.got, c.want)
			}
		}
	})
	t.Run("limits", func(t *testing.T) {
		for _, c := range []struct {
			v           any
			field, name string
			want        int
		}{
			{Details{}, "Name", "max", MaxNameLen},
			{Details{}, "Email", "max", MaxEmailLen},
			{Details{}, "Password", "min", MinPasswordLen},
			{Details{}, "Password", "max", MaxPasswordLen},
			{Details{}, "Statement", "max", MaxStatementLen},
			{ProposalInput{}, "Title", "max", MaxProposalTitleLen},
			{OptionInput{}, "Label", "max", MaxOptionLen},
			{OptionInput{}, "Statement", "max", MaxCandidateStatementLen},
			{ProposalInput{}, "Body", "max", MaxProposalBodyLen},
			{commentInput{}, "Body", "max", MaxCommentLen},
			{reasonInput{}, "Reason", "max", MaxReasonLen},
			{InvitationInput{}, "Note", "max", MaxNoteLen},
			{InvitationInput{}, "Name", "max", MaxNameLen},
			{InvitationInput{}, "Email", "max", MaxEmailLen},
		} {
			if got := tagParam(t, c.v, c.field, c.name); got != strconv.Itoa(c.want) {
				t.Errorf("%T.%s: %s=%s in the tag, %d in the constant", c.v, c.field, c.name, got, c.want)
			}
		}
		if got, want := tagParam(t, RuleInput{}, "MinMinutes", "intrange"), "1 "+strconv.Itoa(int(MaxPeriod/time.Minute)); got != want {
			t.Errorf("a rule's minimum period is %q in the tag; the longest vote is %q minutes", got, want)
		}
	})
}

// proposal is the whole of what Propose checks before it touches the
// database: a form becomes a proposal, or messages.
func TestProposalInputMakesAProposal(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rule := Rule{Kind: KindEndorseDemand, MinMinutes: 60}
	t.Run("a form to endorse a demand later", func(t *testing.T) {
		in := ProposalInput{Kind: KindEndorseDemand, Title: "  Endorse it  ", Body: "Why:\r\nbecause.\r\n", DemandID: " #12 ",
			Opens: "later", OpensAt: "2026-03-02T09:30", Days: "1", Hours: "2", Minutes: "3"}
		p, v := in.proposal(now, rule)
		if len(v) > 0 {
			t.Fatalf("refused: %v", v)
		}
		opens := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
		if p.Kind != KindEndorseDemand || p.Title != "Endorse it" || p.Body != "Why:\nbecause." || p.DemandID == nil || *p.DemandID != 12 ||
			p.ResourceID != nil || !p.CreatedAt.Equal(now) || !p.OpensAt.Equal(opens) || !p.ClosesAt.Equal(opens.Add(26*time.Hour+3*time.Minute)) {
			t.Errorf("got %+v", p)
		}
	})
	t.Run("a new demand is kept as the library keeps it", func(t *testing.T) {
		in := ProposalInput{Kind: KindAdoptDemand, Title: "Adopt", NewTitle: " Relief ", NewBody: "Extend relief\r\nto co-ops. ",
			NewAudience: " National Government ", Opens: "now", Days: "7"}
		p, v := in.proposal(now, Rule{Kind: KindAdoptDemand})
		if len(v) > 0 {
			t.Fatalf("refused: %v", v)
		}
		if *p.NewTitle != "Relief" || *p.NewBody != "Extend relief\nto co-ops." || *p.NewAudience != "national government" ||
			!p.OpensAt.Equal(now) || !p.ClosesAt.Equal(now.Add(7*24*time.Hour)) {
			t.Errorf("got %q %q %q, opens %v closes %v", *p.NewTitle, *p.NewBody, *p.NewAudience, p.OpensAt, p.ClosesAt)
		}
	})
	t.Run("the tags and the checks across fields speak together", func(t *testing.T) {
		in := ProposalInput{Kind: KindEndorseDemand, Title: "One\nTwo", Body: "a\x00b", DemandID: "x", Opens: "soon", Minutes: "30"}
		_, v := in.proposal(now, rule)
		want := ValidationError{
			"title":     "The title contains invalid characters.",
			"body":      "The text contains invalid characters.",
			"demand_id": "Enter its number, as shown on its page.",
			"opens":     "Choose now or later.",
			"days":      "Voting must last at least 1 hour for this kind of proposal.",
		}
		if !reflect.DeepEqual(v, want) {
			t.Errorf("got %v\nwant %v", v, want)
		}
	})
	t.Run("an unknown kind has no rule and no minimum", func(t *testing.T) {
		_, v := ProposalInput{Kind: "referendum", Title: "T", Opens: "now", Minutes: "1"}.proposal(now, Rule{})
		if want := (ValidationError{"kind": "Choose what kind of proposal this is."}); !reflect.DeepEqual(v, want) {
			t.Errorf("got %v, want %v", v, want)
		}
	})
}
