package governance_test

import (
	"testing"

	"plenary/governance"
)

// TestSetChoiceRule: an admin sets which methods a kind of choice may use,
// the default first, and choose_resources' approval threshold; the change
// goes on the ledger, and bad input changes nothing.
func TestSetChoiceRule(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(t, 0)
	rule := func(kind string, methods []string, pct string) governance.RuleInput {
		return governance.RuleInput{Kind: kind, QuorumPct: "10", Threshold: "majority", MinMinutes: "60", Methods: methods, ApprovalPct: pct}
	}

	t.Run("bad input changes nothing", func(t *testing.T) {
		before := e.dump(t)
		for _, tt := range []struct {
			in    governance.RuleInput
			field string
		}{
			{rule(governance.KindPoll, nil, ""), "methods"},
			{rule(governance.KindPoll, []string{}, ""), "methods"},
			{rule(governance.KindPoll, []string{"borda"}, ""), "methods"},
			{rule(governance.KindPoll, []string{"approval", "' OR 1=1--"}, ""), "methods"},
			{rule(governance.KindPoll, []string{"approval", "approval"}, ""), "methods"},
			{rule(governance.KindPoll, []string{"stv"}, ""), "methods"},
			{rule(governance.KindChoose, []string{"schulze"}, ""), "methods"},
			{rule(governance.KindMotion, []string{"approval"}, ""), "methods"},
			{rule(governance.KindChoose, []string{"approval"}, "0"), "approval_pct"},
			{rule(governance.KindChoose, []string{"approval"}, "100"), "approval_pct"},
			{rule(governance.KindChoose, []string{"approval"}, "abc"), "approval_pct"},
			{rule(governance.KindChoose, []string{"approval"}, "-5"), "approval_pct"},
			{rule(governance.KindPoll, []string{"approval"}, "50"), "approval_pct"},
		} {
			wantValidation(t, e.s.SetRule(e.ctx, admin, tt.in), tt.field, "")
		}
		if after := e.dump(t); after != before {
			t.Error("a refused rule change changed the database")
		}
	})

	t.Run("methods and threshold are stored and on the ledger", func(t *testing.T) {
		if err := e.s.SetRule(e.ctx, admin, rule(governance.KindPoll, []string{"schulze", "approval"}, "")); err != nil {
			t.Fatal(err)
		}
		f := e.lastEntry(t).Fields()
		if f["kind"] != governance.KindPoll || f["methods"] != "schulze,approval" || f["approval_pct"] != nil {
			t.Errorf("ledger entry %v, want poll's methods schulze,approval and no threshold", f)
		}
		if err := e.s.SetRule(e.ctx, admin, rule(governance.KindChoose, []string{"approval"}, " 66 ")); err != nil {
			t.Fatal(err)
		}
		if f := e.lastEntry(t).Fields(); f["approval_pct"] != float64(66) || f["methods"] != "approval" {
			t.Errorf("ledger entry %v, want choose_resources at 66%%", f)
		}
		// Left empty, the threshold stays as it is.
		if err := e.s.SetRule(e.ctx, admin, rule(governance.KindChoose, []string{"approval"}, "")); err != nil {
			t.Fatal(err)
		}
		rules, err := e.s.Rules(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rules {
			switch r.Kind {
			case governance.KindPoll:
				if got := r.AllowedMethods(); len(got) != 2 || got[0] != "schulze" || got[1] != "approval" {
					t.Errorf("poll methods = %v, want [schulze approval], schulze the default", got)
				}
			case governance.KindChoose:
				if r.ApprovalPct != 66 {
					t.Errorf("choose_resources approval_pct = %d, want 66 kept", r.ApprovalPct)
				}
			case governance.KindMotion:
				if r.Methods != "" {
					t.Errorf("motion methods = %q, want none", r.Methods)
				}
			}
		}
	})
}
