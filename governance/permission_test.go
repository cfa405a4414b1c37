package governance_test

import (
	"fmt"
	"testing"

	"plenary/governance"
)

// The page draws a form exactly when the action behind it would be let
// through; TestWithdrawAndCancel and TestComments check that the actions
// refuse the rest.
func TestWhoMayCommentWithdrawAndCancel(t *testing.T) {
	author := &governance.Member{ID: 1, Role: governance.RoleMember, Status: governance.StatusActive}
	member := &governance.Member{ID: 2, Role: governance.RoleMember, Status: governance.StatusActive}
	admin := &governance.Member{ID: 3, Role: governance.RoleAdmin, Status: governance.StatusActive}
	suspended := &governance.Member{ID: 4, Role: governance.RoleMember, Status: governance.StatusSuspended}
	suspendedAdmin := &governance.Member{ID: 5, Role: governance.RoleAdmin, Status: governance.StatusSuspended}
	suspendedAuthor := &governance.Member{ID: 1, Role: governance.RoleMember, Status: governance.StatusSuspended}
	viewers := []struct {
		name string
		m    *governance.Member
	}{{"the public", nil}, {"the author", author}, {"another member", member}, {"an admin", admin},
		{"a suspended member", suspended}, {"a suspended admin", suspendedAdmin}, {"the author, suspended since", suspendedAuthor}}

	type may struct{ comment, withdraw, cancel bool }
	want := map[string]map[string]may{
		governance.ProposalDiscussion: {
			"the author": {true, true, false}, "another member": {true, false, false}, "an admin": {true, false, true},
			// Withdraw asks only who wrote the proposal; the server's
			// members-only routes are what keep a suspended author out.
			"the author, suspended since": {false, true, false},
		},
		governance.ProposalVoting:    {"the author": {true, false, false}, "another member": {true, false, false}, "an admin": {true, false, false}},
		governance.ProposalClosed:    {},
		governance.ProposalWithdrawn: {},
		governance.ProposalCancelled: {},
	}
	for status, byViewer := range want {
		p := governance.Proposal{ID: 7, AuthorID: author.ID, Status: status}
		for _, v := range viewers {
			t.Run(fmt.Sprintf("%s, %s", status, v.name), func(t *testing.T) {
				w := byViewer[v.name]
				got := may{p.CanComment(v.m), p.CanWithdraw(v.m), p.CanCancel(v.m)}
				if got != w {
					t.Errorf("may comment, withdraw, cancel = %+v, want %+v", got, w)
				}
			})
		}
	}
}
