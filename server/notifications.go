package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"plenary/governance"
	"plenary/internal/outbox"
)

// notifyData is the account page's "Email" section: a choice per kind the
// member may choose for, and the hour of their digest.
type notifyData struct {
	Kinds []notifyKind
	Hours []int
}

// NotifyModes are the choices each kind offers.
func (accountData) NotifyModes() []struct{ Mode, Name string } { return modeNames }

type notifyKind struct {
	Kind, Name string
}

var modeNames = []struct{ Mode, Name string }{
	{outbox.AtOnce, "At once"},
	{outbox.InDigest, "In my daily digest"},
	{outbox.Never, "Never"},
}

// notifyForm is the form's values as the member last set them.
func (s *Server) notifyForm(c *gin.Context, m governance.Member) (form, notifyData, error) {
	p, err := s.gov.Preferences(c.Request.Context(), m)
	if err != nil {
		return form{}, notifyData{}, err
	}
	f := form{Values: map[string]string{"digest_hour": strconv.Itoa(p.DigestHour)}}
	d := notifyData{}
	for _, k := range p.Kinds {
		f.Values[k.Kind] = k.Mode
		d.Kinds = append(d.Kinds, notifyKind{Kind: k.Kind, Name: outbox.KindNames[k.Kind]})
	}
	for h := range 24 {
		d.Hours = append(d.Hours, h)
	}
	return f, d, nil
}

func (s *Server) setPreferences(c *gin.Context) {
	m := member(c)
	in := governance.PreferencesInput{VotingOpened: c.PostForm("voting_opened"), ClosingSoon: c.PostForm("closing_soon"),
		Result: c.PostForm("result"), Application: c.PostForm("application"), DigestHour: c.PostForm("digest_hour")}
	err := s.gov.SetPreferences(c.Request.Context(), m.ID, in)
	if err != nil {
		s.accountFailed(c, err, func(d *accountData, f form) { d.Notify = f },
			"voting_opened", "closing_soon", "result", "application", "digest_hour")
		return
	}
	s.redirect(c, "/account", "Your email choices are saved.")
}

// unsubscribeData is what the unsubscribe page says: whose emails of which
// kind the link stops.
type unsubscribeData struct {
	Token    string
	Member   governance.Member
	KindName string
	Done     bool
}

// kindName says a token's kind in words; a digest's stops everything its
// member gets in the digest.
func kindName(kind string) string {
	if kind == outbox.Digest {
		return "everything you get in your daily digest"
	}
	return strings.ToLower(outbox.KindNames[kind][:1]) + outbox.KindNames[kind][1:]
}

// showUnsubscribe is where an email's unsubscribe link leads: it asks to
// confirm, so that a mail scanner following links stops nothing. It works
// logged out: the link itself, signed, says whose emails it stops.
func (s *Server) showUnsubscribe(c *gin.Context) {
	token := c.Param("token")
	m, kind, err := s.gov.CheckUnsubscribe(c.Request.Context(), token)
	if err != nil {
		s.unsubscribeFailed(c, err)
		return
	}
	s.render(c, http.StatusOK, "accounts/unsubscribe", view{Title: "Stop these emails",
		Data: unsubscribeData{Token: token, Member: m, KindName: kindName(kind)}})
}

// unsubscribe is the one-click unsubscribe of RFC 8058: a mail client
// POSTs "List-Unsubscribe=One-Click" here from wherever it runs, so this
// one route takes POSTs without a session's token and from other origins
// (routes.go, middleware.go). The signed token is what it trusts.
func (s *Server) unsubscribe(c *gin.Context) {
	// The body ("List-Unsubscribe=One-Click") says nothing the path does
	// not; it is read only to hold it to the size limit, as every form is.
	if err := c.Request.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.renderMessage(c, http.StatusRequestEntityTooLarge, "Too much data", "What you sent is larger than Plenary accepts.")
			return
		}
	}
	m, kind, err := s.gov.Unsubscribe(c.Request.Context(), c.Param("token"))
	if err != nil {
		s.unsubscribeFailed(c, err)
		return
	}
	s.render(c, http.StatusOK, "accounts/unsubscribe", view{Title: "Emails stopped",
		Data: unsubscribeData{Member: m, KindName: kindName(kind), Done: true}})
}

func (s *Server) unsubscribeFailed(c *gin.Context, err error) {
	if !errors.Is(err, governance.ErrBadToken) {
		s.fail(c, err)
		return
	}
	s.renderMessage(c, http.StatusNotFound, "Unsubscribe link not valid",
		fmt.Sprintf("This link is not one of %s's unsubscribe links: check that you copied all of it, or log in and choose what you are sent on your account page.", s.cfg.Name))
}
