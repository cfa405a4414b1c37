package server

// CacheHits is how many requests the page cache has answered, for tests
// that must tell a cached page from a fresh one.
func CacheHits(s *Server) int64 { return s.cache.hits.Load() }
