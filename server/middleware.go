package server

import (
	"crypto/hmac"
	"errors"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"plenary/governance"
)

// MaxBodyBytes caps every request body. Plenary's forms are small; a larger
// body is refused with 413 before anything reads it.
const MaxBodyBytes = 64 << 10

// requestLog logs one line per request. It logs the path without the query,
// which may hold a setup token, and the route rather than the path when the
// path holds an invitation or password-reset token: whoever reads the log
// must not be able to use the links.
//
// It names nobody: no member and no client address. Lines are in time
// order, so one naming the voter of each vote (or the address of the GET
// that follows each vote's redirect) would give the order members voted
// in, and that order beside the box's pages while a ballot is open names
// every choice. The rate limits keep the addresses they need in the
// database.
func (s *Server) requestLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	s.log.Info("request", "method", c.Request.Method, "path", logPath(c), "status", c.Writer.Status(),
		"duration", time.Since(start))
}

// stampArrival marks each POST with the moment it arrived, before it waits
// for anything: a member's vote is never applied after a later one of
// theirs (governance/arrival.go).
func stampArrival(c *gin.Context) {
	if c.Request.Method == http.MethodPost {
		c.Request = c.Request.WithContext(governance.Arrived(c.Request.Context()))
	}
	c.Next()
}

// maxInFlight bounds the requests worked on at once (issue 17). Past it, a
// request waits its turn, its session and form read, before its handler
// runs: under a flood, what is rendered or written at once stays bounded,
// and a request whose visitor leaves while it waits is dropped. It is far above what two CPUs
// finish in the time a person waits, and leaves room for a vote batch
// (votes wait for their commit inside their turn).
const maxInFlight = 256

// limitInFlight waits for one of maxInFlight turns; a request whose
// client leaves while it waits is dropped.
func (s *Server) limitInFlight(c *gin.Context) {
	select {
	case s.turns <- struct{}{}:
	case <-c.Request.Context().Done():
		c.AbortWithStatus(http.StatusServiceUnavailable)
		return
	}
	defer func() { <-s.turns }()
	c.Next()
}

// logPath is the path to log: the route instead when the path holds a token.
func logPath(c *gin.Context) string {
	if route := c.FullPath(); strings.Contains(route, ":token") {
		return route
	}
	return c.Request.URL.Path
}

// recoverPanic turns a panic into a logged stack and a plain 500 page.
func (s *Server) recoverPanic(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic", "method", c.Request.Method, "path", logPath(c), "panic", v, "stack", string(debug.Stack()))
			c.Abort()
			if !c.Writer.Written() {
				s.renderError(c, http.StatusInternalServerError)
			}
		}
	}()
	c.Next()
}

// contentSecurityPolicy allows nothing inline and nothing from elsewhere.
// Pico's icons are data: URIs in its stylesheet, hence img-src data:.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func (s *Server) securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
	if strings.HasPrefix(s.cfg.BaseURL, "https://") {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	c.Next()
}

// cacheStatic lets browsers keep stylesheets and icons for an hour.
func cacheStatic(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=3600")
	c.Next()
}

// rosterRoutes take a CSV of people (roster.go), and a larger body.
var rosterRoutes = map[string]bool{"/admin/members/import": true, "/admin/invitations/bulk": true}

func (s *Server) limitBody(c *gin.Context) {
	if c.Request.Body != nil {
		limit := int64(MaxBodyBytes)
		if rosterRoutes[c.FullPath()] {
			limit = MaxRosterBody
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	}
	c.Next()
}

// checkCSRF refuses a POST whose csrf_token does not match the session.
// Cross-origin POSTs never get here: http.CrossOriginProtection stops them
// first. The token covers what that cannot, such as old browsers.
func (s *Server) checkCSRF(c *gin.Context) {
	// The API is read-only: a POST under /api/ reaches no handler, only the
	// JSON 405 or 404, so there is nothing for a token to guard, and an API
	// client gets the error shape it understands rather than a form page.
	if c.Request.Method != http.MethodPost || isAPI(c) || isUnsubscribe(c.Request) {
		c.Next()
		return
	}
	// A form with a file (the rosters') comes as multipart; its fields,
	// the token among them, are read with the file.
	parse := c.Request.ParseForm
	if strings.HasPrefix(c.ContentType(), "multipart/form-data") {
		parse = func() error { return c.Request.ParseMultipartForm(MaxRosterBody) }
	}
	if err := parse(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.renderMessage(c, http.StatusRequestEntityTooLarge, "Too much data",
				"What you sent is larger than Plenary accepts. Shorten it and try again.")
		} else {
			s.renderMessage(c, http.StatusBadRequest, "Bad request", "The form could not be read. Reload the page and try again.")
		}
		c.Abort()
		return
	}
	// No session, no token: an empty token must never match an empty want.
	want := s.csrfToken(c)
	if want == "" || !hmac.Equal([]byte(c.Request.PostForm.Get("csrf_token")), []byte(want)) {
		s.renderMessage(c, http.StatusForbidden, "Form expired",
			"This form was out of date or did not come from this site. Go back, reload the page and try again.")
		c.Abort()
		return
	}
	c.Next()
}

// refuseCrossOrigin answers a POST that a browser says came from another site.
func (s *Server) refuseCrossOrigin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "same-origin")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(http.StatusForbidden)
	w.Write([]byte("Forbidden: cross-origin requests that change data are refused.\n"))
}

// requireMember lets in anyone logged in; others are sent to log in and
// brought back afterwards.
func (s *Server) requireMember(c *gin.Context) {
	if member(c) == nil {
		if c.Request.Method == http.MethodGet {
			c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
		} else {
			c.Redirect(http.StatusSeeOther, "/login")
		}
		c.Abort()
		return
	}
	c.Next()
}

// requireActive lets in active members: applicants wait for approval before
// they take part.
func (s *Server) requireActive(c *gin.Context) {
	m := member(c)
	if m == nil {
		s.requireMember(c)
		return
	}
	if !m.IsActive() {
		s.renderMessage(c, http.StatusForbidden, "Members only",
			"Only active members can do this. If you have applied, you can take part once an admin approves your application.")
		c.Abort()
		return
	}
	c.Next()
}

// requireAdmin lets in active admins. The services check again: this only
// keeps others from seeing admin pages.
func (s *Server) requireAdmin(c *gin.Context) {
	m := member(c)
	if m == nil {
		s.requireMember(c)
		return
	}
	if !m.IsAdmin() {
		s.fail(c, errForbidden)
		c.Abort()
		return
	}
	c.Next()
}

// localPath returns next if it is a path on this site, else fallback: a
// login link can't send anyone elsewhere.
func localPath(next, fallback string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n\\") {
		return fallback
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return fallback
	}
	return next
}

// unsubscribePath starts the one-click unsubscribe links of emails.
const unsubscribePath = "/unsubscribe/"

// isUnsubscribe says whether r is a one-click unsubscribe: a POST to
// /unsubscribe/TOKEN (one path segment), which a mail client sends
// without a session and from no page of ours. Its signed token is all it
// trusts, so it needs no CSRF token and may come from another origin.
func isUnsubscribe(r *http.Request) bool {
	token, ok := strings.CutPrefix(r.URL.EscapedPath(), unsubscribePath)
	return ok && r.Method == http.MethodPost && token != "" && !strings.Contains(token, "/")
}
