package server

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"plenary/governance"
	"plenary/internal/outbox"
)

// The outbox for admins (/admin/mail): what each status holds, the
// messages newest first, and a failed one sent again.

// mailKindNames say each kind of message in words.
var mailKindNames = map[string]string{
	outbox.VotingOpened:  "Voting opened",
	outbox.ClosingSoon:   "Ballot closes soon",
	outbox.Result:        "Ballot result",
	outbox.Application:   "New application (to an admin)",
	outbox.Decision:      "Decision on an application",
	outbox.PasswordReset: "Password-reset link",
	outbox.Invitation:    "Invitation",
	outbox.Digest:        "Daily digest",
}

// mailStatusNames say each status in words, as the counts and the
// filter name them.
var mailStatusNames = map[string]string{
	governance.MailQueued:  "Queued",
	governance.MailDigest:  "Waiting for a digest",
	governance.MailSent:    "Sent",
	governance.MailFailed:  "Failed",
	governance.MailDropped: "Dropped",
}

type mailChoice struct{ Value, Name string }

type mailCount struct {
	mailChoice
	N    int
	Link string
}

type mailData struct {
	// Unconfigured is set when no SMTP server is: nothing goes until one is.
	Unconfigured bool
	Counts       []mailCount
	Mail         []governance.Mail
	Status, Kind string
	Statuses     []mailChoice
	Kinds        []mailChoice
	Pager        pagination
}

// KindName says a message's kind in words.
func (mailData) KindName(kind string) string { return mailKindNames[kind] }

// StatusName says a message's status in words.
func (mailData) StatusName(status string) string { return mailStatusNames[status] }

// mailFilter is the list's filter and page as a query string, or a form
// posted from the page, gives them: a status or kind that is none of ours
// is no filter.
func mailFilter(status, kind, page string) (governance.MailFilter, int) {
	var f governance.MailFilter
	if slices.Contains(governance.MailStatuses, status) {
		f.Status = status
	}
	if slices.Contains(governance.MailKinds, kind) {
		f.Kind = kind
	}
	return f, pageNumber(page)
}

// mailLink is the address of the list with filter f at page.
func mailLink(f governance.MailFilter, page int) string {
	q := url.Values{}
	if f.Status != "" {
		q.Set("status", f.Status)
	}
	if f.Kind != "" {
		q.Set("kind", f.Kind)
	}
	if page > 1 {
		q.Set("page", strconv.Itoa(page))
	}
	if len(q) == 0 {
		return "/admin/mail"
	}
	return "/admin/mail?" + q.Encode()
}

func (s *Server) showMail(c *gin.Context) {
	f, page := mailFilter(c.Query("status"), c.Query("kind"), c.Query("page"))
	s.renderMail(c, http.StatusOK, f, page, form{})
}

func (s *Server) renderMail(c *gin.Context, status int, f governance.MailFilter, page int, fm form) {
	list, err := s.gov.MailQueue(c.Request.Context(), *member(c), f, page)
	if err != nil {
		s.fail(c, err)
		return
	}
	d := mailData{Unconfigured: !s.cfg.Mail, Mail: list.Mail, Status: f.Status, Kind: f.Kind}
	for _, st := range governance.MailStatuses {
		ch := mailChoice{st, mailStatusNames[st]}
		d.Statuses = append(d.Statuses, ch)
		d.Counts = append(d.Counts, mailCount{mailChoice: ch, N: list.Counts[st], Link: mailLink(governance.MailFilter{Status: st}, 1)})
	}
	for _, k := range governance.MailKinds {
		d.Kinds = append(d.Kinds, mailChoice{k, mailKindNames[k]})
	}
	d.Pager = newPagination(page, list.Total, governance.MailPerPage, func(p int) string { return mailLink(f, p) })
	s.render(c, status, "admin/mail", view{Title: "Mail", Form: fm, Data: d})
}

// resendMail puts a failed message back in the queue, and goes back to the
// list as it was filtered.
func (s *Server) resendMail(c *gin.Context) {
	id, ok := s.idParam(c)
	if !ok {
		return
	}
	f, page := mailFilter(c.PostForm("status"), c.PostForm("kind"), c.PostForm("page"))
	err := s.gov.ResendMail(c.Request.Context(), *member(c), id)
	if v := errorsOf(err); v != nil {
		s.renderMail(c, http.StatusUnprocessableEntity, f, page, form{Errors: v})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	done := "Message " + strconv.FormatInt(id, 10) + " is queued to be sent again."
	if !s.cfg.Mail {
		done = "Message " + strconv.FormatInt(id, 10) + " is queued again. It goes once an SMTP server is configured."
	}
	s.redirect(c, mailLink(f, page), done)
}
