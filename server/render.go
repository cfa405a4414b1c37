package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"plenary/governance"
	"plenary/internal/markdown"
	"plenary/internal/tz"
	"plenary/library"
)

// view is what every page template gets. Data is the page's own typed data.
type view struct {
	Title  string
	Coop   string
	Member *governance.Member
	Flash  []flash
	Path   string
	Form   form
	Data   any
	// Zone is where the visitor reads times: the member's own zone, or
	// the co-op's. Templates write every time through date and datetime
	// with it, so a time on a page is always in the viewer's zone, named.
	Zone *time.Location
	// Waiting is what needs an admin (applications, the library's queue,
	// ballots closing today), for the navigation and the home page; nil
	// for anyone else.
	Waiting *waiting
	// token gives the CSRF token; see CSRFToken.
	token func() string
}

// waiting is what needs an admin now.
type waiting struct {
	governance.Waiting
	Queue int
}

// Any says whether anything needs the admin.
func (w waiting) Any() bool { return w.Applications+w.Queue+w.ClosingToday > 0 }

// CSRFToken is the token for the page's forms. Templates ask for it only
// where they draw a form, and only then does a visitor without a session
// get one.
func (v view) CSRFToken() string {
	if v.token == nil {
		return ""
	}
	return v.token()
}

// form is a form's input as typed, echoed back with a message per field
// when it was wrong. The "" key holds a message about the form as a whole.
type form struct {
	Values map[string]string
	Errors map[string]string
}

func (f form) Value(name string) string { return f.Values[name] }
func (f form) Error(name string) string { return f.Errors[name] }

// postedForm echoes back the named fields of the posted form, never the
// passwords.
func postedForm(c *gin.Context, names ...string) form {
	f := form{Values: map[string]string{}}
	for _, n := range names {
		if !strings.Contains(n, "password") {
			f.Values[n] = c.PostForm(n)
		}
	}
	return f
}

// errorsOf returns the per-field messages of a domain ValidationError, or
// nil if err is not one.
func errorsOf(err error) map[string]string {
	var v governance.ValidationError // the same type as library's
	if errors.As(err, &v) {
		return v
	}
	return nil
}

// parsePages parses each page under templates/pages with the layout and the
// partials into its own set, keyed by its path without ".html".
func parsePages(fsys fs.FS) (map[string]*template.Template, error) {
	pages := map[string]*template.Template{}
	err := fs.WalkDir(fsys, "pages", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".html") {
			return err
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(fsys, "layout.html", "partials/*.html", p)
		if err != nil {
			return fmt.Errorf("server: parse %s: %w", p, err)
		}
		pages[strings.TrimSuffix(strings.TrimPrefix(p, "pages/"), ".html")] = t
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(pages) == 0 {
		return nil, errors.New("server: no page templates found")
	}
	return pages, nil
}

// field is what the input partial needs to draw one labelled input.
type field struct {
	ID, Name, Label, Type, Autocomplete, Value, Error, Hint string
}

var funcs = template.FuncMap{
	// receiptGroups splits a receipt into its groups of four, to be read
	// and written down a group at a time.
	"receiptGroups": func(code string) []string { return strings.Split(code, "-") },
	// receiptFile is a receipt as a small text file, for a download link:
	// built in the page so that the receipt never travels in an address
	// that a log could keep. Only the page's path and the receipt go in,
	// escaped.
	"receiptFile": func(path, code string) template.URL {
		text := "Plenary ballot receipt\n\nBallot: " + path + "\nReceipt: " + code + "\n\n" +
			"Keep it private. With it you can change your vote until voting closes,\n" +
			"and find your ballot in the published box afterwards.\n"
		return template.URL("data:text/plain;charset=utf-8," + url.PathEscape(text))
	},
	// input builds a field from the form: (input .Form "email" "Email" "email" "email").
	"input": func(f form, name, label, typ, autocomplete string, hint ...string) field {
		return field{ID: "f-" + name, Name: name, Label: label, Type: typ, Autocomplete: autocomplete,
			Value: f.Values[name], Error: f.Errors[name], Hint: strings.Join(hint, " ")}
	},
	// zoneSelect builds a time zone's <select> from the form: (zoneSelect
	// .Form "time_zone" "Time zone" "The co-op's" "hint"). With a first
	// option, choosing it sends "".
	"zoneSelect": func(f form, name, label, first string, hint ...string) zoneField {
		z := zoneField{field: field{ID: "f-" + name, Name: name, Label: label, Value: f.Values[name], Error: f.Errors[name],
			Hint: strings.Join(hint, " ")}, Default: first, Groups: tz.Groups}
		if z.Value != "" && !slices.Contains(tz.Names, z.Value) {
			// An older alias kept from before, or what was typed: shown
			// as it is, so the form never silently picks another.
			z.Other = z.Value
		}
		return z
	},
	// withID gives a field an id of its own, for pages with two forms that
	// share a field name.
	"withID": func(f field, id string) field { f.ID = id; return f },
	// date and datetime write a time in the viewer's zone, which every
	// page has as $.Zone: (datetime $.Zone .ClosesAt) is "5 Dec 2026
	// 18:00 CET". A ledger entry's time (text) is written to the second.
	"date": func(loc *time.Location, t any) string {
		switch v := t.(type) {
		case time.Time:
			return tz.Date(v, zoneOr(loc))
		case *time.Time:
			if v != nil {
				return tz.Date(*v, zoneOr(loc))
			}
		}
		return ""
	},
	"datetime": func(loc *time.Location, t any) string {
		switch v := t.(type) {
		case time.Time:
			return tz.DateTime(v, zoneOr(loc))
		case *time.Time:
			if v != nil {
				return tz.DateTime(*v, zoneOr(loc))
			}
		case string:
			if tt, err := time.Parse(time.RFC3339Nano, v); err == nil {
				return tz.DateTimeSeconds(tt, zoneOr(loc))
			}
			return v
		}
		return ""
	},
	// zoned hands a partial its item with the viewer's zone: (zoned $.Zone .).
	"zoned": func(loc *time.Location, item any) zonedItem { return zonedItem{Zone: zoneOr(loc), Item: item} },
	"short": func(s string) string {
		if len(s) > 12 {
			return s[:12]
		}
		return s
	},
	"add": func(a, b int) int { return a + b },
	// markdown renders what members wrote, sanitised by the library.
	"markdown": func(src string) template.HTML { return template.HTML(markdown.HTML(src)) },
	"join":     strings.Join,
	"langname": library.LanguageName,
	// tally reads the tally an endorsement stored, for showing the decision
	// behind it.
	"tally": func(raw *string) *storedTally {
		if raw == nil {
			return nil
		}
		var t storedTally
		if json.Unmarshal([]byte(*raw), &t) != nil {
			return nil
		}
		return &t
	},
	"deref2": func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	},
	"deref3": func(p *bool) bool { return p != nil && *p },
	"deref": func(p *int) int {
		if p == nil {
			return 0
		}
		return *p
	},
	"current": func(p, prefix string) bool {
		return p == prefix || (prefix != "/" && strings.HasPrefix(p, prefix+"/"))
	},
}

// zoneField is what the zone-select partial draws.
type zoneField struct {
	field
	Default string // the first option's label, sending ""; none when empty
	Other   string // a value not among the zones offered
	Groups  []tz.Group
}

// zonedItem is what a partial that writes times gets: its item and the
// viewer's zone.
type zonedItem struct {
	Zone *time.Location
	Item any
}

func zoneOr(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

// storedTally is the tally JSON that governance stores with an endorsement.
type storedTally struct {
	Yes      int `json:"yes"`
	No       int `json:"no"`
	Abstain  int `json:"abstain"`
	RollSize int `json:"roll_size"`
}

// render writes a page into a buffer first, so a template error never sends
// half a page.
func (s *Server) render(c *gin.Context, status int, page string, v view) {
	t, ok := s.pages[page]
	if !ok {
		s.log.Error("render: no such page", "page", page)
		s.renderError(c, http.StatusInternalServerError)
		return
	}
	v.Coop = s.cfg.Name
	v.Member = member(c)
	v.Zone = s.zone(c)
	v.token = func() string { return s.formToken(c) }
	v.Path = c.Request.URL.Path
	if v.Member != nil && v.Member.IsAdmin() {
		// Three counts a page, for the co-op's few admins: a failure
		// leaves them out rather than the page.
		if w, err := s.waitingFor(c, v.Zone); err == nil {
			v.Waiting = &w
		} else {
			s.log.Error("render: what waits for admins", "err", err)
		}
	}
	if v.Form.Values == nil {
		v.Form.Values = map[string]string{}
	}
	if v.Flash == nil {
		v.Flash = s.takeFlashes(c)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		s.log.Error("render", "page", page, "err", err)
		s.renderError(c, http.StatusInternalServerError)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// waitingFor counts what needs an admin, "today" ending at midnight in
// zone.
func (s *Server) waitingFor(c *gin.Context, zone *time.Location) (waiting, error) {
	ctx := c.Request.Context()
	now := s.cfg.Now().In(zone)
	midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, zone)
	g, err := s.gov.WaitingFor(ctx, midnight.UTC())
	if err != nil {
		return waiting{}, err
	}
	q, err := s.lib.PendingCount(ctx)
	return waiting{Waiting: g, Queue: q}, err
}

// renderMessage shows a page with a heading and one paragraph.
func (s *Server) renderMessage(c *gin.Context, status int, title, message string) {
	s.render(c, status, "message", view{Title: title, Data: message})
}

// renderError is the last resort: a plain page that depends on no template.
func (s *Server) renderError(c *gin.Context, status int) {
	text := http.StatusText(status)
	body := fmt.Sprintf(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>%d %s</title>`+
		`<meta name="viewport" content="width=device-width, initial-scale=1"></head>`+
		`<body><main><h1>%s</h1><p>Something went wrong on our side. It has been logged; please try again later.</p>`+
		`<p><a href="/">Back to the home page</a></p></main></body></html>`, status, text, text)
	c.Data(status, "text/html; charset=utf-8", []byte(body))
}

// Errors the server raises itself.
var (
	errNotFound  = governance.ErrNotFound
	errForbidden = governance.ErrForbidden
	errMethod    = errors.New("server: method not allowed")
)

// fail maps an error to a page: not found 404, forbidden 403, anything else
// logged and shown as a plain 500 that leaks nothing.
func (s *Server) fail(c *gin.Context, err error) {
	if isAPI(c) {
		s.failAPI(c, err)
		return
	}
	switch {
	case errors.Is(err, governance.ErrNotFound), errors.Is(err, library.ErrNotFound), errors.Is(err, governance.ErrNotProxy):
		s.renderMessage(c, http.StatusNotFound, "Not found", "There is nothing here. The link may be wrong, or what it pointed to has gone.")
	case errors.Is(err, governance.ErrForbidden), errors.Is(err, library.ErrForbidden):
		s.renderMessage(c, http.StatusForbidden, "Not allowed", "Your membership does not allow this.")
	case errors.Is(err, errMethod):
		s.renderMessage(c, http.StatusMethodNotAllowed, "Not allowed", "This address does not take that kind of request.")
	// The forms that meet these draw them beside the form (meetings.go,
	// proxies.go); these pages are the last resort, never a 500.
	case errors.Is(err, governance.ErrRegisterFrozen):
		s.renderMessage(c, http.StatusUnprocessableEntity, "Register frozen", "The attendance register was frozen when the chair opened the first vote.")
	case errors.Is(err, governance.ErrMeetingClosed):
		s.renderMessage(c, http.StatusUnprocessableEntity, "Meeting closed", "The chair has closed this meeting.")
	case errors.Is(err, governance.ErrVotedInPerson):
		s.renderMessage(c, http.StatusUnprocessableEntity, "Voted in person", "This member has voted in person: their own vote stands.")
	case errors.Is(err, governance.ErrRecused):
		s.renderMessage(c, http.StatusUnprocessableEntity, "Stood aside", "This member stood aside in this ballot.")
	case errors.Is(err, context.Canceled) && c.Request.Context().Err() != nil:
		// The visitor left before the answer (a vote that waited too long
		// is then not applied: governance/votewriter.go). Nobody reads this
		// page; it is not the server's failure.
		s.log.Info("request abandoned", "method", c.Request.Method, "path", logPath(c))
		s.renderMessage(c, http.StatusServiceUnavailable, "Not finished", "The request was abandoned before it was answered. Try again.")
	default:
		// No member, on any route, for the reason requestLog gives: a
		// member named at a time is a voter placed in the order of votes.
		s.log.Error("request failed", "method", c.Request.Method, "path", logPath(c), "err", err)
		s.renderError(c, http.StatusInternalServerError)
	}
}

// redirect flashes a message and answers 303.
func (s *Server) redirect(c *gin.Context, to, message string) {
	if message != "" {
		s.addFlash(c, "ok", message)
	}
	c.Redirect(http.StatusSeeOther, to)
}

// pagination is the data the pager partial draws.
type pagination struct {
	Page, Pages, Total int
	Link               func(page int) string
	// PrevLabel and NextLabel name the links; the default suits lists that
	// run newest first.
	PrevLabel, NextLabel string
}

func (p pagination) Prev() string {
	if p.Page <= 1 {
		return ""
	}
	return p.Link(p.Page - 1)
}

func (p pagination) Next() string {
	if p.Page >= p.Pages {
		return ""
	}
	return p.Link(p.Page + 1)
}

// maxPage is the deepest page any list goes to: nobody browses 10,000 pages
// in, and a bigger number must not become a huge OFFSET.
const maxPage = library.MaxPage

// pageNumber reads a page number from a query string (?page=, ?box_page=)
// for every list. It clamps rather than refuses, so a stale or hand-edited
// link still shows a page: anything that is not a whole number of at least
// 1 (empty, "abc", "1e3", zero, negative) is page 1, and anything past
// maxPage, however many digits it has, is maxPage. A page past the last
// shows an empty list under a pager that leads back.
func pageNumber(raw string) int {
	n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(strings.TrimSpace(raw), "-"):
		return maxPage
	case err != nil || n < 1:
		return 1
	}
	return int(min(n, maxPage))
}

func newPagination(page, total, perPage int, link func(int) string) pagination {
	pages := max(1, (total+perPage-1)/perPage)
	return pagination{Page: min(max(page, 1), pages), Pages: pages, Total: total, Link: link, PrevLabel: "← Newer", NextLabel: "Older →"}
}

// failAPI is fail for the JSON API.
func (s *Server) failAPI(c *gin.Context, err error) {
	switch {
	case errors.Is(err, governance.ErrNotFound), errors.Is(err, library.ErrNotFound), errors.Is(err, governance.ErrNotProxy):
		apiFail(c, http.StatusNotFound, "not_found", "No such resource.")
	case errors.Is(err, governance.ErrForbidden), errors.Is(err, library.ErrForbidden):
		apiFail(c, http.StatusForbidden, "forbidden", "Not allowed.")
	case errors.Is(err, errMethod):
		apiFail(c, http.StatusMethodNotAllowed, "method_not_allowed", "This endpoint takes GET only.")
	default:
		s.log.Error("api request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
		apiFail(c, http.StatusInternalServerError, "internal", "Something went wrong on our side.")
	}
}

// zoneKey keeps the visitor's zone for the rest of the request.
const zoneKey = "plenary.zone"

// zone is where the visitor reads times, and where the times they type
// are: a member's own zone, or the co-op's (readers and members who chose
// none).
func (s *Server) zone(c *gin.Context) *time.Location {
	if loc, ok := c.Get(zoneKey); ok {
		return loc.(*time.Location)
	}
	loc, err := s.gov.DefaultZone(c.Request.Context())
	if err != nil {
		// Times in UTC, and labelled so, rather than no page at all.
		s.log.Warn("the co-op's time zone", "err", err)
	}
	if m := member(c); m != nil {
		loc = governance.ZoneOf(*m, loc)
	}
	c.Set(zoneKey, loc)
	return loc
}
