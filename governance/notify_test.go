package governance_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/governance"
	"plenary/internal/db"
	"plenary/internal/db/dbtest"
	"plenary/internal/outbox"
)

// notice is one row of the outbox as a test reads it.
type notice struct {
	ID        int64   `db:"id"`
	Kind      string  `db:"kind"`
	Event     string  `db:"event"`
	MemberID  *int64  `db:"member_id"`
	Address   *string `db:"address"`
	Payload   string  `db:"payload"`
	Status    string  `db:"status"`
	MessageID string  `db:"message_id"`
}

// outboxOf lists the outbox's rows of kind, by member.
func (e *env) outboxOf(t *testing.T, kind string) []notice {
	t.Helper()
	var ns []notice
	if err := e.d.R.SelectContext(e.ctx, &ns, `SELECT id, kind, event, member_id, address, payload, status, message_id
		FROM notifications WHERE kind = ? ORDER BY member_id, id`, kind); err != nil {
		t.Fatal(err)
	}
	return ns
}

// recipients are the members the rows are for, with their statuses.
func recipients(ns []notice) []string {
	var out []string
	for _, n := range ns {
		out = append(out, fmt.Sprintf("%d:%s", *n.MemberID, n.Status))
	}
	return out
}

func want(ms []governance.Member, status string) []string {
	var out []string
	for _, m := range ms {
		out = append(out, fmt.Sprintf("%d:%s", m.ID, status))
	}
	return out
}

// prefer sets m's mode for kind, through the account page's form.
func (e *env) prefer(t *testing.T, m governance.Member, kind, mode string) {
	t.Helper()
	in := governance.PreferencesInput{VotingOpened: "at_once", ClosingSoon: "at_once", Result: "at_once", Application: "at_once", DigestHour: "8"}
	p, err := e.s.Preferences(e.ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	in.VotingOpened, in.ClosingSoon, in.Result = p.Mode(outbox.VotingOpened), p.Mode(outbox.ClosingSoon), p.Mode(outbox.Result)
	in.Application = p.Mode(outbox.Application)
	switch kind {
	case outbox.VotingOpened:
		in.VotingOpened = mode
	case outbox.ClosingSoon:
		in.ClosingSoon = mode
	case outbox.Result:
		in.Result = mode
	case outbox.Application:
		in.Application = mode
	}
	if err := e.s.SetPreferences(e.ctx, m.ID, in); err != nil {
		t.Fatalf("set %s to %s for member %d: %v", kind, mode, m.ID, err)
	}
}

func TestBallotsQueueTheirMessages(t *testing.T) {
	c := newCoop(t)
	ms := c.quickMembers(t, 5)
	roll := append([]governance.Member{c.admin}, ms...)
	c.prefer(t, ms[0], outbox.VotingOpened, outbox.Never)
	c.prefer(t, ms[1], outbox.VotingOpened, outbox.InDigest)
	c.prefer(t, ms[2], outbox.Result, outbox.Never)
	p := c.propose(t, ms[3], motion("Adopt the charter"))

	t.Run("voting opened: everyone on the roll, as each chose", func(t *testing.T) {
		got := c.outboxOf(t, outbox.VotingOpened)
		wantRows := []string{fmt.Sprintf("%d:queued", c.admin.ID), fmt.Sprintf("%d:digest", ms[1].ID)}
		wantRows = append(wantRows, want(ms[2:], "queued")...)
		if !slices.Equal(recipients(got), wantRows) {
			t.Fatalf("voting_opened to %v, want %v (member %d chose never)", recipients(got), wantRows, ms[0].ID)
		}
		for _, n := range got {
			if n.Event != strconv.FormatInt(p.ID, 10) || n.MessageID != fmt.Sprintf("<voting_opened.%d.%d@plenary>", p.ID, *n.MemberID) {
				t.Errorf("row %+v: event or Message-ID", n)
			}
			var b outbox.Ballot
			if err := json.Unmarshal([]byte(n.Payload), &b); err != nil || b.Proposal != p.ID || b.Title != "Adopt the charter" ||
				!b.ClosesAt.Equal(p.ClosesAt) || !b.Secret || b.Outcome != "" {
				t.Errorf("payload %s (%v)", n.Payload, err)
			}
		}
	})

	c.vote(t, ms[3], p, governance.ChoiceYes)
	c.vote(t, ms[4], p, governance.ChoiceNo)
	if err := c.s.MarkLeft(c.ctx, c.admin, ms[4].ID); err != nil {
		t.Fatal(err)
	}
	c.finish(t, p)

	t.Run("result: everyone on the roll still a member, with the tally", func(t *testing.T) {
		got := c.outboxOf(t, outbox.Result)
		wantRows := want([]governance.Member{c.admin, ms[0], ms[1], ms[3]}, "queued")
		if !slices.Equal(recipients(got), wantRows) {
			t.Fatalf("result to %v, want %v (member %d chose never, %d has left)", recipients(got), wantRows, ms[2].ID, ms[4].ID)
		}
		var b outbox.Ballot
		if err := json.Unmarshal([]byte(got[0].Payload), &b); err != nil || b.Outcome != governance.OutcomeDefeated ||
			b.Yes != 1 || b.No != 1 || b.Turnout != 2 || b.RollSize != len(roll) || !b.QuorumMet {
			t.Errorf("payload %s (%v)", got[0].Payload, err)
		}
	})

	t.Run("reading the ballot again queues nothing more", func(t *testing.T) {
		before := c.count(t, `SELECT count(*) FROM notifications`)
		c.proposal(t, p.ID)
		if err := c.s.Advance(c.ctx); err != nil {
			t.Fatal(err)
		}
		if after := c.count(t, `SELECT count(*) FROM notifications`); after != before {
			t.Errorf("%d rows, then %d", before, after)
		}
	})
}

// An event that rolls back takes its messages with it.
func TestARolledBackEventQueuesNothing(t *testing.T) {
	c := newCoop(t)
	author := c.quickMembers(t, 2)[0]
	d := c.demand(t, author, "Open procurement")
	p := c.propose(t, author, governance.ProposalInput{Kind: governance.KindEndorseDemand, Title: "Endorse", DemandID: fmt.Sprint(d.ID), Opens: "now", Days: "7"})
	c.vote(t, author, p, governance.ChoiceYes)
	if c.d.IsPostgres() {
		tamperDB(t, c.d, `CREATE FUNCTION test_no_endorse() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN RAISE EXCEPTION 'test: endorsement refused'; END $$;
			CREATE TRIGGER test_no_endorse BEFORE UPDATE OF status ON demands FOR EACH ROW
			WHEN (NEW.status = 'endorsed') EXECUTE FUNCTION test_no_endorse();`)
	} else {
		tamperDB(t, c.d, `CREATE TRIGGER test_no_endorse BEFORE UPDATE OF status ON demands WHEN NEW.status = 'endorsed'
			BEGIN SELECT RAISE(ABORT, 'test: endorsement refused'); END;`)
	}
	c.until(p.ClosesAt)
	if err := c.s.Advance(c.ctx); err == nil {
		t.Fatal("the close went through with its effect refused")
	}
	if n := len(c.outboxOf(t, outbox.Result)); n != 0 {
		t.Errorf("%d result messages queued by a close that rolled back", n)
	}

	// An application refused (an email already in use) tells no admin.
	if _, err := c.s.Apply(c.ctx, details(0)); err == nil {
		t.Fatal("a second account with the admin's email")
	}
	if n := len(c.outboxOf(t, outbox.Application)); n != 0 {
		t.Errorf("%d application notices for an application refused", n)
	}
}

func TestMembershipQueuesItsMessages(t *testing.T) {
	e := newEnv(t)
	a1 := e.admin(t, 0)
	a2 := e.admin(t, 1)
	plain := e.member(t, 2, governance.StatusActive, a1)
	suspended := e.member(t, 3, governance.StatusActive, a1)
	if err := e.s.SetRole(e.ctx, a1, suspended.ID, governance.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Suspend(e.ctx, a1, suspended.ID, ""); err != nil {
		t.Fatal(err)
	}
	e.prefer(t, a2, outbox.Application, outbox.InDigest)

	jo := e.member(t, 4, governance.StatusApplicant, a1)
	al := e.member(t, 5, governance.StatusApplicant, a1)

	t.Run("an application: every active admin, as each chose", func(t *testing.T) {
		got := e.outboxOf(t, outbox.Application)
		wantRows := []string{fmt.Sprintf("%d:queued", a1.ID), fmt.Sprintf("%d:digest", a2.ID),
			fmt.Sprintf("%d:queued", a1.ID), fmt.Sprintf("%d:digest", a2.ID)}
		slices.Sort(wantRows)
		gotRows := recipients(got)
		slices.Sort(gotRows)
		if !slices.Equal(gotRows, wantRows) {
			t.Fatalf("application notices to %v, want %v (not member %d, not suspended admin %d)", gotRows, wantRows, plain.ID, suspended.ID)
		}
		var a outbox.NewApplication
		if err := json.Unmarshal([]byte(got[0].Payload), &a); err != nil || (a.Applicant != jo.ID && a.Applicant != al.ID) || a.Name == "" {
			t.Errorf("payload %s (%v)", got[0].Payload, err)
		}
	})

	t.Run("a decision: the applicant alone, whatever they chose", func(t *testing.T) {
		if err := e.s.Approve(e.ctx, a1, jo.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.s.Reject(e.ctx, a1, al.ID, "We admit people who work in the sector."); err != nil {
			t.Fatal(err)
		}
		got := e.outboxOf(t, outbox.Decision)
		if !slices.Equal(recipients(got), want([]governance.Member{jo, al}, "queued")) {
			t.Fatalf("decisions to %v", recipients(got))
		}
		var yes, no outbox.ApplicationDecision
		json.Unmarshal([]byte(got[0].Payload), &yes)
		json.Unmarshal([]byte(got[1].Payload), &no)
		if !yes.Approved || no.Approved || no.Reason != "We admit people who work in the sector." {
			t.Errorf("payloads %s, %s", got[0].Payload, got[1].Payload)
		}
	})

	t.Run("erasing a member takes their data out of the queue", func(t *testing.T) {
		bo := e.member(t, 6, governance.StatusApplicant, a1)
		if err := e.s.Erase(e.ctx, a1, bo.ID, true); err != nil {
			t.Fatal(err)
		}
		for _, n := range e.outboxOf(t, outbox.Application) {
			if n.Event == strconv.FormatInt(bo.ID, 10) && (n.Payload != "{}" || n.Status != "dropped") {
				t.Errorf("after erasure: %+v", n)
			}
		}
	})
}

func TestResetLinksGoThroughTheOutbox(t *testing.T) {
	e := newEnv(t)
	a := e.admin(t, 0)
	m := e.member(t, 1, governance.StatusActive, a)

	if _, err := e.s.RequestReset(e.ctx, "nobody@example.org", "192.0.2.1", true); err != nil {
		t.Fatal(err)
	}
	if n := e.count(t, `SELECT count(*) FROM notifications`); n != 0 {
		t.Errorf("%d messages for an address no account uses", n)
	}
	first, err := e.s.RequestReset(e.ctx, m.EmailAddress(), "192.0.2.1", true)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.s.RequestReset(e.ctx, m.EmailAddress(), "192.0.2.1", true)
	if err != nil {
		t.Fatal(err)
	}
	got := e.outboxOf(t, outbox.PasswordReset)
	if !slices.Equal(recipients(got), []string{fmt.Sprintf("%d:dropped", m.ID), fmt.Sprintf("%d:queued", m.ID)}) {
		t.Fatalf("reset emails %v: want the first dropped (its link revoked), the second queued", recipients(got))
	}
	var l outbox.Link
	if err := json.Unmarshal([]byte(got[1].Payload), &l); err != nil || l.Token != second.Token || got[0].Payload != "{}" || first.Token == second.Token {
		t.Errorf("payloads %s, %s", got[0].Payload, got[1].Payload)
	}

	// Without mail, admins pass links on: nothing is queued.
	if _, err := e.s.RequestReset(e.ctx, m.EmailAddress(), "192.0.2.2", false); err != nil {
		t.Fatal(err)
	}
	if n := len(e.outboxOf(t, outbox.PasswordReset)); n != 2 {
		t.Errorf("%d reset emails after a request without mail, want still 2", n)
	}
}

func TestQueueInvitation(t *testing.T) {
	e := newEnv(t)
	a := e.admin(t, 0)
	inv, token, err := e.s.Invite(e.ctx, a, "for Jo", 0)
	if err != nil {
		t.Fatal(err)
	}
	err = e.d.WithTx(e.ctx, func(tx *sqlx.Tx) error {
		return e.s.QueueInvitation(e.ctx, tx, inv.ID, "jo@example.org", "Jo Bloggs", token, inv.ExpiresAt)
	})
	if err != nil {
		t.Fatal(err)
	}
	got := e.outboxOf(t, outbox.Invitation)
	if len(got) != 1 || got[0].MemberID != nil || *got[0].Address != "jo@example.org" || got[0].Status != "queued" ||
		got[0].MessageID != fmt.Sprintf("<invitation.%d.0@plenary>", inv.ID) || !strings.Contains(got[0].Payload, token) {
		t.Fatalf("invitation rows %+v", got)
	}
	// The same invitation cannot be queued twice.
	err = e.d.WithTx(e.ctx, func(tx *sqlx.Tx) error {
		return e.s.QueueInvitation(e.ctx, tx, inv.ID, "jo@example.org", "Jo Bloggs", token, inv.ExpiresAt)
	})
	if err == nil {
		t.Error("an invitation queued twice")
	}
}

func TestClosingSoonReminders(t *testing.T) {
	c := newCoop(t)
	ms := c.quickMembers(t, 4)
	p := c.propose(t, ms[0], motion("Adopt the charter")) // 7 days; motions remind 24 hours before
	c.vote(t, ms[0], p, governance.ChoiceYes)
	c.vote(t, ms[1], p, governance.ChoiceNo)
	if err := c.s.Suspend(c.ctx, c.admin, ms[3].ID, ""); err != nil {
		t.Fatal(err) // suspended members stay on the roll, and are reminded
	}
	c.prefer(t, ms[2], outbox.ClosingSoon, outbox.InDigest)

	advance := func(t *testing.T) {
		t.Helper()
		if err := c.s.Advance(c.ctx); err != nil {
			t.Fatal(err)
		}
	}
	c.until(p.ClosesAt.Add(-24*time.Hour - time.Minute))
	advance(t)
	if n := len(c.outboxOf(t, outbox.ClosingSoon)); n != 0 {
		t.Fatalf("%d reminders 24 hours and a minute before close", n)
	}

	c.until(p.ClosesAt.Add(-24 * time.Hour))
	advance(t)
	got := c.outboxOf(t, outbox.ClosingSoon)
	wantRows := []string{fmt.Sprintf("%d:queued", c.admin.ID), fmt.Sprintf("%d:digest", ms[2].ID), fmt.Sprintf("%d:queued", ms[3].ID)}
	if !slices.Equal(recipients(got), wantRows) {
		t.Fatalf("reminders to %v, want %v: those who have not voted", recipients(got), wantRows)
	}
	if got[0].MessageID != fmt.Sprintf("<closing_soon.%d.%d@plenary>", p.ID, c.admin.ID) {
		t.Errorf("Message-ID %s", got[0].MessageID)
	}

	// Whoever votes now is reminded no more, and nobody is reminded twice.
	c.vote(t, c.admin, p, governance.ChoiceYes)
	c.until(p.ClosesAt.Add(-time.Hour))
	advance(t)
	if n := len(c.outboxOf(t, outbox.ClosingSoon)); n != 3 {
		t.Errorf("%d reminders after another Advance, want still 3", n)
	}
	if n := c.count(t, `SELECT count(*) FROM reminders WHERE proposal_id = ?`, p.ID); n != 1 {
		t.Errorf("%d reminders rows", n)
	}

	t.Run("none for a ballot no longer than the kind's hours, nor when the hours are 0", func(t *testing.T) {
		// A vote in a general meeting may be short; one of 24 hours would
		// be reminded as it opens.
		if err := c.s.SetRule(c.ctx, c.admin, governance.RuleInput{Kind: governance.KindMotion, QuorumPct: "25", Threshold: "majority",
			MinMinutes: "1", Secret: true}); err != nil {
			t.Fatal(err)
		}
		short := c.propose(t, ms[0], governance.ProposalInput{Kind: governance.KindMotion, Title: "Short", Opens: "now", Hours: "24"})
		if err := c.s.SetRule(c.ctx, c.admin, governance.RuleInput{Kind: governance.KindEndorseResource, QuorumPct: "10", Threshold: "majority",
			MinMinutes: "4320", ReminderHours: "0"}); err != nil {
			t.Fatal(err)
		}
		r := c.resource(t, "A toolkit")
		off := c.propose(t, ms[0], governance.ProposalInput{Kind: governance.KindEndorseResource, Title: "Endorse", ResourceID: fmt.Sprint(r.ID), Opens: "now", Days: "3"})
		c.until(short.ClosesAt.Add(-time.Minute))
		advance(t)
		c.until(off.ClosesAt.Add(-time.Minute))
		advance(t)
		for _, n := range c.outboxOf(t, outbox.ClosingSoon) {
			if n.Event != strconv.FormatInt(p.ID, 10) {
				t.Errorf("a reminder for proposal %s", n.Event)
			}
		}
	})
}

// Two processes on one database reaching the reminder's time together
// queue it once.
func TestReminderIsExactlyOnce(t *testing.T) {
	c := newCoop(t)
	ms := c.quickMembers(t, 6)
	p := c.propose(t, ms[0], motion("Adopt the charter"))
	c.vote(t, ms[0], p, governance.ChoiceYes)
	d2, err := db.Open(c.ctx, c.d.Path, dbtest.Schema(t), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d2.Close() })
	services := []*governance.Service{c.s, governance.New(d2, c.clock.Now)}
	c.until(p.ClosesAt.Add(-23 * time.Hour))
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, 10)
	for i := range 10 {
		wg.Go(func() {
			<-start
			errs <- services[i%2].Advance(c.ctx)
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("advance: %v", err)
		}
	}
	// Everyone but the one who voted: the admin and five members.
	if got := c.outboxOf(t, outbox.ClosingSoon); len(got) != 6 {
		t.Errorf("%d reminders, want 6: %v", len(got), recipients(got))
	}
}
