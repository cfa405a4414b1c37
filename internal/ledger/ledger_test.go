package ledger

import (
	"encoding/json"
	"testing"
)

// Every typed body must marshal to the very bytes the map[string]any body
// it replaced did (encoding/json sorts a map's keys), or chains written
// before the bodies were typed would no longer verify.
func TestTypedBodiesMatchTheOldMaps(t *testing.T) {
	demand, resource := int64(4), int64(9)
	for _, c := range []struct {
		ev  Event
		old map[string]any
	}{
		{Founded{Member: 1}, map[string]any{"member": int64(1)}},
		{Admitted{Member: 2, By: 0}, map[string]any{"member": int64(2), "by": 0}},
		{Admitted{Member: 2, By: 1, Invitation: 3}, map[string]any{"member": int64(2), "by": int64(1), "invitation": int64(3)}},
		{MemberDecision{Event: KindSuspended, Member: 2, By: 1}, map[string]any{"member": int64(2), "by": int64(1)}},
		{RoleChanged{Member: 2, By: 0, Role: "admin"}, map[string]any{"member": int64(2), "by": 0, "role": "admin"}},
		{PasswordReset{Member: 5}, map[string]any{"member": int64(5)}},
		{InvitationCreated{Invitation: 3, By: 1, ExpiresAt: "2026-03-09T09:30:00Z"},
			map[string]any{"invitation": int64(3), "by": int64(1), "expires_at": "2026-03-09T09:30:00Z"}},
		{InvitationRevoked{Invitation: 3, By: 1}, map[string]any{"invitation": int64(3), "by": int64(1)}},
		{RulesChanged{ProposalKind: "motion", QuorumPct: 25, Threshold: "majority", MinMinutes: 60, Secret: true, By: 1},
			map[string]any{"kind": "motion", "quorum_pct": 25, "threshold": "majority", "min_minutes": 60, "secret": true, "by": int64(1)}},
		{Proposed{Proposal: 7, ProposalKind: "endorse_demand", By: 1, Demand: &demand, OpensAt: "a", ClosesAt: "b"},
			map[string]any{"proposal": int64(7), "kind": "endorse_demand", "by": int64(1), "demand": demand, "opens_at": "a", "closes_at": "b"}},
		{Proposed{Proposal: 7, ProposalKind: "motion", By: 1, OpensAt: "a", ClosesAt: "b"},
			map[string]any{"proposal": int64(7), "kind": "motion", "by": int64(1), "opens_at": "a", "closes_at": "b"}},
		{Withdrawn{Proposal: 7, By: 1}, map[string]any{"proposal": int64(7), "by": int64(1)}},
		{Cancelled{Proposal: 7, By: 1, Reason: "<b>no</b> & \"quotes\""},
			map[string]any{"proposal": int64(7), "by": int64(1), "reason": "<b>no</b> & \"quotes\""}},
		{BallotOpened{Proposal: 7, RollSize: 3, RollDigest: "d", QuorumPct: 10, Threshold: "two_thirds", Secret: false, ClosesAt: "c"},
			map[string]any{"proposal": int64(7), "roll_size": 3, "roll_digest": "d", "quorum_pct": 10, "threshold": "two_thirds", "secret": false, "closes_at": "c"}},
		{BallotClosed{Proposal: 7, Yes: 2, No: 1, Abstain: 0, Turnout: 3, RollSize: 4, QuorumMet: true, Outcome: "carried", BoxDigest: "x"},
			map[string]any{"proposal": int64(7), "yes": 2, "no": 1, "abstain": 0, "turnout": 3, "roll_size": 4, "quorum_met": true, "outcome": "carried", "box_digest": "x"}},
		{Effect{Proposal: 7, Demand: &demand, Effect: "demand rejected"}, map[string]any{"proposal": int64(7), "demand": demand, "effect": "demand rejected"}},
		{Effect{Proposal: 7, Resource: &resource, Effect: "nothing to change", Skipped: true},
			map[string]any{"proposal": int64(7), "resource": resource, "effect": "nothing to change"}},
	} {
		got, err := Body(c.ev)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(c.old)
		if got != string(want) {
			t.Errorf("%s: typed body %s, the old map gave %s", c.ev.Kind(), got, want)
		}
	}
}

// The new bodies are canonical too: their fields are in key order.
func TestNewBodiesAreCanonical(t *testing.T) {
	id := int64(3)
	for _, ev := range []Event{
		Effect{Proposal: 7, Resource: &id, Effect: "resource amended", Digest: "abc"},
		ResourceStatus{Event: KindResourceHidden, Resource: 3, By: 1},
		ResourceEdited{Resource: 3, By: 1, Fields: []string{"title"}},
		DemandEdited{Demand: 3, By: 1, Fields: []string{"text"}},
		DigestRecorded{Demand: &id, Proposal: 7, Digest: "abc"},
		SettingChanged{By: 1, Setting: "time_zone", Value: "Europe/Paris"},
		InvitationCreated{Invitation: 3, By: 1, ExpiresAt: "2026-03-09T09:30:00Z", Role: "admin"},
	} {
		got, err := Body(ev)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(got), &m); err != nil {
			t.Fatal(err)
		}
		again, _ := json.Marshal(m)
		if got != string(again) {
			t.Errorf("%s: %s is not in canonical key order (%s)", ev.Kind(), got, again)
		}
	}
}
