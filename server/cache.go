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
	// rendering holds, for each address being rendered to be kept, a
	// channel closed when that render ends: other readers of the address
	// wait for it rather than render the same page beside it. When an
	// entry expires or a commit empties the cache under load, every reader
	// arriving in the time one render takes used to render it again, all
	// at once, each slowing the others (the bench's p99 stalls of 100 to
	// 250 ms on pages whose p50 is a quarter of a millisecond).
	rendering map[string]chan struct{}
	// unkept are the addresses whose last page could not be kept (a form
	// with the visitor's token, an error): their readers do not wait.
	unkept map[string]bool
	// waiting counts the readers waiting for another's render.
	waiting atomic.Int64
	// rendered, when set (by tests only), runs after each render the
	// cache may keep, before it is kept and its waiters let go.
	rendered func()
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
	// cacheMaxUnkept bounds the addresses remembered as not kept.
	cacheMaxUnkept = 1024
)

func newPageCache() *pageCache {
	return &pageCache{entries: map[string]cachedPage{}, maxBytes: cacheMaxBytes,
		rendering: map[string]chan struct{}{}, unkept: map[string]bool{}}
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
		clear(pc.unkept)
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
	if pc.serve(c, key, now) {
		return
	}
	done, leading := pc.startRender(key)
	if leading {
		keepable := false
		defer func() { pc.endRender(key, done, keepable) }()
		keepable = s.renderAndKeep(c, key, version, horizon, now)
		return
	}
	// Another reader is rendering this page: wait for theirs, then look
	// again with the version read afresh, so that a commit since this
	// request arrived is seen (the entry is kept only for the version its
	// render began under).
	pc.waiting.Add(1)
	select {
	case <-done:
	case <-c.Request.Context().Done():
		pc.waiting.Add(-1)
		c.AbortWithStatus(http.StatusServiceUnavailable)
		return
	}
	pc.waiting.Add(-1)
	now = s.cfg.Now()
	if version, horizon, ok = s.cacheGeneration(c, now); !ok {
		c.Next()
		return
	}
	if pc.serve(c, key, now) {
		return
	}
	s.renderAndKeep(c, key, version, horizon, now)
}

// serve answers from the cache if it holds a current page for key.
func (pc *pageCache) serve(c *gin.Context, key string, now time.Time) bool {
	pc.mu.Lock()
	page, hit := pc.entries[key]
	pc.mu.Unlock()
	if !hit || !now.Before(page.expires) {
		return false
	}
	h := c.Writer.Header()
	for k, v := range page.header {
		h[k] = v
	}
	c.Writer.WriteHeader(http.StatusOK)
	c.Writer.Write(page.body)
	pc.hits.Add(1)
	c.Abort()
	return true
}

// startRender says whether the caller is to render key (leading), or wait
// on done for the reader already rendering it. Addresses whose last render
// was not kept are rendered by everyone.
func (pc *pageCache) startRender(key string) (done chan struct{}, leading bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.unkept[key] {
		return nil, true
	}
	if done, ok := pc.rendering[key]; ok {
		return done, false
	}
	done = make(chan struct{})
	pc.rendering[key] = done
	return done, true
}

// endRender lets the readers waiting on key's render go, and notes an
// address whose page could not be kept.
func (pc *pageCache) endRender(key string, done chan struct{}, keepable bool) {
	if done == nil {
		return
	}
	pc.mu.Lock()
	delete(pc.rendering, key)
	if !keepable {
		if len(pc.unkept) >= cacheMaxUnkept {
			clear(pc.unkept)
		}
		pc.unkept[key] = true
	}
	pc.mu.Unlock()
	close(done)
}

// renderAndKeep runs the handler and keeps its page when it may be kept.
// It says whether the page could be kept: false for one that never can
// be (an error, a form with the visitor's token, one too large), true even
// when a commit during the render kept it out this time.
func (s *Server) renderAndKeep(c *gin.Context, key string, version int64, horizon, now time.Time) bool {
	pc := s.cache
	tee := &teeWriter{ResponseWriter: c.Writer}
	c.Writer = tee
	c.Next()
	c.Writer = tee.ResponseWriter
	if pc.rendered != nil {
		pc.rendered()
	}
	if tee.Status() != http.StatusOK || tee.buf.Len() > cacheMaxPage {
		return false
	}
	if token := s.csrfToken(c); token != "" && bytes.Contains(tee.buf.Bytes(), []byte(token)) {
		return false
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
		return true
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
	return true
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
