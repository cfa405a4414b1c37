package server_test

import (
	"bytes"
	"context"
	"html"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"plenary/governance"
	"plenary/server"
)

// postFile posts a form as a browser does when it holds a file: multipart,
// with the file's bytes as they are.
func (c *client) postFile(t *testing.T, page, action string, fields map[string]string, file []byte) *response {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	w.WriteField("csrf_token", c.csrf(t, page))
	for k, v := range fields {
		w.WriteField(k, v)
	}
	if file != nil {
		fw, err := w.CreateFormFile("file", "people.csv")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(file)
	}
	w.Close()
	return c.request(t, http.MethodPost, action, body.String(), http.Header{"Content-Type": {w.FormDataContentType()}})
}

var hiddenCSV = regexp.MustCompile(`<input type="hidden" name="csv" value="([^"]*)">`)

func TestBulkInvitationsOverHTTP(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
	a.addMember(t, ad, "Mo Member", "mo@example.org")
	c := a.client()
	c.login(t, ad)
	page := "/admin/invitations/bulk"

	t.Run("a file with problems: every one listed by line, nothing done", func(t *testing.T) {
		before := a.snapshot(t)
		file := "\uFEFFname;email;role\r\nBea;bea@example.org;\r\n\r\nMo;MO@example.org;member\r\n\"=cmd|' /C calc'!A0\";x@example.org;\r\nCy;cy@example;admin\r\nDee;bea@example.org;boss\r\n"
		r := c.postFile(t, page, page, map[string]string{"days": ""}, []byte(file))
		r.wantStatus(t, http.StatusUnprocessableEntity)
		r.wantFieldError(t, "", "4 of 5 rows have problems. Nothing has been done: correct them and check the file again.")
		for _, want := range []string{
			"<td>4</td><td>Mo</td><td>mo@example.org</td><td>Already in the register: member 2 (active).</td>",
			"<td>5</td><td>=cmd|&#39; /C calc&#39;!A0</td>",
			"<td>6</td><td>Cy</td><td>cy@example</td><td>“cy@example” is not an email address.</td>",
			"<td>7</td><td>Dee</td><td>bea@example.org</td><td>Repeated: this address is also on line 2. The role must be member or admin, not “boss”.</td>",
		} {
			if !strings.Contains(r.Body, want) {
				t.Errorf("the page lacks %q:\n%s", want, excerpt(r.Body))
			}
		}
		if strings.Contains(r.Body, `name="confirm"`) {
			t.Error("a roster with problems is offered for confirmation")
		}
		a.wantUnchanged(t, before)
	})

	t.Run("every row right: shown, then confirmed, then done", func(t *testing.T) {
		file := "name,email,role\n\"Owen, Robert\",robert@example.coop,\nBea Admin,bea@example.org,admin\n"
		r := c.postFile(t, page, page, map[string]string{"days": "7"}, []byte(file))
		r.wantStatus(t, http.StatusOK)
		r.wantText(t, "All 2 rows are right.")
		m := hiddenCSV.FindStringSubmatch(r.Body)
		if m == nil || !strings.Contains(r.Body, "Invite 2 people") {
			t.Fatalf("no confirmation form:\n%s", excerpt(r.Body))
		}
		if got := html.UnescapeString(m[1]); got != file {
			t.Errorf("the text carried to the confirmation is %q, want the file, %q", got, file)
		}
		before := a.snapshot(t)
		r = c.postFile(t, page, page, map[string]string{"csv": html.UnescapeString(m[1]), "days": "7", "confirm": "yes"}, nil)
		r.wantRedirect(t, "/admin/invitations")
		list := c.get(t, "/admin/invitations")
		list.wantText(t, "2 invitations made. Each is to be emailed to its address.")
		list.wantText(t, "Owen, Robert <robert@example.coop>")
		if strings.Contains(list.Body, "<tr>") && !strings.Contains(list.Body, "Bea Admin &lt;bea@example.org&gt; <span class=\"badge admin\">admin</span>") {
			t.Errorf("the list does not show Bea as an admin's invitation:\n%s", excerpt(list.Body))
		}
		if a.snapshot(t)["invitations"] == before["invitations"] {
			t.Error("no invitation was made")
		}
		// The same again is refused: both are invited now.
		r = c.postFile(t, page, page, map[string]string{"csv": file, "confirm": "yes"}, nil)
		r.wantStatus(t, http.StatusUnprocessableEntity)
		r.wantText(t, "Already invited")
	})

	t.Run("pasted text works as a file does", func(t *testing.T) {
		r := c.submit(t, page, page, form("csv", "Kim,kim@example.org\n"))
		r.wantStatus(t, http.StatusOK)
		r.wantText(t, "All 1 row is right.")
	})

	t.Run("too big: the roster's own cap, then the body's", func(t *testing.T) {
		before := a.snapshot(t)
		big := []byte("name,email\n" + strings.Repeat("x", governance.MaxRosterBytes))
		r := c.postFile(t, page, page, nil, big)
		r.wantStatus(t, http.StatusUnprocessableEntity)
		r.wantFieldError(t, "f-csv", "The file is larger than 2 MB. Split it into parts of at most 10000 people.")
		huge := bytes.Repeat([]byte("x"), server.MaxRosterBody+1)
		c.postFile(t, page, page, nil, huge).wantStatus(t, http.StatusRequestEntityTooLarge)
		a.wantUnchanged(t, before)
	})
}

func TestRegisterOverHTTP(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
	a.addApplicant(t, "@Sneaky", "sneaky@example.org")
	c := a.client()
	c.login(t, ad)

	page := "/admin/members/import"
	r := c.submit(t, page, page, form("csv", "name,email,joined\nRobert Owen,robert@example.coop,1999-05-01\nBea,bea@example.org,\n"))
	r.wantStatus(t, http.StatusOK)
	r.wantText(t, "Import 2 members")
	m := hiddenCSV.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no confirmation form:\n%s", excerpt(r.Body))
	}
	r = c.submit(t, page, page, form("csv", html.UnescapeString(m[1]), "confirm", "yes"))
	r.wantRedirect(t, "/admin/members")
	c.get(t, "/admin/members").wantText(t, "2 members imported. Each is to be emailed a link to set a password.")

	reg := c.get(t, "/admin/members/register.csv")
	reg.wantStatus(t, http.StatusOK)
	if ct, cd := reg.Header.Get("Content-Type"), reg.Header.Get("Content-Disposition"); ct != "text/csv; charset=utf-8" ||
		cd != `attachment; filename="register-2026-03-02.csv"` {
		t.Errorf("Content-Type %q, Content-Disposition %q", ct, cd)
	}
	want := "\uFEFFnumber,name,email,status,joined,left\n" +
		"1,Ada Admin,ada@example.org,active,2026-03-02,\n" +
		"2,'@Sneaky,sneaky@example.org,applicant,,\n" +
		"3,Robert Owen,robert@example.coop,active,1999-05-01,\n" +
		"4,Bea,bea@example.org,active,2026-03-02,\n"
	if reg.Body != want {
		t.Errorf("the register:\n%q\nwant\n%q", reg.Body, want)
	}
}

// An invitation made for someone shows its address, not a field for one,
// and makes a member with that address whatever is posted.
func TestAnInvitationMadeForSomeoneKeepsItsAddress(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
	_, token, err := a.Gov.InvitePerson(context.Background(), ad.Member, governance.InvitationInput{Name: "Pat Invited", Email: "pat@example.org", Role: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	guest := a.client()
	page := guest.get(t, "/invite/"+token)
	if !strings.Contains(page.Body, "You will log in with <strong>pat@example.org</strong>, the address this invitation was made for.") ||
		!strings.Contains(page.Body, "and one of the co-op's admins,") ||
		strings.Contains(page.Body, `name="email"`) || !strings.Contains(page.Body, `value="Pat Invited"`) {
		t.Errorf("the invitation page:\n%s", excerpt(page.Body))
	}
	r := guest.submit(t, "/invite/"+token, "/invite/"+token, form("name", "Pat", "email", "attacker@example.org", "password", password))
	r.wantRedirect(t, "/account")
	ms, _, err := a.Gov.Members(context.Background(), governance.MemberQuery{Search: "pat@example.org"})
	if err != nil || len(ms) != 1 || ms[0].Role != governance.RoleAdmin {
		t.Fatalf("members with pat's address: %+v, %v", ms, err)
	}
	if ms, _, _ := a.Gov.Members(context.Background(), governance.MemberQuery{Search: "attacker"}); len(ms) != 0 {
		t.Errorf("a member was made with the address typed: %+v", ms)
	}
}
