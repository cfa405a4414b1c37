package server

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"plenary/governance"
	"plenary/internal/tz"
)

type forgotData struct {
	Mail bool // links are mailed; otherwise the admins pass them on
}

func (s *Server) showForgot(c *gin.Context) {
	s.render(c, http.StatusOK, "accounts/forgot", view{Title: "Forgot your password?", Data: forgotData{Mail: s.cfg.Mail}})
}

// requestReset answers the same whether or not an account uses the email:
// the same redirect and message, after the same work. The email with the
// link is queued in the request's transaction and sent by the outbox's
// sender, after the answer.
func (s *Server) requestReset(c *gin.Context) {
	_, err := s.gov.RequestReset(c.Request.Context(), c.PostForm("email"), c.ClientIP(), s.cfg.Mail)
	var limited *governance.LimitError
	if v := errorsOf(err); v != nil || errors.As(err, &limited) {
		f := postedForm(c, "email")
		f.Errors = v
		status := http.StatusUnprocessableEntity
		if limited != nil {
			status = s.throttled(c, limited, &f,
				"Too many password-reset requests have come from your network address or for this email address.")
		}
		s.render(c, status, "accounts/forgot", view{Title: "Forgot your password?", Form: f, Data: forgotData{Mail: s.cfg.Mail}})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	msg := "If an account uses that email address, the co-op's admins can now see your request, and one of them will send you a link to choose a new password."
	if s.cfg.Mail {
		msg = fmt.Sprintf("If an account uses that email address, a link to choose a new password is on its way there. It works once, for %s. If nothing arrives, ask one of the co-op's admins.",
			hours(s.gov.ResetTTL))
	}
	s.redirect(c, "/login", msg)
}

func (s *Server) resetLink(token string) string { return s.cfg.BaseURL + "/reset/" + token }

// hours says a duration of whole hours in words: "24 hours".
func hours(d time.Duration) string {
	if h := int(d / time.Hour); h != 1 {
		return strconv.Itoa(h) + " hours"
	}
	return "1 hour"
}

type resetData struct {
	Token string
	Email string
}

func (s *Server) showReset(c *gin.Context) {
	token := c.Param("token")
	_, m, err := s.gov.OpenReset(c.Request.Context(), token)
	if err != nil {
		s.resetGone(c, err)
		return
	}
	s.render(c, http.StatusOK, "accounts/reset", view{Title: "Choose a new password", Data: resetData{Token: token, Email: m.EmailAddress()}})
}

// resetGone answers a link that does not work: 404 for one that never
// existed, 410 for one used, replaced or expired, in the same words.
func (s *Server) resetGone(c *gin.Context, err error) {
	status := http.StatusNotFound
	switch {
	case errors.Is(err, governance.ErrLinkGone):
		status = http.StatusGone
	case !errors.Is(err, governance.ErrNotFound):
		s.fail(c, err)
		return
	}
	s.renderMessage(c, status, "Password-reset link not valid",
		"This password-reset link has expired, has been replaced by a newer one or has already been used. "+
			"Ask for a new one on the “Forgot your password?” page, or ask one of the co-op's admins.")
}

func (s *Server) resetPassword(c *gin.Context) {
	token := c.Param("token")
	_, err := s.gov.ResetPassword(c.Request.Context(), token, c.PostForm("password"), c.PostForm("password_repeat"))
	if v := errorsOf(err); v != nil {
		_, m, err := s.gov.OpenReset(c.Request.Context(), token)
		if err != nil {
			s.resetGone(c, err)
			return
		}
		s.render(c, http.StatusUnprocessableEntity, "accounts/reset", view{Title: "Choose a new password", Form: form{Errors: v},
			Data: resetData{Token: token, Email: m.EmailAddress()}})
		return
	}
	if err != nil {
		s.resetGone(c, err)
		return
	}
	s.redirect(c, "/login", "Your new password is set, and you are logged out everywhere you were logged in. Log in with your new password.")
}

func (s *Server) issueReset(c *gin.Context) {
	id, ok := s.idParam(c)
	if !ok {
		return
	}
	_, token, err := s.gov.IssueReset(c.Request.Context(), *member(c), id)
	if v := errorsOf(err); v != nil {
		s.renderMember(c, http.StatusUnprocessableEntity, form{Errors: v})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	// Like an invitation's, the link is shown this once: only its hash is
	// kept.
	s.addFlash(c, "ok", fmt.Sprintf("Password-reset link made. Pass it on to the member; it is shown only once, and works once, for %s. Any earlier link of theirs no longer works.",
		hours(s.gov.ResetTTL)))
	s.addFlash(c, "reset-link", s.resetLink(token))
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/members/%d", id))
}

// throttled puts a rate limit's message on f, saying when to try again,
// sets Retry-After, and returns 429.
func (s *Server) throttled(c *gin.Context, err *governance.LimitError, f *form, what string) int {
	wait := err.RetryAt.Sub(s.cfg.Now())
	minutes := max(1, int(math.Ceil(wait.Minutes())))
	c.Header("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
	in := fmt.Sprintf("%d minutes", minutes)
	if minutes == 1 {
		in = "1 minute"
	}
	if f.Errors == nil {
		f.Errors = map[string]string{}
	}
	// Rounded up to the minute: "after 10:15" must not come too soon.
	at := err.RetryAt.UTC()
	if t := at.Truncate(time.Minute); !t.Equal(at) {
		at = t.Add(time.Minute)
	}
	loc := s.zone(c)
	f.Errors[""] = fmt.Sprintf("%s Please try again after %s %s (in %s).", what, at.In(loc).Format("15:04"), tz.Abbrev(at, loc), in)
	return http.StatusTooManyRequests
}
