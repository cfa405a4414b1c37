package server_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"plenary/internal/db/dbtest"
	"plenary/library"
	"plenary/server"
)

// Hostile input the library's forms are tried with. The names differ from
// forms_test.go's so the two files never collide.
const (
	libScript = `<script>alert(1)</script>`
	libImg    = `"><img src=x onerror=alert(1)>`
	libSQL    = `'; DROP TABLE resources; --`
	libBadUTF = "\xff\xfe"
)

// libLong is over every library field's limit, yet leaves a form's body
// under MaxBodyBytes.
var libLong = strings.Repeat("x", 60_000)

// libWorld is a co-op with the starter library and, beside it, resources
// and demands in every state a forged request might aim at.
type libWorld struct {
	*app
	admin, member, other, applicant     user
	adminC, memberC, otherC, applicantC *client

	pending       int64 // member's own, waiting for an admin
	othersPending int64 // other's, waiting: member can't see it
	othersListed  int64 // other's, listed: member sees it but can't edit it
	hidden        int64 // other's, listed then hidden
	demand        int64 // member's, proposed
	othersDemand  int64 // other's, proposed
}

func viewerOf(u user) library.Viewer {
	return library.Viewer{ID: u.ID, Active: u.Member.IsActive(), Admin: u.Member.IsAdmin()}
}

func newLibWorld(t *testing.T) *libWorld {
	t.Helper()
	a := newApp(t)
	ctx := context.Background()
	if loaded, err := a.Lib.LoadStarter(ctx); err != nil || !loaded {
		t.Fatalf("load starter library: loaded %v, %v", loaded, err)
	}
	w := &libWorld{app: a}
	w.admin = a.addAdmin(t, "Ada Admin", "ada@example.org")
	w.member = a.addMember(t, w.admin, "Mo Member", "mo@example.org")
	w.other = a.addMember(t, w.admin, "Olu Other", "olu@example.org")
	w.applicant = a.addApplicant(t, "Ash Applicant", "ash@example.org")
	for _, p := range []struct {
		c **client
		u user
	}{{&w.adminC, w.admin}, {&w.memberC, w.member}, {&w.otherC, w.other}, {&w.applicantC, w.applicant}} {
		*p.c = a.client()
		(*p.c).login(t, p.u)
	}
	w.pending = w.submit(t, w.member, "Member's pending report", "")
	w.othersPending = w.submit(t, w.other, "Other's pending report", "")
	w.othersListed = w.submit(t, w.other, "Other's listed report", library.StatusListed)
	w.hidden = w.submit(t, w.other, "Other's hidden report", library.StatusHidden)
	w.demand = w.draft(t, w.member, "Member's demand", w.othersListed)
	w.othersDemand = w.draft(t, w.other, "Other's demand", w.othersListed)
	return w
}

// submit adds a resource as u, then has the admin set its status.
func (w *libWorld) submit(t *testing.T, u user, title, status string) int64 {
	t.Helper()
	ctx := context.Background()
	r, err := w.Lib.SubmitResource(ctx, viewerOf(u), library.ResourceInput{Title: title,
		URL: "https://example.org/" + url.PathEscape(title), Format: "report", Topics: "fixtures"})
	if err != nil {
		t.Fatalf("submit %q: %v", title, err)
	}
	if status == library.StatusHidden {
		if err := w.Lib.SetResourceStatus(ctx, viewerOf(w.admin), r.ID, library.StatusListed); err != nil {
			t.Fatalf("list %q: %v", title, err)
		}
	}
	if status != "" {
		if err := w.Lib.SetResourceStatus(ctx, viewerOf(w.admin), r.ID, status); err != nil {
			t.Fatalf("set %q %s: %v", title, status, err)
		}
	}
	return r.ID
}

func (w *libWorld) draft(t *testing.T, u user, title string, supporting int64) int64 {
	t.Helper()
	d, err := w.Lib.DraftDemand(context.Background(), viewerOf(u), library.DemandInput{Title: title,
		Body: "Fund platform co-ops.", Audience: "local government", Resources: strconv.FormatInt(supporting, 10)})
	if err != nil {
		t.Fatalf("draft %q: %v", title, err)
	}
	return d.ID
}

// resourceRow is what the database holds of a resource, for tests that
// check what a request did or did not change.
type resourceRow struct {
	Title      string  `db:"title"`
	Status     string  `db:"status"`
	EndorsedAt *string `db:"endorsed_at"`
	EndorsedBy *int64  `db:"endorsed_by"`
	AddedBy    *int64  `db:"added_by"`
	Topics     string  `db:"topics"`
	DOI        string  `db:"doi"`
}

func (a *app) resourceRow(t *testing.T, id int64) resourceRow {
	t.Helper()
	var r resourceRow
	if err := a.DB.R.Get(&r, `SELECT title, status, endorsed_at, endorsed_by, added_by, topics, doi FROM resources WHERE id = ?`, id); err != nil {
		t.Fatalf("resource %d: %v", id, err)
	}
	return r
}

// endorseBySQL marks a resource endorsed behind the application's back, as
// a closed ballot would. Foreign keys are off for that one statement so the
// test needs no proposal: the rule under test reads endorsed_at alone.
func (a *app) endorseBySQL(t *testing.T, id int64) {
	t.Helper()
	dbtest.ExecWithoutForeignKeys(t, a.DB, `UPDATE resources SET endorsed_at = ?, endorsed_by = 1, endorsed_digest = '0000000000000000000000000000000000000000000000000000000000000000' WHERE id = ?`, a.Clock.Now(), id)
}

// lastID is the newest row of table.
func (a *app) lastID(t *testing.T, table string) int64 {
	t.Helper()
	var id int64
	if err := a.DB.R.Get(&id, `SELECT coalesce(max(id), 0) FROM "`+table+`"`); err != nil {
		t.Fatal(err)
	}
	return id
}

// changed returns valid with some fields replaced.
func changed(valid url.Values, pairs ...string) url.Values {
	v := clone(valid)
	for i := 0; i+1 < len(pairs); i += 2 {
		v.Set(pairs[i], pairs[i+1])
	}
	return v
}

// fieldErrs maps form field names to the message shown next to them.
func fieldErrs(pairs ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i]] = pairs[i+1]
	}
	return m
}

// badPost is one submission a form must refuse without changing anything.
type badPost struct {
	name   string
	values url.Values
	path   string // where it is posted, when not the form's action
	status int
	errors map[string]string // field name → message in <small id="f-<field>-error">
	text   string            // a message shown on the page, not next to a field
	echo   []string          // what was typed, which must come back escaped
}

// libForm is a form and the submissions it must refuse.
type libForm struct {
	page, action string
	client       *client
	cases        []badPost
}

func (f libForm) run(t *testing.T, a *app) {
	t.Helper()
	token := f.client.csrf(t, f.page)
	cases := append(slices.Clip(f.cases), badPost{name: "a body over 64 KiB is refused before it is read",
		status: http.StatusRequestEntityTooLarge, text: "What you sent is larger than Plenary accepts."})
	for _, bc := range cases {
		t.Run(bc.name, func(t *testing.T) {
			before := a.snapshot(t)
			for _, table := range []string{"resources", "demands", "demand_resources"} {
				if _, ok := before[table]; !ok {
					t.Fatalf("the snapshot does not cover %s", table)
				}
			}
			path := cmp.Or(bc.path, f.action)
			var res *response
			if bc.status == http.StatusRequestEntityTooLarge {
				body := "csrf_token=" + url.QueryEscape(token) + "&title=" + strings.Repeat("a", server.MaxBodyBytes)
				res = f.client.request(t, http.MethodPost, path, body, nil)
			} else {
				values := clone(bc.values)
				values.Set("csrf_token", token)
				res = f.client.post(t, path, values)
			}
			res.wantStatus(t, bc.status)
			for field, msg := range bc.errors {
				res.wantFieldError(t, "f-"+field, msg)
			}
			if bc.text != "" {
				res.wantText(t, bc.text)
			}
			for _, typed := range bc.echo {
				if !strings.Contains(res.Body, escaped(typed)) {
					t.Errorf("%s: what was typed, %q, is not echoed back escaped", res, clip(typed))
				}
			}
			for _, raw := range []string{libScript, "<img src=x", libSQL} {
				if strings.Contains(res.Body, raw) {
					t.Errorf("%s: the page contains %q unescaped", res, raw)
				}
			}
			a.wantUnchanged(t, before)
		})
	}
}

// clip shortens s for a test name or a failure message.
func clip(s string) string {
	if len(s) > 24 {
		return strings.ToValidUTF8(s[:24], "") + "…"
	}
	return s
}

// validResource is a resource form that would be accepted.
func validResource(title string) url.Values {
	return url.Values{"title": {title}, "url": {"https://example.org/" + url.PathEscape(title)},
		"authors": {"Trebor Scholz\nNathan Schneider"}, "publisher": {"OR Books"}, "year": {"2016"},
		"format": {"book"}, "language": {"en"}, "region": {"international"}, "topics": {"platform co-ops, ownership"},
		"licence": {"CC BY 4.0"}, "summary": {"Essays on *platform* co-ops."}, "doi": {"10.1177/0896920519870577"},
		"isbn": {"978-0-306-40615-7"}}
}

// resourceCases are the bad submissions of the resource form, new or edit.
func resourceCases(valid url.Values) []badPost {
	const (
		urlMsg    = "Enter a full web address starting with https:// or http://."
		yearMsg   = "Enter a year between 1800 and 2100, or leave it empty."
		formatMsg = "Choose one of the formats listed."
		langMsg   = "Enter a language tag such as en, fr, pt-BR or es-419."
		doiMsg    = "Enter a DOI such as 10.1177/0896920519870577."
		isbnMsg   = "Enter a 10- or 13-digit ISBN."
		badChars  = "This contains invalid characters."
		authorMsg = "Each author's name must be plain text under 120 characters."
		topicMsg  = "Each topic must be plain text under 40 characters."
	)
	unprocessable := http.StatusUnprocessableEntity
	cases := []badPost{
		{name: "an empty form gets a message on each required field", values: url.Values{}, status: unprocessable,
			errors: fieldErrs("title", "Enter a title.", "url", "Enter the link where the resource can be found.", "format", formatMsg)},
		{name: "a title of only spaces is no title", values: changed(valid, "title", "   "), status: unprocessable,
			errors: fieldErrs("title", "Enter a title.")},
		{name: "an empty link is refused", values: changed(valid, "url", ""), status: unprocessable,
			errors: fieldErrs("url", "Enter the link where the resource can be found.")},
		{name: "an empty format is refused", values: changed(valid, "format", ""), status: unprocessable,
			errors: fieldErrs("format", formatMsg)},

		{name: "an over-long title is refused", values: changed(valid, "title", libLong), status: unprocessable,
			errors: fieldErrs("title", "Keep this under 300 characters.")},
		{name: "an over-long link is refused", values: changed(valid, "url", "https://example.org/"+libLong), status: unprocessable,
			errors: fieldErrs("url", "This link is too long.")},
		{name: "an over-long author is refused", values: changed(valid, "authors", libLong), status: unprocessable,
			errors: fieldErrs("authors", authorMsg)},
		{name: "more than 30 authors are refused", values: changed(valid, "authors", strings.Repeat("A. Author\n", 31)+"Z"), status: unprocessable,
			errors: fieldErrs("authors", "List at most 30 authors.")},
		{name: "an over-long publisher is refused", values: changed(valid, "publisher", libLong), status: unprocessable,
			errors: fieldErrs("publisher", "Keep this under 200 characters.")},
		{name: "an over-long year is refused", values: changed(valid, "year", strings.Repeat("1", 60_000)), status: unprocessable,
			errors: fieldErrs("year", yearMsg)},
		{name: "an over-long format is refused", values: changed(valid, "format", libLong), status: unprocessable,
			errors: fieldErrs("format", formatMsg)},
		{name: "an over-long language is refused", values: changed(valid, "language", libLong), status: unprocessable,
			errors: fieldErrs("language", langMsg)},
		{name: "an over-long region is refused", values: changed(valid, "region", libLong), status: unprocessable,
			errors: fieldErrs("region", "Keep this under 80 characters.")},
		{name: "an over-long topic is refused", values: changed(valid, "topics", libLong), status: unprocessable,
			errors: fieldErrs("topics", topicMsg)},
		{name: "more than 10 topics are refused", values: changed(valid, "topics", "a,b,c,d,e,f,g,h,i,j,k"), status: unprocessable,
			errors: fieldErrs("topics", "Choose at most 10 topics.")},
		{name: "an over-long licence is refused", values: changed(valid, "licence", libLong), status: unprocessable,
			errors: fieldErrs("licence", "Keep this under 100 characters.")},
		{name: "an over-long summary is refused", values: changed(valid, "summary", libLong), status: unprocessable,
			errors: fieldErrs("summary", "Keep the summary under 5000 characters.")},
		{name: "an over-long DOI is refused", values: changed(valid, "doi", "10.1234/"+libLong), status: unprocessable,
			errors: fieldErrs("doi", doiMsg)},
		{name: "an over-long ISBN is refused", values: changed(valid, "isbn", strings.Repeat("9", 60_000)), status: unprocessable,
			errors: fieldErrs("isbn", isbnMsg)},

		{name: "a javascript: link is refused", values: changed(valid, "url", "javascript:alert(1)"), status: unprocessable,
			errors: fieldErrs("url", urlMsg), echo: []string{"javascript:alert(1)"}},
		{name: "an ftp link is refused", values: changed(valid, "url", "ftp://x"), status: unprocessable,
			errors: fieldErrs("url", urlMsg)},
		{name: "a link without a host is refused", values: changed(valid, "url", "http://"), status: unprocessable,
			errors: fieldErrs("url", urlMsg)},
		{name: "a link with a password in it is refused", values: changed(valid, "url", "https://user:pw@host/"), status: unprocessable,
			errors: fieldErrs("url", urlMsg)},
		{name: "a link with a space is refused", values: changed(valid, "url", "https://example.org/a b"), status: unprocessable,
			errors: fieldErrs("url", "A link cannot contain spaces or invisible characters.")},
		{name: "a year in letters is refused", values: changed(valid, "year", "abc"), status: unprocessable,
			errors: fieldErrs("year", yearMsg)},
		{name: "a year before 1800 is refused", values: changed(valid, "year", "1799"), status: unprocessable,
			errors: fieldErrs("year", yearMsg)},
		{name: "a year after 2100 is refused", values: changed(valid, "year", "3000"), status: unprocessable,
			errors: fieldErrs("year", yearMsg)},
		{name: "a language with punctuation is refused", values: changed(valid, "language", "english!"), status: unprocessable,
			errors: fieldErrs("language", langMsg)},
		{name: "a one-letter language is refused", values: changed(valid, "language", "x"), status: unprocessable,
			errors: fieldErrs("language", langMsg)},
		{name: "a format not on the list is refused", values: changed(valid, "format", "weapon"), status: unprocessable,
			errors: fieldErrs("format", formatMsg)},
		{name: "a DOI that is not one is refused", values: changed(valid, "doi", "banana"), status: unprocessable,
			errors: fieldErrs("doi", doiMsg), echo: []string{"banana"}},
		{name: "a DOI with invalid UTF-8 after a valid prefix is refused", values: changed(valid, "doi", "10.1234/ab"+libBadUTF), status: unprocessable,
			errors: fieldErrs("doi", doiMsg)},
		{name: "a three-digit ISBN is refused", values: changed(valid, "isbn", "123"), status: unprocessable,
			errors: fieldErrs("isbn", isbnMsg)},
		{name: "an ISBN with a wrong check digit is refused", values: changed(valid, "isbn", "978-0-306-40615-8"), status: unprocessable,
			errors: fieldErrs("isbn", isbnMsg)},
		{name: "a control character in the title is refused", values: changed(valid, "title", "A\x00B"), status: unprocessable,
			errors: fieldErrs("title", "This contains control characters.")},

		// Markup and SQL are text like any other: kept out of the database by
		// the missing link, and shown back escaped.
		{name: "markup in every text field comes back escaped", status: unprocessable,
			values: changed(valid, "url", "", "title", libScript, "authors", libImg, "publisher", libScript,
				"region", libImg, "topics", libScript, "licence", libImg, "summary", libScript+libImg),
			errors: fieldErrs("url", "Enter the link where the resource can be found."),
			echo:   []string{libScript, libImg, libScript + libImg}},
		{name: "an attribute breakout in the link comes back escaped", values: changed(valid, "url", "https://example.org/"+libImg), status: unprocessable,
			errors: fieldErrs("url", "A link cannot contain spaces or invisible characters."), echo: []string{"https://example.org/" + libImg}},
		{name: "SQL in the title is text, echoed as typed", values: changed(valid, "title", libSQL, "year", "abc"), status: unprocessable,
			errors: fieldErrs("year", yearMsg), echo: []string{libSQL}},
	}
	// Invalid UTF-8 in each field in turn.
	invalid := map[string]string{
		"title": badChars, "url": "A link cannot contain spaces or invisible characters.", "authors": authorMsg,
		"publisher": badChars, "year": yearMsg, "format": formatMsg, "language": langMsg, "region": badChars,
		"topics": topicMsg, "licence": badChars, "summary": badChars, "doi": doiMsg, "isbn": isbnMsg,
	}
	for _, field := range slices.Sorted(maps.Keys(invalid)) {
		cases = append(cases, badPost{name: "invalid UTF-8 in the " + field + " is refused", status: unprocessable,
			values: changed(valid, field, "ok"+libBadUTF), errors: fieldErrs(field, invalid[field])})
	}
	return cases
}

func validDemand(title string, resources ...int64) url.Values {
	ids := make([]string, len(resources))
	for i, id := range resources {
		ids[i] = strconv.FormatInt(id, 10)
	}
	return url.Values{"title": {title}, "body": {"Councils should buy from platform co-ops."},
		"audience": {"local government"}, "resources": {strings.Join(ids, ", ")}}
}

func demandCases(w *libWorld, valid url.Values) []badPost {
	const (
		resourcesMsg = "List library numbers such as 3, 14, 15."
		audienceMsg  = "Choose who the demand is addressed to."
	)
	noListed := func(id int64) string { return fmt.Sprintf("There is no listed resource number %d.", id) }
	many := make([]string, 21)
	for i := range many {
		many[i] = strconv.Itoa(i + 1)
	}
	unprocessable := http.StatusUnprocessableEntity
	return []badPost{
		{name: "an empty form gets a message on each required field", values: url.Values{}, status: unprocessable,
			errors: fieldErrs("title", "Enter a short title for the demand.", "body", "Say what the demand asks for, and of whom.", "audience", audienceMsg)},
		{name: "an empty title is refused", values: changed(valid, "title", " "), status: unprocessable,
			errors: fieldErrs("title", "Enter a short title for the demand.")},
		{name: "an empty body is refused", values: changed(valid, "body", "\r\n"), status: unprocessable,
			errors: fieldErrs("body", "Say what the demand asks for, and of whom.")},
		{name: "an empty audience is refused", values: changed(valid, "audience", ""), status: unprocessable,
			errors: fieldErrs("audience", audienceMsg)},
		{name: "an over-long title is refused", values: changed(valid, "title", libLong), status: unprocessable,
			errors: fieldErrs("title", "Keep the title under 200 characters.")},
		{name: "an over-long body is refused", values: changed(valid, "body", libLong), status: unprocessable,
			errors: fieldErrs("body", "Keep the text under 10000 characters.")},
		{name: "an over-long audience is refused", values: changed(valid, "audience", libLong), status: unprocessable,
			errors: fieldErrs("audience", audienceMsg)},
		{name: "more than 20 supporting resources are refused", values: changed(valid, "resources", strings.Join(many, ", ")), status: unprocessable,
			errors: fieldErrs("resources", "List at most 20 supporting resources.")},
		{name: "an over-long list of resources is refused", values: changed(valid, "resources", strings.Repeat("1", 60_000)), status: unprocessable,
			errors: fieldErrs("resources", resourcesMsg)},
		{name: "an audience not on the list is refused", values: changed(valid, "audience", "aliens"), status: unprocessable,
			errors: fieldErrs("audience", audienceMsg)},
		{name: "resources in letters are refused", values: changed(valid, "resources", "abc"), status: unprocessable,
			errors: fieldErrs("resources", resourcesMsg), echo: []string{"abc"}},
		{name: "a negative resource number is refused", values: changed(valid, "resources", "-1"), status: unprocessable,
			errors: fieldErrs("resources", resourcesMsg)},
		{name: "a resource that does not exist is refused", values: changed(valid, "resources", "99999"), status: unprocessable,
			errors: fieldErrs("resources", noListed(99999))},
		{name: "someone's pending resource cannot be cited", values: changed(valid, "resources", strconv.FormatInt(w.othersPending, 10)), status: unprocessable,
			errors: fieldErrs("resources", noListed(w.othersPending))},
		{name: "one's own pending resource cannot be cited", values: changed(valid, "resources", strconv.FormatInt(w.pending, 10)), status: unprocessable,
			errors: fieldErrs("resources", noListed(w.pending))},
		{name: "a hidden resource cannot be cited", values: changed(valid, "resources", fmt.Sprintf("%d, %d", w.othersListed, w.hidden)), status: unprocessable,
			errors: fieldErrs("resources", noListed(w.hidden))},
		{name: "invalid UTF-8 in the title is refused", values: changed(valid, "title", "ok"+libBadUTF), status: unprocessable,
			errors: fieldErrs("title", "The title contains invalid characters.")},
		{name: "invalid UTF-8 in the body is refused", values: changed(valid, "body", "ok"+libBadUTF), status: unprocessable,
			errors: fieldErrs("body", "The text contains invalid characters.")},
		{name: "invalid UTF-8 in the audience is refused", values: changed(valid, "audience", libBadUTF), status: unprocessable,
			errors: fieldErrs("audience", audienceMsg)},
		{name: "invalid UTF-8 in the resources is refused", values: changed(valid, "resources", libBadUTF), status: unprocessable,
			errors: fieldErrs("resources", resourcesMsg)},
		{name: "markup in the title and body comes back escaped", values: changed(valid, "title", libScript, "body", libImg, "audience", ""),
			status: unprocessable, errors: fieldErrs("audience", audienceMsg), echo: []string{libScript, libImg}},
		{name: "markup in the resources comes back escaped", values: changed(valid, "resources", libImg), status: unprocessable,
			errors: fieldErrs("resources", resourcesMsg), echo: []string{libImg}},
		{name: "SQL in the title is text, echoed as typed", values: changed(valid, "title", libSQL, "audience", "aliens"), status: unprocessable,
			errors: fieldErrs("audience", audienceMsg), echo: []string{libSQL}},
	}
}

// forgedPaths are id forms no route may take for a number.
var forgedPaths = []string{"999999", "abc", "-1", "0", "1e3"}

func TestLibraryFormsRefuseBadInput(t *testing.T) {
	t.Parallel()
	w := newLibWorld(t)
	id := func(n int64) string { return strconv.FormatInt(n, 10) }

	t.Run("POST /library/new", func(t *testing.T) {
		libForm{page: "/library/new", action: "/library/new", client: w.memberC,
			cases: resourceCases(validResource("A new report"))}.run(t, w.app)
	})

	t.Run("POST /library/:id/edit", func(t *testing.T) {
		edit := "/library/" + id(w.pending) + "/edit"
		valid := validResource("An edited report")
		cases := resourceCases(valid)
		cases = append(cases,
			badPost{name: "another member's pending resource is not there for them", path: "/library/" + id(w.othersPending) + "/edit",
				values: valid, status: http.StatusNotFound},
			badPost{name: "a hidden resource is not there for a member", path: "/library/" + id(w.hidden) + "/edit",
				values: valid, status: http.StatusNotFound},
			badPost{name: "another member's listed resource is theirs to edit", path: "/library/" + id(w.othersListed) + "/edit",
				values: valid, status: http.StatusForbidden, text: "Your membership does not allow this."},
			badPost{name: "another member's listed resource is refused before its input is checked", path: "/library/" + id(w.othersListed) + "/edit",
				values: changed(valid, "title", ""), status: http.StatusForbidden},
		)
		for _, forged := range forgedPaths {
			cases = append(cases, badPost{name: "a forged id " + forged + " is not found", path: "/library/" + forged + "/edit",
				values: valid, status: http.StatusNotFound})
		}
		libForm{page: edit, action: edit, client: w.memberC, cases: cases}.run(t, w.app)
	})

	t.Run("GET the edit form of what is not one's own", func(t *testing.T) {
		paths := map[string]int{
			"/library/" + id(w.othersPending) + "/edit": http.StatusNotFound,
			"/library/" + id(w.hidden) + "/edit":        http.StatusNotFound,
			"/library/" + id(w.othersListed) + "/edit":  http.StatusForbidden,
			"/demands/" + id(w.othersDemand) + "/edit":  http.StatusForbidden,
		}
		for _, forged := range forgedPaths {
			paths["/library/"+forged+"/edit"] = http.StatusNotFound
			paths["/demands/"+forged+"/edit"] = http.StatusNotFound
		}
		for path, status := range paths {
			r := w.memberC.get(t, path)
			r.wantStatus(t, status)
			if strings.Contains(r.Body, `action="`+path+`"`) {
				t.Errorf("%s: the page holds the edit form", r)
			}
		}
	})

	t.Run("POST /demands/new", func(t *testing.T) {
		libForm{page: "/demands/new", action: "/demands/new", client: w.memberC,
			cases: demandCases(w, validDemand("Buy from co-ops", w.othersListed))}.run(t, w.app)
	})

	t.Run("POST /demands/:id/edit", func(t *testing.T) {
		edit := "/demands/" + id(w.demand) + "/edit"
		valid := validDemand("Buy more from co-ops", w.othersListed)
		cases := append(demandCases(w, valid),
			badPost{name: "another member's demand is theirs to edit", path: "/demands/" + id(w.othersDemand) + "/edit",
				values: valid, status: http.StatusForbidden, text: "Your membership does not allow this."})
		for _, forged := range forgedPaths {
			cases = append(cases, badPost{name: "a forged id " + forged + " is not found", path: "/demands/" + forged + "/edit",
				values: valid, status: http.StatusNotFound})
		}
		libForm{page: edit, action: edit, client: w.memberC, cases: cases}.run(t, w.app)
	})

	t.Run("POST /admin/library/:id/status", func(t *testing.T) {
		action := "/admin/library/" + id(w.pending) + "/status"
		const msg = "Choose listed, hidden or pending."
		var cases []badPost
		// The status comes from buttons, so there is no field to put the
		// message beside: the page says it.
		for _, status := range []string{"", "endorsed", "LISTED", libLong, libScript, libSQL, libBadUTF} {
			cases = append(cases, badPost{name: fmt.Sprintf("status %q is refused", clip(status)),
				values: form("status", status, "back", "/admin/library"), status: http.StatusUnprocessableEntity, text: msg})
		}
		for _, forged := range forgedPaths {
			cases = append(cases, badPost{name: "a forged id " + forged + " is not found", path: "/admin/library/" + forged + "/status",
				values: form("status", library.StatusListed), status: http.StatusNotFound})
		}
		libForm{page: "/admin/library", action: action, client: w.adminC, cases: cases}.run(t, w.app)

		libForm{page: "/library", action: action, client: w.memberC, cases: []badPost{{name: "a member is not an admin",
			values: form("status", library.StatusListed), status: http.StatusForbidden}}}.run(t, w.app)
		if got := w.resourceRow(t, w.pending).Status; got != library.StatusPending {
			t.Errorf("the resource is %s after refused status changes, want pending", got)
		}
	})
}

func TestApplicantsCannotAddToTheLibrary(t *testing.T) {
	t.Parallel()
	w := newLibWorld(t)
	token := w.applicantC.csrf(t, "/account")
	before := w.snapshot(t)
	for _, path := range []string{"/library/new", "/demands/new"} {
		t.Run("GET "+path, func(t *testing.T) {
			r := w.applicantC.get(t, path)
			r.wantStatus(t, http.StatusForbidden)
			r.wantText(t, "Only active members can do this.")
		})
		t.Run("POST "+path, func(t *testing.T) {
			values := validResource("An applicant's report")
			if path == "/demands/new" {
				values = validDemand("An applicant's demand", w.othersListed)
			}
			values.Set("csrf_token", token)
			r := w.applicantC.post(t, path, values)
			r.wantStatus(t, http.StatusForbidden)
			r.wantText(t, "Only active members can do this.")
		})
	}
	w.wantUnchanged(t, before)
}

// forgedFields are what a member might add to a form to promote their own
// submission.
func forgedFields(v url.Values, other user) url.Values {
	v = clone(v)
	for k, val := range map[string]string{"status": "listed", "endorsed": "1", "endorsed_by": "1",
		"endorsed_at": "2026-01-01T00:00:00Z", "endorsed_by_proposal": "1", "added_by": strconv.FormatInt(other.ID, 10),
		"listed_at": "2026-01-01T00:00:00Z", "id": "1", "tally": `{"yes":100}`} {
		v.Set(k, val)
	}
	return v
}

func TestMembersCannotPromoteTheirOwnSubmissions(t *testing.T) {
	t.Parallel()
	w := newLibWorld(t)

	t.Run("a new resource stays pending and unendorsed, and is the member's", func(t *testing.T) {
		r := w.memberC.submit(t, "/library/new", "/library/new", forgedFields(validResource("Promoted report"), w.other))
		id := w.lastID(t, "resources")
		r.wantRedirect(t, "/library/"+strconv.FormatInt(id, 10))
		row := w.resourceRow(t, id)
		if row.Title != "Promoted report" || row.Status != library.StatusPending || row.EndorsedAt != nil || row.EndorsedBy != nil ||
			row.AddedBy == nil || *row.AddedBy != w.member.ID {
			t.Errorf("the row is %+v; want the member's pending, unendorsed report", row)
		}
	})

	t.Run("an edit does not list or endorse the resource", func(t *testing.T) {
		path := "/library/" + strconv.FormatInt(w.pending, 10)
		r := w.memberC.submit(t, path+"/edit", path+"/edit", forgedFields(validResource("Edited and promoted"), w.other))
		r.wantRedirect(t, path)
		row := w.resourceRow(t, w.pending)
		if row.Title != "Edited and promoted" || row.Status != library.StatusPending || row.EndorsedAt != nil || row.EndorsedBy != nil ||
			row.AddedBy == nil || *row.AddedBy != w.member.ID {
			t.Errorf("the row is %+v; want the member's pending, unendorsed report", row)
		}
	})

	type demandRow struct {
		Title      string  `db:"title"`
		Status     string  `db:"status"`
		EndorsedAt *string `db:"endorsed_at"`
		EndorsedBy *int64  `db:"endorsed_by"`
		AddedBy    *int64  `db:"added_by"`
		Tally      *string `db:"tally"`
	}
	demand := func(t *testing.T, id int64) demandRow {
		var d demandRow
		if err := w.DB.R.Get(&d, `SELECT title, status, endorsed_at, endorsed_by, added_by, tally FROM demands WHERE id = ?`, id); err != nil {
			t.Fatal(err)
		}
		return d
	}
	forged := func(v url.Values) url.Values {
		v = forgedFields(v, w.other)
		v.Set("status", library.DemandEndorsed)
		return v
	}
	wantProposed := func(t *testing.T, d demandRow, title string) {
		t.Helper()
		if d.Title != title || d.Status != library.DemandProposed || d.EndorsedAt != nil || d.EndorsedBy != nil || d.Tally != nil ||
			d.AddedBy == nil || *d.AddedBy != w.member.ID {
			t.Errorf("the demand is %+v; want the member's proposed, unendorsed demand", d)
		}
	}

	t.Run("a new demand is proposed and the member's", func(t *testing.T) {
		r := w.memberC.submit(t, "/demands/new", "/demands/new", forged(validDemand("Promoted demand", w.othersListed)))
		id := w.lastID(t, "demands")
		r.wantRedirect(t, "/demands/"+strconv.FormatInt(id, 10))
		wantProposed(t, demand(t, id), "Promoted demand")
	})

	t.Run("an edited demand stays proposed", func(t *testing.T) {
		path := "/demands/" + strconv.FormatInt(w.demand, 10)
		r := w.memberC.submit(t, path+"/edit", path+"/edit", forged(validDemand("Edited demand", w.othersListed)))
		r.wantRedirect(t, path)
		wantProposed(t, demand(t, w.demand), "Edited demand")
	})
}

func TestSubmitterEditsUntilEndorsed(t *testing.T) {
	t.Parallel()
	w := newLibWorld(t)
	path := "/library/" + strconv.FormatInt(w.pending, 10)
	edit := func(t *testing.T, c *client, title string) *response {
		t.Helper()
		values := validResource(title)
		values.Set("csrf_token", c.csrf(t, "/library"))
		return c.post(t, path+"/edit", values)
	}

	t.Run("the submitter edits their pending resource", func(t *testing.T) {
		w.memberC.get(t, path+"/edit").wantStatus(t, http.StatusOK)
		edit(t, w.memberC, "Edited while pending").wantRedirect(t, path)
		if got := w.resourceRow(t, w.pending).Title; got != "Edited while pending" {
			t.Errorf("title is %q after the edit", got)
		}
	})

	t.Run("the submitter still edits it once an admin lists it", func(t *testing.T) {
		r := w.adminC.submit(t, path, "/admin/library/"+strconv.FormatInt(w.pending, 10)+"/status",
			form("status", library.StatusListed, "back", path))
		r.wantRedirect(t, path)
		w.memberC.get(t, path+"/edit").wantStatus(t, http.StatusOK)
		edit(t, w.memberC, "Edited while listed").wantRedirect(t, path)
		if got := w.resourceRow(t, w.pending); got.Title != "Edited while listed" || got.Status != library.StatusListed {
			t.Errorf("the row is %+v after the edit", got)
		}
	})

	t.Run("another member can neither open nor post the edit form", func(t *testing.T) {
		before := w.snapshot(t)
		w.otherC.get(t, path+"/edit").wantStatus(t, http.StatusForbidden)
		edit(t, w.otherC, "Taken over").wantStatus(t, http.StatusForbidden)
		w.wantUnchanged(t, before)
	})

	t.Run("once endorsed, the submitter can no longer edit it", func(t *testing.T) {
		w.endorseBySQL(t, w.pending)
		before := w.snapshot(t)
		g := w.memberC.get(t, path+"/edit")
		g.wantStatus(t, http.StatusForbidden)
		g.wantText(t, "propose an amendment")
		r := edit(t, w.memberC, "Edited after endorsement")
		r.wantStatus(t, http.StatusUnprocessableEntity)
		r.wantText(t, "This resource was endorsed by ballot; to change it, propose an amendment, or propose withdrawing the endorsement.")
		page := w.memberC.get(t, path)
		page.wantStatus(t, http.StatusOK)
		if strings.Contains(page.Body, `href="`+path+`/edit"`) {
			t.Errorf("the endorsed resource's page still offers its submitter an Edit link")
		}
		w.wantUnchanged(t, before)
	})

	// Issue 10: what a ballot decided stays decided, admins included; an
	// amendment ballot is the way (amend_test.go).
	t.Run("an admin cannot change an endorsed resource either, and is told how", func(t *testing.T) {
		before := w.snapshot(t)
		g := w.adminC.get(t, path+"/edit")
		g.wantStatus(t, http.StatusForbidden)
		g.wantText(t, "propose an amendment")
		r := edit(t, w.adminC, "Corrected by an admin")
		r.wantStatus(t, http.StatusUnprocessableEntity)
		r.wantText(t, "This resource was endorsed by ballot; to change it, propose an amendment, or propose withdrawing the endorsement.")
		if got := w.resourceRow(t, w.pending); got.Title == "Corrected by an admin" || got.EndorsedAt == nil {
			t.Errorf("the row is %+v after the admin's edit; want it unchanged, still endorsed", got)
		}
		w.wantUnchanged(t, before)
	})
}

func TestSQLInATitleIsStoredAsTyped(t *testing.T) {
	t.Parallel()
	w := newLibWorld(t)
	r := w.memberC.submit(t, "/library/new", "/library/new", validResource(libSQL))
	id := w.lastID(t, "resources")
	r.wantRedirect(t, "/library/"+strconv.FormatInt(id, 10))
	if got := w.resourceRow(t, id).Title; got != libSQL {
		t.Errorf("title stored as %q, want %q", got, libSQL)
	}
	page := w.memberC.get(t, "/library/"+strconv.FormatInt(id, 10))
	page.wantStatus(t, http.StatusOK)
	page.wantText(t, libSQL)
}

// resultsCount reads the number of results from the library page's
// heading.
var resultsHeading = regexp.MustCompile(`<h2 id="results-h"[^>]*>(\d+) resources?`)

func resultsCount(t *testing.T, r *response) int {
	t.Helper()
	m := resultsHeading.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("%s: no results heading (#results-h) on the page:\n%s", r, excerpt(r.Body))
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// resultIDs are the resources listed on a library page, in order.
var resultLink = regexp.MustCompile(`<article class="resource">\s*<h3><a href="/library/(\d+)">`)

func resultIDs(body string) []int64 {
	var ids []int64
	for _, m := range resultLink.FindAllStringSubmatch(body, -1) {
		id, _ := strconv.ParseInt(m[1], 10, 64)
		ids = append(ids, id)
	}
	return ids
}

func TestLibrarySearchTakesAnyInput(t *testing.T) {
	t.Parallel()
	w := newLibWorld(t)
	anon := w.client()

	euros := strings.Repeat("€", 10_000/3+1) // cut at 2,000 bytes, mid-character
	odd := []struct {
		name, q string
		echo    string // how the search box must show it; "" when it is cut or cleaned
	}{
		{"quotes", `"platform co-ops"`, `"platform co-ops"`},
		{"an unbalanced quote", `"platform co-op`, `"platform co-op`},
		{"a bare AND", "AND", "AND"},
		{"OR NOT", "co-op OR NOT union", "co-op OR NOT union"},
		{"a star", "*", "*"},
		{"NEAR(", "NEAR(platform", "NEAR(platform"},
		{"a minus", "-", "-"},
		{"a leading minus", "-platform", "-platform"},
		{"a column filter", "title:platform", "title:platform"},
		{"emoji", "🤝 co-op 🌍", "🤝 co-op 🌍"},
		{"2,000 characters", strings.Repeat("a", 2000), strings.Repeat("a", 2000)},
		{"10,000 characters", strings.Repeat("co-op ", 1700), strings.Repeat("co-op ", 1700)[:2000]},
		{"10,000 characters cut inside a character", euros, ""},
		{"a script tag", libScript, libScript},
		{"an attribute breakout", libImg, libImg},
		{"SQL", libSQL, libSQL},
	}
	for _, c := range odd {
		t.Run("q="+c.name, func(t *testing.T) {
			r := anon.get(t, "/library?q="+url.QueryEscape(c.q))
			if !r.wantStatus(t, http.StatusOK) {
				return
			}
			resultsCount(t, r)
			if c.echo != "" && !strings.Contains(r.Body, `value="`+escaped(c.echo)+`"`) {
				t.Errorf("%s: the search box does not show %q escaped", r, clip(c.echo))
			}
			for _, raw := range []string{libScript, "<img src=x"} {
				if strings.Contains(r.Body, raw) {
					t.Errorf("%s: the page contains %q unescaped", r, raw)
				}
			}
		})
	}
	for _, raw := range []string{"%00", "%ff%fe", "co%ffop", "%", "%zz"} {
		t.Run("q="+raw, func(t *testing.T) {
			r := anon.get(t, "/library?q="+raw)
			if r.wantStatus(t, http.StatusOK) {
				resultsCount(t, r)
			}
		})
	}

	t.Run("a search for markup finds nothing and says so", func(t *testing.T) {
		r := anon.get(t, "/library?q="+url.QueryEscape(libScript))
		if n := resultsCount(t, r); n != 0 {
			t.Errorf("%s: %d results", r, n)
		}
	})

	manyTopics := url.Values{}
	for i := range 100 {
		manyTopics.Add("topic", fmt.Sprintf("topic %d", i))
	}
	junk := []string{
		"topic=" + url.QueryEscape(libScript),
		"topic=" + url.QueryEscape(libImg) + "&format=" + url.QueryEscape(libScript) + "&language=" + url.QueryEscape(libSQL) + "&region=%ff",
		manyTopics.Encode(),
		"topic=" + url.QueryEscape(libLong[:5000]),
		"from=abc", "to=-5", "from=2100&to=1800", "from=99999999999999999999",
		"page=999999999999", "page=-1", "page=abc",
		"per_page=100000", "per_page=-5", "per_page=0",
		"sort=" + url.QueryEscape("';drop"), "sort=relevance", "q=co-op&sort=year", "sort=title&page=2&per_page=3",
	}
	for _, q := range junk {
		t.Run("junk "+clip(q), func(t *testing.T) {
			r := anon.get(t, "/library?"+q)
			if !r.wantStatus(t, http.StatusOK) {
				return
			}
			resultsCount(t, r)
			for _, raw := range []string{libScript, "<img src=x"} {
				if strings.Contains(r.Body, raw) {
					t.Errorf("%s: the page contains %q unescaped", r, raw)
				}
			}
		})
	}

	t.Run("two facets narrow the results", func(t *testing.T) {
		count := func(where string, args ...any) int {
			var n int
			if err := w.DB.R.Get(&n, `SELECT count(*) FROM resources r WHERE status = 'listed' AND `+where, args...); err != nil {
				t.Fatal(err)
			}
			return n
		}
		topic := "EXISTS (SELECT 1 FROM " + w.DB.JSONEach("r.topics", "t") + " WHERE t.value = 'platform co-ops')"
		all := resultsCount(t, anon.get(t, "/library"))
		one := resultsCount(t, anon.get(t, "/library?topic=platform+co-ops"))
		two := resultsCount(t, anon.get(t, "/library?topic=platform+co-ops&format=book"))
		if want := count("1 = 1"); all != want {
			t.Errorf("the whole library shows %d, want %d", all, want)
		}
		if want := count(topic); one != want {
			t.Errorf("topic=platform co-ops shows %d, want %d", one, want)
		}
		if want := count(topic + " AND r.format = 'book'"); two != want {
			t.Errorf("topic=platform co-ops&format=book shows %d, want %d", two, want)
		}
		if !(0 < two && two < one && one < all) {
			t.Errorf("the counts do not narrow: all %d, one facet %d, two facets %d", all, one, two)
		}
	})
}

func TestExportsHonourTheSearchAndImportBack(t *testing.T) {
	t.Parallel()
	w := newLibWorld(t)
	anon := w.client()
	listedTitles := func(t *testing.T, where string) []string {
		t.Helper()
		var titles []string
		if err := w.DB.R.Select(&titles, `SELECT title FROM resources r WHERE status = 'listed' AND `+where+` ORDER BY title`); err != nil {
			t.Fatal(err)
		}
		return titles
	}
	searches := []struct {
		query string
		where string
	}{
		{"topic=unions", `EXISTS (SELECT 1 FROM ` + w.DB.JSONEach("r.topics", "t") + ` WHERE t.value = 'unions')`},
		{"format=book&topic=platform+co-ops", `format = 'book' AND EXISTS (SELECT 1 FROM ` + w.DB.JSONEach("r.topics", "t") + ` WHERE t.value = 'platform co-ops')`},
		{"", "1 = 1"},
	}
	formats := []struct {
		suffix, contentType string
	}{
		{"json", "application/json"},
		{"csv", "text/csv"},
		{"csl.json", "application/vnd.citationstyles.csl+json"},
	}
	for _, s := range searches {
		want := listedTitles(t, s.where)
		if len(want) == 0 {
			t.Fatalf("the search %q has no results to export", s.query)
		}
		for _, f := range formats {
			t.Run(f.suffix+"?"+s.query, func(t *testing.T) {
				r := anon.get(t, "/library/export."+f.suffix+"?"+s.query)
				if !r.wantStatus(t, http.StatusOK) {
					return
				}
				if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, f.contentType) {
					t.Errorf("Content-Type %q, want %s", ct, f.contentType)
				}
				if cd := r.Header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") {
					t.Errorf("Content-Disposition %q, want an attachment", cd)
				}
				for _, hidden := range []string{"Member's pending report", "Other's pending report", "Other's hidden report"} {
					if strings.Contains(r.Body, hidden) {
						t.Errorf("the export holds %q, which is not listed", hidden)
					}
				}

				// Into an empty library, as another co-op would.
				d := dbtest.Open(t)
				lib := library.New(d, time.Now)
				rep, err := lib.Import(context.Background(), []byte(r.Body))
				if err != nil {
					t.Fatalf("import the export: %v (rejected: %v)", err, rep.Rejected)
				}
				var got []string
				if err := d.R.Select(&got, `SELECT title FROM resources ORDER BY title`); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, want) {
					t.Errorf("imported titles:\n  %s\nwant the search's:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
				}
			})
		}
	}
}

// ldJSON finds a page's JSON-LD block: everything up to the first
// </script>, which is where a browser would end it.
var ldJSON = regexp.MustCompile(`(?s)<script type="application/ld\+json">(.*?)</script>`)

func TestResourcePageDescribesItselfSafely(t *testing.T) {
	t.Parallel()
	w := newLibWorld(t)
	anon := w.client()
	const breakout = `</script><script>alert(1)</script>`
	hostile := w.submit(t, w.member, "Co-ops "+breakout+` & "quotes"`, library.StatusListed)

	for _, id := range []int64{1, w.othersListed, hostile} {
		var r library.Resource
		if err := w.DB.R.Get(&r, `SELECT id, title, url FROM resources WHERE id = ?`, id); err != nil {
			t.Fatal(err)
		}
		t.Run(r.Title, func(t *testing.T) {
			page := anon.get(t, "/library/"+strconv.FormatInt(id, 10))
			if !page.wantStatus(t, http.StatusOK) {
				return
			}
			if meta := `<meta name="citation_title" content="` + escaped(r.Title) + `">`; !strings.Contains(page.Body, meta) {
				t.Errorf("the page has no %s", meta)
			}
			if strings.Contains(page.Body, "</script><script>") || strings.Contains(page.Body, "<script>alert") {
				t.Errorf("the title broke out of its script block:\n%s", page.Body)
			}
			m := ldJSON.FindStringSubmatch(page.Body)
			if m == nil {
				t.Fatalf("no JSON-LD block on the page")
			}
			var ld map[string]any
			if err := json.Unmarshal([]byte(m[1]), &ld); err != nil {
				t.Fatalf("the JSON-LD block is not JSON: %v\n%s", err, m[1])
			}
			if ld["@context"] != "https://schema.org" {
				t.Errorf("@context is %v, want https://schema.org", ld["@context"])
			}
			if ld["name"] != r.Title {
				t.Errorf("name is %q, want %q", ld["name"], r.Title)
			}
			if want := w.URL + "/library/" + strconv.FormatInt(id, 10); ld["@id"] != want {
				t.Errorf("@id is %v, want %s", ld["@id"], want)
			}
			if ld["url"] != r.URL {
				t.Errorf("url is %v, want %s", ld["url"], r.URL)
			}
		})
	}
}

// Issue 16: a card names a publisher who is also the author once, and
// languages are read by name, not by tag, in the facets and on the page.
func TestLibraryCardsSayThingsOnce(t *testing.T) {
	t.Parallel()
	w := newLibWorld(t)
	page := w.memberC.get(t, "/library?q=common+sense")
	page.wantStatus(t, 200)
	if strings.Contains(page.Body, "Co-operatives UK · Co-operatives UK") {
		t.Error("a card names its author again as its publisher")
	}
	page.wantText(t, "Co-operatives UK")
	all := w.memberC.get(t, "/library")
	if !regexp.MustCompile(`</span> English <span class="count">`).MatchString(all.Body) {
		t.Error("the language facet does not say English")
	}
	if strings.Contains(all.Body, `</span> en <span class="count">`) {
		t.Error("the language facet shows the tag en")
	}
	found, err := w.Lib.Search(context.Background(), library.Query{Text: "Not Alone"})
	if err != nil || len(found.Resources) == 0 {
		t.Fatalf("search: %v", err)
	}
	res := w.memberC.get(t, fmt.Sprintf("/library/%d", found.Resources[0].ID))
	if !strings.Contains(res.Body, "<dt>Language</dt><dd>English</dd>") {
		t.Error("the resource page does not name its language")
	}
}
