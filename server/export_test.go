package server

// CacheHits is how many requests the page cache has answered, for tests
// that must tell a cached page from a fresh one.
func CacheHits(s *Server) int64 { return s.cache.hits.Load() }

// CacheMaxAge is how long a cached page may be served at most.
const CacheMaxAge = cacheMaxAge

// UsePageCache turns the page cache on or off, so benchmarks can measure
// rendering itself. Call it before the server takes requests.
func UsePageCache(s *Server, on bool) {
	if on {
		s.cache = newPageCache()
	} else {
		s.cache = nil
	}
}

// HoldRenders makes every page the cache may keep wait, once rendered and
// before it is kept, until release is called: a render that takes as
// long as the test likes.
func HoldRenders(s *Server) (release func()) {
	ch := make(chan struct{})
	s.cache.rendered = func() { <-ch }
	return func() { close(ch) }
}

// CacheWaiting is how many readers wait for another reader's render.
func CacheWaiting(s *Server) int64 { return s.cache.waiting.Load() }
