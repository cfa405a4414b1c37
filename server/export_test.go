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
