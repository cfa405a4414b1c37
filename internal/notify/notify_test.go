package notify_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/governance"
	"plenary/internal/db"
	"plenary/internal/db/dbtest"
	"plenary/internal/fakeclock"
	"plenary/internal/mail"
	"plenary/internal/mailpit"
	"plenary/internal/notify"
	"plenary/internal/outbox"
)

const base = "https://vote.example.coop"

// coop is a test's database, its governance, its clock and a real SMTP
// server.
type coop struct {
	ctx   context.Context
	d     *db.DB
	gov   *governance.Service
	clock *fakeclock.Clock
	mp    *mailpit.Server
	admin governance.Member
	n     int
}

func newCoop(t testing.TB, opt mailpit.Options) *coop {
	t.Helper()
	d := dbtest.Open(t)
	clock := fakeclock.New(time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC))
	c := &coop{ctx: context.Background(), d: d, gov: governance.New(d, clock.Now), clock: clock, mp: mailpit.Start(t, opt)}
	var err error
	c.admin, err = c.gov.AddMember(c.ctx, governance.Details{Name: "Ada Admin", Email: "ada@example.org", Password: "correct horse battery staple"}, governance.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// members adds active members straight into the table (no password
// worth hashing), at the addresses given.
func (c *coop) members(t *testing.T, emails ...string) []governance.Member {
	t.Helper()
	var ms []governance.Member
	err := c.d.WithTx(c.ctx, func(tx *sqlx.Tx) error {
		for _, e := range emails {
			c.n++
			id, err := db.InsertID(c.ctx, tx, `INSERT INTO members (name, email, password_hash, role, status, applied_at, joined_at)
				VALUES (?, ?, 'x', 'member', 'active', ?, ?)`, fmt.Sprintf("Member %d", c.n), e, c.clock.Now(), c.clock.Now())
			if err != nil {
				return err
			}
			ms = append(ms, governance.Member{ID: id, Email: &e})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func (c *coop) sender(t testing.TB, d *db.DB, tune ...func(*notify.Config)) *notify.Sender {
	t.Helper()
	key, err := c.gov.UnsubscribeKey(c.ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg := notify.Config{Name: "Riverside Co-op", BaseURL: base, Now: c.clock.Now,
		Mailer: mail.SMTP{Addr: c.mp.SMTPAddr, From: "plenary@example.coop", Name: "Riverside Co-op"},
		Idle:   20 * time.Millisecond, Standby: 50 * time.Millisecond}
	for _, f := range tune {
		f(&cfg)
	}
	s, err := notify.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), d, key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (c *coop) work(t *testing.T, s *notify.Sender) int {
	t.Helper()
	n, err := s.Work(c.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (c *coop) propose(t testing.TB, title string) governance.Proposal {
	t.Helper()
	p, err := c.gov.Propose(c.ctx, c.admin, governance.ProposalInput{Kind: governance.KindMotion, Title: title,
		Body: "That the co-op should.", Opens: "now", Days: "7"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// statuses counts the outbox's rows by status.
func (c *coop) statuses(t *testing.T) map[string]int {
	t.Helper()
	var rows []struct {
		Status string `db:"status"`
		N      int    `db:"n"`
	}
	if err := c.d.R.SelectContext(c.ctx, &rows, `SELECT status, count(*) AS n FROM notifications GROUP BY status`); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out
}

// each asserts that every Message-ID of kind in the outbox reached Mailpit
// exactly once.
func (c *coop) each(t *testing.T, kind string) {
	t.Helper()
	var ids []string
	if err := c.d.R.SelectContext(c.ctx, &ids, `SELECT message_id FROM notifications WHERE kind = ?`, kind); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if n := len(c.mp.ByMessageID(id)); n != 1 {
			t.Errorf("%s reached Mailpit %d times, want once", id, n)
		}
	}
}

func TestSenderDeliversWithHeadersAndBody(t *testing.T) {
	c := newCoop(t, mailpit.Options{})
	ms := c.members(t, "jo@example.org", "al@example.org")
	p := c.propose(t, "Adopt the <b>charter</b> & bylaws")
	s := c.sender(t, c.d)
	if n := c.work(t, s); n != 3 {
		t.Fatalf("dealt with %d, want 3", n)
	}
	c.mp.Wait(3, 5*time.Second)
	if st := c.statuses(t); st["sent"] != 3 || len(st) != 1 {
		t.Errorf("statuses %v, want 3 sent", st)
	}
	id := fmt.Sprintf("<voting_opened.%d.%d@plenary>", p.ID, ms[0].ID)
	found := c.mp.ByMessageID(id)
	if len(found) != 1 {
		t.Fatalf("%d messages with %s", len(found), id)
	}
	m := c.mp.Message(found[0].ID)
	if m.Subject != "Voting is open: Adopt the <b>charter</b> & bylaws" || m.To[0].Address != "jo@example.org" ||
		m.To[0].Name != "Member 1" || m.From.Name != "Riverside Co-op" {
		t.Errorf("message %+v", m.Summary)
	}
	link := fmt.Sprintf("%s/proposals/%d", base, p.ID)
	for _, part := range []string{m.Text, m.HTML} {
		for _, w := range []string{"Adopt the", link, "Monday 9 March 2026, 09:30 UTC", "Riverside Co-op", base + "/account"} {
			if !strings.Contains(part, w) {
				t.Errorf("a part lacks %q:\n%s", w, part)
			}
		}
	}
	if strings.Contains(m.HTML, "<b>charter</b>") || !strings.Contains(m.HTML, "&lt;b&gt;charter&lt;/b&gt;") {
		t.Errorf("the title's markup is not escaped in the HTML part:\n%s", m.HTML)
	}
	for _, banned := range []string{"<img", "<script", "utm_", "track"} {
		if strings.Contains(strings.ToLower(m.HTML), banned) {
			t.Errorf("the HTML holds %q", banned)
		}
	}
	if !strings.Contains(m.HTML, `<html lang="en">`) || !strings.Contains(m.HTML, "<title>") {
		t.Errorf("the HTML names no language or title")
	}
	unsub := m.Header("List-Unsubscribe")
	if !strings.HasPrefix(unsub, "<"+base+"/unsubscribe/") || m.Header("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Fatalf("List-Unsubscribe %q, Post %q", unsub, m.Header("List-Unsubscribe-Post"))
	}
	token := strings.TrimSuffix(strings.TrimPrefix(unsub, "<"+base+"/unsubscribe/"), ">")
	who, kind, err := c.gov.CheckUnsubscribe(c.ctx, token)
	if err != nil || who.ID != ms[0].ID || kind != outbox.VotingOpened {
		t.Errorf("the token stops %d's %s (%v), want %d's voting_opened", who.ID, kind, err, ms[0].ID)
	}
	if !strings.Contains(m.Text, token) {
		t.Error("the text part has no unsubscribe link")
	}

	if n := c.work(t, s); n != 0 {
		t.Errorf("a second round dealt with %d", n)
	}
	c.each(t, outbox.VotingOpened)
}

func TestSenderRetriesWhenTheServerIsDown(t *testing.T) {
	c := newCoop(t, mailpit.Options{})
	c.members(t, "jo@example.org", "al@example.org")
	c.propose(t, "Adopt the charter")
	s := c.sender(t, c.d)
	c.mp.Stop()
	if n := c.work(t, s); n != 3 {
		t.Fatalf("dealt with %d, want 3", n)
	}
	var rows []struct {
		Attempts int       `db:"attempts"`
		Next     time.Time `db:"next_attempt_at"`
		Err      string    `db:"last_error"`
		Status   string    `db:"status"`
	}
	if err := c.d.R.SelectContext(c.ctx, &rows, `SELECT attempts, next_attempt_at, last_error, status FROM notifications`); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Status != "queued" || r.Attempts != 1 || !r.Next.Equal(c.clock.Now().Add(30*time.Second)) || r.Err == "" {
			t.Errorf("after the server refused connections: %+v, want queued again in 30 s with the error", r)
		}
	}
	// Not due yet: nothing is tried.
	if n := c.work(t, s); n != 0 {
		t.Errorf("dealt with %d before the retry was due", n)
	}
	c.clock.Advance(30 * time.Second)
	c.work(t, s) // still down: the wait doubles
	if err := c.d.R.SelectContext(c.ctx, &rows, `SELECT attempts, next_attempt_at, last_error, status FROM notifications`); err != nil {
		t.Fatal(err)
	}
	if rows[0].Attempts != 2 || !rows[0].Next.Equal(c.clock.Now().Add(time.Minute)) {
		t.Errorf("after a second failure: %+v, want a minute's wait", rows[0])
	}
	c.mp.Restart()
	c.clock.Advance(time.Minute)
	if n := c.work(t, s); n != 3 {
		t.Errorf("dealt with %d once the server was back", n)
	}
	c.mp.Wait(3, 5*time.Second)
	if st := c.statuses(t); st["sent"] != 3 {
		t.Errorf("statuses %v", st)
	}
	c.each(t, outbox.VotingOpened)

	t.Run("a message too old to be worth it fails for good", func(t *testing.T) {
		c.mp.Stop()
		c.propose(t, "Another")
		c.work(t, s)
		c.clock.Advance(73 * time.Hour)
		c.work(t, s)
		var errs []string
		if err := c.d.R.SelectContext(c.ctx, &errs, `SELECT last_error FROM notifications WHERE status = 'failed'`); err != nil {
			t.Fatal(err)
		}
		if len(errs) != 3 || !strings.Contains(errs[0], "gave up after 2 attempts") {
			t.Errorf("failed: %q", errs)
		}
	})
}

func TestSenderRecordsARefusalAndSendsTheRest(t *testing.T) {
	c := newCoop(t, mailpit.Options{AllowedRecipients: `@example\.org$`})
	ms := c.members(t, "jo@example.org", "bounce@refused.invalid", "al@example.org")
	c.propose(t, "Adopt the charter")
	c.work(t, c.sender(t, c.d))
	c.mp.Wait(3, 5*time.Second)
	var rows []struct {
		Member int64  `db:"member_id"`
		Status string `db:"status"`
		Err    string `db:"last_error"`
	}
	if err := c.d.R.SelectContext(c.ctx, &rows, `SELECT member_id, status, last_error FROM notifications ORDER BY member_id`); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		switch {
		case r.Member == ms[1].ID && (r.Status != "failed" || !strings.Contains(r.Err, "550")):
			t.Errorf("the refused address: %+v, want failed with the 550", r)
		case r.Member != ms[1].ID && r.Status != "sent":
			t.Errorf("member %d: %+v, want sent", r.Member, r)
		}
	}
	if c.mp.Count() != 3 {
		t.Errorf("Mailpit holds %d, want 3", c.mp.Count())
	}
}

// Two processes serve one database: one sends, the other stands by, and
// takes over when the first stops. Every message goes once.
func TestOneSenderPerDatabase(t *testing.T) {
	c := newCoop(t, mailpit.Options{})
	emails := make([]string, 40)
	for i := range emails {
		emails[i] = fmt.Sprintf("m%d@example.org", i)
	}
	c.members(t, emails...)
	d2, err := db.Open(c.ctx, c.d.Path, dbtest.Schema(t), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d2.Close() })
	// Small batches, so the two would interleave if both sent.
	small := func(cfg *notify.Config) { cfg.Batch = 5 }
	a, b := c.sender(t, c.d, small), c.sender(t, d2, small)
	ctxA, stopA := context.WithCancel(c.ctx)
	ctxB, stopB := context.WithCancel(c.ctx)
	var wg sync.WaitGroup
	wg.Go(func() { a.Run(ctxA) })
	wg.Go(func() { b.Run(ctxB) })
	defer func() { stopA(); stopB(); wg.Wait() }()

	c.propose(t, "First")
	c.mp.Wait(41, 20*time.Second)
	stopA() // one stops (or dies): the other takes the lock
	c.propose(t, "Second")
	c.mp.Wait(82, 20*time.Second)
	time.Sleep(200 * time.Millisecond) // room for a duplicate to show
	if n := c.mp.Count(); n != 82 {
		t.Errorf("Mailpit holds %d messages, want 82", n)
	}
	c.each(t, outbox.VotingOpened)
}

func TestSenderHonoursChoices(t *testing.T) {
	c := newCoop(t, mailpit.Options{})
	ms := c.members(t, "jo@example.org", "al@example.org")
	s := c.sender(t, c.d)
	prefs := func(m governance.Member, voting, result, hour string) {
		t.Helper()
		if err := c.gov.SetPreferences(c.ctx, m.ID, governance.PreferencesInput{VotingOpened: voting, ClosingSoon: "at_once",
			Result: result, DigestHour: hour}); err != nil {
			t.Fatal(err)
		}
	}
	// Jo wants voting news in a digest at 10 (UTC); Al wants it at once,
	// then changes his mind after it is queued.
	prefs(ms[0], outbox.InDigest, outbox.InDigest, "10")
	p := c.propose(t, "Adopt the charter")
	prefs(ms[1], outbox.Never, outbox.AtOnce, "8")
	c.work(t, s)
	c.mp.Wait(1, 5*time.Second)
	time.Sleep(100 * time.Millisecond)
	if got := c.mp.Messages(); len(got) != 1 || got[0].To[0].Address != "ada@example.org" {
		t.Fatalf("sent %+v, want only the admin's", got)
	}
	var status string
	if err := c.d.R.GetContext(c.ctx, &status, `SELECT status FROM notifications WHERE member_id = ?`, ms[1].ID); err != nil || status != "dropped" {
		t.Errorf("Al's message: %s (%v), want dropped: he chose never after it was queued", status, err)
	}

	t.Run("the digest goes at the member's hour, one a day", func(t *testing.T) {
		c.clock.Set(time.Date(2026, 3, 2, 9, 59, 0, 0, time.UTC))
		c.work(t, s)
		if n := len(c.mp.To("jo@example.org")); n != 0 {
			t.Fatalf("%d emails to Jo before her hour", n)
		}
		c.clock.Set(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
		c.work(t, s)
		c.mp.Wait(2, 5*time.Second)
		got := c.mp.To("jo@example.org")
		if len(got) != 1 {
			t.Fatalf("%d emails to Jo at her hour, want 1", len(got))
		}
		m := c.mp.Message(got[0].ID)
		if m.Subject != "Your digest from Riverside Co-op: 1 message" || !strings.Contains(m.Text, "Voting is open: Adopt the charter") ||
			!strings.Contains(m.HTML, fmt.Sprintf("%s/proposals/%d", base, p.ID)) || m.MessageID != fmt.Sprintf("digest.2026-03-02.%d@vote.example.coop", ms[0].ID) {
			t.Errorf("digest %+v:\n%s", m.Summary, m.Text)
		}
		token := strings.TrimSuffix(strings.TrimPrefix(m.Header("List-Unsubscribe"), "<"+base+"/unsubscribe/"), ">")
		if _, kind, err := c.gov.CheckUnsubscribe(c.ctx, token); err != nil || kind != outbox.Digest {
			t.Errorf("the digest's unsubscribe link stops %q (%v)", kind, err)
		}
		var statuses []string
		c.d.R.SelectContext(c.ctx, &statuses, `SELECT status FROM notifications WHERE member_id = ? ORDER BY id`, ms[0].ID)
		if strings.Join(statuses, " ") != "sent sent" {
			t.Errorf("Jo's rows: %v, want the message and its digest sent", statuses)
		}

		// What comes later that day waits for tomorrow's.
		c.clock.Set(time.Date(2026, 3, 2, 10, 30, 0, 0, time.UTC))
		c.propose(t, "Second thoughts")
		c.work(t, s)
		c.mp.Wait(3, 5*time.Second) // the admin's
		if got := c.mp.To("jo@example.org"); len(got) != 1 {
			t.Errorf("%d emails to Jo after a second digest the same day, want still 1", len(got))
		}
		c.clock.Set(time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC))
		c.work(t, s)
		c.mp.Wait(4, 5*time.Second)
		if got := c.mp.To("jo@example.org"); len(got) != 2 || got[0].Subject != "Your digest from Riverside Co-op: 1 message" {
			t.Errorf("emails to Jo the next day: %+v, want a second digest", got)
		}
	})
}

func TestNoMailLeavesTheQueueAlone(t *testing.T) {
	c := newCoop(t, mailpit.Options{})
	c.propose(t, "Adopt the charter")
	s := c.sender(t, c.d, func(cfg *notify.Config) { cfg.Mailer = nil })
	if n := c.work(t, s); n != 0 {
		t.Errorf("dealt with %d with no mail configured", n)
	}
	ctx, cancel := context.WithTimeout(c.ctx, time.Second)
	defer cancel()
	s.Run(ctx) // returns at once, saying why
	if st := c.statuses(t); st["queued"] != 1 {
		t.Errorf("statuses %v, want the message still queued", st)
	}
}

// A link's token leaves the database once its email has gone.
func TestLinksLeaveTheQueueOnceSent(t *testing.T) {
	c := newCoop(t, mailpit.Options{})
	m := c.members(t, "jo@example.org")[0]
	notice, err := c.gov.RequestReset(c.ctx, "jo@example.org", "192.0.2.1", true)
	if err != nil || notice.Token == "" {
		t.Fatal(err)
	}
	inv, token, err := c.gov.Invite(c.ctx, c.admin, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.d.WithTx(c.ctx, func(tx *sqlx.Tx) error {
		return c.gov.QueueInvitation(c.ctx, tx, inv.ID, "al@example.org", "Al Newcomer", token, inv.ExpiresAt)
	}); err != nil {
		t.Fatal(err)
	}
	c.work(t, c.sender(t, c.d))
	c.mp.Wait(2, 5*time.Second)
	reset := c.mp.Message(c.mp.To("jo@example.org")[0].ID)
	if !strings.Contains(reset.Text, base+"/reset/"+notice.Token) || reset.Subject != "Choose a new password for Riverside Co-op" ||
		reset.Header("List-Unsubscribe") != "" || reset.To[0].Name != "Member 1" {
		t.Errorf("reset email %+v:\n%s", reset.Summary, reset.Text)
	}
	invite := c.mp.Message(c.mp.To("al@example.org")[0].ID)
	if !strings.Contains(invite.Text, base+"/invite/"+token) || invite.To[0].Name != "Al Newcomer" ||
		invite.MessageID != fmt.Sprintf("invitation.%d.0@plenary", inv.ID) {
		t.Errorf("invitation %+v:\n%s", invite.Summary, invite.Text)
	}
	var payloads []string
	if err := c.d.R.SelectContext(c.ctx, &payloads, `SELECT payload FROM notifications`); err != nil {
		t.Fatal(err)
	}
	for _, p := range payloads {
		if strings.Contains(p, notice.Token) || strings.Contains(p, token) || strings.Contains(p, `"token"`) {
			t.Errorf("a token is still in the outbox: %s", p)
		}
	}
	_ = m
}

// Issue 13: invitations made one at a time or in bulk, and members
// imported with the register, are each emailed their link, in the
// transaction that makes it; the links in the emails work.
func TestInvitationsAndImportsAreEmailed(t *testing.T) {
	c := newCoop(t, mailpit.Options{})
	one, _, err := c.gov.InvitePerson(c.ctx, c.admin, governance.InvitationInput{Name: "Kim Single", Email: "kim@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.gov.InvitePerson(c.ctx, c.admin, governance.InvitationInput{Note: "for whoever holds the link"}); err != nil {
		t.Fatal(err)
	}
	issued, err := c.gov.InviteMany(c.ctx, c.admin, "name,email\nJo Joiner,jo@example.org\n\"Webb, Beatrice\",beatrice@example.org\n", 0)
	if err != nil {
		t.Fatal(err)
	}
	imported, err := c.gov.ImportMembers(c.ctx, c.admin, "name,email\nRobert Owen,robert.owen@example.coop\n")
	if err != nil {
		t.Fatal(err)
	}
	// A roster with a wrong row queues nothing.
	before := c.statuses(t)
	if _, err := c.gov.InviteMany(c.ctx, c.admin, "name,email\nAl,al@example.org\nSam,not-an-address\n", 0); err == nil {
		t.Fatal("a roster with a bad address was taken")
	}
	if _, err := c.gov.ImportMembers(c.ctx, c.admin, "name,email\nAl,al@example.org\nAl again,AL@example.org\n"); err == nil {
		t.Fatal("a roster repeating an address was taken")
	}
	if after := c.statuses(t); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("refused rosters changed the outbox: %v, then %v", before, after)
	}

	c.work(t, c.sender(t, c.d))
	c.mp.Wait(4, 5*time.Second)
	time.Sleep(100 * time.Millisecond)
	if n := len(c.mp.Messages()); n != 4 {
		t.Errorf("%d emails, want 4: the open invitation has no address", n)
	}
	kim := c.mp.Message(c.mp.To("kim@example.org")[0].ID)
	if kim.Subject != "You are invited to join Riverside Co-op" || kim.To[0].Name != "Kim Single" ||
		kim.MessageID != fmt.Sprintf("invitation.%d.0@plenary", one.ID) {
		t.Errorf("Kim's invitation %+v", kim.Summary)
	}
	for _, inv := range issued {
		got := c.mp.To(inv.EmailAddress())
		if len(got) != 1 {
			t.Fatalf("%d emails to %s, want 1", len(got), inv.EmailAddress())
		}
		m := c.mp.Message(got[0].ID)
		link := base + "/invite/" + inv.Token
		if !strings.Contains(m.Text, link) || !strings.Contains(m.HTML, link) || m.To[0].Name != inv.Name {
			t.Errorf("invitation to %s: %+v\n%s", inv.EmailAddress(), m.Summary, m.Text)
		}
		if _, err := c.gov.OpenInvitation(c.ctx, inv.Token); err != nil {
			t.Errorf("the emailed link does not open: %v", err)
		}
	}
	owen := c.mp.Message(c.mp.To("robert.owen@example.coop")[0].ID)
	if owen.Subject != "Your membership of Riverside Co-op: choose a password" ||
		!strings.Contains(owen.Text, base+"/reset/"+imported[0].Token) || !strings.Contains(owen.Text, "brought over from its register") ||
		strings.Contains(owen.Text, "asked for a new password") {
		t.Errorf("the imported member's email %+v:\n%s", owen.Summary, owen.Text)
	}
	if _, _, err := c.gov.OpenReset(c.ctx, imported[0].Token); err != nil {
		t.Errorf("the emailed link to set a password does not open: %v", err)
	}
}

// Issue 13: emails say times in the member's own zone, or else the
// co-op's, naming it; a digest goes at the member's hour where they live,
// on either side of a change of the clocks.
func TestTimesInTheMembersZone(t *testing.T) {
	c := newCoop(t, mailpit.Options{})
	ms := c.members(t, "paris@example.org", "coop@example.org")
	if err := c.gov.SetTimeZone(c.ctx, ms[0].ID, "Europe/Paris"); err != nil {
		t.Fatal(err)
	}
	if err := c.gov.SetDefaultZone(c.ctx, c.admin, "America/New_York"); err != nil {
		t.Fatal(err)
	}
	// Opens 2 March 09:30 UTC, closes 9 March 09:30 UTC: 10:30 in Paris
	// (CET), 05:30 in New York (EDT from 8 March).
	c.propose(t, "Adopt the charter")
	s := c.sender(t, c.d)
	c.work(t, s)
	c.mp.Wait(3, 5*time.Second)
	for addr, want := range map[string]string{
		"paris@example.org": "Monday 9 March 2026, 10:30 CET (Europe/Paris)",
		"coop@example.org":  "Monday 9 March 2026, 05:30 EDT (America/New_York)",
	} {
		m := c.mp.Message(c.mp.To(addr)[0].ID)
		if !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, want) {
			t.Errorf("the email to %s does not say %q:\n%s", addr, want, m.Text)
		}
	}

	t.Run("a digest at 08:00 in London, before and after the clocks go forward", func(t *testing.T) {
		london := c.members(t, "london@example.org")[0]
		if err := c.gov.SetTimeZone(c.ctx, london.ID, "Europe/London"); err != nil {
			t.Fatal(err)
		}
		if err := c.gov.SetPreferences(c.ctx, london.ID, governance.PreferencesInput{VotingOpened: outbox.InDigest,
			ClosingSoon: outbox.AtOnce, Result: outbox.AtOnce, DigestHour: "8"}); err != nil {
			t.Fatal(err)
		}
		digests := func() int { return len(c.mp.To("london@example.org")) }
		// Saturday 28 March: GMT, so 08:00 is 08:00 UTC.
		c.clock.Set(time.Date(2026, 3, 28, 7, 0, 0, 0, time.UTC))
		c.propose(t, "Before the change")
		c.work(t, s)
		c.clock.Set(time.Date(2026, 3, 28, 7, 59, 0, 0, time.UTC))
		c.work(t, s)
		time.Sleep(100 * time.Millisecond)
		if n := digests(); n != 0 {
			t.Fatalf("%d digests before 08:00 GMT", n)
		}
		c.clock.Set(time.Date(2026, 3, 28, 8, 0, 0, 0, time.UTC))
		c.work(t, s)
		waitUntil(t, func() bool { return digests() == 1 })
		// Monday 30 March: BST, so 08:00 in London is 07:00 UTC.
		c.clock.Set(time.Date(2026, 3, 30, 6, 0, 0, 0, time.UTC))
		c.propose(t, "After the change")
		c.work(t, s)
		c.clock.Set(time.Date(2026, 3, 30, 7, 0, 0, 0, time.UTC))
		c.work(t, s)
		waitUntil(t, func() bool { return digests() == 2 })
		m := c.mp.Message(c.mp.To("london@example.org")[0].ID)
		if m.MessageID != fmt.Sprintf("digest.2026-03-30.%d@vote.example.coop", london.ID) || !strings.Contains(m.Text, "After the change") {
			t.Errorf("the second digest: %+v\n%s", m.Summary, m.Text)
		}
	})
}

// waitUntil waits up to 5 s for Mailpit to hold what ok looks for: SMTP
// delivery is over when the sender returns, Mailpit's index a moment
// later.
func waitUntil(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Mailpit never held what was sent")
		}
	}
}

// A choice's result message says what was chosen, in order, where a
// yes/no result gives its tally.
func TestChoiceResultMessage(t *testing.T) {
	c := newCoop(t, mailpit.Options{})
	ms := c.members(t, "jo@example.org")
	p, err := c.gov.Propose(c.ctx, c.admin, governance.ProposalInput{Kind: governance.KindPoll, Title: "Lunch", Opens: "now", Days: "3",
		Options: []governance.OptionInput{{Label: "Soup & <b>bread</b>"}, {Label: "Rice"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range append(ms, c.admin) {
		if _, err := c.gov.VoteChoice(c.ctx, m, p.ID, governance.ChoiceInput{Approve: []string{"1"}}, ""); err != nil {
			t.Fatal(err)
		}
	}
	c.clock.Advance(3 * 24 * time.Hour)
	if err := c.gov.Advance(c.ctx); err != nil {
		t.Fatal(err)
	}
	s := c.sender(t, c.d)
	c.work(t, s)
	id := fmt.Sprintf("<result.%d.%d@plenary>", p.ID, ms[0].ID)
	c.mp.Wait(1, 5*time.Second)
	found := c.mp.ByMessageID(id)
	if len(found) != 1 {
		t.Fatalf("%d messages with %s", len(found), id)
	}
	m := c.mp.Message(found[0].ID)
	m.Text = strings.ReplaceAll(m.Text, "\r\n", "\n")
	if m.Subject != "Result: Lunch — decided" {
		t.Errorf("subject %q", m.Subject)
	}
	for _, part := range []string{m.Text, m.HTML} {
		if !strings.Contains(part, "Decided, in order") || !strings.Contains(part, "Rice") || !strings.Contains(part, "2 of 2") ||
			strings.Contains(part, "Tally") || strings.Contains(part, "yes") {
			t.Errorf("the result says:\n%s", part)
		}
	}
	if !strings.Contains(m.Text, "  - Rice\n  - Soup & <b>bread</b>") || !strings.Contains(m.HTML, "<li>Soup &amp; &lt;b&gt;bread&lt;/b&gt;</li>") {
		t.Errorf("the order is not listed, or the HTML not escaped:\n%s\n%s", m.Text, m.HTML)
	}
}
