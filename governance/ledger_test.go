package governance_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"plenary/governance"
	"plenary/internal/ledger"
)

// chain builds a ledger through real actions: founding (1), an admission
// (2), a suspension (3), a reinstatement (4), an invitation (5) and its
// revocation (6).
func chain(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	admin := e.admin(t, 0)
	m := e.member(t, 1, governance.StatusApplicant, admin)
	steps := []func() error{
		func() error { return e.s.Approve(e.ctx, admin, m.ID) },
		func() error { return e.s.Suspend(e.ctx, admin, m.ID, "Pending an inquiry.") },
		func() error { return e.s.Reinstate(e.ctx, admin, m.ID) },
		func() error {
			inv, _, err := e.s.Invite(e.ctx, admin, "", 0)
			if err != nil {
				return err
			}
			e.clock.Advance(time.Minute)
			return e.s.RevokeInvitation(e.ctx, admin, inv.ID)
		},
	}
	for _, step := range steps {
		e.clock.Advance(time.Minute)
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.entries(t)); n != 6 {
		t.Fatalf("the chain has %d entries, want 6", n)
	}
	return e
}

func TestVerifyLedger(t *testing.T) {
	t.Run("a chain built through real actions verifies", func(t *testing.T) {
		e := chain(t)
		n, head, err := e.s.VerifyLedger(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		entries := e.entries(t)
		if n != int64(len(entries)) {
			t.Errorf("verified %d entries, want %d", n, len(entries))
		}
		if head != entries[len(entries)-1].Hash {
			t.Errorf("head %s, want the last entry's hash %s", head, entries[len(entries)-1].Hash)
		}
		prev := strings.Repeat("0", 64)
		for _, entry := range entries {
			if entry.PrevHash != prev {
				t.Errorf("entry %d prev_hash %s, want %s", entry.Seq, entry.PrevHash, prev)
			}
			prev = entry.Hash
		}
		e.checkAnonymous(t, details(0), details(1))
	})

	t.Run("an empty ledger verifies", func(t *testing.T) {
		e := newEnv(t)
		n, head, err := e.s.VerifyLedger(e.ctx)
		if err != nil || n != 0 || head != strings.Repeat("0", 64) {
			t.Errorf("VerifyLedger = %d, %q, %v; want 0 entries at the genesis hash", n, head, err)
		}
	})

	tampering := []struct {
		name    string
		script  string
		wantSeq int64
	}{
		{
			"an edited body is caught at that entry",
			`DROP TRIGGER ledger_no_update; UPDATE ledger SET body = replace(body, '"by":', '"by":9') WHERE seq = 3;`,
			3,
		},
		{
			"an edited time is caught at that entry",
			`DROP TRIGGER ledger_no_update; UPDATE ledger SET at = '2020-01-01T00:00:00Z' WHERE seq = 4;`,
			4,
		},
		{
			"an edited hash is caught at that entry",
			`DROP TRIGGER ledger_no_update; UPDATE ledger SET hash = 'x' || substr(hash, 2) WHERE seq = 5;`,
			5,
		},
		{
			"an entry deleted from the middle is caught where it is missing",
			`DROP TRIGGER ledger_no_delete; DELETE FROM ledger WHERE seq = 3;`,
			3,
		},
		{
			"a deleted entry whose successors were renumbered is caught where the chain breaks",
			`DROP TRIGGER ledger_no_delete; DROP TRIGGER ledger_no_update;
			 DELETE FROM ledger WHERE seq = 3;
			 UPDATE ledger SET seq = -(seq - 1) WHERE seq > 3;
			 UPDATE ledger SET seq = -seq WHERE seq < 0;`,
			3,
		},
		{
			"two entries with their contents swapped are caught at the first",
			// Moving each row to the other's number swaps everything but seq.
			`DROP TRIGGER ledger_no_update;
			 UPDATE ledger SET seq = -seq WHERE seq IN (2, 3);
			 UPDATE ledger SET seq = 5 + seq WHERE seq IN (-2, -3);`,
			2,
		},
	}
	for _, tt := range tampering {
		t.Run(tt.name, func(t *testing.T) {
			e := chain(t)
			if _, _, err := e.s.VerifyLedger(e.ctx); err != nil {
				t.Fatalf("before tampering: %v", err)
			}
			tamperDB(t, e.d, tt.script)
			_, _, err := e.s.VerifyLedger(e.ctx)
			var ce *governance.ChainError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *ChainError", err)
			}
			if ce.Seq != tt.wantSeq {
				t.Errorf("ChainError names entry %d (%v), want %d", ce.Seq, ce, tt.wantSeq)
			}
			if want := fmt.Sprintf("ledger entry %d", tt.wantSeq); !strings.Contains(err.Error(), want) {
				t.Errorf("message %q does not name %q", err, want)
			}
		})
	}
}

func TestLedgerIsAppendOnly(t *testing.T) {
	e := chain(t)
	refused := []struct{ name, query string }{
		{"an entry's body cannot be updated", `UPDATE ledger SET body = '{"by":99,"member":2}' WHERE seq = 3`},
		{"every entry cannot be updated at once", `UPDATE ledger SET kind = 'member.left'`},
		{"an entry cannot be deleted", `DELETE FROM ledger WHERE seq = 3`},
		{"the ledger cannot be emptied", `DELETE FROM ledger`},
		{"an entry cannot be replaced by INSERT OR REPLACE", `INSERT OR REPLACE INTO ledger (seq, at, kind, body, prev_hash, hash)
			SELECT seq, at, kind, '{"by":99,"member":2}', prev_hash, hash FROM ledger WHERE seq = 3`},
		{"an entry cannot be pushed out by REPLACE on its hash", `REPLACE INTO ledger (seq, at, kind, body, prev_hash, hash)
			SELECT seq + 1, at, kind, body, prev_hash, hash FROM ledger WHERE seq = 6`},
		{"an entry cannot be changed by an upsert", `INSERT INTO ledger (seq, at, kind, body, prev_hash, hash)
			SELECT seq, at, kind, body, prev_hash, hash FROM ledger WHERE seq = 3 ON CONFLICT (seq) DO UPDATE SET body = '{}'`},
	}
	if e.d.IsPostgres() {
		// PostgreSQL has no REPLACE (its upsert is tried above), but it
		// has TRUNCATE, which skips row triggers.
		refused = slices.DeleteFunc(refused, func(r struct{ name, query string }) bool { return strings.Contains(r.query, "REPLACE") })
		refused = append(refused, struct{ name, query string }{"the ledger cannot be truncated", `TRUNCATE ledger`})
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			before := e.snapshot(t)
			_, err := e.d.W.ExecContext(e.ctx, tt.query)
			if err == nil || !strings.Contains(err.Error(), "plenary: the ledger is append-only") {
				t.Errorf("err = %v, want the append-only trigger", err)
			}
			if after := e.snapshot(t); after != before {
				t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
	t.Run("the chain still verifies after the refused changes", func(t *testing.T) {
		if _, _, err := e.s.VerifyLedger(e.ctx); err != nil {
			t.Error(err)
		}
	})
}

func TestLedgerPages(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(t, 0)
	const invitations = governance.LedgerPerPage + 10
	for range invitations {
		if _, _, err := e.s.Invite(e.ctx, admin, "", 0); err != nil {
			t.Fatal(err)
		}
	}
	const total = invitations + 1 // and the founding

	tests := []struct {
		name           string
		page           int
		wantLen        int
		wantFirst      int64
		wantLastOnPage int64
	}{
		{"the first page holds the newest entries, newest first", 1, governance.LedgerPerPage, total, total - governance.LedgerPerPage + 1},
		{"a page number below one means the first page", 0, governance.LedgerPerPage, total, total - governance.LedgerPerPage + 1},
		{"the second page holds the oldest, down to the founding", 2, total - governance.LedgerPerPage, total - governance.LedgerPerPage, 1},
		{"a page past the end is empty", 3, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, n, err := e.s.Ledger(e.ctx, tt.page)
			if err != nil {
				t.Fatal(err)
			}
			if n != total {
				t.Errorf("total = %d, want %d", n, total)
			}
			if len(es) != tt.wantLen {
				t.Fatalf("entries on page %d = %d, want %d", tt.page, len(es), tt.wantLen)
			}
			if len(es) == 0 {
				return
			}
			if es[0].Seq != tt.wantFirst || es[len(es)-1].Seq != tt.wantLastOnPage {
				t.Errorf("page %d runs from %d to %d, want %d to %d", tt.page, es[0].Seq, es[len(es)-1].Seq, tt.wantFirst, tt.wantLastOnPage)
			}
			for i := 1; i < len(es); i++ {
				if es[i].Seq != es[i-1].Seq-1 {
					t.Errorf("entry %d follows %d on the page", es[i].Seq, es[i-1].Seq)
				}
			}
		})
	}

	t.Run("the oldest entry is the founding and reads as such", func(t *testing.T) {
		es, _, err := e.s.Ledger(e.ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		first := es[len(es)-1]
		if first.Kind != governance.EventFounded {
			t.Fatalf("entry 1 kind = %q, want %q", first.Kind, governance.EventFounded)
		}
		if got, want := first.Summary(), fmt.Sprintf("member %d is its first admin", admin.ID); !strings.Contains(got, want) {
			t.Errorf("summary %q, want it to say %q", got, want)
		}
	})
}

// TestEntryPhrases: a summary cut into phrases loses no word, and links
// only the subjects its body numbers, each where the summary first names it.
func TestEntryPhrases(t *testing.T) {
	type link struct {
		text string
		sub  governance.Subject
	}
	tests := []struct {
		name  string
		entry governance.Entry
		want  []link
	}{
		{"a content digest names a resource and the proposal that endorsed it",
			governance.Entry{Kind: ledger.KindDigestRecorded, Body: `{"digest":"ab12","proposal":12,"resource":3}`},
			[]link{{"resource 3", governance.Subject{Kind: "resource", ID: 3}}, {"proposal 12", governance.Subject{Kind: "proposal", ID: 12}}}},
		{"a reason's words are not a subject, whatever they name",
			governance.Entry{Kind: governance.EventCancelled, Body: `{"by":1,"proposal":1,"reason":"İİ see proposal 12 and Proposal 1"}`},
			[]link{{"Proposal 1", governance.Subject{Kind: "proposal", ID: 1}}}},
		{"an id of a million is written whole, and linked",
			governance.Entry{Kind: governance.EventCancelled, Body: `{"by":1,"proposal":1000000,"reason":"Asked twice."}`},
			[]link{{"Proposal 1000000", governance.Subject{Kind: "proposal", ID: 1000000}}}},
		{"an entry about no proposal, demand or resource is plain words",
			governance.Entry{Kind: governance.EventAdmitted, Body: `{"by":1,"member":2}`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var whole strings.Builder
			var got []link
			for _, p := range tt.entry.Phrases() {
				whole.WriteString(p.Text)
				if p.Subject != nil {
					got = append(got, link{p.Text, *p.Subject})
				}
			}
			if whole.String() != tt.entry.Summary() {
				t.Errorf("the phrases read %q, the summary %q", whole.String(), tt.entry.Summary())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("links %v, want %v", got, tt.want)
			}
		})
	}
}
