// Package server is Plenary's HTTP skin: routes, middleware, sessions, forms
// and rendering. Rules live in governance and library; a handler decodes,
// calls one service method, and renders or redirects.
package server

import (
	"context"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/sessions"

	"plenary/governance"
	"plenary/internal/db"
	"plenary/library"
)

// Config is what the server needs from the outside world.
type Config struct {
	// Name is the co-op's name, shown on every page.
	Name string
	// BaseURL is the public address people reach Plenary at, e.g.
	// https://plenary.example.coop. Cookies are Secure when it is https.
	BaseURL string
	// TrustedProxies are the addresses of reverse proxies whose
	// X-Forwarded-For is believed. None by default: the peer address counts.
	TrustedProxies []string
	// Templates and Static hold templates/ and static/.
	Templates fs.FS
	Static    fs.FS
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Mail says whether email is configured: members who forget their
	// password are then emailed a link (through the outbox, which
	// internal/notify sends); without it, the admins see the requests and
	// pass links on themselves.
	Mail bool
}

// Server holds everything the handlers need. It has no package-level state.
type Server struct {
	cfg      Config
	log      *slog.Logger
	db       *db.DB
	gov      *governance.Service
	lib      *library.Service
	sessions *sessionStore
	turns    chan struct{} // limitInFlight's
	csrfKey  []byte
	pages    map[string]*template.Template
	engine   *gin.Engine
	handler  http.Handler
	cache    *pageCache
}

// New builds the server: it loads the session keys from the database and
// parses every page template, refusing to start if one fails.
func New(ctx context.Context, cfg Config, log *slog.Logger, d *db.DB, gov *governance.Service, lib *library.Service) (*Server, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Name == "" {
		cfg.Name = "Plenary"
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("server: base URL %q must be an absolute http or https URL", cfg.BaseURL)
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	s := &Server{cfg: cfg, log: log, db: d, gov: gov, lib: lib, cache: newPageCache()}
	var cookies *sessions.CookieStore
	if cookies, s.csrfKey, err = newSessionStore(ctx, d, base.Scheme == "https"); err != nil {
		return nil, err
	}
	s.sessions = newSessionStoreWith(cookies)
	s.turns = make(chan struct{}, maxInFlight)
	// Made now if it is new, so no page that checks an unsubscribe link
	// ever writes.
	if _, err := gov.UnsubscribeKey(ctx); err != nil {
		return nil, err
	}
	if s.pages, err = parsePages(cfg.Templates); err != nil {
		return nil, err
	}
	gin.SetMode(gin.ReleaseMode)
	s.engine = gin.New()
	if err := s.engine.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, fmt.Errorf("server: trusted proxies: %w", err)
	}
	s.engine.HandleMethodNotAllowed = true
	s.routes()

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(s.refuseCrossOrigin))
	// Mail clients POST one-click unsubscribes from anywhere (RFC 8058);
	// that route trusts only its signed token (notifications.go).
	cop.AddInsecureBypassPattern("POST " + unsubscribePath + "{token}")
	s.handler = cop.Handler(headAsGet(s.engine))
	return s, nil
}

// headAsGet answers HEAD wherever GET is answered, as HTTP asks (RFC 9110
// §9.3.2) and uptime monitors expect: gin routes a method only where it
// was registered, so a HEAD goes through the router as a GET. The server
// sends no body for it: net/http drops the body of a response to a HEAD
// request, which the ResponseWriter still answers.
func headAsGet(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			get := *r
			get.Method = http.MethodGet
			r = &get
		}
		h.ServeHTTP(w, r)
	})
}

// ServeHTTP serves a request through cross-origin protection and gin.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Routes lists every registered route as "METHOD path", for tests that must
// cover them all.
func (s *Server) Routes() []string {
	var out []string
	for _, r := range s.engine.Routes() {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

// SetupLink returns the absolute URL of the one-time setup page, or "" if
// the co-op already has an admin.
func (s *Server) SetupLink(token string) string {
	return s.cfg.BaseURL + "/setup?token=" + url.QueryEscape(token)
}

// HTTPServer wraps the handler in an http.Server with timeouts that stop
// slow clients from holding connections open. A vote waits at most 25 s
// to be applied (governance/arrival.go), inside the write timeout, so none
// is applied once its answer could no longer be sent.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}
