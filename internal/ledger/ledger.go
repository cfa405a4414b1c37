// Package ledger appends to Plenary's hash-chained ledger and defines the
// body of every kind of entry as a typed struct.
//
// Both domain packages write to the ledger inside their own transactions:
// governance (membership, proposals, ballots and their effects) and library
// (curation: listing, hiding and editing). Neither imports the other's
// ledger code; both import this package, which imports only the database
// driver's interfaces.
//
// An entry's body is the canonical JSON of its struct: keys in sorted
// order, no spaces. Each struct's fields are declared in the order of their
// JSON keys, so the JSON is the very bytes the older map[string]any bodies
// produced (encoding/json sorts map keys), and chains written before the
// bodies were typed still verify.
package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Event is the body of one ledger entry; Kind is its kind, such as
// "ballot.opened".
type Event interface {
	Kind() string
}

// Genesis is the previous hash of the first entry.
var Genesis = strings.Repeat("0", 64)

// Hash is the chain's rule: the SHA-256 of the previous hash, a newline,
// and the canonical JSON of the entry's sequence, time, kind and body.
func Hash(prev string, seq int64, at, kind, body string) string {
	canon, _ := json.Marshal(struct {
		Seq  int64           `json:"seq"`
		At   string          `json:"at"`
		Kind string          `json:"kind"`
		Body json.RawMessage `json:"body"`
	}{seq, at, kind, json.RawMessage(body)})
	sum := sha256.Sum256([]byte(prev + "\n" + string(canon)))
	return hex.EncodeToString(sum[:])
}

// Body is the canonical JSON of an event.
func Body(ev Event) (string, error) {
	b, err := json.Marshal(ev)
	if err != nil {
		return "", fmt.Errorf("ledger: body of %s: %w", ev.Kind(), err)
	}
	return string(b), nil
}

// Append adds an entry inside tx, the same transaction as the change it
// records, so the ledger and the data never disagree. The writer's single
// connection and immediate transactions make the read of the head and the
// insert atomic.
func Append(ctx context.Context, tx *sqlx.Tx, at time.Time, ev Event) error {
	body, err := Body(ev)
	if err != nil {
		return err
	}
	var head struct {
		Seq  int64  `db:"seq"`
		Hash string `db:"hash"`
	}
	err = tx.GetContext(ctx, &head, `SELECT coalesce(max(seq), 0) AS seq,
		coalesce((SELECT hash FROM ledger ORDER BY seq DESC LIMIT 1), ?) AS hash FROM ledger`, Genesis)
	if err != nil {
		return fmt.Errorf("ledger: head: %w", err)
	}
	seq := head.Seq + 1
	stamp := at.UTC().Format(time.RFC3339Nano)
	kind := ev.Kind()
	hash := Hash(head.Hash, seq, stamp, kind, body)
	_, err = tx.ExecContext(ctx, `INSERT INTO ledger (seq, at, kind, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)`,
		seq, stamp, kind, body, head.Hash, hash)
	if err != nil {
		return fmt.Errorf("ledger: append %s: %w", kind, err)
	}
	return nil
}

// appendChunk is how many entries AppendMany writes with one INSERT: six
// values each, well under SQLite's 32,766 and PostgreSQL's 65,535 bound
// parameters.
const appendChunk = 500

// AppendMany adds entries inside tx, all at the time at, in the order
// given, as Append would one by one: the chain is computed here from the
// head, and the rows go in with a few multi-row INSERTs rather than a
// round trip each. For the bulk admissions and invitations, which put
// thousands of entries on the ledger in one transaction.
func AppendMany(ctx context.Context, tx *sqlx.Tx, at time.Time, evs []Event) error {
	if len(evs) == 0 {
		return nil
	}
	var head struct {
		Seq  int64  `db:"seq"`
		Hash string `db:"hash"`
	}
	err := tx.GetContext(ctx, &head, `SELECT coalesce(max(seq), 0) AS seq,
		coalesce((SELECT hash FROM ledger ORDER BY seq DESC LIMIT 1), ?) AS hash FROM ledger`, Genesis)
	if err != nil {
		return fmt.Errorf("ledger: head: %w", err)
	}
	stamp := at.UTC().Format(time.RFC3339Nano)
	seq, prev := head.Seq, head.Hash
	for start := 0; start < len(evs); start += appendChunk {
		chunk := evs[start:min(start+appendChunk, len(evs))]
		var q strings.Builder
		q.WriteString(`INSERT INTO ledger (seq, at, kind, body, prev_hash, hash) VALUES `)
		args := make([]any, 0, 6*len(chunk))
		for i, ev := range chunk {
			body, err := Body(ev)
			if err != nil {
				return err
			}
			seq++
			kind := ev.Kind()
			hash := Hash(prev, seq, stamp, kind, body)
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?)")
			args = append(args, seq, stamp, kind, body, prev, hash)
			prev = hash
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("ledger: append %d entries: %w", len(chunk), err)
		}
	}
	return nil
}
