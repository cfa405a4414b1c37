package server

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/sessions"

	"plenary/governance"
	"plenary/internal/db"
)

const (
	sessionCookie = "plenary_session"
	flashCookie   = "plenary_flash"
	noticeCookie  = "plenary_notice"
	// Session values. The cookie holds ids only: the member's number, the
	// session version it was issued under, and a random session id that the
	// CSRF token is bound to. Nothing about the member lives in it.
	keyMember  = "m"
	keyVersion = "v"
	keySID     = "s"
	// Context keys.
	ctxMember = "member"
	ctxSID    = "sid"
)

// newSessionStore builds the cookie store from keys kept in the database, so
// a restart does not log anyone out. Cookies are signed and encrypted.
func newSessionStore(ctx context.Context, d *db.DB, secure bool) (*sessions.CookieStore, []byte, error) {
	var keys [][]byte
	for _, name := range []string{"session_hash_key", "session_block_key", "csrf_key"} {
		k, err := d.Secret(ctx, name, 32)
		if err != nil {
			return nil, nil, fmt.Errorf("server: session keys: %w", err)
		}
		keys = append(keys, k)
	}
	store := sessions.NewCookieStore(keys[0], keys[1])
	useSessionCodec(store)
	store.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   30 * 24 * 3600,
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteLaxMode,
	}
	store.MaxAge(store.Options.MaxAge)
	return store, keys[2], nil
}

// session returns the request's session; a cookie that fails to decode (a
// rotated key, tampering) just gives a fresh one.
func (s *Server) session(c *gin.Context) *sessions.Session {
	sess, _ := s.sessions.Get(c.Request, sessionCookie)
	return sess
}

// loadSession finds who is asking. A session whose member was suspended,
// removed or logged out everywhere since (the version moved on) is dropped
// on this very request, with a new session id. A visitor who has no session
// gets none here: a session (and its cookie) starts only when a page shows
// them a form (formToken), so someone who only reads is given no cookie.
func (s *Server) loadSession(c *gin.Context) {
	sess := s.session(c)
	sid, _ := sess.Values[keySID].(string)
	dirty := false
	if id, ok := sess.Values[keyMember].(int64); ok {
		version, _ := sess.Values[keyVersion].(int64)
		m, err := s.gov.SessionMember(c.Request.Context(), id, version)
		switch {
		case err == nil:
			c.Set(ctxMember, &m)
		case err == governance.ErrNotFound:
			delete(sess.Values, keyMember)
			delete(sess.Values, keyVersion)
			sid, dirty = newSID(), true
			sess.Values[keySID] = sid
		default:
			s.fail(c, err)
			c.Abort()
			return
		}
	}
	if dirty {
		if err := sess.Save(c.Request, c.Writer); err != nil {
			s.fail(c, err)
			c.Abort()
			return
		}
	}
	if sid != "" {
		c.Set(ctxSID, sid)
	}
	c.Next()
}

func newSID() string {
	b := make([]byte, 18)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// startSession logs m in on a brand-new session: a fresh session id, so a
// session id planted before login is worth nothing after it.
func (s *Server) startSession(c *gin.Context, m governance.Member) error {
	sess := s.session(c)
	sess.Values = map[any]any{keyMember: m.ID, keyVersion: m.SessionVersion, keySID: newSID()}
	return sess.Save(c.Request, c.Writer)
}

// endSession logs out this browser.
func (s *Server) endSession(c *gin.Context) error {
	sess := s.session(c)
	sess.Values = map[any]any{keySID: newSID()}
	return sess.Save(c.Request, c.Writer)
}

// member returns the logged-in member, or nil.
func member(c *gin.Context) *governance.Member {
	if m, ok := c.Get(ctxMember); ok {
		return m.(*governance.Member)
	}
	return nil
}

// csrfToken is bound to the session id: HMAC(csrf key, session id). A
// visitor without a session has no token: "".
func (s *Server) csrfToken(c *gin.Context) string {
	sid := c.GetString(ctxSID)
	if sid == "" {
		return ""
	}
	mac := hmac.New(sha256.New, s.csrfKey)
	mac.Write([]byte(sid))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// formToken is the token for a form on the page being rendered, starting
// the visitor's session (and setting its cookie) if they have none yet. It
// runs while the page is rendered into a buffer, before any byte is sent,
// so the cookie still goes out with the page.
func (s *Server) formToken(c *gin.Context) string {
	if c.GetString(ctxSID) == "" {
		sess := s.session(c)
		sid := newSID()
		sess.Values[keySID] = sid
		if err := sess.Save(c.Request, c.Writer); err != nil {
			s.log.Error("start session", "err", err)
			return ""
		}
		c.Set(ctxSID, sid)
	}
	return s.csrfToken(c)
}

// flash is a one-time message shown on the next page.
type flash struct {
	Kind    string // "ok" or "error"
	Message string
}

func (s *Server) addFlash(c *gin.Context, kind, message string) {
	sess, _ := s.sessions.Get(c.Request, flashCookie)
	sess.AddFlash(kind + ":" + message)
	if err := sess.Save(c.Request, c.Writer); err != nil {
		s.log.Warn("save flash", "err", err)
	}
}

// notices are the messages a notice cookie may name (issue 17): a vote's
// answer says one of these, and a cookie naming it, unsigned and
// unencrypted, costs the vote nothing to write or the next page to read.
// It carries no data, only which of these words to show; a forged one
// shows its forger a message from this list.
var notices = map[string]string{
	"vote-recorded":   "Your vote is recorded. You can change it until voting closes.",
	"vote-changed":    "Your vote is changed.",
	"ballot-recorded": "Your ballot is recorded. You can change it until voting closes.",
	"ballot-changed":  "Your ballot is changed.",
}

// redirectNotice is redirect with one of the notices, by its code.
func (s *Server) redirectNotice(c *gin.Context, to, code string) {
	http.SetCookie(c.Writer, &http.Cookie{Name: noticeCookie, Value: code, Path: "/", MaxAge: 300, HttpOnly: true,
		Secure: s.sessions.Options.Secure, SameSite: http.SameSiteLaxMode})
	c.Redirect(http.StatusSeeOther, to)
}

func (s *Server) takeFlashes(c *gin.Context) []flash {
	var out []flash
	if n, err := c.Request.Cookie(noticeCookie); err == nil {
		http.SetCookie(c.Writer, &http.Cookie{Name: noticeCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
			Secure: s.sessions.Options.Secure, SameSite: http.SameSiteLaxMode})
		if msg, ok := notices[n.Value]; ok {
			out = append(out, flash{Kind: "ok", Message: msg})
		}
	}
	if !hasCookie(c.Request, flashCookie) {
		return out
	}
	sess, _ := s.sessions.Get(c.Request, flashCookie)
	raw := sess.Flashes()
	if len(raw) == 0 {
		return out
	}
	// Shown: the cookie goes too, so that the visitor's next pages can come
	// from the page cache, which never serves anyone with a message waiting.
	opts := *sess.Options
	opts.MaxAge = -1
	sess.Options = &opts
	sess.Save(c.Request, c.Writer)
	for _, r := range raw {
		str, _ := r.(string)
		kind, msg, ok := strings.Cut(str, ":")
		if ok {
			out = append(out, flash{Kind: kind, Message: msg})
		}
	}
	return out
}
