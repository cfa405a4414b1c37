package db

import (
	"errors"
	"strings"

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
//     them: "votes.proposal_id, votes.member_id".
//   - CHECK: the constraint's name if the schema gives it one
//     (CONSTRAINT name CHECK ...), otherwise its expression as written.
//   - A trigger: the whole message of its RAISE(ABORT, '...'). The
//     schema's triggers say "plenary: " and the rule, "plenary: last admin",
//     so no two share a message.
//
// Only the error's kind (the driver's result code, never its text) and
// the name are compared: an error that merely mentions name is not one.
//
// These names are the contract with the domain. A PostgreSQL dialect adds
// a case for its driver's error here (SQLSTATE class 23) and maps onto the
// same names: a constraint's ConstraintName ("members_email_key") to
// "members.email", and a trigger that RAISEs EXCEPTION with the same
// message and an integrity-violation SQLSTATE to that message.
func IsConstraint(err error, name string) bool {
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
