package server

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
)

// The public pages are what most requests ask for, and every anonymous
// visitor is shown the same page for the same address. pageCache keeps
// those pages whole, so that a page is rendered once per change rather than
// once per reader.
//
// An entry is served only while all of these hold:
//   - nothing has been committed to the database since it was rendered
//     (SQLite's data_version, which also sees commits by other processes,
//     such as the command line);
//   - no ballot has come due to open or close since (governance.NextDue),
//     so a result is never shown late and a closed ballot never looks open;
//   - it is younger than cacheMaxAge, a backstop for anything else.
//
// Only anonymous GETs that answer 200 are kept, never a page holding the
// visitor's CSRF token (a login or join form: drawing its form starts the
// visitor's session), and a visitor with a flash message waiting is always
// served fresh. Members' pages differ by member
// and are never cached.
type pageCache struct {
	mu       sync.Mutex
	known    bool // version and horizon have been read
	version  int64
	horizon  time.Time // the next ballot due, or the zero time for none
	entries  map[string]cachedPage
	size     int
	maxBytes int
	hits     atomic.Int64
}

type cachedPage struct {
	header  http.Header
	body    []byte
	expires time.Time
}

const (
	cacheMaxAge = 10 * time.Second
	// cacheMaxBytes bounds the memory the cache may hold. Addresses are
	// unbounded (any search text), so when it is full it starts again
	// empty rather than keep track of what is oldest.
	cacheMaxBytes = 32 << 20
	// cacheMaxPage keeps one huge export from emptying the cache.
	cacheMaxPage = 1 << 20
)

func newPageCache() *pageCache {
	return &pageCache{entries: map[string]cachedPage{}, maxBytes: cacheMaxBytes}
}

// generation brings the cache up to the database's current version and
// returns it with the horizon: entries from before are dropped. It runs
// the ballot query only when the version moves or the horizon has passed.
func (s *Server) cacheGeneration(c *gin.Context, now time.Time) (version int64, horizon time.Time, ok bool) {
	ctx := c.Request.Context()
	v, err := s.db.DataVersion(ctx)
	if err != nil {
		s.log.Warn("page cache: data version", "err", err)
		return 0, time.Time{}, false
	}
	pc := s.cache
	pc.mu.Lock()
	same := pc.known && v == pc.version && (pc.horizon.IsZero() || now.Before(pc.horizon))
	horizon = pc.horizon
	pc.mu.Unlock()
	if same {
		return v, horizon, true
	}
	at, due, err := s.gov.NextDue(ctx)
	if err != nil {
		s.log.Warn("page cache: next due ballot", "err", err)
		return 0, time.Time{}, false
	}
	if !due {
		at = time.Time{}
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if v != pc.version {
		clear(pc.entries)
		pc.size = 0
	}
	pc.known, pc.version, pc.horizon = true, v, at
	return v, at, true
}

// cachePublic serves anonymous GETs from the page cache, and keeps what
// the handler renders when it may be kept.
func (s *Server) cachePublic(c *gin.Context) {
	// A page at a secret address (a calendar feed) is its holder's alone.
	if s.cache == nil || c.Request.Method != http.MethodGet || member(c) != nil || hasCookie(c.Request, flashCookie) || hasCookie(c.Request, noticeCookie) ||
		strings.Contains(c.FullPath(), ":token") {
		c.Next()
		return
	}
	now := s.cfg.Now()
	version, horizon, ok := s.cacheGeneration(c, now)
	if !ok {
		c.Next()
		return
	}
	key := c.Request.URL.RequestURI()
	pc := s.cache
	pc.mu.Lock()
	page, hit := pc.entries[key]
	pc.mu.Unlock()
	if hit && now.Before(page.expires) {
		h := c.Writer.Header()
		for k, v := range page.header {
			h[k] = v
		}
		c.Writer.WriteHeader(http.StatusOK)
		c.Writer.Write(page.body)
		pc.hits.Add(1)
		c.Abort()
		return
	}

	tee := &teeWriter{ResponseWriter: c.Writer}
	c.Writer = tee
	c.Next()
	c.Writer = tee.ResponseWriter
	if tee.Status() != http.StatusOK || tee.buf.Len() > cacheMaxPage {
		return
	}
	if token := s.csrfToken(c); token != "" && bytes.Contains(tee.buf.Bytes(), []byte(token)) {
		return
	}
	header := tee.Header().Clone()
	header.Del("Set-Cookie") // the session cookie is this visitor's alone
	expires := now.Add(cacheMaxAge)
	if !horizon.IsZero() && horizon.Before(expires) {
		expires = horizon
	}
	body := bytes.Clone(tee.buf.Bytes())
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.version != version { // something was committed meanwhile
		return
	}
	if pc.size+len(body) > pc.maxBytes {
		clear(pc.entries)
		pc.size = 0
	}
	if old, ok := pc.entries[key]; ok {
		pc.size -= len(old.body)
	}
	pc.entries[key] = cachedPage{header: header, body: body, expires: expires}
	pc.size += len(body)
}

func hasCookie(r *http.Request, name string) bool {
	_, err := r.Cookie(name)
	return err == nil
}

// teeWriter keeps a copy of the body as the handler writes it.
type teeWriter struct {
	gin.ResponseWriter
	buf bytes.Buffer
}

func (w *teeWriter) Write(b []byte) (int, error) {
	w.buf.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *teeWriter) WriteString(s string) (int, error) {
	w.buf.WriteString(s)
	return w.ResponseWriter.WriteString(s)
}
