// Package governance is the co-op's democratic core: members (invitations,
// password resets, login throttling, rate limits), proposals and their
// ballots, the vote writer, tallies, and the hash-chained ledger of every
// governance event. It knows nothing of HTTP.
package governance

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"plenary/internal/check"
	"plenary/internal/db"
)

// Errors the server maps to statuses.
var (
	ErrNotFound       = errors.New("governance: not found")
	ErrForbidden      = errors.New("governance: forbidden")
	ErrBadCredentials = errors.New("governance: email or password not recognised")
	ErrThrottled      = errors.New("governance: too many failed attempts")
	ErrLastAdmin      = errors.New("governance: the co-op must keep at least one active admin")
)

// ValidationError says, field by field, what is wrong with some input; the
// messages are safe to show. It is the same type in governance and library,
// so a ballot's check of a library item passes its messages straight on.
type ValidationError = check.Errors

// Service holds the rules of membership and the ledger.
type Service struct {
	db    *db.DB
	now   func() time.Time
	hash  Hasher
	votes *voteWriter
	// unscrubbed: secret votes were written, or a secret ballot closed,
	// since the write-ahead log was last truncated (scrub.go).
	unscrubbed atomic.Bool
	// unsubscribeKey signs one-click unsubscribe links, read from the
	// database once (prefs.go).
	unsubscribeKey atomic.Pointer[[]byte]
	// closedTurnout keeps each closed ballot's turnout, proposal id to
	// count, which can no longer change (turnout, proposals_read.go): an
	// int per ballot the co-op has closed.
	closedTurnout sync.Map
	// Throttle: at most MaxFailures failed logins per account and per address
	// within FailureWindow.
	MaxFailures   int
	FailureWindow time.Duration
	// InvitationTTL is how long an invitation link works unless said otherwise.
	InvitationTTL time.Duration
	// ResetTTL is how long a password-reset link works.
	ResetTTL time.Duration
	// Silent queues no notification, and no reminder: for the demo, which
	// makes up a co-op's past in minutes, where 1,000 ballots of 100,000
	// members would queue 300 million messages nobody should get.
	Silent bool
	// MailDomain ends the Message-ID of every email queued (the co-op's
	// host, vote.example.coop say), so that ids are unique beyond this
	// co-op: a mail client that sees two messages with one id shows one.
	MailDomain string
	// Rate limits on the public forms, per client address unless said
	// otherwise: applications made; wrong invitation links tried;
	// password-reset requests per address and per email as typed.
	JoinLimit         Limit
	InvitationLimit   Limit
	ResetAddressLimit Limit
	ResetEmailLimit   Limit
}

// New returns a Service on d. now is the clock (time.Now in production, a
// test's own clock in tests); times are stored in UTC.
func New(d *db.DB, now func() time.Time) *Service {
	s := &Service{
		db:            d,
		now:           func() time.Time { return now().UTC() },
		hash:          limitedHasher{Argon2id{}, make(chan struct{}, runtime.NumCPU())},
		MaxFailures:   5,
		FailureWindow: 15 * time.Minute,
		InvitationTTL: 14 * 24 * time.Hour,
		ResetTTL:      24 * time.Hour,
		MailDomain:    "plenary",
		// Generous enough for a household or an office behind one
		// address; a general meeting on one network uses invitations.
		JoinLimit:         Limit{Max: 5, Window: time.Hour},
		InvitationLimit:   Limit{Max: 10, Window: 15 * time.Minute},
		ResetAddressLimit: Limit{Max: 10, Window: time.Hour},
		ResetEmailLimit:   Limit{Max: 3, Window: time.Hour},
	}
	s.votes = newVoteWriter(s)
	return s
}

// newToken returns a random URL-safe token with 256 bits of entropy.
func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// tokenHash is what is stored of a token: a leaked database does not give
// away working links.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
