package server

import (
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/sessions"
)

// sessionStore is the cookie store with a short memory of what session
// cookies decode to (issue 17). Checking a cookie's signature, decrypting
// it and reading its values cost a vote a tenth of its server time; a
// member who votes or reads several times a minute sends the same cookie
// each time. The memory is keyed by the whole cookie, so only the holder
// of that exact cookie meets its entry, and it holds nothing but what the
// cookie itself says (member number, session version, session id): the
// member is still read from the database on every request (SessionMember),
// so a suspension or a logout everywhere takes effect at once. An entry is
// forgotten after sessionMemory, after which the cookie is decoded afresh,
// its age checked again.
type sessionStore struct {
	*sessions.CookieStore
	mu   sync.Mutex
	seen map[string]remembered
}

type remembered struct {
	values map[any]any
	at     time.Time
}

const (
	sessionMemory   = time.Minute
	sessionsInMind  = 20_000
	rememberedValue = keyMember // only logged-in sessions are worth it
)

func newSessionStoreWith(cs *sessions.CookieStore) *sessionStore {
	return &sessionStore{CookieStore: cs, seen: map[string]remembered{}}
}

// Get is the registry's Get, so that New below is the one it calls.
func (st *sessionStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(st, name)
}

// New decodes the request's cookie, or takes it from memory.
func (st *sessionStore) New(r *http.Request, name string) (*sessions.Session, error) {
	cookie, err := r.Cookie(name)
	if name != sessionCookie || err != nil {
		return st.CookieStore.New(r, name)
	}
	key, now := cookie.Value, time.Now()
	st.mu.Lock()
	m, ok := st.seen[key]
	st.mu.Unlock()
	if ok && now.Sub(m.at) < sessionMemory {
		sess := sessions.NewSession(st, name)
		opts := *st.Options
		sess.Options, sess.IsNew = &opts, false
		sess.Values = make(map[any]any, len(m.values))
		for k, v := range m.values {
			sess.Values[k] = v // ints and strings: nothing shared that a handler could change
		}
		return sess, nil
	}
	sess, err := st.CookieStore.New(r, name)
	if err != nil || sess.IsNew {
		return sess, err
	}
	if _, loggedIn := sess.Values[rememberedValue]; loggedIn && onlyScalars(sess.Values) {
		values := make(map[any]any, len(sess.Values))
		for k, v := range sess.Values {
			values[k] = v
		}
		st.mu.Lock()
		if len(st.seen) >= sessionsInMind {
			clear(st.seen)
		}
		st.seen[key] = remembered{values: values, at: now}
		st.mu.Unlock()
	}
	return sess, nil
}

// onlyScalars: a session holding a slice or map (flashes) is not kept, so
// that no two requests ever share one.
func onlyScalars(values map[any]any) bool {
	for _, v := range values {
		switch v.(type) {
		case int64, string:
		default:
			return false
		}
	}
	return true
}
