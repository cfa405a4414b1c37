package governance_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"plenary/governance"
)

// problems is a roster's problems by line, for comparing.
func problems(r governance.Roster) map[int]string {
	out := map[int]string{}
	for _, row := range r.Bad() {
		out[row.Line] = strings.Join(row.Problems, " | ")
	}
	return out
}

// people writes n rows of distinct people, a header first.
func rosterOf(n int) string {
	var b strings.Builder
	b.WriteString("name,email,role\n")
	for i := range n {
		fmt.Fprintf(&b, "Person %d,person%d@example.org,member\n", i, i)
	}
	return b.String()
}

// Spreadsheets write CSV many ways; each is read, and each wrong row is
// named by its line with what is wrong.
func TestRostersReadWhatSpreadsheetsWrite(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(t, 0)
	member := e.member(t, 1, governance.StatusActive, admin) // ada.lovelace@example.org
	if _, _, err := e.s.InvitePerson(e.ctx, admin, governance.InvitationInput{Name: "Ivy", Email: "ivy@example.org"}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		csv      string
		rows     int
		names    []string
		problems map[int]string
	}{
		{name: "a header and two people", csv: "name,email\nJo Joiner,jo@example.org\nSam,sam@example.org\n", rows: 2, names: []string{"Jo Joiner", "Sam"}},
		{name: "a byte order mark, CRLF and an Excel header", csv: "\uFEFFName,E-mail Address,Role\r\nJo,JO@Example.ORG,Admin\r\n", rows: 1},
		{name: "semicolons", csv: "name;email;role\nLovelace, Ada;ada@example.net;member\n", rows: 1, names: []string{"Lovelace, Ada"}},
		{name: "tabs", csv: "name\temail\nJo\tjo@example.org\n", rows: 1},
		{name: "quoted commas and quotes", csv: "name,email\n\"Owen, Robert \"\"Bob\"\"\",bob@example.org\n", rows: 1,
			names: []string{`Owen, Robert "Bob"`}},
		{name: "blank lines, and lines of separators only", csv: "\n\nname,email\n\n,,\nJo,jo@example.org\n\n  \nSam,sam@example.org\n", rows: 2},
		{name: "no header", csv: "Jo,jo@example.org,admin\nSam,sam@example.org\n", rows: 2},
		{name: "columns in another order, and others besides", csv: "number,email,status,name\n7,jo@example.org,active,Jo\n", rows: 1, names: []string{"Jo"}},
		{name: "bad addresses", csv: "name,email\nA,not-an-address\nB,b@localhost\nC,\"c@example.org, d@example.org\"\nD,\nE,Jo <e@example.org>\n",
			rows: 5, problems: map[int]string{
				2: "“not-an-address” is not an email address.",
				3: "“b@localhost” is not an email address.",
				4: "“c@example.org, d@example.org” is not an email address.",
				5: "No email address.",
				6: "“Jo <e@example.org>” is not an email address."}},
		{name: "formulas", csv: "name,email\n\"=HYPERLINK(\"\"http://x\"\")\",a@example.org\n+1,b@example.org\n-2,c@example.org\n@SUM(A1),d@example.org\nJo,=1+1@example.org\n",
			rows: 5, problems: map[int]string{
				2: `The name starts with "=", which a spreadsheet runs as a formula: remove it.`,
				3: `The name starts with "+", which a spreadsheet runs as a formula: remove it.`,
				4: `The name starts with "-", which a spreadsheet runs as a formula: remove it.`,
				5: `The name starts with "@", which a spreadsheet runs as a formula: remove it.`,
				6: `The email address starts with "=", which a spreadsheet runs as a formula: remove it.`}},
		{name: "repeated in the file, whatever the case", csv: "name,email\nJo,jo@example.org\nSam,sam@example.org\nJo again,JO@example.org\n",
			rows: 3, problems: map[int]string{4: "Repeated: this address is also on line 2."}},
		{name: "already a member, and already invited", csv: "name,email\nAda,Ada.Lovelace@example.org\nIvy,ivy@example.org\n", rows: 2,
			problems: map[int]string{
				2: fmt.Sprintf("Already in the register: member %d (active).", member.ID),
				3: "Already invited: invitation 1, open until 16 Mar 2026."}},
		{name: "a role that is none, a name missing or broken", csv: "name,email,role\nJo,jo@example.org,owner\n,sam@example.org,\n\"Li\nne\",l@example.org\n",
			rows: 3, problems: map[int]string{
				2: "The role must be member or admin, not “owner”.",
				3: "No name.",
				4: "The name contains invalid characters (a line break or a control character)."}},
		{name: "a name too long", csv: "name,email\n" + strings.Repeat("x", 81) + ",x@example.org\n", rows: 1,
			problems: map[int]string{2: "The name is longer than 80 characters."}},
		{name: "10,000 people", csv: rosterOf(10000), rows: 10000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := e.snapshot(t)
			r, err := e.s.PreviewInvitations(e.ctx, admin, tt.csv)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Rows) != tt.rows {
				t.Errorf("%d rows, want %d", len(r.Rows), tt.rows)
			}
			for i, name := range tt.names {
				if r.Rows[i].Name != name {
					t.Errorf("row %d named %q, want %q", i, r.Rows[i].Name, name)
				}
			}
			got := problems(r)
			if fmt.Sprint(got) != fmt.Sprint(tt.problems) && !(len(got) == 0 && len(tt.problems) == 0) {
				t.Errorf("problems:\n%v\nwant\n%v", got, tt.problems)
			}
			if e.snapshot(t) != before {
				t.Error("a preview changed the database")
			}
		})
	}
	t.Run("an address's case and an admin's role are read", func(t *testing.T) {
		r, err := e.s.PreviewInvitations(e.ctx, admin, "name,email,role\nJo,JO@Example.ORG, Admin \n")
		if err != nil || r.Rows[0].Email != "jo@example.org" || r.Rows[0].Role != governance.RoleAdmin {
			t.Errorf("%+v, %v", r.Rows, err)
		}
	})

	for _, tt := range []struct{ name, csv, want string }{
		{"nothing", " \n\n", "Paste or upload a CSV with a name and an email address on each row."},
		{"a header and nobody", "name,email\n", "The file names its columns but has nobody in it."},
		{"no columns named", "who,where\nJo,London\n", "The first row must name the columns (name, email and, if you like, role), or each row must be a name, then an email address."},
		{"not UTF-8", "name,email\nJos\xe9,jose@example.org\n", "The file is not UTF-8 text. Save it from your spreadsheet as “CSV UTF-8” and try again."},
		{"a stray quote", "name,email\nJo \"the\" Joiner,jo@example.org\n", "Line 2 has a quotation mark inside a cell that does not start with one: put the whole cell in quotation marks, and double each one inside it."},
		{"an unclosed quote", "name,email\n\"Jo,jo@example.org\nSam,sam@example.org\n", "Line 2 has a quoted cell that does not end where it should: a quotation mark is missing or extra."},
		{"10,001 people", rosterOf(10001), "The file has more than 10000 people. Split it into parts of at most 10000."},
		{"over 2 MB", "name,email\n" + strings.Repeat("x", governance.MaxRosterBytes), "The file is larger than 2 MB. Split it into parts of at most 10000 people."},
	} {
		t.Run("the whole file: "+tt.name, func(t *testing.T) {
			_, err := e.s.PreviewInvitations(e.ctx, admin, tt.csv)
			var v governance.ValidationError
			if !errors.As(err, &v) || v["csv"] != tt.want {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
	t.Run("only an admin", func(t *testing.T) {
		if _, err := e.s.PreviewInvitations(e.ctx, member, "Jo,jo@example.org"); !errors.Is(err, governance.ErrForbidden) {
			t.Errorf("a member previewing: %v", err)
		}
		if _, err := e.s.InviteMany(e.ctx, member, "Jo,jo@example.org", 0); !errors.Is(err, governance.ErrForbidden) {
			t.Errorf("a member inviting: %v", err)
		}
		if _, err := e.s.ImportMembers(e.ctx, member, "Jo,jo@example.org"); !errors.Is(err, governance.ErrForbidden) {
			t.Errorf("a member importing: %v", err)
		}
	})
}

func TestInviteMany(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(t, 0)
	t.Run("one wrong row and nothing is done", func(t *testing.T) {
		before := e.snapshot(t)
		_, err := e.s.InviteMany(e.ctx, admin, "name,email\nJo,jo@example.org\nSam,not-an-address\n", 0)
		var re *governance.RosterError
		if !errors.As(err, &re) || len(re.Roster.Bad()) != 1 || re.Roster.Bad()[0].Line != 3 {
			t.Fatalf("got %v, want the roster with line 3 wrong", err)
		}
		if e.snapshot(t) != before {
			t.Error("a refused roster changed the database")
		}
	})
	t.Run("checked again when it is sent: someone who joined since stops it", func(t *testing.T) {
		text := "name,email\nJo,jo@example.org\nMary,mary.seacole@example.com\n"
		if _, err := e.s.PreviewInvitations(e.ctx, admin, text); err != nil {
			t.Fatal(err)
		}
		e.member(t, 5, governance.StatusApplicant, admin) // mary.seacole@example.com applies
		var re *governance.RosterError
		if _, err := e.s.InviteMany(e.ctx, admin, text, 0); !errors.As(err, &re) || !strings.HasPrefix(problems(re.Roster)[3], "Already in the register") {
			t.Errorf("got %v", err)
		}
	})
	var issued []governance.Issued
	t.Run("every row right: each invited, tied to the address, on the ledger", func(t *testing.T) {
		var err error
		issued, err = e.s.InviteMany(e.ctx, admin, "name;email;role\nJo Joiner;jo@example.org;\nSam Admin;SAM@example.org;admin\n", 7)
		if err != nil {
			t.Fatal(err)
		}
		if len(issued) != 2 || issued[0].Name != "Jo Joiner" || issued[1].EmailAddress() != "sam@example.org" || issued[1].Role != governance.RoleAdmin ||
			issued[0].ID == 0 || issued[0].ID == issued[1].ID || issued[0].Token == issued[1].Token {
			t.Fatalf("issued %+v", issued)
		}
		if !issued[0].ExpiresAt.Equal(e.clock.Now().Add(7 * 24 * time.Hour)) {
			t.Errorf("expires %v", issued[0].ExpiresAt)
		}
		if n, _, err := e.s.VerifyLedger(e.ctx); err != nil || n == 0 {
			t.Errorf("VerifyLedger: %d, %v", n, err)
		}
		last := e.lastEntry(t)
		if want := fmt.Sprintf("Invitation %d, to join as an admin, created by member %d", issued[1].ID, admin.ID); last.Summary() != want {
			t.Errorf("the last entry says %q, want %q", last.Summary(), want)
		}
		// Invited twice is refused.
		var re *governance.RosterError
		if _, err := e.s.InviteMany(e.ctx, admin, "Jo,jo@example.org", 0); !errors.As(err, &re) {
			t.Errorf("inviting Jo again: %v", err)
		}
	})
	t.Run("accepting uses the invitation's address, whatever is typed, and its role", func(t *testing.T) {
		inv, err := e.s.OpenInvitation(e.ctx, issued[1].Token)
		if err != nil || inv.EmailAddress() != "sam@example.org" || inv.Name != "Sam Admin" {
			t.Fatalf("OpenInvitation: %+v, %v", inv, err)
		}
		m, err := e.s.AcceptInvitation(e.ctx, issued[1].Token, governance.Details{Name: "Sam", Email: "someone.else@example.org", Password: password})
		if err != nil {
			t.Fatal(err)
		}
		if m.EmailAddress() != "sam@example.org" || m.Role != governance.RoleAdmin || m.Status != governance.StatusActive {
			t.Errorf("the member: %s, %s, %s", m.EmailAddress(), m.Role, m.Status)
		}
		if got := e.lastEntry(t).Summary(); got != fmt.Sprintf("Member %d made admin by member %d", m.ID, admin.ID) {
			t.Errorf("the last entry: %q", got)
		}
	})
	t.Run("a link made for someone whose address has an account since finds them taken", func(t *testing.T) {
		if _, err := e.s.AddMember(e.ctx, governance.Details{Name: "Jo", Email: "jo@example.org", Password: password}, governance.RoleMember); err != nil {
			t.Fatal(err)
		}
		_, err := e.s.AcceptInvitation(e.ctx, issued[0].Token, governance.Details{Name: "Jo Joiner", Password: password})
		var v governance.ValidationError
		if !errors.As(err, &v) || v["email"] == "" {
			t.Errorf("got %v, want the email refused", err)
		}
	})
	t.Run("the days must be 1 to 90", func(t *testing.T) {
		var v governance.ValidationError
		if _, err := e.s.InviteMany(e.ctx, admin, "Kim,kim@example.org", 91); !errors.As(err, &v) || v["days"] == "" {
			t.Errorf("91 days: %v", err)
		}
	})
}

func TestInvitePersonTiesTheInvitationToTheAddress(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(t, 0)
	for _, tt := range []struct {
		name  string
		in    governance.InvitationInput
		field string
	}{
		{"an email without a name", governance.InvitationInput{Email: "jo@example.org"}, "name"},
		{"a name without an email", governance.InvitationInput{Name: "Jo"}, "email"},
		{"an admin for whoever holds the link", governance.InvitationInput{Role: "admin"}, "role"},
		{"a role that is none", governance.InvitationInput{Name: "Jo", Email: "jo@example.org", Role: "owner"}, "role"},
		{"a bad address", governance.InvitationInput{Name: "Jo", Email: "jo@"}, "email"},
		{"the address of a member", governance.InvitationInput{Name: "Grace", Email: "Grace.Hopper@example.org"}, "email"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := e.snapshot(t)
			_, _, err := e.s.InvitePerson(e.ctx, admin, tt.in)
			var v governance.ValidationError
			if !errors.As(err, &v) || v[tt.field] == "" {
				t.Errorf("got %v, want a message for %s", err, tt.field)
			}
			if e.snapshot(t) != before {
				t.Error("the database changed")
			}
		})
	}
	inv, token, err := e.s.InvitePerson(e.ctx, admin, governance.InvitationInput{Name: " Jo ", Email: " JO@example.org ", Note: "AGM"})
	if err != nil || inv.EmailAddress() != "jo@example.org" || inv.Name != "Jo" || inv.Role != governance.RoleMember {
		t.Fatalf("%+v, %v", inv, err)
	}
	m, err := e.s.AcceptInvitation(e.ctx, token, governance.Details{Name: "Jo", Email: "", Password: password})
	if err != nil || m.EmailAddress() != "jo@example.org" || m.Role != governance.RoleMember {
		t.Errorf("accepted: %+v, %v", m, err)
	}
}

func TestImportMembers(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(t, 0)
	text := "\uFEFFname;email;joined\r\nRobert Owen;Robert.Owen@example.coop;1844-12-21\r\n\"Webb, Beatrice\";beatrice@example.org;\r\n"
	t.Run("a wrong row and nothing is written", func(t *testing.T) {
		before := e.snapshot(t)
		_, err := e.s.ImportMembers(e.ctx, admin, text+"Nobody;;2020-01-01\r\nFuture;f@example.org;2099-01-01\r\nBad;b@example.org;31/12/2020\r\n")
		var re *governance.RosterError
		if !errors.As(err, &re) {
			t.Fatalf("got %v", err)
		}
		want := map[int]string{4: "No email address.", 5: "The joined date is in the future.", 6: "“31/12/2020” is not a date such as 2024-05-31."}
		if fmt.Sprint(problems(re.Roster)) != fmt.Sprint(want) {
			t.Errorf("problems %v, want %v", problems(re.Roster), want)
		}
		if e.snapshot(t) != before || e.count(t, `SELECT count(*) FROM password_resets`) != 0 {
			t.Error("the database changed")
		}
	})
	var imported []governance.Imported
	t.Run("every row right: active members, on the ledger, each with a link to set a password", func(t *testing.T) {
		var err error
		imported, err = e.s.ImportMembers(e.ctx, admin, text)
		if err != nil {
			t.Fatal(err)
		}
		if len(imported) != 2 || imported[0].Email != "robert.owen@example.coop" || imported[1].Name != "Webb, Beatrice" {
			t.Fatalf("imported %+v", imported)
		}
		owen := e.get(t, imported[0].ID)
		if owen.Status != governance.StatusActive || owen.JoinedAt == nil || owen.JoinedAt.Format("2006-01-02") != "1844-12-21" {
			t.Errorf("Robert Owen: %s, joined %v", owen.Status, owen.JoinedAt)
		}
		if webb := e.get(t, imported[1].ID); !webb.JoinedAt.Equal(e.clock.Now()) {
			t.Errorf("Beatrice Webb joined %v, want now", webb.JoinedAt)
		}
		if n, _, err := e.s.VerifyLedger(e.ctx); err != nil || n != 3 {
			t.Errorf("VerifyLedger: %d entries, %v; want the founding and two admissions", n, err)
		}
		if got := e.lastEntry(t).Summary(); got != fmt.Sprintf("Member %d admitted by member %d", imported[1].ID, admin.ID) {
			t.Errorf("the last entry: %q", got)
		}
		// Imported again: each is in the register already.
		var re *governance.RosterError
		if _, err := e.s.ImportMembers(e.ctx, admin, text); !errors.As(err, &re) || len(re.Roster.Bad()) != 2 {
			t.Errorf("importing again: %v", err)
		}
	})
	t.Run("no password until the link sets one", func(t *testing.T) {
		for _, pw := range []string{"", "!", password} {
			if _, err := e.s.Login(e.ctx, "robert.owen@example.coop", pw, "192.0.2.1"); !errors.Is(err, governance.ErrBadCredentials) {
				t.Errorf("logging in with %q before setting a password: %v", pw, err)
			}
		}
		if _, err := e.s.ResetPassword(e.ctx, imported[0].Token, "New Lanark mills 1800", "New Lanark mills 1800"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.Login(e.ctx, "robert.owen@example.coop", "New Lanark mills 1800", "192.0.2.2"); err != nil {
			t.Errorf("logging in after: %v", err)
		}
	})
	t.Run("the register lists everyone, formulas made harmless", func(t *testing.T) {
		e.clock.Advance(time.Hour)
		sneaky, err := e.s.Apply(e.ctx, governance.Details{Name: "=HYPERLINK(\"http://evil\")", Email: "sneaky@example.org", Password: password,
			Statement: "Let me in."})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.s.MarkLeft(e.ctx, admin, imported[1].ID); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := e.s.WriteRegister(e.ctx, admin, &buf); err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(buf.Bytes(), []byte("\uFEFF")) {
			t.Error("no byte order mark")
		}
		recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(buf.Bytes(), []byte("\uFEFF")))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		want := [][]string{
			{"number", "name", "email", "status", "joined", "left"},
			{fmt.Sprint(admin.ID), "Grace Hopper", "grace.hopper@example.org", "active", "2026-03-02", ""},
			{fmt.Sprint(imported[0].ID), "Robert Owen", "robert.owen@example.coop", "active", "1844-12-21", ""},
			{fmt.Sprint(imported[1].ID), "Webb, Beatrice", "beatrice@example.org", "left", "2026-03-02", "2026-03-02"},
			{fmt.Sprint(sneaky.ID), "'=HYPERLINK(\"http://evil\")", "sneaky@example.org", "applicant", "", ""},
		}
		if fmt.Sprint(recs) != fmt.Sprint(want) {
			t.Errorf("the register:\n%q\nwant\n%q", recs, want)
		}
		var discard bytes.Buffer
		if err := e.s.WriteRegister(e.ctx, sneaky, &discard); !errors.Is(err, governance.ErrForbidden) || discard.Len() != 0 {
			t.Errorf("an applicant asking for the register: %v, %d bytes", err, discard.Len())
		}
	})
}
