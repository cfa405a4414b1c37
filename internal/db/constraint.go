package db

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
)

// IsConstraint says whether err (or an error it wraps) is the database
// refusing a write because of the constraint called name. The domain
// leaves its invariants to the schema and turns these refusals into its
// own errors; it asks here rather than reading the message, so the driver's
// wording stays in this package.
//
// name is what SQLite calls the constraint in its error:
//
//   - UNIQUE, PRIMARY KEY and NOT NULL: the table and column,
//     "members.email"; for several columns all of them, as SQLite lists
//     them: "votes.proposal_id, votes.member_id"; for a unique index on
//     an expression, the index: "index 'proxies_live'".
//   - CHECK: the constraint's name if the schema gives it one
//     (CONSTRAINT name CHECK ...), otherwise its expression as written.
//   - A trigger: the whole message of its RAISE(ABORT, '...'). The
//     schema's triggers say "plenary: " and the rule, "plenary: last admin",
//     so no two share a message.
//
// Only the error's kind (the driver's result code, never its text) and
// the name are compared: an error that merely mentions name is not one.
//
// These names are the contract with the domain. On PostgreSQL
// (SQLSTATE class 23) postgres.sql names its UNIQUE and PRIMARY KEY
// constraints as SQLite does ("members.email"), a unique index on an
// expression has the name SQLite puts in quotes, a NOT NULL refusal is
// named from its table and column, a CHECK by its constraint name, and
// its triggers raise SQLSTATE 23000 with the very message of SQLite's.
func IsConstraint(err error, name string) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23000": // raised by a trigger (plenary_refuse)
			return pe.Message == name
		case "23505": // unique
			return pe.ConstraintName == name || "index '"+pe.ConstraintName+"'" == name
		case "23514": // check
			return pe.ConstraintName == name
		case "23502": // not null
			return pe.TableName+"."+pe.ColumnName == name
		}
		return false
	}
	var e sqlite3.Error
	if !errors.As(err, &e) || e.Code != sqlite3.ErrConstraint {
		return false
	}
	msg := e.Error()
	switch e.ExtendedCode {
	case sqlite3.ErrConstraintTrigger:
		return msg == name
	case sqlite3.ErrConstraintUnique, sqlite3.ErrConstraintPrimaryKey, sqlite3.ErrConstraintNotNull, sqlite3.ErrConstraintCheck:
		// "UNIQUE constraint failed: members.email"
		_, names, ok := strings.Cut(msg, " constraint failed: ")
		return ok && names == name
	}
	return false // a foreign key, say: SQLite names none
}
