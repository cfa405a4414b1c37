package governance_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"plenary/governance"
	"plenary/internal/db/dbtest"
	"plenary/internal/fakeclock"
)

// Issue 13: 10,000 invitations are queued in under 2 seconds. Each round
// invites 10,000 new addresses (the roster read, every row checked against
// the members and the open invitations, the invitations and their ledger
// entries written in one transaction); the roster is written outside the
// timing. The import of 10,000 members is the same shape, with their
// password links.
func BenchmarkInviteMany(b *testing.B) {
	benchRoster(b, func(s *governance.Service, admin governance.Member, text string) (int, error) {
		issued, err := s.InviteMany(context.Background(), admin, text, 0)
		return len(issued), err
	})
}

func BenchmarkImportMembers(b *testing.B) {
	benchRoster(b, func(s *governance.Service, admin governance.Member, text string) (int, error) {
		imported, err := s.ImportMembers(context.Background(), admin, text)
		return len(imported), err
	})
}

func benchRoster(b *testing.B, run func(*governance.Service, governance.Member, string) (int, error)) {
	const n = 10_000
	clock := fakeclock.New(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	s := governance.New(dbtest.Open(b), clock.Now)
	admin, err := s.AddMember(context.Background(), governance.Details{Name: "Ada Admin", Email: "ada@example.org", Password: "tulip orbit canvas 42"}, governance.RoleAdmin)
	if err != nil {
		b.Fatal(err)
	}
	round := 0
	for b.Loop() {
		b.StopTimer()
		round++
		var text strings.Builder
		text.WriteString("name,email\n")
		for i := range n {
			fmt.Fprintf(&text, "Person %d of round %d,person%d.round%d@example.org\n", i, round, i, round)
		}
		b.StartTimer()
		got, err := run(s, admin, text.String())
		if err != nil || got != n {
			b.Fatalf("%d of %d, %v", got, n, err)
		}
	}
}
