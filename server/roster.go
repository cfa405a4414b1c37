package server

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"plenary/governance"
)

// Rosters: the register of members (download, and import from CSV) and
// invitations in bulk. Both forms take a CSV pasted or uploaded; the first
// post checks it and shows each row's problem, and only a second post,
// from the page that showed every row right, acts, carrying the same
// text back in a hidden field (the web tier keeps no state between the
// two). The service checks it again then.

// MaxRosterBody caps the body of a roster form: the CSV twice over (a file
// and a paste) and the rest of the form. A file past the roster's own cap
// but under this one gets the service's message (422); past this, 413.
const MaxRosterBody = 4*governance.MaxRosterBytes + MaxBodyBytes

// shownProblems is how many rows with problems a preview lists.
const shownProblems = 1000

// rosterData is what the roster page draws.
type rosterData struct {
	Import  bool   // importing members, else inviting
	Action  string // where the form posts
	Text    string // the CSV checked, carried to the confirming post
	Total   int    // rows read
	Bad     []governance.RosterRow
	BadMore int // rows with problems not listed
	Ready   bool
	// DefaultDays is how long an invitation works unless said otherwise.
	DefaultDays int
}

func (s *Server) rosterView(c *gin.Context, imp bool, f form, d rosterData) view {
	d.Import = imp
	d.Action = "/admin/invitations/bulk"
	title := "Invite many people"
	if imp {
		d.Action, title = "/admin/members/import", "Import members"
	}
	d.DefaultDays = int(s.gov.InvitationTTL.Hours() / 24)
	return view{Title: title, Form: f, Data: d}
}

func (s *Server) showImport(c *gin.Context) {
	s.render(c, http.StatusOK, "admin/roster", s.rosterView(c, true, form{}, rosterData{}))
}

func (s *Server) showBulkInvite(c *gin.Context) {
	s.render(c, http.StatusOK, "admin/roster", s.rosterView(c, false, form{Values: map[string]string{"days": ""}}, rosterData{}))
}

// rosterText is the CSV a roster form sent: an uploaded file if there is
// one, else the pasted text. A file is read to one byte past the roster's
// cap, enough for the service to say it is too big.
func rosterText(c *gin.Context) (string, error) {
	if fh, err := c.FormFile("file"); err == nil && fh.Size > 0 {
		file, err := fh.Open()
		if err != nil {
			return "", err
		}
		defer file.Close()
		b, err := io.ReadAll(io.LimitReader(file, governance.MaxRosterBytes+1))
		return string(b), err
	}
	return c.PostForm("csv"), nil
}

func (s *Server) importMembers(c *gin.Context) {
	s.roster(c, true, func(text string) (int, error) {
		imported, err := s.gov.ImportMembers(c.Request.Context(), *member(c), text)
		return len(imported), err
	}, func(text string) (governance.Roster, error) {
		return s.gov.PreviewImport(c.Request.Context(), *member(c), text)
	})
}

func (s *Server) bulkInvite(c *gin.Context) {
	s.roster(c, false, func(text string) (int, error) {
		days, err := strconv.Atoi(cmp.Or(strings.TrimSpace(c.PostForm("days")), "0"))
		if err != nil {
			days = -1 // refused by the service with a message
		}
		issued, err := s.gov.InviteMany(c.Request.Context(), *member(c), text, days)
		return len(issued), err
	}, func(text string) (governance.Roster, error) {
		return s.gov.PreviewInvitations(c.Request.Context(), *member(c), text)
	})
}

// roster is the two posts of a roster form: a check that shows every row
// (422 when any is wrong), or, confirmed, the act.
func (s *Server) roster(c *gin.Context, imp bool, act func(string) (int, error), preview func(string) (governance.Roster, error)) {
	text, err := rosterText(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	f := postedForm(c, "days")
	var r governance.Roster
	done := 0
	if c.PostForm("confirm") == "yes" {
		done, err = act(text)
	} else {
		r, err = preview(text)
	}
	var re *governance.RosterError
	if errors.As(err, &re) {
		r, err = re.Roster, nil
	}
	if v := errorsOf(err); v != nil {
		f.Errors = v
		f.Values["csv"] = text
		s.render(c, http.StatusUnprocessableEntity, "admin/roster", s.rosterView(c, imp, f, rosterData{Text: text}))
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if done > 0 {
		if imp {
			s.redirect(c, "/admin/members", fmt.Sprintf("%d members imported. Each is to be emailed a link to set a password.", done))
		} else {
			s.redirect(c, "/admin/invitations", fmt.Sprintf("%d invitations made. Each is to be emailed to its address.", done))
		}
		return
	}
	bad := r.Bad()
	d := rosterData{Text: text, Total: len(r.Rows), Bad: bad, Ready: len(bad) == 0}
	if len(bad) > shownProblems {
		d.Bad, d.BadMore = bad[:shownProblems], len(bad)-shownProblems
	}
	status := http.StatusOK
	if !d.Ready {
		status = http.StatusUnprocessableEntity
		f.Values["csv"] = text
		f.Errors = map[string]string{"": fmt.Sprintf("%d of %d rows have problems. Nothing has been done: correct them and check the file again.",
			len(bad), len(r.Rows))}
	}
	s.render(c, status, "admin/roster", s.rosterView(c, imp, f, d))
}

// downloadRegister sends the register of members as CSV. It is written
// whole before anything is sent, so a failure is an error page, not half
// a register.
func (s *Server) downloadRegister(c *gin.Context) {
	var buf bytes.Buffer
	if err := s.gov.WriteRegister(c.Request.Context(), *member(c), &buf); err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Disposition", `attachment; filename="register-`+s.cfg.Now().In(s.zone(c)).Format("2006-01-02")+`.csv"`)
	c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}
