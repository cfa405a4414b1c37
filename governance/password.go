package governance

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/crypto/argon2"

	"plenary/internal/check"
)

// Password length limits. The upper one stops a megabyte "password" from
// being hashed on every login attempt.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 128
)

// Hasher hashes and checks passwords.
type Hasher interface {
	Hash(password string) (string, error)
	Check(hash, password string) bool
}

// Argon2id hashes with the parameters OWASP recommends for argon2id
// (19 MiB, two passes, one lane) and a random 16-byte salt, in the PHC
// string format so the parameters travel with each hash.
type Argon2id struct{}

const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

func (Argon2id) Hash(password string) (string, error) {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

func (Argon2id) Check(hash, password string) bool {
	var version int
	var memory, time uint32
	var threads uint8
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &time, &threads); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err := errors.Join(err1, err2); err != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, time, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// limitedHasher runs at most cap(slots) hashes at once. Each argon2id
// hash takes 19 MiB and a core for tens of milliseconds, so a burst of
// logins (a general meeting opening a vote, or an attacker) would otherwise
// take gigabytes of memory and starve every other request; with a limit
// they queue, and memory stays flat.
type limitedHasher struct {
	Hasher
	slots chan struct{}
}

func (h limitedHasher) Hash(password string) (string, error) {
	h.slots <- struct{}{}
	defer func() { <-h.slots }()
	return h.Hasher.Hash(password)
}

func (h limitedHasher) Check(hash, password string) bool {
	h.slots <- struct{}{}
	defer func() { <-h.slots }()
	return h.Hasher.Check(hash, password)
}

// dummyHash is checked against when an email is unknown, so a login for an
// unknown account takes as long as one for a known account.
var dummyHash, _ = Argon2id{}.Hash("plenary-dummy-password")

// checkPassword says what is wrong with a new password for the member
// with name and email, or "" if nothing: first its length, by Details'
// tags, then passwordPolicy.
func checkPassword(password, name, email string) string {
	if msg, bad := check.Partial(Details{Password: password}, "Password")["password"]; bad {
		return msg
	}
	return passwordPolicy(password, name, email)
}

// passwordPolicy refuses, of passwords long enough, the ones attackers try
// first and ones mostly made of the member's own name or email: what an
// attacker who knows them tries next. A passphrase that merely shares a
// word with them ("admin pass phrase 42" for admin@example.org) is not
// refused: the rest of it is its strength.
func passwordPolicy(password, name, email string) string {
	lower := strings.ToLower(password)
	if commonPasswords[lower] || isMonotonous(lower) {
		return "This password is among the most common ones; choose another."
	}
	if mostlyPersonal(lower, name, email) {
		return "Don't build your password from your name or email."
	}
	return ""
}

// mostlyPersonal says whether, once the member's name, its words, the
// email's local part, its words and the domain's names are taken out of
// the password's letters and digits, less than half of them is left.
func mostlyPersonal(password, name, email string) bool {
	alnum := func(s string) string {
		return strings.Map(func(r rune) rune {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				return unicode.ToLower(r)
			}
			return -1
		}, s)
	}
	rest := alnum(password)
	total := len(rest)
	local, domain, _ := strings.Cut(strings.ToLower(email), "@")
	splitter := func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }
	pieces := []string{alnum(name), alnum(local)}
	pieces = append(pieces, strings.FieldsFunc(strings.ToLower(name), splitter)...)
	pieces = append(pieces, strings.FieldsFunc(local, splitter)...)
	if labels := strings.Split(domain, "."); len(labels) > 1 {
		pieces = append(pieces, labels[:len(labels)-1]...) // not the top-level domain
	}
	// The longest first, so a full name goes before its words.
	slices.SortFunc(pieces, func(a, b string) int { return len(b) - len(a) })
	for _, p := range pieces {
		if p = alnum(p); len(p) >= 3 {
			rest = strings.ReplaceAll(rest, p, "")
		}
	}
	return total > 0 && 2*len(rest) < total
}

// isMonotonous catches "aaaaaaaaaa" and "abababababab": passwords with at
// most two distinct characters.
func isMonotonous(s string) bool {
	seen := map[rune]bool{}
	for _, r := range s {
		seen[r] = true
		if len(seen) > 2 {
			return false
		}
	}
	return true
}

// commonPasswords holds the most common passwords of ten or more characters
// from public breach corpora (shorter ones are refused by length anyway).
var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for _, p := range strings.Fields(`
1234567890 0123456789 0987654321 9876543210 1234567891 1234567899 12345678910 123456789a
123456789q a123456789 q1w2e3r4t5 1q2w3e4r5t 1q2w3e4r5t6y 1qaz2wsx3edc q1w2e3r4t5y6 zaq12wsx
qwertyuiop qwertyuiop1 qwerty1234 qwerty12345 qwerty123456 1234qwerty 123qweasdzxc qweasdzxc1
asdfghjkl1 asdfghjkl; zxcvbnm123 1234567890q qazwsxedc1 qazwsxedcrfv 1qazxsw23edc asdfasdfasdf
password12 password123 password1234 password12345 passw0rd123 p@ssw0rd123 password01 passwordpassword
password!! password1! p@ssword123 p@ssw0rd12 mypassword mypassword1 newpassword changeme123
iloveyou12 iloveyou123 iloveyou1234 iloveyou!! sunshine123 princess123 football123 baseball123
superman123 batman1234 starwars123 pokemon123 michael123 jennifer123 charlie123 whatever123
welcome123 welcome1234 letmein123 letmein1234 trustno1234 monkey12345 dragon12345 master12345
shadow12345 abc1234567 abcd123456 abcdef1234 abcdefghij abcdefghijk abcdefg123 abc123abc123
administrator admin12345 admin123456 adminadmin root123456 computer123 internet123 secret1234
football12 basketball baseball12 liverpool1 chelsea123 arsenal123 manchester 1football
qwer1234qwer 11111111111 1111111111 2222222222 1212121212 1122334455 1234512345 1231231234
123123123123 1234554321 5555555555 7777777777 8888888888 9999999999 0000000000 6969696969
987654321a 1q2w3e4r5t6y7u 123abc456def passwordqwerty qwertyqwerty 1234567890a a1b2c3d4e5
a1s2d3f4g5 z1x2c3v4b5 1234567890-= !@#$%^&*() 1q2w3e4r5t! 123456789! 1234567890! iloveyou1!
cooperative cooperative1 cooperative123 platformcoop plenary123 plenarypassword democracy1
`) {
		m[p] = true
	}
	return m
}()
