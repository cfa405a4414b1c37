// Package outbox is what governance (which queues notifications) and
// internal/notify (which delivers them) agree on: the kinds of message,
// what each carries in its payload, the Message-ID of each, the modes a
// member chooses between, and the signed one-click unsubscribe token. It
// holds no I/O of its own.
package outbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Kinds of message.
const (
	VotingOpened = "voting_opened" // to everyone on a ballot's roll, when voting opens
	ClosingSoon  = "closing_soon"  // to those on the roll who have not voted, a set time before close
	Result       = "result"        // to everyone on the roll, when it closes
	Application  = "application"   // to every active admin, when someone applies
	// Account messages: always sent, whatever the member has chosen.
	Decision      = "application_decided" // to an applicant, approved or rejected
	PasswordReset = "password_reset"      // a reset link the member asked for
	Invitation    = "invitation"          // an invitation link, to an address
	Digest        = "digest"              // a member's daily digest of the kinds they chose for it
)

// Choosable are the kinds a member chooses how to get, in the order the
// account page lists them. Application is for admins only.
var Choosable = []string{VotingOpened, ClosingSoon, Result, Application}

// IsChoosable says whether kind is one a member may choose for.
func IsChoosable(kind string) bool { return slices.Contains(Choosable, kind) }

// KindNames says each choosable kind in words, as the account page and the
// unsubscribe page do.
var KindNames = map[string]string{
	VotingOpened: "Voting has opened on a proposal",
	ClosingSoon:  "A ballot you have not voted in closes soon",
	Result:       "The result of a ballot you were on the roll for",
	Application:  "Someone has applied to join (admins)",
}

// Modes a member chooses for a kind.
const (
	AtOnce   = "at_once" // the default: each message as it comes
	InDigest = "digest"  // gathered into one email a day, at the member's hour
	Never    = "never"
)

// DefaultDigestHour is the hour a digest goes out unless a member picks
// another.
const DefaultDigestHour = 8

// MessageID is the Message-ID of the message of kind about event to
// recipient (a member's number, or 0 for an address), with its angle
// brackets: the same on every attempt, so a message sent twice (after a
// crash) is recognisable, and different for every (kind, event,
// recipient). domain is the co-op's host.
func MessageID(kind, event string, recipient int64, domain string) string {
	return "<" + kind + "." + event + "." + strconv.FormatInt(recipient, 10) + "@" + domain + ">"
}

// The payloads: what a message says beyond its recipient's own name and
// address, stored as JSON with the notification.

// Ballot is a voting_opened, closing_soon or result message's.
type Ballot struct {
	Proposal int64     `json:"proposal"`
	Title    string    `json:"title"`
	Kind     string    `json:"kind"` // the proposal's kind, in words
	Secret   bool      `json:"secret"`
	ClosesAt time.Time `json:"closes_at"`
	// The result, in result messages only.
	Outcome   string `json:"outcome,omitempty"`
	Yes       int    `json:"yes,omitempty"`
	No        int    `json:"no,omitempty"`
	Abstain   int    `json:"abstain,omitempty"`
	Turnout   int    `json:"turnout,omitempty"`
	RollSize  int    `json:"roll_size,omitempty"`
	QuorumMet bool   `json:"quorum_met,omitempty"`
	// A choice among options: its method, and what it decided (the
	// options' labels in order: the order, the winners or the elected),
	// in place of yes, no and abstain.
	Method string   `json:"method,omitempty"`
	Chosen []string `json:"chosen,omitempty"`
}

// NewApplication is an application message's: who applied.
type NewApplication struct {
	Applicant int64  `json:"applicant"`
	Name      string `json:"name"`
}

// ApplicationDecision is an application_decided message's.
type ApplicationDecision struct {
	Approved bool   `json:"approved"`
	Reason   string `json:"reason,omitempty"`
}

// Link is a password_reset or invitation message's: the link's token,
// until the message is sent, and when it stops working. Name is who an
// invitation is for. Welcome marks the first link of a member imported
// with the register, who has never had a password: their email welcomes
// them rather than answering a request they never made.
type Link struct {
	Token     string    `json:"token,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
	Name      string    `json:"name,omitempty"`
	Welcome   bool      `json:"welcome,omitempty"`
}

// Signer makes and checks unsubscribe tokens: a member's number and a kind,
// signed with HMAC-SHA256 under a secret kept in the database, so a link
// in an email works without logging in and cannot be forged or turned to
// another member or kind.
type Signer struct{ key []byte }

// NewSigner returns a Signer with key (at least 32 random bytes).
func NewSigner(key []byte) Signer {
	if len(key) < 32 {
		panic("outbox: an unsubscribe key needs 32 bytes")
	}
	return Signer{key: key}
}

// MaxTokenLen is longer than any token Token makes; anything longer is
// refused unread.
const MaxTokenLen = 120

func (s Signer) mac(member int64, kind string) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte("plenary unsubscribe\x00" + strconv.FormatInt(member, 10) + "\x00" + kind))
	return h.Sum(nil)
}

// Token is the unsubscribe token for member and kind:
// "7.voting_opened.<43 characters>". A digest's token (kind Digest) stops
// every kind the member gets in their digest.
func (s Signer) Token(member int64, kind string) string {
	return strconv.FormatInt(member, 10) + "." + kind + "." + base64.RawURLEncoding.EncodeToString(s.mac(member, kind))
}

// Check returns the member and kind a token was made for, or ok false for
// anything that is not a token Token made with this key.
func (s Signer) Check(token string) (member int64, kind string, ok bool) {
	if len(token) > MaxTokenLen {
		return 0, "", false
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 || !(IsChoosable(parts[1]) || parts[1] == Digest) {
		return 0, "", false
	}
	member, err := strconv.ParseInt(parts[0], 10, 64)
	// Only the number as Token writes it: no sign, no leading zeros.
	if err != nil || member <= 0 || strconv.FormatInt(member, 10) != parts[0] {
		return 0, "", false
	}
	got, err := base64.RawURLEncoding.Strict().DecodeString(parts[2])
	if err != nil || !hmac.Equal(got, s.mac(member, parts[1])) {
		return 0, "", false
	}
	return member, parts[1], true
}
