package db

import (
	"context"
	"database/sql/driver"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
)

// The PostgreSQL connections wrap pgx's database/sql driver so that the
// domain's SQL, written once, means the same on both databases. The
// differences handled here are mechanical, so no store method needs to know
// which database it talks to:
//
//   - placeholders: the domain writes ?, PostgreSQL wants $1, $2, … (rebind);
//   - LIKE: SQLite's is case-insensitive for ASCII letters, PostgreSQL's is
//     not, so it becomes ILIKE under the "C" collation, whose case folding is
//     ASCII's too (and which a nondeterministic column collation, as email's,
//     would otherwise refuse);
//   - booleans: SQLite has none, and the domain stores and scans 0 and 1, so
//     a bool argument is sent as an integer and a boolean result (EXISTS,
//     a comparison) comes back as one;
//   - times come back in UTC, as SQLite's driver gives them;
//   - a NUL character, or bytes that are not UTF-8, in a string become
//     U+FFFD: PostgreSQL's text has no room for them;
//   - commits on the writer that changed something are counted, for
//     DataVersion, and its connections' server processes are known, so
//     that their notifications are not counted twice.
//
// Everything else the driver passes through unchanged.

// pgConnector makes the wrapped connections of one pool.
type pgConnector struct {
	inner driver.Connector
	// watch, for the writer's pool only, counts its commits.
	watch *pgState
}

func (c *pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	pc := &pgConn{Conn: conn, watch: c.watch}
	if sc, ok := conn.(*stdlib.Conn); ok && c.watch != nil {
		pc.pid = sc.Conn().PgConn().PID()
		c.watch.own.Store(pc.pid, true)
	}
	return pc, nil
}

func (c *pgConnector) Driver() driver.Driver { return c.inner.Driver() }

// pgConn is one wrapped connection. The inner connection is pgx's
// stdlib.Conn, which implements every optional interface used here.
type pgConn struct {
	driver.Conn
	watch *pgState
	pid   uint32 // the server process's, when watch is set
	inTx  bool
}

func (c *pgConn) Close() error {
	if c.watch != nil {
		c.watch.own.Delete(c.pid)
	}
	return c.Conn.Close()
}

func (c *pgConn) inner() interface {
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
} {
	return c.Conn.(interface {
		driver.ConnBeginTx
		driver.ConnPrepareContext
		driver.ExecerContext
		driver.QueryerContext
		driver.Pinger
		driver.SessionResetter
	})
}

func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.inner().BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	c.inTx = true
	return &pgTx{Tx: tx, conn: c}, nil
}

func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.inner().PrepareContext(ctx, Rebind(query))
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	query, args = bind(query, args)
	res, err := c.inner().ExecContext(ctx, query, args)
	if err == nil {
		if n, _ := res.RowsAffected(); n > 0 {
			c.committed()
		}
	}
	return res, err
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	query, args = bind(query, args)
	rows, err := c.inner().QueryContext(ctx, query, args)
	if err != nil {
		return nil, err
	}
	// UPDATE … RETURNING outside a transaction commits too.
	c.committed()
	return &pgRows{Rows: rows}, nil
}

func (c *pgConn) Ping(ctx context.Context) error { return c.inner().Ping(ctx) }

func (c *pgConn) ResetSession(ctx context.Context) error { return c.inner().ResetSession(ctx) }

// IsValid lets database/sql drop a connection pgx has found broken.
func (c *pgConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

// CheckNamedValue gives pgx numbers as int64 or float64 (booleans as 0
// and 1), through pointers and driver.Valuers, so that bind can write them
// into the query; everything else goes to pgx as it is.
func (c *pgConn) CheckNamedValue(nv *driver.NamedValue) error {
	v := nv.Value
	for range 8 { // a Valuer may give a pointer, a pointer a Valuer
		if vr, ok := v.(driver.Valuer); ok && !isPointerToNil(v) {
			var err error
			if v, err = vr.Value(); err != nil {
				return err
			}
			continue
		}
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer {
			if rv.IsNil() {
				v = nil
			} else {
				v = rv.Elem().Interface()
			}
			continue
		}
		break
	}
	rv := reflect.ValueOf(v)
	switch {
	case !rv.IsValid():
		nv.Value = nil
	case rv.Kind() == reflect.Bool:
		nv.Value = int64(0)
		if rv.Bool() {
			nv.Value = int64(1)
		}
	case rv.CanInt():
		nv.Value = rv.Int()
	case rv.CanUint() && rv.Uint() <= math.MaxInt64:
		nv.Value = int64(rv.Uint())
	case rv.CanFloat():
		nv.Value = rv.Float()
	case rv.Kind() == reflect.String:
		nv.Value = pgText(rv.String())
	default:
		nv.Value = v
	}
	return nil
}

// pgText is s as PostgreSQL's text can hold it. It cannot hold NUL or
// bytes that are not UTF-8, which SQLite's can: they are stored as U+FFFD,
// the character that stands for one that cannot be shown, rather than
// refused with an error no one could act on.
func pgText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func isPointerToNil(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// bind rebinds query and writes its number arguments into it as literals:
// the simple protocol sends every other argument as a quoted literal, of
// no type until PostgreSQL infers one from where it stands, and where
// nothing says (a VALUES list, a select list) it becomes text, whereas
// SQLite keeps a number a number. The other arguments stay parameters,
// renumbered.
func bind(query string, args []driver.NamedValue) (string, []driver.NamedValue) {
	parts := split(query)
	if len(parts) != len(args)+1 {
		return Rebind(query), args // pgx reports the mismatch
	}
	var b strings.Builder
	b.Grow(len(query) + 8*len(args))
	kept := args[:0:0]
	for i, a := range args {
		b.WriteString(parts[i])
		switch v := a.Value.(type) {
		case int64:
			// Parenthesised, so a negative number after a minus sign is
			// not a comment.
			b.WriteString("(" + strconv.FormatInt(v, 10) + ")")
			continue
		case float64:
			if !math.IsInf(v, 0) && !math.IsNaN(v) {
				b.WriteString("(" + strconv.FormatFloat(v, 'g', -1, 64) + "::float8)")
				continue
			}
		}
		a.Ordinal = len(kept) + 1
		kept = append(kept, a)
		b.WriteString("$" + strconv.Itoa(len(kept)))
	}
	b.WriteString(parts[len(args)])
	return b.String(), kept
}

var splits sync.Map // query text → its PostgreSQL form, cut at each placeholder

// split returns Rebind(query) cut at its placeholders ($1, $2, …, which
// it leaves out): n placeholders give n+1 parts.
func split(query string) []string {
	if p, ok := splits.Load(query); ok {
		return p.([]string)
	}
	var parts []string
	rest := rebind(query, func(s string) { parts = append(parts, s) })
	parts = append(parts, rest)
	splits.Store(query, parts)
	return parts
}

// committed counts an autocommitted statement; statements in a
// transaction are counted when it commits.
func (c *pgConn) committed() {
	if c.watch != nil && !c.inTx {
		c.watch.version.Add(1)
	}
}

// wrote says whether the connection's transaction has changed any row:
// postgres.sql's triggers mark it so (plenary.changed), and a savepoint
// rolled back takes the mark back with its rows. A commit of nothing (a
// vote refused inside the vote writer's transaction) then moves no
// version, as it moves no data_version on SQLite.
func (c *pgConn) wrote() bool {
	rows, err := c.inner().QueryContext(context.Background(), `SELECT coalesce(current_setting('plenary.changed', true), '') = '1'`, nil)
	if err != nil {
		return true // unknown: count it, to be safe
	}
	defer rows.Close()
	v := make([]driver.Value, 1)
	if rows.Next(v) != nil {
		return true
	}
	b, ok := v[0].(bool)
	return !ok || b
}

type pgTx struct {
	driver.Tx
	conn *pgConn
}

func (t *pgTx) Commit() error {
	wrote := t.conn.watch != nil && t.conn.wrote()
	t.conn.inTx = false
	err := t.Tx.Commit()
	if err == nil && wrote {
		t.conn.watch.version.Add(1)
	}
	return err
}

func (t *pgTx) Rollback() error {
	t.conn.inTx = false
	return t.Tx.Rollback()
}

// pgRows turns booleans into 0 and 1 and times into UTC.
type pgRows struct {
	driver.Rows
}

func (r *pgRows) Next(dest []driver.Value) error {
	if err := r.Rows.Next(dest); err != nil {
		return err
	}
	for i, v := range dest {
		switch v := v.(type) {
		case bool:
			if v {
				dest[i] = int64(1)
			} else {
				dest[i] = int64(0)
			}
		case time.Time:
			dest[i] = v.UTC()
		}
	}
	return nil
}

var rebound sync.Map // query text → its PostgreSQL form

// Rebind turns the domain's SQL into PostgreSQL's: ? placeholders become
// $1, $2, …, and LIKE becomes an ASCII-case-insensitive ILIKE, as SQLite's
// LIKE is. Quoted strings, quoted names and comments are left alone.
// Results are kept, since the domain asks the same queries again and again.
func Rebind(query string) string {
	if q, ok := rebound.Load(query); ok {
		return q.(string)
	}
	q := rebind(query, nil)
	rebound.Store(query, q)
	return q
}

// rebind does Rebind's work. With cut not nil, at each placeholder it
// gives cut the text so far instead of writing $n, and starts again.
func rebind(query string, cut func(string)) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(query) {
				if query[j] == c {
					if j+1 < len(query) && query[j+1] == c { // '' inside a string
						j += 2
						continue
					}
					break
				}
				j++
			}
			j = min(j+1, len(query))
			b.WriteString(query[i:j])
			i = j
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				j = len(query) - i
			}
			b.WriteString(query[i : i+j])
			i += j
		case c == '/' && strings.HasPrefix(query[i:], "/*"):
			j := strings.Index(query[i+2:], "*/")
			if j < 0 {
				j = len(query) - i - 2
			} else {
				j += 2
			}
			b.WriteString(query[i : i+2+j])
			i += 2 + j
		case c == '?':
			n++
			if cut != nil {
				cut(b.String())
				b.Reset()
			} else {
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(n))
			}
			i++
		case isWordByte(c):
			j := i
			for j < len(query) && isWordByte(query[j]) {
				j++
			}
			word := query[i:j]
			if strings.EqualFold(word, "LIKE") {
				out := b.String()
				trimmed := strings.TrimRight(out, " \t\r\n")
				if len(trimmed) >= 4 && strings.EqualFold(trimmed[len(trimmed)-3:], "NOT") && !isWordByte(trimmed[len(trimmed)-4]) {
					// x NOT LIKE y: the collation goes on x, before NOT.
					b.Reset()
					b.WriteString(trimmed[:len(trimmed)-3])
					b.WriteString(`COLLATE "C" NOT ILIKE`)
				} else {
					b.WriteString(`COLLATE "C" ILIKE`)
				}
			} else {
				b.WriteString(word)
			}
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
