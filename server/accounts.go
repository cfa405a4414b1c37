package server

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"plenary/governance"
)

// detailsFields are the fields of the join, setup and invitation forms.
var detailsFields = []string{"name", "email", "password", "statement"}

func details(c *gin.Context) governance.Details {
	return governance.Details{Name: c.PostForm("name"), Email: c.PostForm("email"),
		Password: c.PostForm("password"), Statement: c.PostForm("statement")}
}

// showJoin draws the application form; someone logged in has an account
// already, and goes to it.
func (s *Server) showJoin(c *gin.Context) {
	if member(c) != nil {
		c.Redirect(http.StatusSeeOther, "/account")
		return
	}
	s.render(c, http.StatusOK, "accounts/join", view{Title: "Apply to join"})
}

func (s *Server) join(c *gin.Context) {
	m, err := s.gov.ApplyFrom(c.Request.Context(), c.ClientIP(), details(c))
	var limited *governance.LimitError
	if v := errorsOf(err); v != nil || errors.As(err, &limited) {
		f := postedForm(c, detailsFields...)
		f.Errors = v
		status := http.StatusUnprocessableEntity
		if limited != nil {
			status = s.throttled(c, limited, &f, "Too many applications to join have come from your network address in the last hour.")
		}
		s.render(c, status, "accounts/join", view{Title: "Apply to join", Form: f})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.logIn(c, m, "/account", "Thank you for applying. The co-op's admins will look at your application; you can take part once it is approved.")
}

func (s *Server) logIn(c *gin.Context, m governance.Member, to, message string) {
	if err := s.startSession(c, m); err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, to, message)
}

func (s *Server) showLogin(c *gin.Context) {
	f := form{Values: map[string]string{"next": localPath(c.Query("next"), "")}}
	s.render(c, http.StatusOK, "accounts/login", view{Title: "Log in", Form: f})
}

func (s *Server) login(c *gin.Context) {
	f := postedForm(c, "email", "next")
	f.Values["next"] = localPath(f.Values["next"], "")
	f.Errors = map[string]string{}
	if c.PostForm("email") == "" {
		f.Errors["email"] = "Enter your email address."
	}
	if c.PostForm("password") == "" {
		f.Errors["password"] = "Enter your password."
	}
	if len(f.Errors) > 0 {
		s.render(c, http.StatusUnprocessableEntity, "accounts/login", view{Title: "Log in", Form: f})
		return
	}
	m, err := s.gov.Login(c.Request.Context(), c.PostForm("email"), c.PostForm("password"), c.ClientIP())
	var notAllowed *governance.NotAllowedError
	switch {
	case errors.Is(err, governance.ErrBadCredentials):
		f.Errors[""] = "That email and password do not match an account that can log in."
		s.render(c, http.StatusUnauthorized, "accounts/login", view{Title: "Log in", Form: f})
	case errors.Is(err, governance.ErrThrottled):
		f.Errors[""] = "Too many failed attempts. For your account's safety, logging in is paused for 15 minutes."
		s.render(c, http.StatusTooManyRequests, "accounts/login", view{Title: "Log in", Form: f})
	case errors.As(err, &notAllowed):
		f.Errors[""] = notAllowed.Error()
		s.render(c, http.StatusForbidden, "accounts/login", view{Title: "Log in", Form: f})
	case err != nil:
		s.fail(c, err)
	default:
		to, msg := "/", "Welcome back, "+m.Name+"."
		switch m.Status {
		case governance.StatusApplicant:
			to = "/account"
		case governance.StatusSuspended:
			to, msg = "/proposals", "Your membership is suspended. You can still vote in ballots that opened before your suspension, and nothing else until you are reinstated."
		}
		s.logIn(c, m, localPath(f.Values["next"], to), msg)
	}
}

func (s *Server) logout(c *gin.Context) {
	// The cookie is the whole session, so clearing this browser's copy alone
	// would leave a copied cookie working. Moving the member's session
	// version on ends every copy.
	if m := member(c); m != nil {
		if err := s.gov.EndSessions(c.Request.Context(), m.ID); err != nil {
			s.fail(c, err)
			return
		}
	}
	if err := s.endSession(c); err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, "/", "You are logged out.")
}

type setupData struct{ Token string }

func (s *Server) showSetup(c *gin.Context) {
	token := c.Query("token")
	if err := s.gov.CheckSetupToken(c.Request.Context(), token); err != nil {
		s.setupGone(c, err)
		return
	}
	s.render(c, http.StatusOK, "accounts/setup", view{Title: "Found your co-op", Data: setupData{Token: token}})
}

func (s *Server) setupGone(c *gin.Context, err error) {
	if errors.Is(err, governance.ErrNotFound) || errors.Is(err, governance.ErrSetupDone) {
		s.renderMessage(c, http.StatusNotFound, "Setup link not valid",
			"This setup link has been used or replaced. Restart Plenary to print a new one if the co-op has no admin yet.")
		return
	}
	s.fail(c, err)
}

func (s *Server) setup(c *gin.Context) {
	token := c.PostForm("token")
	m, err := s.gov.Setup(c.Request.Context(), token, details(c))
	if v := errorsOf(err); v != nil {
		f := postedForm(c, detailsFields...)
		f.Errors = v
		s.render(c, http.StatusUnprocessableEntity, "accounts/setup", view{Title: "Found your co-op", Form: f, Data: setupData{Token: token}})
		return
	}
	if err != nil {
		s.setupGone(c, err)
		return
	}
	s.logIn(c, m, "/admin/members", "Your co-op is set up, and you are its first admin. Invite members or wait for applications.")
}

// invitationData is the invitation's page: its token, and the address
// it is tied to, if it was made for someone ("" if not).
type invitationData struct {
	Token string
	Email string
	Admin bool
}

func (s *Server) showInvitation(c *gin.Context) {
	token := c.Param("token")
	inv, err := s.gov.OpenInvitation(c.Request.Context(), token)
	if err != nil {
		s.invitationGone(c, err)
		return
	}
	f := form{Values: map[string]string{"name": inv.Name}}
	s.render(c, http.StatusOK, "accounts/invitation", view{Title: "You are invited", Form: f,
		Data: invitationData{Token: token, Email: inv.EmailAddress(), Admin: inv.Role == governance.RoleAdmin}})
}

func (s *Server) invitationGone(c *gin.Context, err error) {
	if errors.Is(err, governance.ErrNotFound) {
		s.renderMessage(c, http.StatusNotFound, "Invitation not valid",
			"This invitation link has expired, been revoked or already been used. Ask the co-op for a new one.")
		return
	}
	s.fail(c, err)
}

func (s *Server) acceptInvitation(c *gin.Context) {
	token := c.Param("token")
	m, err := s.gov.AcceptInvitationFrom(c.Request.Context(), c.ClientIP(), token, details(c))
	var limited *governance.LimitError
	if v := errorsOf(err); v != nil || errors.As(err, &limited) {
		f := postedForm(c, detailsFields...)
		f.Errors = v
		status := http.StatusUnprocessableEntity
		if limited != nil {
			status = s.throttled(c, limited, &f, "Too many invitation links that do not work have been tried from your network address.")
		}
		data := invitationData{Token: token}
		// The address the invitation is tied to, as the page showed it;
		// a link that has gone since shows the field to type one.
		if inv, err := s.gov.OpenInvitation(c.Request.Context(), token); err == nil {
			data.Email, data.Admin = inv.EmailAddress(), inv.Role == governance.RoleAdmin
		}
		s.render(c, status, "accounts/invitation", view{Title: "You are invited", Form: f, Data: data})
		return
	}
	if err != nil {
		s.invitationGone(c, err)
		return
	}
	s.logIn(c, m, "/account", "Welcome to "+s.cfg.Name+", "+m.Name+". You are a member now.")
}

// accountData names the account page's forms so each can show its own
// errors. CoopZone names the co-op's time zone, which a member who chose
// none reads times in.
type accountData struct {
	Name, Email, Password, Zone form
	CoopZone                    string
	// CalendarMade is when the member's calendar address was made, nil
	// if they have none.
	CalendarMade *time.Time
	// Notify is the form of what emails the member gets; NotifyData what
	// it offers.
	Notify     form
	NotifyData notifyData
}

// accountPage is the account page's forms as the member's details fill
// them.
func (s *Server) accountPage(c *gin.Context) (accountData, error) {
	m := member(c)
	coop, err := s.gov.DefaultZoneName(c.Request.Context())
	if err != nil {
		return accountData{}, err
	}
	made, err := s.gov.CalendarTokenMade(c.Request.Context(), m.ID)
	if err != nil {
		return accountData{}, err
	}
	data := accountData{
		CalendarMade: made,
		Name:         form{Values: map[string]string{"name": m.Name}},
		Email:        form{Values: map[string]string{"email": m.EmailAddress()}},
		Zone:         form{Values: map[string]string{"time_zone": deref(m.TimeZone)}},
		CoopZone:     coop,
	}
	data.Notify, data.NotifyData, err = s.notifyForm(c, *m)
	return data, err
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (s *Server) showAccount(c *gin.Context) {
	data, err := s.accountPage(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "accounts/account", view{Title: "Your account", Data: data})
}

// accountFailed re-renders the account page with one form's errors. A
// suspended member is shown the page that says why they may not.
func (s *Server) accountFailed(c *gin.Context, err error, set func(*accountData, form), fields ...string) {
	data, perr := s.accountPage(c)
	if perr != nil {
		s.fail(c, perr)
		return
	}
	if errors.Is(err, governance.ErrSuspended) {
		s.render(c, http.StatusForbidden, "accounts/account", view{Title: "Your account", Data: data})
		return
	}
	v := errorsOf(err)
	if v == nil {
		s.fail(c, err)
		return
	}
	f := postedForm(c, fields...)
	f.Errors = v
	set(&data, f)
	s.render(c, http.StatusUnprocessableEntity, "accounts/account", view{Title: "Your account", Data: data})
}

func (s *Server) updateName(c *gin.Context) {
	if err := s.gov.UpdateName(c.Request.Context(), member(c).ID, c.PostForm("name")); err != nil {
		s.accountFailed(c, err, func(d *accountData, f form) { d.Name = f }, "name")
		return
	}
	s.redirect(c, "/account", "Your name is updated.")
}

func (s *Server) changeEmail(c *gin.Context) {
	if err := s.gov.ChangeEmail(c.Request.Context(), member(c).ID, c.PostForm("current_password"), c.PostForm("email")); err != nil {
		s.accountFailed(c, err, func(d *accountData, f form) { d.Email = f }, "email")
		return
	}
	s.redirect(c, "/account", "Your email address is updated.")
}

func (s *Server) changePassword(c *gin.Context) {
	m := member(c)
	version, err := s.gov.ChangePassword(c.Request.Context(), m.ID, c.PostForm("current_password"), c.PostForm("password"))
	if err != nil {
		s.accountFailed(c, err, func(d *accountData, f form) { d.Password = f })
		return
	}
	m.SessionVersion = version
	s.logIn(c, *m, "/account", "Your password is changed. Any other device you were logged in on has been logged out.")
}

func (s *Server) setTimeZone(c *gin.Context) {
	if err := s.gov.SetTimeZone(c.Request.Context(), member(c).ID, c.PostForm("time_zone")); err != nil {
		s.accountFailed(c, err, func(d *accountData, f form) { d.Zone = f }, "time_zone")
		return
	}
	s.redirect(c, "/account", "Your time zone is saved: times are shown in it from now on.")
}
