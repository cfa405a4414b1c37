package governance

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"plenary/internal/check"
)

// A roster is a list of people an admin pastes or uploads as CSV: an
// existing co-op's members to import (register.go), or people to invite
// (bulkinvite.go). Every row is checked, and each wrong row is reported
// with its line and what is wrong with it; nothing is done until every row
// is right. The CSV is what spreadsheets write: with or without a byte
// order mark, separated by commas, semicolons (Excel where the decimal
// point is a comma) or tabs, quoted or not, with blank lines anywhere.

// Limits on one roster: a larger co-op imports in parts.
const (
	MaxRosterBytes = 2 << 20
	MaxRosterRows  = 10000
)

// RosterRow is one person of a roster, as read, with what is wrong with
// them (nothing, when Problems is empty).
type RosterRow struct {
	Line     int    // the row's line in the file, from 1, the header counted
	Name     string // trimmed
	Email    string // trimmed, lower case
	Role     string // member or admin
	Joined   *time.Time
	Problems []string
}

// Roster is the rows of a roster in file order.
type Roster struct {
	Rows []RosterRow
}

// Bad is the rows with problems.
func (r Roster) Bad() []RosterRow {
	var out []RosterRow
	for _, row := range r.Rows {
		if len(row.Problems) > 0 {
			out = append(out, row)
		}
	}
	return out
}

// RosterError is a roster with problems in some rows: nothing was done.
type RosterError struct {
	Roster Roster
}

func (e *RosterError) Error() string {
	return fmt.Sprintf("governance: %d of %d rows have problems", len(e.Roster.Bad()), len(e.Roster.Rows))
}

// rosterKind is what a roster is for, which decides its columns.
type rosterKind int

const (
	rosterImport rosterKind = iota // name, email, joined (optional)
	rosterInvite                   // name, email, role (optional)
)

// columnNames maps a header cell, folded (lower case, letters only), to
// the column it names. The register's own export (number, name, email,
// status, joined, left) reads back: the columns not named here are
// ignored.
var columnNames = map[string]string{
	"name": "name", "fullname": "name", "membername": "name", "displayname": "name",
	"email": "email", "emailaddress": "email", "mail": "email",
	"role":   "role",
	"joined": "joined", "joinedon": "joined", "joinedat": "joined", "membersince": "joined", "since": "joined",
}

func foldHeader(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// formulaStarts are the characters a spreadsheet takes a cell starting
// with for a formula (or, for a tab or carriage return, hides one behind).
const formulaStarts = "=+-@\t\r"

func isFormula(cell string) bool {
	return cell != "" && strings.ContainsRune(formulaStarts, rune(cell[0])) ||
		strings.TrimSpace(cell) != "" && strings.ContainsRune(formulaStarts, rune(strings.TrimSpace(cell)[0]))
}

// readRoster reads text as a roster of kind, checking each row on its own
// and against the others (an address twice); what the database says of
// the addresses is checkRoster's. A file that cannot be read as a roster
// at all (too big, not text, not CSV, no columns) is a ValidationError on
// the field "csv".
func readRoster(text string, kind rosterKind, now time.Time) (Roster, error) {
	fileError := func(msg string) (Roster, error) { return Roster{}, ValidationError{"csv": msg} }
	if len(text) > MaxRosterBytes {
		return fileError(fmt.Sprintf("The file is larger than %d MB. Split it into parts of at most %d people.", MaxRosterBytes>>20, MaxRosterRows))
	}
	text = strings.TrimPrefix(text, "\uFEFF")
	if !utf8.ValidString(text) {
		return fileError("The file is not UTF-8 text. Save it from your spreadsheet as “CSV UTF-8” and try again.")
	}
	if strings.TrimSpace(text) == "" {
		return fileError("Paste or upload a CSV with a name and an email address on each row.")
	}
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = separator(text)
	r.FieldsPerRecord = -1
	var (
		columns map[string]int
		roster  Roster
		seen    = map[string]int{}
	)
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			switch {
			case errors.Is(perr.Err, csv.ErrBareQuote):
				return fileError(fmt.Sprintf("Line %d has a quotation mark inside a cell that does not start with one: "+
					"put the whole cell in quotation marks, and double each one inside it.", perr.Line))
			case errors.Is(perr.Err, csv.ErrQuote):
				return fileError(fmt.Sprintf("Line %d has a quoted cell that does not end where it should: "+
					"a quotation mark is missing or extra.", perr.StartLine))
			}
			return fileError(fmt.Sprintf("Line %d could not be read as CSV.", perr.Line))
		}
		if err != nil {
			return fileError("The file could not be read as CSV.")
		}
		line, _ := r.FieldPos(0)
		if blank(rec) {
			continue
		}
		if columns == nil {
			columns = map[string]int{}
			for i, cell := range rec {
				if c, ok := columnNames[foldHeader(cell)]; ok {
					if _, twice := columns[c]; !twice {
						columns[c] = i
					}
				}
			}
			_, name := columns["name"]
			_, email := columns["email"]
			switch {
			case name && email:
				continue // a header
			case len(columns) == 0 && len(rec) >= 2 && strings.Contains(rec[1], "@"):
				// No header: name, email and, for invitations, role, in
				// that order.
				columns = map[string]int{"name": 0, "email": 1}
				if kind == rosterInvite {
					columns["role"] = 2
				}
			default:
				want := "name, email and, if you like, role"
				if kind == rosterImport {
					want = "name, email and, if you like, joined"
				}
				return fileError(fmt.Sprintf("The first row must name the columns (%s), or each row must be a name, then an email address.", want))
			}
		}
		if len(roster.Rows) == MaxRosterRows {
			return fileError(fmt.Sprintf("The file has more than %d people. Split it into parts of at most %d.", MaxRosterRows, MaxRosterRows))
		}
		cell := func(col string) (string, bool) {
			i, ok := columns[col]
			if !ok || i >= len(rec) {
				return "", ok
			}
			return rec[i], true
		}
		row := RosterRow{Line: line, Role: RoleMember}
		rawName, _ := cell("name")
		rawEmail, _ := cell("email")
		rawRole, hasRole := cell("role")
		rawJoined, hasJoined := cell("joined")
		for _, c := range []struct{ what, raw string }{{"name", rawName}, {"email address", rawEmail}, {"role", rawRole}, {"joined date", rawJoined}} {
			if isFormula(c.raw) {
				row.Problems = append(row.Problems, fmt.Sprintf("The %s starts with %q, which a spreadsheet runs as a formula: remove it.",
					c.what, strings.TrimSpace(c.raw)[:1]))
			}
		}
		row.Name = strings.TrimSpace(rawName)
		if msg := rosterName(row.Name); msg != "" {
			row.Problems = append(row.Problems, msg)
		}
		row.Email = strings.ToLower(strings.TrimSpace(rawEmail))
		switch {
		case row.Email == "":
			row.Problems = append(row.Problems, "No email address.")
		case utf8.RuneCountInString(row.Email) > MaxEmailLen || !check.Email(row.Email):
			row.Problems = append(row.Problems, fmt.Sprintf("“%s” is not an email address.", shortCell(rawEmail)))
		case seen[row.Email] != 0:
			row.Problems = append(row.Problems, fmt.Sprintf("Repeated: this address is also on line %d.", seen[row.Email]))
		default:
			seen[row.Email] = line
		}
		if hasRole && kind == rosterInvite {
			switch role := strings.ToLower(strings.TrimSpace(rawRole)); role {
			case "", RoleMember:
			case RoleAdmin:
				row.Role = RoleAdmin
			default:
				row.Problems = append(row.Problems, fmt.Sprintf("The role must be member or admin, not “%s”.", shortCell(rawRole)))
			}
		}
		if hasJoined && kind == rosterImport && strings.TrimSpace(rawJoined) != "" {
			joined, ok := rosterDate(strings.TrimSpace(rawJoined))
			switch {
			case !ok:
				row.Problems = append(row.Problems, fmt.Sprintf("“%s” is not a date such as 2024-05-31.", shortCell(rawJoined)))
			case joined.After(now):
				row.Problems = append(row.Problems, "The joined date is in the future.")
			default:
				row.Joined = &joined
			}
		}
		roster.Rows = append(roster.Rows, row)
	}
	if len(roster.Rows) == 0 {
		return fileError("The file names its columns but has nobody in it.")
	}
	return roster, nil
}

// separator is the character the first line is split by: a comma, or a
// semicolon or tab if the line holds more of those outside quotes.
func separator(text string) rune {
	first := strings.TrimLeft(text, "\r\n")
	if i := strings.IndexAny(first, "\r\n"); i >= 0 {
		first = first[:i]
	}
	counts := map[rune]int{}
	quoted := false
	for _, c := range first {
		switch {
		case c == '"':
			quoted = !quoted
		case !quoted && (c == ',' || c == ';' || c == '\t'):
			counts[c]++
		}
	}
	best := ','
	for _, c := range []rune{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return best
}

func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// rosterName checks a name as Details does, in words about a row.
func rosterName(name string) string {
	switch {
	case name == "":
		return "No name."
	case utf8.RuneCountInString(name) > MaxNameLen:
		return fmt.Sprintf("The name is longer than %d characters.", MaxNameLen)
	case strings.ContainsFunc(name, func(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' }):
		return "The name contains invalid characters (a line break or a control character)."
	}
	return ""
}

// shortCell is a cell quoted in a message: at most 40 characters.
func shortCell(s string) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > 40 {
		return string(r[:39]) + "…"
	}
	return s
}

// rosterDate reads a date as a spreadsheet writes one: 2024-05-31, or a
// whole RFC 3339 time (the register's own export).
func rosterDate(s string) (time.Time, bool) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), true
	}
	return time.Time{}, false
}

// rosterChunk is how many addresses one lookup asks about.
const rosterChunk = 500

// checkRoster adds to each row what the database says of its address: a
// member (of any status) has it already; and, when invitations is set, an
// open invitation was made for it. q is the transaction that will act on
// the roster, or the readers for a preview.
func checkRoster(ctx context.Context, q sqlx.QueryerContext, r *Roster, invitations bool, now time.Time) error {
	index := map[string]int{}
	var emails []string
	for i, row := range r.Rows {
		if len(row.Problems) == 0 {
			index[row.Email] = i
			emails = append(emails, row.Email)
		}
	}
	for start := 0; start < len(emails); start += rosterChunk {
		chunk := emails[start:min(start+rosterChunk, len(emails))]
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ")
		args := make([]any, len(chunk))
		for i, e := range chunk {
			args[i] = e
		}
		var members []struct {
			ID     int64  `db:"id"`
			Email  string `db:"email"`
			Status string `db:"status"`
		}
		if err := sqlx.SelectContext(ctx, q, &members, `SELECT id, email, status FROM members WHERE email IN (`+marks+`)`, args...); err != nil {
			return fmt.Errorf("governance: check a roster against the members: %w", err)
		}
		for _, m := range members {
			if i, ok := index[strings.ToLower(m.Email)]; ok {
				r.Rows[i].Problems = append(r.Rows[i].Problems, fmt.Sprintf("Already in the register: member %d (%s).", m.ID, m.Status))
			}
		}
		if !invitations {
			continue
		}
		var invs []struct {
			ID      int64     `db:"id"`
			Email   string    `db:"email"`
			Expires time.Time `db:"expires_at"`
		}
		if err := sqlx.SelectContext(ctx, q, &invs, `SELECT id, email, expires_at FROM invitations
			WHERE email IN (`+marks+`) AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?`, append(args, now)...); err != nil {
			return fmt.Errorf("governance: check a roster against the invitations: %w", err)
		}
		for _, inv := range invs {
			if i, ok := index[strings.ToLower(inv.Email)]; ok {
				r.Rows[i].Problems = append(r.Rows[i].Problems, fmt.Sprintf("Already invited: invitation %d, open until %s.",
					inv.ID, inv.Expires.UTC().Format("2 Jan 2006")))
			}
		}
	}
	return nil
}
