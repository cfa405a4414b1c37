package db

import "context"

// OpenTo opens the database at path as Open does, with its schema brought
// no further than version v: for the tests of a migration step, which
// start from a database as the step finds it.
func OpenTo(ctx context.Context, path, schema string, v int) (*DB, error) {
	return open(ctx, path, schema, Options{}, v)
}
