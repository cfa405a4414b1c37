package check

import (
	"net/mail"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"

	"plenary/internal/tz"
)

// Limits the checks hold, mirrored by CHECK constraints in schema.sql.
const (
	MaxLinkLen = 2000
	MinYear    = 1800
	MaxYear    = 2100
)

// checks are the tags this package adds to validator's, each a predicate
// on a string field (year and intrange take integer fields too).
var checks = map[string]validator.Func{
	"utf8":      text(utf8.ValidString),
	"nocontrol": text(func(s string) bool { return !strings.ContainsFunc(s, isControl) }),
	"oneline":   text(func(s string) bool { return !strings.ContainsAny(s, "\r\n\t\u2028\u2029") }),
	"nospace":   text(noSpace),
	"link":      text(func(s string) bool { _, ok := Link(s); return ok }),
	"langtag":   text(func(s string) bool { _, ok := Language(s); return ok }),
	"doi":       text(func(s string) bool { _, ok := DOI(s); return ok }),
	"isbnsum":   text(func(s string) bool { _, ok := ISBN(s); return ok }),
	"zone":      text(Zone),
	"emailaddr": text(Email),
	"year":      func(fl validator.FieldLevel) bool { return inRange(fl.Field(), MinYear, MaxYear) },
	"intrange":  intRange,
	"maxlines":  maxLines,
	"linemax":   lineMax,
}

// text makes a string predicate a check; a field of another kind is a
// mistake in its tags.
func text(ok func(string) bool) validator.Func {
	return func(fl validator.FieldLevel) bool {
		if fl.Field().Kind() != reflect.String {
			panic("check: " + fl.FieldName() + ": " + fl.GetTag() + " checks strings")
		}
		return ok(fl.Field().String())
	}
}

// isControl: text may hold line feeds and tabs; every other control
// character is junk at best, and at worst hides what the text says.
func isControl(r rune) bool { return r != '\n' && r != '\t' && unicode.IsControl(r) }

func noSpace(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsSpace) && !strings.ContainsFunc(s, unicode.IsControl)
}

// Link checks an absolute http or https link of at most MaxLinkLen
// characters, and writes it as it is kept: scheme and host in lower case,
// escaped as a link is sent.
func Link(raw string) (string, bool) {
	link, ok := LinkForm(raw)
	if !ok || utf8.RuneCountInString(link) > MaxLinkLen {
		return "", false
	}
	return link, true
}

// LinkForm is Link without the limit on length, so that a form can say a
// link is too long rather than wrong. The limit is on the link as kept:
// written out, a link can grow (a path's é becomes %C3%A9).
func LinkForm(raw string) (string, bool) {
	if raw == "" || !noSpace(raw) {
		return "", false
	}
	u, err := url.Parse(raw)
	// Parse has put the scheme in lower case already.
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", false
	}
	u.Host = strings.ToLower(u.Host)
	return u.String(), true
}

// languageTag is the shape of a BCP 47 tag as libraries use them: a primary
// language subtag, then optional script, region and variant subtags.
var languageTag = regexp.MustCompile(`^[a-zA-Z]{2,3}(-[a-zA-Z]{4})?(-([a-zA-Z]{2}|[0-9]{3}))?(-([a-zA-Z0-9]{5,8}|[0-9][a-zA-Z0-9]{3}))*$`)

// Language checks a BCP 47 tag and writes it in its usual case: language
// lower, script title, region upper ("pt-br" → "pt-BR"). An underscore
// ("pt_BR") counts as a hyphen.
func Language(tag string) (string, bool) {
	tag = strings.ReplaceAll(tag, "_", "-")
	if len(tag) > 35 || !languageTag.MatchString(tag) {
		return "", false
	}
	parts := strings.Split(tag, "-")
	parts[0] = strings.ToLower(parts[0])
	for i := 1; i < len(parts); i++ {
		switch p := parts[i]; {
		case len(p) == 4 && unicode.IsLetter(rune(p[0])):
			parts[i] = strings.ToUpper(p[:1]) + strings.ToLower(p[1:])
		case len(p) == 2:
			parts[i] = strings.ToUpper(p)
		default:
			parts[i] = strings.ToLower(p)
		}
	}
	return strings.Join(parts, "-"), true
}

var doiPattern = regexp.MustCompile(`^10\.\d{4,9}/\S+$`)

// DOI accepts a bare DOI, doi:..., or a doi.org link, and returns the bare
// DOI in lower case (DOIs are case-insensitive).
func DOI(s string) (string, bool) {
	// Checked before ToLower, which would turn invalid bytes into U+FFFD.
	if !utf8.ValidString(s) {
		return "", false
	}
	s = strings.TrimSpace(s)
	lower := strings.ToLower(s)
	for _, prefix := range []string{"https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:"} {
		if strings.HasPrefix(lower, prefix) {
			lower = strings.TrimSpace(lower[len(prefix):])
			break
		}
	}
	if len(lower) > 200 || !doiPattern.MatchString(lower) {
		return "", false
	}
	return lower, true
}

// ISBN keeps the digits (and a final X) of a 10- or 13-digit ISBN, dropping
// hyphens and spaces, and checks its check digit.
func ISBN(s string) (string, bool) {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r >= '0' && r <= '9', r == 'X':
			b.WriteRune(r)
		case r == '-' || r == ' ':
		default:
			return "", false
		}
	}
	isbn := b.String()
	switch len(isbn) {
	case 10:
		sum := 0
		for i, r := range isbn {
			d := int(r - '0')
			if r == 'X' {
				if i != 9 {
					return "", false
				}
				d = 10
			}
			sum += d * (10 - i)
		}
		return isbn, sum%11 == 0
	case 13:
		sum := 0
		for i, r := range isbn {
			if r == 'X' {
				return "", false
			}
			d := int(r - '0')
			if i%2 == 1 {
				d *= 3
			}
			sum += d
		}
		return isbn, sum%10 == 0
	}
	return "", false
}

// Zone says whether name is an IANA time zone. "" and "Local" are not,
// though time.LoadLocation takes them (for UTC and the server's own zone).
func Zone(name string) bool { return tz.Valid(name) }

// Email says whether s is a bare address, name@example.org: no display
// name, no comment, and a dot in the domain (an address at a bare host
// name is a typing slip, not a co-op member's inbox).
func Email(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	addr, err := mail.ParseAddress(s)
	return err == nil && addr.Address == s && strings.Contains(s[strings.LastIndex(s, "@")+1:], ".")
}

func inRange(v reflect.Value, lo, hi int64) bool {
	var n int64
	switch v.Kind() {
	case reflect.String:
		var err error
		if n, err = strconv.ParseInt(v.String(), 10, 64); err != nil {
			return false
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n = v.Int()
	default:
		panic("check: a range checks whole numbers or strings, not " + v.Kind().String())
	}
	return n >= lo && n <= hi
}

// intRange is intrange=LO HI.
func intRange(fl validator.FieldLevel) bool {
	lo, hi, ok := strings.Cut(fl.Param(), " ")
	l, err1 := strconv.ParseInt(lo, 10, 64)
	h, err2 := strconv.ParseInt(hi, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		panic("check: intrange wants two whole numbers, not " + strconv.Quote(fl.Param()))
	}
	return inRange(fl.Field(), l, h)
}

// lines splits a list kept one item a line; "" is no items.
func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func param(fl validator.FieldLevel) int {
	n, err := strconv.Atoi(fl.Param())
	if err != nil {
		panic("check: " + fl.GetTag() + " wants a whole number, not " + strconv.Quote(fl.Param()))
	}
	return n
}

func maxLines(fl validator.FieldLevel) bool {
	max := param(fl)
	return text(func(s string) bool { return len(lines(s)) <= max })(fl)
}

func lineMax(fl validator.FieldLevel) bool {
	max := param(fl)
	return text(func(s string) bool {
		for _, l := range lines(s) {
			if !utf8.ValidString(l) || strings.ContainsFunc(l, unicode.IsControl) || utf8.RuneCountInString(l) > max {
				return false
			}
		}
		return true
	})(fl)
}
